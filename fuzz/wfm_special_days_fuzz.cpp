// WFM special days CSV (wfm/history.hpp, reached from POST …/wfm/forecasts and the CLI):
// ParseSpecialDaysCsv never crashes on any text; an error names a field and a rule; every parsed
// day has a weekday in 0..6 when it has one and a multiplier that is a number >= 0.
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "wfm/history.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view csv(reinterpret_cast<const char*>(data), size);
  auto parsed = opsbox::wfm::ParseSpecialDaysCsv(csv);
  if (!parsed.ok()) {
    if (parsed.error().field.empty() || parsed.error().rule.empty()) std::abort();
    return 0;
  }
  for (const auto& day : *parsed) {
    if (day.like_weekday && (*day.like_weekday < 0 || *day.like_weekday > 6)) std::abort();
    if (!std::isfinite(day.multiplier) || day.multiplier < 0) std::abort();
  }
  return 0;
}
