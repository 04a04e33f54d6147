// The routing engine (issue #4): the pure, in-memory state of one tenant's routing — workers,
// task queues, workflows, tasks and reservations — and the decisions taken on it.
//
// Purity: no I/O, no clock reads (every operation takes `now`), no randomness, no globals. The
// same sequence of calls gives the same decisions and ids. Operations change the engine's state
// and return what happened (Decisions); the routing service (E) records those decisions as
// ledger events. On restart the service replays projection rows through the load functions
// (UpsertWorker, RestoreWorkerState, UpsertQueue, SetWorkflow, RestoreTask, RestoreQueueCounters),
// which emit no decisions.
//
// Thread-safety: none. One engine per tenant, called by one thread at a time (E serialises).
//
// Model:
// - A worker is routable when its activity is kAvailable and it has free capacity in the task's
//   channel (capacity[channel] minus tasks reserved, assigned or wrapping in that channel).
//   A worker with no capacity entry for a channel takes no tasks of that channel.
// - A queue's target expression is evaluated against worker attributes only (task = absent)
//   when the worker or the queue changes, never per decision: each queue keeps its eligible
//   workers ordered by its worker selection.
// - Workflow: filters in order over task attributes (worker absent), first match wins, else the
//   default filter. A target places the task in its queue with the target's priority (or the
//   task's own) and, when timeout_s > 0, a deadline; Tick moves a still-waiting task past its
//   deadline to the next target ("escalated"). Past the last target the task stays where it is
//   with no deadline. A target with skip_if_no_worker is skipped when its queue has no eligible
//   worker who is available; the last target is never skipped. A target's refining expression
//   is evaluated per (task, worker) at dispatch (both attribute sets present).
// - Ordering in a queue: by effective priority, then age, then arrival order. Effective priority
//   = priority + wait / aging, aging = the queue's aging_s (default: its service level threshold),
//   so a task gains one priority level for every `aging` it waits and no task starves. Because
//   every task ages at the same rate the order is fixed at enqueue time (key = priority * aging -
//   enqueued_at) and no re-sorting is needed. enqueued_at is the task's created_at; callbacks,
//   escalations, transfers and rejections keep it, so a task keeps its position.
// - Dispatch offers each queue's best task to the best routable eligible worker (queue's worker
//   selection; not a worker who rejected or timed out on this task; passing the refining
//   expression; for a sticky task before sticky_until only the sticky worker, who need not be in
//   the queue's eligible set). A task that no worker can take now does not block the tasks behind
//   it (bounded look-ahead kDispatchLookAheadMax).
// - Worker selection: longest_idle (earliest idle_since: when the worker last became free of
//   tasks, or became available), most_skilled (highest level of the queue's skill attribute,
//   ties by longest idle), round_robin (least recently offered any task).
// - Reservations: one pending reservation per task. Accept assigns the task to the worker.
//   Reject and timeout return the task to its queue at its position and exclude that worker for
//   this task. A worker's consecutive timeouts (reset by accept or reject) reaching
//   consecutive_timeouts_max yields an ActivitySuggested (kOffline); the engine does not change
//   the activity itself — the service applies it with SetActivity.
// - Complete: the task enters wrap-up (holds its capacity) and the worker's activity becomes
//   kWrapUp until wrap_up_until (queue's wrap_up); WrapUp or the timer ends it: the task is
//   released and, when none of the worker's tasks is wrapping, the worker returns to the
//   activity it had before (normally kAvailable).
// - Lifetime: a task not completed by expires_at (created_at + lifetime, default 24 h) is
//   cancelled by Tick with reason "expired" (its reservation is cancelled, its worker freed).
//
// Ids: reservation ids are derived, so replays give the same ids: ReservationId(task_id, n)
// where n counts the task's reservations from 1.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "routing/expression.hpp"

namespace opsbox::routing {

// ---- limits (STYLE.md house rule 4) ---------------------------------------------------------
inline constexpr size_t kEngineWorkersMax = 100'000;
inline constexpr size_t kEngineQueuesMax = 10'000;
inline constexpr size_t kEngineTasksMax = 2'000'000;      // open tasks (not completed)
inline constexpr size_t kEngineChannelsMax = 16;          // distinct channel names
inline constexpr size_t kEngineIdBytesMax = 100;
inline constexpr size_t kEngineFiltersMax = 64;
inline constexpr size_t kEngineTargetsMax = 16;
inline constexpr int64_t kEnginePriorityMax = 1000;       // priorities are 0..kEnginePriorityMax
inline constexpr int64_t kEngineCapacityPerChannelMax = 100;
inline constexpr size_t kEngineRejectedWorkersMax = 64;   // per task; older ones are forgotten
inline constexpr size_t kDispatchLookAheadMax = 64;       // tasks tried per queue and round
inline constexpr size_t kDispatchCandidatesMax = 256;     // workers tried per task
inline constexpr size_t kHandleTimeSamples = 100;         // per queue, for estimated wait

enum class Activity { kAvailable, kBusy, kBreak, kOffline, kWrapUp };
std::string_view ActivityName(Activity a);                 // "available", "busy", ...
std::optional<Activity> ParseActivity(std::string_view name);

enum class WorkerSelection { kLongestIdle, kMostSkilled, kRoundRobin };
std::string_view WorkerSelectionName(WorkerSelection s);   // "longest_idle", ...
std::optional<WorkerSelection> ParseWorkerSelection(std::string_view name);

enum class TaskState { kWaiting, kScheduled, kReserved, kAssigned, kWrapping };
std::string_view TaskStateName(TaskState s);               // "waiting", "scheduled", ...

// Why a task left the engine.
enum class TaskEnd { kCompleted, kCancelled, kExpired, kNoMatchingTarget };
std::string_view TaskEndName(TaskEnd e);   // "completed", "cancelled", "expired", "no_target"

enum class ReservationEnd { kAccepted, kRejected, kTimedOut, kCancelled };
std::string_view ReservationEndName(ReservationEnd e);  // "accepted", "rejected", "timeout", "cancelled"

// Why a task was (re)placed in a queue.
enum class QueuedReason { kCreated, kEscalated, kTransferred, kCallbackDue, kReturned };
std::string_view QueuedReasonName(QueuedReason r);  // "created", "escalated", "transferred",
                                                    // "callback_due", "returned"

// "<task_id>/r<n>", n >= 1.
std::string ReservationId(std::string_view task_id, int64_t n);

struct EngineOptions {
  int64_t consecutive_timeouts_max = 3;           // then ActivitySuggested{kOffline}
  Duration task_lifetime = Duration::Hours(24);   // default when TaskSpec.lifetime is absent
  Duration task_lifetime_max = Duration::Hours(24 * 30);
  Duration callback_lifetime = Duration::Hours(4);  // a callback keeps the task alive this long
};

// ---- configuration ---------------------------------------------------------------------------
struct WorkerSpec {
  std::string id;                         // the user id, "usr_…"
  std::string name;
  Json attributes = Json::object();       // {skills:{billing:5}, languages:["en"], team, ...}
  std::map<std::string, int64_t> capacity;  // channel -> concurrent tasks, 0..kEngineCapacityPerChannelMax
};

struct QueueSpec {
  std::string id;
  std::string name;
  std::string target_expression;          // over worker attributes; empty = every worker
  WorkerSelection worker_selection = WorkerSelection::kLongestIdle;
  std::string skill;                      // most_skilled: "billing" = worker.skills.billing, or a path "a.b"
  int64_t service_level_threshold_s = 30;
  double service_level_target = 0.8;
  int64_t callback_offer_wait_s = 0;      // > 0: QueueStats.callback_offered when EWT exceeds it
  int64_t aging_s = 0;                    // seconds per priority level; 0 = service_level_threshold_s
  Duration reservation_timeout = Duration::Seconds(20);
  Duration wrap_up = Duration::Seconds(30);
};

struct WorkflowTarget {
  std::string queue_id;
  std::optional<int64_t> priority;        // replaces the task's priority while in this target
  int64_t timeout_s = 0;                  // 0 = no deadline
  std::string expression;                 // refining expression over task and worker; empty = none
  bool skip_if_no_worker = false;
};

struct WorkflowFilter {
  std::string name;
  std::string expression;                 // over task attributes
  std::vector<WorkflowTarget> targets;    // 1..kEngineTargetsMax
};

struct WorkflowSpec {
  std::string id = "default";
  std::vector<WorkflowFilter> filters;    // 0..kEngineFiltersMax
  std::vector<WorkflowTarget> default_targets;  // may be empty: unmatched tasks end "no_target"
};

// ---- tasks -----------------------------------------------------------------------------------
struct TaskSpec {
  std::string id;
  std::string channel;                    // "voice", "chat", "email", ...
  Json attributes = Json::object();
  int64_t priority = 0;                   // 0..kEnginePriorityMax
  std::optional<Duration> lifetime;       // default EngineOptions.task_lifetime
  std::string workflow_id;                // empty = "default"
  std::string queue_id;                   // non-empty: skip the workflow, go straight to this queue
  std::string sticky_worker_id;           // last agent / relationship manager
  Duration sticky_timeout = Duration::Seconds(30);  // then any eligible worker
};

struct ReservationInfo {
  std::string id;
  std::string task_id;
  std::string worker_id;
  std::string queue_id;
  Instant created_at;
  Instant expires_at;
  bool operator==(const ReservationInfo&) const = default;
};

// The complete state of one open task: returned by FindTask and accepted by RestoreTask, so a
// restart restores exactly (RestoreTask(FindTask(x)) gives an engine whose FindTask(x) is equal).
struct TaskInfo {
  std::string id;
  std::string channel;
  Json attributes = Json::object();
  int64_t base_priority = 0;              // the task's own priority
  int64_t priority = 0;                   // in force (the target's priority or base_priority)
  TaskState state = TaskState::kWaiting;
  std::string workflow_id;
  int64_t filter_index = -1;              // -1: default filter; -2: no workflow (queue given / transfer)
  int64_t target_index = 0;
  std::string queue_id;
  std::optional<Instant> target_deadline; // escalation deadline of the current target
  Instant created_at;                     // also the enqueue time that fixes its position
  Instant expires_at;
  std::optional<Instant> scheduled_at;    // kScheduled: a callback due then
  std::string sticky_worker_id;
  std::optional<Instant> sticky_until;
  std::string worker_id;                  // reserved / assigned / wrapping worker
  std::optional<ReservationInfo> reservation;  // kReserved only
  int64_t reservations_made = 0;          // n of the last ReservationId
  std::vector<std::string> excluded_worker_ids;  // rejected or timed out, most recent last
  std::optional<Instant> accepted_at;
  std::optional<Instant> wrap_up_until;   // kWrapping
  bool operator==(const TaskInfo&) const = default;
};

// ---- decisions -------------------------------------------------------------------------------
struct Offer {                            // a new pending reservation
  ReservationInfo reservation;
  std::string channel;
};
struct ReservationClosed {
  ReservationInfo reservation;
  ReservationEnd how;
};
struct TaskQueued {                       // the task is (again) waiting in queue_id
  std::string task_id;
  std::string queue_id;
  std::string from_queue_id;              // empty on creation
  int64_t target_index = 0;
  int64_t priority = 0;
  std::optional<Instant> target_deadline;
  QueuedReason reason = QueuedReason::kCreated;
};
struct TaskClosed {                       // the task left the engine
  std::string task_id;
  std::string queue_id;
  std::string worker_id;                  // empty when it was waiting
  TaskEnd how;
};
struct TaskWrappedUp {                    // wrap-up ended (explicitly or by its timer)
  std::string task_id;
  std::string worker_id;
  bool by_timer = false;
};
struct ActivityChanged {                  // the engine changed a worker's activity itself
  std::string worker_id;
  Activity from;
  Activity to;
  std::optional<Instant> until;           // kWrapUp
};
struct ActivitySuggested {                // the service should call SetActivity
  std::string worker_id;
  Activity activity = Activity::kOffline;
  int64_t consecutive_timeouts = 0;
};
struct StickyExpired {
  std::string task_id;
  std::string worker_id;
};
struct CallbackDue {
  std::string task_id;
  std::string queue_id;
};

struct Decisions {
  std::vector<Offer> offers;
  std::vector<ReservationClosed> reservations_closed;
  std::vector<TaskQueued> queued;
  std::vector<TaskClosed> closed;
  std::vector<TaskWrappedUp> wrapped_up;
  std::vector<ActivityChanged> activity_changes;
  std::vector<ActivitySuggested> suggestions;
  std::vector<StickyExpired> sticky_expired;
  std::vector<CallbackDue> callbacks_due;
  bool empty() const;
  void Append(Decisions&& other);
};

// ---- views -----------------------------------------------------------------------------------
struct WorkerInfo {
  std::string id;
  std::string name;
  Json attributes = Json::object();
  std::map<std::string, int64_t> capacity;
  Activity activity = Activity::kOffline;
  Instant activity_since;
  std::optional<Instant> activity_until;  // kWrapUp
  Activity activity_after_wrap_up = Activity::kAvailable;
  Instant idle_since;                     // longest-idle key
  int64_t offer_seq = 0;                  // round-robin key: engine-wide offer counter at its last offer
  int64_t consecutive_timeouts = 0;
  std::map<std::string, int64_t> in_flight;  // channel -> reserved + assigned + wrapping
  std::vector<std::string> task_ids;      // reserved, assigned or wrapping, oldest first
  std::vector<std::string> queue_ids;     // queues whose target expression it matches
};

// Runtime state restored on restart (the spec comes through UpsertWorker first).
struct WorkerState {
  Activity activity = Activity::kOffline;
  Instant activity_since;
  std::optional<Instant> activity_until;
  Activity activity_after_wrap_up = Activity::kAvailable;
  Instant idle_since;
  int64_t offer_seq = 0;
  int64_t consecutive_timeouts = 0;
};

// Cumulative counters per queue (since engine start or RestoreQueueCounters).
struct QueueCounters {
  int64_t entered = 0;              // tasks placed in the queue (created, escalated, transferred in)
  int64_t answered = 0;             // reservations accepted from this queue
  int64_t answered_within_sl = 0;   // waited <= service_level_threshold_s (created_at -> accept)
  int64_t abandoned = 0;            // cancelled or expired while waiting or reserved here
  int64_t abandoned_within_sl = 0;  // of those, abandoned within the threshold
  int64_t wait_us_answered = 0;     // sum of waits of answered tasks (ASA numerator)
  int64_t handle_us_total = 0;      // accept -> wrap-up end, sum
  int64_t handled = 0;              // tasks whose wrap-up ended from this queue
  int64_t escalated_out = 0;
  bool operator==(const QueueCounters&) const = default;
};

struct QueueStats {
  std::string queue_id;
  std::string name;
  int64_t waiting = 0;              // waiting + reserved (not yet answered); scheduled excluded
  int64_t scheduled = 0;            // callbacks not yet due
  double longest_wait_s = 0;        // oldest waiting or reserved task's age
  // answered_within_sl / (answered + abandoned - abandoned_within_sl); 1 when nothing counted
  double service_level = 1.0;
  double asa_s = 0;                 // wait_us_answered / answered
  double estimated_wait_s = 0;      // for a task arriving now, see EstimatedWait
  bool callback_offered = false;    // callback_offer_wait_s > 0 and estimated wait exceeds it
  QueueCounters counters;
  // Workers eligible for the queue by activity (wrap_up counts kWrapUp).
  int64_t agents_available = 0, agents_busy = 0, agents_wrap_up = 0, agents_break = 0,
          agents_offline = 0;
};

// ---- the engine ------------------------------------------------------------------------------
namespace detail {
class EngineState;
}

class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- configuration and restore (no decisions) ----
  // Adds or replaces a worker's spec; re-evaluates every queue's expression against it. A new
  // worker starts kOffline with idle_since = now. Capacity lowered below in-flight tasks keeps
  // them (no new offers until below).
  Status UpsertWorker(const WorkerSpec& spec, Instant now);
  // Fails (kConflict) while the worker has reserved, assigned or wrapping tasks.
  Status RemoveWorker(std::string_view worker_id);
  Status RestoreWorkerState(std::string_view worker_id, const WorkerState& state);
  // Compiles the target expression (errors name "target_expression") and evaluates it against
  // every worker. Changing the expression or selection re-orders the queue's eligible workers;
  // waiting tasks keep their positions (aging changes re-key them).
  Status UpsertQueue(const QueueSpec& spec);
  // Fails (kConflict) while tasks are in the queue or a workflow targets it.
  Status RemoveQueue(std::string_view queue_id);
  // Validates (every queue exists, expressions compile: fields "filters[i].expression",
  // "filters[i].targets[j].expression", ...) and installs it. Tasks already queued keep their
  // targets from the previous version (indices beyond the new targets stop escalating).
  Status SetWorkflow(const WorkflowSpec& spec);
  // Puts an open task back exactly as FindTask described it (the queue, workers and a
  // reservation's worker must exist). Counts it in its worker's in-flight tasks.
  Status RestoreTask(const TaskInfo& task);
  Status RestoreQueueCounters(std::string_view queue_id, const QueueCounters& counters);

  // ---- operations (decisions) ----
  // Routes a new task through its workflow (or straight to spec.queue_id). Errors:
  // kInvalidArgument for a bad spec (field named), kConflict "duplicate" for a known id,
  // kNotFound for an unknown workflow/queue. A task no filter matches and with no default
  // targets ends at once: Decisions.closed {how kNoMatchingTarget}.
  Result<Decisions> AddTask(const TaskSpec& spec, Instant now);
  // Offers waiting tasks to routable workers: at most offers_max new reservations.
  Decisions Dispatch(Instant now, size_t offers_max = SIZE_MAX);
  Result<Decisions> Accept(std::string_view reservation_id, Instant now);
  Result<Decisions> Reject(std::string_view reservation_id, Instant now);
  // The reservation's timer (Tick does this itself for every due reservation).
  Result<Decisions> TimeoutReservation(std::string_view reservation_id, Instant now);
  // Withdraws a pending reservation without counting it against the worker (e.g. the service
  // could not record it); the task returns to its position.
  Result<Decisions> CancelReservation(std::string_view reservation_id, Instant now);
  // kAssigned -> kWrapping; the worker enters kWrapUp until now + the queue's wrap_up.
  Result<Decisions> Complete(std::string_view task_id, Instant now);
  // kWrapping -> closed (kCompleted); the worker's capacity is freed.
  Result<Decisions> WrapUp(std::string_view task_id, Instant now);
  // Sets the worker's activity; `until` only with kWrapUp. Becoming kAvailable with no tasks
  // sets idle_since = now. Pending reservations stay.
  Result<Decisions> SetActivity(std::string_view worker_id, Activity activity, Instant now,
                                std::optional<Instant> until = std::nullopt);
  // Moves a waiting, reserved or assigned task to another queue (keeps attributes, priority and
  // position; frees the current worker; no further escalation) or to a worker (stays in its
  // queue, sticky to that worker for `sticky_timeout`). Exactly one of queue_id / worker_id.
  Result<Decisions> Transfer(std::string_view task_id, std::string_view queue_id,
                             std::string_view worker_id, Instant now,
                             Duration sticky_timeout = Duration::Seconds(30));
  // A waiting or reserved task leaves its queue until `at` (> now), then returns at its
  // original position. Extends expires_at to at least at + callback_lifetime.
  Result<Decisions> ScheduleCallback(std::string_view task_id, Instant at, Instant now);
  // Cancels an open task (abandonment when it was waiting or reserved).
  Result<Decisions> Cancel(std::string_view task_id, Instant now);
  // Everything due at `now`: reservation timeouts (with re-queue and suggestions), wrap-up
  // timers, target escalations, sticky expiries, callbacks due, task lifetimes. Call Dispatch
  // after it.
  Decisions Tick(Instant now);
  // The earliest instant at which Tick would do something, if any.
  std::optional<Instant> NextDeadline() const;

  // ---- reads ----
  std::optional<TaskInfo> FindTask(std::string_view task_id) const;
  std::optional<WorkerInfo> FindWorker(std::string_view worker_id) const;
  std::optional<ReservationInfo> FindReservation(std::string_view reservation_id) const;
  std::vector<std::string> WorkerIds() const;        // sorted
  std::vector<std::string> QueueIds() const;         // sorted
  std::vector<std::string> TaskIds() const;          // open tasks, sorted
  // Estimated wait for a task arriving now at the back of the queue at priority 0:
  // (tasks ahead + 1) * mean handle time / max(1, eligible workers not offline) — mean handle
  // time over the last kHandleTimeSamples handled tasks (the queue's wrap_up + 180 s before
  // any). nullopt for an unknown queue.
  std::optional<Duration> EstimatedWait(std::string_view queue_id, Instant now) const;
  std::optional<QueueStats> Stats(std::string_view queue_id, Instant now) const;
  std::vector<QueueStats> AllStats(Instant now) const;  // sorted by queue id
  size_t open_tasks() const;
  size_t worker_count() const;
  size_t queue_count() const;

 private:
  std::unique_ptr<detail::EngineState> s_;
};

}  // namespace opsbox::routing
