// Registration, projections and reads of the automation module.
#include "automation/automation.hpp"

#include <nlohmann/json.hpp>

#include "automation/internal/decide.hpp"

namespace opsbox::automation {
namespace {

// Session rows the acceptance KPI reads for its "missing" counts, newest first.
constexpr int64_t kAcceptanceMissingRowsMax = 10000;

Result<std::vector<Policy>> PoliciesFrom(const store::Rows& rows) {
  std::vector<Policy> out;
  for (const auto& r : rows) {
    Json j = Json::parse(r.Text(2), nullptr, false);
    if (!j.is_object()) return Error::Internal("automation_policies holds malformed JSON");
    j.erase("version");
    j.erase("effective_at");
    auto p = ParsePolicy(j);
    if (!p.ok()) return Error::Internal("stored policy no longer parses: " + p.error().ToString());
    p->version = r.Int(0);
    p->effective_at = Instant{r.Int(1)};
    out.push_back(std::move(*p));
  }
  return out;
}

constexpr std::string_view kPolicySql =
    "SELECT version, effective_at_us, policy FROM automation_policies WHERE tenant_id = ? "
    "ORDER BY version";

}  // namespace

Result<std::vector<Policy>> LoadPolicies(store::Connection& c, std::string_view tenant) {
  store::Value p[] = {std::string(tenant)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, c.Query(kPolicySql, p));
  return PoliciesFrom(rows);
}

Result<std::vector<Policy>> LoadPolicies(store::Tx& tx, std::string_view tenant) {
  store::Value p[] = {std::string(tenant)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query(kPolicySql, p));
  return PoliciesFrom(rows);
}

namespace detail {

Status ProjectPolicyChanged(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
  store::Value v[] = {e.tenant_id,
                      p->at("version").get<int64_t>(),
                      p->at("effective_at_us").get<int64_t>(),
                      CanonicalJson(p->at("policy")),
                      p->value("reason", ""),
                      e.actor,
                      e.recorded_at.us,
                      e.seq};
  OPSBOX_TRY(tx.Exec("INSERT INTO automation_policies (tenant_id, version, effective_at_us, policy, "
                 "reason, actor, changed_at_us, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 v));
  return Ok();
}

Status ProjectSessionEvent(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
  const std::string id = p->value("session_id", "");
  OPSBOX_ASSIGN_OR_RETURN(auto loaded, LoadSession(tx, e.tenant_id, id));
  Session s = loaded ? std::move(*loaded) : Session{};
  Apply(s, e.type, *p, e.recorded_at.us);
  store::Value v[] = {e.tenant_id,
                      id,
                      s.intent,
                      s.status,
                      int64_t{s.status == "handed_off" ? 1 : 0},
                      s.review,
                      CanonicalJson(SessionToJson(s)),
                      s.started_at_us,
                      e.recorded_at.us,
                      e.seq};
  OPSBOX_TRY(tx.Exec("INSERT INTO automation_sessions (tenant_id, session_id, intent, status, "
                 "handed_off, review, state, started_at_us, updated_at_us, seq) VALUES (?, ?, ?, "
                 "?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, session_id) DO UPDATE SET intent = "
                 "excluded.intent, status = excluded.status, handed_off = excluded.handed_off, "
                 "review = excluded.review, state = excluded.state, updated_at_us = "
                 "excluded.updated_at_us, seq = excluded.seq",
                 v));
  return Ok();
}

}  // namespace detail

Automation::Automation(Hooks hooks) : hooks_(std::move(hooks)) {}

void Automation::Register(ledger::Registry& registry) const {
  auto with = [this](auto fn) {
    return [this, fn](store::Tx& tx, const ledger::Command& cmd, Instant now, Random& rnd) {
      return fn(tx, cmd, now, rnd, hooks_);
    };
  };
  registry.AddCommand(std::string(kSetPolicy), detail::HandleSetPolicy);
  registry.AddCommand(std::string(kStartSession), detail::HandleStartSession);
  registry.AddCommand(std::string(kRecordEvent), with(detail::HandleRecordEvent));
  registry.AddCommand(std::string(kReviewHandoff), with(detail::HandleReview));
  registry.AddProjector(std::string(kPolicyChanged), detail::ProjectPolicyChanged);
  for (auto type : {kSessionStarted, kIntentRecognised, kAuthenticationRecorded, kSlotCollected,
                    kStepAttempted, kSentimentRecorded, kUtteranceRecorded, kSessionEnded,
                    kHandedOff, kHandoffReviewed}) {
    registry.AddProjector(std::string(type), detail::ProjectSessionEvent);
  }
}

Result<BoundaryDecision> Automation::DecideInTx(store::Tx& tx, std::string_view tenant,
                                                std::string_view intent,
                                                std::string_view channel, Instant now) const {
  OPSBOX_ASSIGN_OR_RETURN(auto policies, LoadPolicies(tx, tenant));
  BoundaryDecision d = Decide(*InForce(policies, now), intent, channel);
  d.rule = nullptr;  // points into `policies`, which ends here
  return d;
}

Result<Json> Automation::PolicyAt(store::Connection& c, std::string_view tenant,
                                  Instant at) const {
  OPSBOX_ASSIGN_OR_RETURN(auto policies, LoadPolicies(c, tenant));
  const Policy* current = InForce(policies, at);
  Json scheduled = Json::array();
  for (const auto& p : policies) {
    if (p.effective_at.us > at.us) scheduled.push_back(PolicyJson(p));
  }
  return Json{{"policy", PolicyJson(*current)},
              {"scheduled", std::move(scheduled)},
              {"at", FormatRfc3339(at)}};
}

Result<Json> Automation::GetSession(store::Connection& c, std::string_view tenant,
                                    std::string_view session_id) const {
  store::Value p[] = {std::string(tenant), std::string(session_id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT state FROM automation_sessions WHERE "
                                             "tenant_id = ? AND session_id = ?",
                                             p));
  if (rows.empty()) return Error::NotFound("no automation session " + std::string(session_id));
  return PacketJson(SessionFromJson(Json::parse(rows[0].Text(0), nullptr, false)));
}

Result<Json> Automation::HandoffAcceptance(store::Connection& c, std::string_view tenant) const {
  store::Value p[] = {std::string(tenant)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT intent, COUNT(*), SUM(CASE WHEN review <> '' THEN 1 ELSE 0 END), "
              "SUM(CASE WHEN review = 'useful' THEN 1 ELSE 0 END) FROM automation_sessions "
              "WHERE tenant_id = ? AND handed_off = 1 GROUP BY intent ORDER BY intent",
              p));
  store::Value q[] = {std::string(tenant), kAcceptanceMissingRowsMax};
  OPSBOX_ASSIGN_OR_RETURN(auto unuseful,
                          c.Query("SELECT intent, state FROM automation_sessions WHERE "
                                  "tenant_id = ? AND review = 'not_useful' ORDER BY "
                                  "updated_at_us DESC LIMIT ?",
                                  q));
  std::map<std::string, std::map<std::string, int64_t>> missing;
  for (const auto& r : unuseful) {
    const Session s = SessionFromJson(Json::parse(r.Text(1), nullptr, false));
    for (const auto& f : s.review_missing) ++missing[r.Text(0)][f];
  }
  Json intents = Json::array();
  for (const auto& r : rows) {
    const int64_t reviewed = r.Int(2), useful = r.Int(3);
    intents.push_back(Json{{"intent", r.Text(0)},
                           {"handoffs", r.Int(1)},
                           {"reviewed", reviewed},
                           {"useful", useful},
                           {"acceptance_rate", reviewed == 0 ? Json() : Json(double(useful) / reviewed)},
                           {"missing", missing.contains(r.Text(0)) ? Json(missing[r.Text(0)])
                                                                    : Json::object()}});
  }
  return Json{{"intents", std::move(intents)}};
}

}  // namespace opsbox::automation
