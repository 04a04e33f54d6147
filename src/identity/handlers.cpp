// Command handlers: load state through the Tx, generate ids and key material from the writer's
// Random, then call the pure decide functions (decide.cpp).
#include <array>
#include <cstdint>

#include "core/ids.hpp"
#include "identity/identity.hpp"
#include "identity/internal/decide.hpp"
#include "identity/internal/load.hpp"
#include "identity/internal/projection.hpp"

namespace opsbox::identity {
namespace {

using detail::LoadTenantExists;
using ledger::Command;
using ledger::Decision;

// Every identity command except create_tenant acts inside an existing tenant.
Status RequireTenant(store::Tx& tx, const std::string& tenant_id) {
  OPSBOX_ASSIGN_OR_RETURN(bool exists, LoadTenantExists(tx, tenant_id));
  if (!exists) {
    Error e = Error::NotFound("no tenant \"" + tenant_id + "\"");
    e.field = "tenant_id";
    return e;
  }
  return Ok();
}

Result<Decision> HandleCreateTenant(store::Tx& tx, const Command& cmd) {
  OPSBOX_ASSIGN_OR_RETURN(auto req, detail::ParseCreateTenant(cmd.payload, cmd.tenant_id));
  OPSBOX_ASSIGN_OR_RETURN(bool exists, LoadTenantExists(tx, req.tenant_id));
  return detail::DecideCreateTenant(req, exists);
}

Result<Decision> HandleCreateUser(store::Tx& tx, const Command& cmd, Instant now, Random& rnd) {
  OPSBOX_TRY(RequireTenant(tx, cmd.tenant_id));
  OPSBOX_ASSIGN_OR_RETURN(auto req, detail::ParseCreateUser(cmd.payload));
  OPSBOX_ASSIGN_OR_RETURN(auto existing, detail::LoadUserByName(tx, req.username));
  return detail::DecideCreateUser(req, existing.has_value(), NewId("usr", now, rnd));
}

Result<Decision> HandleRoleChange(store::Tx& tx, const Command& cmd, bool grant) {
  OPSBOX_TRY(RequireTenant(tx, cmd.tenant_id));
  OPSBOX_ASSIGN_OR_RETURN(auto req, detail::ParseRoleChange(cmd.payload));
  OPSBOX_ASSIGN_OR_RETURN(auto user, detail::LoadUserByName(tx, req.username));
  std::vector<std::string> held;
  if (user) {
    OPSBOX_ASSIGN_OR_RETURN(held, detail::LoadRoles(tx, cmd.tenant_id, user->user_id));
  }
  if (grant) return detail::DecideGrantRole(req, user, held);
  OPSBOX_ASSIGN_OR_RETURN(int64_t admins, detail::CountRoleHolders(tx, cmd.tenant_id, "admin"));
  return detail::DecideRevokeRole(req, user, held, admins);
}

Result<Decision> HandleCreateApiKey(store::Tx& tx, const Command& cmd, Instant now, Random& rnd) {
  OPSBOX_TRY(RequireTenant(tx, cmd.tenant_id));
  OPSBOX_ASSIGN_OR_RETURN(auto req, detail::ParseCreateApiKey(cmd.payload));
  std::array<uint8_t, detail::kApiKeySecretBytes> secret{};
  const std::string key_id = NewId("key", now, rnd);
  rnd.Fill(secret);
  return detail::DecideCreateApiKey(
      req, key_id, std::string_view(reinterpret_cast<const char*>(secret.data()), secret.size()));
}

Result<Decision> HandleRevokeApiKey(store::Tx& tx, const Command& cmd) {
  OPSBOX_TRY(RequireTenant(tx, cmd.tenant_id));
  OPSBOX_ASSIGN_OR_RETURN(std::string key_id, detail::ParseRevokeApiKey(cmd.payload));
  OPSBOX_ASSIGN_OR_RETURN(auto key, detail::LoadApiKey(tx, cmd.tenant_id, key_id));
  return detail::DecideRevokeApiKey(key_id, key);
}

Result<Decision> HandleRecordLogin(store::Tx& tx, const Command& cmd, Instant now,
                                   const IdentityOptions& options) {
  OPSBOX_TRY(RequireTenant(tx, cmd.tenant_id));
  OPSBOX_ASSIGN_OR_RETURN(auto req, detail::ParseRecordLogin(cmd.payload));
  OPSBOX_ASSIGN_OR_RETURN(auto user, detail::LoadUserByName(tx, detail::AsciiLower(req.username)));
  bool has_role = false;
  if (user) {
    OPSBOX_ASSIGN_OR_RETURN(auto roles, detail::LoadRoles(tx, cmd.tenant_id, user->user_id));
    has_role = !roles.empty();
  }
  return detail::DecideRecordLogin(req, user, has_role, now, options);
}

Result<Decision> HandleLogout(store::Tx& tx, const Command& cmd) {
  OPSBOX_TRY(RequireTenant(tx, cmd.tenant_id));
  OPSBOX_ASSIGN_OR_RETURN(std::string session_id, detail::ParseLogout(cmd.payload));
  OPSBOX_ASSIGN_OR_RETURN(auto session, detail::LoadSession(tx, cmd.tenant_id, session_id));
  return detail::DecideLogout(session_id, session);
}

}  // namespace

void RegisterIdentity(ledger::Registry& registry, const IdentityOptions& options) {
  registry.AddCommand(std::string(kCreateTenant),
                      [](store::Tx& tx, const Command& cmd, Instant, Random&) {
                        return HandleCreateTenant(tx, cmd);
                      });
  registry.AddCommand(std::string(kCreateUser), HandleCreateUser);
  registry.AddCommand(std::string(kGrantRole),
                      [](store::Tx& tx, const Command& cmd, Instant, Random&) {
                        return HandleRoleChange(tx, cmd, /*grant=*/true);
                      });
  registry.AddCommand(std::string(kRevokeRole),
                      [](store::Tx& tx, const Command& cmd, Instant, Random&) {
                        return HandleRoleChange(tx, cmd, /*grant=*/false);
                      });
  registry.AddCommand(std::string(kCreateApiKey), HandleCreateApiKey);
  registry.AddCommand(std::string(kRevokeApiKey),
                      [](store::Tx& tx, const Command& cmd, Instant, Random&) {
                        return HandleRevokeApiKey(tx, cmd);
                      });
  registry.AddCommand(std::string(kRecordLogin),
                      [options](store::Tx& tx, const Command& cmd, Instant now, Random&) {
                        return HandleRecordLogin(tx, cmd, now, options);
                      });
  registry.AddCommand(std::string(kLogout), [](store::Tx& tx, const Command& cmd, Instant,
                                               Random&) { return HandleLogout(tx, cmd); });
  detail::RegisterProjections(registry);
}

}  // namespace opsbox::identity
