// Between the engine and the ledger: committed events applied to the engine, the engine's
// decisions as system commands, and an engine rebuilt from the projections at start.
#include "routing/service_bridge.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace opsbox::routing::detail {
namespace {

int64_t I(const Json& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}
std::string S(const Json& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
}
Instant At(const Json& p, std::string_view key = "at_us") { return Instant{I(p, key)}; }
std::optional<Instant> OptAt(int64_t us) {
  return us == 0 ? std::nullopt : std::optional<Instant>(Instant{us});
}

bool Warn(const Status& st, const ledger::Event& e) {
  if (st.ok()) return true;
  spdlog::warn("routing: engine refused {} (seq {} of tenant {}): {}", e.type, e.seq,
               e.tenant_id, st.error().ToString());
  return false;
}
template <class T>
bool Warn(const Result<T>& r, const ledger::Event& e) {
  if (r.ok()) return true;
  return Warn(Status(r.error()), e);
}

bool PendingIn(const Engine& engine, const std::string& public_id) {
  return engine.FindReservation(EngineReservationId(public_id)).has_value();
}

TaskState ParseState(std::string_view s) {
  if (s == "scheduled") return TaskState::kScheduled;
  if (s == "reserved") return TaskState::kReserved;
  if (s == "assigned") return TaskState::kAssigned;
  if (s == "wrap_up") return TaskState::kWrapping;
  return TaskState::kWaiting;
}

ledger::Command System(const std::string& tenant, std::string id, std::string_view type,
                       Json payload) {
  return ledger::Command{tenant, std::move(id), std::string(type), "system", std::move(payload)};
}

// task_created: the engine routes the task itself; when it placed the task on a later target
// (skip_if_no_worker) the ledger follows with an escalation to that target.
bool ApplyCreated(Engine& engine, const ledger::Event& e, const Json& p,
                  std::vector<ledger::Command>& follow_up) {
  TaskSpec spec;
  spec.id = S(p, "task_id");
  spec.channel = S(p, "channel");
  spec.attributes = p.value("attributes", Json::object());
  spec.priority = I(p, "base_priority");
  spec.lifetime = Duration{I(p, "expires_at_us") - I(p, "created_at_us")};
  spec.workflow_id = S(p, "workflow_id");
  if (spec.workflow_id.empty()) spec.queue_id = S(p, "queue_id");
  spec.sticky_worker_id = S(p, "sticky_worker_id");
  if (!spec.sticky_worker_id.empty()) {
    spec.sticky_timeout = Duration{I(p, "sticky_until_us") - I(p, "created_at_us")};
  }
  auto r = engine.AddTask(spec, At(p, "created_at_us"));
  if (!Warn(r, e)) return false;
  auto t = engine.FindTask(spec.id);
  if (t && t->target_index != I(p, "target_index") && !spec.workflow_id.empty()) {
    follow_up.push_back(System(
        e.tenant_id, "escalate:" + spec.id + ":" + std::to_string(t->target_index), kEscalateTask,
        Json{{"task_id", spec.id}, {"target_index", t->target_index}, {"reason", "no_worker"}}));
  }
  return true;
}

bool ApplyReservationEnd(Engine& engine, const ledger::Event& e, const Json& p) {
  const std::string id = EngineReservationId(S(p, "reservation_id"));
  if (!engine.FindReservation(id)) return true;  // the engine proposed it (timeout) or already closed
  const Instant at = At(p);
  if (e.type == kReservationAccepted) return Warn(engine.Accept(id, at), e);
  if (e.type == kReservationRejected) return Warn(engine.Reject(id, at), e);
  if (e.type == kReservationTimedOut) return Warn(engine.TimeoutReservation(id, at), e);
  return Warn(engine.CancelReservation(id, at), e);
}

bool ApplyActivity(Engine& engine, const ledger::Event& e, const Json& p) {
  auto activity = ParseActivity(S(p, "activity"));
  auto w = engine.FindWorker(S(p, "worker_id"));
  if (!activity || !w) return false;
  if (w->activity == *activity) return true;
  std::optional<Instant> until;
  if (*activity == Activity::kWrapUp) until = At(p) + Duration::Seconds(kWrapUpSDefault);
  return Warn(engine.SetActivity(w->id, *activity, At(p), until), e);
}

bool ApplyTaskEvent(Engine& engine, const ledger::Event& e, const Json& p) {
  const std::string id = S(p, "task_id");
  auto t = engine.FindTask(id);
  const Instant at = At(p);
  if (e.type == kTaskCancelled) return !t || Warn(engine.Cancel(id, at), e);
  if (e.type == kTaskWrappedUp) {
    return !t || t->state != TaskState::kWrapping || Warn(engine.WrapUp(id, at), e);
  }
  if (!t) return false;
  if (e.type == kTaskCompleted) {
    return t->state != TaskState::kAssigned || Warn(engine.Complete(id, at), e);
  }
  if (e.type == kTaskTransferred) {
    const std::string sticky = S(p, "sticky_worker_id");
    const std::string queue = sticky.empty() ? S(p, "queue_id") : std::string();
    return Warn(engine.Transfer(id, queue, sticky, at,
                                Duration{I(p, "sticky_until_us") - at.us}),
                e);
  }
  if (e.type == kCallbackScheduled) {
    return t->state == TaskState::kScheduled ||
           Warn(engine.ScheduleCallback(id, Instant{I(p, "scheduled_at_us")}, at), e);
  }
  if (e.type == kCallbackReleased) return t->state != TaskState::kScheduled;
  if (e.type == kTaskEscalated) {
    return t->queue_id == S(p, "queue_id") && t->target_index == I(p, "target_index");
  }
  return true;  // task_sticky_expired: the engine stops honouring it by itself
}

}  // namespace

std::string PublicReservationId(std::string_view engine_id) {
  std::string out(engine_id);
  if (auto i = out.rfind('/'); i != std::string::npos) out[i] = '.';
  return out;
}

std::string EngineReservationId(std::string_view public_id) {
  std::string out(public_id);
  if (auto i = out.rfind('.'); i != std::string::npos) out[i] = '/';
  return out;
}

WorkerSpec ToWorkerSpec(const Json& p) {
  WorkerSpec w;
  w.id = S(p, "worker_id");
  w.name = S(p, "name");
  w.attributes = p.value("attributes", Json::object());
  const Json capacity = p.value("capacity", Json::object());
  for (auto& [k, v] : capacity.items()) {
    if (v.is_number_integer()) w.capacity[k] = v.get<int64_t>();
  }
  return w;
}

QueueSpec ToQueueSpec(const Json& p) {
  QueueSpec q;
  q.id = S(p, "queue_id");
  q.name = S(p, "name");
  q.target_expression = S(p, "target_expression");
  q.worker_selection =
      ParseWorkerSelection(S(p, "worker_selection")).value_or(WorkerSelection::kLongestIdle);
  q.skill = S(p, "skill");
  q.service_level_threshold_s = p.value("service_level_threshold_s", int64_t{30});
  q.service_level_target = p.value("service_level_target", 0.8);
  q.callback_offer_wait_s = I(p, "callback_offer_wait_s");
  q.reservation_timeout =
      Duration::Seconds(p.value("reservation_timeout_s", kReservationTimeoutSDefault));
  q.wrap_up = Duration::Seconds(p.value("wrap_up_s", kWrapUpSDefault));
  return q;
}

namespace {
std::vector<WorkflowTarget> Targets(const Json& list) {
  std::vector<WorkflowTarget> out;
  if (!list.is_array()) return out;
  for (const auto& t : list) {
    WorkflowTarget w;
    w.queue_id = S(t, "queue_id");
    if (t.contains("priority") && t["priority"].is_number_integer()) {
      w.priority = t["priority"].get<int64_t>();
    }
    w.timeout_s = I(t, "timeout_s");
    w.expression = S(t, "expression");
    w.skip_if_no_worker = t.value("skip_if_no_worker", false);
    out.push_back(std::move(w));
  }
  return out;
}
}  // namespace

WorkflowSpec ToWorkflowSpec(const Json& p) {
  WorkflowSpec w;
  w.id = S(p, "workflow_id");
  const Json filters = p.value("filters", Json::array());
  for (const auto& f : filters) {
    w.filters.push_back(WorkflowFilter{S(f, "name"), S(f, "expression"),
                                       Targets(f.value("targets", Json::array()))});
  }
  const Json def = p.value("default_filter", Json());
  if (def.is_object()) w.default_targets = Targets(def.value("targets", Json::array()));
  return w;
}

bool ApplyEvent(Engine& engine, const ledger::Event& e, const Json& p,
                std::vector<ledger::Command>& follow_up) {
  if (e.type == kWorkerUpserted) return Warn(engine.UpsertWorker(ToWorkerSpec(p), At(p)), e);
  if (e.type == kTaskQueueUpserted) return Warn(engine.UpsertQueue(ToQueueSpec(p)), e);
  if (e.type == kWorkflowUpserted) return Warn(engine.SetWorkflow(ToWorkflowSpec(p)), e);
  if (e.type == kWorkerActivityChanged) return ApplyActivity(engine, e, p);
  if (e.type == kTaskCreated) return ApplyCreated(engine, e, p, follow_up);
  if (e.type == kReservationCreated) return PendingIn(engine, S(p, "reservation_id"));
  if (e.type == kReservationAccepted || e.type == kReservationRejected ||
      e.type == kReservationTimedOut || e.type == kReservationCancelled) {
    return ApplyReservationEnd(engine, e, p);
  }
  return ApplyTaskEvent(engine, e, p);
}

void DecisionsToCommands(const std::string& tenant, const Decisions& d, Instant now,
                         std::vector<ledger::Command>& out) {
  const std::string at = std::to_string(now.us);
  for (const auto& r : d.reservations_closed) {
    if (r.how != ReservationEnd::kTimedOut) continue;
    const std::string id = PublicReservationId(r.reservation.id);
    out.push_back(System(tenant, "expire:" + id, kExpireReservation,
                         Json{{"reservation_id", id}}));
  }
  for (const auto& w : d.wrapped_up) {
    if (!w.by_timer) continue;
    out.push_back(System(tenant, "wrapup:" + w.task_id + ":" + at, kFinishWrapUp,
                         Json{{"task_id", w.task_id}}));
  }
  for (const auto& q : d.queued) {
    if (q.reason != QueuedReason::kEscalated) continue;
    out.push_back(System(tenant, "escalate:" + q.task_id + ":" + std::to_string(q.target_index),
                         kEscalateTask,
                         Json{{"task_id", q.task_id}, {"target_index", q.target_index}}));
  }
  for (const auto& c : d.callbacks_due) {
    out.push_back(System(tenant, "callback:" + c.task_id + ":" + at, kReleaseCallback,
                         Json{{"task_id", c.task_id}}));
  }
  for (const auto& s : d.sticky_expired) {
    out.push_back(System(tenant, "sticky:" + s.task_id + ":" + at, kExpireSticky,
                         Json{{"task_id", s.task_id}}));
  }
  for (const auto& c : d.closed) {
    if (c.how != TaskEnd::kExpired) continue;
    out.push_back(System(tenant, "expire-task:" + c.task_id, kExpireTask,
                         Json{{"task_id", c.task_id}}));
  }
  for (const auto& o : d.offers) {
    const std::string id = PublicReservationId(o.reservation.id);
    out.push_back(System(tenant, "reserve:" + id, kReserveTask,
                         Json{{"task_id", o.reservation.task_id},
                              {"worker_id", o.reservation.worker_id},
                              {"reservation_id", id}}));
  }
}

namespace {

TaskInfo ToTaskInfo(const Snapshot& snap, const TaskRow& t) {
  TaskInfo i;
  i.id = t.task_id;
  i.channel = t.channel;
  i.attributes = t.attributes;
  i.base_priority = t.base_priority;
  i.priority = t.priority;
  i.state = ParseState(t.status);
  i.workflow_id = t.workflow_id;
  i.filter_index = t.filter_index;
  i.target_index = t.target_index;
  i.queue_id = t.queue_id;
  i.target_deadline = OptAt(t.target_timeout_at_us);
  i.created_at = Instant{t.created_at_us};
  i.expires_at = Instant{t.expires_at_us};
  if (i.state == TaskState::kScheduled) i.scheduled_at = OptAt(t.scheduled_at_us);
  i.sticky_worker_id = t.sticky_worker_id;
  if (!t.sticky_worker_id.empty()) i.sticky_until = OptAt(t.sticky_until_us);
  if (i.state != TaskState::kWaiting && i.state != TaskState::kScheduled) i.worker_id = t.worker_id;
  if (auto h = snap.history.find(t.task_id); h != snap.history.end()) {
    i.reservations_made = static_cast<int64_t>(h->second.size());
    for (const auto& [worker, status] : h->second) {
      if (status == "rejected" || status == "timeout") i.excluded_worker_ids.push_back(worker);
    }
    while (i.excluded_worker_ids.size() > kEngineRejectedWorkersMax) {
      i.excluded_worker_ids.erase(i.excluded_worker_ids.begin());
    }
  }
  if (i.state == TaskState::kReserved) {
    for (const auto& r : snap.reservations) {
      if (r.reservation_id != t.reservation_id) continue;
      i.reservation = ReservationInfo{EngineReservationId(r.reservation_id), r.task_id,
                                      r.worker_id, r.queue_id,
                                      Instant{r.created_at_us}, Instant{r.expires_at_us}};
    }
  }
  i.accepted_at = OptAt(t.answered_at_us);
  if (i.state == TaskState::kWrapping) i.wrap_up_until = OptAt(t.wrap_up_until_us);
  return i;
}

WorkerState ToWorkerState(const Snapshot& snap, const WorkerRow& w) {
  WorkerState s;
  s.activity = ParseActivity(w.activity).value_or(Activity::kOffline);
  s.activity_since = Instant{w.activity_since_us};
  if (s.activity == Activity::kWrapUp) {
    auto it = snap.wrap_up_until_us.find(w.worker_id);
    s.activity_until = Instant{it == snap.wrap_up_until_us.end() ? w.activity_since_us
                                                                 : it->second};
  }
  s.idle_since = Instant{w.idle_since_us};
  s.offer_seq = w.last_offer_seq;
  s.consecutive_timeouts = w.offer_timeouts;
  return s;
}

}  // namespace

Result<Engine> BuildEngine(const Snapshot& snap) {
  Engine engine;
  for (const auto& w : snap.workers) {
    Json p = WorkerJson(w);
    p["capacity"] = Json::object();
    for (const auto& [k, v] : w.capacity) p["capacity"][k] = v;
    OPSBOX_TRY(engine.UpsertWorker(ToWorkerSpec(p), Instant{w.created_at_us}));
  }
  for (const auto& q : snap.queues) OPSBOX_TRY(engine.UpsertQueue(ToQueueSpec(q.config)));
  for (const auto& f : snap.workflows) OPSBOX_TRY(engine.SetWorkflow(ToWorkflowSpec(f.config)));
  for (const auto& w : snap.workers) {
    OPSBOX_TRY(engine.RestoreWorkerState(w.worker_id, ToWorkerState(snap, w)));
  }
  for (const auto& t : snap.tasks) OPSBOX_TRY(engine.RestoreTask(ToTaskInfo(snap, t)));
  return engine;
}

namespace {
Json OptJson(const std::optional<Instant>& t) { return t ? Json(t->us) : Json(); }
}  // namespace

Json EngineJson(const Engine& engine) {
  Json tasks = Json::array();
  for (const auto& id : engine.TaskIds()) {
    auto t = engine.FindTask(id);
    if (!t) continue;
    Json res;
    if (t->reservation) {
      res = Json{{"id", t->reservation->id}, {"worker_id", t->reservation->worker_id},
                 {"queue_id", t->reservation->queue_id},
                 {"created_at", t->reservation->created_at.us},
                 {"expires_at", t->reservation->expires_at.us}};
    }
    tasks.push_back(Json{{"id", t->id}, {"channel", t->channel}, {"attributes", t->attributes},
                         {"base_priority", t->base_priority}, {"priority", t->priority},
                         {"state", TaskStateName(t->state)}, {"workflow_id", t->workflow_id},
                         {"filter_index", t->filter_index}, {"target_index", t->target_index},
                         {"queue_id", t->queue_id}, {"target_deadline", OptJson(t->target_deadline)},
                         {"created_at", t->created_at.us}, {"expires_at", t->expires_at.us},
                         {"scheduled_at", OptJson(t->scheduled_at)},
                         {"sticky_worker_id", t->sticky_worker_id},
                         {"sticky_until", OptJson(t->sticky_until)}, {"worker_id", t->worker_id},
                         {"reservation", res}, {"reservations_made", t->reservations_made},
                         {"excluded_worker_ids", t->excluded_worker_ids},
                         {"accepted_at", OptJson(t->accepted_at)},
                         {"wrap_up_until", OptJson(t->wrap_up_until)}});
  }
  Json workers = Json::array();
  for (const auto& id : engine.WorkerIds()) {
    auto w = engine.FindWorker(id);
    if (!w) continue;
    workers.push_back(Json{{"id", w->id}, {"name", w->name}, {"attributes", w->attributes},
                           {"capacity", w->capacity}, {"activity", ActivityName(w->activity)},
                           {"activity_since", w->activity_since.us},
                           {"consecutive_timeouts", w->consecutive_timeouts},
                           {"in_flight", w->in_flight}, {"task_ids", w->task_ids},
                           {"queue_ids", w->queue_ids}});
  }
  return Json{{"tasks", tasks}, {"workers", workers}};
}

}  // namespace opsbox::routing::detail
