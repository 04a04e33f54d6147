// Goal: the maker-checker rules decide as issue #19 states, in order: a request names a
// registered action, an amount in range and an ISO currency; a decided request is not pending;
// a request expires at its instant; the maker never checks their own request (self_approval);
// the checker needs a role whose limit for the currency covers the amount (limit_exceeded), at
// the limit and one past it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "approvals/approvals.hpp"
#include "core/random.hpp"

namespace opsbox::approvals {
namespace {

const Instant kNow{1795424400000000};  // 2026-11-23T09:00:00Z

Json RequestBody(int64_t amount = 50000) {
  return Json{{"action", "refund"},
              {"amount_minor", amount},
              {"currency", "INR"},
              {"target", "case_01"},
              {"reason", "double charge"}};
}

Request Pending(int64_t amount) {
  Request r;
  r.approval_id = "apr_1";
  r.action = "refund";
  r.amount_minor = amount;
  r.currency = "INR";
  r.maker = "usr_maker";
  r.status = "pending";
  r.requested_at = kNow;
  r.expires_at = kNow + kRequestTtl;
  return r;
}

void ExpectRule(const Status& st, ErrorCode code, std::string_view rule) {
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, code) << st.error().ToString();
  EXPECT_EQ(st.error().rule, rule) << st.error().ToString();
}

TEST(Approvals, ARequestRecordsAPendingApprovalThatExpires) {
  ActionRegistry actions;
  SeededRandom random(3);
  auto d = DecideRequest(actions, RequestBody(), "usr_maker", kNow, random);
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_EQ(d->events[0].type, kApprovalRequested);
  EXPECT_EQ(d->events[0].payload["maker"], "usr_maker");
  EXPECT_EQ(d->events[0].payload["expires_at_us"], (kNow + kRequestTtl).us);
  EXPECT_EQ(d->result["status"], "pending");
}

TEST(Approvals, BadRequestsNameTheFieldAndTheRule) {
  ActionRegistry actions;
  SeededRandom random(3);
  auto bad = [&](Json patch, std::string_view field, std::string_view rule) {
    Json body = RequestBody();
    body.merge_patch(patch);
    auto d = DecideRequest(actions, body, "usr_maker", kNow, random);
    ASSERT_FALSE(d.ok()) << patch;
    EXPECT_EQ(d.error().field, field) << d.error().ToString();
    EXPECT_EQ(d.error().rule, rule) << d.error().ToString();
  };
  bad({{"action", "free_money"}}, "action", "unknown_action");
  bad({{"amount_minor", -1}}, "amount_minor", "range");
  bad({{"amount_minor", kAmountMinorMax + 1}}, "amount_minor", "range");
  bad({{"currency", "inr"}}, "currency", "format");
  bad({{"reason", "x"}}, "reason", "length");
  EXPECT_TRUE(DecideRequest(actions, RequestBody(kAmountMinorMax), "usr_maker", kNow, random).ok());
}

TEST(Approvals, TheMakerNeverChecksTheirOwnRequest) {
  ActionRegistry actions;
  ExpectRule(CheckDecision(actions, Pending(100), "usr_maker", {"admin"}, true, kNow),
             ErrorCode::kPermissionDenied, "self_approval");
  ExpectRule(CheckDecision(actions, Pending(100), "usr_maker", {"admin"}, false, kNow),
             ErrorCode::kPermissionDenied, "self_approval");
  EXPECT_TRUE(CheckDecision(actions, Pending(100), "usr_checker", {"admin"}, true, kNow).ok());
}

TEST(Approvals, TheCheckersLimitMustCoverTheAmountAtTheLimitAndNotOnePast) {
  ActionRegistry actions;
  EXPECT_TRUE(CheckDecision(actions, Pending(kDefaultCheckLimitMinor), "usr_checker",
                            {"supervisor"}, true, kNow)
                  .ok());
  ExpectRule(CheckDecision(actions, Pending(kDefaultCheckLimitMinor + 1), "usr_checker",
                           {"supervisor"}, true, kNow),
             ErrorCode::kPermissionDenied, "limit_exceeded");
  ExpectRule(CheckDecision(actions, Pending(1), "usr_checker", {"agent"}, true, kNow),
             ErrorCode::kPermissionDenied, "limit_exceeded");
  Request usd = Pending(1);
  usd.currency = "USD";
  ExpectRule(CheckDecision(actions, usd, "usr_checker", {"admin"}, true, kNow),
             ErrorCode::kPermissionDenied, "limit_exceeded");
  // Rejecting needs no limit.
  EXPECT_TRUE(CheckDecision(actions, Pending(kDefaultCheckLimitMinor + 1), "usr_checker",
                            {"supervisor"}, false, kNow)
                  .ok());
  // A module plugs in its own action and limits.
  ActionPolicy settlement;
  settlement.limit_minor_by_role["collections_manager"]["INR"] = 5'000'000;
  actions.Add("settlement", settlement);
  Request s = Pending(5'000'000);
  s.action = "settlement";
  EXPECT_TRUE(CheckDecision(actions, s, "usr_checker", {"collections_manager"}, true, kNow).ok());
}

TEST(Approvals, ADecidedOrExpiredRequestCannotBeCheckedAgain) {
  ActionRegistry actions;
  Request r = Pending(100);
  EXPECT_TRUE(CheckDecision(actions, r, "usr_checker", {"admin"}, true,
                            r.expires_at - Duration::Micros(1))
                  .ok());
  ExpectRule(CheckDecision(actions, r, "usr_checker", {"admin"}, true, r.expires_at),
             ErrorCode::kConflict, "expired");
  EXPECT_EQ(StatusAt(r, r.expires_at), "expired");
  r.status = "approved";
  ExpectRule(CheckDecision(actions, r, "usr_checker", {"admin"}, true, kNow),
             ErrorCode::kConflict, "not_pending");
}

}  // namespace
}  // namespace opsbox::approvals
