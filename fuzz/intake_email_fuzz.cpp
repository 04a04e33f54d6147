// Raw e-mails and HTML: ParseEmail (GMime) and HtmlToText never crash, and what they return is
// valid UTF-8 JSON text of bounded size.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "intake/adapters.hpp"
#include "intake/intake.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  if (opsbox::intake::HtmlToText(raw).size() > size * 4 + 4) std::abort();
  auto r = opsbox::intake::ParseEmail(raw);
  if (!r.ok()) return 0;
  if ((*r)["text"].get<std::string>().size() > opsbox::intake::kTextBytesMax) std::abort();
  (void)r->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
