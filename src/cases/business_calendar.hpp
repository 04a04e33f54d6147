// Business calendars and SLA arithmetic (issue #19, "SLA clocks"). Pure: no I/O, no clock reads;
// zones come in through a loader the caller passes (ZoneRules::Load in production).
//
// A calendar is an IANA zone, working periods per weekday (several a day) and holidays, all in
// local wall-clock time. The JSON form (the `opsbox sla due --calendar FILE` file and the API):
//   {"zone": "Asia/Kolkata",
//    "hours": {"mon": [["09:30","13:00"],["14:00","18:00"]], "tue": […], …, "sun": []},
//    "holidays": ["2026-01-26"]}
// Times are "HH:MM" local; "24:00" is allowed as an end (the period runs to midnight). Periods of
// a day are ascending and do not overlap; a weekday left out has no working time. Holidays are
// "YYYY-MM-DD" local days without working time. Errors name the field ("hours.mon[1][0]",
// "holidays[3]", "zone") and the rule.
//
// Arithmetic walks the working periods as UTC intervals, so it is right across weekends,
// holidays and daylight-saving changes:
// - a period covers every instant whose local reading falls inside it: its start maps to the
//   earlier instant and its end to the later one when a local time repeats (clocks go back); a
//   local time skipped when clocks go forward maps to the instant of the jump;
// - business time is real elapsed time inside periods (a period 01:00–03:00 on a spring-forward
//   night in America/New_York holds one hour);
// - a start outside working time begins at the next opening;
// - a target that ends exactly at a closing instant is due at that instant (not at the next
//   opening);
// - calendar time (24×7, no holidays) is the same arithmetic on AlwaysOpen().
// Zones: Debian's tzdata files hold transitions until 2037; later instants keep the last offset.
//
// Threads: everything here is pure and reentrant; a BusinessCalendar is an immutable value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "core/zone.hpp"

namespace opsbox::cases {

// Limits on a calendar (outside input) and on the arithmetic.
inline constexpr size_t kCalendarBytesMax = 64 * 1024;        // calendar JSON text
inline constexpr size_t kCalendarPeriodsPerDayMax = 8;        // working periods of one weekday
inline constexpr size_t kCalendarHolidaysMax = 1000;          // holidays in one calendar
inline constexpr int64_t kCalendarSearchDaysMax = 3660;       // days walked to find a due instant
inline constexpr int64_t kSlaTargetMinutesMax = 366 * 24 * 60;  // one SLA target
inline constexpr size_t kSlaPausesMax = 256;                  // pauses of one SLA clock

struct WorkingPeriod {
  int32_t start_s = 0;  // local seconds after midnight, 0 .. 86399
  int32_t end_s = 0;    // local seconds after midnight, start_s+60 .. 86400 (24:00)
  friend bool operator==(const WorkingPeriod&, const WorkingPeriod&) = default;
};

struct BusinessCalendar {
  ZoneRules zone;                                  // UTC by default
  std::array<std::vector<WorkingPeriod>, 7> hours;  // [0] Monday … [6] Sunday; ascending
  std::vector<int64_t> holidays;                   // local days since 1970-01-01; ascending, unique

  // 24×7 in UTC without holidays: business time equals calendar time.
  static BusinessCalendar AlwaysOpen();
};

// Loads a zone by name; ZoneRules::Load in production, a fixed table in fuzzing.
using ZoneLoader = std::function<Result<ZoneRules>(std::string_view name)>;

// Parses the JSON form above. Unknown keys fail with rule "unknown_field"; `zone` is required.
Result<BusinessCalendar> ParseBusinessCalendar(const Json& doc, const ZoneLoader& load_zone);
// Parses calendar text (at most kCalendarBytesMax, rule "max_bytes" on field "calendar").
Result<BusinessCalendar> ParseBusinessCalendarText(std::string_view text,
                                                   const ZoneLoader& load_zone);
// The JSON form; ParseBusinessCalendar(BusinessCalendarToJson(c)) equals c.
Json BusinessCalendarToJson(const BusinessCalendar& calendar);

// The instant `target` of working time after `start` (the next opening when start is outside
// working time and target is zero). Errors: field "target", rule "range" when target is negative
// or above kSlaTargetMinutesMax; field "calendar", rule "no_working_time" when the calendar
// holds too little working time within kCalendarSearchDaysMax days.
Result<Instant> AddBusinessTime(const BusinessCalendar& calendar, Instant start, Duration target);

// Working time inside [from, to); zero when to <= from.
Result<Duration> BusinessTimeBetween(const BusinessCalendar& calendar, Instant from, Instant to);

// One SLA clock: it runs from `started_at` in working time, except while paused (a case pending
// on the customer). Pauses are ascending, do not overlap, start at or after started_at; only the
// last may be open (`until` empty: paused now). At most kSlaPausesMax pauses.
struct SlaPause {
  Instant from;
  std::optional<Instant> until;
};
struct SlaClock {
  Instant started_at;
  Duration target;
  std::vector<SlaPause> pauses;
};

// Working time the clock has run by `at` (paused intervals excluded).
Result<Duration> SlaElapsed(const BusinessCalendar& calendar, const SlaClock& clock, Instant at);
// When the clock reaches its target; empty while it is paused before reaching it (the due instant
// is recomputed on resume). Errors as AddBusinessTime, and field "pauses", rule "order" for pauses
// out of order or overlapping.
Result<std::optional<Instant>> SlaDueAt(const BusinessCalendar& calendar, const SlaClock& clock);

}  // namespace opsbox::cases
