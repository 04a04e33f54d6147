// The routing service (issue #4): puts the routing engine (engine.hpp) on the ledger.
//
// Every change of routing state is a command decided against the routing projections
// (tables routing_*, migration 8) and recorded as events; the engine, one per tenant, follows
// the committed events and proposes decisions (offers, timeouts, escalations, callbacks due,
// sticky expiry, task lifetime, wrap-up end) that the service submits as ordinary system
// commands (actor "system"), so time-driven behaviour is on the ledger and survives restarts.
// A command built on a stale proposal is refused by its decide function (the task is no longer
// waiting, the worker no longer available or at capacity) and the engine withdraws it.
//
// Threads: Register() and Start() from the composition root; one service thread (unless
// options.run_threads is false) wakes on every committed batch (event-driven: offers are
// submitted right after the commit that made them possible) and at the engine's next deadline;
// reads are thread-safe. The engines are guarded by one mutex; nothing blocks while holding it.
//
// Live (contracts §4, when a live::Hub is given): "agent_activities" and
// "reservations/<worker_id>" from the committed listener; "queue_stats" at most every
// options.stats_interval_ms when something changed, plus a snapshot for new subscribers.
// Queue statistics: waiting, longest wait and agents by activity are live (the engine);
// offered, answered, service level, ASA and abandoned are cumulative since midnight UTC (the
// projection routing_queue_days, so they survive restarts). service_level = answered within
// the queue's threshold / (answered + abandoned), 1 when both are 0.
//
// Intake hook: a committed conversation_opened event submits create_task with command id
// "task:<conversation_id>:<event seq>" and attributes {type:"conversation", channel,
// conversation_id, customer_id, language?, intent?, intent_confidence_bp?} (intent: issue #12,
// the tenant's classifier on the opening message's text; automation_boundary and
// automation_policy_version when the tenant's boundary policy decided one).
//
// Automation hook (issue #12): a committed automation_handed_off event submits create_task
// with command id "task:handoff:<session_id>", the task id the event names, the session's
// channel, and attributes {type:"automation_handoff", session_id, intent, confidence_bp,
// automation_boundary, automation_policy_version, authentication_status, outcome, reason,
// customer_id, conversation_id}: the handoff packet's summary (the agent desktop reads the
// whole packet, transcript included, by session id).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock_fwd.hpp"
#include "core/json.hpp"
#include "core/result.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox {
namespace ledger {
class Writer;
}
namespace live {
class Hub;
}
}  // namespace opsbox

namespace opsbox::routing {

// ---- wire names of the routing commands (imperative) and events (past tense) ----------------
inline constexpr std::string_view kUpsertWorker = "upsert_worker";
inline constexpr std::string_view kSetWorkerActivity = "set_worker_activity";
inline constexpr std::string_view kUpsertTaskQueue = "upsert_task_queue";
inline constexpr std::string_view kUpsertWorkflow = "upsert_workflow";
inline constexpr std::string_view kCreateTask = "create_task";
inline constexpr std::string_view kReserveTask = "reserve_task";               // system
inline constexpr std::string_view kAcceptReservation = "accept_reservation";
inline constexpr std::string_view kRejectReservation = "reject_reservation";
inline constexpr std::string_view kExpireReservation = "expire_reservation";   // system
inline constexpr std::string_view kCompleteTask = "complete_task";
inline constexpr std::string_view kFinishWrapUp = "finish_wrap_up";
inline constexpr std::string_view kTransferTask = "transfer_task";
inline constexpr std::string_view kScheduleCallback = "schedule_callback";
inline constexpr std::string_view kReleaseCallback = "release_callback";       // system
inline constexpr std::string_view kEscalateTask = "escalate_task";             // system
inline constexpr std::string_view kExpireSticky = "expire_sticky";             // system
inline constexpr std::string_view kCancelTask = "cancel_task";
inline constexpr std::string_view kExpireTask = "expire_task";                 // system

inline constexpr std::string_view kWorkerUpserted = "worker_upserted";
inline constexpr std::string_view kWorkerActivityChanged = "worker_activity_changed";
inline constexpr std::string_view kTaskQueueUpserted = "task_queue_upserted";
inline constexpr std::string_view kWorkflowUpserted = "workflow_upserted";
inline constexpr std::string_view kTaskCreated = "task_created";
inline constexpr std::string_view kReservationCreated = "reservation_created";
inline constexpr std::string_view kReservationAccepted = "reservation_accepted";
inline constexpr std::string_view kReservationRejected = "reservation_rejected";
inline constexpr std::string_view kReservationTimedOut = "reservation_timed_out";
inline constexpr std::string_view kReservationCancelled = "reservation_cancelled";
inline constexpr std::string_view kTaskCompleted = "task_completed";
inline constexpr std::string_view kTaskWrappedUp = "task_wrapped_up";
inline constexpr std::string_view kTaskTransferred = "task_transferred";
inline constexpr std::string_view kCallbackScheduled = "callback_scheduled";
inline constexpr std::string_view kCallbackReleased = "callback_released";
inline constexpr std::string_view kTaskEscalated = "task_escalated";
inline constexpr std::string_view kTaskStickyExpired = "task_sticky_expired";
inline constexpr std::string_view kTaskCancelled = "task_cancelled";

// Intake's event that opens a task (contracts §6).
inline constexpr std::string_view kConversationOpened = "conversation_opened";
// Automation's handoff (issue #12, automation/automation.hpp) that opens a task.
inline constexpr std::string_view kAutomationHandedOff = "automation_handed_off";

struct ServiceOptions {
  // false in tests: nothing runs in the background; call RunPending() to take the engine's
  // decisions (with the injected clock's now) and wait for their commands.
  bool run_threads = true;
  int64_t stats_interval_ms = 250;      // queue_stats publications at most this often
  int64_t timer_interval_ms_max = 100;  // the service thread's longest sleep
  size_t offers_per_round_max = 1000;   // reservations proposed per wake-up
};

class Service {
 public:
  // `db`, `clock` and `hub` (may be null) must outlive the service.
  Service(store::Database& db, Clock& clock, live::Hub* hub, ServiceOptions options = {});
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Registers the routing commands, projectors and the committed listener. Once, before the
  // writer starts.
  void Register(ledger::Registry& registry);
  // Restores every tenant's engine from the projections (workers, queues, workflows, open
  // tasks, pending reservations) and starts the service thread. `writer` must outlive Stop().
  Status Start(ledger::Writer& writer);
  // Stops the service thread (before the writer stops). Idempotent.
  void Stop();

  // Takes the engine's due decisions and offers now (clock's time), submits their commands and
  // waits for them; repeats while they cause more (at most 16 rounds). Returns the number of
  // commands submitted. For tests and the CLI; the service thread does the same on its own.
  size_t RunPending();

  // ---- reads (projections through `c`; thread-safe) ----
  Result<Json> ListWorkers(store::Connection& c, std::string_view tenant, size_t limit,
                           std::string_view after) const;
  // {worker, reservations:[pending], tasks:[open tasks of the worker]}; 404 when not a worker.
  Result<Json> Me(store::Connection& c, std::string_view tenant, std::string_view worker_id) const;
  Result<Json> ListQueues(store::Connection& c, std::string_view tenant) const;
  Result<Json> GetTask(store::Connection& c, std::string_view tenant,
                       std::string_view task_id) const;
  // Who a reservation is offered to (for the API's ownership check); 404 when unknown.
  Result<std::string> ReservationWorker(store::Connection& c, std::string_view tenant,
                                        std::string_view reservation_id) const;
  // The "queue_stats" message of contracts §4.
  Result<Json> Stats(store::Connection& c, std::string_view tenant) const;

  // The engine's exact state of one tenant (tasks and workers as the engine sees them), for
  // restart tests: equal before and after a restart from the same database.
  Json EngineSnapshot(std::string_view tenant) const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace opsbox::routing
