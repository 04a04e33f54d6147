#include <algorithm>
#include <array>
#include <string>

#include "cases/cases.hpp"
#include "core/assert.hpp"

namespace opsbox::cases {
namespace {

constexpr std::array<std::string_view, 6> kTypeNames = {
    "service_request", "complaint", "grievance", "dispute", "fraud_report", "information_request"};
constexpr std::array<std::string_view, 4> kPriorityNames = {"low", "normal", "high", "urgent"};
constexpr std::array<std::string_view, 6> kStatusNames = {
    "new", "open", "pending_customer", "pending_internal", "resolved", "closed"};

template <class E, size_t N>
std::optional<E> ParseName(const std::array<std::string_view, N>& names, std::string_view name) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return std::nullopt;
  return static_cast<E>(it - names.begin());
}

Lifecycle MakeLifecycle(bool resolve_from_new) {
  using S = CaseStatus;
  Lifecycle l;
  l.transitions = {
      {S::kNew, S::kOpen, kPermCasesWork},
      {S::kNew, S::kPendingInternal, kPermCasesWork},
      {S::kOpen, S::kPendingCustomer, kPermCasesWork},
      {S::kOpen, S::kPendingInternal, kPermCasesWork},
      {S::kOpen, S::kResolved, kPermCasesWork},
      {S::kPendingCustomer, S::kOpen, kPermCasesWork},
      {S::kPendingCustomer, S::kResolved, kPermCasesWork},
      {S::kPendingInternal, S::kOpen, kPermCasesWork},
      {S::kPendingInternal, S::kResolved, kPermCasesWork},
      {S::kResolved, S::kClosed, kPermCasesClose},
      {S::kResolved, S::kOpen, kPermCasesReopen},
      {S::kClosed, S::kOpen, kPermCasesReopen},
  };
  if (resolve_from_new) l.transitions.push_back({S::kNew, S::kResolved, kPermCasesWork});
  return l;
}

std::string Join(const std::vector<CaseStatus>& statuses) {
  std::string out;
  for (CaseStatus s : statuses) out += (out.empty() ? "" : ", ") + std::string(Name(s));
  return out.empty() ? "none" : out;
}

}  // namespace

std::string_view Name(CaseType t) { return kTypeNames[static_cast<size_t>(t)]; }
std::string_view Name(Priority p) { return kPriorityNames[static_cast<size_t>(p)]; }
std::string_view Name(CaseStatus s) { return kStatusNames[static_cast<size_t>(s)]; }
std::optional<CaseType> ParseCaseType(std::string_view n) { return ParseName<CaseType>(kTypeNames, n); }
std::optional<Priority> ParsePriority(std::string_view n) {
  return ParseName<Priority>(kPriorityNames, n);
}
std::optional<CaseStatus> ParseCaseStatus(std::string_view n) {
  return ParseName<CaseStatus>(kStatusNames, n);
}

const std::vector<CaseType>& AllCaseTypes() {
  static const std::vector<CaseType> kAll = {CaseType::kServiceRequest, CaseType::kComplaint,
                                             CaseType::kGrievance,      CaseType::kDispute,
                                             CaseType::kFraudReport,    CaseType::kInformationRequest};
  return kAll;
}

const Lifecycle& DefaultLifecycle(CaseType type) {
  static const Lifecycle kStandard = MakeLifecycle(false);
  static const Lifecycle kInformation = MakeLifecycle(true);
  return type == CaseType::kInformationRequest ? kInformation : kStandard;
}

std::vector<CaseStatus> AllowedTargets(const Lifecycle& lifecycle, CaseStatus from) {
  std::vector<CaseStatus> out;
  for (const Transition& t : lifecycle.transitions) {
    if (t.from == from) out.push_back(t.to);
  }
  return out;
}

Status CheckTransition(const Lifecycle& lifecycle, CaseStatus from, CaseStatus to,
                       const std::function<bool(std::string_view permission)>& allows,
                       Instant now, std::optional<Instant> resolved_at) {
  const auto it = std::find_if(lifecycle.transitions.begin(), lifecycle.transitions.end(),
                               [&](const Transition& t) { return t.from == from && t.to == to; });
  if (it == lifecycle.transitions.end()) {
    Error e = Error::Conflict("transition", "a case in status " + std::string(Name(from)) +
                                                " cannot move to " + std::string(Name(to)) +
                                                "; allowed: " + Join(AllowedTargets(lifecycle, from)));
    e.field = "to";
    return e;
  }
  if (!allows(it->permission)) {
    return Error{ErrorCode::kPermissionDenied, "to", "permission",
                 "moving a case from " + std::string(Name(from)) + " to " + std::string(Name(to)) +
                     " needs permission " + std::string(it->permission)};
  }
  const bool reopening = to == CaseStatus::kOpen &&
                         (from == CaseStatus::kResolved || from == CaseStatus::kClosed);
  if (reopening) {
    OPSBOX_ASSERT(resolved_at.has_value());
    if (now - *resolved_at > Duration::Hours(24 * lifecycle.reopen_window_days)) {
      Error e = Error::Conflict("reopen_window", "a case reopens within " +
                                                     std::to_string(lifecycle.reopen_window_days) +
                                                     " days of its resolution");
      e.field = "to";
      return e;
    }
  }
  return Ok();
}

const std::vector<Category>& DefaultCategories() {
  static const std::vector<Category> kTree = [] {
    struct Parent {
      const char* code;
      const char* label;
      std::vector<std::pair<const char*, const char*>> children;
    };
    const Parent parents[] = {
        {"cards", "Cards",
         {{"disputed_transaction", "Disputed transaction"}, {"card_not_received", "Card not received"},
          {"card_blocked", "Card blocked"}, {"fees_and_charges", "Fees and charges"},
          {"limit_change", "Limit change"}}},
        {"loans", "Loans",
         {{"emi_and_repayment", "EMI and repayment"}, {"interest_rate", "Interest rate"},
          {"foreclosure", "Foreclosure"}, {"statement", "Statement"},
          {"disbursement", "Disbursement"}}},
        {"deposits", "Deposits",
         {{"account_opening", "Account opening"}, {"failed_transaction", "Failed transaction"},
          {"charges", "Charges"}, {"interest_credit", "Interest credit"},
          {"account_closure", "Account closure"}}},
        {"digital_banking", "Digital banking",
         {{"upi", "UPI"}, {"net_banking", "Net banking"}, {"mobile_app", "Mobile app"},
          {"login_and_otp", "Login and OTP"}}},
        {"collections", "Collections",
         {{"agent_conduct", "Agent conduct"}, {"calling_hours", "Calling hours"},
          {"settlement", "Settlement"}, {"payment_not_updated", "Payment not updated"}}},
        {"other", "Other", {{"general", "General"}, {"feedback", "Feedback"}}},
    };
    std::vector<Category> out;
    for (const Parent& p : parents) out.push_back({p.code, p.label});
    for (const Parent& p : parents) {
      for (const auto& [code, label] : p.children) {
        out.push_back({std::string(p.code) + "." + code, label});
      }
    }
    return out;
  }();
  return kTree;
}

SlaPolicy DefaultSlaPolicy(CaseType type, Priority priority) {
  // Resolution hours of working time at normal priority, by type (order of CaseType).
  static constexpr int64_t kResolutionH[] = {24, 40, 40, 80, 24, 16};
  // Priority scales every target (order of Priority): low ×2, normal ×1, high ÷2, urgent ÷4.
  static constexpr int64_t kNumerator[] = {2, 1, 1, 1};
  static constexpr int64_t kDenominator[] = {1, 1, 2, 4};
  const auto p = static_cast<size_t>(priority);
  auto scaled = [&](int64_t minutes) {
    return Duration::Minutes(minutes * kNumerator[p] / kDenominator[p]);
  };
  SlaPolicy policy;
  policy.first_response = scaled(4 * 60);
  policy.next_response = scaled(8 * 60);
  policy.resolution = scaled(kResolutionH[static_cast<size_t>(type)] * 60);
  policy.business_time = priority != Priority::kUrgent && type != CaseType::kFraudReport;
  return policy;
}

Result<CaseSla> ComputeCaseSla(const SlaPolicy& policy, const BusinessCalendar& calendar,
                               Instant received_at) {
  static const BusinessCalendar kAlwaysOpen = BusinessCalendar::AlwaysOpen();
  const BusinessCalendar& c = policy.business_time ? calendar : kAlwaysOpen;
  CaseSla sla;
  if (policy.first_response.us > 0) {
    OPSBOX_ASSIGN_OR_RETURN(sla.first_response_due_at,
                            AddBusinessTime(c, received_at, policy.first_response));
  }
  if (policy.resolution.us > 0) {
    OPSBOX_ASSIGN_OR_RETURN(sla.resolution_due_at, AddBusinessTime(c, received_at, policy.resolution));
  }
  return sla;
}

Result<SlaClock> ClockFromStatusChanges(Instant started_at, Duration target,
                                        const std::vector<StatusChange>& changes) {
  SlaClock clock{started_at, target, {}};
  bool paused = false;
  for (const StatusChange& c : changes) {
    if (c.at < started_at) continue;
    const bool pending = c.to == CaseStatus::kPendingCustomer;
    if (pending && !paused) {
      if (clock.pauses.size() == kSlaPausesMax) {
        return Error::Invalid("pauses", "max_items", "an SLA clock holds at most " +
                              std::to_string(kSlaPausesMax) + " pauses");
      }
      clock.pauses.push_back({c.at, std::nullopt});
    } else if (!pending && paused) {
      clock.pauses.back().until = c.at;
    }
    paused = pending;
  }
  return clock;
}

bool CountsAsResponse(NoteSide side, NoteVisibility visibility) {
  return side == NoteSide::kTenant && visibility == NoteVisibility::kCustomerVisible;
}

RepeatLink FindRepeats(const std::vector<PriorCase>& prior, CaseType type,
                       std::string_view category, Instant received_at, int64_t window_days) {
  auto counts = [](CaseType t) { return t == CaseType::kComplaint || t == CaseType::kGrievance; };
  RepeatLink link;
  if (!counts(type)) return link;
  std::vector<const PriorCase*> hits;
  for (const PriorCase& p : prior) {
    if (counts(p.type) && p.category == category && p.received_at <= received_at &&
        received_at - p.received_at <= Duration::Hours(24 * window_days)) {
      hits.push_back(&p);
    }
  }
  std::sort(hits.begin(), hits.end(),
            [](const PriorCase* a, const PriorCase* b) { return a->received_at < b->received_at; });
  for (const PriorCase* p : hits) link.linked_case_ids.push_back(p->case_id);
  link.repeat_count = hits.size();
  return link;
}

}  // namespace opsbox::cases
