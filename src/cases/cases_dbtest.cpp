// Goal: through a real ledger writer, on SQLite and PostgreSQL, cases open with sealed personal
// fields and link repeat complaints through the blind index; a pause moves the projected due
// instant; the SLA timer, driven by an injected clock (RunPending), records at-risk and breach
// exactly once per case and target, records nothing for a stale deadline, and after a restart
// restores its deadlines from the projection so a deadline that passed while down fires at once.
// The privacy hooks are fakes: a reversible "sealer" and an HMAC blind index.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cases/case_ledger.hpp"
#include "core/crypto.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "ledger/writer.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::cases {
namespace {

using store::Dialect;

const Instant kStart{1795424400000000};  // 2026-11-23T09:00:00Z, a Monday
constexpr std::string_view kSealPrefix = "pii:v1:test:";

Hooks FakeHooks() {
  Hooks h;
  h.blind_index = [](std::string_view tenant, std::string_view kind, std::string_view v) {
    return HexEncode(HmacSha256("index-key", std::string(tenant) + "\n" + std::string(kind) +
                                                 "\n" + std::string(v)));
  };
  h.open = [](store::Tx&, std::string_view, const Json& v) -> Result<std::optional<Json>> {
    if (!v.is_string() || v.get<std::string>().rfind(kSealPrefix, 0) != 0) {
      return std::optional<Json>(v);
    }
    const std::string rest = v.get<std::string>().substr(kSealPrefix.size());
    OPSBOX_ASSIGN_OR_RETURN(auto text, HexDecode(rest.substr(rest.find(':') + 1), "v"));
    return std::optional<Json>(Json::parse(text));
  };
  return h;
}

class CasesDbTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    InitCrypto();
    auto db = store::NewTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    StartServer();
  }
  void TearDown() override { StopServer(); }

  // Everything a server holds in memory: registry, SLA timer and writer (a restart).
  void StartServer() {
    registry_ = std::make_unique<ledger::Registry>();
    registry_->SetSealer([this](store::Tx&, const std::string&, const std::string& subject,
                                Json& p, const std::vector<std::string>& fields) -> Status {
      subjects_.push_back(subject);
      for (const auto& f : fields) {
        if (p.contains(f) && !p[f].is_null()) {
          p[f] = std::string(kSealPrefix) + subject + ":" + HexEncode(CanonicalJson(p[f]));
        }
      }
      return Ok();
    });
    RegisterCases(*registry_, FakeHooks());
    timer_ = std::make_unique<SlaTimer>(*db_, clock_, SlaTimerOptions{.run_threads = false});
    timer_->Register(*registry_);
    writer_ = std::make_unique<ledger::Writer>(*db_, *registry_, clock_, random_,
                                               ledger::WriterOptions{});
    ASSERT_TRUE(writer_->Start().ok());
    ASSERT_TRUE(timer_->Start(*writer_).ok());
  }
  void StopServer() {
    if (timer_) timer_->Stop();
    if (writer_) writer_->Stop();
    timer_.reset();
    writer_.reset();
  }

  Result<ledger::CommandOutcome> Try(std::string type, Json payload) {
    return writer_->SubmitAndWait(
        ledger::Command{"acme", "", std::move(type), "usr_agent", std::move(payload)});
  }
  Json Submit(std::string type, Json payload) {
    auto r = Try(std::move(type), std::move(payload));
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? r->result : Json();
  }
  std::string Open(std::string customer = "cus_1", std::string category = "cards") {
    return Submit(std::string(kOpenCase), Json{{"type", "complaint"},
                                               {"category", category},
                                               {"subject", "Charged twice"},
                                               {"description", "card ending 4242"},
                                               {"customer_id", customer}})["case_id"];
  }
  void Move(const std::string& id, std::string_view to) {
    Submit(std::string(kTransitionCase),
           Json{{"case_id", id}, {"to", to}, {"granted", {"cases.work"}}});
  }
  // Calendar time, first response 100 s, resolution 1000 s, at risk at half.
  void ShortPolicy() {
    Submit(std::string(kConfigureCases),
           Json{{"calendar", {{"zone", "UTC"}}},
                {"sla_policies",
                 {{{"type", "complaint"},
                   {"first_response_s", 100},
                   {"resolution_s", 1000},
                   {"business_time", false},
                   {"at_risk_share", 0.5}}}}});
  }
  int64_t Count(const std::string& sql) {
    auto rows = conn_->Query(sql);
    EXPECT_TRUE(rows.ok());
    return rows.ok() && !rows->empty() ? (*rows)[0].Int(0) : -1;
  }
  CaseRecord Get(const std::string& id) {
    auto c = GetCase(*conn_, "acme", id);
    EXPECT_TRUE(c.ok() && *c);
    return c.ok() && *c ? **c : CaseRecord{};
  }

  ManualClock clock_{kStart};
  SeededRandom random_{7};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Connection> conn_;
  std::unique_ptr<ledger::Registry> registry_;
  std::unique_ptr<SlaTimer> timer_;
  std::unique_ptr<ledger::Writer> writer_;
  std::vector<std::string> subjects_;
};

TEST_P(CasesDbTest, OpeningSealsPersonalFieldsAndLinksRepeatComplaints) {
  const std::string first = Open();
  Open("cus_2");
  clock_.Advance(Duration::Hours(24));
  const std::string second = Open();
  const CaseRecord c = Get(second);
  EXPECT_EQ(c.repeat_count, 1);
  EXPECT_EQ(c.repeat_of, std::vector<std::string>{first});
  EXPECT_TRUE(c.description.get<std::string>().starts_with(kSealPrefix));
  EXPECT_TRUE(c.customer_id.get<std::string>().starts_with(kSealPrefix));
  EXPECT_EQ(subjects_.back(), "cus_1/" + second);
  auto rows = conn_->Query("SELECT payload FROM ledger_events");
  ASSERT_TRUE(rows.ok());
  for (const auto& r : *rows) {
    EXPECT_EQ(r.Text(0).find("4242"), std::string::npos);
    EXPECT_EQ(r.Text(0).find("\"cus_1"), std::string::npos) << r.Text(0);
  }
  // A later note is sealed for the same subject, found by opening the sealed customer id.
  Submit(std::string(kAddCaseNote), Json{{"case_id", second}, {"text", "called back"}});
  EXPECT_EQ(subjects_.back(), "cus_1/" + second);
}

TEST_P(CasesDbTest, APauseMovesTheProjectedDueInstantByThePausedTime) {
  ShortPolicy();
  const std::string id = Open();
  const Instant due = *Get(id).resolution.due_at;
  EXPECT_EQ(due, kStart + Duration::Seconds(1000));
  Move(id, "open");
  clock_.Advance(Duration::Seconds(10));
  Move(id, "pending_customer");
  EXPECT_TRUE(Get(id).paused);
  EXPECT_FALSE(Get(id).resolution.due_at.has_value());
  clock_.Advance(Duration::Seconds(300));
  Move(id, "open");
  EXPECT_EQ(*Get(id).resolution.due_at, due + Duration::Seconds(300));
  CaseFilter f;
  f.now = clock_.Now();
  f.due_before = due + Duration::Seconds(301);
  auto listed = ListCases(*conn_, "acme", f);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

TEST_P(CasesDbTest, TheTimerRecordsAtRiskAndBreachOnTimeAndOnlyOnce) {
  ShortPolicy();
  const std::string id = Open();
  EXPECT_EQ(timer_->PendingCount(), 4u);
  EXPECT_EQ(timer_->RunPending(), 0u);
  clock_.Advance(Duration::Seconds(49));
  EXPECT_EQ(timer_->RunPending(), 0u);
  clock_.Advance(Duration::Seconds(1));  // first response at risk: 50 s
  EXPECT_EQ(timer_->RunPending(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events WHERE type = 'case_sla_at_risk'"), 1);
  CaseFilter f;
  f.now = clock_.Now();
  f.sla_state = "at_risk";
  EXPECT_EQ(ListCases(*conn_, "acme", f)->size(), 1u);
  clock_.Advance(Duration::Seconds(2000));
  EXPECT_EQ(timer_->RunPending(), 3u);
  EXPECT_EQ(timer_->RunPending(), 0u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events WHERE type = 'case_sla_breached'"), 2);
  EXPECT_EQ(CaseSlaState(Get(id), clock_.Now()), "breached");
  f.now = clock_.Now();
  f.sla_state = "breached";
  EXPECT_EQ(ListCases(*conn_, "acme", f)->size(), 1u);
  // A second submission of the same timer command records nothing more.
  EXPECT_TRUE(Try(std::string(kRecordCaseSla),
                  Json{{"case_id", id}, {"target", "resolution"}, {"kind", "breached"}})
                  .ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events WHERE type = 'case_sla_breached'"), 2);
}

TEST_P(CasesDbTest, AMetOrPausedTargetDoesNotFire) {
  ShortPolicy();
  const std::string id = Open();
  Submit(std::string(kAddCaseNote),
         Json{{"case_id", id}, {"text", "on it"}, {"visibility", "customer_visible"}});
  Move(id, "open");
  Move(id, "pending_customer");
  EXPECT_EQ(timer_->PendingCount(), 0u);
  clock_.Advance(Duration::Seconds(5000));
  EXPECT_EQ(timer_->RunPending(), 0u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events WHERE type LIKE 'case_sla_%'"), 0);
  EXPECT_EQ(CaseSlaState(Get(id), clock_.Now()), "on_track");
}

TEST_P(CasesDbTest, ADeadlineThatPassedWhileDownFiresAtStart) {
  ShortPolicy();
  const std::string id = Open();
  clock_.Advance(Duration::Seconds(60));
  EXPECT_EQ(timer_->RunPending(), 1u);  // first response at risk
  StopServer();
  clock_.Advance(Duration::Seconds(5000));
  StartServer();
  EXPECT_EQ(timer_->PendingCount(), 3u) << "the fired at-risk deadline is not restored";
  EXPECT_EQ(timer_->RunPending(), 3u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events WHERE type = 'case_sla_at_risk'"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events WHERE type = 'case_sla_breached'"), 2);
  EXPECT_TRUE(Get(id).resolution.breached_recorded_at.has_value());
}

TEST_P(CasesDbTest, AnUnknownCaseIsNotFound) {
  auto r = Try(std::string(kTransitionCase),
               Json{{"case_id", "case_nope"}, {"to", "open"}, {"granted", {"cases.work"}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(All, CasesDbTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::cases
