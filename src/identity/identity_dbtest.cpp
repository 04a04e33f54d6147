// Goal: identity commands driven through a real ledger writer, on SQLite and PostgreSQL, leave
// the right events and projections, and the login flow and the authenticator honour them:
// failures and lockouts are recorded, API keys authenticate and stop the moment their revoke
// commits, another tenant's credentials answer 404, cookie writes need the CSRF token; the
// ledger holds credential hashes only sealed, and they open to what the projections hold
// (issue #9).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "identity/identity.hpp"
#include "ledger/reader.hpp"
#include "ledger/writer.hpp"
#include "privacy/keyring.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::identity {
namespace {

using store::Dialect;

constexpr std::string_view kPassword = "correct horse battery staple";
constexpr uint64_t kSeed = 20261122;

class IdentityDbTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    InitCrypto();
    std::cout << "random seed " << kSeed << "\n";
    options_.login_failures_max = 3;
    options_.address_failures_max = 100;
    options_.auth_cache_ttl_ms = 3600 * 1000;  // only OnCommitted may make entries stale
    auto db = store::NewTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(*db);
    RegisterIdentity(registry_, options_);
    auto keyring = privacy::Keyring::Create(privacy::NewMemoryKeyProvider(), clock_);
    ASSERT_TRUE(keyring.ok()) << keyring.error().ToString();
    keyring_ = std::move(*keyring);
    keyring_->Register(registry_);
    pool_ = std::make_unique<store::Pool>(*db_, 4);
    auth_ = std::make_unique<Authenticator>(*pool_, options_);
    registry_.AddCommittedListener(
        [this](const std::vector<ledger::Event>& events) { auth_->OnCommitted(events); });
    login_ = std::make_unique<LoginService>(options_, login_random_);
    writer_ = std::make_unique<ledger::Writer>(*db_, registry_, clock_, writer_random_,
                                               ledger::WriterOptions{.shards = 1});
    ASSERT_TRUE(writer_->Start().ok());
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
  }

  void TearDown() override {
    if (writer_) writer_->Stop();
  }

  Result<ledger::CommandOutcome> Submit(std::string_view tenant, std::string_view type,
                                        Json payload, std::string command_id = "") {
    return writer_->SubmitAndWait(ledger::Command{std::string(tenant), std::move(command_id),
                                                  std::string(type), "cli:test",
                                                  std::move(payload)});
  }

  void CreateTenant(std::string_view tenant) {
    auto r = Submit(tenant, kCreateTenant, {{"tenant_id", tenant}, {"name", "Bank"}});
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }

  void CreateUser(std::string_view tenant, std::string_view username,
                  std::vector<std::string> roles) {
    auto payload = PrepareCreateUser(username, "A Person", kPassword, roles);
    ASSERT_TRUE(payload.ok()) << payload.error().ToString();
    auto r = Submit(tenant, kCreateUser, *payload);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }

  // Checks the password and records the attempt, as the HTTP login handler does.
  LoginAttempt Login(std::string_view tenant, std::string_view username,
                     std::string_view password) {
    auto attempt =
        login_->PrepareLogin(*conn_, tenant, username, password, "10.0.0.7", clock_.Now());
    EXPECT_TRUE(attempt.ok()) << attempt.error().ToString();
    if (!attempt.ok()) return {};
    auto recorded = Submit(tenant, kRecordLogin, attempt->record_login);
    EXPECT_TRUE(recorded.ok()) << recorded.error().ToString();
    if (recorded.ok() && attempt->succeeded) {
      EXPECT_EQ(recorded->result["succeeded"], true);
    }
    return std::move(*attempt);
  }

  std::string CreateKey(std::string_view tenant, std::vector<std::string> roles) {
    auto r = Submit(tenant, kCreateApiKey, {{"name", "crm"}, {"roles", roles}});
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? r->once.value("key", "") : "";
  }

  std::vector<std::string> EventTypes(std::string_view tenant) {
    const store::Value params[] = {std::string(tenant)};
    auto rows =
        conn_->Query("SELECT type FROM ledger_events WHERE tenant_id = ? ORDER BY seq", params);
    EXPECT_TRUE(rows.ok());
    std::vector<std::string> types;
    if (rows.ok()) {
      for (const auto& r : *rows) types.push_back(r.Text(0));
    }
    return types;
  }

  std::string AllEventPayloads() {
    auto rows = conn_->Query("SELECT payload FROM ledger_events ORDER BY tenant_id, seq");
    EXPECT_TRUE(rows.ok());
    std::string all;
    if (rows.ok()) {
      for (const auto& r : *rows) all += r.Text(0) + "\n";
    }
    return all;
  }

  Result<Principal> AuthKey(const std::string& key, std::string_view tenant) {
    const std::string header = "Bearer " + key;
    return auth_->Authenticate(AuthInput{header, "", "", "GET"}, tenant, clock_.Now());
  }

  IdentityOptions options_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Connection> conn_;
  ledger::Registry registry_;
  ManualClock clock_{Instant{1'800'000'000'000'000}};
  SeededRandom writer_random_{kSeed};
  SeededRandom login_random_{kSeed + 1};
  std::unique_ptr<privacy::Keyring> keyring_;  // seals the credential fields of events
  std::unique_ptr<store::Pool> pool_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<LoginService> login_;
  std::unique_ptr<ledger::Writer> writer_;
};

TEST_P(IdentityDbTest, CreatesATenantAndAUserWithRolesInIt) {
  CreateTenant("acme");
  CreateUser("acme", "Ann.Lee", {"agent", "admin"});
  auto tenant = GetTenant(*conn_, "acme");
  ASSERT_TRUE(tenant.ok());
  EXPECT_EQ(tenant->name, "Bank");
  auto users = ListUsers(*conn_, "acme", 10);
  ASSERT_TRUE(users.ok()) << users.error().ToString();
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].username, "ann.lee");
  EXPECT_EQ((*users)[0].roles, (std::vector<std::string>{"admin", "agent"}));
  EXPECT_EQ(EventTypes("acme"), (std::vector<std::string>{"tenant_created", "user_created",
                                                          "role_granted", "role_granted"}));
  EXPECT_FALSE(*TenantExists(*conn_, "other"));
  // Usernames are global: the same name cannot be created in another tenant.
  CreateTenant("beta");
  auto again =
      Submit("beta", kCreateUser, *PrepareCreateUser("ann.lee", "X", kPassword, {"agent"}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

TEST_P(IdentityDbTest, CommandsInAnUnknownTenantAreNotFound) {
  auto r = Submit("ghost", kCreateApiKey, {{"name", "x"}, {"roles", {"admin"}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  auto login = login_->PrepareLogin(*conn_, "ghost", "ann", kPassword, "1.2.3.4", clock_.Now());
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(login.error().code, ErrorCode::kNotFound);
}

TEST_P(IdentityDbTest, RecordsFailedAndSuccessfulLoginsWithoutSecrets) {
  CreateTenant("acme");
  CreateUser("acme", "ann", {"agent"});
  LoginAttempt bad = Login("acme", "ann", "wrong password!!");
  EXPECT_FALSE(bad.succeeded);
  EXPECT_EQ(bad.reason, "bad_password");
  LoginAttempt unknown = Login("acme", "nobody", kPassword);
  EXPECT_EQ(unknown.reason, "unknown_user");
  LoginAttempt good = Login("acme", "ANN", kPassword);
  ASSERT_TRUE(good.succeeded);
  EXPECT_EQ(EventTypes("acme"),
            (std::vector<std::string>{"tenant_created", "user_created", "role_granted",
                                      "login_failed", "login_failed", "login_succeeded"}));
  const std::string payloads = AllEventPayloads();
  EXPECT_EQ(payloads.find(kPassword), std::string::npos);
  EXPECT_EQ(payloads.find("wrong password"), std::string::npos);
  EXPECT_EQ(payloads.find(good.session_token), std::string::npos);
  EXPECT_EQ(payloads.find(good.csrf_token), std::string::npos);
  auto p = auth_->Authenticate(AuthInput{"", good.session_token, "", "GET"}, "acme", clock_.Now());
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->kind, Principal::kUser);
  EXPECT_EQ(p->name, "ann");
  EXPECT_EQ(p->session_id, good.session_id);
  EXPECT_TRUE(p->Allows("tenant.read"));
}

// A projection column of one row, for comparing with what the ledger opens to.
std::string Column(store::Connection& conn, const std::string& sql, const std::string& id) {
  const store::Value params[] = {id};
  auto rows = conn.Query(sql, params);
  EXPECT_TRUE(rows.ok() && rows->size() == 1);
  return rows.ok() && rows->size() == 1 ? rows->front().Text(0) : "";
}

TEST_P(IdentityDbTest, CredentialHashesAreSealedInTheLedgerAndOpenToTheProjectedHashes) {
  CreateTenant("acme");
  CreateUser("acme", "ann", {"agent"});
  const std::string key = CreateKey("acme", {"agent"});
  ASSERT_TRUE(Login("acme", "ann", kPassword).succeeded);
  EXPECT_EQ(AllEventPayloads().find("$argon2id$"), std::string::npos);

  auto events = ledger::ReadEvents(*conn_, "acme", 0, 100);
  ASSERT_TRUE(events.ok()) << events.error().ToString();
  struct Expected {
    std::string type, field, sql, id_field;
  };
  const Expected expected[] = {
      {"user_created", "password_hash", "SELECT password_hash FROM users WHERE user_id = ?",
       "user_id"},
      {"api_key_created", "secret_hash", "SELECT secret_hash FROM api_keys WHERE key_id = ?",
       "key_id"},
      {"login_succeeded", "token_hash", "SELECT token_hash FROM sessions WHERE session_id = ?",
       "session_id"},
      {"login_succeeded", "csrf_hash", "SELECT csrf_hash FROM sessions WHERE session_id = ?",
       "session_id"}};
  int checked = 0;
  for (const auto& e : *events) {
    for (const auto& x : expected) {
      if (e.type != x.type) continue;
      Json stored = Json::parse(e.payload);
      const std::string sealed = stored.at(x.field).get<std::string>();
      EXPECT_TRUE(sealed.starts_with(privacy::kSealedPrefix)) << x.type << "." << x.field;
      auto tx = conn_->Begin();
      ASSERT_TRUE(tx.ok());
      ASSERT_TRUE(registry_.OpenSecrets(**tx, "acme", stored).ok());
      (*tx)->Rollback();
      const std::string projected =
          Column(*conn_, x.sql, stored.at(x.id_field).get<std::string>());
      EXPECT_FALSE(projected.empty());
      EXPECT_EQ(stored.at(x.field).get<std::string>(), projected) << x.type << "." << x.field;
      EXPECT_EQ(e.ToOutboundJson()["payload"][x.field], "[redacted]");
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4);
  // The credentials still work: the projections kept the clear hashes.
  EXPECT_TRUE(AuthKey(key, "acme").ok());
}

TEST_P(IdentityDbTest, AnEventWrittenBeforeSealingReadsRedactedAndStillVerifies) {
  // A ledger from before issue #9 holds the hash in clear; the stored bytes stay as they are.
  ledger::Event legacy;
  legacy.tenant_id = "acme";
  legacy.seq = 1;
  legacy.type = "user_created";
  legacy.payload = CanonicalJson(Json{{"user_id", "usr_1"}, {"password_hash", "$argon2id$v=19$x"}});
  legacy.prev_hash = std::string(ledger::kGenesisHash);
  legacy.hash = ledger::ComputeEventHash(legacy);
  const Json out = legacy.ToOutboundJson();
  EXPECT_EQ(out["payload"]["password_hash"], "[redacted]");
  EXPECT_EQ(out["payload"]["user_id"], "usr_1");
  EXPECT_EQ(out["hash"].get<std::string>(), ledger::ComputeEventHash(legacy));
  EXPECT_EQ(legacy.ToStoredJson()["payload"]["password_hash"], "$argon2id$v=19$x");
}

TEST_P(IdentityDbTest, LocksTheAccountAtTheNthBadPasswordUntilTheLockExpires) {
  CreateTenant("acme");
  CreateUser("acme", "ann", {"agent"});
  for (int i = 1; i < options_.login_failures_max; ++i) Login("acme", "ann", "wrong password!!");
  auto locks = [&] {
    auto types = EventTypes("acme");
    return std::count(types.begin(), types.end(), "account_locked");
  };
  EXPECT_EQ(locks(), 0);
  Login("acme", "ann", "wrong password!!");
  EXPECT_EQ(locks(), 1);
  LoginAttempt locked = Login("acme", "ann", kPassword);
  EXPECT_FALSE(locked.succeeded);
  EXPECT_EQ(locked.reason, "locked");
  clock_.Advance(Duration::Seconds(options_.lockout_s));
  EXPECT_TRUE(Login("acme", "ann", kPassword).succeeded);
}

TEST_P(IdentityDbTest, ThrottlesAnAddressAfterTooManyFailures) {
  options_.address_failures_max = 2;
  LoginService login(options_, login_random_);
  CreateTenant("acme");
  for (int i = 0; i < 2; ++i) {
    auto a = login.PrepareLogin(*conn_, "acme", "nobody", kPassword, "10.9.9.9", clock_.Now());
    ASSERT_TRUE(a.ok());
    EXPECT_FALSE(a->succeeded);
  }
  auto third = login.PrepareLogin(*conn_, "acme", "nobody", kPassword, "10.9.9.9", clock_.Now());
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(third.error().rule, "login_rate");
  EXPECT_EQ(login.RetryAfterSeconds("10.9.9.9", clock_.Now()), options_.address_window_s);
  EXPECT_EQ(login.RetryAfterSeconds("10.1.1.1", clock_.Now()), 0);
  clock_.Advance(Duration::Seconds(options_.address_window_s));
  EXPECT_TRUE(
      login.PrepareLogin(*conn_, "acme", "nobody", kPassword, "10.9.9.9", clock_.Now()).ok());
}

TEST_P(IdentityDbTest, ApiKeyAuthenticatesUntilItsRevokeCommits) {
  CreateTenant("acme");
  const std::string key = CreateKey("acme", {"integration"});
  ASSERT_FALSE(key.empty());
  auto p = AuthKey(key, "acme");
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->kind, Principal::kApiKey);
  EXPECT_TRUE(p->Allows("external_events.write"));
  EXPECT_FALSE(p->Allows("users.manage"));
  EXPECT_TRUE(AuthKey(key, "acme").ok());  // now from the cache
  const std::string lower = "bearer " + key, basic = "Basic " + key;
  EXPECT_TRUE(auth_->Authenticate({lower, "", "", "POST"}, "acme", clock_.Now()).ok());
  EXPECT_EQ(auth_->Authenticate({basic, "", "", "GET"}, "acme", clock_.Now()).error().rule,
            "scheme");
  EXPECT_EQ(auth_->Authenticate({}, "acme", clock_.Now()).error().code,
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(AllEventPayloads().find(ParseApiKey(key)->secret), std::string::npos);

  std::string tampered = key;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(AuthKey(tampered, "acme").error().code, ErrorCode::kUnauthenticated);

  auto keys = ListApiKeys(*conn_, "acme", 10);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(ToJson((*keys)[0]).dump().find("hash"), std::string::npos);
  auto revoked = Submit("acme", kRevokeApiKey, {{"key_id", p->actor_id}});
  ASSERT_TRUE(revoked.ok()) << revoked.error().ToString();
  auto after = AuthKey(key, "acme");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ErrorCode::kUnauthenticated);
}

TEST_P(IdentityDbTest, ReplayedCreateApiKeyDoesNotShowTheKeyAgain) {
  CreateTenant("acme");
  Json payload = {{"name", "crm"}, {"roles", {"integration"}}};
  auto first = Submit("acme", kCreateApiKey, payload, "cmd-key-1");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->once.contains("key"));
  auto again = Submit("acme", kCreateApiKey, payload, "cmd-key-1");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_FALSE(again->once.contains("key"));
  EXPECT_EQ(again->result, first->result);
}

TEST_P(IdentityDbTest, CredentialsOfAnotherTenantAnswerNotFound) {
  CreateTenant("acme");
  CreateTenant("beta");
  const std::string key = CreateKey("acme", {"admin"});
  auto other = AuthKey(key, "beta");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kNotFound);
  CreateUser("acme", "ann", {"agent"});
  LoginAttempt a = Login("acme", "ann", kPassword);
  ASSERT_TRUE(a.succeeded);
  auto cookie =
      auth_->Authenticate(AuthInput{"", a.session_token, "", "GET"}, "beta", clock_.Now());
  ASSERT_FALSE(cookie.ok());
  EXPECT_EQ(cookie.error().code, ErrorCode::kNotFound);
  // A key of another tenant cannot revoke-probe either: acme's key id is unknown in beta.
  auto probe = Submit("beta", kRevokeApiKey, {{"key_id", ParseApiKey(key)->key_id}});
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(probe.error().code, ErrorCode::kNotFound);
}

TEST_P(IdentityDbTest, CookieWritesNeedTheCsrfTokenAndLogoutEndsTheSession) {
  CreateTenant("acme");
  CreateUser("acme", "ann", {"admin"});
  LoginAttempt a = Login("acme", "ann", kPassword);
  ASSERT_TRUE(a.succeeded);
  const Instant now = clock_.Now();
  EXPECT_TRUE(auth_->Authenticate({"", a.session_token, "", "GET"}, "acme", now).ok());
  auto no_csrf = auth_->Authenticate({"", a.session_token, "", "POST"}, "acme", now);
  ASSERT_FALSE(no_csrf.ok());
  EXPECT_EQ(no_csrf.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(no_csrf.error().rule, "csrf");
  auto wrong = auth_->Authenticate({"", a.session_token, a.session_token, "DELETE"}, "acme", now);
  EXPECT_EQ(wrong.error().rule, "csrf");
  EXPECT_TRUE(auth_->Authenticate({"", a.session_token, a.csrf_token, "POST"}, "acme", now).ok());

  auto out = Submit("acme", kLogout, {{"session_id", a.session_id}});
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  auto gone = auth_->Authenticate({"", a.session_token, "", "GET"}, "acme", now);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kUnauthenticated);
  auto expired_login = Login("acme", "ann", kPassword);
  clock_.Advance(Duration::Seconds(options_.session_ttl_s));
  auto expired =
      auth_->Authenticate({"", expired_login.session_token, "", "GET"}, "acme", clock_.Now());
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, ErrorCode::kUnauthenticated);
}

TEST_P(IdentityDbTest, RoleChangesReachCachedSessionsAtOnce) {
  CreateTenant("acme");
  CreateUser("acme", "root", {"admin"});
  CreateUser("acme", "ann", {"agent"});
  LoginAttempt a = Login("acme", "ann", kPassword);
  ASSERT_TRUE(a.succeeded);
  auto before = auth_->Authenticate({"", a.session_token, "", "GET"}, "acme", clock_.Now());
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->Allows("ledger.verify"));
  ASSERT_TRUE(Submit("acme", kGrantRole, {{"username", "ann"}, {"role", "auditor"}}).ok());
  auto granted = auth_->Authenticate({"", a.session_token, "", "GET"}, "acme", clock_.Now());
  ASSERT_TRUE(granted.ok());
  EXPECT_TRUE(granted->Allows("ledger.verify"));
  ASSERT_TRUE(Submit("acme", kRevokeRole, {{"username", "ann"}, {"role", "auditor"}}).ok());
  auto revoked = auth_->Authenticate({"", a.session_token, "", "GET"}, "acme", clock_.Now());
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->roles, std::vector<std::string>{"agent"});
  auto last_admin = Submit("acme", kRevokeRole, {{"username", "root"}, {"role", "admin"}});
  ASSERT_FALSE(last_admin.ok());
  EXPECT_EQ(last_admin.error().rule, "last_admin");
}

INSTANTIATE_TEST_SUITE_P(All, IdentityDbTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::identity
