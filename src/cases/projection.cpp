// The case projections (tables cases, case_timeline, case_settings; migration 10), the command
// handlers that load a case's state for the pure decisions, and RegisterCases.
#include <nlohmann/json.hpp>

#include "cases/internal/case_state.hpp"
#include "core/zone.hpp"

namespace opsbox::cases {
namespace {

using store::Value;

Status Done(const Result<int64_t>& r) {
  if (!r.ok()) return r.error();
  return Ok();
}

int64_t I(const Json& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}
std::string S(const Json& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<ZoneRules> LoadZone(std::string_view name) { return ZoneRules::Load(name); }

// The SLA columns an event's "sla" object sets, as "col = ?" SQL and its values.
void SlaColumns(const Json& sla, std::string& sql, std::vector<Value>& params) {
  sql += ", paused = ?, fr_due_us = ?, fr_at_risk_us = ?, fr_met_us = ?, res_due_us = ?, "
         "res_at_risk_us = ?, res_met_us = ?";
  params.emplace_back(int64_t{sla.value("paused", false) ? 1 : 0});
  for (auto k : {"fr_due_at_us", "fr_at_risk_at_us", "fr_met_at_us", "res_due_at_us",
                 "res_at_risk_at_us", "res_met_at_us"}) {
    params.emplace_back(I(sla, k));
  }
}

Status AddTimeline(store::Tx& tx, const ledger::Event& e, const std::string& case_id,
                   std::string_view kind, int64_t at_us) {
  Value params[] = {e.tenant_id, case_id, e.seq, at_us, std::string(kind), e.actor, e.payload};
  return Done(tx.Exec("INSERT INTO case_timeline (tenant_id, case_id, seq, at_us, kind, actor, "
                      "body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      params));
}

Status ProjectOpened(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* parsed, ledger::PayloadJson(e, storage));
  const Json& p = *parsed;
  const Json sla = p.value("sla", Json::object());
  const std::string id = S(p, "case_id");
  const int64_t received = I(p, "received_at_us");
  std::vector<Value> params{e.tenant_id,
                            id,
                            S(p, "type"),
                            S(p, "category"),
                            S(p, "priority"),
                            S(p, "status"),
                            S(p, "subject"),
                            CanonicalJson(p.value("description", Json())),
                            CanonicalJson(p.value("customer_id", Json())),
                            S(p, "customer_index"),
                            S(p, "channel"),
                            CanonicalJson(p.value("repeat_of", Json::array())),
                            I(p, "repeat_count"),
                            received,
                            e.recorded_at.us,
                            e.recorded_at.us,
                            int64_t{p.value("business_time", true) ? 1 : 0},
                            I(p, "at_risk_share_bp"),
                            int64_t{sla.value("paused", false) ? 1 : 0},
                            I(p, "fr_target_us"),
                            I(sla, "fr_due_at_us"),
                            I(sla, "fr_at_risk_at_us"),
                            I(sla, "fr_met_at_us"),
                            I(p, "res_target_us"),
                            I(sla, "res_due_at_us"),
                            I(sla, "res_at_risk_at_us"),
                            I(sla, "res_met_at_us"),
                            e.seq,
                            e.seq};
  OPSBOX_TRY(Done(tx.Exec(
      "INSERT INTO cases (tenant_id, case_id, type, category, priority, status, subject, "
      "description, customer_id, customer_index, channel, repeat_of, repeat_count, "
      "received_at_us, created_at_us, updated_at_us, resolved_at_us, closed_at_us, "
      "status_changes, business_time, at_risk_share_bp, paused, fr_target_us, fr_due_us, "
      "fr_at_risk_us, fr_met_us, fr_at_risk_fired_us, fr_breached_fired_us, res_target_us, "
      "res_due_us, res_at_risk_us, res_met_us, res_at_risk_fired_us, res_breached_fired_us, "
      "created_seq, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, '[]', "
      "?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, 0, 0, ?, ?)",
      params)));
  return AddTimeline(tx, e, id, "opened", e.recorded_at.us);
}

Status ProjectTransitioned(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* parsed, ledger::PayloadJson(e, storage));
  const Json& p = *parsed;
  const std::string id = S(p, "case_id");
  const std::string to = S(p, "to");
  const int64_t at = I(p, "at_us");
  Value key[] = {e.tenant_id, id};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT status_changes FROM cases WHERE tenant_id = ? AND case_id = ?",
                          key));
  if (rows.empty()) return Error::Internal("case_transitioned for an unknown case " + id);
  Json changes = Json::parse(rows[0].Text(0), nullptr, false);
  if (!changes.is_array()) changes = Json::array();
  changes.push_back(Json::array({to, at}));
  std::string sql = "UPDATE cases SET status = ?, status_changes = ?, updated_at_us = ?, seq = ?";
  std::vector<Value> params{to, CanonicalJson(changes), e.recorded_at.us, e.seq};
  if (to == Name(CaseStatus::kResolved)) {
    sql += ", resolved_at_us = ?";
    params.emplace_back(at);
  }
  if (to == Name(CaseStatus::kClosed)) {
    sql += ", closed_at_us = ?";
    params.emplace_back(at);
  }
  if (to == Name(CaseStatus::kOpen) && S(p, "from") == Name(CaseStatus::kClosed)) {
    sql += ", closed_at_us = 0";
  }
  SlaColumns(p.value("sla", Json::object()), sql, params);
  sql += " WHERE tenant_id = ? AND case_id = ?";
  params.emplace_back(e.tenant_id);
  params.emplace_back(id);
  OPSBOX_TRY(Done(tx.Exec(sql, params)));
  return AddTimeline(tx, e, id, "transitioned", at);
}

Status ProjectNote(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* parsed, ledger::PayloadJson(e, storage));
  const Json& p = *parsed;
  const std::string id = S(p, "case_id");
  std::string sql = "UPDATE cases SET updated_at_us = ?, seq = ?";
  std::vector<Value> params{e.recorded_at.us, e.seq};
  SlaColumns(p.value("sla", Json::object()), sql, params);
  sql += " WHERE tenant_id = ? AND case_id = ?";
  params.emplace_back(e.tenant_id);
  params.emplace_back(id);
  OPSBOX_TRY(Done(tx.Exec(sql, params)));
  return AddTimeline(tx, e, id, "note", I(p, "at_us"));
}

Status ProjectSla(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* parsed, ledger::PayloadJson(e, storage));
  const Json& p = *parsed;
  const std::string id = S(p, "case_id");
  const bool breach = e.type == kCaseSlaBreached;
  const std::string column = std::string(S(p, "target") == "first_response" ? "fr_" : "res_") +
                             (breach ? "breached_fired_us" : "at_risk_fired_us");
  Value params[] = {I(p, "at_us"), e.seq, e.tenant_id, id};
  OPSBOX_TRY(Done(tx.Exec(
      "UPDATE cases SET " + column + " = ?, seq = ? WHERE tenant_id = ? AND case_id = ?", params)));
  return AddTimeline(tx, e, id, breach ? "sla_breached" : "sla_at_risk", I(p, "at_us"));
}

Status ProjectConfigured(store::Tx& tx, const ledger::Event& e) {
  Value params[] = {e.tenant_id, e.payload, e.seq};
  return Done(tx.Exec("INSERT INTO case_settings (tenant_id, body, seq) VALUES (?, ?, ?) "
                      "ON CONFLICT (tenant_id) DO UPDATE SET body = excluded.body, "
                      "seq = excluded.seq",
                      params));
}

Result<CaseSettings> LoadSettings(store::Tx& tx, const std::string& tenant) {
  Value params[] = {tenant};
  OPSBOX_ASSIGN_OR_RETURN(auto rows,
                          tx.Query("SELECT body FROM case_settings WHERE tenant_id = ?", params));
  if (rows.empty()) {
    CaseSettings s;
    s.calendar = DefaultCaseCalendar();
    return s;
  }
  OPSBOX_ASSIGN_OR_RETURN(Json body, ParseJson(rows[0].Text(0), "settings"));
  return ParseCaseSettings(body, LoadZone);
}

constexpr std::string_view kStateColumns =
    "case_id, type, category, priority, status, customer_id, received_at_us, resolved_at_us, "
    "status_changes, business_time, at_risk_share_bp, fr_target_us, res_target_us, fr_met_us, "
    "fr_due_us, fr_at_risk_us, res_due_us, res_at_risk_us, fr_at_risk_fired_us, "
    "fr_breached_fired_us, res_at_risk_fired_us, res_breached_fired_us";

// The data subject whose key seals the case's personal fields: "cus_<id>/case_<id>", or
// "case_<id>" without a customer or once the customer was erased.
Result<std::string> DataSubject(const Hooks& hooks, store::Tx& tx, const std::string& tenant,
                                const std::string& case_id, const std::string& sealed_text) {
  const Json sealed = Json::parse(sealed_text, nullptr, false);
  if (sealed.is_null() || sealed.is_discarded() || !hooks.open) return case_id;
  OPSBOX_ASSIGN_OR_RETURN(auto clear, hooks.open(tx, tenant, sealed));
  if (!clear || !clear->is_string()) return case_id;
  return clear->get<std::string>() + "/" + case_id;
}

Result<detail::CaseState> LoadCase(const Hooks& hooks, store::Tx& tx, const std::string& tenant,
                                   const Json& payload) {
  const std::string id = S(payload, "case_id");
  if (id.empty()) return Error::Invalid("case_id", "required", "case_id is required");
  Value params[] = {tenant, id};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT " + std::string(kStateColumns) +
                              " FROM cases WHERE tenant_id = ? AND case_id = ?",
                          params));
  if (rows.empty()) return Error::NotFound("no case " + id);
  const store::Row& r = rows[0];
  detail::CaseState c;
  c.case_id = r.Text(0);
  c.type = ParseCaseType(r.Text(1)).value_or(CaseType::kComplaint);
  c.category = r.Text(2);
  c.priority = ParsePriority(r.Text(3)).value_or(Priority::kNormal);
  c.status = ParseCaseStatus(r.Text(4)).value_or(CaseStatus::kNew);
  OPSBOX_ASSIGN_OR_RETURN(c.data_subject, DataSubject(hooks, tx, tenant, c.case_id, r.Text(5)));
  c.received_at = Instant{r.Int(6)};
  if (r.Int(7) != 0) c.resolved_at = Instant{r.Int(7)};
  const Json changes = Json::parse(r.Text(8), nullptr, false);
  if (changes.is_array()) {
    for (const auto& ch : changes) {
      auto s = ParseCaseStatus(ch.at(0).get<std::string>());
      if (s) c.changes.push_back({*s, Instant{ch.at(1).get<int64_t>()}});
    }
  }
  c.business_time = r.Int(9) != 0;
  c.at_risk_share_bp = r.Int(10);
  c.fr_target = Duration::Micros(r.Int(11));
  c.res_target = Duration::Micros(r.Int(12));
  if (r.Int(13) != 0) c.fr_met = Instant{r.Int(13)};
  c.fr_due_us = r.Int(14);
  c.fr_at_risk_us = r.Int(15);
  c.res_due_us = r.Int(16);
  c.res_at_risk_us = r.Int(17);
  c.fr_at_risk_fired_us = r.Int(18);
  c.fr_breached_fired_us = r.Int(19);
  c.res_at_risk_fired_us = r.Int(20);
  c.res_breached_fired_us = r.Int(21);
  return c;
}

// The customer's earlier cases (by blind index) for the repeat check, newest first.
Result<std::vector<PriorCase>> PriorCases(store::Tx& tx, const std::string& tenant,
                                          const std::string& customer_index) {
  std::vector<PriorCase> out;
  if (customer_index.empty()) return out;
  Value params[] = {tenant, customer_index, static_cast<int64_t>(kPriorCasesMax)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT case_id, type, category, received_at_us FROM cases WHERE "
                          "tenant_id = ? AND customer_index = ? ORDER BY received_at_us DESC "
                          "LIMIT ?",
                          params));
  for (const auto& r : rows) {
    out.push_back(PriorCase{r.Text(0), ParseCaseType(r.Text(1)).value_or(CaseType::kComplaint),
                            r.Text(2), Instant{r.Int(3)}});
  }
  return out;
}

}  // namespace

void RegisterCases(ledger::Registry& registry, Hooks hooks) {
  registry.AddCommand(
      std::string(kOpenCase),
      [hooks](store::Tx& tx, const ledger::Command& cmd, Instant now,
              Random& random) -> Result<ledger::Decision> {
        OPSBOX_ASSIGN_OR_RETURN(auto in, detail::ParseOpenCase(cmd.payload));
        OPSBOX_ASSIGN_OR_RETURN(auto settings, LoadSettings(tx, cmd.tenant_id));
        std::string index;
        if (!in.customer_id.empty() && hooks.blind_index) {
          index = hooks.blind_index(cmd.tenant_id, "case_customer", in.customer_id);
        }
        OPSBOX_ASSIGN_OR_RETURN(auto prior, PriorCases(tx, cmd.tenant_id, index));
        return detail::DecideOpenCase(in, settings, prior, index, now, random);
      });
  registry.AddCommand(std::string(kTransitionCase),
                      [hooks](store::Tx& tx, const ledger::Command& cmd, Instant now,
                              Random&) -> Result<ledger::Decision> {
                        OPSBOX_ASSIGN_OR_RETURN(auto c,
                                                LoadCase(hooks, tx, cmd.tenant_id, cmd.payload));
                        OPSBOX_ASSIGN_OR_RETURN(auto settings, LoadSettings(tx, cmd.tenant_id));
                        return detail::DecideTransition(c, cmd.payload, settings, now);
                      });
  registry.AddCommand(std::string(kAddCaseNote),
                      [hooks](store::Tx& tx, const ledger::Command& cmd, Instant now,
                              Random& random) -> Result<ledger::Decision> {
                        OPSBOX_ASSIGN_OR_RETURN(auto c,
                                                LoadCase(hooks, tx, cmd.tenant_id, cmd.payload));
                        OPSBOX_ASSIGN_OR_RETURN(auto settings, LoadSettings(tx, cmd.tenant_id));
                        return detail::DecideAddNote(c, cmd.payload, settings, now, random);
                      });
  registry.AddCommand(std::string(kRecordCaseSla),
                      [](store::Tx& tx, const ledger::Command& cmd, Instant now,
                         Random&) -> Result<ledger::Decision> {
                        // No personal fields: the subject is not needed (Hooks{} opens nothing).
                        OPSBOX_ASSIGN_OR_RETURN(auto c,
                                                LoadCase(Hooks{}, tx, cmd.tenant_id, cmd.payload));
                        return detail::DecideRecordSla(c, cmd.payload, now);
                      });
  registry.AddCommand(std::string(kConfigureCases),
                      [](store::Tx&, const ledger::Command& cmd, Instant,
                         Random&) -> Result<ledger::Decision> {
                        return detail::DecideConfigure(cmd.payload, LoadZone);
                      });
  registry.AddProjector(std::string(kCaseOpened), ProjectOpened);
  registry.AddProjector(std::string(kCaseTransitioned), ProjectTransitioned);
  registry.AddProjector(std::string(kCaseNoteAdded), ProjectNote);
  registry.AddProjector(std::string(kCaseSlaAtRisk), ProjectSla);
  registry.AddProjector(std::string(kCaseSlaBreached), ProjectSla);
  registry.AddProjector(std::string(kCasesConfigured), ProjectConfigured);
}

}  // namespace opsbox::cases
