// Work that must stay off the writer thread: argon2id hashing of new passwords and the login
// check (password verify, per-address throttle, session tokens).
#include <algorithm>
#include <array>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/assert.hpp"
#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/limits.hpp"
#include "core/random.hpp"
#include "identity/identity.hpp"
#include "identity/internal/decide.hpp"
#include "identity/internal/load.hpp"

namespace opsbox::identity {

Result<Json> PrepareCreateUser(std::string_view username, std::string_view display_name,
                               std::string_view password, const std::vector<std::string>& roles) {
  const std::string user = detail::AsciiLower(username);
  OPSBOX_TRY(detail::ValidateUsername(user));
  if (display_name.empty()) {
    return Error::Invalid("display_name", "required", "display_name is required");
  }
  if (display_name.size() > limits::kNameBytesMax) {
    return Error::Invalid("display_name", "max_bytes", "display_name is too long");
  }
  OPSBOX_TRY(detail::ValidateDisplayText(display_name, "display_name"));
  if (password.size() < limits::kPasswordBytesMin) {
    return Error::Invalid(
        "password", "min_bytes",
        "password must have at least " + std::to_string(limits::kPasswordBytesMin) + " bytes");
  }
  if (password.size() > limits::kPasswordBytesMax) {
    return Error::Invalid(
        "password", "max_bytes",
        "password must have at most " + std::to_string(limits::kPasswordBytesMax) + " bytes");
  }
  Json payload = {{"username", user}, {"display_name", display_name}, {"roles", roles}};
  OPSBOX_TRY(detail::ParseRoles(payload));
  OPSBOX_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  payload["password_hash"] = std::move(hash);
  return payload;
}

// ---------------------------------------------------------------------------------------------
// Per-address sliding window of failure times. Bounded: at most address_failures_max times per
// address and kAddressesMax addresses (expired ones are pruned first, then arbitrary ones).

namespace {
constexpr size_t kAddressesMax = 100000;
}  // namespace

struct LoginService::Throttle {
  mutable std::mutex mu;
  std::unordered_map<std::string, std::deque<int64_t>> failures_at_us;

  static void Expire(std::deque<int64_t>& q, int64_t cutoff_us) {
    while (!q.empty() && q.front() <= cutoff_us) q.pop_front();
  }

  int64_t RetryAfterSeconds(std::string_view address, Instant now, const IdentityOptions& o) {
    std::lock_guard lock(mu);
    auto it = failures_at_us.find(std::string(address));
    if (it == failures_at_us.end()) return 0;
    const Duration window = Duration::Seconds(o.address_window_s);
    Expire(it->second, (now - window).us);
    if (static_cast<int64_t>(it->second.size()) < o.address_failures_max) return 0;
    // The oldest failure in the window leaves it at front + window.
    const int64_t wait_us = it->second.front() + window.us - now.us;
    return std::max<int64_t>(1, (wait_us + 999999) / 1000000);
  }

  void RecordFailure(std::string_view address, Instant now, const IdentityOptions& o) {
    std::lock_guard lock(mu);
    if (failures_at_us.size() >= kAddressesMax) {
      Prune((now - Duration::Seconds(o.address_window_s)).us);
    }
    auto& q = failures_at_us[std::string(address)];
    q.push_back(now.us);
    while (static_cast<int64_t>(q.size()) > std::max<int64_t>(1, o.address_failures_max)) {
      q.pop_front();
    }
  }

  void Prune(int64_t cutoff_us) {
    for (auto it = failures_at_us.begin(); it != failures_at_us.end();) {
      Expire(it->second, cutoff_us);
      it = it->second.empty() ? failures_at_us.erase(it) : std::next(it);
    }
    while (failures_at_us.size() >= kAddressesMax) failures_at_us.erase(failures_at_us.begin());
  }
};

LoginService::LoginService(const IdentityOptions& options, Random& random)
    : options_(options), random_(random), throttle_(std::make_unique<Throttle>()) {}

LoginService::~LoginService() = default;

int64_t LoginService::RetryAfterSeconds(std::string_view remote_address, Instant now) const {
  return throttle_->RetryAfterSeconds(remote_address, now, options_);
}

const std::string& LoginService::DummyHash() {
  // Verified against when the username is unknown, so that answer takes as long as a wrong
  // password. Computed once, lazily (hashing takes ~80 ms).
  static const std::string kHash = [] {
    auto h = HashPassword("opsbox-dummy-password-for-timing");
    return h.ok() ? *h : std::string();
  }();
  return kHash;
}

namespace {

std::string RandomBase64(Random& random, size_t bytes) {
  std::array<uint8_t, 64> raw{};
  OPSBOX_ASSERT(bytes <= raw.size());
  random.Fill(std::span<uint8_t>(raw.data(), bytes));
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(raw.data()), bytes));
}

LoginAttempt Failed(detail::RecordLoginRequest req, std::string user_id, std::string reason) {
  LoginAttempt a;
  a.succeeded = false;
  a.reason = reason;
  a.user_id = std::move(user_id);
  req.succeeded = false;
  req.reason = std::move(reason);
  a.record_login = detail::RecordLoginPayload(req);
  return a;
}

}  // namespace

Result<LoginAttempt> LoginService::PrepareLogin(store::Connection& conn, std::string_view tenant_id,
                                                std::string_view username,
                                                std::string_view password,
                                                std::string_view remote_address, Instant now) {
  if (int64_t wait_s = RetryAfterSeconds(remote_address, now); wait_s > 0) {
    Error e{
        ErrorCode::kRateLimited, "", "login_rate",
        "too many failed logins from this address; retry after " + std::to_string(wait_s) + " s"};
    return e;
  }
  OPSBOX_ASSIGN_OR_RETURN(bool tenant_exists, detail::LoadTenantExists(conn, tenant_id));
  if (!tenant_exists) return Error::NotFound("no tenant \"" + std::string(tenant_id) + "\"");

  detail::RecordLoginRequest req;
  // Bounded so the record_login payload always validates.
  req.username = std::string(username.substr(0, limits::kUsernameBytesMax));
  req.remote_address = std::string(remote_address.substr(0, detail::kRemoteAddressBytesMax));
  if (req.username.empty()) req.username = "-";
  if (req.remote_address.empty()) req.remote_address = "-";
  const std::string lookup = detail::AsciiLower(req.username);

  OPSBOX_ASSIGN_OR_RETURN(auto user, detail::LoadUserByName(conn, lookup));
  auto fail = [&](std::string user_id, std::string reason) -> Result<LoginAttempt> {
    throttle_->RecordFailure(remote_address, now, options_);
    return Failed(req, std::move(user_id), std::move(reason));
  };
  if (!user) {
    VerifyPassword(DummyHash(), password.substr(0, limits::kPasswordBytesMax));
    return fail("", "unknown_user");
  }
  if (user->locked_until > now) return fail(user->user_id, "locked");
  if (user->status != "active") return fail(user->user_id, "disabled");
  OPSBOX_ASSIGN_OR_RETURN(std::string hash, detail::LoadPasswordHash(conn, user->user_id));
  if (password.size() > limits::kPasswordBytesMax || !VerifyPassword(hash, password)) {
    return fail(user->user_id, "bad_password");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto roles, detail::LoadRoles(conn, tenant_id, user->user_id));
  if (roles.empty()) return fail(user->user_id, "no_role");

  LoginAttempt a;
  a.succeeded = true;
  a.user_id = user->user_id;
  a.session_id = NewId("ses", now, random_);
  a.session_token = RandomBase64(random_, detail::kSessionTokenBytes);
  a.csrf_token = RandomBase64(random_, detail::kSessionTokenBytes);
  a.expires_at = now + Duration::Seconds(options_.session_ttl_s);
  req.succeeded = true;
  req.session_id = a.session_id;
  req.token_hash = detail::TokenHash(a.session_token);
  req.csrf_hash = detail::TokenHash(a.csrf_token);
  req.expires_at_us = a.expires_at.us;
  a.record_login = detail::RecordLoginPayload(req);
  return a;
}

}  // namespace opsbox::identity
