// Reads of identity state shared by the command handlers (through a store::Tx) and by the login
// flow and queries (through a reader store::Connection): both types offer the same Query().
// Internal to src/identity/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "identity/internal/decide.hpp"
#include "store/store.hpp"

namespace opsbox::identity::detail {

template <class Q>
Result<bool> LoadTenantExists(Q& q, std::string_view tenant_id) {
  const store::Value params[] = {std::string(tenant_id)};
  OPSBOX_ASSIGN_OR_RETURN(store::Rows rows,
                          q.Query("SELECT 1 FROM tenants WHERE tenant_id = ?", params));
  return !rows.empty();
}

inline UserState UserFromRow(const store::Row& r) {
  return UserState{r.Text(0), r.Text(1), r.Text(2), r.Int(3), Instant{r.Int(4)}};
}

template <class Q>
Result<std::optional<UserState>> LoadUserByName(Q& q, std::string_view username) {
  const store::Value params[] = {std::string(username)};
  OPSBOX_ASSIGN_OR_RETURN(
      store::Rows rows,
      q.Query("SELECT user_id, username, status, failed_logins, locked_until_us FROM users "
              "WHERE username = ?",
              params));
  if (rows.empty()) return std::optional<UserState>();
  return std::optional<UserState>(UserFromRow(rows[0]));
}

// The user's password hash (argon2id string), or "" when there is no such user.
template <class Q>
Result<std::string> LoadPasswordHash(Q& q, std::string_view user_id) {
  const store::Value params[] = {std::string(user_id)};
  OPSBOX_ASSIGN_OR_RETURN(store::Rows rows,
                          q.Query("SELECT password_hash FROM users WHERE user_id = ?", params));
  if (rows.empty()) return std::string();
  return rows[0].Text(0);
}

// The user's roles in the tenant, sorted.
template <class Q>
Result<std::vector<std::string>> LoadRoles(Q& q, std::string_view tenant_id,
                                           std::string_view user_id) {
  const store::Value params[] = {std::string(tenant_id), std::string(user_id)};
  OPSBOX_ASSIGN_OR_RETURN(store::Rows rows,
                          q.Query("SELECT role FROM role_grants WHERE tenant_id = ? AND "
                                  "user_id = ? ORDER BY role",
                                  params));
  std::vector<std::string> roles;
  roles.reserve(rows.size());
  for (const auto& r : rows) roles.push_back(r.Text(0));
  return roles;
}

template <class Q>
Result<int64_t> CountRoleHolders(Q& q, std::string_view tenant_id, std::string_view role) {
  const store::Value params[] = {std::string(tenant_id), std::string(role)};
  OPSBOX_ASSIGN_OR_RETURN(
      store::Rows rows,
      q.Query("SELECT COUNT(*) FROM role_grants WHERE tenant_id = ? AND role = ?", params));
  return rows.empty() ? 0 : rows[0].Int(0);
}

template <class Q>
Result<std::optional<ApiKeyState>> LoadApiKey(Q& q, std::string_view tenant_id,
                                              std::string_view key_id) {
  const store::Value params[] = {std::string(key_id), std::string(tenant_id)};
  OPSBOX_ASSIGN_OR_RETURN(
      store::Rows rows,
      q.Query("SELECT key_id, revoked_at_us FROM api_keys WHERE key_id = ? AND tenant_id = ?",
              params));
  if (rows.empty()) return std::optional<ApiKeyState>();
  return std::optional<ApiKeyState>(ApiKeyState{rows[0].Text(0), rows[0].Int(1) != 0});
}

template <class Q>
Result<std::optional<SessionState>> LoadSession(Q& q, std::string_view tenant_id,
                                                std::string_view session_id) {
  const store::Value params[] = {std::string(session_id), std::string(tenant_id)};
  OPSBOX_ASSIGN_OR_RETURN(store::Rows rows,
                          q.Query("SELECT session_id, user_id, revoked_at_us FROM sessions "
                                  "WHERE session_id = ? AND tenant_id = ?",
                                  params));
  if (rows.empty()) return std::optional<SessionState>();
  return std::optional<SessionState>(
      SessionState{rows[0].Text(0), rows[0].Text(1), rows[0].Int(2) != 0});
}

}  // namespace opsbox::identity::detail
