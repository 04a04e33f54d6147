// Routing expressions (routing/expression.hpp): Compile never crashes on any input, every error
// names the field and a known rule (syntax errors carry "column N: "), and a compiled
// expression evaluates without crashing against tasks and workers of every JSON shape,
// including absent ones.
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <string_view>

#include "routing/expression.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using opsbox::Json;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto compiled = opsbox::routing::Expression::Compile(text, "expression");
  if (!compiled.ok()) {
    const auto& e = compiled.error();
    if (e.field != "expression") std::abort();
    if (e.rule == "syntax" && e.message.rfind("column ", 0) != 0) std::abort();
    if (e.rule != "syntax" && e.rule != "bytes_max" && e.rule != "depth_max" &&
        e.rule != "terms_max" && e.rule != "list_items_max" && e.rule != "path_segments_max") {
      std::abort();
    }
    return 0;
  }
  static const Json kWorker = Json::parse(
      R"({"skills":{"billing":5,"s":{"s":{"s":1}}},"languages":["en","hi"],"team":"a",)"
      R"("n":null,"f":1.5,"b":true,"u":18446744073709551615,"o":{}})");
  static const Json kTask = Json::parse(R"({"type":"x","language":"hi","amount":-3,"tags":[1,"a",[2]]})");
  static const Json kScalar = 7;
  const Json* shapes[] = {nullptr, &kWorker, &kTask, &kScalar};
  for (const Json* task : shapes) {
    for (const Json* worker : shapes) (void)compiled->Evaluate(task, worker);
  }
  return 0;
}
