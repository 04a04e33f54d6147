// Goal: personal fields of events are sealed per data subject through the real ledger writer and
// open back; erasure (maker-checker, legal holds, deadlines) destroys the keys of the subject and
// its scopes so its values open as erased while `ledger verify` still passes; rotation keeps
// values readable; tampering fails with a clear error. Runs on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "ledger/reader.hpp"
#include "ledger/verify.hpp"
#include "ledger/writer.hpp"
#include "privacy/erasure.hpp"
#include "privacy/keyring.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::privacy {
namespace {

constexpr char kTenant[] = "acme";

class KeysErasureTest : public store::DbTest {
 protected:
  void SetUp() override {
    InitCrypto();
    store::DbTest::SetUp();
    if (HasFatalFailure()) return;
    auto k = Keyring::Create(NewMemoryKeyProvider(), clock_);
    ASSERT_TRUE(k.ok()) << k.error().ToString();
    keyring_ = std::move(*k);
    keyring_->Register(registry_);
    RegisterErasure(registry_, *keyring_);
    keyring_->AddErasureScrubber([this](store::Tx&, const std::string& tenant,
                                        const std::string& subject) -> Status {
      scrubbed_.push_back(tenant + ":" + subject);
      return Ok();
    });
    // note_personal {subject_id, fields:{...}, personal:[...]} appends personal_noted.
    registry_.DeclareEvents({"personal_noted"});
    registry_.AddCommand("note_personal", [](store::Tx&, const ledger::Command& c, Instant,
                                             Random&) -> Result<ledger::Decision> {
      ledger::Decision d;
      ledger::NewEvent e{"personal_noted", c.payload["fields"]};
      e.subject_id = c.payload["subject_id"].get<std::string>();
      e.personal_fields = c.payload["personal"].get<std::vector<std::string>>();
      d.events.push_back(std::move(e));
      return d;
    });
    writer_ = std::make_unique<ledger::Writer>(*db_, registry_, clock_, random_,
                                               ledger::WriterOptions{});
    ASSERT_TRUE(writer_->Start().ok());
    auto c = db_->Connect();
    ASSERT_TRUE(c.ok());
    conn_ = std::move(*c);
  }

  void TearDown() override {
    if (writer_) writer_->Stop();
  }

  Result<ledger::CommandOutcome> Submit(std::string type, Json payload,
                                        std::string actor = "usr_maker") {
    return writer_->SubmitAndWait(
        ledger::Command{kTenant, "", std::move(type), std::move(actor), std::move(payload)});
  }

  // Appends one personal_noted event and returns its stored payload.
  Json Note(const std::string& subject, Json fields, std::vector<std::string> personal) {
    auto out = Submit("note_personal",
                      {{"subject_id", subject}, {"fields", fields}, {"personal", personal}});
    EXPECT_TRUE(out.ok()) << out.error().ToString();
    if (!out.ok()) return Json();
    auto e = ledger::ReadEvent(*conn_, kTenant, out->first_seq);
    EXPECT_TRUE(e.ok());
    return Json::parse(e->payload);
  }

  Opened MustOpen(const Json& v) {
    auto o = keyring_->Open(*conn_, kTenant, v);
    EXPECT_TRUE(o.ok()) << o.error().ToString();
    return o.ok() ? *o : Opened{};
  }

  std::string OpenErasure(const std::string& subject, std::string actor = "usr_maker") {
    auto out = Submit("open_subject_request",
                      {{"subject_id", subject}, {"kind", "erasure"}, {"reason", "customer asked"}},
                      std::move(actor));
    EXPECT_TRUE(out.ok()) << out.error().ToString();
    return out.ok() ? out->result["request_id"].get<std::string>() : "";
  }

  void ExpectLedgerVerifies() {
    auto report = ledger::VerifyTenant(*conn_, kTenant, {});
    ASSERT_TRUE(report.ok()) << report.error().ToString();
    EXPECT_TRUE(report->ok) << report->reason;
  }

  ManualClock clock_{Instant{1767225600000000}};  // 2026-01-01T00:00:00Z
  SeededRandom random_{20260101};
  ledger::Registry registry_;
  std::unique_ptr<Keyring> keyring_;
  std::unique_ptr<ledger::Writer> writer_;
  std::unique_ptr<store::Connection> conn_;
  std::vector<std::string> scrubbed_;
};

TEST_P(KeysErasureTest, SealsPersonalFieldsAndOpensThemBack) {
  Json stored = Note("cus_1", {{"name", "Asha Rao"}, {"phone", "+919876543210"},
                               {"age", 41}, {"tags", {"vip", "nri"}}, {"channel", "chat"},
                               {"email", nullptr}},
                     {"name", "phone", "tags", "email", "missing"});
  EXPECT_TRUE(Keyring::IsSealed(stored["name"]));
  EXPECT_TRUE(Keyring::IsSealed(stored["phone"]));
  EXPECT_TRUE(Keyring::IsSealed(stored["tags"]));
  EXPECT_EQ(stored["channel"], "chat");  // not personal: left alone
  EXPECT_TRUE(stored["email"].is_null());
  EXPECT_FALSE(stored.contains("missing"));
  EXPECT_EQ(stored.dump().find("Asha"), std::string::npos);
  EXPECT_EQ(MustOpen(stored["name"]).value, "Asha Rao");
  EXPECT_EQ(MustOpen(stored["tags"]).value, Json({"vip", "nri"}));
  EXPECT_EQ(MustOpen(stored["channel"]).value, "chat");  // not sealed: as it is
  EXPECT_FALSE(MustOpen(stored["phone"]).erased);
  // A second event of the same subject reuses its one key; the cache serves it.
  Note("cus_1", {{"name", "Asha R."}}, {"name"});
  auto keys = conn_->Query("SELECT COUNT(*) FROM privacy_subject_keys");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*keys)[0].Int(0), 1);
  keyring_->DropCache();
  EXPECT_EQ(MustOpen(stored["phone"]).value, "+919876543210");
  ExpectLedgerVerifies();
}

TEST_P(KeysErasureTest, ErasedSubjectAndItsScopesOpenAsErasedAndTheLedgerStillVerifies) {
  Json parent = Note("cus_1", {{"name", "Asha Rao"}}, {"name"});
  Json scope = Note("cus_1/conv_7", {{"text", "my card is blocked"}}, {"text"});
  Json other = Note("cus_10", {{"name", "Ravi"}}, {"name"});
  Json lookalike = Note("cus_1x/conv_1", {{"text", "unrelated"}}, {"text"});
  const std::string request = OpenErasure("cus_1");
  auto approved = Submit("approve_erasure", {{"request_id", request}}, "usr_checker");
  ASSERT_TRUE(approved.ok()) << approved.error().ToString();

  EXPECT_TRUE(MustOpen(parent["name"]).erased);
  EXPECT_TRUE(MustOpen(scope["text"]).erased);
  EXPECT_TRUE(MustOpen(parent["name"]).value.is_null());
  EXPECT_EQ(MustOpen(other["name"]).value, "Ravi");
  EXPECT_EQ(MustOpen(lookalike["text"]).value, "unrelated");
  EXPECT_EQ(scrubbed_, std::vector<std::string>{"acme:cus_1"});
  auto wrapped = conn_->Query(
      "SELECT COUNT(*) FROM privacy_subject_keys WHERE wrapped = '' AND destroyed_at_us IS NOT "
      "NULL");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ((*wrapped)[0].Int(0), 2);
  auto req = GetSubjectRequest(*conn_, kTenant, request, clock_.Now());
  ASSERT_TRUE(req.ok());
  EXPECT_EQ((*req)["status"], "done");
  EXPECT_EQ((*req)["approved_by"], "usr_checker");
  EXPECT_EQ((*req)["keys_destroyed"], 2);
  ExpectLedgerVerifies();
  // New personal data of the subject after erasure gets a new key and reads.
  Json later = Note("cus_1", {{"name", "New Name"}}, {"name"});
  EXPECT_EQ(MustOpen(later["name"]).value, "New Name");
}

TEST_P(KeysErasureTest, TheMakerCannotApproveTheirOwnErasure) {
  Json v = Note("cus_2", {{"name", "Meera"}}, {"name"});
  const std::string request = OpenErasure("cus_2", "usr_maker");
  auto self = Submit("approve_erasure", {{"request_id", request}}, "usr_maker");
  ASSERT_FALSE(self.ok());
  EXPECT_EQ(self.error().rule, "maker_checker");
  EXPECT_EQ(self.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(self.error().message.find("usr_maker"), std::string::npos);
  EXPECT_EQ(MustOpen(v["name"]).value, "Meera");
  auto again = Submit("approve_erasure", {{"request_id", request}}, "usr_checker");
  ASSERT_TRUE(again.ok());
  auto twice = Submit("approve_erasure", {{"request_id", request}}, "usr_other");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().rule, "state");
}

TEST_P(KeysErasureTest, ALegalHoldOnTheSubjectOrAScopeBlocksErasureUntilReleased) {
  Json v = Note("cus_3/conv_1", {{"text", "dispute details"}}, {"text"});
  auto hold = Submit("place_legal_hold", {{"subject_id", "cus_3/conv_1"},
                                          {"reason", "litigation"},
                                          {"case_ref", "CASE-42"}});
  ASSERT_TRUE(hold.ok()) << hold.error().ToString();
  const std::string hold_id = hold->result["hold_id"];
  const std::string request = OpenErasure("cus_3");
  auto blocked = Submit("approve_erasure", {{"request_id", request}}, "usr_checker");
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().rule, "legal_hold");
  EXPECT_NE(blocked.error().message.find(hold_id), std::string::npos);
  EXPECT_NE(blocked.error().message.find("CASE-42"), std::string::npos);
  EXPECT_EQ(MustOpen(v["text"]).value, "dispute details");

  auto holds = ListLegalHolds(*conn_, kTenant, true, "", "", 10);
  ASSERT_TRUE(holds.ok());
  ASSERT_EQ((*holds)["items"].size(), 1u);
  auto released = Submit("release_legal_hold", {{"hold_id", hold_id}, {"reason", "settled"}});
  ASSERT_TRUE(released.ok()) << released.error().ToString();
  auto ok = Submit("approve_erasure", {{"request_id", request}}, "usr_checker");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_TRUE(MustOpen(v["text"]).erased);
}

TEST_P(KeysErasureTest, DeadlinesAreOneCalendarMonthExtendableByTwoMore) {
  auto opened = Submit("open_subject_request", {{"subject_id", "cus_4"},
                                                {"kind", "access"},
                                                {"received_at", "2025-01-31T09:00:00Z"},
                                                {"reason", "copy of my data"}});
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(opened->result["due_at"], "2025-02-28T09:00:00.000000Z");
  const std::string id = opened->result["request_id"];
  auto req = GetSubjectRequest(*conn_, kTenant, id, clock_.Now());
  ASSERT_TRUE(req.ok());
  EXPECT_EQ((*req)["overdue"], true);  // now is 2026-01-01

  auto ext = Submit("extend_subject_request",
                    {{"request_id", id}, {"extension_months", 1}, {"reason", "complex"}});
  ASSERT_TRUE(ext.ok()) << ext.error().ToString();
  EXPECT_EQ(ext->result["due_at"], "2025-03-31T09:00:00.000000Z");
  auto too_far = Submit("extend_subject_request",
                        {{"request_id", id}, {"extension_months", 2}, {"reason", "more"}});
  ASSERT_FALSE(too_far.ok());
  EXPECT_EQ(too_far.error().rule, "extension_max");
  auto out_of_range = Submit("extend_subject_request",
                             {{"request_id", id}, {"extension_months", 3}, {"reason", "x"}});
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_EQ(out_of_range.error().rule, "range");
  ext = Submit("extend_subject_request",
               {{"request_id", id}, {"extension_months", 1}, {"reason", "still complex"}});
  ASSERT_TRUE(ext.ok());
  EXPECT_EQ(ext->result["due_at"], "2025-04-30T09:00:00.000000Z");

  auto future = Submit("open_subject_request", {{"subject_id", "cus_4"},
                                                {"kind", "erasure"},
                                                {"received_at", "2027-01-01T00:00:00Z"},
                                                {"reason", "x"}});
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().rule, "not_future");
  auto access = Submit("approve_erasure", {{"request_id", id}}, "usr_checker");
  ASSERT_FALSE(access.ok());
  EXPECT_EQ(access.error().rule, "kind");
  auto done = Submit("complete_subject_request", {{"request_id", id}, {"note", "sent"}});
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  auto list = ListSubjectRequests(*conn_, kTenant, clock_.Now(), "done", "", "", 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)["items"].size(), 1u);
  EXPECT_EQ((*list)["items"][0]["overdue"], false);
}

TEST_P(KeysErasureTest, RotationRewrapsEveryKeyAndValuesSealedBeforeStillOpen) {
  Json a = Note("cus_5", {{"name", "Before Rotation"}}, {"name"});
  Json b = Note("cus_6/conv_1", {{"text", "also before"}}, {"text"});
  auto rotated = Submit("rotate_tenant_key", Json::object());
  ASSERT_TRUE(rotated.ok()) << rotated.error().ToString();
  EXPECT_EQ(rotated->result["kek_version"], 2);
  EXPECT_EQ(rotated->result["rewrapped"], 2);
  auto versions = conn_->Query("SELECT DISTINCT kek_version FROM privacy_subject_keys");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ((*versions)[0].Int(0), 2);
  keyring_->DropCache();  // force unwrapping under the new version
  EXPECT_EQ(MustOpen(a["name"]).value, "Before Rotation");
  EXPECT_EQ(MustOpen(b["text"]).value, "also before");
  Json c = Note("cus_7", {{"name", "After"}}, {"name"});
  EXPECT_EQ(MustOpen(c["name"]).value, "After");
  ExpectLedgerVerifies();
}

TEST_P(KeysErasureTest, TamperedCiphertextOrAnotherTenantFailsToOpenWithAClearError) {
  Json v = Note("cus_8", {{"name", "Tamper Me"}}, {"name"});
  std::string sealed = v["name"];
  std::string flipped = sealed;
  char& last = flipped[flipped.size() - 2];
  last = last == 'A' ? 'B' : 'A';
  auto bad = keyring_->Open(*conn_, kTenant, Json(flipped));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().rule, "authentication");
  EXPECT_NE(bad.error().message.find("altered"), std::string::npos);

  auto other_tenant = keyring_->Open(*conn_, "beta", Json(sealed));
  ASSERT_FALSE(other_tenant.ok());
  EXPECT_EQ(other_tenant.error().rule, "unknown_key");
  auto garbled = keyring_->Open(*conn_, kTenant, Json("pii:v1:nokey"));
  ASSERT_FALSE(garbled.ok());
  EXPECT_EQ(garbled.error().rule, "sealed_format");
  // A wrapped key moved to another subject fails authentication too (AD binds the subject).
  ASSERT_TRUE(conn_->Exec("UPDATE privacy_subject_keys SET subject_id = 'cus_9'").ok());
  keyring_->DropCache();
  auto moved = keyring_->Open(*conn_, kTenant, Json(sealed));
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().rule, "authentication");
}

TEST_P(KeysErasureTest, RejectsMalformedSubjectIds) {
  for (const char* bad : {"", "cus_1//conv", "/cus_1", "cus 1", "cus_1/", "cus_1%"}) {
    auto out = Submit("note_personal",
                      {{"subject_id", bad}, {"fields", {{"name", "x"}}}, {"personal", {"name"}}});
    ASSERT_FALSE(out.ok()) << bad;
    EXPECT_EQ(out.error().field, "subject_id") << bad;
  }
}

INSTANTIATE_TEST_SUITE_P(All, KeysErasureTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::privacy
