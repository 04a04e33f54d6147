// Pure decision logic of the identity commands: payload parsing/validation (Parse*) and
// (state, request, now) -> events (Decide*). No I/O, no clock, no randomness: the handlers load
// state through the Tx and pass generated ids and key material in. Internal to src/identity/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "identity/identity.hpp"
#include "ledger/registry.hpp"

namespace opsbox::identity::detail {

inline constexpr size_t kTenantIdBytesMin = 2;
inline constexpr size_t kTenantIdBytesMaxPattern = 63;  // ^[a-z0-9][a-z0-9-]{1,62}$
inline constexpr size_t kUsernameBytesMin = 3;
inline constexpr size_t kRemoteAddressBytesMax = 128;
inline constexpr size_t kApiKeySecretBytes = 32;
inline constexpr size_t kSessionTokenBytes = 32;
inline constexpr int64_t kSessionTtlSecondsMax = 30 * 24 * 3600;
inline constexpr std::string_view kPasswordHashPrefix = "$argon2id$";
inline constexpr size_t kPasswordHashBytesMax = 512;

// ----- validation (field + rule) -----
Status ValidateTenantId(std::string_view tenant_id, std::string_view field = "tenant_id");
Status ValidateUsername(std::string_view username, std::string_view field = "username");
// Text shown to people: no control characters.
Status ValidateDisplayText(std::string_view text, std::string_view field);
// A JSON array of 1..limits::kRolesPerGrantMax distinct known roles.
Result<std::vector<std::string>> ParseRoles(const Json& payload, std::string_view field = "roles");
// Lower-cases ASCII letters (usernames are compared lower-case).
std::string AsciiLower(std::string_view s);
constexpr char AsciiLowerChar(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// ----- state the handlers load -----
struct UserState {
  std::string user_id;
  std::string username;
  std::string status;  // "active"
  int64_t failed_logins = 0;
  Instant locked_until;
};

struct ApiKeyState {
  std::string key_id;
  bool revoked = false;
};

struct SessionState {
  std::string session_id;
  std::string user_id;
  bool revoked = false;
};

// ----- create_tenant -----
struct CreateTenantRequest {
  std::string tenant_id;
  std::string name;
};
Result<CreateTenantRequest> ParseCreateTenant(const Json& payload,
                                              std::string_view command_tenant_id);
Result<ledger::Decision> DecideCreateTenant(const CreateTenantRequest& req, bool tenant_exists);

// ----- create_user -----
struct CreateUserRequest {
  std::string username;
  std::string display_name;
  std::string password_hash;
  std::vector<std::string> roles;
};
Result<CreateUserRequest> ParseCreateUser(const Json& payload);
// `new_user_id` is a fresh "usr_…" id.
Result<ledger::Decision> DecideCreateUser(const CreateUserRequest& req, bool username_taken,
                                          std::string_view new_user_id);

// ----- grant_role / revoke_role -----
struct RoleChangeRequest {
  std::string username;
  std::string role;
};
Result<RoleChangeRequest> ParseRoleChange(const Json& payload);
// `held_roles`: the user's roles in the command's tenant.
Result<ledger::Decision> DecideGrantRole(const RoleChangeRequest& req,
                                         const std::optional<UserState>& user,
                                         const std::vector<std::string>& held_roles);
// `admins_in_tenant`: how many users hold "admin" in the tenant.
Result<ledger::Decision> DecideRevokeRole(const RoleChangeRequest& req,
                                          const std::optional<UserState>& user,
                                          const std::vector<std::string>& held_roles,
                                          int64_t admins_in_tenant);

// ----- create_api_key / revoke_api_key -----
struct CreateApiKeyRequest {
  std::string name;
  std::vector<std::string> roles;
};
Result<CreateApiKeyRequest> ParseCreateApiKey(const Json& payload);
// `new_key_id` a fresh "key_…" id; `secret_bytes` kApiKeySecretBytes random bytes. The
// plaintext key goes only into Decision::once.
Result<ledger::Decision> DecideCreateApiKey(const CreateApiKeyRequest& req,
                                            std::string_view new_key_id,
                                            std::string_view secret_bytes);
Result<std::string> ParseRevokeApiKey(const Json& payload);
// `key`: the key when it belongs to the command's tenant.
Result<ledger::Decision> DecideRevokeApiKey(std::string_view key_id,
                                            const std::optional<ApiKeyState>& key);

// ----- record_login -----
struct RecordLoginRequest {
  std::string username;
  bool succeeded = false;
  std::string remote_address;
  std::string reason;  // when !succeeded
  // when succeeded:
  std::string session_id;
  std::string token_hash;
  std::string csrf_hash;
  int64_t expires_at_us = 0;
};
Result<RecordLoginRequest> ParseRecordLogin(const Json& payload);
Json RecordLoginPayload(const RecordLoginRequest& req);
// `has_role`: the user holds a role in the command's tenant.
Result<ledger::Decision> DecideRecordLogin(const RecordLoginRequest& req,
                                           const std::optional<UserState>& user, bool has_role,
                                           Instant now, const IdentityOptions& options);

// ----- logout -----
Result<std::string> ParseLogout(const Json& payload);
// `session`: the session when it belongs to the command's tenant.
Result<ledger::Decision> DecideLogout(std::string_view session_id,
                                      const std::optional<SessionState>& session);

// The hex SHA-256 that api_keys.secret_hash and sessions.token_hash/csrf_hash store.
std::string TokenHash(std::string_view token);

}  // namespace opsbox::identity::detail
