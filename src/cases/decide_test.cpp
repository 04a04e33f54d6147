// Goal: the pure case decisions (decide.cpp) validate their input naming the field and the rule,
// seal the personal fields, compute the SLA instants of a case at each state (pauses shift them,
// a response meets the first-response target), pick the most specific policy, and record a
// timer's at-risk or breach only when it is really due.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cases/internal/case_state.hpp"
#include "core/random.hpp"

namespace opsbox::cases::detail {
namespace {

const Instant kMonday9{1795424400000000};  // 2026-11-23T09:00:00Z, a Monday

CaseSettings Settings() {
  CaseSettings s;
  s.calendar = DefaultCaseCalendar();
  return s;
}

Result<ZoneRules> Utc(std::string_view name) {
  if (name == "UTC") return ZoneRules::Utc();
  return Error::Invalid("zone", "known_zone", "unknown");
}

void ExpectInvalid(const Error& e, std::string_view field, std::string_view rule) {
  EXPECT_EQ(e.field, field) << e.ToString();
  EXPECT_EQ(e.rule, rule) << e.ToString();
}

Json Open() {
  return Json{{"type", "complaint"},
              {"category", "cards.disputed_transaction"},
              {"subject", "Charged twice"},
              {"description", "Card 4111 charged twice"},
              {"customer_id", "cus_1"}};
}

CaseState StateFrom(const ledger::Decision& d) {
  const Json& p = d.events.at(0).payload;
  CaseState c;
  c.case_id = p["case_id"];
  c.type = *ParseCaseType(p["type"].get<std::string>());
  c.category = p["category"];
  c.priority = *ParsePriority(p["priority"].get<std::string>());
  c.received_at = Instant{p["received_at_us"].get<int64_t>()};
  c.business_time = p["business_time"];
  c.at_risk_share_bp = p["at_risk_share_bp"];
  c.fr_target = Duration::Micros(p["fr_target_us"]);
  c.res_target = Duration::Micros(p["res_target_us"]);
  c.data_subject = d.events.at(0).subject_id;
  c.fr_due_us = p["sla"]["fr_due_at_us"];
  c.res_due_us = p["sla"]["res_due_at_us"];
  c.fr_at_risk_us = p["sla"]["fr_at_risk_at_us"];
  c.res_at_risk_us = p["sla"]["res_at_risk_at_us"];
  return c;
}

TEST(CasesDecide, OpenRefusesBadInputNamingTheFieldAndTheRule) {
  auto bad = [](Json patch, std::string_view field, std::string_view rule) {
    Json p = Open();
    p.merge_patch(patch);
    auto r = ParseOpenCase(p);
    ASSERT_FALSE(r.ok()) << patch;
    ExpectInvalid(r.error(), field, rule);
  };
  bad({{"type", "moan"}}, "type", "enum");
  bad({{"category", "cards.nope"}}, "category", "unknown_category");
  bad({{"priority", "asap"}}, "priority", "enum");
  bad({{"subject", std::string(kSubjectBytesMax + 1, 's')}}, "subject", "max_bytes");
  bad({{"description", std::string(kDescriptionBytesMax + 1, 'd')}}, "description", "max_bytes");
  bad({{"customer_id", "bob"}}, "customer_id", "format");
  bad({{"received_at", "yesterday"}}, "received_at", "rfc3339");
  bad({{"colour", "red"}}, "colour", "unknown_field");
  Json at_limit = Open();
  at_limit["subject"] = std::string(kSubjectBytesMax, 's');
  at_limit["description"] = std::string(kDescriptionBytesMax, 'd');
  EXPECT_TRUE(ParseOpenCase(at_limit).ok());
}

TEST(CasesDecide, OpenSealsPersonalFieldsForTheCustomersScopeAndComputesDueInstants) {
  SeededRandom random(7);
  auto in = ParseOpenCase(Open());
  ASSERT_TRUE(in.ok());
  auto d = DecideOpenCase(*in, Settings(), {}, "idx", kMonday9, random);
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  const auto& e = d->events.at(0);
  EXPECT_EQ(e.type, kCaseOpened);
  EXPECT_EQ(e.personal_fields, (std::vector<std::string>{"description", "customer_id"}));
  EXPECT_EQ(e.subject_id, "cus_1/" + e.payload["case_id"].get<std::string>());
  // Complaint at normal priority: first response 4 h, resolution 40 h of working time
  // (Monday–Friday 09:00–18:00 UTC): 13:00 Monday and 13:00 the Friday after.
  EXPECT_EQ(e.payload["sla"]["fr_due_at_us"], (kMonday9 + Duration::Hours(4)).us);
  EXPECT_EQ(e.payload["sla"]["res_due_at_us"], (kMonday9 + Duration::Hours(4 * 24 + 4)).us);
  EXPECT_EQ(d->result["status"], "new");
}

TEST(CasesDecide, ReceivedAtMayNotLieInTheFuture) {
  SeededRandom random(7);
  Json p = Open();
  p["received_at"] = "2026-11-23T09:00:01Z";
  auto in = ParseOpenCase(p);
  ASSERT_TRUE(in.ok());
  auto d = DecideOpenCase(*in, Settings(), {}, "", kMonday9, random);
  ASSERT_FALSE(d.ok());
  ExpectInvalid(d.error(), "received_at", "future");
}

TEST(CasesDecide, APendingCustomerPauseShiftsTheResolutionDueByThePause) {
  SeededRandom random(7);
  CaseSettings s = Settings();
  s.calendar = BusinessCalendar::AlwaysOpen();
  auto d = DecideOpenCase(*ParseOpenCase(Open()), s, {}, "", kMonday9, random);
  ASSERT_TRUE(d.ok());
  CaseState c = StateFrom(*d);
  const Json all = Json{{"granted", {"cases.work"}}};
  auto move = [&](CaseStatus to, Instant at) {
    Json p = all;
    p["case_id"] = c.case_id;
    p["to"] = Name(to);
    auto t = DecideTransition(c, p, s, at);
    EXPECT_TRUE(t.ok()) << t.error().ToString();
    c.status = to;
    c.changes.push_back({to, at});
    return t->events.at(0).payload["sla"];
  };
  const int64_t due = c.res_due_us;
  move(CaseStatus::kOpen, kMonday9 + Duration::Hours(1));
  const Json paused = move(CaseStatus::kPendingCustomer, kMonday9 + Duration::Hours(2));
  EXPECT_TRUE(paused["paused"].get<bool>());
  EXPECT_EQ(paused["res_due_at_us"], 0);
  const Json resumed = move(CaseStatus::kOpen, kMonday9 + Duration::Hours(5));
  EXPECT_FALSE(resumed["paused"].get<bool>());
  EXPECT_EQ(resumed["res_due_at_us"].get<int64_t>(), due + Duration::Hours(3).us);
}

TEST(CasesDecide, AForbiddenMoveIs409NamingTheAllowedAndAMissingPermission403) {
  SeededRandom random(7);
  auto d = DecideOpenCase(*ParseOpenCase(Open()), Settings(), {}, "", kMonday9, random);
  CaseState c = StateFrom(*d);
  Json p{{"case_id", c.case_id}, {"to", "closed"}, {"granted", {"cases.work", "cases.close"}}};
  auto t = DecideTransition(c, p, Settings(), kMonday9);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kConflict);
  EXPECT_EQ(t.error().rule, "transition");
  EXPECT_NE(t.error().message.find("open"), std::string::npos) << t.error().message;
  c.status = CaseStatus::kResolved;
  c.resolved_at = kMonday9;
  p["granted"] = {"cases.work"};
  t = DecideTransition(c, p, Settings(), kMonday9);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(t.error().rule, "permission");
}

TEST(CasesDecide, OnlyACustomerVisibleNoteMeetsTheFirstResponseTarget) {
  SeededRandom random(7);
  auto d = DecideOpenCase(*ParseOpenCase(Open()), Settings(), {}, "", kMonday9, random);
  CaseState c = StateFrom(*d);
  auto internal = DecideAddNote(c, {{"case_id", c.case_id}, {"text", "called"}}, Settings(),
                                kMonday9 + Duration::Hours(1), random);
  ASSERT_TRUE(internal.ok());
  EXPECT_FALSE(internal->events[0].payload["response"].get<bool>());
  EXPECT_EQ(internal->events[0].payload["sla"]["fr_due_at_us"], c.fr_due_us);
  EXPECT_EQ(internal->events[0].personal_fields, std::vector<std::string>{"text"});
  auto reply = DecideAddNote(
      c, {{"case_id", c.case_id}, {"text", "We are on it"}, {"visibility", "customer_visible"}},
      Settings(), kMonday9 + Duration::Hours(1), random);
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(reply->events[0].payload["response"].get<bool>());
  EXPECT_EQ(reply->events[0].payload["sla"]["fr_due_at_us"], 0);
  EXPECT_EQ(reply->events[0].payload["sla"]["fr_met_at_us"],
            (kMonday9 + Duration::Hours(1)).us);
  auto bad = DecideAddNote(c, {{"case_id", c.case_id}, {"text", "x"}, {"visibility", "public"}},
                           Settings(), kMonday9, random);
  ASSERT_FALSE(bad.ok());
  ExpectInvalid(bad.error(), "visibility", "enum");
}

TEST(CasesDecide, ATimerRecordsOnlyWhenDueAndNeverTwice) {
  CaseState c;
  c.case_id = "case_1";
  c.res_due_us = kMonday9.us;
  c.res_at_risk_us = kMonday9.us - 1000;
  const Json breach{{"case_id", "case_1"}, {"target", "resolution"}, {"kind", "breached"}};
  auto early = DecideRecordSla(c, breach, Instant{kMonday9.us - 1});
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->events.empty());
  auto due = DecideRecordSla(c, breach, kMonday9);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->events.size(), 1u);
  EXPECT_EQ(due->events[0].type, kCaseSlaBreached);
  c.res_breached_fired_us = kMonday9.us;
  auto again = DecideRecordSla(c, breach, kMonday9 + Duration::Hours(1));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->events.empty());
  c.res_due_us = 0;  // paused or met
  c.res_breached_fired_us = 0;
  EXPECT_TRUE(DecideRecordSla(c, breach, kMonday9 + Duration::Hours(1))->events.empty());
}

TEST(CasesDecide, TheMostSpecificPolicyWinsAndSettingsRoundTrip) {
  Json doc{{"calendar", Json::parse(R"({"zone":"UTC","hours":{"mon":[["09:00","17:00"]]}})")},
           {"sla_policies",
            {{{"type", "complaint"}, {"first_response_s", 60}, {"resolution_s", 600}},
             {{"type", "complaint"},
              {"category", "cards"},
              {"first_response_s", 30},
              {"resolution_s", 300},
              {"business_time", false}},
             {{"type", "complaint"},
              {"category", "cards.card_blocked"},
              {"priority", "urgent"},
              {"first_response_s", 10},
              {"resolution_s", 20}}}}};
  auto s = ParseCaseSettings(doc, Utc);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(PolicyFor(*s, CaseType::kComplaint, "loans.statement", Priority::kNormal).resolution.us,
            Duration::Seconds(600).us);
  auto cards = PolicyFor(*s, CaseType::kComplaint, "cards.disputed_transaction", Priority::kHigh);
  EXPECT_EQ(cards.resolution.us, Duration::Seconds(300).us);
  EXPECT_FALSE(cards.business_time);
  EXPECT_EQ(PolicyFor(*s, CaseType::kComplaint, "cards.card_blocked", Priority::kUrgent)
                .resolution.us,
            Duration::Seconds(20).us);
  EXPECT_EQ(PolicyFor(*s, CaseType::kDispute, "cards", Priority::kNormal).resolution.us,
            DefaultSlaPolicy(CaseType::kDispute, Priority::kNormal).resolution.us);
  auto again = ParseCaseSettings(CaseSettingsToJson(*s), Utc);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(CaseSettingsToJson(*again), CaseSettingsToJson(*s));
  Json bad = doc;
  bad["sla_policies"][0]["resolution_s"] = kSlaTargetSecondsMax + 1;
  auto r = ParseCaseSettings(bad, Utc);
  ASSERT_FALSE(r.ok());
  ExpectInvalid(r.error(), "sla_policies[0].resolution_s", "range");
  bad["sla_policies"][0]["resolution_s"] = kSlaTargetSecondsMax;
  EXPECT_TRUE(ParseCaseSettings(bad, Utc).ok());
  bad["calendar"]["zone"] = "Mars/Olympus";
  r = ParseCaseSettings(bad, Utc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "calendar.zone");
}

}  // namespace
}  // namespace opsbox::cases::detail
