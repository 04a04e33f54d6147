// Projections: each identity event updates its table in the append's transaction. Times come
// from the event (recorded_at) so a replay rebuilds the same rows. An update that should touch
// one row and touches none is an error (pair check: the decision saw that row).
#include "identity/internal/projection.hpp"

#include <nlohmann/json.hpp>
#include <vector>

#include "core/json.hpp"

namespace opsbox::identity::detail {
namespace {

using store::Value;

Status ExpectRows(Result<int64_t> changed, int64_t expected, const ledger::Event& e) {
  if (!changed.ok()) return std::move(changed).error();
  if (*changed != expected) {
    return Error::Internal("projection of " + e.type + " seq " + std::to_string(e.seq) +
                           " changed " + std::to_string(*changed) + " rows, expected " +
                           std::to_string(expected));
  }
  return Ok();
}

Status Exec(store::Tx& tx, const ledger::Event& e, std::string_view sql, std::vector<Value> params,
            int64_t expected_rows = 1) {
  return ExpectRows(tx.Exec(sql, params), expected_rows, e);
}

Result<Json> Payload(const ledger::Event& e) {
  if (e.payload_json != nullptr) return *e.payload_json;
  return ParseJson(e.payload, "payload");
}

std::string Str(const Json& p, const char* key) { return p.at(key).get<std::string>(); }
int64_t Int(const Json& p, const char* key) { return p.at(key).get<int64_t>(); }

Status TenantCreated(store::Tx& tx, const ledger::Event& e, const Json& p) {
  return Exec(tx, e,
              "INSERT INTO tenants (tenant_id, name, status, created_at_us) VALUES (?, ?, ?, ?)",
              {Str(p, "tenant_id"), Str(p, "name"), std::string("active"), e.recorded_at.us});
}

Status UserCreated(store::Tx& tx, const ledger::Event& e, const Json& p) {
  return Exec(tx, e,
              "INSERT INTO users (user_id, username, display_name, password_hash, status, "
              "failed_logins, locked_until_us, created_at_us) VALUES (?, ?, ?, ?, ?, 0, 0, ?)",
              {Str(p, "user_id"), Str(p, "username"), Str(p, "display_name"),
               Str(p, "password_hash"), std::string("active"), e.recorded_at.us});
}

Status RoleGranted(store::Tx& tx, const ledger::Event& e, const Json& p) {
  return Exec(tx, e,
              "INSERT INTO role_grants (tenant_id, user_id, role, granted_at_us, granted_by, "
              "last_used_at_us) VALUES (?, ?, ?, ?, ?, 0)",
              {e.tenant_id, Str(p, "user_id"), Str(p, "role"), e.recorded_at.us, e.actor});
}

Status RoleRevoked(store::Tx& tx, const ledger::Event& e, const Json& p) {
  return Exec(tx, e, "DELETE FROM role_grants WHERE tenant_id = ? AND user_id = ? AND role = ?",
              {e.tenant_id, Str(p, "user_id"), Str(p, "role")});
}

Status ApiKeyCreated(store::Tx& tx, const ledger::Event& e, const Json& p) {
  return Exec(tx, e,
              "INSERT INTO api_keys (key_id, tenant_id, name, roles, secret_hash, created_at_us, "
              "created_by, revoked_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
              {Str(p, "key_id"), e.tenant_id, Str(p, "name"), CanonicalJson(p.at("roles")),
               Str(p, "secret_hash"), e.recorded_at.us, e.actor});
}

Status ApiKeyRevoked(store::Tx& tx, const ledger::Event& e, const Json& p) {
  return Exec(tx, e, "UPDATE api_keys SET revoked_at_us = ? WHERE key_id = ? AND tenant_id = ?",
              {e.recorded_at.us, Str(p, "key_id"), e.tenant_id});
}

Status LoginSucceeded(store::Tx& tx, const ledger::Event& e, const Json& p) {
  const std::string user_id = Str(p, "user_id");
  OPSBOX_TRY(Exec(tx, e,
                  "INSERT INTO sessions (session_id, tenant_id, user_id, token_hash, csrf_hash, "
                  "created_at_us, expires_at_us, revoked_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                  {Str(p, "session_id"), e.tenant_id, user_id, Str(p, "token_hash"),
                   Str(p, "csrf_hash"), e.recorded_at.us, Int(p, "expires_at_us")}));
  OPSBOX_TRY(Exec(tx, e, "UPDATE users SET failed_logins = 0 WHERE user_id = ?", {user_id}));
  // Access reviews read last_used_at_us: the grants this login relied on were used now.
  auto used = tx.Exec(
      "UPDATE role_grants SET last_used_at_us = ? WHERE tenant_id = ? AND "
      "user_id = ?",
      std::vector<Value>{e.recorded_at.us, e.tenant_id, user_id});
  if (!used.ok()) return std::move(used).error();
  return Ok();
}

Status LoginFailed(store::Tx& tx, const ledger::Event& e, const Json& p) {
  const std::string user_id = Str(p, "user_id");
  if (user_id.empty()) return Ok();
  return Exec(tx, e, "UPDATE users SET failed_logins = ? WHERE user_id = ?",
              {Int(p, "failed_logins"), user_id});
}

Status AccountLocked(store::Tx& tx, const ledger::Event& e, const Json& p) {
  // The counter restarts: after the lock expires the user gets the full number of attempts.
  return Exec(tx, e, "UPDATE users SET locked_until_us = ?, failed_logins = 0 WHERE user_id = ?",
              {Int(p, "locked_until_us"), Str(p, "user_id")});
}

Status SessionRevoked(store::Tx& tx, const ledger::Event& e, const Json& p) {
  return Exec(tx, e, "UPDATE sessions SET revoked_at_us = ? WHERE session_id = ? AND tenant_id = ?",
              {e.recorded_at.us, Str(p, "session_id"), e.tenant_id});
}

using ProjectFn = Status (*)(store::Tx&, const ledger::Event&, const Json&);

ledger::Projector Wrap(ProjectFn fn) {
  return [fn](store::Tx& tx, const ledger::Event& e) -> Status {
    OPSBOX_ASSIGN_OR_RETURN(Json p, Payload(e));
    try {
      return fn(tx, e, p);
    } catch (const Json::exception& ex) {
      // Decisions wrote these payloads; a missing or mistyped field is a bug.
      return Error::Internal("malformed " + e.type + " payload: " + ex.what());
    }
  };
}

}  // namespace

void RegisterProjections(ledger::Registry& registry) {
  registry.AddProjector("tenant_created", Wrap(TenantCreated));
  registry.AddProjector("user_created", Wrap(UserCreated));
  registry.AddProjector("role_granted", Wrap(RoleGranted));
  registry.AddProjector("role_revoked", Wrap(RoleRevoked));
  registry.AddProjector("api_key_created", Wrap(ApiKeyCreated));
  registry.AddProjector("api_key_revoked", Wrap(ApiKeyRevoked));
  registry.AddProjector("login_succeeded", Wrap(LoginSucceeded));
  registry.AddProjector("login_failed", Wrap(LoginFailed));
  registry.AddProjector("account_locked", Wrap(AccountLocked));
  registry.AddProjector("session_revoked", Wrap(SessionRevoked));
}

}  // namespace opsbox::identity::detail
