// Business calendar JSON (cases/business_calendar.hpp, read by `opsbox sla due --calendar` and the
// cases API): ParseBusinessCalendarText never crashes on any text; an error names a field and a
// rule; a parsed calendar has ascending periods within a day and round-trips through its JSON
// form; a due instant is never before its start.
#include <cstdlib>
#include <nlohmann/json.hpp>  // complete type before core/json.hpp (clang)
#include <string_view>

#include "cases/business_calendar.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace opsbox;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = cases::ParseBusinessCalendarText(text, ZoneRules::Load);
  if (!parsed.ok()) {
    if (parsed.error().field.empty() || parsed.error().rule.empty()) std::abort();
    return 0;
  }
  for (const auto& day : parsed->hours) {
    int32_t last_end = 0;
    for (const auto& p : day) {
      if (p.start_s < last_end || p.end_s <= p.start_s || p.end_s > 86400) std::abort();
      last_end = p.end_s;
    }
  }
  auto again = cases::ParseBusinessCalendar(cases::BusinessCalendarToJson(*parsed), ZoneRules::Load);
  if (!again.ok() || again->hours != parsed->hours || again->holidays != parsed->holidays) {
    std::abort();
  }
  const Instant start{1'767'225'600'000'000};  // 2026-01-01T00:00:00Z
  auto due = cases::AddBusinessTime(*parsed, start, Duration::Minutes(static_cast<int64_t>(size)));
  if (due.ok() && *due < start) std::abort();
  if (!due.ok() && due.error().rule != "no_working_time") std::abort();
  return 0;
}
