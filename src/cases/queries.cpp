// Reads of the case projections for the API and the SLA timer (case_ledger.hpp).
#include <algorithm>
#include <nlohmann/json.hpp>

#include "cases/case_ledger.hpp"
#include "core/limits.hpp"

namespace opsbox::cases {
namespace {

using store::Value;

std::optional<Instant> At(int64_t us) {
  if (us == 0) return std::nullopt;
  return Instant{us};
}

constexpr std::string_view kColumns =
    "case_id, type, category, priority, status, subject, channel, description, customer_id, "
    "repeat_of, repeat_count, received_at_us, created_at_us, updated_at_us, resolved_at_us, "
    "closed_at_us, business_time, paused, fr_target_us, fr_due_us, fr_at_risk_us, fr_met_us, "
    "fr_at_risk_fired_us, fr_breached_fired_us, res_target_us, res_due_us, res_at_risk_us, "
    "res_met_us, res_at_risk_fired_us, res_breached_fired_us, created_seq, seq";

CaseRecord FromRow(const store::Row& r) {
  CaseRecord c;
  c.case_id = r.Text(0);
  c.type = r.Text(1);
  c.category = r.Text(2);
  c.priority = r.Text(3);
  c.status = r.Text(4);
  c.subject = r.Text(5);
  c.channel = r.Text(6);
  c.description = Json::parse(r.Text(7), nullptr, false);
  c.customer_id = Json::parse(r.Text(8), nullptr, false);
  const Json repeats = Json::parse(r.Text(9), nullptr, false);
  if (repeats.is_array()) {
    for (const auto& id : repeats) {
      if (id.is_string()) c.repeat_of.push_back(id.get<std::string>());
    }
  }
  c.repeat_count = r.Int(10);
  c.received_at = Instant{r.Int(11)};
  c.created_at = Instant{r.Int(12)};
  c.updated_at = Instant{r.Int(13)};
  c.resolved_at = At(r.Int(14));
  c.closed_at = At(r.Int(15));
  c.business_time = r.Int(16) != 0;
  c.paused = r.Int(17) != 0;
  auto target = [&r](size_t i) {
    SlaTarget t;
    t.target = Duration::Micros(r.Int(i));
    t.due_at = At(r.Int(i + 1));
    t.at_risk_at = At(r.Int(i + 2));
    t.met_at = At(r.Int(i + 3));
    t.at_risk_recorded_at = At(r.Int(i + 4));
    t.breached_recorded_at = At(r.Int(i + 5));
    return t;
  };
  c.first_response = target(18);
  c.resolution = target(24);
  c.created_seq = r.Int(30);
  c.seq = r.Int(31);
  return c;
}

// SQL for "some target breached at ?" and "some unmet target at risk at ?" (2 parameters each).
constexpr std::string_view kBreachedSql =
    "(fr_breached_fired_us > 0 OR res_breached_fired_us > 0 OR (fr_due_us > 0 AND fr_due_us <= "
    "?) OR (res_due_us > 0 AND res_due_us <= ?))";
constexpr std::string_view kAtRiskSql =
    "((fr_due_us > 0 AND fr_at_risk_us > 0 AND fr_at_risk_us <= ?) OR (res_due_us > 0 AND "
    "res_at_risk_us > 0 AND res_at_risk_us <= ?))";

}  // namespace

std::string_view SlaTargetState(const SlaTarget& t, Instant now) {
  if (t.breached_recorded_at || (t.due_at && *t.due_at <= now)) return "breached";
  if (t.met_at) return "met";
  if (t.due_at && t.at_risk_at && *t.at_risk_at <= now) return "at_risk";
  return "on_track";
}

std::string_view CaseSlaState(const CaseRecord& c, Instant now) {
  const auto a = SlaTargetState(c.first_response, now), b = SlaTargetState(c.resolution, now);
  if (a == "breached" || b == "breached") return "breached";
  if (a == "at_risk" || b == "at_risk") return "at_risk";
  return "on_track";
}

namespace {

Json Rfc(const std::optional<Instant>& t) { return t ? Json(FormatRfc3339(*t)) : Json(); }

Json TargetJson(const SlaTarget& t, Instant now) {
  return Json{{"state", SlaTargetState(t, now)},
              {"due_at", Rfc(t.due_at)},
              {"at_risk_at", Rfc(t.at_risk_at)},
              {"met_at", Rfc(t.met_at)},
              {"target_s", t.target.us / 1'000'000},
              {"at_risk_recorded_at", Rfc(t.at_risk_recorded_at)},
              {"breached_recorded_at", Rfc(t.breached_recorded_at)}};
}

}  // namespace

Json SlaToJson(const CaseRecord& c, Instant now) {
  return Json{{"state", CaseSlaState(c, now)},
              {"paused", c.paused},
              {"business_time", c.business_time},
              {"first_response_due_at", Rfc(c.first_response.due_at)},
              {"resolution_due_at", Rfc(c.resolution.due_at)},
              {"first_response", TargetJson(c.first_response, now)},
              {"resolution", TargetJson(c.resolution, now)}};
}

Result<std::vector<CaseRecord>> ListCases(store::Connection& conn, std::string_view tenant,
                                          const CaseFilter& f) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM cases WHERE tenant_id = ?";
  std::vector<Value> params{std::string(tenant)};
  auto eq = [&](const std::optional<std::string>& v, std::string_view column) {
    if (!v) return;
    sql += " AND " + std::string(column) + " = ?";
    params.emplace_back(*v);
  };
  eq(f.status, "status");
  eq(f.type, "type");
  eq(f.category, "category");
  eq(f.priority, "priority");
  if (f.sla_state) {
    const std::string breached(kBreachedSql), at_risk(kAtRiskSql);
    if (*f.sla_state == "breached") {
      sql += " AND " + breached;
      params.insert(params.end(), {f.now.us, f.now.us});
    } else if (*f.sla_state == "at_risk") {
      sql += " AND NOT " + breached + " AND " + at_risk;
      params.insert(params.end(), {f.now.us, f.now.us, f.now.us, f.now.us});
    } else {
      sql += " AND NOT " + breached + " AND NOT " + at_risk;
      params.insert(params.end(), {f.now.us, f.now.us, f.now.us, f.now.us});
    }
  }
  if (f.due_before) {
    sql += " AND ((fr_due_us > 0 AND fr_due_us < ?) OR (res_due_us > 0 AND res_due_us < ?))";
    params.insert(params.end(), {f.due_before->us, f.due_before->us});
  }
  if (f.after_seq > 0) {
    sql += " AND created_seq < ?";
    params.emplace_back(f.after_seq);
  }
  sql += " ORDER BY created_seq DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(std::clamp<size_t>(f.limit, 1, limits::kPageSizeMax)));
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, params));
  std::vector<CaseRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromRow(r));
  return out;
}

Result<std::optional<CaseRecord>> GetCase(store::Connection& conn, std::string_view tenant,
                                          std::string_view case_id) {
  Value params[] = {std::string(tenant), std::string(case_id)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT " + std::string(kColumns) +
                                " FROM cases WHERE tenant_id = ? AND case_id = ?",
                            params));
  if (rows.empty()) return std::optional<CaseRecord>();
  return std::optional<CaseRecord>(FromRow(rows[0]));
}

Result<std::vector<TimelineEntry>> CaseTimeline(store::Connection& conn, std::string_view tenant,
                                                std::string_view case_id, size_t limit) {
  Value params[] = {std::string(tenant), std::string(case_id),
                    static_cast<int64_t>(std::min(limit, kTimelineEntriesMax))};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT seq, at_us, kind, actor, body FROM case_timeline WHERE "
                            "tenant_id = ? AND case_id = ? ORDER BY seq LIMIT ?",
                            params));
  std::vector<TimelineEntry> out;
  for (const auto& r : rows) {
    out.push_back(TimelineEntry{r.Int(0), Instant{r.Int(1)}, r.Text(2), r.Text(3),
                                Json::parse(r.Text(4), nullptr, false)});
  }
  return out;
}

Result<std::optional<Json>> GetCaseSettings(store::Connection& conn, std::string_view tenant) {
  Value params[] = {std::string(tenant)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT body FROM case_settings WHERE tenant_id = ?", params));
  if (rows.empty()) return std::optional<Json>();
  return std::optional<Json>(Json::parse(rows[0].Text(0), nullptr, false));
}

Result<std::vector<SlaDeadline>> PendingDeadlines(store::Connection& conn, size_t limit) {
  struct Kind {
    std::string_view instant, fired, due, target, kind;
  };
  static constexpr Kind kKinds[] = {
      {"fr_at_risk_us", "fr_at_risk_fired_us", "fr_due_us", "first_response", "at_risk"},
      {"fr_due_us", "fr_breached_fired_us", "fr_due_us", "first_response", "breached"},
      {"res_at_risk_us", "res_at_risk_fired_us", "res_due_us", "resolution", "at_risk"},
      {"res_due_us", "res_breached_fired_us", "res_due_us", "resolution", "breached"}};
  std::vector<SlaDeadline> out;
  for (const Kind& k : kKinds) {
    const std::string sql = "SELECT tenant_id, case_id, " + std::string(k.instant) +
                            " FROM cases WHERE " + std::string(k.instant) + " > 0 AND " +
                            std::string(k.due) + " > 0 AND " + std::string(k.fired) +
                            " = 0 ORDER BY " + std::string(k.instant) + " LIMIT ?";
    Value params[] = {static_cast<int64_t>(limit)};
    OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, params));
    for (const auto& r : rows) {
      out.push_back(SlaDeadline{r.Text(0), r.Text(1), std::string(k.target), std::string(k.kind),
                                Instant{r.Int(2)}});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const SlaDeadline& a, const SlaDeadline& b) { return a.at < b.at; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace opsbox::cases
