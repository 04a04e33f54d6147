// Goal: through a real ledger writer, on SQLite and PostgreSQL, the KPI aggregator follows
// the routing events as they commit (its thread, and Sync), the grouped read sums them per
// dimension and local day, tenants never see each other's figures, events the aggregator's
// listener never saw (written before it ran) are read from the ledger exactly once, and
// rebuild_kpis replays the ledger into the same aggregates. The routing events here are appended by a test command with the payloads
// routing's decide functions write (src/routing/service_decide.cpp); the integration test
// test_kpis.py drives the real routing service through the API.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/random.hpp"
#include "core/time.hpp"
#include "core/zone.hpp"
#include "kpis/kpis.hpp"
#include "ledger/writer.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::kpis {
namespace {

using store::Dialect;

constexpr int64_t kS = 1000000;
const Instant kStart{1796637600000000};  // 2026-12-07T10:00:00Z

class KpisDbTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    auto db = store::NewTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    aggregator_ = std::make_unique<Aggregator>(*db_, AggregatorOptions{.flush_interval_ms = 20});
    aggregator_->Register(registry_);
    // Routing's event types (declared by the routing service in the server).
    registry_.DeclareEvents({"task_created", "reservation_accepted", "task_completed",
                             "task_wrapped_up", "task_transferred", "task_escalated",
                             "task_cancelled"});
    // "emit": appends the routing events its payload lists, as routing would.
    registry_.AddCommand("emit", [](store::Tx&, const ledger::Command& cmd, Instant,
                                    Random&) -> Result<ledger::Decision> {
      ledger::Decision d;
      for (const auto& e : cmd.payload["events"]) {
        d.events.push_back(ledger::NewEvent{e["type"].get<std::string>(), e["payload"]});
      }
      return d;
    });
    writer_ = std::make_unique<ledger::Writer>(*db_, registry_, clock_, random_,
                                               ledger::WriterOptions{});
    ASSERT_TRUE(writer_->Start().ok());
    ASSERT_TRUE(aggregator_->Start().ok());
  }
  void TearDown() override {
    if (writer_) writer_->Stop();
    if (aggregator_) aggregator_->Stop();
  }

  void Emit(const std::string& tenant, std::string type, Json payload) {
    auto r = writer_->SubmitAndWait(ledger::Command{
        tenant, "", "emit", "system",
        Json{{"events", Json::array({Json{{"type", type}, {"payload", payload}}})}}});
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }
  // One contact: arrives at `at`, answered after `wait_s` by `agent` (or abandoned after it
  // when agent is empty), talks `talk_s`, wraps `wrap_s`.
  void Contact(const std::string& tenant, const std::string& task, int64_t at,
               const std::string& queue, const std::string& channel, int64_t wait_s,
               const std::string& agent, int64_t talk_s = 0, int64_t wrap_s = 0) {
    Emit(tenant, "task_created",
         Json{{"task_id", task}, {"queue_id", queue}, {"channel", channel},
              {"created_at_us", at}, {"attributes", Json{{"intent", "card_arrival"}}}});
    const int64_t answered = at + wait_s * kS;
    if (agent.empty()) {
      Emit(tenant, "task_cancelled", Json{{"task_id", task}, {"at_us", answered},
                                          {"previous_status", "waiting"}, {"queue_id", queue}});
      return;
    }
    Emit(tenant, "reservation_accepted",
         Json{{"task_id", task}, {"worker_id", agent}, {"queue_id", queue}, {"at_us", answered},
              {"wait_us", wait_s * kS}, {"in_service_level", wait_s <= 20}});
    Emit(tenant, "task_completed", Json{{"task_id", task}, {"worker_id", agent},
                                        {"queue_id", queue}, {"at_us", answered + talk_s * kS}});
    Emit(tenant, "task_wrapped_up",
         Json{{"task_id", task}, {"worker_id", agent}, {"queue_id", queue},
              {"at_us", answered + (talk_s + wrap_s) * kS}});
  }
  Json Read(const std::string& tenant, std::string_view group_by, std::string_view kpi,
            std::string_view zone = "UTC", std::string_view from = "2026-12-07T00:00:00Z",
            std::string_view to = "2026-12-09T00:00:00Z") {
    auto q = ParseQuery(from, to, group_by, kpi, zone);
    EXPECT_TRUE(q.ok());
    auto z = ZoneRules::Load(zone);
    EXPECT_TRUE(z.ok());
    EXPECT_TRUE(aggregator_->Sync(tenant).ok());
    auto groups = kpis::Run(*conn_, tenant, *q, *z);
    EXPECT_TRUE(groups.ok()) << groups.error().ToString();
    return groups.ok() ? ToJson(*q, *groups) : Json();
  }
  Json Table() {
    EXPECT_TRUE(aggregator_->Sync("acme").ok());
    EXPECT_TRUE(aggregator_->Sync("zeta").ok());
    auto rows = conn_->Query(
        "SELECT tenant_id, bucket_us, queue_id, channel, intent, language, agent, offered, "
        "answered, answered_in_sl, abandoned, abandoned_short, answer_wait_us, abandon_wait_us, "
        "handled, talk_us, wrap_us, transferred FROM kpi_intervals ORDER BY tenant_id, "
        "bucket_us, queue_id, channel, intent, language, agent");
    EXPECT_TRUE(rows.ok());
    Json out = Json::array();
    for (const auto& r : *rows) {
      Json row = Json::array();
      for (size_t i = 0; i < r.values.size(); ++i) {
        if (i == 0 || (i >= 2 && i <= 6)) {
          row.push_back(r.Text(i));
        } else {
          row.push_back(r.Int(i));
        }
      }
      out.push_back(std::move(row));
    }
    return out;
  }

  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Connection> conn_;
  ManualClock clock_{kStart};
  SeededRandom random_{7};
  ledger::Registry registry_;
  std::unique_ptr<Aggregator> aggregator_;
  std::unique_ptr<ledger::Writer> writer_;
};

TEST_P(KpisDbTest, FiguresArePerQueueAndAgentAsRoutingEventsCommit) {
  const int64_t t0 = kStart.us;
  Contact("acme", "t1", t0, "cards", "voice", 10, "ann", 300, 60);
  Contact("acme", "t2", t0 + 60 * kS, "cards", "voice", 40, "bob", 200, 20);
  Contact("acme", "t3", t0 + 120 * kS, "cards", "voice", 3, "");
  Contact("acme", "t4", t0 + 180 * kS, "loans", "chat", 5, "ann", 100, 0);
  const Json byQueue = Read("acme", "queue", "offered,service_level,asa,aht");
  ASSERT_EQ(byQueue["rows"].size(), 2u);
  const Json& cards = byQueue["rows"][0];
  EXPECT_EQ(cards["queue"], "cards");
  EXPECT_EQ(cards["offered"], 3);
  EXPECT_DOUBLE_EQ(cards["service_level"].get<double>(), 0.3333);  // 1 of 3 ended in 20 s
  EXPECT_DOUBLE_EQ(cards["asa"].get<double>(), 25.0);
  EXPECT_DOUBLE_EQ(cards["aht"].get<double>(), 290.0);  // (360 + 220) / 2
  EXPECT_EQ(byQueue["totals"]["offered"], 4);
  const Json byAgent = Read("acme", "agent", "handled,aht");
  // Offers and abandons are on the queue's rows (agent ""), answers on the agents'.
  ASSERT_EQ(byAgent["rows"].size(), 3u);
  EXPECT_EQ(byAgent["rows"][0]["agent"], "");
  EXPECT_EQ(byAgent["rows"][0]["handled"], 0);
  EXPECT_EQ(byAgent["rows"][1]["agent"], "ann");
  EXPECT_EQ(byAgent["rows"][1]["handled"], 2);
  EXPECT_DOUBLE_EQ(byAgent["rows"][1]["aht"].get<double>(), 230.0);  // (360 + 100) / 2
  // Nothing is left open once every contact ended; the watermark is the ledger's last seq.
  auto wm = conn_->Query("SELECT seq FROM kpi_watermarks WHERE tenant_id = 'acme'");
  ASSERT_TRUE(wm.ok());
  ASSERT_EQ(wm->size(), 1u);
  EXPECT_EQ((*wm)[0].Int(0), 14);  // 4 events for each answered contact, 2 for the abandon
  auto open = conn_->Query("SELECT COUNT(*) FROM kpi_tasks");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ((*open)[0].Int(0), 0);
}

TEST_P(KpisDbTest, ATenantSeesOnlyItsOwnFigures) {
  Contact("acme", "t1", kStart.us, "cards", "voice", 10, "ann", 300, 60);
  Contact("zeta", "t1", kStart.us, "cards", "voice", 50, "zed", 10, 0);
  EXPECT_EQ(Read("acme", "", "offered,asa")["totals"]["asa"], 10.0);
  EXPECT_EQ(Read("zeta", "", "offered,asa")["totals"]["asa"], 50.0);
  EXPECT_EQ(Read("nobody", "", "offered,asa")["totals"]["offered"], 0);
  EXPECT_TRUE(Read("nobody", "", "offered,asa")["totals"]["asa"].is_null());
}

TEST_P(KpisDbTest, DaysAreLocalToTheZoneAsked) {
  // 18:15Z is 23:45 in Kolkata; 18:30Z is midnight there.
  Contact("acme", "a", Instant{1796667300000000}.us, "cards", "chat", 5, "ann", 10, 0);
  Contact("acme", "b", Instant{1796668200000000}.us, "cards", "chat", 5, "ann", 10, 0);
  const Json utc = Read("acme", "day", "offered");
  ASSERT_EQ(utc["rows"].size(), 1u);
  const Json ist = Read("acme", "day", "offered", "Asia/Kolkata");
  ASSERT_EQ(ist["rows"].size(), 2u);
  EXPECT_EQ(ist["rows"][0]["day"], "2026-12-07");
  EXPECT_EQ(ist["rows"][1]["day"], "2026-12-08");
}

TEST_P(KpisDbTest, RebuildReplaysTheLedgerIntoTheSameAggregates) {
  const int64_t t0 = kStart.us;
  Contact("acme", "t1", t0, "cards", "voice", 10, "ann", 300, 60);
  Contact("acme", "t2", t0 + 60 * kS, "cards", "voice", 40, "bob", 200, 20);
  Contact("acme", "t3", t0 + 120 * kS, "cards", "voice", 3, "");
  // A contact still open when the rebuild runs, finished after it.
  Emit("acme", "task_created", Json{{"task_id", "t5"}, {"queue_id", "loans"},
                                    {"channel", "chat"}, {"created_at_us", t0 + 200 * kS}});
  Contact("zeta", "z1", t0, "cards", "voice", 50, "zed", 10, 0);
  const Json before = Table();
  ASSERT_TRUE(conn_->Exec("UPDATE kpi_intervals SET offered = offered + 100 WHERE tenant_id = 'acme'").ok());
  auto r = writer_->SubmitAndWait(ledger::Command{"acme", "", std::string(kRebuildKpis), "cli:ops",
                                                  Json::object()});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_GT(r->result["through_seq"].get<int64_t>(), 0);
  EXPECT_EQ(Table(), before) << "acme rebuilt exactly; zeta untouched";
  Emit("acme", "reservation_accepted",
       Json{{"task_id", "t5"}, {"worker_id", "ann"}, {"at_us", t0 + 230 * kS},
            {"wait_us", 30 * kS}, {"in_service_level", false}});
  EXPECT_EQ(Read("acme", "queue", "answered")["rows"][1]["answered"], 1)
      << "the open contact's state was rebuilt too";
  auto bad = writer_->SubmitAndWait(ledger::Command{"acme", "", std::string(kRebuildKpis),
                                                    "cli:ops", Json{{"x", 1}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().rule, "empty_object");
}

// Queries by queue and channel alone read the roll-ups (whole UTC days, quarter hours at the
// ragged ends); the others read the full aggregates. Both answer the same figures.
TEST_P(KpisDbTest, RollUpsAnswerTheSameFiguresAsTheFullAggregates) {
  const int64_t day = 86400 * kS;
  Contact("acme", "a", kStart.us - 11 * 3600 * kS, "cards", "voice", 10, "ann", 30, 5);  // 23:00 Dec 6
  Contact("acme", "b", kStart.us, "cards", "voice", 30, "bob", 40, 5);                    // 10:00 Dec 7
  Contact("acme", "c", kStart.us + day, "cards", "chat", 3, "");                          // 10:00 Dec 8
  Contact("acme", "d", kStart.us + day + 15 * 60 * kS, "loans", "voice", 5, "ann", 60, 0);  // 10:15
  for (auto [from, to] : {std::pair{"2026-12-06T00:00:00Z", "2026-12-10T00:00:00Z"},
                          std::pair{"2026-12-06T23:00:00Z", "2026-12-08T10:15:00Z"},
                          std::pair{"2026-12-07T10:00:00Z", "2026-12-07T10:15:00Z"}}) {
    const Json rolled = Read("acme", "queue", "offered,answered,abandoned,aht", "UTC", from, to);
    const Json full = Read("acme", "queue,intent", "offered,answered,abandoned,aht", "UTC", from, to);
    std::map<std::string, Json> summed;
    for (const auto& r : full["rows"]) {
      Json& c = summed[r["queue"].get<std::string>()];
      if (c.is_null()) c = Json::object();
      for (auto& [k, v] : r["counts"].items()) c[k] = c.value(k, 0) + v.get<int64_t>();
    }
    ASSERT_EQ(rolled["rows"].size(), summed.size()) << from << " " << to;
    for (const auto& r : rolled["rows"]) {
      EXPECT_EQ(r["counts"], summed[r["queue"].get<std::string>()]) << from << " " << to;
    }
    EXPECT_EQ(rolled["totals"]["counts"], full["totals"]["counts"]) << from << " " << to;
  }
  // The ragged range holds a, b and c but not d (10:15 is its end, exclusive).
  EXPECT_EQ(Read("acme", "", "offered", "UTC", "2026-12-06T23:00:00Z",
                 "2026-12-08T10:15:00Z")["totals"]["offered"], 3);
  const Json days = Read("acme", "day", "offered", "UTC", "2026-12-06T00:00:00Z",
                         "2026-12-10T00:00:00Z");
  ASSERT_EQ(days["rows"].size(), 3u);
  EXPECT_EQ(days["rows"][0]["day"], "2026-12-06");
  EXPECT_EQ(days["rows"][2]["offered"], 2);
}

TEST_P(KpisDbTest, EventsTheListenerNeverSawAreReadFromTheLedgerExactlyOnce) {
  Contact("acme", "t1", kStart.us, "cards", "voice", 10, "ann", 300, 60);
  Contact("acme", "t2", kStart.us + 60 * kS, "cards", "voice", 3, "");
  const Json before = Table();
  aggregator_->Stop();
  for (auto table : {"kpi_intervals", "kpi_tasks", "kpi_watermarks"}) {
    ASSERT_TRUE(conn_->Exec(std::string("DELETE FROM ") + table).ok());
  }
  // A second server's aggregator: it was not listening when these events committed.
  Aggregator other(*db_, AggregatorOptions{.run_thread = false});
  ASSERT_TRUE(other.Sync("acme").ok());
  ASSERT_TRUE(other.Sync("acme").ok());
  EXPECT_EQ(Table(), before);
  EXPECT_EQ(other.Applied(), 6u);
}

INSTANTIATE_TEST_SUITE_P(All, KpisDbTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::kpis
