// Goal: the pure identity logic decides correctly without a database: names are validated with
// field and rule, role changes are checked, lockout triggers at exactly N bad passwords and
// expires, API key secrets never appear in results or events, and the permission matrix keeps
// admin all-powerful and auditor read-only.
#include "identity/identity.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>
#include <string>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/limits.hpp"
#include "core/random.hpp"
#include "identity/internal/decide.hpp"

namespace opsbox::identity {
namespace {

using detail::RecordLoginRequest;
using detail::UserState;

constexpr Instant kNow{1'800'000'000'000'000};

void ExpectInvalid(const Status& st, std::string_view field, std::string_view rule) {
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.error().field, field);
  EXPECT_EQ(st.error().rule, rule);
}

template <class T>
Status AsStatus(const Result<T>& r) {
  if (r.ok()) return Ok();
  return r.error();
}

// ----- permissions -----

// An administrator configures the tenant but does not see customers' personal data in clear,
// cannot grant itself emergency access or review it, and does not work tasks or cases as an agent.
TEST(IdentityPermissions, AdminHoldsEveryPermissionButUnmaskingBreakGlassAndAgentWork) {
  const std::set<std::string> withheld = {"pii.unmask",   "privacy.break_glass", "privacy.review",
                                          "conversations.reply", "routing.work", "cases.work",
                                          "cases.close",  "cases.reopen", "collections.contact",
                                          "automation.review", "conversations.retry",
                                          "conversations.retry_any"};
  for (const auto& p : AllPermissions()) EXPECT_EQ(RoleAllows("admin", p), !withheld.contains(p)) << p;
}

TEST(IdentityPermissions, AuditorReadsAndVerifiesButNeverWrites) {
  for (const auto& p : AllPermissions()) {
    const bool read_only = p.ends_with(".read") || p == "ledger.verify";
    EXPECT_EQ(RoleAllows("auditor", p), read_only) << p;
  }
}

TEST(IdentityPermissions, IntegrationPushesEventsAndFollowsTheLedgerOnly) {
  for (const auto& p : AllPermissions()) {
    const bool expected = p == "external_events.write" || p == "external_events.read" ||
                          p == "webhooks.read" || p == "ledger.read" || p == "intake.write" ||
                          p == "customers.read" || p == "customers.write" ||
                          p == "conversations.read" || p == "consent.read" ||
                          p == "consent.write" || p == "tasks.write" ||
                          p == "intents.classify" || p == "cases.read" || p == "cases.write" ||
                          p == "collections.read" || p == "collections.contact" ||
                          p == "automation.write";
    EXPECT_EQ(RoleAllows("integration", p), expected) << p;
  }
}

TEST(IdentityPermissions, AgentWorksTasksAndCustomersButManagesNothing) {
  const std::set<std::string> granted = {"tenant.read",        "customers.read", "customers.write",
                                         "conversations.read", "conversations.reply",
                                         "consent.read",       "consent.write",  "routing.work",
                                         "tasks.write",        "intents.classify",
                                         "cases.read",         "cases.write",    "cases.work",
                                         "approvals.request",  "approvals.read",
                                         "collections.read",   "collections.contact",
                                         "automation.read",    "automation.review",
                                         "conversations.retry"};
  for (const auto& p : AllPermissions()) EXPECT_EQ(RoleAllows("agent", p), granted.contains(p)) << p;
}

// Issue #11: the collections manager works the portfolio (accounts, attempts, the worklist)
// and its customers and cases, sees their data when needed, and configures nothing.
TEST(IdentityPermissions, CollectionsManagerWorksThePortfolioButManagesNothing) {
  const std::set<std::string> granted = {
      "tenant.read",         "users.read",          "external_events.read", "metrics.read",
      "pii.unmask",          "privacy.break_glass", "consent.read",         "consent.write",
      "customers.read",      "conversations.read",  "conversations.reply",  "routing.work",
      "collections.read",    "collections.contact", "cases.read",           "cases.write",
      "cases.work",          "approvals.request",   "approvals.read",       "kpis.read"};
  for (const auto& p : AllPermissions()) {
    EXPECT_EQ(RoleAllows("collections_manager", p), granted.contains(p)) << p;
  }
}

// Issue #12: the boundary policy is compliance's to declare; only bots (integration) and admins
// push automation sessions; only those who work tasks review a handoff packet.
TEST(IdentityPermissions, ComplianceDeclaresTheAutomationBoundaryAndAgentsReviewHandoffs) {
  for (const auto& role : AllRoles()) {
    EXPECT_EQ(RoleAllows(role, "automation.manage"),
              role == "compliance_officer" || role == "admin") << role;
    EXPECT_EQ(RoleAllows(role, "automation.write"), role == "integration" || role == "admin")
        << role;
    EXPECT_EQ(RoleAllows(role, "automation.review"),
              role == "agent" || role == "team_lead" || role == "supervisor") << role;
  }
}

// Issue #13: KPIs are read by those who run and check the floor, never by agents or systems;
// rebuilding the aggregates is an administrator's repair.
TEST(IdentityPermissions, OversightReadsKpisAndInvoicesAndOnlyAdminRebuildsOrSetsTheContract) {
  for (const auto& role : AllRoles()) {
    EXPECT_EQ(RoleAllows(role, "kpis.read"), role != "agent" && role != "integration") << role;
    EXPECT_EQ(RoleAllows(role, "kpis.rebuild"), role == "admin") << role;
    EXPECT_EQ(RoleAllows(role, "billing.read"), role == "supervisor" ||
              role == "compliance_officer" || role == "admin" || role == "auditor") << role;
    EXPECT_EQ(RoleAllows(role, "billing.manage"), role == "admin") << role;
  }
}

// Issue #14: a failed reply is sent again by whoever works the conversation — an agent only on
// the conversations of their own tasks (the route checks), leads and supervisors on any.
TEST(IdentityPermissions, AgentsRetryFailedRepliesOnTheirOwnTasksAndSupervisorsOnAny) {
  for (const auto& role : AllRoles()) {
    EXPECT_EQ(RoleAllows(role, "conversations.retry"),
              role == "agent" || role == "team_lead" || role == "supervisor") << role;
    EXPECT_EQ(RoleAllows(role, "conversations.retry_any"),
              role == "team_lead" || role == "supervisor") << role;
  }
}

TEST(IdentityPermissions, OnlyAdminManagesUsersKeysAndWebhooks) {
  for (const auto& role : AllRoles()) {
    for (auto p : {"users.manage", "api_keys.manage", "webhooks.manage", "tenant.admin"}) {
      EXPECT_EQ(RoleAllows(role, p), role == "admin") << role << " " << p;
    }
  }
}

TEST(IdentityPermissions, EveryRoleHoldsSomethingAndUnknownNamesHoldNothing) {
  EXPECT_EQ(AllRoles().size(), 10u);
  for (const auto& role : AllRoles()) {
    EXPECT_TRUE(IsRole(role));
    bool any = false;
    for (const auto& p : AllPermissions()) any = any || RoleAllows(role, p);
    EXPECT_TRUE(any) << role;
  }
  EXPECT_FALSE(IsRole("root"));
  EXPECT_FALSE(RoleAllows("root", "tenant.read"));
  EXPECT_FALSE(RoleAllows("admin", "tenant.delete"));
  EXPECT_TRUE(IsPermission("ledger.verify"));
  EXPECT_FALSE(IsPermission("ledger.write"));
}

TEST(IdentityPermissions, PrincipalAllowsWhatAnyOfItsRolesAllows) {
  Principal p{"acme", "usr_x", Principal::kUser, "ann", {"agent", "qa_analyst"}, ""};
  EXPECT_TRUE(p.Allows("ledger.read"));
  EXPECT_FALSE(p.Allows("users.manage"));
  p.roles.clear();
  EXPECT_FALSE(p.Allows("tenant.read"));
}

// ----- validation -----

TEST(IdentityValidation, TenantIdFollowsThePattern) {
  EXPECT_TRUE(detail::ValidateTenantId("acme").ok());
  EXPECT_TRUE(detail::ValidateTenantId("a1").ok());
  EXPECT_TRUE(detail::ValidateTenantId("0-bank-of-x").ok());
  EXPECT_TRUE(detail::ValidateTenantId(std::string(63, 'a')).ok());
  ExpectInvalid(detail::ValidateTenantId(std::string(64, 'a')), "tenant_id", "format");
  ExpectInvalid(detail::ValidateTenantId("a"), "tenant_id", "format");
  ExpectInvalid(detail::ValidateTenantId("-acme"), "tenant_id", "format");
  ExpectInvalid(detail::ValidateTenantId("Acme"), "tenant_id", "format");
  ExpectInvalid(detail::ValidateTenantId("ac_me"), "tenant_id", "format");
}

TEST(IdentityValidation, UsernameIsLowerCaseFromThreeTo128Characters) {
  EXPECT_TRUE(detail::ValidateUsername("ann.lee@bank-x_1").ok());
  EXPECT_TRUE(detail::ValidateUsername(std::string(128, 'a')).ok());
  ExpectInvalid(detail::ValidateUsername(std::string(129, 'a')), "username", "format");
  ExpectInvalid(detail::ValidateUsername("ab"), "username", "format");
  ExpectInvalid(detail::ValidateUsername("Ann"), "username", "format");
  ExpectInvalid(detail::ValidateUsername("ann lee"), "username", "format");
}

TEST(IdentityValidation, CreateTenantMustNameTheCommandsTenant) {
  ExpectInvalid(AsStatus(detail::ParseCreateTenant({{"tenant_id", "acme"}, {"name", "A"}}, "x")),
                "tenant_id", "mismatch");
  ExpectInvalid(AsStatus(detail::ParseCreateTenant({{"tenant_id", "acme"}}, "acme")), "name",
                "required");
  ExpectInvalid(AsStatus(detail::ParseCreateTenant(
                    {{"tenant_id", "acme"}, {"name", "A"}, {"extra", 1}}, "acme")),
                "extra", "unknown_field");
  ExpectInvalid(
      AsStatus(detail::ParseCreateTenant({{"tenant_id", "acme"}, {"name", "A\nB"}}, "acme")),
      "name", "control_chars");
}

TEST(IdentityValidation, CreateTenantConflictsWhenItExists) {
  auto req = detail::ParseCreateTenant({{"tenant_id", "acme"}, {"name", "Acme"}}, "acme");
  ASSERT_TRUE(req.ok());
  auto d = detail::DecideCreateTenant(*req, /*tenant_exists=*/false);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_EQ(d->events[0].type, "tenant_created");
  auto again = detail::DecideCreateTenant(*req, /*tenant_exists=*/true);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(again.error().rule, "exists");
}

TEST(IdentityValidation, RolesMustBeKnownDistinctAndBounded) {
  ExpectInvalid(AsStatus(detail::ParseRoles({{"roles", {"agent", "wizard"}}})), "roles.1",
                "unknown_role");
  ExpectInvalid(AsStatus(detail::ParseRoles({{"roles", {"agent", "agent"}}})), "roles.1",
                "duplicate");
  ExpectInvalid(AsStatus(detail::ParseRoles({{"roles", Json::array()}})), "roles", "required");
  ExpectInvalid(AsStatus(detail::ParseRoles({{"roles", "agent"}})), "roles", "type");
  Json many = Json::array();
  for (size_t i = 0; i <= limits::kRolesPerGrantMax; ++i) many.push_back("agent");
  ExpectInvalid(AsStatus(detail::ParseRoles({{"roles", many}})), "roles", "max_items");
}

TEST(IdentityValidation, CreateUserRefusesAPlaintextPassword) {
  Json p = {{"username", "ann"},
            {"display_name", "Ann"},
            {"password_hash", "correct horse battery"},
            {"roles", {"agent"}}};
  ExpectInvalid(AsStatus(detail::ParseCreateUser(p)), "password_hash", "format");
}

TEST(IdentityValidation, PrepareCreateUserChecksPasswordLengthAtTheLimits) {
  InitCrypto();
  const std::string too_short(limits::kPasswordBytesMin - 1, 'p');
  const std::string too_long(limits::kPasswordBytesMax + 1, 'p');
  ExpectInvalid(AsStatus(PrepareCreateUser("ann", "Ann", too_short, {"agent"})), "password",
                "min_bytes");
  ExpectInvalid(AsStatus(PrepareCreateUser("ann", "Ann", too_long, {"agent"})), "password",
                "max_bytes");
  ExpectInvalid(AsStatus(PrepareCreateUser("a n", "Ann", "long enough pass", {"agent"})),
                "username", "format");
  ExpectInvalid(AsStatus(PrepareCreateUser("ann", "Ann", "long enough pass", {"god"})), "roles.0",
                "unknown_role");
  auto ok = PrepareCreateUser("Ann.Lee", "Ann Lee", std::string(limits::kPasswordBytesMin, 'p'),
                              {"agent"});
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ((*ok)["username"], "ann.lee");
  EXPECT_TRUE((*ok)["password_hash"].get<std::string>().starts_with("$argon2id$"));
  EXPECT_TRUE(detail::ParseCreateUser(*ok).ok());
}

// ----- users and roles -----

TEST(IdentityUsers, CreateUserGrantsEachRoleAndConflictsOnATakenUsername) {
  SeededRandom rnd(1);
  const std::string id = NewId("usr", kNow, rnd);
  detail::CreateUserRequest req{"ann", "Ann", "$argon2id$v=19$x", {"agent", "qa_analyst"}};
  auto d = detail::DecideCreateUser(req, /*username_taken=*/false, id);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->events.size(), 3u);
  EXPECT_EQ(d->events[0].type, "user_created");
  EXPECT_EQ(d->events[1].type, "role_granted");
  EXPECT_EQ(d->events[2].payload["role"], "qa_analyst");
  EXPECT_FALSE(d->result.contains("password_hash"));
  auto taken = detail::DecideCreateUser(req, /*username_taken=*/true, id);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, ErrorCode::kConflict);
  EXPECT_EQ(taken.error().field, "username");
}

TEST(IdentityUsers, GrantingAHeldRoleConflictsAndUnknownUsersAreNotFound) {
  UserState ann{"usr_1", "ann", "active", 0, {}};
  detail::RoleChangeRequest req{"ann", "agent"};
  EXPECT_EQ(detail::DecideGrantRole(req, std::nullopt, {}).error().code, ErrorCode::kNotFound);
  auto held = detail::DecideGrantRole(req, ann, {"agent"});
  ASSERT_FALSE(held.ok());
  EXPECT_EQ(held.error().rule, "role_held");
  auto ok = detail::DecideGrantRole(req, ann, {"qa_analyst"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->events[0].type, "role_granted");
}

TEST(IdentityUsers, RevokingNeedsTheRoleAndKeepsTheLastAdmin) {
  UserState ann{"usr_1", "ann", "active", 0, {}};
  EXPECT_EQ(detail::DecideRevokeRole({"ann", "agent"}, ann, {"admin"}, 1).error().rule,
            "role_not_held");
  EXPECT_EQ(detail::DecideRevokeRole({"ann", "admin"}, ann, {"admin"}, 1).error().rule,
            "last_admin");
  auto ok = detail::DecideRevokeRole({"ann", "admin"}, ann, {"admin"}, 2);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->events[0].type, "role_revoked");
}

// ----- login and lockout -----

RecordLoginRequest BadPassword() {
  RecordLoginRequest r;
  r.username = "ann";
  r.remote_address = "10.0.0.1";
  r.reason = "bad_password";
  return r;
}

TEST(IdentityLockout, LocksAtExactlyTheNthConsecutiveBadPassword) {
  IdentityOptions o;
  o.login_failures_max = 5;
  UserState ann{"usr_1", "ann", "active", 3, {}};  // 4th failure: not yet locked
  auto fourth = detail::DecideRecordLogin(BadPassword(), ann, true, kNow, o);
  ASSERT_TRUE(fourth.ok());
  ASSERT_EQ(fourth->events.size(), 1u);
  EXPECT_EQ(fourth->events[0].type, "login_failed");
  EXPECT_EQ(fourth->events[0].payload["failed_logins"], 4);

  ann.failed_logins = 4;  // 5th failure: locked for lockout_s
  auto fifth = detail::DecideRecordLogin(BadPassword(), ann, true, kNow, o);
  ASSERT_TRUE(fifth.ok());
  ASSERT_EQ(fifth->events.size(), 2u);
  EXPECT_EQ(fifth->events[1].type, "account_locked");
  EXPECT_EQ(fifth->events[1].payload["locked_until_us"],
            (kNow + Duration::Seconds(o.lockout_s)).us);
}

TEST(IdentityLockout, ALockedAccountFailsEvenWithTheRightPasswordUntilTheLockExpires) {
  IdentityOptions o;
  UserState ann{"usr_1", "ann", "active", 0, kNow + Duration::Seconds(10)};
  RecordLoginRequest ok;
  ok.username = "ann";
  ok.succeeded = true;
  ok.remote_address = "10.0.0.1";
  ok.session_id = "ses_01J00000000000000000000000";
  ok.token_hash = std::string(64, 'a');
  ok.csrf_hash = std::string(64, 'b');
  ok.expires_at_us = (kNow + Duration::Hours(8)).us;
  auto locked = detail::DecideRecordLogin(ok, ann, true, kNow, o);
  ASSERT_TRUE(locked.ok());
  EXPECT_EQ(locked->events[0].type, "login_failed");
  EXPECT_EQ(locked->events[0].payload["reason"], "locked");
  EXPECT_EQ(locked->result["succeeded"], false);
  // At the instant the lock ends, the login goes through.
  auto after = detail::DecideRecordLogin(ok, ann, true, kNow + Duration::Seconds(10), o);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->events[0].type, "login_succeeded");
  EXPECT_EQ(after->result["succeeded"], true);
}

TEST(IdentityLockout, FailuresOtherThanBadPasswordDoNotCount) {
  IdentityOptions o;
  UserState ann{"usr_1", "ann", "active", 4, {}};
  RecordLoginRequest r = BadPassword();
  r.reason = "no_role";
  auto d = detail::DecideRecordLogin(r, ann, false, kNow, o);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_EQ(d->events[0].payload["failed_logins"], 4);
}

TEST(IdentityLogin, SuccessWithoutARoleInTheTenantIsRecordedAsNoRole) {
  IdentityOptions o;
  UserState ann{"usr_1", "ann", "active", 0, {}};
  RecordLoginRequest r;
  r.username = "ann";
  r.succeeded = true;
  r.remote_address = "x";
  auto d = detail::DecideRecordLogin(r, ann, /*has_role=*/false, kNow, o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->events[0].payload["reason"], "no_role");
}

TEST(IdentityLogin, UnknownUsersAreRecordedWithAnEmptyUserId) {
  auto d = detail::DecideRecordLogin(BadPassword(), std::nullopt, false, kNow, {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->events[0].payload["user_id"], "");
  EXPECT_EQ(d->events[0].payload["reason"], "unknown_user");
}

TEST(IdentityLogin, RecordLoginRejectsTokensOnAFailureAndPlaintextLookingHashes) {
  Json failed = {{"username", "ann"},
                 {"succeeded", false},
                 {"remote_address", "x"},
                 {"reason", "bad_password"},
                 {"token_hash", std::string(64, 'a')}};
  ExpectInvalid(AsStatus(detail::ParseRecordLogin(failed)), "token_hash", "forbidden");
  Json ok = {{"username", "ann"},
             {"succeeded", true},
             {"remote_address", "x"},
             {"session_id", "ses_01J00000000000000000000000"},
             {"token_hash", "my-secret-token"},
             {"csrf_hash", std::string(64, 'b')},
             {"expires_at_us", 1}};
  ExpectInvalid(AsStatus(detail::ParseRecordLogin(ok)), "token_hash", "format");
  ok["token_hash"] = std::string(64, 'a');
  EXPECT_TRUE(detail::ParseRecordLogin(ok).ok());
}

// ----- API keys -----

TEST(IdentityApiKeys, ThePlaintextKeyAppearsOnlyInOnce) {
  SeededRandom rnd(7);
  const std::string key_id = NewId("key", kNow, rnd);
  std::string secret_bytes(detail::kApiKeySecretBytes, '\0');
  rnd.Fill(
      std::span<uint8_t>(reinterpret_cast<uint8_t*>(secret_bytes.data()), secret_bytes.size()));
  auto d = detail::DecideCreateApiKey({"crm", {"integration"}}, key_id, secret_bytes);
  ASSERT_TRUE(d.ok());
  const std::string key = d->once["key"];
  auto parsed = ParseApiKey(key);
  ASSERT_TRUE(parsed.has_value()) << key;
  EXPECT_EQ(parsed->key_id, key_id);
  EXPECT_EQ(parsed->secret.size(), 43u);
  const std::string secret(parsed->secret);
  EXPECT_EQ(d->result.dump().find(secret), std::string::npos);
  ASSERT_EQ(d->events.size(), 1u);
  const std::string event = d->events[0].payload.dump();
  EXPECT_EQ(event.find(secret), std::string::npos);
  EXPECT_EQ(d->events[0].payload["secret_hash"], HexEncode(Sha256(secret)));
}

TEST(IdentityApiKeys, MalformedKeysDoNotParse) {
  EXPECT_FALSE(ParseApiKey("").has_value());
  EXPECT_FALSE(ParseApiKey("obx_key_x_abc").has_value());
  const std::string good = "obx_key_01J00000000000000000000000_" + std::string(43, 'A');
  EXPECT_TRUE(ParseApiKey(good).has_value());
  std::string bad_char = good;
  bad_char.back() = '=';
  EXPECT_FALSE(ParseApiKey(bad_char).has_value());
  EXPECT_FALSE(ParseApiKey(good + "A").has_value());
}

TEST(IdentityApiKeys, RevokingAnUnknownKeyIsNotFoundAndTwiceConflicts) {
  const std::string id = "key_01J00000000000000000000000";
  EXPECT_EQ(detail::DecideRevokeApiKey(id, std::nullopt).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(detail::DecideRevokeApiKey(id, detail::ApiKeyState{id, true}).error().rule,
            "already_revoked");
  auto ok = detail::DecideRevokeApiKey(id, detail::ApiKeyState{id, false});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->events[0].type, "api_key_revoked");
}

TEST(IdentitySessions, LogoutOfARevokedSessionRecordsNothing) {
  const std::string id = "ses_01J00000000000000000000000";
  auto d = detail::DecideLogout(id, detail::SessionState{id, "usr_1", true});
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->events.empty());
  auto live = detail::DecideLogout(id, detail::SessionState{id, "usr_1", false});
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->events[0].type, "session_revoked");
  EXPECT_EQ(detail::DecideLogout(id, std::nullopt).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace opsbox::identity
