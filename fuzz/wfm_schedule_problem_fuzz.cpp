// WFM schedule problems (wfm/schedule.hpp, the "problem" of POST …/wfm/schedules and the CLI's
// --problem file): any text is parsed as JSON with the server's limits, then ParseScheduleProblem
// never crashes; an error names a field and a rule; an accepted problem (validated by the parser)
// writes its LP model without error when it is small. The solver itself is not fuzzed: it runs
// only on accepted problems and is bounded by time.
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/json.hpp"
#include "wfm/schedule.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = opsbox::ParseJson(text, "problem");
  if (!json.ok()) return 0;
  auto problem = opsbox::wfm::ParseScheduleProblem(*json);
  if (!problem.ok()) {
    if (problem.error().field.empty() || problem.error().rule.empty()) std::abort();
    return 0;
  }
  if (problem->requirements.empty()) std::abort();
  if (size <= 1024) {
    auto lp = opsbox::wfm::ScheduleModelLp(*problem);
    if (!lp.ok() && lp.error().rule.empty()) std::abort();
  }
  return 0;
}
