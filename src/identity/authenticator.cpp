// Authentication of every request: bearer API keys and session cookies, behind bounded caches.
// The hot path (a cached API key) is one SHA-256 and one hash-map lookup under a shared lock.
//
// Staleness: a loader remembers the cache generation before it reads the database and stores
// its row only when no invalidation happened meanwhile, so a row read just before a revoke
// committed cannot be cached after OnCommitted dropped it.
#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <unordered_map>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "identity/identity.hpp"
#include "identity/internal/decide.hpp"
#include "identity/internal/load.hpp"

namespace opsbox::identity {
namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct KeyEntry {
  std::string tenant_id;
  std::string name;
  std::string secret_hash;
  std::vector<std::string> roles;
  bool revoked = false;
  int64_t loaded_at_us = 0;
};

struct SessionEntry {
  std::string session_id;
  std::string tenant_id;
  std::string user_id;
  std::string username;
  std::string csrf_hash;
  int64_t expires_at_us = 0;
  bool revoked = false;
  int64_t loaded_at_us = 0;
};

struct RolesEntry {
  std::vector<std::string> roles;
  int64_t loaded_at_us = 0;
};

constexpr size_t kApiKeyBytes = 4 + 30 + 1 + 43;  // "obx_" key_id "_" secret

Error Unauthenticated(std::string rule, std::string message) {
  return Error{ErrorCode::kUnauthenticated, "authorization", std::move(rule), std::move(message)};
}

Error OtherTenant() {
  // Same answer as for an object that does not exist: existence is not revealed.
  return Error::NotFound("not found");
}

bool IsSafeMethod(std::string_view m) { return m == "GET" || m == "HEAD" || m == "OPTIONS"; }

bool IsBase64Url(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

template <class Map>
void EvictOneIfFull(Map& map, size_t entries_max) {
  if (map.size() >= std::max<size_t>(1, entries_max)) map.erase(map.begin());
}

}  // namespace

std::optional<ParsedApiKey> ParseApiKey(std::string_view key) {
  if (key.size() != kApiKeyBytes || !key.starts_with("obx_") || key[34] != '_') {
    return std::nullopt;
  }
  ParsedApiKey p{key.substr(4, 30), key.substr(35)};
  if (!IsId(p.key_id, "key") || !IsBase64Url(p.secret)) return std::nullopt;
  return p;
}

struct Authenticator::Caches {
  std::shared_mutex mu;
  StringMap<KeyEntry> keys;                   // by key id
  StringMap<SessionEntry> sessions;           // by hex SHA-256 of the session token
  StringMap<std::string> session_token_hash;  // session id -> key of `sessions`
  StringMap<RolesEntry> roles;                // tenant_id + "/" + user_id
  std::atomic<uint64_t> generation{0};

  void EraseSession(std::string_view session_id) {
    auto it = session_token_hash.find(session_id);
    if (it == session_token_hash.end()) return;
    sessions.erase(it->second);
    session_token_hash.erase(it);
  }
};

Authenticator::Authenticator(store::Pool& pool, const IdentityOptions& options)
    : pool_(pool), options_(options), caches_(std::make_unique<Caches>()) {}

Authenticator::~Authenticator() = default;

namespace {

bool Fresh(int64_t loaded_at_us, Instant now, const IdentityOptions& o) {
  const int64_t age_us = now.us - loaded_at_us;
  return age_us >= 0 && age_us < o.auth_cache_ttl_ms * 1000;
}

Result<std::optional<KeyEntry>> LoadKey(store::Connection& conn, std::string_view key_id) {
  const store::Value params[] = {std::string(key_id)};
  OPSBOX_ASSIGN_OR_RETURN(store::Rows rows,
                          conn.Query("SELECT tenant_id, name, roles, secret_hash, revoked_at_us "
                                     "FROM api_keys WHERE key_id = ?",
                                     params));
  if (rows.empty()) return std::optional<KeyEntry>();
  const store::Row& r = rows[0];
  KeyEntry k{r.Text(0), r.Text(1), r.Text(3), {}, r.Int(4) != 0, 0};
  auto roles = Json::parse(r.Text(2), nullptr, /*allow_exceptions=*/false);
  if (!roles.is_array()) return Error::Internal("api_keys.roles of " + std::string(key_id));
  for (const auto& role : roles) {
    if (role.is_string()) k.roles.push_back(role.get<std::string>());
  }
  return std::optional<KeyEntry>(std::move(k));
}

Result<std::optional<SessionEntry>> LoadSessionByToken(store::Connection& conn,
                                                       std::string_view token_hash) {
  const store::Value params[] = {std::string(token_hash)};
  OPSBOX_ASSIGN_OR_RETURN(
      store::Rows rows,
      conn.Query("SELECT s.session_id, s.tenant_id, s.user_id, u.username, s.csrf_hash, "
                 "s.expires_at_us, s.revoked_at_us FROM sessions s JOIN users u ON "
                 "u.user_id = s.user_id WHERE s.token_hash = ?",
                 params));
  if (rows.empty()) return std::optional<SessionEntry>();
  const store::Row& r = rows[0];
  return std::optional<SessionEntry>(SessionEntry{r.Text(0), r.Text(1), r.Text(2), r.Text(3),
                                                  r.Text(4), r.Int(5), r.Int(6) != 0, 0});
}

// Runs `load` on a pooled connection; drops the connection when the read failed.
template <class F>
auto WithConnection(store::Pool& pool, F&& load)
    -> decltype(load(std::declval<store::Connection&>())) {
  OPSBOX_ASSIGN_OR_RETURN(auto lease, pool.Acquire());
  auto r = load(*lease);
  if (!r.ok()) lease.Discard();
  return r;
}

}  // namespace

Result<Principal> Authenticator::Authenticate(const AuthInput& in, std::string_view path_tenant,
                                              Instant now) {
  if (!in.authorization.empty()) return AuthenticateKey(in.authorization, path_tenant, now);
  if (!in.session_cookie.empty()) return AuthenticateSession(in, path_tenant, now);
  return Unauthenticated("credentials_missing", "sign in or present an API key");
}

Result<Principal> Authenticator::AuthenticateKey(std::string_view authorization,
                                                 std::string_view path_tenant, Instant now) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), authorization.begin(),
                  [](char want, char got) { return want == detail::AsciiLowerChar(got); })) {
    return Unauthenticated("scheme", "Authorization must be \"Bearer <API key>\"");
  }
  auto parsed = ParseApiKey(authorization.substr(kScheme.size()));
  if (!parsed) return Unauthenticated("invalid_credentials", "malformed API key");
  const std::string presented_hash = detail::TokenHash(parsed->secret);
  Caches& c = *caches_;
  std::optional<KeyEntry> key;
  {
    std::shared_lock lock(c.mu);
    auto it = c.keys.find(parsed->key_id);
    if (it != c.keys.end() && Fresh(it->second.loaded_at_us, now, options_)) key = it->second;
  }
  if (!key) {
    const uint64_t generation = c.generation.load();
    OPSBOX_ASSIGN_OR_RETURN(key, WithConnection(pool_, [&](store::Connection& conn) {
                              return LoadKey(conn, parsed->key_id);
                            }));
    if (!key) return Unauthenticated("invalid_credentials", "unknown API key");
    key->loaded_at_us = now.us;
    std::unique_lock lock(c.mu);
    if (c.generation.load() == generation) {
      EvictOneIfFull(c.keys, options_.auth_cache_entries_max);
      c.keys.insert_or_assign(std::string(parsed->key_id), *key);
    }
  }
  if (key->revoked || !ConstantTimeEqual(key->secret_hash, presented_hash)) {
    return Unauthenticated("invalid_credentials", "unknown or revoked API key");
  }
  if (!path_tenant.empty() && key->tenant_id != path_tenant) return OtherTenant();
  return Principal{
      key->tenant_id, std::string(parsed->key_id), Principal::kApiKey, key->name, key->roles, ""};
}

Result<Principal> Authenticator::AuthenticateSession(const AuthInput& in,
                                                     std::string_view path_tenant, Instant now) {
  const std::string token_hash = detail::TokenHash(in.session_cookie);
  Caches& c = *caches_;
  std::optional<SessionEntry> session;
  {
    std::shared_lock lock(c.mu);
    auto it = c.sessions.find(token_hash);
    if (it != c.sessions.end() && Fresh(it->second.loaded_at_us, now, options_)) {
      session = it->second;
    }
  }
  if (!session) {
    const uint64_t generation = c.generation.load();
    OPSBOX_ASSIGN_OR_RETURN(session, WithConnection(pool_, [&](store::Connection& conn) {
                              return LoadSessionByToken(conn, token_hash);
                            }));
    if (!session) return Unauthenticated("invalid_credentials", "unknown session");
    session->loaded_at_us = now.us;
    std::unique_lock lock(c.mu);
    if (c.generation.load() == generation) {
      if (c.sessions.size() >= std::max<size_t>(1, options_.auth_cache_entries_max)) {
        c.EraseSession(c.sessions.begin()->second.session_id);
      }
      c.session_token_hash.insert_or_assign(session->session_id, token_hash);
      c.sessions.insert_or_assign(token_hash, *session);
    }
  }
  if (session->revoked || session->expires_at_us <= now.us) {
    return Unauthenticated("session_expired", "the session has ended; sign in again");
  }
  if (!path_tenant.empty() && session->tenant_id != path_tenant) return OtherTenant();
  if (!IsSafeMethod(in.method) &&
      !ConstantTimeEqual(detail::TokenHash(in.csrf_header), session->csrf_hash)) {
    return Error{ErrorCode::kPermissionDenied, "x-csrf-token", "csrf",
                 "a cookie-authenticated " + std::string(in.method) +
                     " needs the X-CSRF-Token header given at sign-in"};
  }
  OPSBOX_ASSIGN_OR_RETURN(auto roles, RolesOf(session->tenant_id, session->user_id, now));
  return Principal{session->tenant_id, session->user_id, Principal::kUser,
                   session->username,  std::move(roles), session->session_id};
}

Result<std::vector<std::string>> Authenticator::RolesOf(const std::string& tenant_id,
                                                        const std::string& user_id, Instant now) {
  Caches& c = *caches_;
  const std::string cache_key = tenant_id + "/" + user_id;
  {
    std::shared_lock lock(c.mu);
    auto it = c.roles.find(cache_key);
    if (it != c.roles.end() && Fresh(it->second.loaded_at_us, now, options_)) {
      return it->second.roles;
    }
  }
  const uint64_t generation = c.generation.load();
  OPSBOX_ASSIGN_OR_RETURN(auto roles, WithConnection(pool_, [&](store::Connection& conn) {
                            return detail::LoadRoles(conn, tenant_id, user_id);
                          }));
  std::unique_lock lock(c.mu);
  if (c.generation.load() == generation) {
    EvictOneIfFull(c.roles, options_.auth_cache_entries_max);
    c.roles.insert_or_assign(cache_key, RolesEntry{roles, now.us});
  }
  return roles;
}

std::optional<std::string> RevokedCredentialId(const ledger::Event& e) {
  const char* key = e.type == "api_key_revoked"   ? "key_id"
                    : e.type == "session_revoked" ? "session_id"
                                                  : nullptr;
  if (key == nullptr) return std::nullopt;
  const Json p = Json::parse(e.payload, nullptr, /*allow_exceptions=*/false);
  auto it = p.is_object() ? p.find(key) : p.end();
  if (!p.is_object() || it == p.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::string CredentialId(const Principal& p) {
  return p.kind == Principal::kApiKey ? p.actor_id : p.session_id;
}

void Authenticator::OnCommitted(const std::vector<ledger::Event>& events) {
  Caches& c = *caches_;
  std::unique_lock<std::shared_mutex> lock(c.mu, std::defer_lock);
  for (const auto& e : events) {
    const bool key_event = e.type == "api_key_revoked" || e.type == "api_key_created";
    const bool role_event = e.type == "role_granted" || e.type == "role_revoked";
    const bool session_event = e.type == "session_revoked";
    if (!key_event && !role_event && !session_event) continue;
    const Json p = Json::parse(e.payload, nullptr, /*allow_exceptions=*/false);
    if (!p.is_object()) continue;
    if (!lock.owns_lock()) lock.lock();
    c.generation.fetch_add(1);
    auto text = [&](const char* k) {
      auto it = p.find(k);
      return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (key_event) c.keys.erase(text("key_id"));
    if (role_event) c.roles.erase(e.tenant_id + "/" + text("user_id"));
    if (session_event) c.EraseSession(text("session_id"));
  }
}

}  // namespace opsbox::identity
