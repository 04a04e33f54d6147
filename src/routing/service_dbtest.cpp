// Goal: the routing service on a real ledger writer, on SQLite and PostgreSQL, with an injected
// clock and no background thread (RunPending takes the engine's decisions): offers go to
// available workers within their capacity per channel, a reservation times out and is offered
// to the next worker, repeated timeouts move a worker offline, complete -> wrap-up -> available,
// workflow targets escalate on timeout, intake's conversation_opened creates a task, and a
// restart from the same database restores waiting tasks, workers and reservations exactly.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/random.hpp"
#include "ledger/writer.hpp"
#include "routing/service.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::routing {
namespace {

using store::Dialect;

constexpr uint64_t kSeed = 4242;
const Instant kStart{1795342530000000};  // 2026-11-22T10:15:30Z

class ServiceDbTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    InitCrypto();
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    auto db = store::NewTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(*db);
    Boot();
  }
  void TearDown() override { Shutdown(); }

  void Boot() {
    registry_ = std::make_unique<ledger::Registry>();
    service_ = std::make_unique<Service>(*db_, clock_, nullptr,
                                         ServiceOptions{.run_threads = false});
    service_->Register(*registry_);
    // Stands in for intake: records a conversation_opened event.
    registry_->DeclareEvents({"conversation_opened"});  // intake's, emitted by the test
    registry_->AddCommand("test_open_conversation",
                          [](store::Tx&, const ledger::Command& c, Instant, Random&) {
                            ledger::Decision d;
                            d.events.push_back(
                                ledger::NewEvent{"conversation_opened", c.payload});
                            return Result<ledger::Decision>(std::move(d));
                          });
    writer_ = std::make_unique<ledger::Writer>(*db_, *registry_, clock_, random_,
                                               ledger::WriterOptions{});
    ASSERT_TRUE(writer_->Start().ok());
    auto st = service_->Start(*writer_);
    ASSERT_TRUE(st.ok()) << st.error().ToString();
  }
  void Shutdown() {
    if (service_) service_->Stop();
    if (writer_) writer_->Stop();
    service_.reset();
    writer_.reset();
    registry_.reset();
  }

  Result<ledger::CommandOutcome> Submit(std::string_view type, Json payload,
                                        std::string actor = "usr_admin") {
    return writer_->SubmitAndWait(
        ledger::Command{"acme", "", std::string(type), std::move(actor), std::move(payload)});
  }
  void MustSubmit(std::string_view type, Json payload) {
    auto r = Submit(type, payload);
    ASSERT_TRUE(r.ok()) << type << ": " << r.error().ToString();
  }

  void Worker(const std::string& id, Json capacity, bool available = true) {
    MustSubmit(kUpsertWorker, Json{{"worker_id", id},
                                   {"attributes", {{"skills", {{"billing", 5}}}}},
                                   {"capacity", capacity}});
    if (available) MustSubmit(kSetWorkerActivity, Json{{"worker_id", id}, {"activity", "available"}});
  }
  void Queues() {
    MustSubmit(kUpsertTaskQueue, Json{{"queue_id", "billing"},
                                      {"target_expression", "worker.skills.billing >= 1"},
                                      {"reservation_timeout_s", 20},
                                      {"wrap_up_s", 30}});
    MustSubmit(kUpsertTaskQueue, Json{{"queue_id", "overflow"}});
    MustSubmit(kUpsertWorkflow,
               Json{{"workflow_id", "default"},
                    {"filters", Json::array({Json{{"name", "vip"},
                                                  {"expression", "task.vip == true"},
                                                  {"targets", Json::array({Json{
                                                                  {"queue_id", "billing"},
                                                                  {"timeout_s", 10}},
                                                              Json{{"queue_id", "overflow"}}})}}})},
                    {"default_filter", {{"targets", Json::array({Json{{"queue_id", "billing"}}})}}}});
  }
  std::string Task(Json extra = Json::object()) {
    Json p{{"channel", "chat"}, {"attributes", Json::object()}};
    p.update(extra);
    auto r = Submit(kCreateTask, p);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? r->result.value("task_id", "") : "";
  }
  Json GetTask(const std::string& id) {
    auto c = db_->Connect();
    EXPECT_TRUE(c.ok());
    auto t = service_->GetTask(**c, "acme", id);
    EXPECT_TRUE(t.ok()) << t.error().ToString();
    return t.ok() ? *t : Json();
  }
  Json Me(const std::string& worker) {
    auto c = db_->Connect();
    auto m = service_->Me(**c, "acme", worker);
    EXPECT_TRUE(m.ok()) << m.error().ToString();
    return m.ok() ? *m : Json();
  }
  Json Stats() {
    auto c = db_->Connect();
    auto s = service_->Stats(**c, "acme");
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    return s.ok() ? *s : Json();
  }
  Json QueueStats(const std::string& queue) {
    const Json stats = Stats();
    for (const auto& q : stats["queues"]) {
      if (q["queue_id"] == queue) return q;
    }
    return Json();
  }

  ManualClock clock_{kStart};
  SeededRandom random_{kSeed};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<ledger::Registry> registry_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<ledger::Writer> writer_;
};

TEST_P(ServiceDbTest, OffersTaskAcceptsCompletesAndReturnsWorkerAfterWrapUp) {
  Queues();
  Worker("usr_ann", Json{{"chat", 1}});
  const std::string task = Task();
  service_->RunPending();
  Json t = GetTask(task);
  ASSERT_EQ(t["status"], "reserved");
  EXPECT_EQ(t["worker_id"], "usr_ann");
  const std::string res = t["reservation_id"];
  clock_.Advance(Duration::Seconds(5));
  auto other = Submit(kAcceptReservation, Json{{"reservation_id", res}, {"worker_id", "usr_bob"}});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().rule, "owner");
  MustSubmit(kAcceptReservation, Json{{"reservation_id", res}, {"worker_id", "usr_ann"}});
  EXPECT_EQ(GetTask(task)["status"], "assigned");
  MustSubmit(kCompleteTask, Json{{"task_id", task}, {"worker_id", "usr_ann"}});
  EXPECT_EQ(GetTask(task)["status"], "wrap_up");
  EXPECT_EQ(Me("usr_ann")["activity"], "wrap_up");
  clock_.Advance(Duration::Seconds(31));
  service_->RunPending();
  EXPECT_EQ(GetTask(task)["status"], "completed");
  EXPECT_EQ(Me("usr_ann")["activity"], "available");
  Json q = QueueStats("billing");
  ASSERT_TRUE(q.is_object()) << Stats().dump();
  EXPECT_EQ(q["answered"], 1);
  EXPECT_EQ(q["offered"], 1);
  EXPECT_DOUBLE_EQ(q["asa_s"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(q["service_level"].get<double>(), 1.0);
}

TEST_P(ServiceDbTest, ReservationTimesOutAndIsOfferedToTheNextWorker) {
  Queues();
  Worker("usr_ann", Json{{"chat", 1}});
  Worker("usr_bob", Json{{"chat", 1}});
  const std::string task = Task();
  service_->RunPending();
  const std::string first = GetTask(task)["worker_id"];
  clock_.Advance(Duration::Seconds(21));
  service_->RunPending();
  Json t = GetTask(task);
  EXPECT_EQ(t["status"], "reserved");
  EXPECT_NE(t["worker_id"], first);
  EXPECT_EQ(Me(first)["worker"]["offer_timeouts"], 1);
}

TEST_P(ServiceDbTest, RepeatedOfferTimeoutsMoveTheWorkerOffline) {
  Queues();
  Worker("usr_ann", Json{{"chat", 3}});
  for (int i = 0; i < 3; ++i) Task();
  service_->RunPending();
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(Duration::Seconds(21));
    service_->RunPending();
  }
  EXPECT_EQ(Me("usr_ann")["activity"], "offline");
}

TEST_P(ServiceDbTest, CapacityPerChannelLimitsOffers) {
  Queues();
  Worker("usr_ann", Json{{"chat", 2}, {"voice", 0}});
  for (int i = 0; i < 3; ++i) Task();
  const std::string voice = Task(Json{{"channel", "voice"}});
  service_->RunPending();
  EXPECT_EQ(Me("usr_ann")["reservations"].size(), 2u);
  EXPECT_EQ(GetTask(voice)["status"], "waiting");
}

TEST_P(ServiceDbTest, StaleOfferIsRefusedByTheDecision) {
  Queues();
  Worker("usr_ann", Json{{"chat", 1}});
  const std::string task = Task();
  auto r = Submit(kReserveTask, Json{{"task_id", task}, {"worker_id", "usr_ann"}}, "usr_admin");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "system_only");
  MustSubmit(kSetWorkerActivity, Json{{"worker_id", "usr_ann"}, {"activity", "break"}});
  auto stale = Submit(kReserveTask,
                      Json{{"task_id", task}, {"worker_id", "usr_ann"}, {"reservation_id", "x"}},
                      "system");
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().rule, "worker_not_available");
}

TEST_P(ServiceDbTest, WorkflowTargetEscalatesOnTimeout) {
  Queues();
  const std::string task = Task(Json{{"attributes", {{"vip", true}}}});
  EXPECT_EQ(GetTask(task)["queue_id"], "billing");
  clock_.Advance(Duration::Seconds(11));
  service_->RunPending();
  Json t = GetTask(task);
  EXPECT_EQ(t["queue_id"], "overflow");
  EXPECT_EQ(t["target_index"], 1);
}

TEST_P(ServiceDbTest, ConversationOpenedCreatesATask) {
  Queues();
  auto r = Submit("test_open_conversation",
                  Json{{"conversation_id", "conv_1"}, {"customer_id", "cus_1"},
                       {"channel", "whatsapp"}, {"reopened", false}, {"language", "hi"}});
  ASSERT_TRUE(r.ok());
  service_->RunPending();
  auto c = db_->Connect();
  auto rows = (*c)->Query("SELECT task_id, channel, attributes FROM routing_tasks WHERE "
                          "conversation_id = 'conv_1'");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Text(1), "whatsapp");
  Json attributes = Json::parse((*rows)[0].Text(2));
  EXPECT_EQ(attributes["type"], "conversation");
  EXPECT_EQ(attributes["language"], "hi");
  EXPECT_EQ(attributes["customer_id"], "cus_1");
}

TEST_P(ServiceDbTest, RestartRestoresTasksWorkersAndReservationsExactly) {
  Queues();
  Worker("usr_ann", Json{{"chat", 2}});
  Worker("usr_bob", Json{{"chat", 1}});
  const std::string a = Task();
  const std::string b = Task();
  const std::string c = Task();
  service_->RunPending();  // three offers: ann 2, bob 1
  Json ta = GetTask(a);
  MustSubmit(kAcceptReservation, Json{{"reservation_id", ta["reservation_id"]}});
  MustSubmit(kRejectReservation, Json{{"reservation_id", GetTask(b)["reservation_id"]}});
  const std::string d = Task(Json{{"priority", 5}});
  MustSubmit(kScheduleCallback,
             Json{{"task_id", d}, {"at", FormatRfc3339(clock_.Now() + Duration::Minutes(5))}});
  Task(Json{{"attributes", {{"vip", true}}}});
  service_->RunPending();
  const Json before = service_->EngineSnapshot("acme");
  ASSERT_GE(before["tasks"].size(), 5u);
  Shutdown();
  Boot();
  const Json after = service_->EngineSnapshot("acme");
  EXPECT_EQ(before, after) << "before: " << before.dump(1) << "\nafter: " << after.dump(1);
  // Time still works after the restart: pending reservations time out.
  clock_.Advance(Duration::Seconds(21));
  service_->RunPending();
  EXPECT_NE(GetTask(c)["reservation_id"], Json());
}

INSTANTIATE_TEST_SUITE_P(All, ServiceDbTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::routing
