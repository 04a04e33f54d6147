// The routing engine: see engine.hpp for the model. Internals:
// - Slots: workers and queues are never reused (removal marks them dead); tasks reuse slots and
//   carry a uid so stale timers are recognised.
// - Per queue and channel, the set of routable eligible workers ordered by the queue's worker
//   selection (WKey). A worker's keys depend on its activity, in-flight counts, idle_since and
//   offer_seq: every change of those goes through Reindex (erase with the old key, change,
//   insert with the new key), so sets never hold stale keys.
// - Per queue and channel, the waiting tasks ordered by (rank, seq): rank = created_at -
//   priority * aging, a fixed key that orders by effective priority (see engine.hpp). Split by
//   channel so that tasks of a channel nobody can take never hide those of another.
// - Queues that may have a match (a task arrived, a worker became routable) are "dirty";
//   Dispatch serves dirty queues best head task first (effective priority across queues).
// - Timers live in one min-heap and are checked against the current state when they fire.
#include "routing/engine.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/assert.hpp"

namespace opsbox::routing {

std::string_view ActivityName(Activity a) {
  switch (a) {
    case Activity::kAvailable: return "available";
    case Activity::kBusy: return "busy";
    case Activity::kBreak: return "break";
    case Activity::kOffline: return "offline";
    case Activity::kWrapUp: return "wrap_up";
  }
  return "offline";
}

std::optional<Activity> ParseActivity(std::string_view name) {
  for (Activity a : {Activity::kAvailable, Activity::kBusy, Activity::kBreak, Activity::kOffline,
                     Activity::kWrapUp}) {
    if (ActivityName(a) == name) return a;
  }
  return std::nullopt;
}

std::string_view WorkerSelectionName(WorkerSelection s) {
  switch (s) {
    case WorkerSelection::kLongestIdle: return "longest_idle";
    case WorkerSelection::kMostSkilled: return "most_skilled";
    case WorkerSelection::kRoundRobin: return "round_robin";
  }
  return "longest_idle";
}

std::optional<WorkerSelection> ParseWorkerSelection(std::string_view name) {
  for (WorkerSelection s : {WorkerSelection::kLongestIdle, WorkerSelection::kMostSkilled,
                            WorkerSelection::kRoundRobin}) {
    if (WorkerSelectionName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view TaskStateName(TaskState s) {
  switch (s) {
    case TaskState::kWaiting: return "waiting";
    case TaskState::kScheduled: return "scheduled";
    case TaskState::kReserved: return "reserved";
    case TaskState::kAssigned: return "assigned";
    case TaskState::kWrapping: return "wrapping";
  }
  return "waiting";
}

std::string_view TaskEndName(TaskEnd e) {
  switch (e) {
    case TaskEnd::kCompleted: return "completed";
    case TaskEnd::kCancelled: return "cancelled";
    case TaskEnd::kExpired: return "expired";
    case TaskEnd::kNoMatchingTarget: return "no_target";
  }
  return "cancelled";
}

std::string_view ReservationEndName(ReservationEnd e) {
  switch (e) {
    case ReservationEnd::kAccepted: return "accepted";
    case ReservationEnd::kRejected: return "rejected";
    case ReservationEnd::kTimedOut: return "timeout";
    case ReservationEnd::kCancelled: return "cancelled";
  }
  return "cancelled";
}

std::string_view QueuedReasonName(QueuedReason r) {
  switch (r) {
    case QueuedReason::kCreated: return "created";
    case QueuedReason::kEscalated: return "escalated";
    case QueuedReason::kTransferred: return "transferred";
    case QueuedReason::kCallbackDue: return "callback_due";
    case QueuedReason::kReturned: return "returned";
  }
  return "created";
}

std::string ReservationId(std::string_view task_id, int64_t n) {
  std::string id;
  id.reserve(task_id.size() + 24);
  id.append(task_id).append("/r").append(std::to_string(n));
  return id;
}

bool Decisions::empty() const {
  return offers.empty() && reservations_closed.empty() && queued.empty() && closed.empty() &&
         wrapped_up.empty() && activity_changes.empty() && suggestions.empty() &&
         sticky_expired.empty() && callbacks_due.empty();
}

namespace {
template <class T>
void MoveAppend(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}
}  // namespace

void Decisions::Append(Decisions&& o) {
  MoveAppend(offers, o.offers);
  MoveAppend(reservations_closed, o.reservations_closed);
  MoveAppend(queued, o.queued);
  MoveAppend(closed, o.closed);
  MoveAppend(wrapped_up, o.wrapped_up);
  MoveAppend(activity_changes, o.activity_changes);
  MoveAppend(suggestions, o.suggestions);
  MoveAppend(sticky_expired, o.sticky_expired);
  MoveAppend(callbacks_due, o.callbacks_due);
}

namespace detail {

using Idx = uint32_t;
constexpr Idx kNone = UINT32_MAX;
using ChannelMask = uint32_t;
static_assert(kEngineChannelsMax <= 32);

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// Order of routable workers in one (queue, channel): smaller is better.
struct WKey {
  int64_t a = 0, b = 0, c = 0;
  Idx w = kNone;
  auto operator<=>(const WKey&) const = default;
};

// Order of waiting tasks in one queue: smaller is better.
struct TKey {
  int64_t rank = 0;
  uint64_t seq = 0;
  Idx t = kNone;
  auto operator<=>(const TKey&) const = default;
};

struct Membership {
  Idx q = kNone;
  int64_t level = 0;  // most_skilled: the worker's level of the queue's skill
};

struct WorkerRec {
  bool live = true;
  WorkerSpec spec;
  std::array<int64_t, kEngineChannelsMax> cap{};
  std::array<int64_t, kEngineChannelsMax> inflight{};
  ChannelMask cap_mask = 0;
  Activity activity = Activity::kOffline;
  Instant activity_since;
  std::optional<Instant> activity_until;
  Activity after_wrap = Activity::kAvailable;
  Instant idle_since;
  int64_t offer_seq = 0;
  int64_t consecutive_timeouts = 0;
  std::vector<Idx> tasks;
  std::vector<Membership> queues;
  std::vector<std::pair<Idx, uint64_t>> sticky_tasks;  // (task slot, uid), pruned lazily
};

struct QueueRec {
  bool live = true;
  QueueSpec spec;
  Expression target;
  int64_t aging_us = 1;
  std::vector<std::string> skill_path;
  std::array<std::set<TKey>, kEngineChannelsMax> waiting;  // per channel
  int64_t sticky = 0;  // tasks here with a sticky worker (any state): they bypass `routable`
  std::multiset<int64_t> ages;  // created_at of tasks waiting or reserved here
  std::array<std::set<WKey>, kEngineChannelsMax> routable;
  std::unordered_set<Idx> members;
  int64_t reserved = 0;
  int64_t scheduled = 0;
  int64_t open_tasks = 0;
  QueueCounters counters;
  std::vector<int64_t> handle_us;  // ring of the last kHandleTimeSamples handle times
  size_t handle_pos = 0;
  int64_t handle_sum_us = 0;
  bool dirty = false;
  bool in_heap = false;
};

struct TaskRec {
  bool live = false;
  uint64_t uid = 0;
  TaskInfo info;
  uint8_t ch = 0;
  Idx q = kNone;
  Idx w = kNone;
  Idx sticky_w = kNone;
  int64_t rank = 0;
  uint64_t seq = 0;
  bool in_ages = false;
  Expression refine;
  std::vector<Idx> excluded;
  std::optional<Json> eval;  // attributes plus "channel", when the attributes lack it
  const Json* attrs() const { return eval ? &*eval : &info.attributes; }
};

struct CompiledTarget {
  WorkflowTarget spec;
  Idx q = kNone;
  Expression refine;
};
struct CompiledFilter {
  std::string name;
  Expression expression;
  std::vector<CompiledTarget> targets;
};
struct CompiledWorkflow {
  WorkflowSpec spec;
  std::vector<CompiledFilter> filters;
  std::vector<CompiledTarget> default_targets;
  const std::vector<CompiledTarget>* Targets(int64_t filter_index) const {
    if (filter_index == -1) return &default_targets;
    if (filter_index < 0 || static_cast<size_t>(filter_index) >= filters.size()) return nullptr;
    return &filters[static_cast<size_t>(filter_index)].targets;
  }
};

enum class TimerKind : uint8_t {
  kReservation, kWrapUp, kTarget, kSticky, kCallback, kLifetime, kWorkerUntil
};
struct Timer {
  int64_t at_us = 0;
  TimerKind kind = TimerKind::kLifetime;
  Idx idx = kNone;
  uint64_t uid = 0;
  bool operator>(const Timer& o) const {
    if (at_us != o.at_us) return at_us > o.at_us;
    if (kind != o.kind) return kind > o.kind;
    return uid > o.uid;
  }
};

struct HeapEntry {
  double effective = 0;
  uint64_t seq = 0;
  Idx q = kNone;
  bool operator<(const HeapEntry& o) const {  // std heap: top is the largest
    if (effective != o.effective) return effective < o.effective;
    return seq > o.seq;
  }
};

class EngineState {
 public:
  explicit EngineState(EngineOptions o) : options_(o) {}

  // configuration
  Status UpsertWorker(const WorkerSpec& spec, Instant now);
  Status RemoveWorker(std::string_view id);
  Status RestoreWorkerState(std::string_view id, const WorkerState& st);
  Status UpsertQueue(const QueueSpec& spec);
  Status RemoveQueue(std::string_view id);
  Status SetWorkflow(const WorkflowSpec& spec);
  Status RestoreTask(const TaskInfo& info);
  Status RestoreQueueCounters(std::string_view id, const QueueCounters& c);

  // operations
  Result<Decisions> AddTask(const TaskSpec& spec, Instant now);
  Decisions Dispatch(Instant now, size_t offers_max);
  Result<Decisions> EndReservation(std::string_view id, ReservationEnd how, Instant now);
  Result<Decisions> Complete(std::string_view task_id, Instant now);
  Result<Decisions> WrapUp(std::string_view task_id, Instant now);
  Result<Decisions> SetActivity(std::string_view id, Activity a, Instant now,
                                std::optional<Instant> until);
  Result<Decisions> Transfer(std::string_view task_id, std::string_view queue_id,
                             std::string_view worker_id, Instant now, Duration sticky);
  Result<Decisions> ScheduleCallback(std::string_view task_id, Instant at, Instant now);
  Result<Decisions> Cancel(std::string_view task_id, Instant now);
  Decisions Tick(Instant now);
  std::optional<Instant> NextDeadline() const;

  // reads
  std::optional<TaskInfo> FindTask(std::string_view id) const;
  std::optional<WorkerInfo> FindWorker(std::string_view id) const;
  std::optional<ReservationInfo> FindReservation(std::string_view id) const;
  std::vector<std::string> WorkerIds() const;
  std::vector<std::string> QueueIds() const;
  std::vector<std::string> TaskIds() const;
  std::optional<Duration> EstimatedWait(std::string_view id, Instant now) const;
  std::optional<QueueStats> Stats(std::string_view id, Instant now) const;
  std::vector<QueueStats> AllStats(Instant now) const;
  size_t open_tasks() const { return task_ids_.size(); }
  size_t worker_count() const { return worker_ids_.size(); }
  size_t queue_count() const { return queue_ids_.size(); }

 private:
  // lookups
  Result<uint8_t> InternChannel(std::string_view name, std::string_view field);
  TaskRec* FindTaskRec(std::string_view id);
  const TaskRec* FindTaskRec(std::string_view id) const;
  Idx WorkerIdx(std::string_view id) const;
  Idx QueueIdx(std::string_view id) const;
  Result<Idx> ReservedTask(std::string_view reservation_id) const;

  // worker index
  bool Routable(const WorkerRec& w, size_t c) const {
    return w.activity == Activity::kAvailable && w.cap[c] > w.inflight[c];
  }
  ChannelMask RoutableMask(const WorkerRec& w) const;
  WKey KeyFor(const QueueRec& q, const Membership& m, const WorkerRec& w, Idx wi, size_t c) const;
  void Unindex(Idx wi, ChannelMask mask);
  void Index(Idx wi, ChannelMask mask, ChannelMask was_routable);
  template <class F>
  void Reindex(Idx wi, ChannelMask mask, F&& change) {
    const ChannelMask before = RoutableMask(workers_[wi]);
    Unindex(wi, mask);
    change(workers_[wi]);
    Index(wi, mask, before);
  }
  void Evaluate(Idx wi, Idx qi);
  void MarkDirty(Idx qi);
  int64_t SkillLevel(const QueueRec& q, const WorkerRec& w) const;

  // tasks in queues
  void JoinQueue(TaskRec& t, Idx qi, Instant now);
  void LeaveQueue(TaskRec& t);
  void AddWaiting(TaskRec& t);
  void RemoveWaiting(TaskRec& t);
  bool HasRoutableWorker(Idx qi, uint8_t ch) const;
  size_t Servable(const QueueRec& q, std::array<uint8_t, kEngineChannelsMax>& out) const;
  bool HasWaiting(const QueueRec& q, ChannelMask mask) const;
  Idx PickWorker(TaskRec& t, QueueRec& q, Instant now);
  void Reserve(Idx ti, Idx wi, Instant now, Decisions& d);
  bool DispatchQueue(Idx qi, Instant now, Decisions& d);
  void PushHeap(std::vector<HeapEntry>& heap, Idx qi, Instant now);

  // task life
  void AttachToWorker(TaskRec& t, Idx ti, Idx wi);
  void DetachFromWorker(TaskRec& t, Idx ti, Instant now);
  void ReturnToWaiting(TaskRec& t, Instant now);
  void CloseReservation(TaskRec& t, Idx ti, ReservationEnd how, Instant now, Decisions& d);
  void CloseTask(Idx ti, TaskEnd how, Instant now, Decisions& d);
  void EndWrapUp(Idx ti, bool by_timer, Instant now, Decisions& d);
  void CountAbandon(TaskRec& t, Instant now);
  Status EnterTarget(TaskRec& t, const std::vector<CompiledTarget>& targets, size_t from,
                     Instant now);
  void Escalate(Idx ti, Instant now, Decisions& d);
  void AddTimer(TimerKind kind, Instant at, Idx idx, uint64_t uid) {
    timers_.push(Timer{at.us, kind, idx, uid});
  }
  bool TimerValid(const Timer& tm) const;
  void FireTimer(const Timer& tm, Instant now, Decisions& d);
  void ArmTaskTimers(const TaskRec& t, Idx ti);
  Idx AllocTask();
  void SetSticky(TaskRec& t, Idx ti, Idx wi, Instant until);
  void ClearSticky(TaskRec& t);

  QueueStats MakeStats(const QueueRec& q, Instant now) const;

  EngineOptions options_;
  StringMap<uint8_t> channel_ids_;
  std::vector<std::string> channel_names_;
  std::vector<WorkerRec> workers_;
  StringMap<Idx> worker_ids_;
  std::vector<QueueRec> queues_;
  StringMap<Idx> queue_ids_;
  StringMap<CompiledWorkflow> workflows_;
  std::vector<TaskRec> tasks_;
  std::vector<Idx> free_tasks_;
  StringMap<Idx> task_ids_;
  std::vector<Idx> dirty_;
  std::vector<HeapEntry> heap_;
  mutable std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  uint64_t next_uid_ = 1;
  uint64_t next_seq_ = 1;
  int64_t offer_counter_ = 0;
};

// ---- lookups ---------------------------------------------------------------------------------

Result<uint8_t> EngineState::InternChannel(std::string_view name, std::string_view field) {
  if (name.empty() || name.size() > kEngineIdBytesMax) {
    return Error::Invalid(std::string(field), "length",
                          "a channel name has 1 to " + std::to_string(kEngineIdBytesMax) + " bytes");
  }
  auto it = channel_ids_.find(name);
  if (it != channel_ids_.end()) return it->second;
  if (channel_names_.size() >= kEngineChannelsMax) {
    return Error::Invalid(std::string(field), "channels_max",
                          "at most " + std::to_string(kEngineChannelsMax) + " channels");
  }
  const auto c = static_cast<uint8_t>(channel_names_.size());
  channel_names_.emplace_back(name);
  channel_ids_.emplace(std::string(name), c);
  return c;
}

TaskRec* EngineState::FindTaskRec(std::string_view id) {
  auto it = task_ids_.find(id);
  return it == task_ids_.end() ? nullptr : &tasks_[it->second];
}

const TaskRec* EngineState::FindTaskRec(std::string_view id) const {
  auto it = task_ids_.find(id);
  return it == task_ids_.end() ? nullptr : &tasks_[it->second];
}

Idx EngineState::WorkerIdx(std::string_view id) const {
  auto it = worker_ids_.find(id);
  return it == worker_ids_.end() ? kNone : it->second;
}

Idx EngineState::QueueIdx(std::string_view id) const {
  auto it = queue_ids_.find(id);
  return it == queue_ids_.end() ? kNone : it->second;
}

Result<Idx> EngineState::ReservedTask(std::string_view reservation_id) const {
  const size_t slash = reservation_id.rfind("/r");
  if (slash != std::string_view::npos) {
    auto it = task_ids_.find(reservation_id.substr(0, slash));
    if (it != task_ids_.end()) {
      const TaskRec& t = tasks_[it->second];
      if (t.info.state == TaskState::kReserved && t.info.reservation &&
          t.info.reservation->id == reservation_id) {
        return it->second;
      }
    }
  }
  return Error::NotFound("no pending reservation " + std::string(reservation_id));
}

// ---- worker index ----------------------------------------------------------------------------

ChannelMask EngineState::RoutableMask(const WorkerRec& w) const {
  ChannelMask m = 0;
  if (w.activity != Activity::kAvailable) return 0;
  for (size_t c = 0; c < channel_names_.size(); ++c) {
    if (w.cap[c] > w.inflight[c]) m |= ChannelMask{1} << c;
  }
  return m;
}

WKey EngineState::KeyFor(const QueueRec& q, const Membership& m, const WorkerRec& w, Idx wi,
                         size_t c) const {
  switch (q.spec.worker_selection) {
    case WorkerSelection::kMostSkilled:
      return WKey{-m.level, w.inflight[c], w.idle_since.us, wi};
    case WorkerSelection::kRoundRobin:
      return WKey{w.inflight[c], w.offer_seq, 0, wi};
    case WorkerSelection::kLongestIdle:
      break;
  }
  return WKey{w.inflight[c], w.idle_since.us, 0, wi};
}

void EngineState::Unindex(Idx wi, ChannelMask mask) {
  const WorkerRec& w = workers_[wi];
  mask &= RoutableMask(w);
  if (mask == 0) return;
  for (const Membership& m : w.queues) {
    QueueRec& q = queues_[m.q];
    for (size_t c = 0; c < channel_names_.size(); ++c) {
      if (mask & (ChannelMask{1} << c)) q.routable[c].erase(KeyFor(q, m, w, wi, c));
    }
  }
}

void EngineState::Index(Idx wi, ChannelMask mask, ChannelMask was_routable) {
  const WorkerRec& w = workers_[wi];
  const ChannelMask now_routable = RoutableMask(w);
  mask &= now_routable;
  if (mask == 0) return;
  const bool newly = (now_routable & ~was_routable) != 0;
  for (const Membership& m : w.queues) {
    QueueRec& q = queues_[m.q];
    for (size_t c = 0; c < channel_names_.size(); ++c) {
      if (mask & (ChannelMask{1} << c)) q.routable[c].insert(KeyFor(q, m, w, wi, c));
    }
    if (newly && HasWaiting(q, now_routable & ~was_routable)) MarkDirty(m.q);
  }
  if (newly) {
    auto& sticky = workers_[wi].sticky_tasks;
    std::erase_if(sticky, [&](const std::pair<Idx, uint64_t>& s) {
      const TaskRec& t = tasks_[s.first];
      if (!t.live || t.uid != s.second || t.sticky_w != wi) return true;
      if (t.info.state == TaskState::kWaiting) MarkDirty(t.q);
      return false;
    });
  }
}

int64_t EngineState::SkillLevel(const QueueRec& q, const WorkerRec& w) const {
  const Json* cur = &w.spec.attributes;
  for (const auto& seg : q.skill_path) {
    if (!cur->is_object()) return 0;
    auto it = cur->find(seg);
    if (it == cur->end()) return 0;
    cur = &*it;
  }
  if (cur->is_number_integer()) return cur->get<int64_t>();
  if (cur->is_number()) return static_cast<int64_t>(cur->get<double>());
  return 0;
}

// Re-evaluates queue qi's target expression against worker wi and updates membership.
void EngineState::Evaluate(Idx wi, Idx qi) {
  WorkerRec& w = workers_[wi];
  QueueRec& q = queues_[qi];
  const bool eligible = w.live && q.live && q.target.Evaluate(nullptr, &w.spec.attributes);
  auto it = std::find_if(w.queues.begin(), w.queues.end(),
                         [&](const Membership& m) { return m.q == qi; });
  const ChannelMask mask = RoutableMask(w);
  if (it != w.queues.end()) {
    for (size_t c = 0; c < channel_names_.size(); ++c) {
      if (mask & (ChannelMask{1} << c)) q.routable[c].erase(KeyFor(q, *it, w, wi, c));
    }
    w.queues.erase(it);
    q.members.erase(wi);
  }
  if (!eligible) return;
  Membership m{qi, SkillLevel(q, w)};
  w.queues.push_back(m);
  q.members.insert(wi);
  for (size_t c = 0; c < channel_names_.size(); ++c) {
    if (mask & (ChannelMask{1} << c)) q.routable[c].insert(KeyFor(q, m, w, wi, c));
  }
  if (HasWaiting(q, mask)) MarkDirty(qi);
}

void EngineState::MarkDirty(Idx qi) {
  QueueRec& q = queues_[qi];
  if (q.dirty) return;
  q.dirty = true;
  dirty_.push_back(qi);
}

// ---- configuration ---------------------------------------------------------------------------

namespace {
Status CheckId(std::string_view id, std::string_view field) {
  if (id.empty() || id.size() > kEngineIdBytesMax) {
    return Error::Invalid(std::string(field), "length",
                          "an id has 1 to " + std::to_string(kEngineIdBytesMax) + " bytes");
  }
  return Ok();
}
}  // namespace

Status EngineState::UpsertWorker(const WorkerSpec& spec, Instant now) {
  OPSBOX_TRY(CheckId(spec.id, "worker_id"));
  if (!spec.attributes.is_object()) {
    return Error::Invalid("attributes", "type", "worker attributes must be a JSON object");
  }
  std::array<int64_t, kEngineChannelsMax> cap{};
  for (const auto& [channel, n] : spec.capacity) {
    if (n < 0 || n > kEngineCapacityPerChannelMax) {
      return Error::Invalid("capacity." + channel, "range",
                            "capacity is 0 to " + std::to_string(kEngineCapacityPerChannelMax));
    }
    OPSBOX_ASSIGN_OR_RETURN(uint8_t c, InternChannel(channel, "capacity." + channel));
    cap[c] = n;
  }
  Idx wi = WorkerIdx(spec.id);
  if (wi == kNone) {
    if (worker_ids_.size() >= kEngineWorkersMax) {
      return Error::Invalid("worker_id", "workers_max",
                            "at most " + std::to_string(kEngineWorkersMax) + " workers");
    }
    wi = static_cast<Idx>(workers_.size());
    workers_.emplace_back();
    workers_[wi].activity_since = now;
    workers_[wi].idle_since = now;
    worker_ids_.emplace(spec.id, wi);
  }
  Reindex(wi, ~ChannelMask{0}, [&](WorkerRec& w) {
    w.spec = spec;
    w.cap = cap;
    w.cap_mask = 0;
    for (size_t c = 0; c < kEngineChannelsMax; ++c) {
      if (cap[c] > 0) w.cap_mask |= ChannelMask{1} << c;
    }
  });
  for (Idx qi = 0; qi < queues_.size(); ++qi) {
    if (queues_[qi].live) Evaluate(wi, qi);
  }
  return Ok();
}

Status EngineState::RemoveWorker(std::string_view id) {
  const Idx wi = WorkerIdx(id);
  if (wi == kNone) return Error::NotFound("no worker " + std::string(id));
  WorkerRec& w = workers_[wi];
  if (!w.tasks.empty()) {
    return Error::Conflict("worker_busy", "worker " + std::string(id) + " holds tasks");
  }
  w.live = false;
  for (Idx qi = 0; qi < queues_.size(); ++qi) {
    if (queues_[qi].live) Evaluate(wi, qi);
  }
  worker_ids_.erase(worker_ids_.find(id));
  return Ok();
}

Status EngineState::RestoreWorkerState(std::string_view id, const WorkerState& st) {
  const Idx wi = WorkerIdx(id);
  if (wi == kNone) return Error::NotFound("no worker " + std::string(id));
  Reindex(wi, ~ChannelMask{0}, [&](WorkerRec& w) {
    w.activity = st.activity;
    w.activity_since = st.activity_since;
    w.activity_until = st.activity_until;
    w.after_wrap = st.activity_after_wrap_up;
    w.idle_since = st.idle_since;
    w.offer_seq = st.offer_seq;
    w.consecutive_timeouts = st.consecutive_timeouts;
  });
  offer_counter_ = std::max(offer_counter_, st.offer_seq);
  if (st.activity == Activity::kWrapUp && st.activity_until) {
    AddTimer(TimerKind::kWorkerUntil, *st.activity_until, wi, 0);
  }
  return Ok();
}

Status EngineState::UpsertQueue(const QueueSpec& spec) {
  OPSBOX_TRY(CheckId(spec.id, "queue_id"));
  OPSBOX_ASSIGN_OR_RETURN(Expression target,
                          Expression::Compile(spec.target_expression, "target_expression"));
  if (spec.service_level_threshold_s <= 0 || spec.service_level_threshold_s > 86400) {
    return Error::Invalid("service_level_threshold_s", "range", "1 to 86400 seconds");
  }
  if (!(spec.service_level_target >= 0 && spec.service_level_target <= 1)) {
    return Error::Invalid("service_level_target", "range", "0 to 1");
  }
  if (spec.aging_s < 0 || spec.aging_s > 86400 * 7) {
    return Error::Invalid("aging_s", "range", "0 to 604800 seconds");
  }
  if (spec.reservation_timeout.us <= 0 || spec.wrap_up.us < 0) {
    return Error::Invalid("reservation_timeout_s", "range", "timeouts must be positive");
  }
  Idx qi = QueueIdx(spec.id);
  if (qi == kNone) {
    if (queue_ids_.size() >= kEngineQueuesMax) {
      return Error::Invalid("queue_id", "queues_max",
                            "at most " + std::to_string(kEngineQueuesMax) + " queues");
    }
    qi = static_cast<Idx>(queues_.size());
    queues_.emplace_back();
    queue_ids_.emplace(spec.id, qi);
  }
  QueueRec& q = queues_[qi];
  // Drop every membership first: keys depend on the selection and skill being replaced.
  std::vector<Idx> members(q.members.begin(), q.members.end());
  for (Idx wi : members) {
    auto& list = workers_[wi].queues;
    auto it = std::find_if(list.begin(), list.end(), [&](const Membership& m) { return m.q == qi; });
    if (it != list.end()) list.erase(it);
  }
  q.members.clear();
  for (auto& set : q.routable) set.clear();
  const int64_t old_aging = q.aging_us;
  q.spec = spec;
  q.target = std::move(target);
  q.aging_us = (spec.aging_s > 0 ? spec.aging_s : spec.service_level_threshold_s) * 1'000'000;
  q.skill_path.clear();
  std::string_view skill = spec.skill;
  if (!skill.empty() && skill.find('.') == std::string_view::npos) q.skill_path.push_back("skills");
  while (!skill.empty()) {
    const size_t dot = std::min(skill.find('.'), skill.size());
    q.skill_path.emplace_back(skill.substr(0, dot));
    skill.remove_prefix(std::min(dot + 1, skill.size()));
  }
  for (auto& set : q.waiting) {
    if (old_aging == q.aging_us || set.empty()) continue;
    std::vector<Idx> waiting;
    for (const TKey& k : set) waiting.push_back(k.t);
    set.clear();
    for (Idx ti : waiting) {
      TaskRec& t = tasks_[ti];
      t.rank = t.info.created_at.us - t.info.priority * q.aging_us;
      set.insert(TKey{t.rank, t.seq, ti});
    }
  }
  for (Idx wi = 0; wi < workers_.size(); ++wi) {
    if (workers_[wi].live) Evaluate(wi, qi);
  }
  MarkDirty(qi);
  return Ok();
}

Status EngineState::RemoveQueue(std::string_view id) {
  const Idx qi = QueueIdx(id);
  if (qi == kNone) return Error::NotFound("no queue " + std::string(id));
  if (queues_[qi].open_tasks > 0) {
    return Error::Conflict("queue_in_use", "queue " + std::string(id) + " holds tasks");
  }
  for (const auto& [wf_id, wf] : workflows_) {
    auto uses = [&](const std::vector<CompiledTarget>& ts) {
      return std::any_of(ts.begin(), ts.end(), [&](const CompiledTarget& t) { return t.q == qi; });
    };
    bool used = uses(wf.default_targets);
    for (const auto& f : wf.filters) used = used || uses(f.targets);
    if (used) {
      return Error::Conflict("queue_in_use", "workflow " + wf_id + " targets queue " + std::string(id));
    }
  }
  queues_[qi].live = false;
  for (Idx wi = 0; wi < workers_.size(); ++wi) Evaluate(wi, qi);
  queue_ids_.erase(queue_ids_.find(id));
  return Ok();
}

namespace {
std::string TargetField(const std::string& prefix, size_t j, std::string_view leaf) {
  return prefix + "targets[" + std::to_string(j) + "]." + std::string(leaf);
}
}  // namespace

Status EngineState::SetWorkflow(const WorkflowSpec& spec) {
  OPSBOX_TRY(CheckId(spec.id, "workflow_id"));
  if (spec.filters.size() > kEngineFiltersMax) {
    return Error::Invalid("filters", "items_max",
                          "at most " + std::to_string(kEngineFiltersMax) + " filters");
  }
  auto compile_targets = [&](const std::vector<WorkflowTarget>& in, const std::string& prefix,
                             std::vector<CompiledTarget>& out) -> Status {
    if (in.size() > kEngineTargetsMax) {
      return Error::Invalid(prefix + "targets", "items_max",
                            "at most " + std::to_string(kEngineTargetsMax) + " targets");
    }
    for (size_t j = 0; j < in.size(); ++j) {
      CompiledTarget ct{in[j], QueueIdx(in[j].queue_id), Expression()};
      if (ct.q == kNone) {
        return Error::Invalid(TargetField(prefix, j, "queue_id"), "exists",
                              "no queue " + in[j].queue_id);
      }
      if (in[j].priority && (*in[j].priority < 0 || *in[j].priority > kEnginePriorityMax)) {
        return Error::Invalid(TargetField(prefix, j, "priority"), "range",
                              "priority is 0 to " + std::to_string(kEnginePriorityMax));
      }
      if (in[j].timeout_s < 0 || in[j].timeout_s > 7 * 86400) {
        return Error::Invalid(TargetField(prefix, j, "timeout_s"), "range", "0 to 604800 seconds");
      }
      OPSBOX_ASSIGN_OR_RETURN(ct.refine, Expression::Compile(in[j].expression,
                                                             TargetField(prefix, j, "expression")));
      out.push_back(std::move(ct));
    }
    return Ok();
  };
  CompiledWorkflow wf;
  wf.spec = spec;
  for (size_t i = 0; i < spec.filters.size(); ++i) {
    const std::string prefix = "filters[" + std::to_string(i) + "].";
    CompiledFilter f;
    f.name = spec.filters[i].name;
    OPSBOX_ASSIGN_OR_RETURN(f.expression,
                            Expression::Compile(spec.filters[i].expression, prefix + "expression"));
    if (spec.filters[i].targets.empty()) {
      return Error::Invalid(prefix + "targets", "required", "a filter needs at least one target");
    }
    OPSBOX_TRY(compile_targets(spec.filters[i].targets, prefix, f.targets));
    wf.filters.push_back(std::move(f));
  }
  OPSBOX_TRY(compile_targets(spec.default_targets, "default_filter.", wf.default_targets));
  workflows_.insert_or_assign(spec.id, std::move(wf));
  return Ok();
}

Status EngineState::RestoreQueueCounters(std::string_view id, const QueueCounters& c) {
  const Idx qi = QueueIdx(id);
  if (qi == kNone) return Error::NotFound("no queue " + std::string(id));
  queues_[qi].counters = c;
  return Ok();
}

// ---- tasks in queues -------------------------------------------------------------------------

void EngineState::JoinQueue(TaskRec& t, Idx qi, Instant) {
  QueueRec& q = queues_[qi];
  t.q = qi;
  t.info.queue_id = q.spec.id;
  t.rank = t.info.created_at.us - t.info.priority * q.aging_us;
  q.ages.insert(t.info.created_at.us);
  t.in_ages = true;
  ++q.open_tasks;
  if (t.sticky_w != kNone) ++q.sticky;
}

void EngineState::LeaveQueue(TaskRec& t) {
  QueueRec& q = queues_[t.q];
  if (t.in_ages) {
    q.ages.erase(q.ages.find(t.info.created_at.us));
    t.in_ages = false;
  }
  --q.open_tasks;
  if (t.sticky_w != kNone) --q.sticky;
  t.q = kNone;
}

void EngineState::AddWaiting(TaskRec& t) {
  const Idx ti = static_cast<Idx>(&t - tasks_.data());
  queues_[t.q].waiting[t.ch].insert(TKey{t.rank, t.seq, ti});
  MarkDirty(t.q);
}

void EngineState::RemoveWaiting(TaskRec& t) {
  const Idx ti = static_cast<Idx>(&t - tasks_.data());
  queues_[t.q].waiting[t.ch].erase(TKey{t.rank, t.seq, ti});
}

bool EngineState::HasRoutableWorker(Idx qi, uint8_t ch) const {
  return !queues_[qi].routable[ch].empty();
}

Idx EngineState::PickWorker(TaskRec& t, QueueRec& q, Instant now) {
  auto excluded = [&](Idx wi) {
    return std::find(t.excluded.begin(), t.excluded.end(), wi) != t.excluded.end();
  };
  auto refined = [&](Idx wi) {
    return t.refine.IsAlwaysTrue() || t.refine.Evaluate(t.attrs(), &workers_[wi].spec.attributes);
  };
  if (t.sticky_w != kNone && t.info.sticky_until && now < *t.info.sticky_until) {
    const Idx wi = t.sticky_w;
    if (workers_[wi].live && Routable(workers_[wi], t.ch) && !excluded(wi) && refined(wi)) return wi;
    return kNone;
  }
  size_t tried = 0;
  for (const WKey& k : q.routable[t.ch]) {
    if (++tried > kDispatchCandidatesMax) break;
    if (!excluded(k.w) && refined(k.w)) return k.w;
  }
  return kNone;
}

void EngineState::AttachToWorker(TaskRec& t, Idx ti, Idx wi) {
  t.w = wi;
  t.info.worker_id = workers_[wi].spec.id;
  Reindex(wi, ~ChannelMask{0}, [&](WorkerRec& w) {
    ++w.inflight[t.ch];
    w.tasks.push_back(ti);
  });
}

void EngineState::DetachFromWorker(TaskRec& t, Idx ti, Instant now) {
  const Idx wi = t.w;
  if (wi == kNone) return;
  Reindex(wi, ~ChannelMask{0}, [&](WorkerRec& w) {
    --w.inflight[t.ch];
    OPSBOX_ASSERT(w.inflight[t.ch] >= 0);
    std::erase(w.tasks, ti);
    if (w.tasks.empty()) w.idle_since = now;
  });
  t.w = kNone;
  t.info.worker_id.clear();
}

void EngineState::Reserve(Idx ti, Idx wi, Instant now, Decisions& d) {
  TaskRec& t = tasks_[ti];
  QueueRec& q = queues_[t.q];
  RemoveWaiting(t);
  ++q.reserved;
  t.info.state = TaskState::kReserved;
  ++t.info.reservations_made;
  ReservationInfo r{ReservationId(t.info.id, t.info.reservations_made), t.info.id,
                    workers_[wi].spec.id, q.spec.id, now, now + q.spec.reservation_timeout};
  t.info.reservation = r;
  const int64_t seq = ++offer_counter_;
  t.w = wi;
  t.info.worker_id = r.worker_id;
  Reindex(wi, ~ChannelMask{0}, [&](WorkerRec& w) {
    ++w.inflight[t.ch];
    w.tasks.push_back(ti);
    w.offer_seq = seq;
  });
  AddTimer(TimerKind::kReservation, r.expires_at, ti, t.uid);
  d.offers.push_back(Offer{std::move(r), channel_names_[t.ch]});
}

// Channels of q with waiting tasks that someone may take, best head task first.
size_t EngineState::Servable(const QueueRec& q, std::array<uint8_t, kEngineChannelsMax>& out) const {
  size_t n = 0;
  for (size_t c = 0; c < channel_names_.size(); ++c) {
    if (q.waiting[c].empty() || (q.routable[c].empty() && q.sticky == 0)) continue;
    out[n++] = static_cast<uint8_t>(c);
  }
  std::sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), [&](uint8_t a, uint8_t b) {
    return *q.waiting[a].begin() < *q.waiting[b].begin();
  });
  return n;
}

bool EngineState::HasWaiting(const QueueRec& q, ChannelMask mask) const {
  for (size_t c = 0; c < channel_names_.size(); ++c) {
    if ((mask & (ChannelMask{1} << c)) && !q.waiting[c].empty()) return true;
  }
  return false;
}

bool EngineState::DispatchQueue(Idx qi, Instant now, Decisions& d) {
  QueueRec& q = queues_[qi];
  std::array<uint8_t, kEngineChannelsMax> channels;
  const size_t n = Servable(q, channels);
  for (size_t i = 0; i < n; ++i) {
    const auto& waiting = q.waiting[channels[i]];
    size_t looked = 0;
    for (auto it = waiting.begin(); it != waiting.end() && looked < kDispatchLookAheadMax;
         ++it, ++looked) {
      TaskRec& t = tasks_[it->t];
      const Idx wi = PickWorker(t, q, now);
      if (wi != kNone) {
        Reserve(it->t, wi, now, d);
        return true;
      }
    }
  }
  return false;
}

void EngineState::PushHeap(std::vector<HeapEntry>& heap, Idx qi, Instant now) {
  QueueRec& q = queues_[qi];
  if (q.in_heap) return;
  std::array<uint8_t, kEngineChannelsMax> channels;
  if (Servable(q, channels) == 0) return;
  const TKey& head = *q.waiting[channels[0]].begin();
  const double effective = static_cast<double>(now.us - head.rank) / static_cast<double>(q.aging_us);
  heap.push_back(HeapEntry{effective, head.seq, qi});
  std::push_heap(heap.begin(), heap.end());
  q.in_heap = true;
}

Decisions EngineState::Dispatch(Instant now, size_t offers_max) {
  Decisions d;
  auto drain_dirty = [&] {
    for (Idx qi : dirty_) {
      queues_[qi].dirty = false;
      if (queues_[qi].live) PushHeap(heap_, qi, now);
    }
    dirty_.clear();
  };
  drain_dirty();
  while (!heap_.empty() && d.offers.size() < offers_max) {
    std::pop_heap(heap_.begin(), heap_.end());
    const Idx qi = heap_.back().q;
    heap_.pop_back();
    queues_[qi].in_heap = false;
    if (DispatchQueue(qi, now, d)) PushHeap(heap_, qi, now);
    drain_dirty();
  }
  for (const HeapEntry& e : heap_) {
    queues_[e.q].in_heap = false;
    MarkDirty(e.q);
  }
  heap_.clear();
  return d;
}

// ---- task life -------------------------------------------------------------------------------

Idx EngineState::AllocTask() {
  Idx ti;
  if (!free_tasks_.empty()) {
    ti = free_tasks_.back();
    free_tasks_.pop_back();
    tasks_[ti] = TaskRec{};
  } else {
    ti = static_cast<Idx>(tasks_.size());
    tasks_.emplace_back();
  }
  tasks_[ti].live = true;
  tasks_[ti].uid = next_uid_++;
  return ti;
}

void EngineState::SetSticky(TaskRec& t, Idx ti, Idx wi, Instant until) {
  if (t.q != kNone && t.sticky_w == kNone) ++queues_[t.q].sticky;
  t.sticky_w = wi;
  t.info.sticky_worker_id = workers_[wi].spec.id;
  t.info.sticky_until = until;
  workers_[wi].sticky_tasks.emplace_back(ti, t.uid);
  AddTimer(TimerKind::kSticky, until, ti, t.uid);
}

void EngineState::ClearSticky(TaskRec& t) {
  if (t.q != kNone && t.sticky_w != kNone) --queues_[t.q].sticky;
  t.sticky_w = kNone;
  t.info.sticky_worker_id.clear();
  t.info.sticky_until.reset();
}

// Places the task in the first usable target at or after `from`.
Status EngineState::EnterTarget(TaskRec& t, const std::vector<CompiledTarget>& targets,
                                size_t from, Instant now) {
  OPSBOX_ASSERT(from < targets.size());
  size_t j = from;
  while (j + 1 < targets.size() && targets[j].spec.skip_if_no_worker &&
         (targets[j].q == kNone || !queues_[targets[j].q].live ||
          !HasRoutableWorker(targets[j].q, t.ch))) {
    ++j;
  }
  const CompiledTarget& target = targets[j];
  if (target.q == kNone || !queues_[target.q].live) {
    return Error::NotFound("workflow target queue " + target.spec.queue_id + " was removed");
  }
  t.info.target_index = static_cast<int64_t>(j);
  t.info.priority = target.spec.priority.value_or(t.info.base_priority);
  t.info.target_deadline.reset();
  if (target.spec.timeout_s > 0) {
    t.info.target_deadline = now + Duration::Seconds(target.spec.timeout_s);
  }
  t.refine = target.refine;
  JoinQueue(t, target.q, now);
  ++queues_[target.q].counters.entered;
  return Ok();
}

void EngineState::ArmTaskTimers(const TaskRec& t, Idx ti) {
  AddTimer(TimerKind::kLifetime, t.info.expires_at, ti, t.uid);
  if (t.info.target_deadline) AddTimer(TimerKind::kTarget, *t.info.target_deadline, ti, t.uid);
  if (t.info.sticky_until) AddTimer(TimerKind::kSticky, *t.info.sticky_until, ti, t.uid);
  if (t.info.scheduled_at) AddTimer(TimerKind::kCallback, *t.info.scheduled_at, ti, t.uid);
  if (t.info.reservation) AddTimer(TimerKind::kReservation, t.info.reservation->expires_at, ti, t.uid);
  if (t.info.wrap_up_until) AddTimer(TimerKind::kWrapUp, *t.info.wrap_up_until, ti, t.uid);
}

Result<Decisions> EngineState::AddTask(const TaskSpec& spec, Instant now) {
  OPSBOX_TRY(CheckId(spec.id, "task_id"));
  if (task_ids_.contains(spec.id)) {
    return Error::Conflict("duplicate", "task " + spec.id + " exists");
  }
  if (task_ids_.size() >= kEngineTasksMax) {
    return Error::Conflict("tasks_max", "at most " + std::to_string(kEngineTasksMax) + " open tasks");
  }
  if (!spec.attributes.is_object()) {
    return Error::Invalid("attributes", "type", "task attributes must be a JSON object");
  }
  if (spec.priority < 0 || spec.priority > kEnginePriorityMax) {
    return Error::Invalid("priority", "range",
                          "priority is 0 to " + std::to_string(kEnginePriorityMax));
  }
  const Duration lifetime = spec.lifetime.value_or(options_.task_lifetime);
  if (lifetime.us <= 0 || lifetime > options_.task_lifetime_max) {
    return Error::Invalid("timeout_s", "range", "a task lifetime is positive and at most " +
                                                    std::to_string(options_.task_lifetime_max.us / 1'000'000) + " s");
  }
  OPSBOX_ASSIGN_OR_RETURN(uint8_t ch, InternChannel(spec.channel, "channel"));
  Idx sticky_w = kNone;
  if (!spec.sticky_worker_id.empty()) {
    sticky_w = WorkerIdx(spec.sticky_worker_id);
    if (sticky_w == kNone) return Error::NotFound("no worker " + spec.sticky_worker_id);
  }
  std::optional<Json> eval;
  if (!spec.attributes.contains("channel")) {
    eval = spec.attributes;
    (*eval)["channel"] = spec.channel;
  }
  const Json* attrs = eval ? &*eval : &spec.attributes;
  const CompiledWorkflow* wf = nullptr;
  const std::vector<CompiledTarget>* targets = nullptr;
  int64_t filter_index = -2;
  Idx direct_q = kNone;
  if (!spec.queue_id.empty()) {
    direct_q = QueueIdx(spec.queue_id);
    if (direct_q == kNone) return Error::NotFound("no queue " + spec.queue_id);
  } else {
    const std::string wf_id = spec.workflow_id.empty() ? "default" : spec.workflow_id;
    auto it = workflows_.find(wf_id);
    if (it == workflows_.end()) return Error::NotFound("no workflow " + wf_id);
    wf = &it->second;
    filter_index = -1;
    for (size_t i = 0; i < wf->filters.size(); ++i) {
      if (wf->filters[i].expression.Evaluate(attrs, nullptr)) {
        filter_index = static_cast<int64_t>(i);
        break;
      }
    }
    targets = wf->Targets(filter_index);
  }
  Decisions d;
  if (direct_q == kNone && targets->empty()) {
    d.closed.push_back(TaskClosed{spec.id, "", "", TaskEnd::kNoMatchingTarget});
    return d;
  }
  const Idx ti = AllocTask();
  TaskRec& t = tasks_[ti];
  t.ch = ch;
  t.seq = next_seq_++;
  t.eval = std::move(eval);
  t.info.id = spec.id;
  t.info.channel = spec.channel;
  t.info.attributes = spec.attributes;
  t.info.base_priority = spec.priority;
  t.info.priority = spec.priority;
  t.info.workflow_id = wf ? wf->spec.id : "";
  t.info.filter_index = filter_index;
  t.info.created_at = now;
  t.info.expires_at = now + lifetime;
  Status placed = Ok();
  if (direct_q != kNone) {
    t.info.target_index = -1;
    JoinQueue(t, direct_q, now);
    ++queues_[direct_q].counters.entered;
  } else {
    placed = EnterTarget(t, *targets, 0, now);
  }
  if (!placed.ok()) {
    tasks_[ti].live = false;
    free_tasks_.push_back(ti);
    return std::move(placed).error();
  }
  task_ids_.emplace(spec.id, ti);
  if (sticky_w != kNone) SetSticky(t, ti, sticky_w, now + spec.sticky_timeout);
  AddWaiting(t);
  AddTimer(TimerKind::kLifetime, t.info.expires_at, ti, t.uid);
  if (t.info.target_deadline) AddTimer(TimerKind::kTarget, *t.info.target_deadline, ti, t.uid);
  d.queued.push_back(TaskQueued{t.info.id, t.info.queue_id, "", t.info.target_index,
                                t.info.priority, t.info.target_deadline, QueuedReason::kCreated});
  return d;
}

void EngineState::ReturnToWaiting(TaskRec& t, Instant now) {
  t.info.state = TaskState::kWaiting;
  t.info.reservation.reset();
  AddWaiting(t);
  if (t.info.target_deadline && *t.info.target_deadline <= now) {
    AddTimer(TimerKind::kTarget, *t.info.target_deadline, static_cast<Idx>(&t - tasks_.data()),
             t.uid);
  }
}

void EngineState::CloseReservation(TaskRec& t, Idx ti, ReservationEnd how, Instant now,
                                   Decisions& d) {
  OPSBOX_ASSERT(t.info.state == TaskState::kReserved && t.info.reservation);
  d.reservations_closed.push_back(ReservationClosed{*t.info.reservation, how});
  --queues_[t.q].reserved;
  const Idx wi = t.w;
  if (how == ReservationEnd::kAccepted) {
    t.info.state = TaskState::kAssigned;
    t.info.reservation.reset();
    t.info.accepted_at = now;
    workers_[wi].consecutive_timeouts = 0;
    QueueRec& q = queues_[t.q];
    const int64_t wait_us = (now - t.info.created_at).us;
    ++q.counters.answered;
    q.counters.wait_us_answered += wait_us;
    if (wait_us <= q.spec.service_level_threshold_s * 1'000'000) ++q.counters.answered_within_sl;
    q.ages.erase(q.ages.find(t.info.created_at.us));
    t.in_ages = false;
    return;
  }
  DetachFromWorker(t, ti, now);
  if (how == ReservationEnd::kRejected || how == ReservationEnd::kTimedOut) {
    t.excluded.push_back(wi);
    t.info.excluded_worker_ids.push_back(workers_[wi].spec.id);
    if (t.excluded.size() > kEngineRejectedWorkersMax) {
      t.excluded.erase(t.excluded.begin());
      t.info.excluded_worker_ids.erase(t.info.excluded_worker_ids.begin());
    }
  }
  if (how == ReservationEnd::kRejected) workers_[wi].consecutive_timeouts = 0;
  if (how == ReservationEnd::kTimedOut) {
    const int64_t n = ++workers_[wi].consecutive_timeouts;
    if (n >= options_.consecutive_timeouts_max && options_.consecutive_timeouts_max > 0) {
      d.suggestions.push_back(ActivitySuggested{workers_[wi].spec.id, Activity::kOffline, n});
    }
  }
  ReturnToWaiting(t, now);
}

Result<Decisions> EngineState::EndReservation(std::string_view id, ReservationEnd how,
                                              Instant now) {
  OPSBOX_ASSIGN_OR_RETURN(Idx ti, ReservedTask(id));
  Decisions d;
  CloseReservation(tasks_[ti], ti, how, now, d);
  return d;
}

void EngineState::CountAbandon(TaskRec& t, Instant now) {
  if (t.info.state != TaskState::kWaiting && t.info.state != TaskState::kReserved) return;
  QueueRec& q = queues_[t.q];
  ++q.counters.abandoned;
  if ((now - t.info.created_at).us <= q.spec.service_level_threshold_s * 1'000'000) {
    ++q.counters.abandoned_within_sl;
  }
}

void EngineState::CloseTask(Idx ti, TaskEnd how, Instant now, Decisions& d) {
  TaskRec& t = tasks_[ti];
  if (how != TaskEnd::kCompleted) CountAbandon(t, now);
  if (t.info.state == TaskState::kReserved) {
    CloseReservation(t, ti, ReservationEnd::kCancelled, now, d);
  }
  const std::string worker_id = t.info.worker_id;
  if (t.info.state == TaskState::kWaiting) RemoveWaiting(t);
  if (t.info.state == TaskState::kScheduled) --queues_[t.q].scheduled;
  if (t.w != kNone) {
    const Idx wi = t.w;
    DetachFromWorker(t, ti, now);
    WorkerRec& w = workers_[wi];
    const bool wrapping = std::any_of(w.tasks.begin(), w.tasks.end(), [&](Idx o) {
      return tasks_[o].info.state == TaskState::kWrapping;
    });
    if (w.activity == Activity::kWrapUp && !wrapping && w.activity_until) {
      const Activity to = w.after_wrap;
      Reindex(wi, ~ChannelMask{0}, [&](WorkerRec& x) {
        x.activity = to;
        x.activity_since = now;
        x.activity_until.reset();
        if (to == Activity::kAvailable && x.tasks.empty()) x.idle_since = now;
      });
      d.activity_changes.push_back(ActivityChanged{w.spec.id, Activity::kWrapUp, to, std::nullopt});
    }
  }
  d.closed.push_back(TaskClosed{t.info.id, t.info.queue_id, worker_id, how});
  LeaveQueue(t);
  task_ids_.erase(task_ids_.find(t.info.id));
  t.live = false;
  t.info = TaskInfo{};
  t.eval.reset();
  t.excluded.clear();
  free_tasks_.push_back(ti);
}

Result<Decisions> EngineState::Complete(std::string_view task_id, Instant now) {
  TaskRec* t = FindTaskRec(task_id);
  if (t == nullptr) return Error::NotFound("no open task " + std::string(task_id));
  if (t->info.state != TaskState::kAssigned) {
    return Error::Conflict("state", "task " + std::string(task_id) + " is " +
                                        std::string(TaskStateName(t->info.state)) + ", not assigned");
  }
  const Idx ti = static_cast<Idx>(t - tasks_.data());
  const Instant until = now + queues_[t->q].spec.wrap_up;
  t->info.state = TaskState::kWrapping;
  t->info.wrap_up_until = until;
  AddTimer(TimerKind::kWrapUp, until, ti, t->uid);
  Decisions d;
  const Idx wi = t->w;
  WorkerRec& w = workers_[wi];
  if (w.activity == Activity::kAvailable || w.activity == Activity::kBusy ||
      w.activity == Activity::kWrapUp) {
    const Activity from = w.activity;
    Reindex(wi, ~ChannelMask{0}, [&](WorkerRec& x) {
      if (from != Activity::kWrapUp) {
        x.after_wrap = from;
        x.activity_since = now;
      }
      x.activity = Activity::kWrapUp;
      x.activity_until = std::max(x.activity_until.value_or(until), until);
    });
    if (from != Activity::kWrapUp) {
      d.activity_changes.push_back(ActivityChanged{w.spec.id, from, Activity::kWrapUp, until});
    }
  }
  return d;
}

void EngineState::EndWrapUp(Idx ti, bool by_timer, Instant now, Decisions& d) {
  TaskRec& t = tasks_[ti];
  QueueRec& q = queues_[t.q];
  if (t.info.accepted_at) {
    const int64_t handle_us = (now - *t.info.accepted_at).us;
    q.counters.handle_us_total += handle_us;
    ++q.counters.handled;
    if (q.handle_us.size() < kHandleTimeSamples) {
      q.handle_us.push_back(handle_us);
    } else {
      q.handle_sum_us -= q.handle_us[q.handle_pos];
      q.handle_us[q.handle_pos] = handle_us;
      q.handle_pos = (q.handle_pos + 1) % kHandleTimeSamples;
    }
    q.handle_sum_us += handle_us;
  }
  d.wrapped_up.push_back(TaskWrappedUp{t.info.id, t.info.worker_id, by_timer});
  CloseTask(ti, TaskEnd::kCompleted, now, d);
}

Result<Decisions> EngineState::WrapUp(std::string_view task_id, Instant now) {
  TaskRec* t = FindTaskRec(task_id);
  if (t == nullptr) return Error::NotFound("no open task " + std::string(task_id));
  if (t->info.state != TaskState::kWrapping) {
    return Error::Conflict("state", "task " + std::string(task_id) + " is " +
                                        std::string(TaskStateName(t->info.state)) + ", not wrapping");
  }
  Decisions d;
  EndWrapUp(static_cast<Idx>(t - tasks_.data()), false, now, d);
  return d;
}

Result<Decisions> EngineState::SetActivity(std::string_view id, Activity a, Instant now,
                                           std::optional<Instant> until) {
  const Idx wi = WorkerIdx(id);
  if (wi == kNone) return Error::NotFound("no worker " + std::string(id));
  if (until && a != Activity::kWrapUp) {
    return Error::Invalid("until", "only_wrap_up", "an end time is only for wrap_up");
  }
  WorkerRec& w = workers_[wi];
  if (w.activity == a && w.activity_until == until) return Decisions{};
  const bool was_available = w.activity == Activity::kAvailable;
  Reindex(wi, ~ChannelMask{0}, [&](WorkerRec& x) {
    x.activity = a;
    x.activity_since = now;
    x.activity_until = until;
    if (a == Activity::kWrapUp) x.after_wrap = Activity::kAvailable;
    if (a == Activity::kAvailable && !was_available && x.tasks.empty()) x.idle_since = now;
  });
  if (until) AddTimer(TimerKind::kWorkerUntil, *until, wi, 0);
  return Decisions{};
}

Result<Decisions> EngineState::Transfer(std::string_view task_id, std::string_view queue_id,
                                        std::string_view worker_id, Instant now,
                                        Duration sticky) {
  TaskRec* tp = FindTaskRec(task_id);
  if (tp == nullptr) return Error::NotFound("no open task " + std::string(task_id));
  if (queue_id.empty() == worker_id.empty()) {
    return Error::Invalid("queue_id", "one_of", "give exactly one of queue_id and worker_id");
  }
  TaskRec& t = *tp;
  const Idx ti = static_cast<Idx>(tp - tasks_.data());
  const TaskState s = t.info.state;
  if (s != TaskState::kWaiting && s != TaskState::kReserved && s != TaskState::kAssigned) {
    return Error::Conflict("state", "a " + std::string(TaskStateName(s)) + " task cannot move");
  }
  const Idx to_q = queue_id.empty() ? t.q : QueueIdx(queue_id);
  if (to_q == kNone) return Error::NotFound("no queue " + std::string(queue_id));
  const Idx to_w = worker_id.empty() ? kNone : WorkerIdx(worker_id);
  if (!worker_id.empty() && to_w == kNone) return Error::NotFound("no worker " + std::string(worker_id));
  Decisions d;
  if (s == TaskState::kReserved) CloseReservation(t, ti, ReservationEnd::kCancelled, now, d);
  if (t.info.state == TaskState::kWaiting) RemoveWaiting(t);
  DetachFromWorker(t, ti, now);
  const std::string from = t.info.queue_id;
  LeaveQueue(t);
  ClearSticky(t);
  t.info.state = TaskState::kWaiting;
  t.info.accepted_at.reset();
  t.info.target_deadline.reset();
  if (to_w == kNone) {
    t.info.filter_index = -2;
    t.info.target_index = -1;
    t.refine = Expression();
    t.excluded.clear();
    t.info.excluded_worker_ids.clear();
    ++queues_[to_q].counters.entered;
  } else {
    std::erase(t.excluded, to_w);
    std::erase(t.info.excluded_worker_ids, workers_[to_w].spec.id);
  }
  JoinQueue(t, to_q, now);
  if (to_w != kNone) SetSticky(t, ti, to_w, now + sticky);
  AddWaiting(t);
  d.queued.push_back(TaskQueued{t.info.id, t.info.queue_id, from, t.info.target_index,
                                t.info.priority, std::nullopt, QueuedReason::kTransferred});
  return d;
}

Result<Decisions> EngineState::ScheduleCallback(std::string_view task_id, Instant at, Instant now) {
  TaskRec* tp = FindTaskRec(task_id);
  if (tp == nullptr) return Error::NotFound("no open task " + std::string(task_id));
  if (at <= now) return Error::Invalid("at", "future", "a callback time is in the future");
  TaskRec& t = *tp;
  const Idx ti = static_cast<Idx>(tp - tasks_.data());
  if (t.info.state != TaskState::kWaiting && t.info.state != TaskState::kReserved) {
    return Error::Conflict("state", "only a waiting or reserved task can become a callback");
  }
  Decisions d;
  if (t.info.state == TaskState::kReserved) CloseReservation(t, ti, ReservationEnd::kCancelled, now, d);
  RemoveWaiting(t);
  QueueRec& q = queues_[t.q];
  q.ages.erase(q.ages.find(t.info.created_at.us));
  t.in_ages = false;
  ++q.scheduled;
  t.info.state = TaskState::kScheduled;
  t.info.scheduled_at = at;
  t.info.target_deadline.reset();
  const Instant keep_until = at + options_.callback_lifetime;
  if (t.info.expires_at < keep_until) {
    t.info.expires_at = keep_until;
    AddTimer(TimerKind::kLifetime, keep_until, ti, t.uid);
  }
  AddTimer(TimerKind::kCallback, at, ti, t.uid);
  return d;
}

Result<Decisions> EngineState::Cancel(std::string_view task_id, Instant now) {
  TaskRec* tp = FindTaskRec(task_id);
  if (tp == nullptr) return Error::NotFound("no open task " + std::string(task_id));
  Decisions d;
  CloseTask(static_cast<Idx>(tp - tasks_.data()), TaskEnd::kCancelled, now, d);
  return d;
}

void EngineState::Escalate(Idx ti, Instant now, Decisions& d) {
  TaskRec& t = tasks_[ti];
  auto wf = workflows_.find(t.info.workflow_id);
  const std::vector<CompiledTarget>* targets =
      wf == workflows_.end() ? nullptr : wf->second.Targets(t.info.filter_index);
  const size_t next = static_cast<size_t>(t.info.target_index + 1);
  t.info.target_deadline.reset();
  if (targets == nullptr || t.info.target_index < 0 || next >= targets->size()) return;
  const std::string from = t.info.queue_id;
  const Idx from_q = t.q;
  RemoveWaiting(t);
  LeaveQueue(t);
  if (!EnterTarget(t, *targets, next, now).ok()) {
    JoinQueue(t, from_q, now);
    AddWaiting(t);
    return;
  }
  ++queues_[from_q].counters.escalated_out;
  AddWaiting(t);
  if (t.info.target_deadline) AddTimer(TimerKind::kTarget, *t.info.target_deadline, ti, t.uid);
  d.queued.push_back(TaskQueued{t.info.id, t.info.queue_id, from, t.info.target_index,
                                t.info.priority, t.info.target_deadline, QueuedReason::kEscalated});
}

bool EngineState::TimerValid(const Timer& tm) const {
  if (tm.kind == TimerKind::kWorkerUntil) {
    const WorkerRec& w = workers_[tm.idx];
    return w.live && w.activity == Activity::kWrapUp && w.activity_until &&
           w.activity_until->us == tm.at_us;
  }
  const TaskRec& t = tasks_[tm.idx];
  if (!t.live || t.uid != tm.uid) return false;
  const TaskInfo& i = t.info;
  switch (tm.kind) {
    case TimerKind::kReservation:
      return i.state == TaskState::kReserved && i.reservation && i.reservation->expires_at.us == tm.at_us;
    case TimerKind::kWrapUp:
      return i.state == TaskState::kWrapping && i.wrap_up_until && i.wrap_up_until->us == tm.at_us;
    case TimerKind::kTarget:
      return i.state == TaskState::kWaiting && i.target_deadline && i.target_deadline->us == tm.at_us;
    case TimerKind::kSticky:
      return i.sticky_until && i.sticky_until->us == tm.at_us;
    case TimerKind::kCallback:
      return i.state == TaskState::kScheduled && i.scheduled_at && i.scheduled_at->us == tm.at_us;
    case TimerKind::kLifetime:
      return i.expires_at.us == tm.at_us && i.state != TaskState::kWrapping;
    case TimerKind::kWorkerUntil:
      break;
  }
  return false;
}

void EngineState::FireTimer(const Timer& tm, Instant now, Decisions& d) {
  const Idx ti = tm.idx;
  switch (tm.kind) {
    case TimerKind::kReservation:
      CloseReservation(tasks_[ti], ti, ReservationEnd::kTimedOut, now, d);
      return;
    case TimerKind::kWrapUp:
      EndWrapUp(ti, true, now, d);
      return;
    case TimerKind::kTarget:
      Escalate(ti, now, d);
      return;
    case TimerKind::kSticky: {
      TaskRec& t = tasks_[ti];
      d.sticky_expired.push_back(StickyExpired{t.info.id, t.info.sticky_worker_id});
      ClearSticky(t);
      if (t.info.state == TaskState::kWaiting) MarkDirty(t.q);
      return;
    }
    case TimerKind::kCallback: {
      TaskRec& t = tasks_[ti];
      QueueRec& q = queues_[t.q];
      --q.scheduled;
      q.ages.insert(t.info.created_at.us);
      t.in_ages = true;
      t.info.scheduled_at.reset();
      t.info.state = TaskState::kWaiting;
      AddWaiting(t);
      d.callbacks_due.push_back(CallbackDue{t.info.id, t.info.queue_id});
      return;
    }
    case TimerKind::kLifetime:
      CloseTask(ti, TaskEnd::kExpired, now, d);
      return;
    case TimerKind::kWorkerUntil: {
      WorkerRec& w = workers_[ti];
      const Activity to = w.after_wrap;
      Reindex(ti, ~ChannelMask{0}, [&](WorkerRec& x) {
        x.activity = to;
        x.activity_since = now;
        x.activity_until.reset();
        if (to == Activity::kAvailable && x.tasks.empty()) x.idle_since = now;
      });
      d.activity_changes.push_back(ActivityChanged{w.spec.id, Activity::kWrapUp, to, std::nullopt});
      return;
    }
  }
}

Decisions EngineState::Tick(Instant now) {
  Decisions d;
  while (!timers_.empty() && timers_.top().at_us <= now.us) {
    const Timer tm = timers_.top();
    timers_.pop();
    if (TimerValid(tm)) FireTimer(tm, now, d);
  }
  return d;
}

std::optional<Instant> EngineState::NextDeadline() const {
  while (!timers_.empty() && !TimerValid(timers_.top())) timers_.pop();
  if (timers_.empty()) return std::nullopt;
  return Instant{timers_.top().at_us};
}

Status EngineState::RestoreTask(const TaskInfo& info) {
  OPSBOX_TRY(CheckId(info.id, "task_id"));
  if (task_ids_.contains(info.id)) return Error::Conflict("duplicate", "task " + info.id + " exists");
  OPSBOX_ASSIGN_OR_RETURN(uint8_t ch, InternChannel(info.channel, "channel"));
  const Idx qi = QueueIdx(info.queue_id);
  if (qi == kNone) return Error::NotFound("no queue " + info.queue_id);
  const bool has_worker = info.state == TaskState::kReserved ||
                          info.state == TaskState::kAssigned || info.state == TaskState::kWrapping;
  const Idx wi = has_worker ? WorkerIdx(info.worker_id) : kNone;
  if (has_worker && wi == kNone) return Error::NotFound("no worker " + info.worker_id);
  if ((info.state == TaskState::kReserved) != info.reservation.has_value()) {
    return Error::Invalid("reservation", "state", "a reservation exists exactly when reserved");
  }
  const Idx sticky_w = info.sticky_worker_id.empty() ? kNone : WorkerIdx(info.sticky_worker_id);
  const Idx ti = AllocTask();
  TaskRec& t = tasks_[ti];
  t.info = info;
  t.ch = ch;
  t.seq = next_seq_++;
  if (!info.attributes.contains("channel")) {
    t.eval = info.attributes;
    (*t.eval)["channel"] = info.channel;
  }
  auto wf = workflows_.find(info.workflow_id);
  if (wf != workflows_.end() && info.target_index >= 0) {
    const auto* targets = wf->second.Targets(info.filter_index);
    if (targets && static_cast<size_t>(info.target_index) < targets->size()) {
      t.refine = (*targets)[static_cast<size_t>(info.target_index)].refine;
    }
  }
  for (const auto& id : info.excluded_worker_ids) {
    const Idx x = WorkerIdx(id);
    if (x != kNone) t.excluded.push_back(x);
  }
  JoinQueue(t, qi, info.created_at);
  task_ids_.emplace(info.id, ti);
  QueueRec& q = queues_[qi];
  if (info.state == TaskState::kScheduled || info.state == TaskState::kAssigned ||
      info.state == TaskState::kWrapping) {
    q.ages.erase(q.ages.find(info.created_at.us));
    t.in_ages = false;
  }
  if (info.state == TaskState::kScheduled) ++q.scheduled;
  if (info.state == TaskState::kReserved) ++q.reserved;
  if (info.state == TaskState::kWaiting) AddWaiting(t);
  if (has_worker) {
    t.info.worker_id.clear();
    AttachToWorker(t, ti, wi);
  }
  if (sticky_w != kNone && info.sticky_until) {
    t.sticky_w = sticky_w;
    ++q.sticky;
    workers_[sticky_w].sticky_tasks.emplace_back(ti, t.uid);
  } else {
    t.info.sticky_worker_id = info.sticky_worker_id;
  }
  ArmTaskTimers(t, ti);
  return Ok();
}

// ---- reads -----------------------------------------------------------------------------------

std::optional<TaskInfo> EngineState::FindTask(std::string_view id) const {
  const TaskRec* t = FindTaskRec(id);
  if (t == nullptr) return std::nullopt;
  return t->info;
}

std::optional<WorkerInfo> EngineState::FindWorker(std::string_view id) const {
  const Idx wi = WorkerIdx(id);
  if (wi == kNone) return std::nullopt;
  const WorkerRec& w = workers_[wi];
  WorkerInfo out;
  out.id = w.spec.id;
  out.name = w.spec.name;
  out.attributes = w.spec.attributes;
  out.capacity = w.spec.capacity;
  out.activity = w.activity;
  out.activity_since = w.activity_since;
  out.activity_until = w.activity_until;
  out.activity_after_wrap_up = w.after_wrap;
  out.idle_since = w.idle_since;
  out.offer_seq = w.offer_seq;
  out.consecutive_timeouts = w.consecutive_timeouts;
  for (size_t c = 0; c < channel_names_.size(); ++c) {
    if (w.cap[c] > 0 || w.inflight[c] > 0) out.in_flight[channel_names_[c]] = w.inflight[c];
  }
  for (Idx ti : w.tasks) out.task_ids.push_back(tasks_[ti].info.id);
  for (const Membership& m : w.queues) out.queue_ids.push_back(queues_[m.q].spec.id);
  std::sort(out.queue_ids.begin(), out.queue_ids.end());
  return out;
}

std::optional<ReservationInfo> EngineState::FindReservation(std::string_view id) const {
  auto ti = ReservedTask(id);
  if (!ti.ok()) return std::nullopt;
  return tasks_[*ti].info.reservation;
}

namespace {
template <class M>
std::vector<std::string> SortedKeys(const M& m) {
  std::vector<std::string> out;
  out.reserve(m.size());
  for (const auto& [k, v] : m) out.push_back(k);
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

std::vector<std::string> EngineState::WorkerIds() const { return SortedKeys(worker_ids_); }
std::vector<std::string> EngineState::QueueIds() const { return SortedKeys(queue_ids_); }
std::vector<std::string> EngineState::TaskIds() const { return SortedKeys(task_ids_); }

std::optional<Duration> EngineState::EstimatedWait(std::string_view id, Instant) const {
  const Idx qi = QueueIdx(id);
  if (qi == kNone) return std::nullopt;
  const QueueRec& q = queues_[qi];
  const int64_t handle_us = q.handle_us.empty()
                                ? q.spec.wrap_up.us + 180'000'000
                                : q.handle_sum_us / static_cast<int64_t>(q.handle_us.size());
  int64_t staffed = 0;
  for (Idx wi : q.members) staffed += workers_[wi].activity != Activity::kOffline ? 1 : 0;
  const int64_t ahead = static_cast<int64_t>(q.ages.size());
  return Duration{(ahead + 1) * handle_us / std::max<int64_t>(1, staffed)};
}

QueueStats EngineState::MakeStats(const QueueRec& q, Instant now) const {
  QueueStats s;
  s.queue_id = q.spec.id;
  s.name = q.spec.name;
  s.waiting = static_cast<int64_t>(q.ages.size());
  s.scheduled = q.scheduled;
  if (!q.ages.empty()) s.longest_wait_s = static_cast<double>(now.us - *q.ages.begin()) / 1e6;
  s.counters = q.counters;
  const QueueCounters& c = q.counters;
  const int64_t base = c.answered + c.abandoned - c.abandoned_within_sl;
  s.service_level = base > 0 ? static_cast<double>(c.answered_within_sl) / static_cast<double>(base) : 1.0;
  s.asa_s = c.answered > 0 ? static_cast<double>(c.wait_us_answered) / 1e6 / static_cast<double>(c.answered) : 0;
  s.estimated_wait_s = static_cast<double>(EstimatedWait(q.spec.id, now)->us) / 1e6;
  s.callback_offered = q.spec.callback_offer_wait_s > 0 &&
                       s.estimated_wait_s > static_cast<double>(q.spec.callback_offer_wait_s);
  for (Idx wi : q.members) {
    const WorkerRec& w = workers_[wi];
    switch (w.activity) {
      case Activity::kAvailable: (w.tasks.empty() ? s.agents_available : s.agents_busy)++; break;
      case Activity::kBusy: ++s.agents_busy; break;
      case Activity::kWrapUp: ++s.agents_wrap_up; break;
      case Activity::kBreak: ++s.agents_break; break;
      case Activity::kOffline: ++s.agents_offline; break;
    }
  }
  return s;
}

std::optional<QueueStats> EngineState::Stats(std::string_view id, Instant now) const {
  const Idx qi = QueueIdx(id);
  if (qi == kNone) return std::nullopt;
  return MakeStats(queues_[qi], now);
}

std::vector<QueueStats> EngineState::AllStats(Instant now) const {
  std::vector<QueueStats> out;
  for (const auto& id : QueueIds()) out.push_back(MakeStats(queues_[QueueIdx(id)], now));
  return out;
}

}  // namespace detail

// ---- Engine: forwards to the state -----------------------------------------------------------

Engine::Engine(EngineOptions options) : s_(std::make_unique<detail::EngineState>(options)) {}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

Status Engine::UpsertWorker(const WorkerSpec& spec, Instant now) { return s_->UpsertWorker(spec, now); }
Status Engine::RemoveWorker(std::string_view id) { return s_->RemoveWorker(id); }
Status Engine::RestoreWorkerState(std::string_view id, const WorkerState& st) {
  return s_->RestoreWorkerState(id, st);
}
Status Engine::UpsertQueue(const QueueSpec& spec) { return s_->UpsertQueue(spec); }
Status Engine::RemoveQueue(std::string_view id) { return s_->RemoveQueue(id); }
Status Engine::SetWorkflow(const WorkflowSpec& spec) { return s_->SetWorkflow(spec); }
Status Engine::RestoreTask(const TaskInfo& task) { return s_->RestoreTask(task); }
Status Engine::RestoreQueueCounters(std::string_view id, const QueueCounters& c) {
  return s_->RestoreQueueCounters(id, c);
}
Result<Decisions> Engine::AddTask(const TaskSpec& spec, Instant now) { return s_->AddTask(spec, now); }
Decisions Engine::Dispatch(Instant now, size_t offers_max) { return s_->Dispatch(now, offers_max); }
Result<Decisions> Engine::Accept(std::string_view id, Instant now) {
  return s_->EndReservation(id, ReservationEnd::kAccepted, now);
}
Result<Decisions> Engine::Reject(std::string_view id, Instant now) {
  return s_->EndReservation(id, ReservationEnd::kRejected, now);
}
Result<Decisions> Engine::TimeoutReservation(std::string_view id, Instant now) {
  return s_->EndReservation(id, ReservationEnd::kTimedOut, now);
}
Result<Decisions> Engine::CancelReservation(std::string_view id, Instant now) {
  return s_->EndReservation(id, ReservationEnd::kCancelled, now);
}
Result<Decisions> Engine::Complete(std::string_view id, Instant now) { return s_->Complete(id, now); }
Result<Decisions> Engine::WrapUp(std::string_view id, Instant now) { return s_->WrapUp(id, now); }
Result<Decisions> Engine::SetActivity(std::string_view id, Activity a, Instant now,
                                      std::optional<Instant> until) {
  return s_->SetActivity(id, a, now, until);
}
Result<Decisions> Engine::Transfer(std::string_view task_id, std::string_view queue_id,
                                   std::string_view worker_id, Instant now, Duration sticky) {
  return s_->Transfer(task_id, queue_id, worker_id, now, sticky);
}
Result<Decisions> Engine::ScheduleCallback(std::string_view id, Instant at, Instant now) {
  return s_->ScheduleCallback(id, at, now);
}
Result<Decisions> Engine::Cancel(std::string_view id, Instant now) { return s_->Cancel(id, now); }
Decisions Engine::Tick(Instant now) { return s_->Tick(now); }
std::optional<Instant> Engine::NextDeadline() const { return s_->NextDeadline(); }
std::optional<TaskInfo> Engine::FindTask(std::string_view id) const { return s_->FindTask(id); }
std::optional<WorkerInfo> Engine::FindWorker(std::string_view id) const { return s_->FindWorker(id); }
std::optional<ReservationInfo> Engine::FindReservation(std::string_view id) const {
  return s_->FindReservation(id);
}
std::vector<std::string> Engine::WorkerIds() const { return s_->WorkerIds(); }
std::vector<std::string> Engine::QueueIds() const { return s_->QueueIds(); }
std::vector<std::string> Engine::TaskIds() const { return s_->TaskIds(); }
std::optional<Duration> Engine::EstimatedWait(std::string_view id, Instant now) const {
  return s_->EstimatedWait(id, now);
}
std::optional<QueueStats> Engine::Stats(std::string_view id, Instant now) const {
  return s_->Stats(id, now);
}
std::vector<QueueStats> Engine::AllStats(Instant now) const { return s_->AllStats(now); }
size_t Engine::open_tasks() const { return s_->open_tasks(); }
size_t Engine::worker_count() const { return s_->worker_count(); }
size_t Engine::queue_count() const { return s_->queue_count(); }

}  // namespace opsbox::routing
