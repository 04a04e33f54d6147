// Goal: the one IANA zone reader maps local wall-clock times to instants the way SLA calendars
// and WFM forecasts rely on: unique, repeated (clocks back: both instants) and skipped (clocks
// forward: the instant of the jump); unsafe or unknown names are refused naming the rule.
#include "core/zone.hpp"

#include <gtest/gtest.h>

#include "core/time.hpp"

namespace opsbox {
namespace {

int64_t LocalS(int64_t y, unsigned m, unsigned d, int64_t h, int64_t mi) {
  return DaysFromCivil(y, m, d) * 86400 + h * 3600 + mi * 60;
}
int64_t UtcS(const char* rfc3339) { return ParseRfc3339(rfc3339, "t")->us / 1000000; }

TEST(ZoneRules, ATimeSkippedWhenClocksGoForwardMapsToTheInstantOfTheJump) {
  auto ny = ZoneRules::Load("America/New_York");
  ASSERT_TRUE(ny.ok());
  const auto r = ny->ResolveLocal(LocalS(2026, 3, 8, 2, 30));
  EXPECT_EQ(r.kind, ZoneRules::LocalKind::kNonexistent);
  EXPECT_EQ(r.utc_s, UtcS("2026-03-08T07:00:00Z"));
  EXPECT_EQ(r.later_utc_s, r.utc_s);
}

TEST(ZoneRules, ATimeRepeatedWhenClocksGoBackHasAnEarlierAndALaterInstant) {
  auto ny = ZoneRules::Load("America/New_York");
  ASSERT_TRUE(ny.ok());
  const auto r = ny->ResolveLocal(LocalS(2026, 11, 1, 1, 30));
  EXPECT_EQ(r.kind, ZoneRules::LocalKind::kAmbiguous);
  EXPECT_EQ(r.utc_s, UtcS("2026-11-01T05:30:00Z"));
  EXPECT_EQ(r.later_utc_s, UtcS("2026-11-01T06:30:00Z"));
}

TEST(ZoneRules, KolkataIsFiveAndAHalfHoursAheadAllYear) {
  auto in = ZoneRules::Load("Asia/Kolkata");
  ASSERT_TRUE(in.ok());
  for (unsigned month : {1u, 4u, 7u, 10u}) {
    const auto r = in->ResolveLocal(LocalS(2026, month, 15, 9, 30));
    EXPECT_EQ(r.kind, ZoneRules::LocalKind::kUnique);
    EXPECT_EQ(r.utc_s, LocalS(2026, month, 15, 4, 0));
  }
}

TEST(ZoneRules, RefusesUnsafeAndUnknownNames) {
  EXPECT_EQ(ZoneRules::Load("../etc/passwd").error().rule, "iana_name");
  EXPECT_EQ(ZoneRules::Load("Mars/Olympus_Mons").error().rule, "known_zone");
  EXPECT_EQ(ZoneRules::Load("Mars/Olympus_Mons").error().field, "zone");
  EXPECT_TRUE(ZoneRules::Load("UTC").ok());
}

}  // namespace
}  // namespace opsbox
