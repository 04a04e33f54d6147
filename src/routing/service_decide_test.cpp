// Goal: the routing service's pure decisions refuse bad commands with an error naming the field
// and the rule (expressions with their column, activities, capacity, missing workflow, stale
// offers), and produce the events the projections expect.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "routing/service_model.hpp"

namespace opsbox::routing::detail {
namespace {

const Instant kNow{1795342530000000};

WorkerRow Worker(std::string id, std::string activity, std::map<std::string, int64_t> capacity) {
  WorkerRow w;
  w.worker_id = std::move(id);
  w.activity = std::move(activity);
  w.capacity = std::move(capacity);
  return w;
}

TaskRow Task(std::string id, std::string status) {
  TaskRow t;
  t.task_id = std::move(id);
  t.channel = "chat";
  t.status = std::move(status);
  return t;
}

TEST(ServiceDecide, QueueWithMalformedExpressionNamesFieldAndColumn) {
  auto d = DecideUpsertQueue(Json{{"queue_id", "billing"}, {"target_expression", "skills >"}});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().field, "target_expression");
  EXPECT_EQ(d.error().rule, "syntax");
  EXPECT_NE(d.error().message.find("column"), std::string::npos);
}

TEST(ServiceDecide, MostSkilledQueueRequiresASkill) {
  auto d = DecideUpsertQueue(Json{{"queue_id", "q"}, {"worker_selection", "most_skilled"}});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().field, "skill");
  EXPECT_EQ(d.error().rule, "required");
}

TEST(ServiceDecide, UnknownActivityIsRefused) {
  auto d = DecideSetActivity(Worker("usr_a", "offline", {}), {}, Json{{"worker_id", "usr_a"}, {"activity", "wrap_up"}}, kNow,
                             false);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().field, "activity");
  EXPECT_EQ(d.error().rule, "one_of");
}

TEST(ServiceDecide, CapacityAboveLimitNamesTheChannel) {
  auto d = DecideUpsertWorker(std::nullopt,
                              Json{{"worker_id", "usr_a"}, {"capacity", {{"voice", 101}}}}, kNow);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().field, "capacity.voice");
  EXPECT_EQ(d.error().rule, "range");
}

TEST(ServiceDecide, TaskWithoutWorkflowOrQueueIsRefused) {
  auto d = DecideCreateTask(std::nullopt, std::nullopt,
                            [](std::string_view) { return std::optional<QueueRow>(); },
                            Json{{"channel", "chat"}}, Ids{"task_1", ""}, kNow);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().rule, "no_workflow");
}

TEST(ServiceDecide, ReserveRefusesAWorkerAtCapacity) {
  ReserveInput in;
  in.task = Task("t1", "waiting");
  in.worker = Worker("usr_a", "available", {{"chat", 2}});
  in.worker_load = 2;
  auto d = DecideReserve(in, Json{{"task_id", "t1"}, {"worker_id", "usr_a"}}, Ids{"", "r1"}, kNow);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().rule, "capacity");
  in.worker_load = 1;
  auto ok = DecideReserve(in, Json{{"task_id", "t1"}, {"worker_id", "usr_a"}}, Ids{"", "r1"}, kNow);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->events.at(0).type, kReservationCreated);
  EXPECT_EQ(ok->events.at(0).payload["expires_at_us"], kNow.us + 20 * 1000000);
}

TEST(ServiceDecide, ReserveRefusesATaskThatIsNoLongerWaiting) {
  ReserveInput in;
  in.task = Task("t1", "reserved");
  in.worker = Worker("usr_a", "available", {{"chat", 2}});
  auto d = DecideReserve(in, Json{{"task_id", "t1"}, {"worker_id", "usr_a"}}, Ids{"", "r1"}, kNow);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().rule, "task_not_waiting");
}

TEST(ServiceDecide, GoingOnBreakCancelsPendingOffers) {
  ReservationRow r;
  r.reservation_id = "r1";
  r.task_id = "t1";
  r.worker_id = "usr_a";
  r.status = "pending";
  auto d = DecideSetActivity(Worker("usr_a", "available", {}), {r}, Json{{"worker_id", "usr_a"}, {"activity", "break"}}, kNow,
                             false);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->events.size(), 2u);
  EXPECT_EQ(d->events[0].type, kReservationCancelled);
  EXPECT_EQ(d->events[1].type, kWorkerActivityChanged);
}

}  // namespace
}  // namespace opsbox::routing::detail
