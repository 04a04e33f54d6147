// Pure decision logic of the identity commands (see internal/decide.hpp).
#include "identity/internal/decide.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/assert.hpp"
#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/limits.hpp"

namespace opsbox::identity::detail {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

ledger::NewEvent Event(std::string type, Json payload) {
  return ledger::NewEvent{std::move(type), std::move(payload)};
}

// An event carrying credential hashes: the writer seals `secret_fields` (decision 0010).
ledger::NewEvent SecretEvent(std::string type, Json payload,
                             std::vector<std::string> secret_fields) {
  ledger::NewEvent e{std::move(type), std::move(payload)};
  e.secret_fields = std::move(secret_fields);
  return e;
}

Error UserNotFound(std::string_view username) {
  Error e = Error::NotFound("no user \"" + std::string(username) + "\"");
  e.field = "username";
  return e;
}

const std::set<std::string_view>& FailureReasons() {
  static const std::set<std::string_view> kReasons = {"unknown_user", "bad_password", "locked",
                                                      "no_role", "disabled"};
  return kReasons;
}

Result<bool> RequireBool(const Json& payload, std::string_view key) {
  auto it = payload.find(key);
  if (it == payload.end() || it->is_null()) {
    return Error::Invalid(std::string(key), "required", std::string(key) + " is required");
  }
  if (!it->is_boolean()) {
    return Error::Invalid(std::string(key), "type", std::string(key) + " must be a boolean");
  }
  return it->get<bool>();
}

}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLowerChar(c);
  return out;
}

std::string TokenHash(std::string_view token) { return HexEncode(Sha256(token)); }

Status ValidateTenantId(std::string_view id, std::string_view field) {
  const bool ok =
      id.size() >= kTenantIdBytesMin && id.size() <= kTenantIdBytesMaxPattern &&
      IsLowerAlnum(id[0]) &&
      std::all_of(id.begin(), id.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
  if (!ok) {
    return Error::Invalid(
        std::string(field), "format",
        std::string(field) + " must match ^[a-z0-9][a-z0-9-]{1,62}$ (2 to 63 characters)");
  }
  return Ok();
}

Status ValidateUsername(std::string_view name, std::string_view field) {
  const bool ok = name.size() >= kUsernameBytesMin && name.size() <= limits::kUsernameBytesMax &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return IsLowerAlnum(c) || c == '.' || c == '_' || c == '@' || c == '-';
                  });
  if (!ok) {
    return Error::Invalid(std::string(field), "format",
                          std::string(field) + " must match ^[a-z0-9._@-]{3,128}$ (lower case)");
  }
  return Ok();
}

Status ValidateDisplayText(std::string_view text, std::string_view field) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return Error::Invalid(std::string(field), "control_chars",
                            std::string(field) + " must not contain control characters");
    }
  }
  return Ok();
}

Result<std::vector<std::string>> ParseRoles(const Json& payload, std::string_view field) {
  const std::string f(field);
  auto it = payload.find(field);
  if (it == payload.end() || it->is_null())
    return Error::Invalid(f, "required", f + " is required");
  if (!it->is_array()) return Error::Invalid(f, "type", f + " must be an array of role names");
  if (it->empty()) return Error::Invalid(f, "required", f + " must name at least one role");
  if (it->size() > limits::kRolesPerGrantMax) {
    return Error::Invalid(f, "max_items",
                          f + " holds more than " + std::to_string(limits::kRolesPerGrantMax));
  }
  std::vector<std::string> roles;
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& r = (*it)[i];
    const std::string item = f + "." + std::to_string(i);
    if (!r.is_string()) return Error::Invalid(item, "type", item + " must be a string");
    const auto& role = r.get_ref<const std::string&>();
    if (!IsRole(role)) return Error::Invalid(item, "unknown_role", "unknown role \"" + role + "\"");
    if (std::find(roles.begin(), roles.end(), role) != roles.end()) {
      return Error::Invalid(item, "duplicate", "role \"" + role + "\" listed twice");
    }
    roles.push_back(role);
  }
  return roles;
}

// ----- create_tenant -----

Result<CreateTenantRequest> ParseCreateTenant(const Json& payload,
                                              std::string_view command_tenant_id) {
  OPSBOX_TRY(CheckObjectKeys(payload, {"tenant_id", "name"}));
  CreateTenantRequest req;
  OPSBOX_ASSIGN_OR_RETURN(req.tenant_id,
                          RequireString(payload, "tenant_id", limits::kTenantIdBytesMax));
  OPSBOX_TRY(ValidateTenantId(req.tenant_id));
  if (req.tenant_id != command_tenant_id) {
    return Error::Invalid("tenant_id", "mismatch",
                          "tenant_id must equal the tenant the command is issued in");
  }
  OPSBOX_ASSIGN_OR_RETURN(req.name, RequireString(payload, "name", limits::kNameBytesMax));
  OPSBOX_TRY(ValidateDisplayText(req.name, "name"));
  return req;
}

Result<ledger::Decision> DecideCreateTenant(const CreateTenantRequest& req, bool tenant_exists) {
  if (tenant_exists) {
    return Error::Conflict("exists", "tenant \"" + req.tenant_id + "\" already exists");
  }
  ledger::Decision d;
  d.events.push_back(Event("tenant_created", {{"tenant_id", req.tenant_id}, {"name", req.name}}));
  d.result = {{"tenant_id", req.tenant_id}};
  return d;
}

// ----- create_user -----

Result<CreateUserRequest> ParseCreateUser(const Json& payload) {
  OPSBOX_TRY(CheckObjectKeys(payload, {"username", "display_name", "password_hash", "roles"}));
  CreateUserRequest req;
  OPSBOX_ASSIGN_OR_RETURN(req.username,
                          RequireString(payload, "username", limits::kUsernameBytesMax));
  OPSBOX_TRY(ValidateUsername(req.username));
  OPSBOX_ASSIGN_OR_RETURN(req.display_name,
                          RequireString(payload, "display_name", limits::kNameBytesMax));
  OPSBOX_TRY(ValidateDisplayText(req.display_name, "display_name"));
  OPSBOX_ASSIGN_OR_RETURN(req.password_hash,
                          RequireString(payload, "password_hash", kPasswordHashBytesMax));
  // A plaintext password must never reach an event: accept only an argon2id hash string.
  if (!req.password_hash.starts_with(kPasswordHashPrefix)) {
    return Error::Invalid("password_hash", "format",
                          "password_hash must be an argon2id hash (see PrepareCreateUser)");
  }
  OPSBOX_ASSIGN_OR_RETURN(req.roles, ParseRoles(payload));
  return req;
}

Result<ledger::Decision> DecideCreateUser(const CreateUserRequest& req, bool username_taken,
                                          std::string_view new_user_id) {
  OPSBOX_ASSERT(IsId(new_user_id, "usr"));
  if (username_taken) {
    Error e = Error::Conflict("exists", "username \"" + req.username + "\" is taken");
    e.field = "username";
    return e;
  }
  ledger::Decision d;
  d.events.push_back(SecretEvent("user_created",
                                 {{"user_id", new_user_id},
                                  {"username", req.username},
                                  {"display_name", req.display_name},
                                  {"password_hash", req.password_hash}},
                                 {"password_hash"}));
  for (const auto& role : req.roles) {
    d.events.push_back(Event("role_granted", {{"user_id", new_user_id}, {"role", role}}));
  }
  d.result = {{"user_id", new_user_id}, {"username", req.username}, {"roles", req.roles}};
  return d;
}

// ----- grant_role / revoke_role -----

Result<RoleChangeRequest> ParseRoleChange(const Json& payload) {
  OPSBOX_TRY(CheckObjectKeys(payload, {"username", "role"}));
  RoleChangeRequest req;
  OPSBOX_ASSIGN_OR_RETURN(req.username,
                          RequireString(payload, "username", limits::kUsernameBytesMax));
  req.username = AsciiLower(req.username);
  OPSBOX_TRY(ValidateUsername(req.username));
  OPSBOX_ASSIGN_OR_RETURN(req.role, RequireString(payload, "role", limits::kNameBytesMax));
  if (!IsRole(req.role)) {
    return Error::Invalid("role", "unknown_role", "unknown role \"" + req.role + "\"");
  }
  return req;
}

Result<ledger::Decision> DecideGrantRole(const RoleChangeRequest& req,
                                         const std::optional<UserState>& user,
                                         const std::vector<std::string>& held_roles) {
  if (!user) return UserNotFound(req.username);
  if (std::find(held_roles.begin(), held_roles.end(), req.role) != held_roles.end()) {
    Error e = Error::Conflict("role_held", req.username + " already holds " + req.role);
    e.field = "role";
    return e;
  }
  if (held_roles.size() >= limits::kRolesPerGrantMax) {
    Error e = Error::Conflict("max_items", req.username + " already holds " +
                                               std::to_string(limits::kRolesPerGrantMax) +
                                               " roles in this tenant");
    e.field = "role";
    return e;
  }
  ledger::Decision d;
  d.events.push_back(Event("role_granted", {{"user_id", user->user_id}, {"role", req.role}}));
  d.result = {{"user_id", user->user_id}, {"role", req.role}};
  return d;
}

Result<ledger::Decision> DecideRevokeRole(const RoleChangeRequest& req,
                                          const std::optional<UserState>& user,
                                          const std::vector<std::string>& held_roles,
                                          int64_t admins_in_tenant) {
  if (!user) return UserNotFound(req.username);
  if (std::find(held_roles.begin(), held_roles.end(), req.role) == held_roles.end()) {
    Error e = Error::Conflict("role_not_held", req.username + " does not hold " + req.role);
    e.field = "role";
    return e;
  }
  if (req.role == "admin" && admins_in_tenant <= 1) {
    Error e = Error::Conflict("last_admin", "the tenant's last admin cannot lose the role");
    e.field = "role";
    return e;
  }
  ledger::Decision d;
  d.events.push_back(Event("role_revoked", {{"user_id", user->user_id}, {"role", req.role}}));
  d.result = {{"user_id", user->user_id}, {"role", req.role}};
  return d;
}

// ----- create_api_key / revoke_api_key -----

Result<CreateApiKeyRequest> ParseCreateApiKey(const Json& payload) {
  OPSBOX_TRY(CheckObjectKeys(payload, {"name", "roles"}));
  CreateApiKeyRequest req;
  OPSBOX_ASSIGN_OR_RETURN(req.name, RequireString(payload, "name", limits::kNameBytesMax));
  OPSBOX_TRY(ValidateDisplayText(req.name, "name"));
  OPSBOX_ASSIGN_OR_RETURN(req.roles, ParseRoles(payload));
  return req;
}

Result<ledger::Decision> DecideCreateApiKey(const CreateApiKeyRequest& req,
                                            std::string_view new_key_id,
                                            std::string_view secret_bytes) {
  OPSBOX_ASSERT(IsId(new_key_id, "key"));
  OPSBOX_ASSERT(secret_bytes.size() == kApiKeySecretBytes);
  const std::string secret = Base64UrlEncode(secret_bytes);
  ledger::Decision d;
  d.events.push_back(SecretEvent("api_key_created",
                                 {{"key_id", new_key_id},
                                  {"name", req.name},
                                  {"roles", req.roles},
                                  {"secret_hash", TokenHash(secret)}},
                                 {"secret_hash"}));
  d.result = {{"key_id", new_key_id}, {"name", req.name}, {"roles", req.roles}};
  d.once = {{"key", "obx_" + std::string(new_key_id) + "_" + secret}};
  return d;
}

Result<std::string> ParseRevokeApiKey(const Json& payload) {
  OPSBOX_TRY(CheckObjectKeys(payload, {"key_id"}));
  OPSBOX_ASSIGN_OR_RETURN(std::string key_id, RequireString(payload, "key_id", 64));
  if (!IsId(key_id, "key")) {
    return Error::Invalid("key_id", "format", "key_id must be a \"key_…\" id");
  }
  return key_id;
}

Result<ledger::Decision> DecideRevokeApiKey(std::string_view key_id,
                                            const std::optional<ApiKeyState>& key) {
  if (!key) return Error::NotFound("no API key \"" + std::string(key_id) + "\" in this tenant");
  if (key->revoked) {
    return Error::Conflict("already_revoked", "API key " + std::string(key_id) + " is revoked");
  }
  ledger::Decision d;
  d.events.push_back(Event("api_key_revoked", {{"key_id", key_id}}));
  d.result = {{"key_id", key_id}};
  return d;
}

// ----- logout -----

Result<std::string> ParseLogout(const Json& payload) {
  OPSBOX_TRY(CheckObjectKeys(payload, {"session_id"}));
  OPSBOX_ASSIGN_OR_RETURN(std::string session_id, RequireString(payload, "session_id", 64));
  if (!IsId(session_id, "ses")) {
    return Error::Invalid("session_id", "format", "session_id must be a \"ses_…\" id");
  }
  return session_id;
}

Result<ledger::Decision> DecideLogout(std::string_view session_id,
                                      const std::optional<SessionState>& session) {
  if (!session) return Error::NotFound("no session \"" + std::string(session_id) + "\"");
  ledger::Decision d;
  d.result = {{"session_id", session_id}, {"revoked", true}};
  if (session->revoked) return d;  // already logged out: nothing to record
  d.events.push_back(
      Event("session_revoked", {{"session_id", session_id}, {"user_id", session->user_id}}));
  return d;
}

// ----- record_login -----

Result<RecordLoginRequest> ParseRecordLogin(const Json& payload) {
  OPSBOX_TRY(CheckObjectKeys(payload, {"username", "succeeded", "remote_address", "reason",
                                       "session_id", "token_hash", "csrf_hash", "expires_at_us"}));
  RecordLoginRequest req;
  // Whatever was typed is recorded (bounded), even when it is not a valid username.
  OPSBOX_ASSIGN_OR_RETURN(req.username,
                          RequireString(payload, "username", limits::kUsernameBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(req.succeeded, RequireBool(payload, "succeeded"));
  OPSBOX_ASSIGN_OR_RETURN(req.remote_address,
                          RequireString(payload, "remote_address", kRemoteAddressBytesMax));
  if (!req.succeeded) {
    OPSBOX_ASSIGN_OR_RETURN(req.reason, RequireString(payload, "reason", 32));
    if (!FailureReasons().contains(req.reason)) {
      return Error::Invalid("reason", "enum", "unknown login failure reason");
    }
    for (auto key : {"session_id", "token_hash", "csrf_hash", "expires_at_us"}) {
      if (payload.contains(key)) {
        return Error::Invalid(key, "forbidden", std::string(key) + " only with succeeded");
      }
    }
    return req;
  }
  if (payload.contains("reason")) {
    return Error::Invalid("reason", "forbidden", "reason only when the login failed");
  }
  OPSBOX_ASSIGN_OR_RETURN(req.session_id, RequireString(payload, "session_id", 64));
  if (!IsId(req.session_id, "ses")) {
    return Error::Invalid("session_id", "format", "session_id must be a \"ses_…\" id");
  }
  OPSBOX_ASSIGN_OR_RETURN(req.token_hash, RequireString(payload, "token_hash", 64));
  OPSBOX_ASSIGN_OR_RETURN(req.csrf_hash, RequireString(payload, "csrf_hash", 64));
  if (!IsHex64(req.token_hash) || !IsHex64(req.csrf_hash) || req.token_hash == req.csrf_hash) {
    return Error::Invalid(IsHex64(req.token_hash) ? "csrf_hash" : "token_hash", "format",
                          "token_hash and csrf_hash are distinct lower-case hex SHA-256 values");
  }
  auto exp = payload.find("expires_at_us");
  if (exp == payload.end() || !exp->is_number_integer()) {
    return Error::Invalid("expires_at_us", "required", "expires_at_us must be an integer");
  }
  req.expires_at_us = exp->get<int64_t>();
  return req;
}

Json RecordLoginPayload(const RecordLoginRequest& req) {
  Json p = {{"username", req.username},
            {"succeeded", req.succeeded},
            {"remote_address", req.remote_address}};
  if (!req.succeeded) {
    p["reason"] = req.reason;
    return p;
  }
  p["session_id"] = req.session_id;
  p["token_hash"] = req.token_hash;
  p["csrf_hash"] = req.csrf_hash;
  p["expires_at_us"] = req.expires_at_us;
  return p;
}

namespace {

ledger::Decision LoginFailed(const RecordLoginRequest& req, const std::string& user_id,
                             std::string_view reason, int64_t failed_logins) {
  ledger::Decision d;
  d.events.push_back(Event("login_failed", {{"username", req.username},
                                            {"user_id", user_id},
                                            {"remote_address", req.remote_address},
                                            {"reason", reason},
                                            {"failed_logins", failed_logins}}));
  d.result = {{"succeeded", false}, {"user_id", user_id}, {"reason", reason}};
  return d;
}

}  // namespace

Result<ledger::Decision> DecideRecordLogin(const RecordLoginRequest& req,
                                           const std::optional<UserState>& user, bool has_role,
                                           Instant now, const IdentityOptions& options) {
  if (!user) return LoginFailed(req, "", "unknown_user", 0);
  // The state at commit time wins over what the caller saw when it checked the password.
  if (user->locked_until > now) {
    return LoginFailed(req, user->user_id, "locked", user->failed_logins);
  }
  if (user->status != "active") {
    return LoginFailed(req, user->user_id, "disabled", user->failed_logins);
  }
  if (!req.succeeded) {
    if (req.reason != "bad_password") {
      return LoginFailed(req, user->user_id, req.reason, user->failed_logins);
    }
    const int64_t failures = user->failed_logins + 1;
    ledger::Decision d = LoginFailed(req, user->user_id, "bad_password", failures);
    if (failures >= options.login_failures_max) {
      const Instant until = now + Duration::Seconds(options.lockout_s);
      d.events.push_back(
          Event("account_locked", {{"user_id", user->user_id}, {"locked_until_us", until.us}}));
      d.result["locked_until_us"] = until.us;
    }
    return d;
  }
  if (!has_role) return LoginFailed(req, user->user_id, "no_role", user->failed_logins);
  if (req.expires_at_us <= now.us ||
      req.expires_at_us > (now + Duration::Seconds(kSessionTtlSecondsMax)).us) {
    return Error::Invalid("expires_at_us", "range",
                          "expires_at_us must lie in the future, within 30 days");
  }
  ledger::Decision d;
  d.events.push_back(SecretEvent("login_succeeded",
                                 {{"user_id", user->user_id},
                                  {"session_id", req.session_id},
                                  {"remote_address", req.remote_address},
                                  {"expires_at_us", req.expires_at_us},
                                  {"token_hash", req.token_hash},
                                  {"csrf_hash", req.csrf_hash}},
                                 {"token_hash", "csrf_hash"}));
  d.result = {{"succeeded", true}, {"user_id", user->user_id}, {"session_id", req.session_id}};
  return d;
}

}  // namespace opsbox::identity::detail
