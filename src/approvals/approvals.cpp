// Maker-checker approvals (approvals.hpp): the action registry, the pure decisions, the command
// handlers that load a request for them, the projection (table approval_requests, migration 10)
// and the reads.
#include "approvals/approvals.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/ids.hpp"
#include "core/limits.hpp"

namespace opsbox::approvals {
namespace {

using store::Value;

Status Done(const Result<int64_t>& r) {
  if (!r.ok()) return r.error();
  return Ok();
}

std::string S(const Json& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
}
int64_t I(const Json& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

Status CheckCurrency(const std::string& c) {
  const bool ok = c.size() == 3 && std::all_of(c.begin(), c.end(), [](char ch) {
                    return ch >= 'A' && ch <= 'Z';
                  });
  if (!ok) return Error::Invalid("currency", "format", "currency is an ISO 4217 code such as INR");
  return Ok();
}

Status CheckReason(const std::string& reason, std::string_view field) {
  if (reason.size() < kReasonBytesMin || reason.size() > kReasonBytesMax) {
    return Error::Invalid(std::string(field), "length",
                          std::string(field) + " holds " + std::to_string(kReasonBytesMin) + ".." +
                              std::to_string(kReasonBytesMax) + " bytes");
  }
  return Ok();
}

std::vector<std::string> Roles(const Json& p) {
  std::vector<std::string> out;
  if (p.contains("checker_roles") && p["checker_roles"].is_array()) {
    for (const auto& r : p["checker_roles"]) {
      if (r.is_string()) out.push_back(r.get<std::string>());
    }
  }
  return out;
}

}  // namespace

ActionRegistry::ActionRegistry() {
  for (const char* action : {"fee_waiver", "refund", "goodwill_credit", "complaint_rejection"}) {
    ActionPolicy p;
    p.limit_minor_by_role["supervisor"]["INR"] = kDefaultCheckLimitMinor;
    p.limit_minor_by_role["admin"]["INR"] = kDefaultCheckLimitMinor;
    actions_.emplace(action, std::move(p));
  }
}

void ActionRegistry::Add(std::string action, ActionPolicy policy) {
  actions_.insert_or_assign(std::move(action), std::move(policy));
}

const ActionPolicy* ActionRegistry::Find(std::string_view action) const {
  auto it = actions_.find(action);
  return it == actions_.end() ? nullptr : &it->second;
}

std::vector<std::string> ActionRegistry::Actions() const {
  std::vector<std::string> out;
  for (const auto& [name, policy] : actions_) out.push_back(name);
  return out;
}

Result<ledger::Decision> DecideRequest(const ActionRegistry& actions, const Json& p,
                                       const std::string& maker, Instant now, Random& random) {
  OPSBOX_TRY(CheckObjectKeys(p, {"action", "amount_minor", "currency", "target", "reason"}));
  OPSBOX_ASSIGN_OR_RETURN(auto action, RequireString(p, "action", 64));
  if (actions.Find(action) == nullptr) {
    std::string known;
    for (const auto& a : actions.Actions()) known += (known.empty() ? "" : ", ") + a;
    return Error::Invalid("action", "unknown_action",
                          "action " + action + " needs no approval here; known: " + known);
  }
  const Json* amount = p.contains("amount_minor") ? &p["amount_minor"] : nullptr;
  if (amount == nullptr || !amount->is_number_integer()) {
    return Error::Invalid("amount_minor", "required", "amount_minor is an integer of minor units");
  }
  const int64_t amount_minor = amount->get<int64_t>();
  if (amount_minor < 0 || amount_minor > kAmountMinorMax) {
    return Error::Invalid("amount_minor", "range",
                          "amount_minor is 0.." + std::to_string(kAmountMinorMax));
  }
  OPSBOX_ASSIGN_OR_RETURN(auto currency, RequireString(p, "currency", 3));
  OPSBOX_TRY(CheckCurrency(currency));
  OPSBOX_ASSIGN_OR_RETURN(auto target, RequireString(p, "target", kTargetBytesMax));
  if (target.empty()) return Error::Invalid("target", "required", "target is required");
  OPSBOX_ASSIGN_OR_RETURN(auto reason, RequireString(p, "reason", kReasonBytesMax));
  OPSBOX_TRY(CheckReason(reason, "reason"));
  const std::string id = NewId("apr", now, random);
  const Instant expires = now + kRequestTtl;
  ledger::Decision d;
  d.events.push_back(ledger::NewEvent{std::string(kApprovalRequested),
                                      Json{{"approval_id", id},
                                           {"action", action},
                                           {"amount_minor", amount_minor},
                                           {"currency", currency},
                                           {"target", target},
                                           {"reason", reason},
                                           {"maker", maker},
                                           {"expires_at_us", expires.us}}});
  d.result = Json{{"approval_id", id},
                  {"status", "pending"},
                  {"expires_at", FormatRfc3339(expires)}};
  return d;
}

Status CheckDecision(const ActionRegistry& actions, const Request& r, const std::string& checker,
                     const std::vector<std::string>& roles, bool approving, Instant now) {
  if (r.status != "pending") {
    return Error::Conflict("not_pending", "approval " + r.approval_id + " is already " + r.status);
  }
  if (now >= r.expires_at) {
    return Error::Conflict("expired", "approval " + r.approval_id + " expired at " +
                                          FormatRfc3339(r.expires_at));
  }
  if (checker == r.maker) {
    return Error{ErrorCode::kPermissionDenied, "approval_id", "self_approval",
                 "the maker of a request can never check it: a second person must"};
  }
  if (!approving) return Ok();
  const ActionPolicy* policy = actions.Find(r.action);
  int64_t limit = -1;
  if (policy != nullptr) {
    for (const auto& role : roles) {
      auto by_role = policy->limit_minor_by_role.find(role);
      if (by_role == policy->limit_minor_by_role.end()) continue;
      auto by_currency = by_role->second.find(r.currency);
      if (by_currency != by_role->second.end()) limit = std::max(limit, by_currency->second);
    }
  }
  if (limit < r.amount_minor) {
    return Error{ErrorCode::kPermissionDenied, "amount_minor", "limit_exceeded",
                 limit < 0 ? "none of your roles may check " + r.action + " in " + r.currency
                           : "your limit for " + r.action + " is " + std::to_string(limit) +
                                 " minor units of " + r.currency + ", below " +
                                 std::to_string(r.amount_minor)};
  }
  return Ok();
}

std::string_view StatusAt(const Request& r, Instant now) {
  if (r.status == "pending" && now >= r.expires_at) return "expired";
  return r.status;
}

Json ToJson(const Request& r, Instant now) {
  return Json{{"approval_id", r.approval_id},
              {"action", r.action},
              {"amount_minor", r.amount_minor},
              {"currency", r.currency},
              {"target", r.target},
              {"reason", r.reason},
              {"maker", r.maker},
              {"status", StatusAt(r, now)},
              {"requested_at", FormatRfc3339(r.requested_at)},
              {"expires_at", FormatRfc3339(r.expires_at)},
              {"checker", r.checker.empty() ? Json() : Json(r.checker)},
              {"decision_reason", r.decision_reason.empty() ? Json() : Json(r.decision_reason)},
              {"decided_at", r.decided_at ? Json(FormatRfc3339(*r.decided_at)) : Json()}};
}

namespace {

constexpr std::string_view kColumns =
    "approval_id, action, amount_minor, currency, target, reason, maker, status, requested_at_us, "
    "expires_at_us, checker, decision_reason, decided_at_us, created_seq";

Request FromRow(const store::Row& r) {
  Request q;
  q.approval_id = r.Text(0);
  q.action = r.Text(1);
  q.amount_minor = r.Int(2);
  q.currency = r.Text(3);
  q.target = r.Text(4);
  q.reason = r.Text(5);
  q.maker = r.Text(6);
  q.status = r.Text(7);
  q.requested_at = Instant{r.Int(8)};
  q.expires_at = Instant{r.Int(9)};
  q.checker = r.Text(10);
  q.decision_reason = r.Text(11);
  if (r.Int(12) != 0) q.decided_at = Instant{r.Int(12)};
  return q;
}

template <class Conn>
Result<std::optional<Request>> Load(Conn& conn, std::string_view tenant, std::string_view id) {
  Value params[] = {std::string(tenant), std::string(id)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT " + std::string(kColumns) +
                                " FROM approval_requests WHERE tenant_id = ? AND approval_id = ?",
                            params));
  if (rows.empty()) return std::optional<Request>();
  return std::optional<Request>(FromRow(rows[0]));
}

Status ProjectRequested(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* parsed, ledger::PayloadJson(e, storage));
  const Json& p = *parsed;
  Value params[] = {e.tenant_id,        S(p, "approval_id"), S(p, "action"),
                    I(p, "amount_minor"), S(p, "currency"),  S(p, "target"),
                    S(p, "reason"),     S(p, "maker"),       e.recorded_at.us,
                    I(p, "expires_at_us"), e.seq};
  return Done(tx.Exec(
      "INSERT INTO approval_requests (tenant_id, approval_id, action, amount_minor, currency, "
      "target, reason, maker, status, requested_at_us, expires_at_us, checker, decision_reason, "
      "decided_at_us, created_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, '', '', 0, ?)",
      params));
}

Status ProjectDecided(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* parsed, ledger::PayloadJson(e, storage));
  const Json& p = *parsed;
  Value params[] = {std::string(e.type == kRequestApproved ? "approved" : "rejected"),
                    S(p, "checker"), S(p, "reason"), e.recorded_at.us, e.tenant_id,
                    S(p, "approval_id")};
  return Done(tx.Exec("UPDATE approval_requests SET status = ?, checker = ?, decision_reason = ?, "
                      "decided_at_us = ? WHERE tenant_id = ? AND approval_id = ?",
                      params));
}

Result<Request> Pending(store::Tx& tx, const ledger::Command& cmd) {
  const std::string id = S(cmd.payload, "approval_id");
  OPSBOX_ASSIGN_OR_RETURN(auto r, Load(tx, cmd.tenant_id, id));
  if (!r) return Error::NotFound("no approval request " + id);
  return *r;
}

Result<ledger::Decision> HandleApprove(const ActionRegistry& actions, store::Tx& tx,
                                       const ledger::Command& cmd, Instant now) {
  OPSBOX_TRY(CheckObjectKeys(cmd.payload, {"approval_id", "checker_roles", "reason"}));
  OPSBOX_ASSIGN_OR_RETURN(Request r, Pending(tx, cmd));
  OPSBOX_TRY(CheckDecision(actions, r, cmd.actor, Roles(cmd.payload), true, now));
  ledger::Decision d;
  d.events.push_back(ledger::NewEvent{
      std::string(kRequestApproved),
      Json{{"approval_id", r.approval_id}, {"action", r.action}, {"checker", cmd.actor},
           {"reason", S(cmd.payload, "reason")}}});
  const ApprovedAction a{cmd.tenant_id, r.approval_id, r.action, r.currency, r.target,
                         r.maker,       cmd.actor,     r.amount_minor};
  const ActionPolicy* policy = actions.Find(r.action);
  if (policy != nullptr && policy->runner) {
    OPSBOX_ASSIGN_OR_RETURN(auto events, policy->runner(tx, a, now));
    for (auto& e : events) d.events.push_back(std::move(e));
  } else {
    d.events.push_back(ledger::NewEvent{std::string(kApprovalActionRan),
                                        Json{{"approval_id", a.approval_id},
                                             {"action", a.action},
                                             {"amount_minor", a.amount_minor},
                                             {"currency", a.currency},
                                             {"target", a.target}}});
  }
  d.result = Json{{"approval_id", r.approval_id}, {"status", "approved"}};
  return d;
}

Result<ledger::Decision> HandleReject(const ActionRegistry& actions, store::Tx& tx,
                                      const ledger::Command& cmd, Instant now) {
  OPSBOX_TRY(CheckObjectKeys(cmd.payload, {"approval_id", "checker_roles", "reason"}));
  OPSBOX_ASSIGN_OR_RETURN(auto reason, RequireString(cmd.payload, "reason", kReasonBytesMax));
  OPSBOX_TRY(CheckReason(reason, "reason"));
  OPSBOX_ASSIGN_OR_RETURN(Request r, Pending(tx, cmd));
  OPSBOX_TRY(CheckDecision(actions, r, cmd.actor, Roles(cmd.payload), false, now));
  ledger::Decision d;
  d.events.push_back(ledger::NewEvent{
      std::string(kRequestRejected),
      Json{{"approval_id", r.approval_id}, {"action", r.action}, {"checker", cmd.actor},
           {"reason", reason}}});
  d.result = Json{{"approval_id", r.approval_id}, {"status", "rejected"}};
  return d;
}

}  // namespace

void RegisterApprovals(ledger::Registry& registry, const ActionRegistry& actions) {
  registry.AddCommand(std::string(kRequestApproval),
                      [&actions](store::Tx&, const ledger::Command& cmd, Instant now,
                                 Random& random) {
                        return DecideRequest(actions, cmd.payload, cmd.actor, now, random);
                      });
  registry.AddCommand(std::string(kApproveRequest),
                      [&actions](store::Tx& tx, const ledger::Command& cmd, Instant now, Random&) {
                        return HandleApprove(actions, tx, cmd, now);
                      });
  registry.AddCommand(std::string(kRejectRequest),
                      [&actions](store::Tx& tx, const ledger::Command& cmd, Instant now, Random&) {
                        return HandleReject(actions, tx, cmd, now);
                      });
  registry.AddProjector(std::string(kApprovalRequested), ProjectRequested);
  registry.AddProjector(std::string(kRequestApproved), ProjectDecided);
  registry.AddProjector(std::string(kRequestRejected), ProjectDecided);
  registry.DeclareEvents({kApprovalActionRan});
}

Result<std::optional<Request>> GetRequest(store::Connection& conn, std::string_view tenant,
                                          std::string_view approval_id) {
  return Load(conn, tenant, approval_id);
}

Result<std::vector<std::pair<int64_t, Request>>> ListRequests(store::Connection& conn,
                                                              std::string_view tenant,
                                                              std::optional<std::string> status,
                                                              int64_t before_seq, size_t limit) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM approval_requests WHERE tenant_id = ?";
  std::vector<Value> params{std::string(tenant)};
  if (status) {
    sql += " AND status = ?";
    params.emplace_back(*status);
  }
  if (before_seq > 0) {
    sql += " AND created_seq < ?";
    params.emplace_back(before_seq);
  }
  sql += " ORDER BY created_seq DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(std::clamp<size_t>(limit, 1, limits::kPageSizeMax)));
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, params));
  std::vector<std::pair<int64_t, Request>> out;
  for (const auto& r : rows) out.emplace_back(r.Int(13), FromRow(r));
  return out;
}

}  // namespace opsbox::approvals
