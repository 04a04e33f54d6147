// Cases and complaints under SLA (issue #19): the model every other part builds on. The only
// header other modules include from src/cases/ besides business_calendar.hpp.
//
// Built so far (pure, no I/O, no clock reads; thread-safe):
// - case types, priorities and statuses with one wire name each;
// - the default lifecycle per type: allowed transitions, the permission each needs, and the
//   reopen window; CheckTransition answers 409 (kConflict, rule "transition") naming the allowed
//   targets, 403 (kPermissionDenied, rule "permission") naming the permission, 409 rule
//   "reopen_window" after the window;
// - the default category tree of a bank and the default SLA policy per type × priority;
// - ComputeCaseSla: every due instant of a new case from its policy and calendar.
// Not built yet: the ledger commands, projections, routes, timers and approvals (docs/cases.md).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cases/business_calendar.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace opsbox::cases {

enum class CaseType {
  kServiceRequest,      // "service_request"
  kComplaint,           // "complaint"
  kGrievance,           // "grievance"
  kDispute,             // "dispute"
  kFraudReport,         // "fraud_report"
  kInformationRequest,  // "information_request"
};
enum class Priority { kLow, kNormal, kHigh, kUrgent };  // "low" "normal" "high" "urgent"
enum class CaseStatus {
  kNew,              // "new"
  kOpen,             // "open"
  kPendingCustomer,  // "pending_customer": SLA clocks paused
  kPendingInternal,  // "pending_internal"
  kResolved,         // "resolved"
  kClosed,           // "closed"
};

std::string_view Name(CaseType type);
std::string_view Name(Priority priority);
std::string_view Name(CaseStatus status);
std::optional<CaseType> ParseCaseType(std::string_view name);
std::optional<Priority> ParsePriority(std::string_view name);
std::optional<CaseStatus> ParseCaseStatus(std::string_view name);
const std::vector<CaseType>& AllCaseTypes();

// Permissions the case routes and transitions declare (identity's matrix grants them to roles
// when the routes land).
inline constexpr std::string_view kPermCasesRead = "cases.read";
inline constexpr std::string_view kPermCasesWork = "cases.work";    // move a case along
inline constexpr std::string_view kPermCasesClose = "cases.close";  // close, and close unheard
inline constexpr std::string_view kPermCasesReopen = "cases.reopen";

struct Transition {
  CaseStatus from;
  CaseStatus to;
  std::string_view permission;
};

struct Lifecycle {
  std::vector<Transition> transitions;
  int64_t reopen_window_days = 30;  // a resolved or closed case reopens within this many days
};

// The lifecycle a new tenant starts with for `type`: new → open → pending_customer /
// pending_internal → resolved → closed, reopen (resolved/closed → open) within the window.
// Information requests may also be resolved straight from new.
const Lifecycle& DefaultLifecycle(CaseType type);

// The targets `from` may move to, in the lifecycle's order.
std::vector<CaseStatus> AllowedTargets(const Lifecycle& lifecycle, CaseStatus from);

// Whether an actor may move a case from `from` to `to` at `now`. `allows` answers whether the
// actor holds a permission; `resolved_at` is when the case was last resolved (for reopening).
// Errors (field "to"): kConflict rule "transition" (message lists the allowed targets),
// kPermissionDenied rule "permission", kConflict rule "reopen_window".
Status CheckTransition(const Lifecycle& lifecycle, CaseStatus from, CaseStatus to,
                       const std::function<bool(std::string_view permission)>& allows,
                       Instant now, std::optional<Instant> resolved_at);

// The category tree a new tenant starts with: top-level codes `cards`, `loans`, `deposits`,
// `digital_banking`, `collections`, `other`, each with subcategories written "parent.child"
// (e.g. "cards.disputed_transaction"). Ordered parents first.
struct Category {
  std::string code;    // "cards" or "cards.disputed_transaction"
  std::string label;   // "Cards", "Disputed transaction"
};
const std::vector<Category>& DefaultCategories();

// SLA targets of one policy. A target of zero duration is "not measured".
struct SlaPolicy {
  Duration first_response;
  Duration next_response;
  Duration resolution;
  bool business_time = true;  // false: calendar time (24×7)
  double at_risk_share = 0.8;  // an at-risk event fires at this share of a target (0 < s < 1)
};

// The default policy per type × priority (any category), in business time except urgent cases
// and fraud reports, which run on calendar time.
SlaPolicy DefaultSlaPolicy(CaseType type, Priority priority);

// Every due instant of a case received at `received_at`. Absent targets stay empty.
struct CaseSla {
  std::optional<Instant> first_response_due_at;
  std::optional<Instant> resolution_due_at;
};
Result<CaseSla> ComputeCaseSla(const SlaPolicy& policy, const BusinessCalendar& calendar,
                               Instant received_at);

// ---- clocks and responses ------------------------------------------------------------------

// One status change of a case, oldest first.
struct StatusChange {
  CaseStatus to;
  Instant at;
};
// The SLA clock of a target started at `started_at`: paused from every move into
// pending_customer until the next move out of it (open while the case still waits on the
// customer). Changes before started_at are ignored. Errors: field "pauses", rule "max_items"
// past kSlaPausesMax.
Result<SlaClock> ClockFromStatusChanges(Instant started_at, Duration target,
                                        const std::vector<StatusChange>& changes);

// Who wrote a note or reply, and who may see it.
enum class NoteSide { kTenant, kCustomer };
enum class NoteVisibility { kInternal, kCustomerVisible };  // "internal" "customer_visible"
// Only a customer-visible note by the tenant's side answers the customer (stops the first and
// next response clocks); an internal note or the customer's own message does not.
bool CountsAsResponse(NoteSide side, NoteVisibility visibility);

// ---- repeat complaints ---------------------------------------------------------------------

inline constexpr int64_t kRepeatWindowDaysDefault = 30;

// An earlier case of the same customer (any status).
struct PriorCase {
  std::string case_id;
  CaseType type = CaseType::kComplaint;
  std::string category;
  Instant received_at;
};
struct RepeatLink {
  std::vector<std::string> linked_case_ids;  // the earlier complaints it repeats, oldest first
  size_t repeat_count = 0;                   // how many complaints before this one (0: first)
};
// A complaint or grievance repeats the customer's complaints and grievances of the same
// category received within `window_days` before it (inclusive). Other types never repeat.
RepeatLink FindRepeats(const std::vector<PriorCase>& prior, CaseType type,
                       std::string_view category, Instant received_at, int64_t window_days);

}  // namespace opsbox::cases
