// Identity and tenancy: tenants, users, roles, API keys, sessions, login and authentication.
// The only header other modules include from src/identity/.
//
// State changes are ledger commands (wire names below), registered by RegisterIdentity; their
// decision logic is pure (identity/decide.cpp) and their projections write the tables
// tenants, users, role_grants, api_keys and sessions. Users are global (one username across
// tenants); roles are granted per tenant; API keys and sessions belong to one tenant.
//
// Secrets: no password and no plaintext token ever enters an event, a command result or a
// log. Passwords are hashed (argon2id) by the caller before submitting (PrepareCreateUser,
// LoginService) because hashing takes ~80 ms and must not run on the writer thread. A new API
// key's plaintext appears only in the first answer's `once` object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock_fwd.hpp"
#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/event.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox::identity {

// ---------------------------------------------------------------------------------------------
// Roles and permissions. The matrix is one table in permissions.cpp; all functions are pure and
// thread-safe.

// "agent", "team_lead", "supervisor", "qa_analyst", "collections_manager",
// "compliance_officer", "wfm_planner", "admin", "auditor", "integration".
const std::vector<std::string>& AllRoles();
// "tenant.read", "tenant.admin", "users.read", ... (every permission any route may declare).
const std::vector<std::string>& AllPermissions();
bool IsRole(std::string_view role);
bool IsPermission(std::string_view permission);
// False for an unknown role or permission.
bool RoleAllows(std::string_view role, std::string_view permission);

// ---------------------------------------------------------------------------------------------
// Configuration (defaults in the member initialisers; units in the names).

struct IdentityOptions {
  int64_t login_failures_max = 5;         // consecutive bad passwords that lock an account
  int64_t lockout_s = 900;                // how long a lock lasts
  int64_t address_failures_max = 20;      // failed logins per remote address per window ...
  int64_t address_window_s = 60;          // ... before that address gets kRateLimited
  int64_t session_ttl_s = 28800;          // a session cookie's lifetime
  int64_t auth_cache_ttl_ms = 5000;       // authentication cache entries are reloaded after this
  size_t auth_cache_entries_max = 10000;  // per cache (API keys, sessions, role sets)
};

// ---------------------------------------------------------------------------------------------
// Commands (wire names) and the events they append.

inline constexpr std::string_view kCreateTenant = "create_tenant";   // tenant_created
inline constexpr std::string_view kCreateUser = "create_user";       // user_created, role_granted*
inline constexpr std::string_view kGrantRole = "grant_role";         // role_granted
inline constexpr std::string_view kRevokeRole = "revoke_role";       // role_revoked
inline constexpr std::string_view kCreateApiKey = "create_api_key";  // api_key_created
inline constexpr std::string_view kRevokeApiKey = "revoke_api_key";  // api_key_revoked
// login_succeeded | login_failed [+ account_locked]
inline constexpr std::string_view kRecordLogin = "record_login";
inline constexpr std::string_view kLogout = "logout";  // session_revoked

// Adds the handlers of the commands above and the projectors of their events. `options` is
// copied. Call once, before the writer starts.
//
// Payloads (unknown keys are rejected, errors name field and rule):
//   create_tenant  {tenant_id, name}        tenant_id ^[a-z0-9][a-z0-9-]{1,62}$, equal to the
//                                           command's tenant; result {tenant_id}
//   create_user    {username, display_name, password_hash, roles[]}  (from PrepareCreateUser);
//                                           result {user_id, username, roles}
//   grant_role / revoke_role {username, role}; result {user_id, role}. Revoking the last admin
//                                           of a tenant is refused (kConflict "last_admin").
//   create_api_key {name, roles[]}          result {key_id, name, roles};
//                                           once {key: "obx_<key_id>_<43 chars>"}
//   revoke_api_key {key_id}                 result {key_id}
//   record_login   LoginAttempt::record_login; result {succeeded, user_id, reason?,
//                                           session_id?}. A success can be turned into a
//                                           failure when the account was locked meanwhile:
//                                           set the cookie only when result.succeeded is true.
//   logout         {session_id}             result {session_id, revoked}; a session already
//                                           revoked appends nothing.
// Every command except create_tenant needs an existing tenant (kNotFound otherwise).
void RegisterIdentity(ledger::Registry& registry, const IdentityOptions& options);

// Validates a new user and hashes the password (argon2id, ~80 ms: call it off the writer
// thread). Returns the create_user payload. The username is lower-cased (ASCII) first.
// Errors: username "format", display_name "required"/"max_bytes", password
// "min_bytes"/"max_bytes", roles "unknown_role"/"duplicate"/"required"/"max_items".
Result<Json> PrepareCreateUser(std::string_view username, std::string_view display_name,
                               std::string_view password, const std::vector<std::string>& roles);

// ---------------------------------------------------------------------------------------------
// Login (runs on request threads, never on the writer thread).

struct LoginAttempt {
  bool succeeded = false;
  std::string reason;   // when failed: "unknown_user", "bad_password", "locked",
                        // "no_role", "disabled"
  std::string user_id;  // "" for an unknown user
  Json record_login;    // the record_login command payload (hashes only, never secrets)
  // Only when succeeded: plaintext tokens for the Set-Cookie / CSRF header, never stored.
  std::string session_id;
  std::string session_token;
  std::string csrf_token;
  Instant expires_at;
};

// Thread-safe. Holds the per-address failure throttle in memory (bounded).
class LoginService {
 public:
  // `random` must be thread-safe (SystemRandom in production) and outlive the service.
  LoginService(const IdentityOptions& options, Random& random);
  ~LoginService();
  LoginService(const LoginService&) = delete;
  LoginService& operator=(const LoginService&) = delete;

  // Checks the address throttle (kRateLimited, rule "login_rate", message with the seconds;
  // RetryAfter() gives them as a number), that the tenant exists (kNotFound), then the user,
  // its lock, its password (argon2id; a dummy verify when the user is unknown so timing does
  // not reveal which usernames exist) and its roles in `tenant_id`. A failed attempt is a value
  // (succeeded false) whose record_login must still be submitted. Failed attempts count against
  // `remote_address`. Reads through `conn` (a reader connection).
  Result<LoginAttempt> PrepareLogin(store::Connection& conn, std::string_view tenant_id,
                                    std::string_view username, std::string_view password,
                                    std::string_view remote_address, Instant now);

  // Seconds until `remote_address` may try again (0 when not throttled).
  int64_t RetryAfterSeconds(std::string_view remote_address, Instant now) const;

 private:
  struct Throttle;
  const std::string& DummyHash();
  IdentityOptions options_;
  Random& random_;
  std::unique_ptr<Throttle> throttle_;
};

// ---------------------------------------------------------------------------------------------
// Authentication (every request).

struct Principal {
  enum Kind { kUser, kApiKey };
  std::string tenant_id;
  std::string actor_id;  // "usr_…" or "key_…": the ledger actor of commands it issues
  Kind kind = kUser;
  std::string name;  // username or API key name
  std::vector<std::string> roles;
  std::string session_id;  // "" for API keys
  // True when any role allows `permission`.
  bool Allows(std::string_view permission) const;
};

// Views of the request; they must stay valid during Authenticate().
struct AuthInput {
  std::string_view authorization;   // "Bearer obx_…" or ""
  std::string_view session_cookie;  // the session cookie's value or ""
  std::string_view csrf_header;     // X-CSRF-Token or ""
  std::string_view method;          // "GET", "POST", …
};

// Thread-safe: Authenticate() from any thread, OnCommitted() from the writer thread.
// Caches (key id -> key, session token hash -> session, tenant+user -> roles) are bounded by
// options.auth_cache_entries_max and reloaded from the database after auth_cache_ttl_ms, so
// changes committed by another node take effect within that time; changes committed by this
// process's writer take effect at once through OnCommitted.
class Authenticator {
 public:
  // `pool` must outlive the authenticator.
  Authenticator(store::Pool& pool, const IdentityOptions& options);
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // A bearer API key wins over a session cookie. Errors:
  //   kUnauthenticated  no credentials, malformed, unknown, revoked or expired credentials
  //   kNotFound         valid credentials of another tenant than `path_tenant` (so another
  //                     tenant's objects answer 404); an empty path_tenant accepts any tenant
  //   kPermissionDenied rule "csrf": cookie credentials on POST/PUT/PATCH/DELETE without the
  //                     matching X-CSRF-Token
  //   kUnavailable/kInternal when the database cannot be read
  Result<Principal> Authenticate(const AuthInput& in, std::string_view path_tenant, Instant now);

  // Drops cache entries that committed events made stale: revoked keys, granted or revoked
  // roles, revoked sessions. Register it with Registry::AddCommittedListener.
  void OnCommitted(const std::vector<ledger::Event>& events);

 private:
  struct Caches;
  Result<Principal> AuthenticateKey(std::string_view authorization, std::string_view path_tenant,
                                    Instant now);
  Result<Principal> AuthenticateSession(const AuthInput& in, std::string_view path_tenant,
                                        Instant now);
  Result<std::vector<std::string>> RolesOf(const std::string& tenant_id, const std::string& user_id,
                                           Instant now);
  store::Pool& pool_;
  IdentityOptions options_;
  std::unique_ptr<Caches> caches_;
};

// The credential a committed event revokes: the key id of api_key_revoked, the session id of
// session_revoked; nullopt for any other event. Live connections opened with it must close.
std::optional<std::string> RevokedCredentialId(const ledger::Event& e);
// The credential a principal authenticated with: its key id or its session id.
std::string CredentialId(const Principal& p);

// The API key format: "obx_" + key id ("key_" + 26 chars) + "_" + 43 base64url chars.
struct ParsedApiKey {
  std::string_view key_id;
  std::string_view secret;
};
std::optional<ParsedApiKey> ParseApiKey(std::string_view key);

// ---------------------------------------------------------------------------------------------
// Queries for the API (reader connection; never wait for the writer). Lists are ordered by
// their cursor column and hold at most `limit` (capped at limits::kPageSizeMax) items after
// `after` (exclusive; "" from the start).

struct TenantView {
  std::string tenant_id;
  std::string name;
  std::string status;
  Instant created_at;
};

struct UserView {
  std::string user_id;
  std::string username;
  std::string display_name;
  std::string status;
  std::vector<std::string> roles;  // in the queried tenant, sorted
  Instant locked_until;            // 0 when never locked
  Instant created_at;
};

struct ApiKeyView {  // never the secret nor its hash
  std::string key_id;
  std::string name;
  std::vector<std::string> roles;
  Instant created_at;
  std::string created_by;
  bool revoked = false;
  Instant revoked_at;
};

Result<bool> TenantExists(store::Connection& conn, std::string_view tenant_id);
Result<TenantView> GetTenant(store::Connection& conn, std::string_view tenant_id);
// Users holding at least one role in the tenant, by username.
Result<std::vector<UserView>> ListUsers(store::Connection& conn, std::string_view tenant_id,
                                        size_t limit, std::string_view after_username = "");
// The tenant's API keys, by key id.
Result<std::vector<ApiKeyView>> ListApiKeys(store::Connection& conn, std::string_view tenant_id,
                                            size_t limit, std::string_view after_key_id = "");

Json ToJson(const TenantView& v);
Json ToJson(const UserView& v);
Json ToJson(const ApiKeyView& v);

}  // namespace opsbox::identity
