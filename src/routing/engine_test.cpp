// Goal: the routing engine's decisions follow engine.hpp with injected time — fairness under
// SLA-aware aging (no starvation), workflow escalation, capacity per channel, reservation
// timeout and re-offer, consecutive timeouts, sticky expiry, callbacks keeping their position,
// task lifetime, worker selection (longest idle, most skilled, round robin), transfers, wrap-up,
// statistics, and a restore that reproduces the state exactly.
#include "routing/engine.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace opsbox::routing {
namespace {

constexpr Instant kT0{1'700'000'000'000'000};
Instant At(int64_t s) { return kT0 + Duration::Seconds(s); }

WorkflowTarget Target(std::string queue, std::optional<int64_t> priority = std::nullopt,
                      int64_t timeout_s = 0, std::string expression = "", bool skip = false) {
  return WorkflowTarget{std::move(queue), priority, timeout_s, std::move(expression), skip};
}

class EngineTest : public ::testing::Test {
 protected:
  void Worker(const std::string& id, Json attributes = Json::object(),
              std::map<std::string, int64_t> capacity = {{"voice", 1}, {"chat", 3}},
              Instant now = kT0, bool available = true) {
    ASSERT_TRUE(engine_.UpsertWorker(WorkerSpec{id, id, std::move(attributes), capacity}, now).ok());
    if (available) {
      ASSERT_TRUE(engine_.SetActivity(id, Activity::kAvailable, now).ok());
    }
  }
  void Queue(const std::string& id, const std::string& expr = "",
             WorkerSelection sel = WorkerSelection::kLongestIdle, std::string skill = "") {
    QueueSpec q;
    q.id = id;
    q.name = id;
    q.target_expression = expr;
    q.worker_selection = sel;
    q.skill = std::move(skill);
    Status s = engine_.UpsertQueue(q);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }
  void DirectWorkflow(const std::string& queue) {
    WorkflowSpec wf;
    wf.default_targets = {Target(queue)};
    ASSERT_TRUE(engine_.SetWorkflow(wf).ok());
  }
  Decisions Add(const std::string& id, Instant now, int64_t priority = 0,
                std::string channel = "voice", Json attributes = Json::object()) {
    TaskSpec t;
    t.id = id;
    t.channel = std::move(channel);
    t.priority = priority;
    t.attributes = std::move(attributes);
    auto d = engine_.AddTask(t, now);
    EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().ToString());
    return d.ok() ? std::move(d).value() : Decisions{};
  }
  // (task, worker) of every offer.
  static std::vector<std::pair<std::string, std::string>> Offers(const Decisions& d) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& o : d.offers) out.emplace_back(o.reservation.task_id, o.reservation.worker_id);
    return out;
  }
  // Accepts, completes and wraps up a task at `now`.
  void Handle(const Offer& o, Instant now) {
    ASSERT_TRUE(engine_.Accept(o.reservation.id, now).ok());
    ASSERT_TRUE(engine_.Complete(o.reservation.task_id, now).ok());
    ASSERT_TRUE(engine_.WrapUp(o.reservation.task_id, now).ok());
  }
  using P = std::pair<std::string, std::string>;
  Engine engine_;
};

TEST_F(EngineTest, AgingLetsAnOldLowPriorityTaskOvertakeNewerHigherPriorityOnes) {
  Queue("q");  // service level threshold 30 s: one priority level per 30 s of waiting
  DirectWorkflow("q");
  Add("low", At(0), 0);
  Add("high_early", At(20), 1);  // at t: 1 + (t-20)/30 > t/30  -> ahead of low
  Add("high_late", At(40), 1);   // at t: 1 + (t-40)/30 < t/30  -> behind low
  Worker("w", Json::object(), {{"voice", 1}}, At(50));
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) {
    Decisions d = engine_.Dispatch(At(50 + i));
    ASSERT_EQ(d.offers.size(), 1u);
    order.push_back(d.offers[0].reservation.task_id);
    Handle(d.offers[0], At(50 + i));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"high_early", "low", "high_late"}));
}

TEST_F(EngineTest, NoTaskStarvesUnderAContinuousStreamOfHigherPriorityWork) {
  Queue("q");
  DirectWorkflow("q");
  Worker("w", Json::object(), {{"voice", 1}});
  Add("low", At(0), 0);
  // A higher-priority task arrives every 4 s while the only agent serves one every 5 s, so the
  // backlog of priority-3 tasks never empties. With aging (1 level per 30 s) the low task must
  // be served once it has waited about 3 * 30 s more than the freshest high task.
  int64_t served_low_at = -1;
  int next = 0;
  for (int64_t t = 0; t <= 600 && served_low_at < 0; ++t) {
    if (t % 4 == 0) Add("high" + std::to_string(next++), At(t), 3);
    if (t % 5 == 0) {
      Decisions d = engine_.Dispatch(At(t));
      for (const auto& o : d.offers) {
        if (o.reservation.task_id == "low") served_low_at = t;
        Handle(o, At(t));
      }
    }
  }
  ASSERT_GT(served_low_at, 0);
  EXPECT_LE(served_low_at, 150);
}

TEST_F(EngineTest, EqualPriorityTasksAreServedOldestFirstAndHigherPriorityFirst) {
  Queue("q");
  DirectWorkflow("q");
  Add("a", At(0), 0);
  Add("b", At(1), 0);
  Add("c", At(2), 5);
  Worker("w", Json::object(), {{"voice", 1}}, At(3));
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) {
    Decisions d = engine_.Dispatch(At(3));
    ASSERT_EQ(d.offers.size(), 1u);
    order.push_back(d.offers[0].reservation.task_id);
    Handle(d.offers[0], At(3));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"c", "a", "b"}));
}

TEST_F(EngineTest, WorkflowEscalatesToTheNextTargetWhenTheTargetTimesOut) {
  Queue("gold", "worker.team == 'gold'");
  Queue("silver", "worker.team == 'silver'");
  Queue("general");
  WorkflowSpec wf;
  wf.filters = {WorkflowFilter{"vip", "task.vip == true",
                               {Target("gold", 10, 60, "", false),
                                Target("silver", std::nullopt, 120, "", false)}}};
  wf.default_targets = {Target("general")};
  ASSERT_TRUE(engine_.SetWorkflow(wf).ok());
  Worker("s1", {{"team", "silver"}}, {{"voice", 1}}, kT0, false);

  Decisions d = Add("t1", At(0), 2, "voice", {{"vip", true}});
  ASSERT_EQ(d.queued.size(), 1u);
  EXPECT_EQ(d.queued[0].queue_id, "gold");
  EXPECT_EQ(d.queued[0].priority, 10);
  EXPECT_EQ(d.queued[0].target_deadline, At(60));
  EXPECT_EQ(engine_.NextDeadline(), At(60));

  EXPECT_TRUE(engine_.Tick(At(59)).empty());
  d = engine_.Tick(At(60));
  ASSERT_EQ(d.queued.size(), 1u);
  EXPECT_EQ(d.queued[0].reason, QueuedReason::kEscalated);
  EXPECT_EQ(d.queued[0].from_queue_id, "gold");
  EXPECT_EQ(d.queued[0].queue_id, "silver");
  EXPECT_EQ(d.queued[0].target_index, 1);
  EXPECT_EQ(d.queued[0].priority, 2);  // the task's own priority again
  EXPECT_EQ(d.queued[0].target_deadline, At(180));

  d = engine_.Tick(At(180));  // past the last target: it stays in silver
  EXPECT_TRUE(d.queued.empty());
  EXPECT_EQ(engine_.FindTask("t1")->queue_id, "silver");
  EXPECT_FALSE(engine_.FindTask("t1")->target_deadline.has_value());

  ASSERT_TRUE(engine_.SetActivity("s1", Activity::kAvailable, At(181)).ok());
  EXPECT_EQ(Offers(engine_.Dispatch(At(181))), (std::vector<P>{{"t1", "s1"}}));
  EXPECT_EQ(engine_.Stats("gold", At(181))->counters.escalated_out, 1);

  d = Add("t2", At(200), 0, "voice", {{"vip", false}});
  EXPECT_EQ(d.queued[0].queue_id, "general");
}

TEST_F(EngineTest, ATaskReservedAtItsDeadlineEscalatesOnceItReturns) {
  Queue("first");
  Queue("second");
  WorkflowSpec wf;
  wf.default_targets = {Target("first", std::nullopt, 30), Target("second")};
  ASSERT_TRUE(engine_.SetWorkflow(wf).ok());
  Worker("w", Json::object(), {{"voice", 1}});
  Add("t", At(0));
  auto d = engine_.Dispatch(At(25));
  ASSERT_EQ(d.offers.size(), 1u);
  EXPECT_TRUE(engine_.Tick(At(30)).queued.empty());  // reserved: no escalation now
  ASSERT_TRUE(engine_.Reject(d.offers[0].reservation.id, At(35)).ok());
  d = engine_.Tick(At(35));
  ASSERT_EQ(d.queued.size(), 1u);
  EXPECT_EQ(d.queued[0].queue_id, "second");
}

TEST_F(EngineTest, SkipIfNoWorkerSkipsATargetWhoseQueueHasNobodyAvailable) {
  Queue("specialists", "worker.skills.loans >= 1");
  Queue("everyone");
  WorkflowSpec wf;
  wf.default_targets = {Target("specialists", std::nullopt, 60, "", true),
                        Target("everyone")};
  ASSERT_TRUE(engine_.SetWorkflow(wf).ok());
  Worker("generalist", Json::object());
  Decisions d = Add("t1", At(0));
  EXPECT_EQ(d.queued[0].queue_id, "everyone");
  Worker("loans", {{"skills", {{"loans", 3}}}});
  d = Add("t2", At(1));
  EXPECT_EQ(d.queued[0].queue_id, "specialists");
}

TEST_F(EngineTest, FirstMatchingFilterWinsAndUnmatchedTasksWithoutDefaultEnd) {
  Queue("hindi");
  Queue("cards");
  WorkflowSpec wf;
  wf.filters = {WorkflowFilter{"hi", "language == 'hi'", {Target("hindi")}},
                WorkflowFilter{"cards", "type == 'cards' AND channel == 'chat'", {Target("cards")}}};
  ASSERT_TRUE(engine_.SetWorkflow(wf).ok());
  EXPECT_EQ(Add("a", At(0), 0, "chat", {{"language", "hi"}, {"type", "cards"}}).queued[0].queue_id,
            "hindi");
  EXPECT_EQ(Add("b", At(0), 0, "chat", {{"type", "cards"}}).queued[0].queue_id, "cards");
  Decisions d = Add("c", At(0), 0, "voice", {{"type", "cards"}});
  EXPECT_TRUE(d.queued.empty());
  ASSERT_EQ(d.closed.size(), 1u);
  EXPECT_EQ(d.closed[0].how, TaskEnd::kNoMatchingTarget);
  EXPECT_FALSE(engine_.FindTask("c").has_value());
}

TEST_F(EngineTest, CapacityIsCountedPerChannel) {
  Queue("q");
  DirectWorkflow("q");
  Worker("w", Json::object(), {{"voice", 1}, {"chat", 2}});
  Add("c1", At(0), 0, "chat");
  Add("c2", At(1), 0, "chat");
  Add("c3", At(2), 0, "chat");
  Add("v1", At(3), 0, "voice");
  Add("v2", At(4), 0, "voice");
  Add("e1", At(5), 0, "email");  // no email capacity at all
  Decisions d = engine_.Dispatch(At(10));
  EXPECT_EQ(Offers(d), (std::vector<P>{{"c1", "w"}, {"c2", "w"}, {"v1", "w"}}));
  EXPECT_TRUE(engine_.Dispatch(At(10)).offers.empty());
  auto w = engine_.FindWorker("w");
  EXPECT_EQ(w->in_flight.at("chat"), 2);
  EXPECT_EQ(w->in_flight.at("voice"), 1);

  const Offer c1 = d.offers[0];
  ASSERT_TRUE(engine_.Accept(c1.reservation.id, At(11)).ok());
  ASSERT_TRUE(engine_.Complete("c1", At(12)).ok());
  EXPECT_EQ(engine_.FindWorker("w")->activity, Activity::kWrapUp);
  EXPECT_TRUE(engine_.Dispatch(At(12)).offers.empty());  // wrapping holds the slot
  d = engine_.WrapUp("c1", At(13)).value();
  ASSERT_EQ(d.closed.size(), 1u);
  EXPECT_EQ(d.closed[0].how, TaskEnd::kCompleted);
  ASSERT_EQ(d.activity_changes.size(), 1u);
  EXPECT_EQ(d.activity_changes[0].to, Activity::kAvailable);
  EXPECT_EQ(Offers(engine_.Dispatch(At(13))), (std::vector<P>{{"c3", "w"}}));
}

TEST_F(EngineTest, WrapUpEndsByItsTimerAndReturnsTheWorkerToWork) {
  Queue("q");
  DirectWorkflow("q");
  Worker("w", Json::object(), {{"voice", 1}});
  Add("t", At(0));
  auto d = engine_.Dispatch(At(0));
  ASSERT_TRUE(engine_.Accept(d.offers[0].reservation.id, At(1)).ok());
  d = engine_.Complete("t", At(100)).value();
  ASSERT_EQ(d.activity_changes.size(), 1u);
  EXPECT_EQ(d.activity_changes[0].to, Activity::kWrapUp);
  EXPECT_EQ(d.activity_changes[0].until, At(130));  // the queue's wrap_up: 30 s
  EXPECT_TRUE(engine_.Tick(At(129)).empty());
  d = engine_.Tick(At(130));
  ASSERT_EQ(d.wrapped_up.size(), 1u);
  EXPECT_TRUE(d.wrapped_up[0].by_timer);
  EXPECT_EQ(engine_.FindWorker("w")->activity, Activity::kAvailable);
  EXPECT_EQ(engine_.FindWorker("w")->idle_since, At(130));
  EXPECT_EQ(engine_.Stats("q", At(130))->counters.handle_us_total, Duration::Seconds(129).us);
}

TEST_F(EngineTest, ATimedOutReservationIsReofferedToTheNextEligibleWorker) {
  Queue("q");
  DirectWorkflow("q");
  Worker("a", Json::object(), {{"voice", 1}}, At(0));
  Worker("b", Json::object(), {{"voice", 1}}, At(5));
  Add("t", At(10));
  Decisions d = engine_.Dispatch(At(10));
  ASSERT_EQ(Offers(d), (std::vector<P>{{"t", "a"}}));  // a has been idle longest
  EXPECT_EQ(d.offers[0].reservation.expires_at, At(30));
  EXPECT_EQ(d.offers[0].reservation.id, "t/r1");
  EXPECT_TRUE(engine_.Tick(At(29)).empty());
  d = engine_.Tick(At(30));
  ASSERT_EQ(d.reservations_closed.size(), 1u);
  EXPECT_EQ(d.reservations_closed[0].how, ReservationEnd::kTimedOut);
  d = engine_.Dispatch(At(30));
  EXPECT_EQ(Offers(d), (std::vector<P>{{"t", "b"}}));
  EXPECT_EQ(d.offers[0].reservation.id, "t/r2");
  // b rejects: a timed out before and is not offered it again.
  ASSERT_TRUE(engine_.Reject("t/r2", At(31)).ok());
  EXPECT_TRUE(engine_.Dispatch(At(31)).offers.empty());
  EXPECT_EQ(engine_.FindTask("t")->excluded_worker_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(engine_.Accept("t/r2", At(32)).ok());
}

TEST_F(EngineTest, ConsecutiveTimeoutsSuggestMovingTheWorkerOfflineAndAcceptResetsThem) {
  Queue("q");
  DirectWorkflow("q");
  Worker("w", Json::object(), {{"voice", 1}});
  auto offer_and_timeout = [&](const std::string& id, int64_t t) {
    Add(id, At(t));
    Decisions d = engine_.Dispatch(At(t));
    EXPECT_EQ(d.offers.size(), 1u);
    return engine_.TimeoutReservation(d.offers[0].reservation.id, At(t + 20)).value();
  };
  EXPECT_TRUE(offer_and_timeout("t1", 0).suggestions.empty());
  EXPECT_TRUE(offer_and_timeout("t2", 100).suggestions.empty());
  Decisions d = offer_and_timeout("t3", 200);
  ASSERT_EQ(d.suggestions.size(), 1u);
  EXPECT_EQ(d.suggestions[0].worker_id, "w");
  EXPECT_EQ(d.suggestions[0].activity, Activity::kOffline);
  EXPECT_EQ(d.suggestions[0].consecutive_timeouts, 3);

  Add("t4", At(300));
  d = engine_.Dispatch(At(300));
  ASSERT_EQ(Offers(d), (std::vector<P>{{"t4", "w"}}));
  ASSERT_TRUE(engine_.Accept(d.offers[0].reservation.id, At(301)).ok());
  EXPECT_EQ(engine_.FindWorker("w")->consecutive_timeouts, 0);
}

TEST_F(EngineTest, StickyTaskWaitsForItsWorkerUntilTheStickyTimeout) {
  Queue("q");
  DirectWorkflow("q");
  Worker("rm", Json::object(), {{"voice", 1}}, kT0, false);  // relationship manager, on break
  Worker("other", Json::object(), {{"voice", 1}});
  TaskSpec t;
  t.id = "t";
  t.channel = "voice";
  t.sticky_worker_id = "rm";
  t.sticky_timeout = Duration::Seconds(45);
  ASSERT_TRUE(engine_.AddTask(t, At(0)).ok());
  EXPECT_TRUE(engine_.Dispatch(At(1)).offers.empty());
  Decisions d = engine_.Tick(At(45));
  ASSERT_EQ(d.sticky_expired.size(), 1u);
  EXPECT_EQ(d.sticky_expired[0].worker_id, "rm");
  EXPECT_EQ(Offers(engine_.Dispatch(At(45))), (std::vector<P>{{"t", "other"}}));
}

TEST_F(EngineTest, StickyTaskGoesToItsWorkerAsSoonAsTheWorkerIsAvailable) {
  Queue("q", "worker.team == 'q'");
  DirectWorkflow("q");
  Worker("rm", {{"team", "private"}}, {{"voice", 1}}, kT0, false);  // not in the queue's set
  Worker("other", {{"team", "q"}}, {{"voice", 1}});
  TaskSpec t;
  t.id = "t";
  t.channel = "voice";
  t.sticky_worker_id = "rm";
  ASSERT_TRUE(engine_.AddTask(t, At(0)).ok());
  EXPECT_TRUE(engine_.Dispatch(At(1)).offers.empty());
  ASSERT_TRUE(engine_.SetActivity("rm", Activity::kAvailable, At(2)).ok());
  EXPECT_EQ(Offers(engine_.Dispatch(At(2))), (std::vector<P>{{"t", "rm"}}));
}

TEST_F(EngineTest, ACallbackReturnsAtItsTimeAndKeepsItsOriginalPosition) {
  Queue("q");
  DirectWorkflow("q");
  Add("first", At(0));
  Add("second", At(10));
  Add("third", At(20));
  ASSERT_TRUE(engine_.ScheduleCallback("first", At(300), At(30)).ok());
  EXPECT_EQ(engine_.FindTask("first")->state, TaskState::kScheduled);
  EXPECT_EQ(engine_.Stats("q", At(30))->waiting, 2);
  EXPECT_EQ(engine_.Stats("q", At(30))->scheduled, 1);
  EXPECT_TRUE(engine_.Tick(At(299)).callbacks_due.empty());
  Decisions d = engine_.Tick(At(300));
  ASSERT_EQ(d.callbacks_due.size(), 1u);
  EXPECT_EQ(d.callbacks_due[0].task_id, "first");
  Add("fourth", At(301));
  Worker("w", Json::object(), {{"voice", 1}}, At(302));
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    d = engine_.Dispatch(At(302));
    ASSERT_EQ(d.offers.size(), 1u);
    order.push_back(d.offers[0].reservation.task_id);
    Handle(d.offers[0], At(302));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "third", "fourth"}));
}

TEST_F(EngineTest, ACallbackIsNotOfferedBeforeItIsDue) {
  Queue("q");
  DirectWorkflow("q");
  Add("t", At(0));
  ASSERT_TRUE(engine_.ScheduleCallback("t", At(600), At(1)).ok());
  Worker("w", Json::object(), {{"voice", 1}}, At(2));
  EXPECT_TRUE(engine_.Dispatch(At(2)).offers.empty());
  EXPECT_FALSE(engine_.ScheduleCallback("t", At(700), At(3)).ok());  // already scheduled
  EXPECT_FALSE(engine_.ScheduleCallback("nope", At(700), At(3)).ok());
  engine_.Tick(At(600));
  EXPECT_EQ(engine_.Dispatch(At(600)).offers.size(), 1u);
}

TEST_F(EngineTest, ATaskPastItsLifetimeIsCancelledAsExpiredAndCountsAsAbandoned) {
  Queue("q");
  DirectWorkflow("q");
  TaskSpec t;
  t.id = "t";
  t.channel = "voice";
  ASSERT_TRUE(engine_.AddTask(t, At(0)).ok());
  EXPECT_EQ(engine_.FindTask("t")->expires_at, At(24 * 3600));  // default lifetime
  t.id = "short";
  t.lifetime = Duration::Seconds(60);
  ASSERT_TRUE(engine_.AddTask(t, At(0)).ok());
  Worker("w", Json::object(), {{"voice", 1}}, At(0), false);
  Decisions d = engine_.Tick(At(60));
  ASSERT_EQ(d.closed.size(), 1u);
  EXPECT_EQ(d.closed[0].task_id, "short");
  EXPECT_EQ(d.closed[0].how, TaskEnd::kExpired);
  EXPECT_EQ(engine_.Stats("q", At(60))->counters.abandoned, 1);
  EXPECT_EQ(engine_.Stats("q", At(60))->counters.abandoned_within_sl, 0);

  ASSERT_TRUE(engine_.SetActivity("w", Activity::kAvailable, At(24 * 3600 - 10)).ok());
  d = engine_.Dispatch(At(24 * 3600 - 10));
  ASSERT_EQ(d.offers.size(), 1u);  // a reserved task expires too: its reservation is cancelled
  d = engine_.Tick(At(24 * 3600));
  ASSERT_EQ(d.closed.size(), 1u);
  ASSERT_EQ(d.reservations_closed.size(), 1u);
  EXPECT_EQ(d.reservations_closed[0].how, ReservationEnd::kCancelled);
  EXPECT_EQ(engine_.FindWorker("w")->in_flight.at("voice"), 0);
  EXPECT_EQ(engine_.open_tasks(), 0u);
}

TEST_F(EngineTest, LongestIdleOffersTheWorkerIdleSinceTheEarliest) {
  Queue("q");
  DirectWorkflow("q");
  Worker("late", Json::object(), {{"voice", 1}}, At(30));
  Worker("early", Json::object(), {{"voice", 1}}, At(10));
  Worker("middle", Json::object(), {{"voice", 1}}, At(20));
  Add("t1", At(40));
  Add("t2", At(41));
  EXPECT_EQ(Offers(engine_.Dispatch(At(42))), (std::vector<P>{{"t1", "early"}, {"t2", "middle"}}));
}

TEST_F(EngineTest, MostSkilledOffersTheHighestLevelOfTheQueueSkill) {
  Queue("q", "worker.skills HAS 'billing'", WorkerSelection::kMostSkilled, "billing");
  DirectWorkflow("q");
  Worker("two", {{"skills", {{"billing", 2}}}}, {{"voice", 1}}, At(0));
  Worker("nine", {{"skills", {{"billing", 9}}}}, {{"voice", 1}}, At(5));
  Worker("five", {{"skills", {{"billing", 5}}}}, {{"voice", 1}}, At(1));
  Worker("none", {{"skills", {{"cards", 10}}}}, {{"voice", 1}}, At(0));
  Add("t1", At(10));
  Add("t2", At(11));
  Add("t3", At(12));
  Add("t4", At(13));
  EXPECT_EQ(Offers(engine_.Dispatch(At(14))),
            (std::vector<P>{{"t1", "nine"}, {"t2", "five"}, {"t3", "two"}}));
  EXPECT_EQ(engine_.FindWorker("none")->queue_ids.size(), 0u);
}

TEST_F(EngineTest, RoundRobinOffersTheLeastRecentlyOfferedWorker) {
  Queue("q", "", WorkerSelection::kRoundRobin);
  DirectWorkflow("q");
  Worker("a", Json::object(), {{"chat", 5}}, At(0));
  Worker("b", Json::object(), {{"chat", 5}}, At(0));
  Worker("c", Json::object(), {{"chat", 5}}, At(0));
  for (int i = 0; i < 6; ++i) Add("t" + std::to_string(i), At(1 + i), 0, "chat");
  std::vector<std::string> workers;
  for (const auto& o : engine_.Dispatch(At(10)).offers) workers.push_back(o.reservation.worker_id);
  EXPECT_EQ(workers, (std::vector<std::string>{"a", "b", "c", "a", "b", "c"}));
}

TEST_F(EngineTest, ARefiningExpressionComparesTaskAndWorkerAttributes) {
  Queue("q");
  WorkflowSpec wf;
  wf.default_targets = {Target("q", std::nullopt, 0, "worker.skills.billing >= task.level")};
  ASSERT_TRUE(engine_.SetWorkflow(wf).ok());
  Worker("junior", {{"skills", {{"billing", 2}}}}, {{"voice", 1}}, At(0));
  Worker("senior", {{"skills", {{"billing", 7}}}}, {{"voice", 1}}, At(5));
  Add("hard", At(10), 0, "voice", {{"level", 5}});
  Add("easy", At(11), 0, "voice", {{"level", 1}});
  EXPECT_EQ(Offers(engine_.Dispatch(At(12))), (std::vector<P>{{"hard", "senior"}, {"easy", "junior"}}));
}

TEST_F(EngineTest, ATaskNoWorkerCanTakeDoesNotBlockTheTasksBehindIt) {
  Queue("q");
  DirectWorkflow("q");
  Worker("w", Json::object(), {{"chat", 1}});
  Add("voice_first", At(0), 0, "voice");
  Add("chat_second", At(1), 0, "chat");
  EXPECT_EQ(Offers(engine_.Dispatch(At(2))), (std::vector<P>{{"chat_second", "w"}}));
}

TEST_F(EngineTest, DispatchServesTheBestTaskAcrossQueuesFirst) {
  Queue("a");
  Queue("b");
  WorkflowSpec wf;
  wf.filters = {WorkflowFilter{"to_b", "q == 'b'", {Target("b")}}};
  wf.default_targets = {Target("a")};
  ASSERT_TRUE(engine_.SetWorkflow(wf).ok());
  Add("in_a", At(0), 0, "voice", {{"q", "a"}});
  Add("in_b", At(1), 4, "voice", {{"q", "b"}});
  Worker("w", Json::object(), {{"voice", 1}}, At(2));
  EXPECT_EQ(Offers(engine_.Dispatch(At(2))), (std::vector<P>{{"in_b", "w"}}));
}

TEST_F(EngineTest, TransferToAQueueKeepsAttributesAndToAWorkerIsSticky) {
  Queue("sales", "worker.team == 'sales'");
  Queue("support", "worker.team == 'support'");
  DirectWorkflow("sales");
  Worker("s", {{"team", "sales"}}, {{"voice", 1}});
  Worker("p", {{"team", "support"}}, {{"voice", 1}});
  Worker("x", {{"team", "support"}}, {{"voice", 1}}, At(-10));
  Add("t", At(0), 3, "voice", {{"customer", "cus_1"}});
  Decisions d = engine_.Dispatch(At(1));
  ASSERT_EQ(Offers(d), (std::vector<P>{{"t", "s"}}));
  ASSERT_TRUE(engine_.Accept(d.offers[0].reservation.id, At(2)).ok());
  d = engine_.Transfer("t", "support", "", At(60)).value();
  ASSERT_EQ(d.queued.size(), 1u);
  EXPECT_EQ(d.queued[0].from_queue_id, "sales");
  EXPECT_EQ(d.queued[0].queue_id, "support");
  EXPECT_EQ(d.queued[0].reason, QueuedReason::kTransferred);
  auto task = engine_.FindTask("t");
  EXPECT_EQ(task->attributes["customer"], "cus_1");
  EXPECT_EQ(task->priority, 3);
  EXPECT_EQ(task->state, TaskState::kWaiting);
  EXPECT_EQ(engine_.FindWorker("s")->in_flight.at("voice"), 0);
  // Directed to p, although x has been idle longer.
  d = engine_.Transfer("t", "", "p", At(61), Duration::Seconds(20)).value();
  EXPECT_EQ(engine_.FindTask("t")->sticky_worker_id, "p");
  EXPECT_EQ(Offers(engine_.Dispatch(At(61))), (std::vector<P>{{"t", "p"}}));
  EXPECT_FALSE(engine_.Transfer("t", "support", "p", At(62)).ok());
  EXPECT_FALSE(engine_.Transfer("t", "nope", "", At(62)).ok());
}

TEST_F(EngineTest, QueueStatisticsCountWaitingServiceLevelAsaAndAbandonment) {
  Queue("q");  // threshold 30 s
  DirectWorkflow("q");
  Worker("w", Json::object(), {{"voice", 1}}, At(0), false);
  Worker("off", Json::object(), {{"voice", 1}}, At(0), false);
  ASSERT_TRUE(engine_.SetActivity("off", Activity::kOffline, At(0)).ok());
  Add("fast", At(0));
  Add("slow", At(5));
  Add("gone", At(6));
  QueueStats s = *engine_.Stats("q", At(20));
  EXPECT_EQ(s.waiting, 3);
  EXPECT_DOUBLE_EQ(s.longest_wait_s, 20);
  EXPECT_DOUBLE_EQ(s.service_level, 1.0);
  EXPECT_EQ(s.agents_break + s.agents_offline, 2);

  ASSERT_TRUE(engine_.SetActivity("w", Activity::kAvailable, At(20)).ok());
  Decisions d = engine_.Dispatch(At(20));
  ASSERT_TRUE(engine_.Accept(d.offers[0].reservation.id, At(20)).ok());  // waited 20 s
  ASSERT_TRUE(engine_.Cancel("gone", At(10)).ok());                      // abandoned within SL
  s = *engine_.Stats("q", At(20));
  EXPECT_EQ(s.waiting, 1);
  EXPECT_EQ(s.agents_busy, 1);
  ASSERT_TRUE(engine_.Complete("fast", At(50)).ok());
  ASSERT_TRUE(engine_.WrapUp("fast", At(60)).ok());
  d = engine_.Dispatch(At(65));
  ASSERT_TRUE(engine_.Accept(d.offers[0].reservation.id, At(65)).ok());  // waited 60 s
  s = *engine_.Stats("q", At(65));
  EXPECT_EQ(s.counters.answered, 2);
  EXPECT_EQ(s.counters.answered_within_sl, 1);
  EXPECT_EQ(s.counters.abandoned, 1);
  EXPECT_EQ(s.counters.abandoned_within_sl, 1);
  EXPECT_DOUBLE_EQ(s.service_level, 0.5);  // 1 / (2 + 1 - 1)
  EXPECT_DOUBLE_EQ(s.asa_s, 40);
  EXPECT_EQ(s.waiting, 0);
  EXPECT_EQ(s.agents_busy, 1);
  EXPECT_EQ(s.agents_offline, 1);
}

TEST_F(EngineTest, EstimatedWaitGrowsWithTheQueueAndTriggersTheCallbackOffer) {
  QueueSpec q;
  q.id = "q";
  q.callback_offer_wait_s = 600;
  ASSERT_TRUE(engine_.UpsertQueue(q).ok());
  DirectWorkflow("q");
  Worker("w", Json::object(), {{"voice", 1}});
  Add("t0", At(0));
  Decisions d = engine_.Dispatch(At(0));
  ASSERT_TRUE(engine_.Accept(d.offers[0].reservation.id, At(0)).ok());
  ASSERT_TRUE(engine_.Complete("t0", At(100)).ok());
  ASSERT_TRUE(engine_.WrapUp("t0", At(120)).ok());  // handle time 120 s
  EXPECT_EQ(engine_.EstimatedWait("q", At(120)), Duration::Seconds(120));
  for (int i = 1; i <= 5; ++i) Add("t" + std::to_string(i), At(120));
  ASSERT_TRUE(engine_.SetActivity("w", Activity::kBreak, At(120)).ok());
  EXPECT_EQ(engine_.EstimatedWait("q", At(120)), Duration::Seconds(720));
  EXPECT_TRUE(engine_.Stats("q", At(120))->callback_offered);
  EXPECT_FALSE(engine_.EstimatedWait("nope", At(0)).has_value());
}

TEST_F(EngineTest, ChangingWorkerAttributesChangesQueueEligibility) {
  Queue("billing", "worker.skills.billing >= 3");
  DirectWorkflow("billing");
  Worker("w", {{"skills", {{"billing", 1}}}}, {{"voice", 1}});
  Add("t", At(0));
  EXPECT_TRUE(engine_.Dispatch(At(1)).offers.empty());
  ASSERT_TRUE(engine_.UpsertWorker(WorkerSpec{"w", "w", {{"skills", {{"billing", 4}}}}, {{"voice", 1}}},
                                   At(2)).ok());
  EXPECT_EQ(Offers(engine_.Dispatch(At(2))), (std::vector<P>{{"t", "w"}}));
}

TEST_F(EngineTest, ChangingAQueueExpressionReevaluatesEveryWorker) {
  Queue("q", "worker.team == 'a'");
  DirectWorkflow("q");
  Worker("b1", {{"team", "b"}}, {{"voice", 1}});
  Add("t", At(0));
  EXPECT_TRUE(engine_.Dispatch(At(1)).offers.empty());
  Queue("q", "worker.team == 'b'");
  EXPECT_EQ(Offers(engine_.Dispatch(At(2))), (std::vector<P>{{"t", "b1"}}));
}

TEST_F(EngineTest, BadInputIsRejectedWithTheFieldAndRule) {
  Queue("q");
  QueueSpec bad;
  bad.id = "bad";
  bad.target_expression = "worker.team ==";
  auto s = engine_.UpsertQueue(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "target_expression");
  EXPECT_EQ(s.error().rule, "syntax");
  WorkflowSpec wf;
  wf.filters = {WorkflowFilter{"f", "type ==", {Target("q")}}};
  s = engine_.SetWorkflow(wf);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "filters[0].expression");
  wf.filters = {WorkflowFilter{"f", "", {Target("missing")}}};
  s = engine_.SetWorkflow(wf);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "filters[0].targets[0].queue_id");
  DirectWorkflow("q");
  TaskSpec t;
  t.id = "t";
  t.channel = "voice";
  t.priority = kEnginePriorityMax + 1;
  auto r = engine_.AddTask(t, At(0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "priority");
  t.priority = kEnginePriorityMax;
  ASSERT_TRUE(engine_.AddTask(t, At(0)).ok());
  r = engine_.AddTask(t, At(0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "duplicate");
  EXPECT_EQ(engine_.Accept("t/r9", At(1)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(engine_.Complete("t", At(1)).error().code, ErrorCode::kConflict);
  EXPECT_EQ(engine_.RemoveQueue("q").error().code, ErrorCode::kConflict);
  auto cap = engine_.UpsertWorker(WorkerSpec{"w", "w", Json::object(),
                                             {{"voice", kEngineCapacityPerChannelMax + 1}}}, At(0));
  ASSERT_FALSE(cap.ok());
  EXPECT_EQ(cap.error().field, "capacity.voice");
}

TEST_F(EngineTest, AtMostTheChannelLimitOfDistinctChannelsIsAccepted) {
  Queue("q");
  DirectWorkflow("q");
  std::map<std::string, int64_t> capacity;
  for (size_t i = 0; i < kEngineChannelsMax; ++i) capacity["ch" + std::to_string(i)] = 1;
  ASSERT_TRUE(engine_.UpsertWorker(WorkerSpec{"w", "w", Json::object(), capacity}, At(0)).ok());
  TaskSpec t;
  t.id = "t";
  t.channel = "one_too_many";
  auto r = engine_.AddTask(t, At(0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "channels_max");
}

TEST_F(EngineTest, RestoringTasksWorkersAndReservationsReproducesTheStateExactly) {
  Queue("q", "", WorkerSelection::kLongestIdle);
  Queue("r", "worker.team == 'r'");
  WorkflowSpec wf;
  wf.default_targets = {Target("q", 2, 60, "worker.level >= 1"), Target("r")};
  ASSERT_TRUE(engine_.SetWorkflow(wf).ok());
  Worker("a", {{"level", 1}}, {{"voice", 1}, {"chat", 2}}, At(0));
  Worker("b", {{"level", 1}, {"team", "r"}}, {{"voice", 1}}, At(1));
  for (int i = 0; i < 6; ++i) Add("t" + std::to_string(i), At(i), i % 3, i % 2 ? "chat" : "voice");
  Decisions d = engine_.Dispatch(At(10));
  ASSERT_GE(d.offers.size(), 2u);
  ASSERT_TRUE(engine_.Accept(d.offers[0].reservation.id, At(11)).ok());
  ASSERT_TRUE(engine_.Complete(d.offers[0].reservation.task_id, At(12)).ok());
  ASSERT_TRUE(engine_.ScheduleCallback("t5", At(500), At(12)).ok());

  Engine restored;
  for (const auto& id : engine_.WorkerIds()) {
    auto w = *engine_.FindWorker(id);
    ASSERT_TRUE(restored.UpsertWorker(WorkerSpec{w.id, w.name, w.attributes, w.capacity}, At(0)).ok());
    ASSERT_TRUE(restored.RestoreWorkerState(id, WorkerState{w.activity, w.activity_since, w.activity_until,
                                                            w.activity_after_wrap_up, w.idle_since,
                                                            w.offer_seq, w.consecutive_timeouts}).ok());
  }
  Queue("unused");  // the original has it too: keep the id sets equal
  for (const auto& id : engine_.QueueIds()) {
    QueueSpec q;
    q.id = id;
    q.name = id;
    q.target_expression = id == "r" ? "worker.team == 'r'" : "";
    ASSERT_TRUE(restored.UpsertQueue(q).ok());
    ASSERT_TRUE(restored.RestoreQueueCounters(id, engine_.Stats(id, At(12))->counters).ok());
  }
  ASSERT_TRUE(restored.SetWorkflow(wf).ok());
  for (const auto& id : engine_.TaskIds()) {
    Status s = restored.RestoreTask(*engine_.FindTask(id));
    ASSERT_TRUE(s.ok()) << id << ": " << s.error().ToString();
  }
  ASSERT_EQ(restored.TaskIds(), engine_.TaskIds());
  for (const auto& id : engine_.TaskIds()) EXPECT_EQ(*restored.FindTask(id), *engine_.FindTask(id)) << id;
  for (const auto& id : engine_.WorkerIds()) {
    auto a = *engine_.FindWorker(id), b = *restored.FindWorker(id);
    EXPECT_EQ(a.activity, b.activity);
    EXPECT_EQ(a.activity_until, b.activity_until);
    EXPECT_EQ(a.in_flight, b.in_flight);
    EXPECT_EQ(a.queue_ids, b.queue_ids);
    auto sorted = [](std::vector<std::string> v) { std::sort(v.begin(), v.end()); return v; };
    EXPECT_EQ(sorted(a.task_ids), sorted(b.task_ids));
  }
  for (const auto& id : engine_.QueueIds()) {
    auto a = *engine_.Stats(id, At(12)), b = *restored.Stats(id, At(12));
    EXPECT_EQ(a.waiting, b.waiting);
    EXPECT_EQ(a.scheduled, b.scheduled);
    EXPECT_EQ(a.counters, b.counters);
  }
  // The same future: same timers, same offers.
  EXPECT_EQ(restored.NextDeadline(), engine_.NextDeadline());
  for (int64_t t : {30, 42, 60, 100, 500}) {
    Decisions x = engine_.Tick(At(t)), y = restored.Tick(At(t));
    x.Append(engine_.Dispatch(At(t)));
    y.Append(restored.Dispatch(At(t)));
    EXPECT_EQ(Offers(x), Offers(y)) << t;
    EXPECT_EQ(x.reservations_closed.size(), y.reservations_closed.size()) << t;
    EXPECT_EQ(x.queued.size(), y.queued.size()) << t;
    EXPECT_EQ(x.wrapped_up.size(), y.wrapped_up.size()) << t;
  }
}

TEST_F(EngineTest, DecisionsAppendKeepsEveryKind) {
  Decisions a, b;
  b.offers.push_back(Offer{});
  b.closed.push_back(TaskClosed{"t", "q", "", TaskEnd::kCancelled});
  b.suggestions.push_back(ActivitySuggested{"w"});
  EXPECT_TRUE(a.empty());
  a.Append(std::move(b));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a.offers.size(), 1u);
  EXPECT_EQ(a.closed.size(), 1u);
  EXPECT_EQ(a.suggestions.size(), 1u);
  EXPECT_EQ(ActivityName(Activity::kWrapUp), "wrap_up");
  EXPECT_EQ(ParseActivity("break"), Activity::kBreak);
  EXPECT_FALSE(ParseActivity("lunch").has_value());
  EXPECT_EQ(ParseWorkerSelection("most_skilled"), WorkerSelection::kMostSkilled);
  EXPECT_EQ(ReservationId("tsk_1", 3), "tsk_1/r3");
}

}  // namespace
}  // namespace opsbox::routing
