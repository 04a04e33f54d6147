#include "privacy/reports.hpp"

#include <map>
#include <nlohmann/json.hpp>

#include "identity/identity.hpp"

namespace opsbox::privacy::detail {
namespace {

std::string Str(const Json& p, const char* key) {
  auto it = p.find(key);
  return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::map<std::string, int64_t>> LastUses(store::Connection& conn, std::string_view tenant) {
  store::Value key[] = {std::string(tenant)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows,
                          conn.Query("SELECT principal_id, last_used_at_us FROM privacy_last_use "
                                     "WHERE tenant_id = ?",
                                     key));
  std::map<std::string, int64_t> out;
  for (const auto& r : rows) out[r.Text(0)] = r.Int(1);
  return out;
}

// Unused: neither used nor created within kUnusedGrantAfter before `now`.
bool Unused(int64_t last_used_us, Instant created_at, Instant now) {
  const int64_t reference = std::max(last_used_us, created_at.us);
  return now.us - reference > kUnusedGrantAfter.us;
}

Json LastUsedJson(int64_t us) { return us > 0 ? Json(FormatRfc3339(Instant{us})) : Json(nullptr); }

}  // namespace

Status ProjectUnmask(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
  std::vector<store::Value> v{e.tenant_id,
                              e.seq,
                              e.event_id,
                              e.actor,
                              Str(*p, "record_type"),
                              Str(*p, "record_id"),
                              Str(*p, "field"),
                              Str(*p, "field_class"),
                              Str(*p, "reason"),
                              e.recorded_at.us};
  OPSBOX_TRY(
      tx.Exec("INSERT INTO privacy_unmasks (tenant_id, seq, event_id, actor, record_type, "
              "record_id, field, field_class, reason, at_us) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              v));
  return Ok();
}

Status ProjectSensitiveDataException(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
  Json types = p->contains("types") && p->at("types").is_array() ? p->at("types") : Json::array();
  int64_t count = 0;
  if (auto it = p->find("count"); it != p->end() && it->is_number_integer()) {
    count = it->get<int64_t>();
  }
  std::vector<store::Value> v{e.tenant_id,
                              e.seq,
                              Str(*p, "channel"),
                              Str(*p, "conversation_id"),
                              Str(*p, "message_id"),
                              Str(*p, "sender_kind"),
                              Str(*p, "sender_id"),
                              CanonicalJson(types),
                              count,
                              e.recorded_at.us};
  OPSBOX_TRY(
      tx.Exec("INSERT INTO sensitive_data_exceptions (tenant_id, seq, channel, "
              "conversation_id, message_id, sender_kind, sender_id, types, finding_count, "
              "at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              v));
  return Ok();
}

Status ProjectErasure(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
  std::vector<store::Value> v{e.tenant_id, e.seq, Str(*p, "subject_id"), Str(*p, "request_id"),
                              e.recorded_at.us};
  OPSBOX_TRY(
      tx.Exec("INSERT INTO privacy_erasures (tenant_id, seq, subject_id, request_id, at_us) "
              "VALUES (?, ?, ?, ?, ?)",
              v));
  return Ok();
}

Status LastUseTracker::Project(store::Tx& tx, const ledger::Event& e) {
  std::string principal = e.actor;
  if (e.type == "login_succeeded") {
    Json storage;
    OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
    principal = Str(*p, "user_id");
  }
  if (!principal.starts_with("usr_") && !principal.starts_with("key_")) return Ok();
  const std::string key = e.tenant_id + "/" + principal;
  {
    std::lock_guard lock(mu_);
    auto it = written_us_.find(key);
    if (it != written_us_.end() && e.recorded_at.us - it->second < kLastUseResolution.us) {
      return Ok();
    }
    if (written_us_.size() >= kLastUseEntriesMax) written_us_.clear();
    written_us_[key] = e.recorded_at.us;
  }
  std::vector<store::Value> v{e.tenant_id, principal, e.recorded_at.us};
  OPSBOX_TRY(
      tx.Exec("INSERT INTO privacy_last_use (tenant_id, principal_id, last_used_at_us) "
              "VALUES (?, ?, ?) ON CONFLICT (tenant_id, principal_id) DO UPDATE SET "
              "last_used_at_us = excluded.last_used_at_us "
              "WHERE privacy_last_use.last_used_at_us < excluded.last_used_at_us",
              v));
  return Ok();
}

void LastUseTracker::Forget() {
  std::lock_guard lock(mu_);
  written_us_.clear();
}

Result<Json> AccessReview(store::Connection& conn, std::string_view tenant, Instant now,
                          size_t limit) {
  OPSBOX_ASSIGN_OR_RETURN(auto users, identity::ListUsers(conn, tenant, limit));
  OPSBOX_ASSIGN_OR_RETURN(auto keys, identity::ListApiKeys(conn, tenant, limit));
  OPSBOX_ASSIGN_OR_RETURN(auto last, LastUses(conn, tenant));
  Json out{{"generated_at", FormatRfc3339(now)},
           {"unused_after_days", kUnusedGrantAfter.us / Duration::Hours(24).us},
           {"users", Json::array()},
           {"api_keys", Json::array()},
           {"unused_grants", Json::array()}};
  for (const auto& u : users) {
    const int64_t used = last.count(u.user_id) ? last[u.user_id] : 0;
    const bool unused = Unused(used, u.created_at, now);
    out["users"].push_back(Json{{"user_id", u.user_id},
                                {"username", u.username},
                                {"display_name", u.display_name},
                                {"status", u.status},
                                {"roles", u.roles},
                                {"last_used_at", LastUsedJson(used)},
                                {"unused", unused}});
    if (!unused) continue;
    for (const auto& role : u.roles) {
      out["unused_grants"].push_back(
          Json{{"principal_id", u.user_id}, {"kind", "user"}, {"role", role}});
    }
  }
  for (const auto& k : keys) {
    const int64_t used = last.count(k.key_id) ? last[k.key_id] : 0;
    const bool unused = !k.revoked && Unused(used, k.created_at, now);
    out["api_keys"].push_back(Json{{"key_id", k.key_id},
                                   {"name", k.name},
                                   {"roles", k.roles},
                                   {"created_at", FormatRfc3339(k.created_at)},
                                   {"revoked", k.revoked},
                                   {"last_used_at", LastUsedJson(used)},
                                   {"unused", unused}});
    if (!unused) continue;
    for (const auto& role : k.roles) {
      out["unused_grants"].push_back(
          Json{{"principal_id", k.key_id}, {"kind", "api_key"}, {"role", role}});
    }
  }
  return out;
}

Result<Json> UnmaskReport(store::Connection& conn, std::string_view tenant, int64_t before_seq,
                          size_t limit) {
  store::Value key[] = {std::string(tenant), before_seq > 0 ? before_seq : INT64_MAX,
                        static_cast<int64_t>(limit)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT seq, actor, record_type, record_id, field, field_class, "
                            "reason, at_us FROM privacy_unmasks WHERE tenant_id = ? AND seq < ? "
                            "ORDER BY seq DESC LIMIT ?",
                            key));
  Json out = Json::array();
  for (const auto& r : rows) {
    out.push_back(Json{{"seq", r.Int(0)},
                       {"actor", r.Text(1)},
                       {"record_type", r.Text(2)},
                       {"record_id", r.Text(3)},
                       {"field", r.Text(4)},
                       {"field_class", r.Text(5)},
                       {"reason", r.Text(6)},
                       {"at", FormatRfc3339(Instant{r.Int(7)})}});
  }
  return Json{{"unmasks", std::move(out)}};
}

Result<Json> SensitiveDataExceptionReport(store::Connection& conn, std::string_view tenant,
                                          Instant from, Instant to, size_t limit) {
  store::Value key[] = {std::string(tenant), from.us, to.us};
  Json out{{"from", FormatRfc3339(from)}, {"to", FormatRfc3339(to)}};
  OPSBOX_ASSIGN_OR_RETURN(
      auto by_channel,
      conn.Query("SELECT channel, COUNT(*), CAST(SUM(finding_count) AS BIGINT) FROM "
                 "sensitive_data_exceptions "
                 "WHERE tenant_id = ? AND at_us >= ? AND at_us < ? GROUP BY channel "
                 "ORDER BY channel",
                 key));
  int64_t total = 0, findings = 0;
  out["by_channel"] = Json::array();
  for (const auto& r : by_channel) {
    total += r.Int(1);
    findings += r.Int(2);
    out["by_channel"].push_back(
        Json{{"channel", r.Text(0)}, {"count", r.Int(1)}, {"findings", r.Int(2)}});
  }
  out["total"] = total;
  out["findings"] = findings;
  OPSBOX_ASSIGN_OR_RETURN(
      auto by_agent,
      conn.Query("SELECT sender_id, COUNT(*), CAST(SUM(finding_count) AS BIGINT) FROM "
                 "sensitive_data_exceptions "
                 "WHERE tenant_id = ? AND at_us >= ? AND at_us < ? AND sender_kind = 'agent' "
                 "GROUP BY sender_id ORDER BY sender_id",
                 key));
  out["by_agent"] = Json::array();
  for (const auto& r : by_agent) {
    out["by_agent"].push_back(
        Json{{"sender_id", r.Text(0)}, {"count", r.Int(1)}, {"findings", r.Int(2)}});
  }
  store::Value recent_key[] = {std::string(tenant), from.us, to.us, static_cast<int64_t>(limit)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto recent,
      conn.Query("SELECT seq, channel, conversation_id, message_id, sender_kind, sender_id, "
                 "types, finding_count, at_us FROM sensitive_data_exceptions WHERE tenant_id = ? "
                 "AND at_us >= ? AND at_us < ? ORDER BY seq DESC LIMIT ?",
                 recent_key));
  out["recent"] = Json::array();
  Json by_type = Json::object();
  for (const auto& r : recent) {
    Json types = Json::parse(r.Text(6), nullptr, false);
    if (types.is_array()) {
      for (const auto& t : types) {
        if (t.is_string())
          by_type[t.get<std::string>()] = by_type.value(t.get<std::string>(), 0) + 1;
      }
    }
    out["recent"].push_back(Json{{"seq", r.Int(0)},
                                 {"channel", r.Text(1)},
                                 {"conversation_id", r.Text(2)},
                                 {"message_id", r.Text(3)},
                                 {"sender_kind", r.Text(4)},
                                 {"sender_id", r.Text(5)},
                                 {"types", types},
                                 {"count", r.Int(7)},
                                 {"at", FormatRfc3339(Instant{r.Int(8)})}});
  }
  out["by_type_recent"] = std::move(by_type);
  return out;
}

Result<Json> ErasureReport(store::Connection& conn, std::string_view tenant, size_t limit) {
  store::Value key[] = {std::string(tenant), static_cast<int64_t>(limit)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows,
                          conn.Query("SELECT seq, subject_id, request_id, at_us FROM "
                                     "privacy_erasures WHERE tenant_id = ? ORDER BY seq DESC "
                                     "LIMIT ?",
                                     key));
  Json out = Json::array();
  for (const auto& r : rows) {
    out.push_back(Json{{"seq", r.Int(0)},
                       {"subject_id", r.Text(1)},
                       {"request_id", r.Text(2)},
                       {"at", FormatRfc3339(Instant{r.Int(3)})}});
  }
  return Json{{"erasures", std::move(out)}};
}

Result<Json> BreakGlassGrants(store::Connection& conn, std::string_view tenant, Instant now,
                              bool include_reviewed, size_t limit) {
  store::Value key[] = {std::string(tenant), int64_t{include_reviewed ? 1 : 0},
                        static_cast<int64_t>(limit)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows,
      conn.Query("SELECT grant_id, grantee, reason, duration_min, started_at_us, expires_at_us, "
                 "reviewed_by, outcome, notes, reviewed_at_us FROM privacy_break_glass "
                 "WHERE tenant_id = ? AND (outcome = '' OR ? = 1) "
                 "ORDER BY started_at_us DESC, grant_id DESC LIMIT ?",
                 key));
  Json out = Json::array();
  for (const auto& r : rows) {
    const bool reviewed = !r.Text(7).empty();
    Json g{{"grant_id", r.Text(0)},
           {"grantee", r.Text(1)},
           {"reason", r.Text(2)},
           {"duration_min", r.Int(3)},
           {"started_at", FormatRfc3339(Instant{r.Int(4)})},
           {"expires_at", FormatRfc3339(Instant{r.Int(5)})},
           {"status", r.Int(5) > now.us ? "active" : "expired"},
           {"reviewed", reviewed}};
    if (reviewed) {
      g["reviewed_by"] = r.Text(6);
      g["outcome"] = r.Text(7);
      g["notes"] = r.Text(8);
      g["reviewed_at"] = FormatRfc3339(Instant{r.Int(9)});
    }
    out.push_back(std::move(g));
  }
  return Json{{"grants", std::move(out)}};
}

}  // namespace opsbox::privacy::detail
