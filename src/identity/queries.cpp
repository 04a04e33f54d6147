// Read queries for the API, on reader connections.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "core/limits.hpp"
#include "identity/identity.hpp"
#include "identity/internal/load.hpp"

namespace opsbox::identity {
namespace {

int64_t PageSize(size_t limit) {
  if (limit == 0) limit = limits::kPageSizeDefault;
  return static_cast<int64_t>(std::min(limit, limits::kPageSizeMax));
}

std::vector<std::string> RolesFromJson(const std::string& text) {
  std::vector<std::string> roles;
  auto j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return roles;
  for (const auto& r : j) {
    if (r.is_string()) roles.push_back(r.get<std::string>());
  }
  return roles;
}

}  // namespace

Result<bool> TenantExists(store::Connection& conn, std::string_view tenant_id) {
  return detail::LoadTenantExists(conn, tenant_id);
}

Result<TenantView> GetTenant(store::Connection& conn, std::string_view tenant_id) {
  const store::Value params[] = {std::string(tenant_id)};
  OPSBOX_ASSIGN_OR_RETURN(
      store::Rows rows,
      conn.Query("SELECT tenant_id, name, status, created_at_us FROM tenants WHERE tenant_id = ?",
                 params));
  if (rows.empty()) return Error::NotFound("no tenant \"" + std::string(tenant_id) + "\"");
  const store::Row& r = rows[0];
  return TenantView{r.Text(0), r.Text(1), r.Text(2), Instant{r.Int(3)}};
}

Result<std::vector<UserView>> ListUsers(store::Connection& conn, std::string_view tenant_id,
                                        size_t limit, std::string_view after_username) {
  // One page of users holding a role in the tenant, then their roles in one more query.
  const store::Value params[] = {std::string(tenant_id), std::string(after_username),
                                 PageSize(limit)};
  OPSBOX_ASSIGN_OR_RETURN(
      store::Rows rows,
      conn.Query("SELECT u.user_id, u.username, u.display_name, u.status, u.locked_until_us, "
                 "u.created_at_us FROM users u WHERE u.user_id IN (SELECT g.user_id FROM "
                 "role_grants g WHERE g.tenant_id = ?) AND u.username > ? ORDER BY u.username "
                 "LIMIT ?",
                 params));
  std::vector<UserView> users;
  std::map<std::string, size_t> index;
  for (const auto& r : rows) {
    index.emplace(r.Text(0), users.size());
    users.push_back(UserView{
        r.Text(0), r.Text(1), r.Text(2), r.Text(3), {}, Instant{r.Int(4)}, Instant{r.Int(5)}});
  }
  if (users.empty()) return users;
  const store::Value grant_params[] = {std::string(tenant_id), users.front().username,
                                       users.back().username};
  OPSBOX_ASSIGN_OR_RETURN(
      store::Rows grants,
      conn.Query("SELECT g.user_id, g.role FROM role_grants g JOIN users u ON u.user_id = "
                 "g.user_id WHERE g.tenant_id = ? AND u.username >= ? AND u.username <= ? "
                 "ORDER BY g.role",
                 grant_params));
  for (const auto& g : grants) {
    auto it = index.find(g.Text(0));
    if (it != index.end()) users[it->second].roles.push_back(g.Text(1));
  }
  return users;
}

Result<std::vector<ApiKeyView>> ListApiKeys(store::Connection& conn, std::string_view tenant_id,
                                            size_t limit, std::string_view after_key_id) {
  const store::Value params[] = {std::string(tenant_id), std::string(after_key_id),
                                 PageSize(limit)};
  OPSBOX_ASSIGN_OR_RETURN(
      store::Rows rows,
      conn.Query("SELECT key_id, name, roles, created_at_us, created_by, revoked_at_us FROM "
                 "api_keys WHERE tenant_id = ? AND key_id > ? ORDER BY key_id LIMIT ?",
                 params));
  std::vector<ApiKeyView> keys;
  keys.reserve(rows.size());
  for (const auto& r : rows) {
    keys.push_back(ApiKeyView{r.Text(0), r.Text(1), RolesFromJson(r.Text(2)), Instant{r.Int(3)},
                              r.Text(4), r.Int(5) != 0, Instant{r.Int(5)}});
  }
  return keys;
}

Json ToJson(const TenantView& v) {
  return {{"tenant_id", v.tenant_id},
          {"name", v.name},
          {"status", v.status},
          {"created_at", FormatRfc3339(v.created_at)}};
}

Json ToJson(const UserView& v) {
  Json j = {{"user_id", v.user_id},
            {"username", v.username},
            {"display_name", v.display_name},
            {"status", v.status},
            {"roles", v.roles},
            {"created_at", FormatRfc3339(v.created_at)},
            {"locked_until", nullptr}};
  if (v.locked_until.us != 0) j["locked_until"] = FormatRfc3339(v.locked_until);
  return j;
}

Json ToJson(const ApiKeyView& v) {
  Json j = {{"key_id", v.key_id},         {"name", v.name},
            {"roles", v.roles},           {"created_at", FormatRfc3339(v.created_at)},
            {"created_by", v.created_by}, {"revoked", v.revoked},
            {"revoked_at", nullptr}};
  if (v.revoked) j["revoked_at"] = FormatRfc3339(v.revoked_at);
  return j;
}

}  // namespace opsbox::identity
