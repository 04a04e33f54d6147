// The routing projections: one projector per routing event, the loaders the command handlers
// and the restore at start use, and the JSON views of the rows.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/assert.hpp"
#include "routing/service_model.hpp"

namespace opsbox::routing::detail {
namespace {

using store::Value;

constexpr int64_t kDayUs = 86400LL * 1000000;

int64_t I(const Json& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}
std::string S(const Json& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Status Done(const Result<int64_t>& r) {
  if (!r.ok()) return r.error();
  return Ok();
}

Status Exec(store::Tx& tx, std::string_view sql, std::vector<Value> params) {
  return Done(tx.Exec(sql, params));
}

// Adds to one queue's counters of the UTC day of `at_us`.
Status AddQueueDay(store::Tx& tx, const std::string& tenant, const std::string& queue,
                   int64_t at_us, const QueueDay& d) {
  if (queue.empty()) return Ok();
  return Exec(tx,
              "INSERT INTO routing_queue_days (tenant_id, queue_id, day, offered, answered, "
              "answered_in_sl, abandoned, answer_wait_us_sum) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT (tenant_id, queue_id, day) DO UPDATE SET "
              "offered = routing_queue_days.offered + excluded.offered, "
              "answered = routing_queue_days.answered + excluded.answered, "
              "answered_in_sl = routing_queue_days.answered_in_sl + excluded.answered_in_sl, "
              "abandoned = routing_queue_days.abandoned + excluded.abandoned, "
              "answer_wait_us_sum = routing_queue_days.answer_wait_us_sum + "
              "excluded.answer_wait_us_sum",
              {tenant, queue, at_us / kDayUs, d.offered, d.answered, d.answered_in_sl,
               d.abandoned, d.answer_wait_us_sum});
}

Status SetTaskStatus(store::Tx& tx, const ledger::Event& e, const std::string& task,
                     std::string_view status, std::string_view extra_sql,
                     std::vector<Value> extra) {
  std::vector<Value> params{std::string(status), e.seq};
  for (auto& v : extra) params.push_back(std::move(v));
  params.push_back(e.tenant_id);
  params.push_back(task);
  std::string sql = "UPDATE routing_tasks SET status = ?, seq = ?";
  sql += extra_sql;
  sql += " WHERE tenant_id = ? AND task_id = ?";
  return Exec(tx, sql, std::move(params));
}

Status EndReservation(store::Tx& tx, const ledger::Event& e, const Json& p,
                      std::string_view status) {
  return Exec(tx,
              "UPDATE routing_reservations SET status = ?, ended_at_us = ?, seq = ? "
              "WHERE tenant_id = ? AND reservation_id = ?",
              {std::string(status), I(p, "at_us"), e.seq, e.tenant_id, S(p, "reservation_id")});
}

// The task goes back to waiting when this reservation was its current one.
Status ReleaseTask(store::Tx& tx, const ledger::Event& e, const Json& p) {
  return Exec(tx,
              "UPDATE routing_tasks SET status = 'waiting', worker_id = '', reservation_id = '', "
              "seq = ? WHERE tenant_id = ? AND task_id = ? AND reservation_id = ? AND "
              "status = 'reserved'",
              {e.seq, e.tenant_id, S(p, "task_id"), S(p, "reservation_id")});
}

Status ProjectWorker(store::Tx& tx, const ledger::Event& e, const Json& p) {
  return Exec(tx,
              "INSERT INTO routing_workers (tenant_id, worker_id, name, attributes, capacity, "
              "activity, activity_since_us, idle_since_us, offer_timeouts, last_offer_seq, "
              "created_at_us, seq) VALUES (?, ?, ?, ?, ?, 'offline', ?, ?, 0, 0, ?, ?) "
              "ON CONFLICT (tenant_id, worker_id) DO UPDATE SET name = excluded.name, "
              "attributes = excluded.attributes, capacity = excluded.capacity, seq = excluded.seq",
              {e.tenant_id, S(p, "worker_id"), S(p, "name"), CanonicalJson(p.at("attributes")),
               CanonicalJson(p.at("capacity")), I(p, "at_us"), I(p, "at_us"), I(p, "at_us"), e.seq});
}

Status ProjectActivity(store::Tx& tx, const ledger::Event& e, const Json& p) {
  const bool available = S(p, "activity") == "available";
  return Exec(tx,
              "UPDATE routing_workers SET activity = ?, activity_since_us = ?, "
              "idle_since_us = CASE WHEN ? = 1 THEN ? ELSE idle_since_us END, "
              "offer_timeouts = CASE WHEN ? = 1 THEN 0 ELSE offer_timeouts END, seq = ? "
              "WHERE tenant_id = ? AND worker_id = ?",
              {S(p, "activity"), I(p, "at_us"), int64_t{available}, I(p, "at_us"),
               int64_t{available && S(p, "reason") != "offer_timeouts"}, e.seq, e.tenant_id,
               S(p, "worker_id")});
}

Status ProjectConfig(store::Tx& tx, const ledger::Event& e, const Json& p, bool queue) {
  const std::string sql =
      queue ? "INSERT INTO routing_queues (tenant_id, queue_id, config, seq) VALUES (?, ?, ?, ?) "
              "ON CONFLICT (tenant_id, queue_id) DO UPDATE SET config = excluded.config, "
              "seq = excluded.seq"
            : "INSERT INTO routing_workflows (tenant_id, workflow_id, config, seq) VALUES "
              "(?, ?, ?, ?) ON CONFLICT (tenant_id, workflow_id) DO UPDATE SET "
              "config = excluded.config, seq = excluded.seq";
  return Exec(tx, sql,
              {e.tenant_id, S(p, queue ? "queue_id" : "workflow_id"), CanonicalJson(p), e.seq});
}

Status ProjectTaskCreated(store::Tx& tx, const ledger::Event& e, const Json& p) {
  OPSBOX_TRY(Exec(
      tx,
      "INSERT INTO routing_tasks (tenant_id, task_id, channel, status, priority, base_priority, "
      "workflow_id, filter_index, attributes, conversation_id, customer_id, queue_id, target_index, target_timeout_at_us, "
      "created_at_us, expires_at_us, scheduled_at_us, sticky_worker_id, sticky_until_us, "
      "worker_id, reservation_id, answered_at_us, wrap_up_until_us, ended_at_us, end_reason, "
      "seq) VALUES (?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, '', '', 0, 0, "
      "0, '', ?)",
      {e.tenant_id, S(p, "task_id"), S(p, "channel"), I(p, "priority"), I(p, "base_priority"),
       S(p, "workflow_id"), I(p, "filter_index"),
       CanonicalJson(p.at("attributes")), S(p, "conversation_id"), S(p, "customer_id"),
       S(p, "queue_id"), I(p, "target_index"), I(p, "target_timeout_at_us"),
       I(p, "created_at_us"), I(p, "expires_at_us"), S(p, "sticky_worker_id"),
       I(p, "sticky_until_us"), e.seq}));
  return AddQueueDay(tx, e.tenant_id, S(p, "queue_id"), I(p, "created_at_us"),
                     QueueDay{.offered = 1});
}

Status ProjectReservationCreated(store::Tx& tx, const ledger::Event& e, const Json& p) {
  OPSBOX_TRY(Exec(tx,
                  "INSERT INTO routing_reservations (tenant_id, reservation_id, task_id, "
                  "worker_id, queue_id, status, created_at_us, expires_at_us, ended_at_us, seq) "
                  "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, 0, ?)",
                  {e.tenant_id, S(p, "reservation_id"), S(p, "task_id"), S(p, "worker_id"),
                   S(p, "queue_id"), I(p, "at_us"), I(p, "expires_at_us"), e.seq}));
  OPSBOX_TRY(Exec(tx,
                  "UPDATE routing_workers SET last_offer_seq = ?, seq = ? WHERE tenant_id = ? "
                  "AND worker_id = ?",
                  {e.seq, e.seq, e.tenant_id, S(p, "worker_id")}));
  return SetTaskStatus(tx, e, S(p, "task_id"), "reserved", ", worker_id = ?, reservation_id = ?",
                       {S(p, "worker_id"), S(p, "reservation_id")});
}

Status ProjectReservationAccepted(store::Tx& tx, const ledger::Event& e, const Json& p) {
  OPSBOX_TRY(EndReservation(tx, e, p, "accepted"));
  OPSBOX_TRY(SetTaskStatus(tx, e, S(p, "task_id"), "assigned", ", answered_at_us = ?",
                           {I(p, "at_us")}));
  OPSBOX_TRY(Exec(tx,
                  "UPDATE routing_workers SET offer_timeouts = 0, seq = ? WHERE tenant_id = ? "
                  "AND worker_id = ?",
                  {e.seq, e.tenant_id, S(p, "worker_id")}));
  const bool in_sl = p.value("in_service_level", false);
  return AddQueueDay(tx, e.tenant_id, S(p, "queue_id"), I(p, "at_us"),
                     QueueDay{.answered = 1,
                              .answered_in_sl = in_sl ? 1 : 0,
                              .answer_wait_us_sum = I(p, "wait_us")});
}

Status ProjectReservationEnded(store::Tx& tx, const ledger::Event& e, const Json& p,
                               std::string_view status) {
  OPSBOX_TRY(EndReservation(tx, e, p, status));
  OPSBOX_TRY(ReleaseTask(tx, e, p));
  if (status != "timeout") return Ok();
  return Exec(tx,
              "UPDATE routing_workers SET offer_timeouts = ?, seq = ? WHERE tenant_id = ? AND "
              "worker_id = ?",
              {I(p, "offer_timeouts"), e.seq, e.tenant_id, S(p, "worker_id")});
}

Status ProjectTaskEvent(store::Tx& tx, const ledger::Event& e, const Json& p) {
  const std::string task = S(p, "task_id");
  if (e.type == kTaskCompleted) {
    return SetTaskStatus(tx, e, task, "wrap_up", ", wrap_up_until_us = ?",
                         {I(p, "wrap_up_until_us")});
  }
  if (e.type == kTaskWrappedUp) {
    return SetTaskStatus(tx, e, task, "completed", ", ended_at_us = ?, end_reason = 'completed'",
                         {I(p, "at_us")});
  }
  if (e.type == kTaskTransferred) {
    OPSBOX_TRY(SetTaskStatus(tx, e, task, "waiting",
                             ", queue_id = ?, target_index = ?, target_timeout_at_us = 0, "
                             "worker_id = '', reservation_id = '', answered_at_us = 0, "
                             "sticky_worker_id = ?, sticky_until_us = ?",
                             {S(p, "queue_id"), I(p, "target_index"), S(p, "sticky_worker_id"),
                              I(p, "sticky_until_us")}));
    return AddQueueDay(tx, e.tenant_id, S(p, "queue_id"), I(p, "at_us"), QueueDay{.offered = 1});
  }
  if (e.type == kCallbackScheduled) {
    return SetTaskStatus(tx, e, task, "scheduled",
                         ", scheduled_at_us = ?, expires_at_us = ?, worker_id = '', "
                         "reservation_id = ''",
                         {I(p, "scheduled_at_us"), I(p, "expires_at_us")});
  }
  if (e.type == kCallbackReleased) {
    return SetTaskStatus(tx, e, task, "waiting", ", scheduled_at_us = 0", {});
  }
  if (e.type == kTaskStickyExpired) {
    return Exec(tx,
                "UPDATE routing_tasks SET sticky_worker_id = '', sticky_until_us = 0, seq = ? "
                "WHERE tenant_id = ? AND task_id = ?",
                {e.seq, e.tenant_id, task});
  }
  if (e.type == kTaskEscalated) {
    OPSBOX_TRY(Exec(tx,
                    "UPDATE routing_tasks SET queue_id = ?, target_index = ?, "
                    "target_timeout_at_us = ?, seq = ? WHERE tenant_id = ? AND task_id = ?",
                    {S(p, "queue_id"), I(p, "target_index"), I(p, "target_timeout_at_us"), e.seq,
                     e.tenant_id, task}));
    if (S(p, "queue_id") == S(p, "from_queue_id")) return Ok();
    return AddQueueDay(tx, e.tenant_id, S(p, "queue_id"), I(p, "at_us"), QueueDay{.offered = 1});
  }
  OPSBOX_ASSERT(e.type == kTaskCancelled);
  OPSBOX_TRY(SetTaskStatus(tx, e, task, "cancelled",
                           ", ended_at_us = ?, end_reason = ?, reservation_id = ''",
                           {I(p, "at_us"), S(p, "reason")}));
  const std::string before = S(p, "previous_status");
  if (before != "waiting" && before != "reserved" && before != "scheduled") return Ok();
  return AddQueueDay(tx, e.tenant_id, S(p, "queue_id"), I(p, "at_us"), QueueDay{.abandoned = 1});
}

Status Project(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* pp, ledger::PayloadJson(e, storage));
  const Json& p = *pp;
  if (!p.is_object()) return Error::Internal(e.type + " payload is not an object");
  if (e.type == kWorkerUpserted) return ProjectWorker(tx, e, p);
  if (e.type == kWorkerActivityChanged) return ProjectActivity(tx, e, p);
  if (e.type == kTaskQueueUpserted) return ProjectConfig(tx, e, p, true);
  if (e.type == kWorkflowUpserted) return ProjectConfig(tx, e, p, false);
  if (e.type == kTaskCreated) return ProjectTaskCreated(tx, e, p);
  if (e.type == kReservationCreated) return ProjectReservationCreated(tx, e, p);
  if (e.type == kReservationAccepted) return ProjectReservationAccepted(tx, e, p);
  if (e.type == kReservationRejected) return ProjectReservationEnded(tx, e, p, "rejected");
  if (e.type == kReservationTimedOut) return ProjectReservationEnded(tx, e, p, "timeout");
  if (e.type == kReservationCancelled) return ProjectReservationEnded(tx, e, p, "cancelled");
  return ProjectTaskEvent(tx, e, p);
}

// ---- row readers -----------------------------------------------------------------------------

Json ParseStored(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? Json() : j;
}

constexpr const char* kWorkerCols =
    "worker_id, name, attributes, capacity, activity, activity_since_us, idle_since_us, "
    "offer_timeouts, created_at_us, last_offer_seq";
WorkerRow ReadWorker(const store::Row& r) {
  WorkerRow w;
  w.worker_id = r.Text(0);
  w.name = r.Text(1);
  w.attributes = ParseStored(r.Text(2));
  const Json cap = ParseStored(r.Text(3));
  if (cap.is_object()) {
    for (auto& [k, v] : cap.items()) {
      if (v.is_number_integer()) w.capacity[k] = v.get<int64_t>();
    }
  }
  w.activity = r.Text(4);
  w.activity_since_us = r.Int(5);
  w.idle_since_us = r.Int(6);
  w.offer_timeouts = r.Int(7);
  w.created_at_us = r.Int(8);
  w.last_offer_seq = r.Int(9);
  return w;
}

constexpr const char* kTaskCols =
    "task_id, channel, status, priority, attributes, conversation_id, customer_id, queue_id, "
    "target_index, target_timeout_at_us, created_at_us, expires_at_us, scheduled_at_us, "
    "sticky_worker_id, sticky_until_us, worker_id, reservation_id, answered_at_us, "
    "wrap_up_until_us, ended_at_us, end_reason, base_priority, workflow_id, filter_index";
TaskRow ReadTask(const store::Row& r) {
  TaskRow t;
  t.task_id = r.Text(0);
  t.channel = r.Text(1);
  t.status = r.Text(2);
  t.priority = r.Int(3);
  t.attributes = ParseStored(r.Text(4));
  t.conversation_id = r.Text(5);
  t.customer_id = r.Text(6);
  t.queue_id = r.Text(7);
  t.target_index = r.Int(8);
  t.target_timeout_at_us = r.Int(9);
  t.created_at_us = r.Int(10);
  t.expires_at_us = r.Int(11);
  t.scheduled_at_us = r.Int(12);
  t.sticky_worker_id = r.Text(13);
  t.sticky_until_us = r.Int(14);
  t.worker_id = r.Text(15);
  t.reservation_id = r.Text(16);
  t.answered_at_us = r.Int(17);
  t.wrap_up_until_us = r.Int(18);
  t.ended_at_us = r.Int(19);
  t.end_reason = r.Text(20);
  t.base_priority = r.Int(21);
  t.workflow_id = r.Text(22);
  t.filter_index = r.Int(23);
  return t;
}

constexpr const char* kReservationCols =
    "reservation_id, task_id, worker_id, queue_id, status, created_at_us, expires_at_us, "
    "ended_at_us";
ReservationRow ReadReservation(const store::Row& r) {
  return ReservationRow{r.Text(0), r.Text(1), r.Text(2), r.Text(3),
                        r.Text(4), r.Int(5),  r.Int(6),  r.Int(7)};
}

template <class Db, class Row, class Read>
Result<std::optional<Row>> One(Db& db, const std::string& sql, std::string_view tenant,
                               std::string_view id, Read read) {
  std::vector<Value> params{std::string(tenant), std::string(id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, db.Query(sql, params));
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(read(rows[0]));
}

}  // namespace

const std::vector<std::string_view>& EventTypes() {
  static const std::vector<std::string_view> kTypes = {
      kWorkerUpserted,       kWorkerActivityChanged, kTaskQueueUpserted,  kWorkflowUpserted,
      kTaskCreated,          kReservationCreated,    kReservationAccepted, kReservationRejected,
      kReservationTimedOut,  kReservationCancelled,  kTaskCompleted,      kTaskWrappedUp,
      kTaskTransferred,      kCallbackScheduled,     kCallbackReleased,   kTaskEscalated,
      kTaskStickyExpired,    kTaskCancelled};
  return kTypes;
}

void RegisterProjectors(ledger::Registry& registry) {
  for (auto type : EventTypes()) registry.AddProjector(std::string(type), Project);
}

template <class Db>
Result<std::optional<WorkerRow>> LoadWorker(Db& db, std::string_view tenant, std::string_view id) {
  return One<Db, WorkerRow>(db,
                            std::string("SELECT ") + kWorkerCols +
                                " FROM routing_workers WHERE tenant_id = ? AND worker_id = ?",
                            tenant, id, ReadWorker);
}

template <class Db>
Result<std::optional<QueueRow>> LoadQueue(Db& db, std::string_view tenant, std::string_view id) {
  return One<Db, QueueRow>(
      db, "SELECT queue_id, config FROM routing_queues WHERE tenant_id = ? AND queue_id = ?",
      tenant, id,
      [](const store::Row& r) { return QueueRow{r.Text(0), ParseStored(r.Text(1))}; });
}

template <class Db>
Result<std::optional<WorkflowRow>> LoadWorkflow(Db& db, std::string_view tenant,
                                                std::string_view id) {
  return One<Db, WorkflowRow>(
      db,
      "SELECT workflow_id, config FROM routing_workflows WHERE tenant_id = ? AND workflow_id = ?",
      tenant, id,
      [](const store::Row& r) { return WorkflowRow{r.Text(0), ParseStored(r.Text(1))}; });
}

template <class Db>
Result<std::optional<TaskRow>> LoadTask(Db& db, std::string_view tenant, std::string_view id) {
  return One<Db, TaskRow>(db,
                          std::string("SELECT ") + kTaskCols +
                              " FROM routing_tasks WHERE tenant_id = ? AND task_id = ?",
                          tenant, id, ReadTask);
}

template <class Db>
Result<std::optional<ReservationRow>> LoadReservation(Db& db, std::string_view tenant,
                                                      std::string_view id) {
  return One<Db, ReservationRow>(
      db,
      std::string("SELECT ") + kReservationCols +
          " FROM routing_reservations WHERE tenant_id = ? AND reservation_id = ?",
      tenant, id, ReadReservation);
}

#define OPSBOX_ROUTING_INSTANTIATE(Db)                                                          \
  template Result<std::optional<WorkerRow>> LoadWorker(Db&, std::string_view, std::string_view); \
  template Result<std::optional<QueueRow>> LoadQueue(Db&, std::string_view, std::string_view);   \
  template Result<std::optional<WorkflowRow>> LoadWorkflow(Db&, std::string_view,                \
                                                           std::string_view);                    \
  template Result<std::optional<TaskRow>> LoadTask(Db&, std::string_view, std::string_view);     \
  template Result<std::optional<ReservationRow>> LoadReservation(Db&, std::string_view,          \
                                                                 std::string_view);
OPSBOX_ROUTING_INSTANTIATE(store::Tx)
OPSBOX_ROUTING_INSTANTIATE(store::Connection)
#undef OPSBOX_ROUTING_INSTANTIATE

Result<int64_t> CountWorkerTasks(store::Tx& tx, std::string_view tenant, std::string_view worker,
                                 std::string_view channel) {
  std::vector<Value> params{std::string(tenant), std::string(worker), std::string(channel)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT COUNT(*) FROM routing_tasks WHERE tenant_id = ? AND "
                          "worker_id = ? AND channel = ? AND status IN ('reserved', 'assigned')",
                          params));
  return rows.empty() ? 0 : rows[0].Int(0);
}

Result<int64_t> CountWorkerWrapUps(store::Tx& tx, std::string_view tenant,
                                   std::string_view worker, std::string_view except_task) {
  std::vector<Value> params{std::string(tenant), std::string(worker), std::string(except_task)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT COUNT(*) FROM routing_tasks WHERE tenant_id = ? AND "
                          "worker_id = ? AND status = 'wrap_up' AND task_id <> ?",
                          params));
  return rows.empty() ? 0 : rows[0].Int(0);
}

Result<std::vector<ReservationRow>> PendingReservationsOf(store::Tx& tx, std::string_view tenant,
                                                          std::string_view worker) {
  std::vector<Value> params{std::string(tenant), std::string(worker)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query(std::string("SELECT ") + kReservationCols +
                              " FROM routing_reservations WHERE tenant_id = ? AND worker_id = ? "
                              "AND status = 'pending' ORDER BY reservation_id",
                          params));
  std::vector<ReservationRow> out;
  for (const auto& r : rows) out.push_back(ReadReservation(r));
  return out;
}

Result<std::vector<Snapshot>> LoadAll(store::Connection& c) {
  std::map<std::string, Snapshot> by_tenant;
  auto snap = [&](const std::string& t) -> Snapshot& {
    auto& s = by_tenant[t];
    s.tenant_id = t;
    return s;
  };
  OPSBOX_ASSIGN_OR_RETURN(auto workers,
                          c.Query(std::string("SELECT tenant_id, ") + kWorkerCols +
                                  " FROM routing_workers ORDER BY tenant_id, worker_id"));
  for (const auto& r : workers) {
    store::Row rest{{r.values.begin() + 1, r.values.end()}};
    snap(r.Text(0)).workers.push_back(ReadWorker(rest));
  }
  OPSBOX_ASSIGN_OR_RETURN(
      auto queues, c.Query("SELECT tenant_id, queue_id, config FROM routing_queues ORDER BY "
                           "tenant_id, queue_id"));
  for (const auto& r : queues) {
    snap(r.Text(0)).queues.push_back(QueueRow{r.Text(1), ParseStored(r.Text(2))});
  }
  OPSBOX_ASSIGN_OR_RETURN(auto flows, c.Query("SELECT tenant_id, workflow_id, config FROM "
                                              "routing_workflows ORDER BY tenant_id, workflow_id"));
  for (const auto& r : flows) {
    snap(r.Text(0)).workflows.push_back(WorkflowRow{r.Text(1), ParseStored(r.Text(2))});
  }
  OPSBOX_ASSIGN_OR_RETURN(
      auto tasks, c.Query(std::string("SELECT tenant_id, ") + kTaskCols +
                          " FROM routing_tasks WHERE status NOT IN ('completed', 'cancelled') "
                          "ORDER BY tenant_id, created_at_us, task_id"));
  for (const auto& r : tasks) {
    store::Row rest{{r.values.begin() + 1, r.values.end()}};
    snap(r.Text(0)).tasks.push_back(ReadTask(rest));
  }
  OPSBOX_ASSIGN_OR_RETURN(
      auto res, c.Query(std::string("SELECT tenant_id, ") + kReservationCols +
                        " FROM routing_reservations WHERE status = 'pending' ORDER BY tenant_id, "
                        "reservation_id"));
  for (const auto& r : res) {
    store::Row rest{{r.values.begin() + 1, r.values.end()}};
    snap(r.Text(0)).reservations.push_back(ReadReservation(rest));
  }
  OPSBOX_ASSIGN_OR_RETURN(
      auto hist,
      c.Query("SELECT r.tenant_id, r.task_id, r.worker_id, r.status FROM routing_reservations r "
              "JOIN routing_tasks t ON t.tenant_id = r.tenant_id AND t.task_id = r.task_id "
              "WHERE t.status NOT IN ('completed', 'cancelled') ORDER BY r.tenant_id, r.task_id, "
              "r.created_at_us, LENGTH(r.reservation_id), r.reservation_id"));
  for (const auto& r : hist) {
    snap(r.Text(0)).history[r.Text(1)].emplace_back(r.Text(2), r.Text(3));
  }
  for (auto& [tenant, s] : by_tenant) {
    for (const auto& t : s.tasks) {
      if (t.status != "wrap_up") continue;
      auto& until = s.wrap_up_until_us[t.worker_id];
      until = std::max(until, t.wrap_up_until_us);
    }
  }
  std::vector<Snapshot> out;
  for (auto& [t, s] : by_tenant) out.push_back(std::move(s));
  return out;
}

Result<std::map<std::string, QueueDay>> LoadQueueDays(store::Connection& c,
                                                      std::string_view tenant, int64_t day) {
  std::vector<Value> params{std::string(tenant), day};
  OPSBOX_ASSIGN_OR_RETURN(auto rows,
                          c.Query("SELECT queue_id, offered, answered, answered_in_sl, abandoned, "
                                  "answer_wait_us_sum FROM routing_queue_days WHERE tenant_id = ? "
                                  "AND day = ?",
                                  params));
  std::map<std::string, QueueDay> out;
  for (const auto& r : rows) {
    out[r.Text(0)] = QueueDay{r.Int(1), r.Int(2), r.Int(3), r.Int(4), r.Int(5)};
  }
  return out;
}

// ---- JSON views -------------------------------------------------------------------------------

std::string QueueRow::name() const { return config.value("name", queue_id); }
int64_t QueueRow::sl_threshold_s() const {
  return config.value("service_level_threshold_s", kServiceLevelThresholdSDefault);
}
double QueueRow::sl_target() const {
  return config.value("service_level_target", kServiceLevelTargetDefault);
}
int64_t QueueRow::reservation_timeout_s() const {
  return config.value("reservation_timeout_s", kReservationTimeoutSDefault);
}
int64_t QueueRow::wrap_up_s() const { return config.value("wrap_up_s", kWrapUpSDefault); }

namespace {
Json Time(int64_t us) { return us == 0 ? Json() : Json(FormatRfc3339(Instant{us})); }
Json Text(const std::string& s) { return s.empty() ? Json() : Json(s); }
}  // namespace

Json WorkerJson(const WorkerRow& w) {
  Json cap = Json::object();
  for (const auto& [k, v] : w.capacity) cap[k] = v;
  return Json{{"worker_id", w.worker_id},       {"name", w.name},
              {"attributes", w.attributes},     {"capacity", cap},
              {"activity", w.activity},         {"activity_since", Time(w.activity_since_us)},
              {"idle_since", Time(w.idle_since_us)}, {"offer_timeouts", w.offer_timeouts}};
}

Json TaskJson(const TaskRow& t) {
  return Json{{"task_id", t.task_id},
              {"channel", t.channel},
              {"status", t.status},
              {"priority", t.priority},
              {"attributes", t.attributes},
              {"conversation_id", Text(t.conversation_id)},
              {"customer_id", Text(t.customer_id)},
              {"queue_id", Text(t.queue_id)},
              {"target_index", t.target_index},
              {"target_timeout_at", Time(t.target_timeout_at_us)},
              {"created_at", Time(t.created_at_us)},
              {"expires_at", Time(t.expires_at_us)},
              {"scheduled_at", Time(t.scheduled_at_us)},
              {"sticky_worker_id", Text(t.sticky_worker_id)},
              {"sticky_until", Time(t.sticky_until_us)},
              {"worker_id", Text(t.worker_id)},
              {"reservation_id", Text(t.reservation_id)},
              {"answered_at", Time(t.answered_at_us)},
              {"wrap_up_until", Time(t.wrap_up_until_us)},
              {"ended_at", Time(t.ended_at_us)},
              {"end_reason", Text(t.end_reason)}};
}

Json ReservationJson(const ReservationRow& r) {
  return Json{{"reservation_id", r.reservation_id}, {"task_id", r.task_id},
              {"worker_id", r.worker_id},           {"queue_id", r.queue_id},
              {"status", r.status},                 {"created_at", Time(r.created_at_us)},
              {"expires_at", Time(r.expires_at_us)}, {"ended_at", Time(r.ended_at_us)}};
}

}  // namespace opsbox::routing::detail
