// Internal to the routing service (not included by other modules): the rows of the routing
// projections as values, the wire names of routing commands and events, the pure decide
// functions, and the projection/loading helpers that read and write them through a store::Tx.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "routing/engine.hpp"
#include "ledger/event.hpp"
#include "ledger/registry.hpp"
#include "routing/service.hpp"
#include "store/store.hpp"

namespace opsbox::routing::detail {

// Wire names of commands and events: routing/service.hpp.
// Every routing event type (projectors and the committed listener use it).
const std::vector<std::string_view>& EventTypes();

// ---- limits and defaults ---------------------------------------------------------------------
inline constexpr size_t kIdBytesMax = kEngineIdBytesMax;  // the engine's limit
inline constexpr size_t kAttributesBytesMax = 16 * 1024;
inline constexpr size_t kExpressionBytesMax = 4096;
inline constexpr size_t kFiltersMax = kEngineFiltersMax;  // the engine's limit
inline constexpr size_t kTargetsMax = kEngineTargetsMax;  // the engine's limit
inline constexpr size_t kChannelsMax = kEngineChannelsMax;  // the engine's limit
inline constexpr int64_t kCapacityPerChannelMax = kEngineCapacityPerChannelMax;  // the engine's limit
inline constexpr int64_t kPriorityMax = kEnginePriorityMax;  // the engine's limit
inline constexpr int64_t kTaskLifetimeSDefault = 24 * 3600;
inline constexpr int64_t kTaskLifetimeSMax = 30 * 24 * 3600;
inline constexpr int64_t kTargetTimeoutSMax = 7 * 24 * 3600;
inline constexpr int64_t kReservationTimeoutSDefault = 20;
inline constexpr int64_t kWrapUpSDefault = 30;
inline constexpr int64_t kStickySDefault = 30;
inline constexpr int64_t kServiceLevelThresholdSDefault = 30;
inline constexpr double kServiceLevelTargetDefault = 0.8;
// A worker who lets this many offers in a row time out is moved to "offline".
inline constexpr int64_t kOfferTimeoutsBeforeOffline = 3;
// A scheduled callback keeps its task alive at least this long past the callback time.
inline constexpr int64_t kCallbackLifetimeUs = 4LL * 3600 * 1000000;
inline constexpr int64_t kCallbackAheadSMax = 30LL * 24 * 3600;
inline constexpr std::string_view kDefaultWorkflow = "default";

// ---- rows ------------------------------------------------------------------------------------
struct WorkerRow {
  std::string worker_id;
  std::string name;
  Json attributes = Json::object();
  std::map<std::string, int64_t> capacity;  // channel -> concurrent tasks at most
  std::string activity = "offline";        // available | busy | break | offline | wrap_up
  int64_t activity_since_us = 0;
  int64_t idle_since_us = 0;
  int64_t offer_timeouts = 0;  // consecutive
  int64_t created_at_us = 0;
  int64_t last_offer_seq = 0;  // ledger seq of its last offer (round robin)
};

struct QueueRow {
  std::string queue_id;
  Json config = Json::object();  // the task_queue_upserted payload
  std::string name() const;
  int64_t sl_threshold_s() const;
  double sl_target() const;
  int64_t reservation_timeout_s() const;
  int64_t wrap_up_s() const;
};

struct WorkflowRow {
  std::string workflow_id;
  Json config = Json::object();  // {filters:[...], default_filter:{targets:[...]}}
};

struct TaskRow {
  std::string task_id;
  std::string channel;
  // waiting | scheduled | reserved | assigned | wrap_up | completed | cancelled
  std::string status;
  int64_t priority = 0;       // in force (the target's or the task's own)
  int64_t base_priority = 0;  // the task's own
  std::string workflow_id;    // "" when placed directly in a queue
  int64_t filter_index = -2;  // -1 default filter, -2 no workflow
  Json attributes = Json::object();
  std::string conversation_id;
  std::string customer_id;
  std::string queue_id;
  int64_t target_index = 0;  // index in the matched filter's targets; -1 after a transfer
  int64_t target_timeout_at_us = 0;
  int64_t created_at_us = 0;
  int64_t expires_at_us = 0;
  int64_t scheduled_at_us = 0;
  std::string sticky_worker_id;
  int64_t sticky_until_us = 0;
  std::string worker_id;
  std::string reservation_id;
  int64_t answered_at_us = 0;
  int64_t wrap_up_until_us = 0;
  int64_t ended_at_us = 0;
  std::string end_reason;
  bool Open() const { return status != "completed" && status != "cancelled"; }
};

struct ReservationRow {
  std::string reservation_id;
  std::string task_id;
  std::string worker_id;
  std::string queue_id;
  std::string status;  // pending | accepted | rejected | timeout | cancelled
  int64_t created_at_us = 0;
  int64_t expires_at_us = 0;
  int64_t ended_at_us = 0;
};

Json WorkerJson(const WorkerRow& w);
Json TaskJson(const TaskRow& t);
Json ReservationJson(const ReservationRow& r);

// ---- loading through a transaction or connection (projections) --------------------------------
template <class Db>
Result<std::optional<WorkerRow>> LoadWorker(Db& db, std::string_view tenant, std::string_view id);
template <class Db>
Result<std::optional<QueueRow>> LoadQueue(Db& db, std::string_view tenant, std::string_view id);
template <class Db>
Result<std::optional<WorkflowRow>> LoadWorkflow(Db& db, std::string_view tenant,
                                                std::string_view id);
template <class Db>
Result<std::optional<TaskRow>> LoadTask(Db& db, std::string_view tenant, std::string_view id);
template <class Db>
Result<std::optional<ReservationRow>> LoadReservation(Db& db, std::string_view tenant,
                                                      std::string_view id);
// Tasks of a worker that hold capacity (reserved or assigned) on `channel`.
Result<int64_t> CountWorkerTasks(store::Tx& tx, std::string_view tenant, std::string_view worker,
                                 std::string_view channel);
// Tasks of a worker in wrap-up, other than `except_task`.
Result<int64_t> CountWorkerWrapUps(store::Tx& tx, std::string_view tenant,
                                   std::string_view worker, std::string_view except_task);
Result<std::vector<ReservationRow>> PendingReservationsOf(store::Tx& tx, std::string_view tenant,
                                                          std::string_view worker);

// Everything the service restores at start: every tenant's workers, queues, workflows, open
// tasks and pending reservations.
struct Snapshot {
  std::string tenant_id;
  std::vector<WorkerRow> workers;
  std::vector<QueueRow> queues;
  std::vector<WorkflowRow> workflows;
  std::vector<TaskRow> tasks;  // open tasks only
  std::vector<ReservationRow> reservations;  // pending only
  // Every reservation of the open tasks, oldest first: task -> [(worker, status)].
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> history;
  std::map<std::string, int64_t> wrap_up_until_us;  // worker -> latest wrap-up end
};
Result<std::vector<Snapshot>> LoadAll(store::Connection& c);

// Cumulative per-queue counters of one UTC day.
struct QueueDay {
  int64_t offered = 0, answered = 0, answered_in_sl = 0, abandoned = 0, answer_wait_us_sum = 0;
};
Result<std::map<std::string, QueueDay>> LoadQueueDays(store::Connection& c,
                                                      std::string_view tenant, int64_t day);

void RegisterProjectors(ledger::Registry& registry);

// ---- pure decisions --------------------------------------------------------------------------
// Each takes the rows the handler loaded (nullopt when absent), the command payload and now,
// and returns the events, or an error naming the field and rule.
struct Ids {  // ids generated by the handler (the decision stays pure)
  std::string task_id;
  std::string reservation_id;
};

Result<ledger::Decision> DecideUpsertWorker(const std::optional<WorkerRow>& current,
                                            const Json& payload, Instant now);
Result<ledger::Decision> DecideSetActivity(const std::optional<WorkerRow>& worker,
                                           const std::vector<ReservationRow>& pending,
                                           const Json& payload, Instant now, bool system);
Result<ledger::Decision> DecideUpsertQueue(const Json& payload);
// `queue_exists(id)`: whether a queue is defined.
Result<ledger::Decision> DecideUpsertWorkflow(
    const Json& payload, const std::function<bool(std::string_view)>& queue_exists);
Result<ledger::Decision> DecideCreateTask(const std::optional<TaskRow>& existing,
                                          const std::optional<WorkflowRow>& workflow,
                                          const std::function<std::optional<QueueRow>(
                                              std::string_view)>& queue,
                                          const Json& payload, const Ids& ids, Instant now);
struct ReserveInput {
  std::optional<TaskRow> task;
  std::optional<WorkerRow> worker;
  std::optional<QueueRow> queue;
  int64_t worker_load = 0;  // tasks holding the worker's capacity on the task's channel
  bool worker_has_pending_offer_for_task = false;
};
Result<ledger::Decision> DecideReserve(const ReserveInput& in, const Json& payload,
                                       const Ids& ids, Instant now);
struct ReservationInput {
  std::optional<ReservationRow> reservation;
  std::optional<TaskRow> task;
  std::optional<WorkerRow> worker;
  std::optional<QueueRow> queue;
};
// actor: the worker id of the caller, or "" for managers/system (no ownership check).
Result<ledger::Decision> DecideAccept(const ReservationInput& in, std::string_view actor,
                                      Instant now);
Result<ledger::Decision> DecideReject(const ReservationInput& in, std::string_view actor,
                                      const Json& payload, Instant now);
Result<ledger::Decision> DecideExpireReservation(const ReservationInput& in, Instant now);
struct TaskInput {
  std::optional<TaskRow> task;
  std::optional<WorkerRow> worker;  // the task's worker, when it has one
  std::optional<QueueRow> queue;    // the task's queue
  std::optional<ReservationRow> reservation;  // the pending reservation, when reserved
  int64_t other_wrap_ups = 0;       // the worker's other tasks in wrap-up
};
Result<ledger::Decision> DecideComplete(const TaskInput& in, std::string_view actor, Instant now);
Result<ledger::Decision> DecideFinishWrapUp(const TaskInput& in, std::string_view actor,
                                            Instant now, bool system);
struct TransferInput {
  TaskInput task;
  std::optional<QueueRow> to_queue;
  std::optional<WorkerRow> to_worker;
};
Result<ledger::Decision> DecideTransfer(const TransferInput& in, std::string_view actor,
                                        const Json& payload, Instant now);
Result<ledger::Decision> DecideScheduleCallback(const TaskInput& in, const Json& payload,
                                                Instant now);
Result<ledger::Decision> DecideReleaseCallback(const TaskInput& in, Instant now);
Result<ledger::Decision> DecideEscalate(const TaskInput& in,
                                        const std::optional<WorkflowRow>& workflow,
                                        const Json& payload, Instant now);
Result<ledger::Decision> DecideExpireSticky(const TaskInput& in, Instant now);
Result<ledger::Decision> DecideCancel(const TaskInput& in, const Json& payload, Instant now,
                                      std::string_view reason);

// The workflow's matched filter for a task and its targets (pure). Used by create_task and
// escalate_task. `filter_name` is "default" for the default filter.
struct MatchedFilter {
  std::string filter_name;
  int64_t filter_index = -1;  // -1: the default filter
  Json targets = Json::array();
};
Result<MatchedFilter> MatchWorkflow(const WorkflowRow& workflow, const Json& task_attributes);

void RegisterCommands(ledger::Registry& registry);

}  // namespace opsbox::routing::detail
