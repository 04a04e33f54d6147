// Goal: through a real ledger writer, on SQLite and PostgreSQL, a policy change is a new
// version in force from its instant, a session's events build the packet the projection
// serves, the transcript is masked by the real PII scanner before it reaches the ledger, a
// handoff records the policy version that decided its boundary, and the acceptance rate per
// intent counts the agents' reviews.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "automation/automation.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "ledger/writer.hpp"
#include "pii/pii.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::automation {
namespace {

using store::Dialect;

const Instant kStart{1795342530000000};  // 2026-11-22T10:15:30Z

class AutomationDbTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    auto db = store::NewTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    auto scanner = pii::Scanner::Create();
    ASSERT_TRUE(scanner.ok());
    scanner_ = std::move(*scanner);
    Hooks hooks;
    hooks.mask = [this](std::string_view text) {
      const auto findings = scanner_->Scan(text);
      return pii::Redact(text, findings, pii::RedactStyle::kTag);
    };
    automation_ = std::make_unique<Automation>(std::move(hooks));
    automation_->Register(registry_);
    writer_ = std::make_unique<ledger::Writer>(*db_, registry_, clock_, random_,
                                               ledger::WriterOptions{});
    ASSERT_TRUE(writer_->Start().ok());
  }
  void TearDown() override {
    if (writer_) writer_->Stop();
  }

  Result<Json> Submit(std::string type, Json payload, std::string actor = "key_bot") {
    OPSBOX_ASSIGN_OR_RETURN(auto r, writer_->SubmitAndWait(ledger::Command{
                                        "acme", "", std::move(type), std::move(actor),
                                        std::move(payload)}));
    return r.result;
  }
  Json Ok(std::string type, Json payload, std::string actor = "key_bot") {
    auto r = Submit(std::move(type), std::move(payload), std::move(actor));
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : Json();
  }
  Json Event(const std::string& session, Json event) {
    return Ok(std::string(kRecordEvent), Json{{"session_id", session}, {"event", std::move(event)}});
  }
  std::string AllEvents() {
    std::string all;
    auto rows = conn_->Query("SELECT payload FROM ledger_events");
    for (const auto& r : *rows) all += r.Text(0);
    return all;
  }

  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Connection> conn_;
  std::unique_ptr<pii::Scanner> scanner_;
  ManualClock clock_{kStart};
  SeededRandom random_{7};
  ledger::Registry registry_;
  std::unique_ptr<Automation> automation_;
  std::unique_ptr<ledger::Writer> writer_;
};

TEST_P(AutomationDbTest, APolicyVersionIsInForceFromItsInstantAndDecidesInTheWritersTransaction) {
  Ok(std::string(kSetPolicy),
     Json{{"rules", Json::array({Json{{"intent", "card_arrival"}, {"boundary", "self_serve"}}})},
          {"reason", "pilot"}},
     "usr_compliance");
  Ok(std::string(kSetPolicy),
     Json{{"rules", Json::array()}, {"reason", "roll back"},
          {"effective_at", FormatRfc3339(Instant{kStart.us + 3600000000LL})}},
     "usr_compliance");
  auto now = automation_->PolicyAt(*conn_, "acme", kStart);
  ASSERT_TRUE(now.ok()) << now.error().ToString();
  EXPECT_EQ((*now)["policy"]["version"], 1);
  EXPECT_EQ((*now)["scheduled"].size(), 1u);
  auto later = automation_->PolicyAt(*conn_, "acme", Instant{kStart.us + 3600000000LL});
  EXPECT_EQ((*later)["policy"]["version"], 2);
  auto tx = db_->Connect();
  ASSERT_TRUE(tx.ok());
  auto t = (*tx)->Begin();
  ASSERT_TRUE(t.ok());
  auto d = automation_->DecideInTx(**t, "acme", "card_arrival", "chat", kStart);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->boundary, Boundary::kSelfServe);
  EXPECT_EQ(d->policy_version, 1);
  auto other = automation_->DecideInTx(**t, "globex", "card_arrival", "chat", kStart);
  EXPECT_EQ(other->policy_version, 0);  // another tenant keeps the built-in policy
}

TEST_P(AutomationDbTest, AHandoffServesAMaskedPacketAndReviewsFeedTheAcceptanceRate) {
  const std::string id =
      Ok(std::string(kStartSession), Json{{"platform", "ivr"}, {"channel", "voice"}})["session_id"];
  Event(id, Json{{"type", "intent"}, {"intent", "card_arrival"}, {"confidence", 0.87}});
  Event(id, Json{{"type", "authentication"}, {"status", "partial"}, {"method", "otp"}});
  Event(id, Json{{"type", "utterance"}, {"speaker", "customer"},
                 {"text", "card 4111 1111 1111 1111 never came, call +91 98765 43210"}});
  Event(id, Json{{"type", "step"}, {"name", "track_delivery"}, {"result", "failed"}});
  const Json r = Event(id, Json{{"type", "outcome"}, {"outcome", "failed"},
                                {"reason", "courier system down"}});
  EXPECT_EQ(r["status"], "handed_off");
  auto packet = automation_->GetSession(*conn_, "acme", id);
  ASSERT_TRUE(packet.ok()) << packet.error().ToString();
  EXPECT_EQ((*packet)["status"], "handed_off");
  EXPECT_EQ((*packet)["boundary"], "human_review");
  EXPECT_EQ((*packet)["policy_version"], 0);
  EXPECT_EQ((*packet)["authentication"]["status"], "partial");
  const std::string line = (*packet)["transcript"][0]["text"];
  EXPECT_EQ(line.find("4111"), std::string::npos) << line;
  EXPECT_EQ(line.find("98765"), std::string::npos) << line;
  EXPECT_NE(line.find("[CARD]"), std::string::npos) << line;
  EXPECT_EQ(AllEvents().find("4111 1111"), std::string::npos);

  auto refused = Submit(std::string(kReviewHandoff),
                        Json{{"session_id", id}, {"useful", false}}, "usr_agent");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "missing");
  Ok(std::string(kReviewHandoff),
     Json{{"session_id", id}, {"useful", false}, {"missing", {"slots.card_last4"}}}, "usr_agent");
  const std::string id2 =
      Ok(std::string(kStartSession), Json{{"platform", "bot"}, {"channel", "chat"}})["session_id"];
  Event(id2, Json{{"type", "intent"}, {"intent", "card_arrival"}, {"confidence", 0.9}});
  Event(id2, Json{{"type", "authentication"}, {"status", "verified"}});
  Event(id2, Json{{"type", "outcome"}, {"outcome", "partial"}, {"reason", "wants a human"}});
  Ok(std::string(kReviewHandoff), Json{{"session_id", id2}, {"useful", true}}, "usr_agent");
  auto kpi = automation_->HandoffAcceptance(*conn_, "acme");
  ASSERT_TRUE(kpi.ok()) << kpi.error().ToString();
  ASSERT_EQ((*kpi)["intents"].size(), 1u);
  const Json& row = (*kpi)["intents"][0];
  EXPECT_EQ(row["intent"], "card_arrival");
  EXPECT_EQ(row["handoffs"], 2);
  EXPECT_EQ(row["reviewed"], 2);
  EXPECT_EQ(row["useful"], 1);
  EXPECT_DOUBLE_EQ(row["acceptance_rate"].get<double>(), 0.5);
  EXPECT_EQ(row["missing"]["slots.card_last4"], 1);
}

INSTANTIATE_TEST_SUITE_P(All, AutomationDbTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::automation
