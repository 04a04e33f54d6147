// Goal: through a real ledger writer, on SQLite and PostgreSQL: unmasking needs a known record
// type and field and a reason, is audited (field_unmasked in the ledger and the unmask report)
// and never puts the value in the ledger or the command result; break-glass shows clear values
// only until it expires (injected clock) and is reviewed by someone other than its grantee;
// consent given allows and withdrawn denies per purpose, channel and time, also after a reload;
// retention enforces the DPDP minimum for logs, a dry run changes nothing and a real run emits
// retention_applied for the owning module; reports read their projections.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/random.hpp"
#include "identity/identity.hpp"
#include "ledger/writer.hpp"
#include "privacy/consent.hpp"
#include "privacy/governance.hpp"
#include "privacy/keyring.hpp"
#include "privacy/reports.hpp"
#include "privacy/retention.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::privacy {
namespace {

using store::Dialect;

const Instant kStart{1795342530000000};  // 2026-11-22T10:15:30Z
constexpr uint64_t kSeed = 7331;
const std::string kPhone = "+919876543210";

class GovernanceDbTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    InitCrypto();
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    auto db = store::NewTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.error().ToString();
    conn_ = std::move(*conn);
    identity::RegisterIdentity(registry_, identity::IdentityOptions{});
    auto keyring = Keyring::Create(NewMemoryKeyProvider(), clock_);
    ASSERT_TRUE(keyring.ok()) << keyring.error().ToString();
    keyring_ = std::move(*keyring);
    keyring_->Register(registry_);  // seals the credential fields of user_created
    gov_.AddRecordType("customer", {{"phone", FieldClass::kPhone}, {"name", FieldClass::kName}},
                       [](store::Connection&, std::string_view, std::string_view id,
                          std::string_view field) -> Result<Opened> {
                         if (id == "cus_gone") return Opened{true, Json()};
                         if (id != "cus_1")
                           return Error::NotFound("no customer " + std::string(id));
                         return Opened{false, Json(field == "phone" ? kPhone : "Asha Rao")};
                       });
    gov_.AddRetentionTarget("conversation", "crypto_shred",
                            [this](store::Tx&, std::string_view, Instant before, size_t limit) {
                              std::vector<std::string> out;
                              for (const auto& [id, closed] : closed_conversations_) {
                                if (closed < before && out.size() < limit) out.push_back(id);
                              }
                              return Result<std::vector<std::string>>(out);
                            });
    gov_.Register(registry_);
    registry_.AddProjector("retention_applied", [this](store::Tx&, const ledger::Event& e) {
      applied_.push_back(Json::parse(e.payload));
      return Ok();
    });
    // Stands in for the modules that emit the events the reports read.
    registry_.AddCommand("emit", [](store::Tx&, const ledger::Command& c, Instant, Random&) {
      ledger::Decision d;
      d.events.push_back({c.payload.at("type").get<std::string>(), c.payload.at("payload")});
      return Result<ledger::Decision>(std::move(d));
    });
    writer_ =
        std::make_unique<ledger::Writer>(*db_, registry_, clock_, random_, ledger::WriterOptions{});
    ASSERT_TRUE(writer_->Start().ok());
    ASSERT_TRUE(Submit(identity::kCreateTenant, {{"tenant_id", "acme"}, {"name", "Acme"}}).ok());
  }

  void TearDown() override {
    if (writer_) writer_->Stop();
  }

  Result<ledger::CommandOutcome> Submit(std::string_view type, Json payload,
                                        std::string actor = "usr_lead") {
    return writer_->SubmitAndWait(
        ledger::Command{"acme", "", std::string(type), std::move(actor), std::move(payload)});
  }

  Json Unmask(std::string record_type, std::string field, std::string reason) {
    return Json{{"record_type", std::move(record_type)},
                {"record_id", "cus_1"},
                {"field", std::move(field)},
                {"reason", std::move(reason)}};
  }

  std::vector<std::string> Payloads(const std::string& type) {
    store::Value p[] = {std::string("acme"), type};
    auto rows = conn_->Query(
        "SELECT payload FROM ledger_events WHERE tenant_id = ? AND type = ? ORDER BY seq", p);
    EXPECT_TRUE(rows.ok()) << rows.error().ToString();
    std::vector<std::string> out;
    if (rows.ok()) {
      for (const auto& r : *rows) out.push_back(r.Text(0));
    }
    return out;
  }

  Json Consent(std::string purpose, std::string channel, std::string at = "") {
    Json j{{"customer_id", "cus_1"},        {"purpose", std::move(purpose)},
           {"channel", std::move(channel)}, {"source", "ivr"},
           {"notice_version", "2026-01"},   {"evidence", "rec_778"}};
    if (!at.empty()) j["at"] = at;
    return j;
  }

  static identity::Principal Agent(std::string actor = "usr_lead") {
    identity::Principal p;
    p.tenant_id = "acme";
    p.actor_id = std::move(actor);
    p.roles = {"team_lead"};
    return p;
  }

  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Connection> conn_;
  ledger::Registry registry_;
  Governance gov_;
  ManualClock clock_{kStart};
  SeededRandom random_{kSeed};
  std::unique_ptr<Keyring> keyring_;
  std::unique_ptr<ledger::Writer> writer_;
  std::vector<std::pair<std::string, Instant>> closed_conversations_;
  std::vector<Json> applied_;
};

TEST_P(GovernanceDbTest, UnmaskIsAuditedAndTheValueNeverEntersTheLedger) {
  auto r = Submit(kUnmaskField, Unmask("customer", "phone", "customer asked to verify number"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->result.dump().find("9876543210"), std::string::npos);
  EXPECT_EQ(r->result.at("field_class"), "phone");

  const auto events = Payloads("field_unmasked");
  ASSERT_EQ(events.size(), 1u);
  const Json ev = Json::parse(events[0]);
  EXPECT_EQ(ev.at("reason"), "customer asked to verify number");
  EXPECT_EQ(ev.at("record_id"), "cus_1");
  auto all = conn_->Query("SELECT payload FROM ledger_events");
  ASSERT_TRUE(all.ok());
  for (const auto& row : *all) EXPECT_EQ(row.Text(0).find("9876543210"), std::string::npos);

  auto value = gov_.ReadField(*conn_, "acme", "customer", "cus_1", "phone");
  ASSERT_TRUE(value.ok()) << value.error().ToString();
  EXPECT_EQ(value->value, kPhone);

  auto report = detail::UnmaskReport(*conn_, "acme", 0, 50);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  ASSERT_EQ(report->at("unmasks").size(), 1u);
  EXPECT_EQ(report->at("unmasks")[0].at("actor"), "usr_lead");
  EXPECT_EQ(report->at("unmasks")[0].at("field"), "phone");
}

TEST_P(GovernanceDbTest, UnmaskWithoutAReasonOfTenCharactersIsRefused) {
  Json missing = Unmask("customer", "phone", "");
  missing.erase("reason");
  auto r = Submit(kUnmaskField, missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "reason");
  EXPECT_EQ(r.error().rule, "required");
  r = Submit(kUnmaskField, Unmask("customer", "phone", "because"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "reason");
  EXPECT_EQ(r.error().rule, "length");
  EXPECT_TRUE(Payloads("field_unmasked").empty());
}

TEST_P(GovernanceDbTest, UnknownRecordTypesAndFieldsAreNamedInTheError) {
  auto r = Submit(kUnmaskField, Unmask("invoice", "phone", "a good enough reason"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "record_type");
  EXPECT_EQ(r.error().rule, "unknown_record_type");
  EXPECT_NE(r.error().message.find("invoice"), std::string::npos);
  r = Submit(kUnmaskField, Unmask("customer", "salary", "a good enough reason"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "field");
  EXPECT_EQ(r.error().rule, "unknown_field");
  EXPECT_NE(r.error().message.find("salary"), std::string::npos);
  EXPECT_NE(r.error().message.find("phone"), std::string::npos);
}

TEST_P(GovernanceDbTest, BreakGlassShowsClearValuesUntilItExpires) {
  const Opened phone{false, Json(kPhone)};
  EXPECT_EQ(gov_.Present(Agent(), FieldClass::kPhone, phone, clock_.Now()), "+91******3210");
  auto r = Submit(kStartBreakGlass,
                  {{"reason", "fraud in progress on the account"}, {"duration_min", 30}});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->result.at("expires_at"), FormatRfc3339(kStart + Duration::Minutes(30)));
  EXPECT_EQ(gov_.Present(Agent(), FieldClass::kPhone, phone, clock_.Now()), kPhone);
  EXPECT_EQ(gov_.Present(Agent("usr_other"), FieldClass::kPhone, phone, clock_.Now()),
            "+91******3210");

  Governance reloaded;
  ASSERT_TRUE(reloaded.Load(*conn_, clock_.Now()).ok());
  EXPECT_TRUE(reloaded.BreakGlassActive("acme", "usr_lead", clock_.Now()));

  clock_.Advance(Duration::Minutes(30));
  EXPECT_EQ(gov_.Present(Agent(), FieldClass::kPhone, phone, clock_.Now()), "+91******3210");
  EXPECT_FALSE(reloaded.BreakGlassActive("acme", "usr_lead", clock_.Now()));
}

TEST_P(GovernanceDbTest, BreakGlassDurationIsLimited) {
  auto r = Submit(kStartBreakGlass, {{"reason", "fraud in progress"}, {"duration_min", 241}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "duration_min");
  r = Submit(kStartBreakGlass, {{"reason", "fraud in progress"}, {"duration_min", 0}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "range");
}

TEST_P(GovernanceDbTest, BreakGlassIsReviewedOnceBySomeoneElse) {
  auto r = Submit(kStartBreakGlass, {{"reason", "fraud in progress"}, {"duration_min", 5}});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const std::string id = r->result.at("grant_id");
  auto pending = detail::BreakGlassGrants(*conn_, "acme", clock_.Now(), false, 50);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->at("grants").size(), 1u);
  EXPECT_EQ(pending->at("grants")[0].at("status"), "active");

  const Json review{{"grant_id", id}, {"outcome", "justified"}, {"notes", "confirmed fraud"}};
  auto self = Submit(kReviewBreakGlass, review, "usr_lead");
  ASSERT_FALSE(self.ok());
  EXPECT_EQ(self.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(self.error().rule, "reviewer_is_grantee");
  auto ok = Submit(kReviewBreakGlass, review, "usr_compliance");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  auto again = Submit(kReviewBreakGlass, review, "usr_compliance2");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().rule, "already_reviewed");
  auto missing = Submit(kReviewBreakGlass, {{"grant_id", "bgl_nope"}, {"outcome", "justified"}},
                        "usr_compliance");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  pending = detail::BreakGlassGrants(*conn_, "acme", clock_.Now(), false, 50);
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->at("grants").empty());
  auto all = detail::BreakGlassGrants(*conn_, "acme", clock_.Now(), true, 50);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->at("grants").size(), 1u);
  EXPECT_EQ(all->at("grants")[0].at("reviewed_by"), "usr_compliance");
  EXPECT_EQ(all->at("grants")[0].at("outcome"), "justified");
}

TEST_P(GovernanceDbTest, ConsentGivenAllowsAndWithdrawnDeniesPerPurposeChannelAndTime) {
  const Instant t0 = clock_.Now();
  ASSERT_TRUE(Submit(kRecordConsent, Consent("marketing", "whatsapp")).ok());
  ASSERT_TRUE(Submit(kRecordConsent, Consent("service", "sms")).ok());
  EXPECT_TRUE(gov_.ConsentAllows("acme", "cus_1", "marketing", "whatsapp", t0));
  EXPECT_FALSE(gov_.ConsentAllows("acme", "cus_1", "marketing", "sms", t0));
  EXPECT_FALSE(gov_.ConsentAllows("acme", "cus_1", "collections", "whatsapp", t0));

  clock_.Advance(Duration::Hours(1));
  const Instant t1 = clock_.Now();
  ASSERT_TRUE(Submit(kWithdrawConsent, Consent("marketing", "whatsapp")).ok());
  EXPECT_FALSE(gov_.ConsentAllows("acme", "cus_1", "marketing", "whatsapp", t1));
  EXPECT_TRUE(
      gov_.ConsentAllows("acme", "cus_1", "marketing", "whatsapp", t1 - Duration::Minutes(1)));
  EXPECT_TRUE(gov_.ConsentAllows("acme", "cus_1", "service", "sms", t1));

  Governance reloaded;
  ASSERT_TRUE(reloaded.Load(*conn_, t1).ok());
  EXPECT_FALSE(reloaded.ConsentAllows("acme", "cus_1", "marketing", "whatsapp", t1));
  EXPECT_TRUE(reloaded.ConsentAllows("acme", "cus_1", "service", "sms", t1));

  auto view = detail::CustomerConsents(*conn_, "acme", "cus_1", 50);
  ASSERT_TRUE(view.ok()) << view.error().ToString();
  EXPECT_EQ(view->at("current").size(), 2u);
  ASSERT_EQ(view->at("history").size(), 3u);
  EXPECT_EQ(view->at("history")[0].at("status"), "withdrawn");
  EXPECT_EQ(view->at("history")[0].at("evidence"), "rec_778");
}

TEST_P(GovernanceDbTest, ConsentChangesAreValidated) {
  auto r = Submit(kRecordConsent, Consent("telepathy", "sms"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "purpose");
  r = Submit(kRecordConsent, Consent("service", "fax"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "channel");
  r = Submit(kRecordConsent, Consent("service", "sms", "2099-01-01T00:00:00Z"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "at");
  EXPECT_EQ(r.error().rule, "future");
}

TEST_P(GovernanceDbTest, LogRetentionBelowOneYearNamesTheDpdpRule) {
  auto r = Submit(kSetRetentionPolicy,
                  {{"record_type", "access_log"}, {"retain_days", 364}, {"action", "anonymise"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "retain_days");
  EXPECT_NE(r.error().rule.find("dpdp_rules_2025"), std::string::npos);
  EXPECT_NE(r.error().message.find("Data Protection Rules, 2025"), std::string::npos);
  r = Submit(kSetRetentionPolicy,
             {{"record_type", "access_log"}, {"retain_days", 365}, {"action", "anonymise"}});
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  r = Submit(kSetRetentionPolicy,
             {{"record_type", "conversation"}, {"retain_days", 30}, {"action", "anonymise"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "unsupported_action");
}

TEST_P(GovernanceDbTest, RetentionDryRunChangesNothingAndARealRunEmitsRetentionApplied) {
  closed_conversations_ = {{"conv_old", kStart - Duration::Hours(24 * 40)},
                           {"conv_new", kStart - Duration::Hours(24 * 10)}};
  ASSERT_TRUE(
      Submit(kSetRetentionPolicy,
             {{"record_type", "conversation"}, {"retain_days", 30}, {"action", "crypto_shred"}})
          .ok());
  ASSERT_TRUE(Submit(kSetRetentionPolicy,
                     {{"record_type", "recording"}, {"retain_days", 365}, {"action", "anonymise"}})
                  .ok());
  auto dry = Submit(kRunRetention, {{"dry_run", true}});
  ASSERT_TRUE(dry.ok()) << dry.error().ToString();
  EXPECT_TRUE(applied_.empty());
  EXPECT_TRUE(Payloads("retention_applied").empty());
  const Json& items = dry->result.at("items");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("record_type"), "conversation");
  EXPECT_EQ(items[0].at("status"), "would_apply");
  EXPECT_EQ(items[0].at("record_ids"), Json::array({"conv_old"}));
  EXPECT_EQ(items[1].at("status"), "no_target");

  auto real = Submit(kRunRetention, {{"dry_run", false}}, "system");
  ASSERT_TRUE(real.ok()) << real.error().ToString();
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(applied_[0].at("record_ids"), Json::array({"conv_old"}));
  EXPECT_EQ(applied_[0].at("action"), "crypto_shred");
  EXPECT_EQ(Payloads("retention_run_recorded").size(), 2u);

  auto runs = detail::ListRetentionRuns(*conn_, "acme", 10);
  ASSERT_TRUE(runs.ok()) << runs.error().ToString();
  ASSERT_EQ(runs->at("runs").size(), 2u);
  EXPECT_EQ(runs->at("runs")[0].at("dry_run"), false);
  EXPECT_EQ(runs->at("runs")[1].at("dry_run"), true);
  auto policies = gov_.ListRetentionPolicies(*conn_, "acme");
  ASSERT_TRUE(policies.ok());
  EXPECT_EQ(policies->at("policies").size(), 2u);
  EXPECT_EQ(policies->at("policies")[0].at("target_registered"), true);
}

TEST_P(GovernanceDbTest, TheSchedulerRunsRetentionOncePerIntervalForTenantsWithPolicies) {
  closed_conversations_ = {{"conv_old", kStart - Duration::Hours(24 * 40)}};
  ASSERT_TRUE(
      Submit(kSetRetentionPolicy,
             {{"record_type", "conversation"}, {"retain_days", 30}, {"action", "crypto_shred"}})
          .ok());
  RetentionScheduler scheduler(*db_, *writer_, clock_, kRetentionRunInterval);
  ASSERT_TRUE(scheduler.RunOnce().ok());
  ASSERT_TRUE(scheduler.RunOnce().ok());  // same interval: the command id repeats
  EXPECT_EQ(applied_.size(), 1u);
  EXPECT_EQ(Payloads("retention_run_recorded").size(), 1u);
  clock_.Advance(kRetentionRunInterval);
  ASSERT_TRUE(scheduler.RunOnce().ok());
  EXPECT_EQ(Payloads("retention_run_recorded").size(), 2u);
  auto runs = detail::ListRetentionRuns(*conn_, "acme", 10);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->at("runs")[0].at("actor"), "system");
}

TEST_P(GovernanceDbTest, SensitiveDataExceptionsAreReportedByChannelAndAgent) {
  auto emit = [&](std::string channel, std::string kind, std::string sender, int count) {
    return Submit("emit", {{"type", "sensitive_data_exception_recorded"},
                           {"payload",
                            {{"channel", channel},
                             {"conversation_id", "conv_1"},
                             {"message_id", "msg_1"},
                             {"sender_kind", kind},
                             {"sender_id", sender},
                             {"types", {"card"}},
                             {"count", count}}}});
  };
  ASSERT_TRUE(emit("chat", "customer", "cus_1", 1).ok());
  ASSERT_TRUE(emit("chat", "agent", "usr_a", 2).ok());
  ASSERT_TRUE(emit("email", "agent", "usr_a", 1).ok());
  EXPECT_EQ(gov_.SensitiveDataExceptionsSeen(), 3u);
  auto report = detail::SensitiveDataExceptionReport(*conn_, "acme", Instant{0},
                                                     kStart + Duration::Hours(1), 50);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->at("total"), 3);
  EXPECT_EQ(report->at("findings"), 4);
  ASSERT_EQ(report->at("by_channel").size(), 2u);
  EXPECT_EQ(report->at("by_channel")[0].at("channel"), "chat");
  EXPECT_EQ(report->at("by_channel")[0].at("count"), 2);
  ASSERT_EQ(report->at("by_agent").size(), 1u);
  EXPECT_EQ(report->at("by_agent")[0].at("sender_id"), "usr_a");
  EXPECT_EQ(report->at("by_agent")[0].at("count"), 2);
}

TEST_P(GovernanceDbTest, ErasuresAndAccessReviewAreReported) {
  ASSERT_TRUE(Submit("emit", {{"type", "subject_erased"},
                              {"payload", {{"subject_id", "cus_9"}, {"request_id", "dsr_1"}}}})
                  .ok());
  auto erasures = detail::ErasureReport(*conn_, "acme", 50);
  ASSERT_TRUE(erasures.ok()) << erasures.error().ToString();
  ASSERT_EQ(erasures->at("erasures").size(), 1u);
  EXPECT_EQ(erasures->at("erasures")[0].at("subject_id"), "cus_9");

  auto user = identity::PrepareCreateUser("ann", "Ann", "a long password 123", {"agent"});
  ASSERT_TRUE(user.ok());
  auto created = Submit(identity::kCreateUser, *user, "system");
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  const std::string user_id = created->result.at("user_id");
  auto review = detail::AccessReview(*conn_, "acme", clock_.Now(), 100);
  ASSERT_TRUE(review.ok()) << review.error().ToString();
  ASSERT_EQ(review->at("users").size(), 1u);
  EXPECT_EQ(review->at("users")[0].at("roles"), Json::array({"agent"}));
  EXPECT_EQ(review->at("users")[0].at("unused"), false);
  auto later = detail::AccessReview(*conn_, "acme", clock_.Now() + Duration::Hours(24 * 91), 100);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->at("users")[0].at("unused"), true);
  ASSERT_EQ(later->at("unused_grants").size(), 1u);
  EXPECT_EQ(later->at("unused_grants")[0].at("principal_id"), user_id);

  // A command the user issues counts as use.
  ASSERT_TRUE(Submit(kRecordConsent, Consent("service", "chat"), user_id).ok());
  auto used = detail::AccessReview(*conn_, "acme", clock_.Now(), 100);
  ASSERT_TRUE(used.ok());
  EXPECT_FALSE(used->at("users")[0].at("last_used_at").is_null());
}

INSTANTIATE_TEST_SUITE_P(All, GovernanceDbTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::privacy
