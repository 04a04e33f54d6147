#include "cases/business_calendar.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "core/assert.hpp"

namespace opsbox::cases {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kUsPerSecond = 1000000;
constexpr size_t kZoneNameBytesMax = 64;
constexpr std::array<std::string_view, 7> kWeekdays = {"mon", "tue", "wed", "thu",
                                                       "fri", "sat", "sun"};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// 1970-01-01 was a Thursday; Monday is 0.
int WeekdayOf(int64_t local_day) {
  return static_cast<int>(((local_day + 3) % 7 + 7) % 7);
}

// "HH:MM" -> seconds after midnight; "24:00" only when `end`.
std::optional<int32_t> ParseClock(std::string_view s, bool end) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (size_t i : {0u, 1u, 3u, 4u}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && (m != 0 || !end))) return std::nullopt;
  return h * 3600 + m * 60;
}

std::string FormatClock(int32_t s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d", s / 3600, s / 60 % 60);
  return buf;
}

Result<std::vector<WorkingPeriod>> ParseDayPeriods(const Json& day, const std::string& field) {
  if (!day.is_array()) {
    return Error::Invalid(field, "type", field + " must be an array of [\"HH:MM\",\"HH:MM\"]");
  }
  if (day.size() > kCalendarPeriodsPerDayMax) {
    return Error::Invalid(field, "max_items", field + " holds more than " +
                          std::to_string(kCalendarPeriodsPerDayMax) + " working periods");
  }
  std::vector<WorkingPeriod> periods;
  for (size_t i = 0; i < day.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    const Json& p = day[i];
    if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string()) {
      return Error::Invalid(at, "period", at + " must be [\"HH:MM\",\"HH:MM\"]");
    }
    const auto start = ParseClock(p[0].get_ref<const std::string&>(), false);
    if (!start) return Error::Invalid(at + "[0]", "clock", at + "[0] must be HH:MM from 00:00 to 23:59");
    const auto end = ParseClock(p[1].get_ref<const std::string&>(), true);
    if (!end) return Error::Invalid(at + "[1]", "clock", at + "[1] must be HH:MM from 00:01 to 24:00");
    if (*end <= *start) {
      return Error::Invalid(at + "[1]", "after_start", at + " must end after it starts");
    }
    if (!periods.empty() && *start < periods.back().end_s) {
      return Error::Invalid(at + "[0]", "ascending",
                            at + " must start at or after the end of the period before it");
    }
    periods.push_back({*start, *end});
  }
  return periods;
}

Status ParseHours(const Json& hours, BusinessCalendar& out) {
  if (!hours.is_object()) return Error::Invalid("hours", "type", "hours must be an object");
  for (auto it = hours.begin(); it != hours.end(); ++it) {
    const auto wd = std::find(kWeekdays.begin(), kWeekdays.end(), it.key());
    if (wd == kWeekdays.end()) {
      return Error::Invalid("hours." + it.key(), "weekday",
                            "hours keys are weekdays: mon tue wed thu fri sat sun");
    }
    OPSBOX_ASSIGN_OR_RETURN(out.hours[static_cast<size_t>(wd - kWeekdays.begin())],
                            ParseDayPeriods(it.value(), "hours." + it.key()));
  }
  return Ok();
}

Status ParseHolidays(const Json& holidays, BusinessCalendar& out) {
  if (!holidays.is_array()) return Error::Invalid("holidays", "type", "holidays must be an array");
  if (holidays.size() > kCalendarHolidaysMax) {
    return Error::Invalid("holidays", "max_items", "holidays holds more than " +
                          std::to_string(kCalendarHolidaysMax) + " days");
  }
  for (size_t i = 0; i < holidays.size(); ++i) {
    const std::string at = "holidays[" + std::to_string(i) + "]";
    const auto day = holidays[i].is_string()
                         ? ParseIsoDate(holidays[i].get_ref<const std::string&>())
                         : std::nullopt;
    if (!day) return Error::Invalid(at, "date", at + " must be a date YYYY-MM-DD");
    out.holidays.push_back(*day);
  }
  std::sort(out.holidays.begin(), out.holidays.end());
  out.holidays.erase(std::unique(out.holidays.begin(), out.holidays.end()), out.holidays.end());
  return Ok();
}

// Working periods of one local day as UTC intervals in microseconds, ascending.
struct Interval {
  int64_t open_us;
  int64_t close_us;
};

void DayIntervals(const BusinessCalendar& c, int64_t local_day, std::vector<Interval>& out) {
  out.clear();
  if (std::binary_search(c.holidays.begin(), c.holidays.end(), local_day)) return;
  for (const WorkingPeriod& p : c.hours[static_cast<size_t>(WeekdayOf(local_day))]) {
    const int64_t base = local_day * kSecondsPerDay;
    const int64_t open_s = c.zone.ResolveLocal(base + p.start_s).utc_s;
    const int64_t close_s = c.zone.ResolveLocal(base + p.end_s).later_utc_s;
    if (close_s > open_s) out.push_back({open_s * kUsPerSecond, close_s * kUsPerSecond});
  }
}

int64_t LocalDayOf(const BusinessCalendar& c, Instant t) {
  const int64_t utc_s = FloorDiv(t.us, kUsPerSecond);
  return FloorDiv(utc_s + c.zone.OffsetAtUtcS(utc_s), kSecondsPerDay);
}

Error NoWorkingTime() {
  return Error::Invalid("calendar", "no_working_time",
                        "the calendar holds too little working time within " +
                            std::to_string(kCalendarSearchDaysMax) + " days to reach the target");
}

}  // namespace

BusinessCalendar BusinessCalendar::AlwaysOpen() {
  BusinessCalendar c;
  for (auto& day : c.hours) day = {{0, static_cast<int32_t>(kSecondsPerDay)}};
  return c;
}

Result<BusinessCalendar> ParseBusinessCalendar(const Json& doc, const ZoneLoader& load_zone) {
  if (!doc.is_object()) return Error::Invalid("calendar", "type", "a calendar is a JSON object");
  OPSBOX_TRY(CheckObjectKeys(doc, {"zone", "hours", "holidays"}));
  OPSBOX_ASSIGN_OR_RETURN(const std::string zone, RequireString(doc, "zone", kZoneNameBytesMax));
  BusinessCalendar out;
  OPSBOX_ASSIGN_OR_RETURN(out.zone, load_zone(zone));
  if (doc.contains("hours")) OPSBOX_TRY(ParseHours(doc["hours"], out));
  if (doc.contains("holidays")) OPSBOX_TRY(ParseHolidays(doc["holidays"], out));
  return out;
}

Result<BusinessCalendar> ParseBusinessCalendarText(std::string_view text,
                                                   const ZoneLoader& load_zone) {
  if (text.size() > kCalendarBytesMax) {
    return Error::Invalid("calendar", "max_bytes", "a calendar is at most " +
                          std::to_string(kCalendarBytesMax) + " bytes");
  }
  OPSBOX_ASSIGN_OR_RETURN(const Json doc, ParseJson(text, "calendar"));
  return ParseBusinessCalendar(doc, load_zone);
}

Json BusinessCalendarToJson(const BusinessCalendar& c) {
  Json hours = Json::object();
  for (size_t d = 0; d < kWeekdays.size(); ++d) {
    Json day = Json::array();
    for (const WorkingPeriod& p : c.hours[d]) day.push_back({FormatClock(p.start_s), FormatClock(p.end_s)});
    hours[std::string(kWeekdays[d])] = std::move(day);
  }
  Json holidays = Json::array();
  for (int64_t day : c.holidays) holidays.push_back(FormatIsoDate(day));
  return Json{{"zone", c.zone.name()}, {"hours", std::move(hours)}, {"holidays", std::move(holidays)}};
}

Result<Instant> AddBusinessTime(const BusinessCalendar& c, Instant start, Duration target) {
  if (target.us < 0 || target > Duration::Minutes(kSlaTargetMinutesMax)) {
    return Error::Invalid("target", "range", "an SLA target is 0 to " +
                          std::to_string(kSlaTargetMinutesMax) + " minutes");
  }
  int64_t remaining_us = target.us;
  std::vector<Interval> day;
  // From the day before: a period of that local day may still be open at `start`.
  const int64_t first = LocalDayOf(c, start) - 1;
  for (int64_t d = first; d <= first + kCalendarSearchDaysMax; ++d) {
    DayIntervals(c, d, day);
    for (const Interval& i : day) {
      if (i.close_us <= start.us) continue;
      const int64_t from_us = std::max(i.open_us, start.us);
      // `<=`: a target ending exactly at a closing instant is due at that instant.
      if (remaining_us <= i.close_us - from_us) return Instant{from_us + remaining_us};
      remaining_us -= i.close_us - from_us;
    }
  }
  return NoWorkingTime();
}

Result<Duration> BusinessTimeBetween(const BusinessCalendar& c, Instant from, Instant to) {
  if (to <= from) return Duration{};
  const int64_t first = LocalDayOf(c, from) - 1;
  const int64_t last = LocalDayOf(c, to) + 1;
  if (last - first > kCalendarSearchDaysMax) {
    return Error::Invalid("calendar", "span", "working time is measured over at most " +
                          std::to_string(kCalendarSearchDaysMax) + " days");
  }
  int64_t total_us = 0;
  std::vector<Interval> day;
  for (int64_t d = first; d <= last; ++d) {
    DayIntervals(c, d, day);
    for (const Interval& i : day) {
      const int64_t a = std::max(i.open_us, from.us), b = std::min(i.close_us, to.us);
      if (b > a) total_us += b - a;
    }
  }
  return Duration{total_us};
}

namespace {

Status CheckPauses(const SlaClock& clock) {
  if (clock.pauses.size() > kSlaPausesMax) {
    return Error::Invalid("pauses", "max_items", "an SLA clock holds at most " +
                          std::to_string(kSlaPausesMax) + " pauses");
  }
  Instant earliest = clock.started_at;
  for (size_t i = 0; i < clock.pauses.size(); ++i) {
    const SlaPause& p = clock.pauses[i];
    const bool open_not_last = !p.until && i + 1 != clock.pauses.size();
    if (p.from < earliest || (p.until && *p.until < p.from) || open_not_last) {
      return Error::Invalid("pauses", "order",
                            "pauses must be ascending, not overlap, and only the last may be open");
    }
    if (p.until) earliest = *p.until;
  }
  return Ok();
}

}  // namespace

Result<Duration> SlaElapsed(const BusinessCalendar& c, const SlaClock& clock, Instant at) {
  OPSBOX_TRY(CheckPauses(clock));
  OPSBOX_ASSIGN_OR_RETURN(Duration total, BusinessTimeBetween(c, clock.started_at, at));
  for (const SlaPause& p : clock.pauses) {
    const Instant until = std::min(p.until.value_or(at), at);
    OPSBOX_ASSIGN_OR_RETURN(const Duration paused, BusinessTimeBetween(c, p.from, until));
    total.us -= paused.us;
  }
  OPSBOX_ASSERT(total.us >= 0);
  return total;
}

Result<std::optional<Instant>> SlaDueAt(const BusinessCalendar& c, const SlaClock& clock) {
  OPSBOX_TRY(CheckPauses(clock));
  // The clock runs in segments between pauses; the due instant lies in the first segment that
  // holds the rest of the target.
  Instant segment_start = clock.started_at;
  Duration remaining = clock.target;
  for (const SlaPause& p : clock.pauses) {
    OPSBOX_ASSIGN_OR_RETURN(const Duration run, BusinessTimeBetween(c, segment_start, p.from));
    if (run.us > 0 && remaining <= run) {
      OPSBOX_ASSIGN_OR_RETURN(const Instant due, AddBusinessTime(c, segment_start, remaining));
      return std::optional<Instant>(due);
    }
    remaining.us -= run.us;
    if (!p.until) return std::optional<Instant>();
    segment_start = *p.until;
  }
  OPSBOX_ASSIGN_OR_RETURN(const Instant due, AddBusinessTime(c, segment_start, remaining));
  return std::optional<Instant>(due);
}

}  // namespace opsbox::cases
