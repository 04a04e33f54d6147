// Goal: SLA due instants are right to the second across lunch breaks, weekends, holidays and
// daylight-saving changes (America/New_York, Europe/London; Asia/Kolkata has none), pauses are
// excluded, and a calendar file with a mistake is refused naming the field and the rule.
// Expected instants were worked out by hand from the zone rules of 2026 (US DST 8 March and
// 1 November; UK 29 March and 25 October; India +05:30 all year).
#include "cases/business_calendar.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace opsbox::cases {
namespace {

Instant At(const char* rfc3339) { return *ParseRfc3339(rfc3339, "test"); }

BusinessCalendar Calendar(const char* text) {
  auto c = ParseBusinessCalendarText(text, ZoneRules::Load);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().ToString());
  return c.ok() ? *c : BusinessCalendar{};
}

std::string Due(const BusinessCalendar& c, const char* start, int64_t minutes) {
  auto due = AddBusinessTime(c, At(start), Duration::Minutes(minutes));
  return due.ok() ? FormatRfc3339(*due) : due.error().ToString();
}

Error ParseError(const std::string& text) {
  auto c = ParseBusinessCalendarText(text, ZoneRules::Load);
  EXPECT_FALSE(c.ok());
  return c.ok() ? Error{} : c.error();
}

const char* kKolkata = R"({"zone": "Asia/Kolkata",
  "hours": {"mon": [["09:30","13:00"],["14:00","18:00"]], "tue": [["09:30","13:00"],["14:00","18:00"]],
            "wed": [["09:30","13:00"],["14:00","18:00"]], "thu": [["09:30","13:00"],["14:00","18:00"]],
            "fri": [["09:30","13:00"],["14:00","18:00"]], "sat": [], "sun": []},
  "holidays": ["2026-01-26"]})";

const char* kNewYork = R"({"zone": "America/New_York",
  "hours": {"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]], "wed": [["09:00","17:00"]],
            "thu": [["09:00","17:00"]], "fri": [["09:00","17:00"]],
            "sun": [["01:00","03:00"]]}})";

const char* kLondon = R"({"zone": "Europe/London",
  "hours": {"mon": [["09:00","17:30"]], "tue": [["09:00","17:30"]], "wed": [["09:00","17:30"]],
            "thu": [["09:00","17:30"]], "fri": [["09:00","17:30"]], "sun": [["00:00","24:00"]]}})";

TEST(BusinessCalendar, SkipsTheWeekendAndAHolidayInKolkata) {
  // Friday 23 Jan 17:00 IST: one hour left that day; Monday 26 Jan is Republic Day.
  EXPECT_EQ(Due(Calendar(kKolkata), "2026-01-23T11:30:00Z", 120), "2026-01-27T05:00:00.000000Z");
}

TEST(BusinessCalendar, SkipsTheLunchBreakBetweenTwoPeriodsOfADay) {
  // Tuesday 12:00 IST + 90 minutes: 60 before lunch, 30 after 14:00.
  EXPECT_EQ(Due(Calendar(kKolkata), "2026-01-27T06:30:00Z", 90), "2026-01-27T09:00:00.000000Z");
}

TEST(BusinessCalendar, AStartBeforeOpeningBeginsAtTheNextOpening) {
  const auto c = Calendar(kKolkata);
  EXPECT_EQ(Due(c, "2026-01-27T01:30:00Z", 0), "2026-01-27T04:00:00.000000Z");   // 09:30 IST
  EXPECT_EQ(Due(c, "2026-01-27T01:30:00Z", 30), "2026-01-27T04:30:00.000000Z");  // 10:00 IST
  // Saturday night: Monday is a holiday, so Tuesday 09:30.
  EXPECT_EQ(Due(c, "2026-01-24T16:00:00Z", 0), "2026-01-27T04:00:00.000000Z");
}

TEST(BusinessCalendar, ATargetEndingAtAClosingInstantIsDueAtThatInstant) {
  const auto c = Calendar(kKolkata);
  EXPECT_EQ(Due(c, "2026-01-27T06:30:00Z", 60), "2026-01-27T07:30:00.000000Z");  // 13:00 IST
  EXPECT_EQ(Due(c, "2026-01-27T11:30:00Z", 60), "2026-01-27T12:30:00.000000Z");  // 18:00 IST
  EXPECT_EQ(Due(c, "2026-01-27T11:30:00Z", 61), "2026-01-28T04:01:00.000000Z");  // next day
}

TEST(BusinessCalendar, CountsRealTimeAcrossTheSpringForwardWeekendInNewYork) {
  // Friday 6 March 16:00 EST: one hour left; Sunday 8 March holds one hour (below); Monday
  // 9 March opens 09:00 EDT = 13:00Z.
  EXPECT_EQ(Due(Calendar(kNewYork), "2026-03-06T21:00:00Z", 180), "2026-03-09T14:00:00.000000Z");
}

TEST(BusinessCalendar, APeriodAcrossTheSkippedHourHoldsOnlyTheHourThatExists) {
  // Sunday 8 March 01:00–03:00 local: 02:00–03:00 does not exist, so one hour (06:00Z–07:00Z).
  const auto c = Calendar(kNewYork);
  EXPECT_EQ(*BusinessTimeBetween(c, At("2026-03-08T00:00:00Z"), At("2026-03-08T12:00:00Z")),
            Duration::Hours(1));
  EXPECT_EQ(Due(c, "2026-03-08T00:00:00Z", 60), "2026-03-08T07:00:00.000000Z");
  // Sunday 1 November 01:00–03:00 local: 01:00–02:00 happens twice, so three hours.
  EXPECT_EQ(*BusinessTimeBetween(c, At("2026-11-01T00:00:00Z"), At("2026-11-01T12:00:00Z")),
            Duration::Hours(3));
}

TEST(BusinessCalendar, AWholeDayInLondonLastsTwentyThreeOrTwentyFiveHoursWhenClocksChange) {
  const auto c = Calendar(kLondon);
  EXPECT_EQ(*BusinessTimeBetween(c, At("2026-03-29T00:00:00Z"), At("2026-03-30T00:00:00Z")),
            Duration::Hours(23));
  EXPECT_EQ(*BusinessTimeBetween(c, At("2026-10-24T23:00:00Z"), At("2026-10-26T00:00:00Z")),
            Duration::Hours(25));
  // Friday 27 March 17:00 GMT: 30 minutes left; Monday 30 March opens 09:00 BST = 08:00Z.
  // (Sunday is open all day, 23 hours that weekend.)
  EXPECT_EQ(Due(c, "2026-03-27T17:00:00Z", 30 + 23 * 60 + 30), "2026-03-30T08:30:00.000000Z");
}

TEST(BusinessCalendar, PeriodsEndingAtMidnightJoinTheNextDaysFirstPeriod) {
  const auto c = Calendar(R"({"zone": "UTC", "hours": {"mon": [["22:00","24:00"]],
                                                       "tue": [["00:00","06:00"]]}})");
  EXPECT_EQ(Due(c, "2026-01-05T23:00:00Z", 180), "2026-01-06T02:00:00.000000Z");
  EXPECT_EQ(Due(c, "2026-01-05T23:00:00Z", 60), "2026-01-06T00:00:00.000000Z");
}

TEST(BusinessCalendar, CalendarTimeIsPlainElapsedTime) {
  const auto c = BusinessCalendar::AlwaysOpen();
  EXPECT_EQ(Due(c, "2026-03-06T21:00:00Z", 8 * 7 * 24 * 60), "2026-05-01T21:00:00.000000Z");
  EXPECT_EQ(*BusinessTimeBetween(c, At("2026-03-01T00:00:00Z"), At("2026-03-02T00:00:00Z")),
            Duration::Hours(24));
}

TEST(BusinessCalendar, TargetsAreBoundedAtTheLimitAndRefusedOnePast) {
  const auto c = BusinessCalendar::AlwaysOpen();
  EXPECT_TRUE(AddBusinessTime(c, At("2026-01-01T00:00:00Z"), Duration::Minutes(kSlaTargetMinutesMax)).ok());
  auto past = AddBusinessTime(c, At("2026-01-01T00:00:00Z"), Duration::Minutes(kSlaTargetMinutesMax + 1));
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().field, "target");
  EXPECT_EQ(past.error().rule, "range");
}

TEST(BusinessCalendar, ACalendarWithoutWorkingTimeNeverYieldsADueInstant) {
  const auto c = Calendar(R"({"zone": "UTC"})");
  auto due = AddBusinessTime(c, At("2026-01-01T00:00:00Z"), Duration::Minutes(1));
  ASSERT_FALSE(due.ok());
  EXPECT_EQ(due.error().rule, "no_working_time");
}

TEST(SlaClock, PausedTimeIsExcludedAndTheDueInstantMovesOnResume) {
  const auto c = Calendar(kKolkata);
  // Tuesday 10:00 IST, 4 hours; pending on the customer from 11:00 Tuesday to 11:00 Wednesday.
  SlaClock clock{At("2026-01-27T04:30:00Z"), Duration::Minutes(240),
                 {{At("2026-01-27T05:30:00Z"), At("2026-01-28T05:30:00Z")}}};
  // 60 minutes ran before the pause; after it 11:00–13:00 and 14:00–15:00 Wednesday.
  EXPECT_EQ(FormatRfc3339(**SlaDueAt(c, clock)), "2026-01-28T09:30:00.000000Z");
  EXPECT_EQ(*SlaElapsed(c, clock, At("2026-01-28T06:30:00Z")), Duration::Minutes(120));
  EXPECT_EQ(*SlaElapsed(c, clock, At("2026-01-27T12:00:00Z")), Duration::Minutes(60));
}

TEST(SlaClock, AClockPausedBeforeItsTargetHasNoDueInstantUntilResumed) {
  const auto c = Calendar(kKolkata);
  SlaClock clock{At("2026-01-27T04:30:00Z"), Duration::Minutes(240),
                 {{At("2026-01-27T05:30:00Z"), std::nullopt}}};
  EXPECT_FALSE(SlaDueAt(c, clock)->has_value());
  EXPECT_EQ(*SlaElapsed(c, clock, At("2026-01-29T05:30:00Z")), Duration::Minutes(60));
}

TEST(SlaClock, ATargetReachedBeforeAPauseKeepsItsDueInstant) {
  const auto c = Calendar(kKolkata);
  SlaClock clock{At("2026-01-27T04:30:00Z"), Duration::Minutes(30),
                 {{At("2026-01-27T05:30:00Z"), std::nullopt}}};
  EXPECT_EQ(FormatRfc3339(**SlaDueAt(c, clock)), "2026-01-27T05:00:00.000000Z");
}

TEST(SlaClock, PausesOutOfOrderAreRefused) {
  SlaClock clock{At("2026-01-27T04:30:00Z"), Duration::Minutes(30),
                 {{At("2026-01-27T05:30:00Z"), std::nullopt},
                  {At("2026-01-27T06:30:00Z"), At("2026-01-27T07:30:00Z")}}};
  auto due = SlaDueAt(BusinessCalendar::AlwaysOpen(), clock);
  ASSERT_FALSE(due.ok());
  EXPECT_EQ(due.error().field, "pauses");
  EXPECT_EQ(due.error().rule, "order");
}

TEST(CalendarParse, RoundTripsThroughItsJsonForm) {
  const auto c = Calendar(kKolkata);
  const auto again = ParseBusinessCalendar(BusinessCalendarToJson(c), ZoneRules::Load);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->zone.name(), "Asia/Kolkata");
  EXPECT_EQ(again->hours, c.hours);
  EXPECT_EQ(again->holidays, c.holidays);
  EXPECT_EQ(BusinessCalendarToJson(*again), BusinessCalendarToJson(c));
}

TEST(CalendarParse, NamesTheFieldAndRuleOfEveryMistake) {
  struct Case {
    std::string text, field, rule;
  };
  const Case cases[] = {
      {R"({"zone":"UTC","hours":{"mon":[["25:00","26:00"]]}})", "hours.mon[0][0]", "clock"},
      {R"({"zone":"UTC","hours":{"mon":[["24:00","24:00"]]}})", "hours.mon[0][0]", "clock"},
      {R"({"zone":"UTC","hours":{"mon":[["09:00","24:01"]]}})", "hours.mon[0][1]", "clock"},
      {R"({"zone":"UTC","hours":{"mon":[["09:00","09:00"]]}})", "hours.mon[0][1]", "after_start"},
      {R"({"zone":"UTC","hours":{"tue":[["09:00","12:00"],["11:00","13:00"]]}})", "hours.tue[1][0]",
       "ascending"},
      {R"({"zone":"UTC","hours":{"mon":[["09:00"]]}})", "hours.mon[0]", "period"},
      {R"({"zone":"UTC","hours":{"monday":[]}})", "hours.monday", "weekday"},
      {R"({"zone":"UTC","hours":{"mon":"09:00-17:00"}})", "hours.mon", "type"},
      {R"({"zone":"UTC","holidays":["2026-02-30"]})", "holidays[0]", "date"},
      {R"({"zone":"UTC","holidays":"2026-01-26"})", "holidays", "type"},
      {R"({"zone":"Mars/Olympus_Mons"})", "zone", "known_zone"},
      {R"({"zone":"../etc/passwd"})", "zone", "iana_name"},
      {R"({"hours":{}})", "zone", "required"},
      {R"({"zone":"UTC","zones":"UTC"})", "zones", "unknown_field"},
      {R"([])", "calendar", "type"},
      {R"({"zone":)", "calendar", "json_syntax"},
  };
  for (const Case& k : cases) {
    const Error e = ParseError(k.text);
    EXPECT_EQ(e.field, k.field) << k.text;
    EXPECT_EQ(e.rule, k.rule) << k.text;
  }
}

TEST(CalendarParse, AcceptsEightPeriodsADayAndRefusesNine) {
  auto day = [](int n) {
    nlohmann::json periods = nlohmann::json::array();
    for (int i = 0; i < n; ++i) {
      char a[8], b[8];
      std::snprintf(a, sizeof a, "%02d:00", i * 2);
      std::snprintf(b, sizeof b, "%02d:30", i * 2);
      periods.push_back({a, b});
    }
    return nlohmann::json{{"zone", "UTC"}, {"hours", {{"mon", periods}}}};
  };
  EXPECT_TRUE(ParseBusinessCalendar(day(kCalendarPeriodsPerDayMax), ZoneRules::Load).ok());
  auto nine = ParseBusinessCalendar(day(kCalendarPeriodsPerDayMax + 1), ZoneRules::Load);
  ASSERT_FALSE(nine.ok());
  EXPECT_EQ(nine.error().field, "hours.mon");
  EXPECT_EQ(nine.error().rule, "max_items");
}

TEST(CalendarParse, AcceptsTheMostHolidaysAndRefusesOneMore) {
  auto with = [](size_t n) {
    nlohmann::json days = nlohmann::json::array();
    for (size_t i = 0; i < n; ++i) {
      int64_t y;
      unsigned m, d;
      CivilFromDays(DaysFromCivil(2026, 1, 1) + static_cast<int64_t>(i), y, m, d);
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(y), m, d);
      days.push_back(buf);
    }
    return nlohmann::json{{"zone", "UTC"}, {"holidays", days}};
  };
  EXPECT_TRUE(ParseBusinessCalendar(with(kCalendarHolidaysMax), ZoneRules::Load).ok());
  auto past = ParseBusinessCalendar(with(kCalendarHolidaysMax + 1), ZoneRules::Load);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().field, "holidays");
  EXPECT_EQ(past.error().rule, "max_items");
}

TEST(CalendarParse, AcceptsTextAtTheSizeLimitAndRefusesOneBytePast) {
  std::string text = R"({"zone":"UTC"})";
  text.resize(kCalendarBytesMax, ' ');
  EXPECT_TRUE(ParseBusinessCalendarText(text, ZoneRules::Load).ok());
  text.push_back(' ');
  const Error e = ParseError(text);
  EXPECT_EQ(e.field, "calendar");
  EXPECT_EQ(e.rule, "max_bytes");
}

}  // namespace
}  // namespace opsbox::cases
