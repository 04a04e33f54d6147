// Goal: the default case model a new tenant starts with holds together: every lifecycle moves a
// case from new to closed, a forbidden move names the allowed ones, each move needs its
// permission, reopening ends with its window, the bank's category tree has the issue's
// top-level codes, and a new complaint's due instants follow its policy and calendar.
#include "cases/cases.hpp"

#include <gtest/gtest.h>

#include <set>

namespace opsbox::cases {
namespace {

Instant At(const char* rfc3339) { return *ParseRfc3339(rfc3339, "test"); }
const auto kAll = [](std::string_view) { return true; };
const auto kWorkOnly = [](std::string_view p) { return p == kPermCasesWork; };

TEST(CaseModel, WireNamesRoundTrip) {
  for (CaseType t : AllCaseTypes()) EXPECT_EQ(ParseCaseType(Name(t)), t);
  for (auto p : {Priority::kLow, Priority::kNormal, Priority::kHigh, Priority::kUrgent}) {
    EXPECT_EQ(ParsePriority(Name(p)), p);
  }
  EXPECT_EQ(ParseCaseStatus("pending_customer"), CaseStatus::kPendingCustomer);
  EXPECT_FALSE(ParseCaseType("Complaint").has_value());
  EXPECT_FALSE(ParsePriority("critical").has_value());
}

TEST(CaseLifecycle, EveryTypeCanGoFromNewThroughPendingToClosed) {
  for (CaseType t : AllCaseTypes()) {
    const Lifecycle& l = DefaultLifecycle(t);
    const CaseStatus path[] = {CaseStatus::kNew, CaseStatus::kOpen, CaseStatus::kPendingCustomer,
                               CaseStatus::kOpen, CaseStatus::kPendingInternal,
                               CaseStatus::kResolved, CaseStatus::kClosed};
    for (size_t i = 0; i + 1 < std::size(path); ++i) {
      EXPECT_TRUE(CheckTransition(l, path[i], path[i + 1], kAll, At("2026-01-01T00:00:00Z"),
                                  At("2026-01-01T00:00:00Z")).ok())
          << Name(t) << ": " << Name(path[i]) << " -> " << Name(path[i + 1]);
    }
  }
}

TEST(CaseLifecycle, AForbiddenMoveAnswersConflictNamingTheAllowedTargets) {
  const auto s = CheckTransition(DefaultLifecycle(CaseType::kComplaint), CaseStatus::kNew,
                                 CaseStatus::kClosed, kAll, At("2026-01-01T00:00:00Z"), std::nullopt);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  EXPECT_EQ(s.error().field, "to");
  EXPECT_EQ(s.error().rule, "transition");
  EXPECT_NE(s.error().message.find("allowed: open, pending_internal"), std::string::npos)
      << s.error().message;
}

TEST(CaseLifecycle, OnlyInformationRequestsResolveStraightFromNew) {
  const auto now = At("2026-01-01T00:00:00Z");
  EXPECT_TRUE(CheckTransition(DefaultLifecycle(CaseType::kInformationRequest), CaseStatus::kNew,
                              CaseStatus::kResolved, kAll, now, std::nullopt).ok());
  EXPECT_FALSE(CheckTransition(DefaultLifecycle(CaseType::kComplaint), CaseStatus::kNew,
                               CaseStatus::kResolved, kAll, now, std::nullopt).ok());
}

TEST(CaseLifecycle, ClosingNeedsItsOwnPermission) {
  const auto s = CheckTransition(DefaultLifecycle(CaseType::kComplaint), CaseStatus::kResolved,
                                 CaseStatus::kClosed, kWorkOnly, At("2026-01-01T00:00:00Z"),
                                 At("2026-01-01T00:00:00Z"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.error().rule, "permission");
  EXPECT_NE(s.error().message.find("cases.close"), std::string::npos);
}

TEST(CaseLifecycle, ReopensOnTheLastDayOfTheWindowAndNotASecondLater) {
  const Lifecycle& l = DefaultLifecycle(CaseType::kComplaint);
  const Instant resolved = At("2026-01-01T00:00:00Z");
  const Instant last = resolved + Duration::Hours(24 * l.reopen_window_days);
  EXPECT_TRUE(CheckTransition(l, CaseStatus::kClosed, CaseStatus::kOpen, kAll, last, resolved).ok());
  const auto s = CheckTransition(l, CaseStatus::kClosed, CaseStatus::kOpen, kAll,
                                 last + Duration::Seconds(1), resolved);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().rule, "reopen_window");
}

TEST(CaseCategories, TheBankTreeHasTheIssuesTopLevelCodesEachWithSubcategories) {
  std::set<std::string> codes;
  for (const Category& c : DefaultCategories()) EXPECT_TRUE(codes.insert(c.code).second) << c.code;
  for (const char* top : {"cards", "loans", "deposits", "digital_banking", "collections", "other"}) {
    EXPECT_TRUE(codes.contains(top)) << top;
    const auto child = codes.lower_bound(std::string(top) + ".");
    EXPECT_TRUE(child != codes.end() && child->starts_with(std::string(top) + ".")) << top;
  }
  EXPECT_TRUE(codes.contains("cards.disputed_transaction"));
}

TEST(CaseSla, ANewComplaintIsDueOnItsCalendarAndAnUrgentOneOnTheClock) {
  auto calendar = ParseBusinessCalendarText(
      R"({"zone":"Asia/Kolkata","hours":{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]],
          "wed":[["09:00","17:00"]],"thu":[["09:00","17:00"]],"fri":[["09:00","17:00"]]}})",
      ZoneRules::Load);
  ASSERT_TRUE(calendar.ok());
  // Friday 23 Jan 2026 16:00 IST. Normal complaint: first response in 4 working hours (1 on
  // Friday, 3 on Monday → Monday 12:00 IST); resolution in 40 working hours (1 + 39: four more
  // 8-hour days and 7 hours → Friday 30 Jan 16:00 IST).
  const auto normal = ComputeCaseSla(DefaultSlaPolicy(CaseType::kComplaint, Priority::kNormal),
                                     *calendar, At("2026-01-23T10:30:00Z"));
  ASSERT_TRUE(normal.ok());
  EXPECT_EQ(FormatRfc3339(*normal->first_response_due_at), "2026-01-26T06:30:00.000000Z");
  EXPECT_EQ(FormatRfc3339(*normal->resolution_due_at), "2026-01-30T10:30:00.000000Z");
  // Urgent: a quarter of each target on calendar time (1 hour, 10 hours).
  const auto urgent = ComputeCaseSla(DefaultSlaPolicy(CaseType::kComplaint, Priority::kUrgent),
                                     *calendar, At("2026-01-23T10:30:00Z"));
  ASSERT_TRUE(urgent.ok());
  EXPECT_EQ(FormatRfc3339(*urgent->first_response_due_at), "2026-01-23T11:30:00.000000Z");
  EXPECT_EQ(FormatRfc3339(*urgent->resolution_due_at), "2026-01-23T20:30:00.000000Z");
}

TEST(CaseClock, PendingOnTheCustomerPausesTheClockUntilTheCaseMovesOn) {
  const Instant t0 = At("2026-01-27T04:30:00Z");
  auto clock = ClockFromStatusChanges(
      t0, Duration::Minutes(240),
      {{CaseStatus::kOpen, t0}, {CaseStatus::kPendingCustomer, At("2026-01-27T05:30:00Z")},
       {CaseStatus::kOpen, At("2026-01-28T05:30:00Z")},
       {CaseStatus::kPendingInternal, At("2026-01-28T06:00:00Z")},
       {CaseStatus::kPendingCustomer, At("2026-01-28T07:00:00Z")}});
  ASSERT_TRUE(clock.ok());
  ASSERT_EQ(clock->pauses.size(), 2u);
  EXPECT_EQ(clock->pauses[0].from, At("2026-01-27T05:30:00Z"));
  EXPECT_EQ(clock->pauses[0].until, At("2026-01-28T05:30:00Z"));
  EXPECT_EQ(clock->pauses[1].from, At("2026-01-28T07:00:00Z"));
  EXPECT_FALSE(clock->pauses[1].until.has_value());
  // Pending internally does not pause: on calendar time, 60 + 90 minutes ran before the second
  // pause, and the clock has no due instant while it waits on the customer.
  const auto always = BusinessCalendar::AlwaysOpen();
  EXPECT_EQ(*SlaElapsed(always, *clock, At("2026-01-29T00:00:00Z")), Duration::Minutes(150));
  EXPECT_FALSE(SlaDueAt(always, *clock)->has_value());
}

TEST(CaseClock, AClockAcceptsTheMostPausesAndRefusesOneMore) {
  auto changes = [](size_t pauses) {
    std::vector<StatusChange> out;
    for (size_t i = 0; i < pauses; ++i) {
      const Instant t = At("2026-01-01T00:00:00Z") + Duration::Minutes(static_cast<int64_t>(2 * i));
      out.push_back({CaseStatus::kPendingCustomer, t});
      out.push_back({CaseStatus::kOpen, t + Duration::Minutes(1)});
    }
    return out;
  };
  const Instant t0 = At("2026-01-01T00:00:00Z");
  EXPECT_TRUE(ClockFromStatusChanges(t0, Duration::Hours(1), changes(kSlaPausesMax)).ok());
  auto past = ClockFromStatusChanges(t0, Duration::Hours(1), changes(kSlaPausesMax + 1));
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().rule, "max_items");
}

TEST(CaseClock, OnlyACustomerVisibleReplyByTheTenantCountsAsAResponse) {
  EXPECT_TRUE(CountsAsResponse(NoteSide::kTenant, NoteVisibility::kCustomerVisible));
  EXPECT_FALSE(CountsAsResponse(NoteSide::kTenant, NoteVisibility::kInternal));
  EXPECT_FALSE(CountsAsResponse(NoteSide::kCustomer, NoteVisibility::kCustomerVisible));
}

TEST(RepeatComplaints, LinksTheCustomersComplaintsOfTheSameCategoryWithinTheWindow) {
  const Instant now = At("2026-03-01T12:00:00Z");
  const std::vector<PriorCase> prior = {
      {"case_b", CaseType::kGrievance, "cards.disputed_transaction", now - Duration::Hours(24 * 5)},
      {"case_a", CaseType::kComplaint, "cards.disputed_transaction", now - Duration::Hours(24 * 30)},
      {"case_old", CaseType::kComplaint, "cards.disputed_transaction",
       now - Duration::Hours(24 * 30) - Duration::Seconds(1)},
      {"case_other", CaseType::kComplaint, "loans.statement", now - Duration::Hours(24)},
      {"case_sr", CaseType::kServiceRequest, "cards.disputed_transaction", now - Duration::Hours(24)},
  };
  const auto link = FindRepeats(prior, CaseType::kComplaint, "cards.disputed_transaction", now,
                                kRepeatWindowDaysDefault);
  EXPECT_EQ(link.linked_case_ids, (std::vector<std::string>{"case_a", "case_b"}));
  EXPECT_EQ(link.repeat_count, 2u);
  EXPECT_EQ(FindRepeats(prior, CaseType::kServiceRequest, "cards.disputed_transaction", now,
                        kRepeatWindowDaysDefault).repeat_count, 0u);
}

}  // namespace
}  // namespace opsbox::cases
