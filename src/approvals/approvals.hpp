// Maker-checker approvals (issue #19): a registry of actions that need a second person, which
// other modules plug into, and the commands that request, approve and reject them.
//
// Commands (wire names) and events:
//   request_approval {action, amount_minor, currency, target, reason}
//       -> approval_requested {approval_id, action, amount_minor, currency, target, reason,
//          maker, expires_at_us}. 400 rule "unknown_action" for an action nobody registered.
//   approve_request  {approval_id, checker_roles:[…]} -> request_approved, then the events of
//       the action's runner, in the same command: the action runs exactly once, when approved.
//   reject_request   {approval_id, reason, checker_roles:[…]} -> request_rejected.
// Rules (in this order): 404 when unknown; 409 rule "not_pending" once approved or rejected;
// 409 rule "expired" after expires_at; 403 rule "self_approval" when the checker is the maker;
// 403 rule "limit_exceeded" when none of the checker's roles has a limit for the currency that
// covers the amount (approve only). `checker_roles` is written by the API from the caller's roles,
// never taken from the client.
//
// The default policy a tenant starts with: fee_waiver, refund, goodwill_credit and
// complaint_rejection need a second person; supervisors and admins may check up to
// kDefaultCheckLimitMinor in INR. A registered action without a runner of its own records
// approval_action_ran {approval_id, action, amount_minor, currency, target} for the systems that
// carry it out (webhooks).
//
// Thread safety: ActionRegistry is filled before the writer starts and read-only afterwards.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox::approvals {

inline constexpr std::string_view kRequestApproval = "request_approval";
inline constexpr std::string_view kApproveRequest = "approve_request";
inline constexpr std::string_view kRejectRequest = "reject_request";
inline constexpr std::string_view kApprovalRequested = "approval_requested";
inline constexpr std::string_view kRequestApproved = "request_approved";
inline constexpr std::string_view kRequestRejected = "request_rejected";
inline constexpr std::string_view kApprovalActionRan = "approval_action_ran";

inline constexpr std::string_view kPermRequest = "approvals.request";
inline constexpr std::string_view kPermCheck = "approvals.check";
inline constexpr std::string_view kPermRead = "approvals.read";

// Limits (STYLE.md house rule 4).
inline constexpr int64_t kAmountMinorMax = 1'000'000'000'000;  // 10^12 minor units
inline constexpr int64_t kDefaultCheckLimitMinor = 1'000'000;  // ₹10,000.00
inline constexpr Duration kRequestTtl = Duration::Hours(72);    // a request expires after this
inline constexpr size_t kTargetBytesMax = 128;
inline constexpr size_t kReasonBytesMin = 3;
inline constexpr size_t kReasonBytesMax = 500;

// What a runner sees: the approved request.
struct ApprovedAction {
  std::string tenant, approval_id, action, currency, target, maker, checker;
  int64_t amount_minor = 0;
};
// Runs an approved action inside the approving command's transaction: returns the events it
// causes (appended after request_approved), or an error that refuses the approval.
using ActionRunner = std::function<Result<std::vector<ledger::NewEvent>>(
    store::Tx& tx, const ApprovedAction& action, Instant now)>;

// Who may check an action and up to what amount, per role and currency.
struct ActionPolicy {
  std::map<std::string, std::map<std::string, int64_t>> limit_minor_by_role;  // role -> currency
  ActionRunner runner;  // empty: records approval_action_ran
};

class ActionRegistry {
 public:
  // The default policy: the four actions above, supervisors and admins up to the default limit.
  ActionRegistry();
  // Adds or replaces an action (other modules: settlements, knowledge publishing, role grants).
  void Add(std::string action, ActionPolicy policy);
  const ActionPolicy* Find(std::string_view action) const;
  std::vector<std::string> Actions() const;

 private:
  std::map<std::string, ActionPolicy, std::less<>> actions_;
};

// Adds the commands and projectors. `actions` must outlive the writer.
void RegisterApprovals(ledger::Registry& registry, const ActionRegistry& actions);

// ---- pure decisions (exposed for tests) -------------------------------------------------------
struct Request {
  std::string approval_id, action, currency, target, reason, maker, status;
  int64_t amount_minor = 0;
  Instant requested_at, expires_at;
  std::string checker, decision_reason;
  std::optional<Instant> decided_at;
};
Result<ledger::Decision> DecideRequest(const ActionRegistry& actions, const Json& payload,
                                       const std::string& maker, Instant now, Random& random);
// The checks of approve/reject: Ok or the error of the first rule broken.
Status CheckDecision(const ActionRegistry& actions, const Request& r, const std::string& checker,
                     const std::vector<std::string>& roles, bool approving, Instant now);

// ---- reads -------------------------------------------------------------------------------------
// "pending" | "approved" | "rejected" | "expired" (a pending request past expires_at).
std::string_view StatusAt(const Request& r, Instant now);
Json ToJson(const Request& r, Instant now);
Result<std::optional<Request>> GetRequest(store::Connection& conn, std::string_view tenant,
                                          std::string_view approval_id);
// Newest first; `status` filters on the stored status; cursor: requests created before seq.
Result<std::vector<std::pair<int64_t, Request>>> ListRequests(store::Connection& conn,
                                                              std::string_view tenant,
                                                              std::optional<std::string> status,
                                                              int64_t before_seq, size_t limit);

}  // namespace opsbox::approvals
