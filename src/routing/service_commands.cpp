// The routing command handlers: each loads the projection rows its decision needs through the
// writer's transaction (which sees earlier commands of the same batch), then calls the pure
// decide function.
#include <nlohmann/json.hpp>

#include "core/ids.hpp"
#include "routing/service_model.hpp"

namespace opsbox::routing::detail {
namespace {

using ledger::Command;
using ledger::Decision;

std::string Str(const Json& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Status RequireObject(const Json& p) {
  if (!p.is_object()) return Error::Invalid("body", "type", "must be a JSON object");
  return Ok();
}

bool IsSystem(const Command& cmd) { return cmd.actor == "system"; }

Status SystemOnly(const Command& cmd) {
  if (IsSystem(cmd)) return Ok();
  return Error{ErrorCode::kPermissionDenied, "", "system_only",
               cmd.type + " is issued by the routing service only"};
}

Result<TaskInput> LoadTaskInput(store::Tx& tx, const Command& cmd) {
  TaskInput in;
  const std::string id = Str(cmd.payload, "task_id");
  if (id.empty()) return Error::Invalid("task_id", "required", "is required");
  OPSBOX_ASSIGN_OR_RETURN(in.task, LoadTask(tx, cmd.tenant_id, id));
  if (!in.task) return Error::NotFound("task " + id + " does not exist");
  if (!in.task->worker_id.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(in.worker, LoadWorker(tx, cmd.tenant_id, in.task->worker_id));
    OPSBOX_ASSIGN_OR_RETURN(in.other_wrap_ups, CountWorkerWrapUps(tx, cmd.tenant_id,
                                                                  in.task->worker_id, id));
  }
  if (!in.task->queue_id.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(in.queue, LoadQueue(tx, cmd.tenant_id, in.task->queue_id));
  }
  if (!in.task->reservation_id.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(in.reservation,
                            LoadReservation(tx, cmd.tenant_id, in.task->reservation_id));
  }
  return in;
}

Result<ReservationInput> LoadReservationInput(store::Tx& tx, const Command& cmd) {
  ReservationInput in;
  const std::string id = Str(cmd.payload, "reservation_id");
  if (id.empty()) return Error::Invalid("reservation_id", "required", "is required");
  OPSBOX_ASSIGN_OR_RETURN(in.reservation, LoadReservation(tx, cmd.tenant_id, id));
  if (!in.reservation) return Error::NotFound("reservation " + id + " does not exist");
  OPSBOX_ASSIGN_OR_RETURN(in.task, LoadTask(tx, cmd.tenant_id, in.reservation->task_id));
  OPSBOX_ASSIGN_OR_RETURN(in.worker, LoadWorker(tx, cmd.tenant_id, in.reservation->worker_id));
  OPSBOX_ASSIGN_OR_RETURN(in.queue, LoadQueue(tx, cmd.tenant_id, in.reservation->queue_id));
  if (!in.task || !in.worker) return Error::Internal("reservation " + id + " lost its task");
  return in;
}

// The acting worker for ownership checks: "" for the system and managers (the API layer sets
// "worker_id" only for callers acting as themselves).
std::string Actor(const Command& cmd) { return IsSystem(cmd) ? "" : Str(cmd.payload, "worker_id"); }

Result<Decision> UpsertWorker(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(RequireObject(cmd.payload));
  OPSBOX_ASSIGN_OR_RETURN(auto w, LoadWorker(tx, cmd.tenant_id, Str(cmd.payload, "worker_id")));
  return DecideUpsertWorker(w, cmd.payload, now);
}

Result<Decision> SetActivity(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(RequireObject(cmd.payload));
  const std::string id = Str(cmd.payload, "worker_id");
  OPSBOX_ASSIGN_OR_RETURN(auto w, LoadWorker(tx, cmd.tenant_id, id));
  OPSBOX_ASSIGN_OR_RETURN(auto pending, PendingReservationsOf(tx, cmd.tenant_id, id));
  return DecideSetActivity(w, pending, cmd.payload, now, IsSystem(cmd));
}

Result<Decision> UpsertQueue(store::Tx&, const Command& cmd, Instant, Random&) {
  OPSBOX_TRY(RequireObject(cmd.payload));
  return DecideUpsertQueue(cmd.payload);
}

Result<Decision> UpsertWorkflow(store::Tx& tx, const Command& cmd, Instant, Random&) {
  OPSBOX_TRY(RequireObject(cmd.payload));
  std::optional<Error> failed;
  auto exists = [&](std::string_view q) {
    auto r = LoadQueue(tx, cmd.tenant_id, q);
    if (!r.ok()) failed = r.error();
    return r.ok() && r->has_value();
  };
  auto d = DecideUpsertWorkflow(cmd.payload, exists);
  if (failed) return *failed;
  return d;
}

Result<Decision> CreateTask(store::Tx& tx, const Command& cmd, Instant now, Random& rnd) {
  OPSBOX_TRY(RequireObject(cmd.payload));
  Ids ids{NewId("task", now, rnd), ""};
  std::optional<TaskRow> existing;
  if (const std::string id = Str(cmd.payload, "task_id"); !id.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(existing, LoadTask(tx, cmd.tenant_id, id));
  }
  OPSBOX_ASSIGN_OR_RETURN(auto wf, LoadWorkflow(tx, cmd.tenant_id, kDefaultWorkflow));
  std::optional<Error> failed;
  auto queue = [&](std::string_view q) -> std::optional<QueueRow> {
    auto r = LoadQueue(tx, cmd.tenant_id, q);
    if (!r.ok()) failed = r.error();
    return r.ok() ? *r : std::nullopt;
  };
  auto d = DecideCreateTask(existing, wf, queue, cmd.payload, ids, now);
  if (failed) return *failed;
  return d;
}

Result<Decision> ReserveTask(store::Tx& tx, const Command& cmd, Instant now, Random& rnd) {
  OPSBOX_TRY(SystemOnly(cmd));
  OPSBOX_TRY(RequireObject(cmd.payload));
  ReserveInput in;
  OPSBOX_ASSIGN_OR_RETURN(in.task, LoadTask(tx, cmd.tenant_id, Str(cmd.payload, "task_id")));
  OPSBOX_ASSIGN_OR_RETURN(in.worker,
                          LoadWorker(tx, cmd.tenant_id, Str(cmd.payload, "worker_id")));
  if (in.task && in.worker) {
    OPSBOX_ASSIGN_OR_RETURN(in.queue, LoadQueue(tx, cmd.tenant_id, in.task->queue_id));
    OPSBOX_ASSIGN_OR_RETURN(in.worker_load, CountWorkerTasks(tx, cmd.tenant_id,
                                                             in.worker->worker_id,
                                                             in.task->channel));
  }
  return DecideReserve(in, cmd.payload, Ids{"", NewId("res", now, rnd)}, now);
}

Result<Decision> Accept(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(RequireObject(cmd.payload));
  OPSBOX_ASSIGN_OR_RETURN(auto in, LoadReservationInput(tx, cmd));
  return DecideAccept(in, Actor(cmd), now);
}

Result<Decision> Reject(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(RequireObject(cmd.payload));
  OPSBOX_ASSIGN_OR_RETURN(auto in, LoadReservationInput(tx, cmd));
  return DecideReject(in, Actor(cmd), cmd.payload, now);
}

Result<Decision> ExpireReservation(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(SystemOnly(cmd));
  OPSBOX_ASSIGN_OR_RETURN(auto in, LoadReservationInput(tx, cmd));
  return DecideExpireReservation(in, now);
}

Result<Decision> Complete(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(RequireObject(cmd.payload));
  OPSBOX_ASSIGN_OR_RETURN(auto in, LoadTaskInput(tx, cmd));
  return DecideComplete(in, Actor(cmd), now);
}

Result<Decision> FinishWrapUp(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(RequireObject(cmd.payload));
  OPSBOX_ASSIGN_OR_RETURN(auto in, LoadTaskInput(tx, cmd));
  return DecideFinishWrapUp(in, Actor(cmd), now, IsSystem(cmd));
}

Result<Decision> Transfer(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(RequireObject(cmd.payload));
  TransferInput in;
  OPSBOX_ASSIGN_OR_RETURN(in.task, LoadTaskInput(tx, cmd));
  if (auto q = Str(cmd.payload, "queue_id"); !q.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(in.to_queue, LoadQueue(tx, cmd.tenant_id, q));
  }
  if (auto w = Str(cmd.payload, "to_worker_id"); !w.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(in.to_worker, LoadWorker(tx, cmd.tenant_id, w));
  }
  return DecideTransfer(in, Actor(cmd), cmd.payload, now);
}

Result<Decision> ScheduleCallback(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(RequireObject(cmd.payload));
  OPSBOX_ASSIGN_OR_RETURN(auto in, LoadTaskInput(tx, cmd));
  return DecideScheduleCallback(in, cmd.payload, now);
}

Result<Decision> ReleaseCallback(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(SystemOnly(cmd));
  OPSBOX_ASSIGN_OR_RETURN(auto in, LoadTaskInput(tx, cmd));
  return DecideReleaseCallback(in, now);
}

Result<Decision> Escalate(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(SystemOnly(cmd));
  OPSBOX_ASSIGN_OR_RETURN(auto in, LoadTaskInput(tx, cmd));
  std::optional<WorkflowRow> wf;
  if (!in.task->workflow_id.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(wf, LoadWorkflow(tx, cmd.tenant_id, in.task->workflow_id));
  }
  return DecideEscalate(in, wf, cmd.payload, now);
}

Result<Decision> ExpireSticky(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(SystemOnly(cmd));
  OPSBOX_ASSIGN_OR_RETURN(auto in, LoadTaskInput(tx, cmd));
  return DecideExpireSticky(in, now);
}

Result<Decision> Cancel(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(RequireObject(cmd.payload));
  OPSBOX_ASSIGN_OR_RETURN(auto in, LoadTaskInput(tx, cmd));
  return DecideCancel(in, cmd.payload, now, "cancelled");
}

Result<Decision> ExpireTask(store::Tx& tx, const Command& cmd, Instant now, Random&) {
  OPSBOX_TRY(SystemOnly(cmd));
  OPSBOX_ASSIGN_OR_RETURN(auto in, LoadTaskInput(tx, cmd));
  return DecideCancel(in, Json::object(), now, "lifetime_expired");
}

}  // namespace

void RegisterCommands(ledger::Registry& r) {
  r.AddCommand(std::string(kUpsertWorker), UpsertWorker);
  r.AddCommand(std::string(kSetWorkerActivity), SetActivity);
  r.AddCommand(std::string(kUpsertTaskQueue), UpsertQueue);
  r.AddCommand(std::string(kUpsertWorkflow), UpsertWorkflow);
  r.AddCommand(std::string(kCreateTask), CreateTask);
  r.AddCommand(std::string(kReserveTask), ReserveTask);
  r.AddCommand(std::string(kAcceptReservation), Accept);
  r.AddCommand(std::string(kRejectReservation), Reject);
  r.AddCommand(std::string(kExpireReservation), ExpireReservation);
  r.AddCommand(std::string(kCompleteTask), Complete);
  r.AddCommand(std::string(kFinishWrapUp), FinishWrapUp);
  r.AddCommand(std::string(kTransferTask), Transfer);
  r.AddCommand(std::string(kScheduleCallback), ScheduleCallback);
  r.AddCommand(std::string(kReleaseCallback), ReleaseCallback);
  r.AddCommand(std::string(kEscalateTask), Escalate);
  r.AddCommand(std::string(kExpireSticky), ExpireSticky);
  r.AddCommand(std::string(kCancelTask), Cancel);
  r.AddCommand(std::string(kExpireTask), ExpireTask);
}

}  // namespace opsbox::routing::detail
