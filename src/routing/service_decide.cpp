// The pure decisions of the routing commands: (rows the handler loaded, payload, now) ->
// events or an error naming the field and the rule. No I/O, no clock.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/assert.hpp"
#include "routing/expression.hpp"
#include "routing/service_model.hpp"

namespace opsbox::routing::detail {
namespace {

using ledger::Decision;
using ledger::NewEvent;

const std::vector<std::string_view> kActivities = {"available", "busy", "break", "offline"};
const std::vector<std::string_view> kSelections = {"longest_idle", "most_skilled",
                                                   "round_robin"};

bool OneOf(std::string_view v, const std::vector<std::string_view>& set) {
  for (auto s : set) {
    if (s == v) return true;
  }
  return false;
}

std::string Path(std::string_view prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
}

const Json* Member(const Json& o, std::string_view key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

Result<std::string> Id(const Json& o, std::string_view key, std::string_view prefix = "") {
  const Json* v = Member(o, key);
  const std::string f = Path(prefix, key);
  if (v == nullptr) return Error::Invalid(f, "required", "is required");
  if (!v->is_string()) return Error::Invalid(f, "type", "must be a string");
  const auto& s = v->get_ref<const std::string&>();
  if (s.empty() || s.size() > kIdBytesMax) {
    return Error::Invalid(f, "length", "must be 1 to " + std::to_string(kIdBytesMax) + " bytes");
  }
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == ':';
    if (!ok) return Error::Invalid(f, "format", "may hold only letters, digits and _ - . :");
  }
  return s;
}

Result<int64_t> IntIn(const Json& o, std::string_view key, int64_t fallback, int64_t lo,
                      int64_t hi, std::string_view prefix = "") {
  const Json* v = Member(o, key);
  if (v == nullptr) return fallback;
  const std::string f = Path(prefix, key);
  if (!v->is_number_integer()) return Error::Invalid(f, "type", "must be an integer");
  const int64_t x = v->get<int64_t>();
  if (x < lo || x > hi) {
    return Error::Invalid(f, "range",
                          "must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return x;
}

Result<std::string> Text(const Json& o, std::string_view key, size_t bytes_max,
                         std::string fallback, std::string_view prefix = "") {
  const Json* v = Member(o, key);
  if (v == nullptr) return fallback;
  const std::string f = Path(prefix, key);
  if (!v->is_string()) return Error::Invalid(f, "type", "must be a string");
  if (v->get_ref<const std::string&>().size() > bytes_max) {
    return Error::Invalid(f, "bytes_max", "must be at most " + std::to_string(bytes_max) + " bytes");
  }
  return v->get<std::string>();
}

Status SizeOk(const Json& v, std::string_view field, size_t bytes_max) {
  if (v.dump().size() > bytes_max) {
    return Error::Invalid(std::string(field), "bytes_max",
                          "must be at most " + std::to_string(bytes_max) + " bytes of JSON");
  }
  return Ok();
}

Error NotFound(std::string_view what, std::string_view id) {
  return Error{ErrorCode::kNotFound, "", "not_found",
               std::string(what) + " " + std::string(id) + " does not exist"};
}

Error State(std::string_view rule, std::string message) {
  return Error{ErrorCode::kConflict, "", std::string(rule), std::move(message)};
}

Decision One(std::string_view type, Json payload, Json result) {
  Decision d;
  d.events.push_back(NewEvent{std::string(type), std::move(payload)});
  d.result = std::move(result);
  return d;
}

void AddEvent(Decision& d, std::string_view type, Json payload) {
  d.events.push_back(NewEvent{std::string(type), std::move(payload)});
}

Json ActivityEvent(const WorkerRow& w, std::string_view activity, std::string_view reason,
                   Instant now) {
  return Json{{"worker_id", w.worker_id}, {"name", w.name},        {"activity", activity},
              {"previous", w.activity},   {"reason", reason},      {"at_us", now.us}};
}

Status CheckTargets(const Json& targets, std::string_view prefix,
                    const std::function<bool(std::string_view)>& queue_exists) {
  if (!targets.is_array() || targets.empty() || targets.size() > kTargetsMax) {
    return Error::Invalid(std::string(prefix), "length",
                          "must be a list of 1 to " + std::to_string(kTargetsMax) + " targets");
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::string p = std::string(prefix) + "[" + std::to_string(i) + "]";
    const Json& t = targets[i];
    if (!t.is_object()) return Error::Invalid(p, "type", "must be an object");
    OPSBOX_TRY(CheckObjectKeys(
        t, {"queue_id", "priority", "timeout_s", "expression", "skip_if_no_worker"}, p));
    OPSBOX_ASSIGN_OR_RETURN(auto q, Id(t, "queue_id", p));
    if (!queue_exists(q)) {
      return Error::Invalid(Path(p, "queue_id"), "exists", "queue " + q + " does not exist");
    }
    OPSBOX_TRY(IntIn(t, "priority", 0, 0, kPriorityMax, p));
    OPSBOX_TRY(IntIn(t, "timeout_s", 0, 0, kTargetTimeoutSMax, p));
    OPSBOX_ASSIGN_OR_RETURN(auto expr, Text(t, "expression", kExpressionBytesMax, "", p));
    OPSBOX_TRY(Expression::Compile(expr, Path(p, "expression")));
    if (const Json* s = Member(t, "skip_if_no_worker"); s != nullptr && !s->is_boolean()) {
      return Error::Invalid(Path(p, "skip_if_no_worker"), "type", "must be true or false");
    }
  }
  return Ok();
}

// The task's placement on target `index` of `targets`: queue, priority, timeout.
Json Placement(const Json& targets, size_t index, int64_t base_priority, Instant now) {
  const Json& t = targets.at(index);
  const int64_t timeout_s = t.value("timeout_s", int64_t{0});
  const int64_t priority = t.contains("priority") && t["priority"].is_number_integer()
                               ? t["priority"].get<int64_t>()
                               : base_priority;
  return Json{{"queue_id", t.at("queue_id")},
              {"target_index", static_cast<int64_t>(index)},
              {"priority", priority},
              {"target_timeout_at_us", timeout_s > 0 ? now.us + timeout_s * 1000000 : 0}};
}

}  // namespace

Result<MatchedFilter> MatchWorkflow(const WorkflowRow& workflow, const Json& attributes) {
  const Json& filters = workflow.config.contains("filters") ? workflow.config["filters"]
                                                              : Json::array();
  for (size_t i = 0; i < filters.size(); ++i) {
    const Json& f = filters[i];
    OPSBOX_ASSIGN_OR_RETURN(auto expr,
                            Expression::Compile(f.value("expression", ""),
                                                "filters[" + std::to_string(i) + "].expression"));
    if (expr.Evaluate(&attributes, nullptr)) {
      return MatchedFilter{f.value("name", "filter_" + std::to_string(i)),
                           static_cast<int64_t>(i), f.at("targets")};
    }
  }
  const Json* def = Member(workflow.config, "default_filter");
  if (def == nullptr || !def->contains("targets")) {
    return State("no_matching_filter",
                 "no filter of workflow " + workflow.workflow_id +
                     " matches the task and it has no default filter");
  }
  return MatchedFilter{"default", -1, def->at("targets")};
}

Result<Decision> DecideUpsertWorker(const std::optional<WorkerRow>& current, const Json& p,
                                    Instant now) {
  OPSBOX_TRY(CheckObjectKeys(p, {"worker_id", "name", "attributes", "capacity"}));
  OPSBOX_ASSIGN_OR_RETURN(auto id, Id(p, "worker_id"));
  OPSBOX_ASSIGN_OR_RETURN(auto name, Text(p, "name", 200, current ? current->name : id));
  Json attributes = p.value("attributes", Json::object());
  if (!attributes.is_object()) return Error::Invalid("attributes", "type", "must be an object");
  OPSBOX_TRY(SizeOk(attributes, "attributes", kAttributesBytesMax));
  Json capacity = p.value("capacity", Json::object());
  if (!capacity.is_object()) return Error::Invalid("capacity", "type", "must be an object");
  if (capacity.size() > kChannelsMax) {
    return Error::Invalid("capacity", "length",
                          "at most " + std::to_string(kChannelsMax) + " channels");
  }
  for (auto& [channel, n] : capacity.items()) {
    OPSBOX_TRY(IntIn(capacity, channel, 0, 0, kCapacityPerChannelMax, "capacity"));
  }
  return One(kWorkerUpserted,
             Json{{"worker_id", id},
                  {"name", name},
                  {"attributes", attributes},
                  {"capacity", capacity},
                  {"created", !current.has_value()},
                  {"at_us", now.us}},
             Json{{"worker_id", id}});
}

Result<Decision> DecideSetActivity(const std::optional<WorkerRow>& worker,
                                   const std::vector<ReservationRow>& pending, const Json& p,
                                   Instant now, bool system) {
  OPSBOX_TRY(CheckObjectKeys(p, {"worker_id", "activity", "reason"}));
  OPSBOX_ASSIGN_OR_RETURN(auto id, Id(p, "worker_id"));
  OPSBOX_ASSIGN_OR_RETURN(auto activity, Text(p, "activity", 32, ""));
  const bool allowed = OneOf(activity, kActivities) || (system && activity == "wrap_up");
  if (!allowed) {
    return Error::Invalid("activity", "one_of", "must be available, busy, break or offline");
  }
  if (!worker) return NotFound("worker", id);
  Decision d;
  d.result = Json{{"worker_id", id}, {"activity", activity}};
  if (worker->activity == activity) return d;
  // Offers cannot wait on a worker who is no longer available: they return to the queue.
  if (activity != "available") {
    for (const auto& r : pending) {
      AddEvent(d, kReservationCancelled,
               Json{{"reservation_id", r.reservation_id},
                    {"task_id", r.task_id},
                    {"worker_id", r.worker_id},
                    {"reason", "worker_unavailable"},
                    {"at_us", now.us}});
    }
  }
  OPSBOX_ASSIGN_OR_RETURN(auto reason, Text(p, "reason", 64, system ? "system" : "worker"));
  AddEvent(d, kWorkerActivityChanged, ActivityEvent(*worker, activity, reason, now));
  return d;
}

Result<Decision> DecideUpsertQueue(const Json& p) {
  OPSBOX_TRY(CheckObjectKeys(
      p, {"queue_id", "name", "target_expression", "worker_selection", "skill",
          "service_level_threshold_s", "service_level_target", "callback_offer_wait_s",
          "reservation_timeout_s", "wrap_up_s"}));
  OPSBOX_ASSIGN_OR_RETURN(auto id, Id(p, "queue_id"));
  OPSBOX_ASSIGN_OR_RETURN(auto name, Text(p, "name", 200, id));
  OPSBOX_ASSIGN_OR_RETURN(auto expr, Text(p, "target_expression", kExpressionBytesMax, ""));
  OPSBOX_TRY(Expression::Compile(expr, "target_expression"));
  OPSBOX_ASSIGN_OR_RETURN(auto sel, Text(p, "worker_selection", 32, "longest_idle"));
  if (!OneOf(sel, kSelections)) {
    return Error::Invalid("worker_selection", "one_of",
                          "must be longest_idle, most_skilled or round_robin");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto skill, Text(p, "skill", 100, ""));
  if (sel == "most_skilled" && skill.empty()) {
    return Error::Invalid("skill", "required", "is required when worker_selection is most_skilled");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto sl_s, IntIn(p, "service_level_threshold_s",
                                           kServiceLevelThresholdSDefault, 1, 86400));
  double sl_target = kServiceLevelTargetDefault;
  if (const Json* v = Member(p, "service_level_target"); v != nullptr) {
    if (!v->is_number() || v->get<double>() <= 0 || v->get<double>() > 1) {
      return Error::Invalid("service_level_target", "range", "must be above 0 and at most 1");
    }
    sl_target = v->get<double>();
  }
  OPSBOX_ASSIGN_OR_RETURN(auto cb, IntIn(p, "callback_offer_wait_s", 0, 0, 86400));
  OPSBOX_ASSIGN_OR_RETURN(auto rt, IntIn(p, "reservation_timeout_s", kReservationTimeoutSDefault,
                                         1, 3600));
  OPSBOX_ASSIGN_OR_RETURN(auto wu, IntIn(p, "wrap_up_s", kWrapUpSDefault, 0, 3600));
  Json e{{"queue_id", id},
         {"name", name},
         {"target_expression", expr},
         {"worker_selection", sel},
         {"skill", skill},
         {"service_level_threshold_s", sl_s},
         {"service_level_target", sl_target},
         {"callback_offer_wait_s", cb},
         {"reservation_timeout_s", rt},
         {"wrap_up_s", wu}};
  return One(kTaskQueueUpserted, e, Json{{"queue_id", id}});
}

Result<Decision> DecideUpsertWorkflow(const Json& p,
                                      const std::function<bool(std::string_view)>& queue_exists) {
  OPSBOX_TRY(CheckObjectKeys(p, {"workflow_id", "filters", "default_filter"}));
  OPSBOX_ASSIGN_OR_RETURN(auto id, Id(p, "workflow_id"));
  Json filters = p.value("filters", Json::array());
  if (!filters.is_array() || filters.size() > kFiltersMax) {
    return Error::Invalid("filters", "length",
                          "must be a list of at most " + std::to_string(kFiltersMax) + " filters");
  }
  for (size_t i = 0; i < filters.size(); ++i) {
    const std::string f = "filters[" + std::to_string(i) + "]";
    if (!filters[i].is_object()) return Error::Invalid(f, "type", "must be an object");
    OPSBOX_TRY(CheckObjectKeys(filters[i], {"name", "expression", "targets"}, f));
    OPSBOX_ASSIGN_OR_RETURN(auto name, Text(filters[i], "name", 200, "", f));
    OPSBOX_ASSIGN_OR_RETURN(auto expr,
                            Text(filters[i], "expression", kExpressionBytesMax, "", f));
    OPSBOX_TRY(Expression::Compile(expr, Path(f, "expression")));
    OPSBOX_TRY(CheckTargets(filters[i].value("targets", Json()), Path(f, "targets"),
                            queue_exists));
  }
  Json def = p.value("default_filter", Json());
  if (!def.is_null()) {
    if (!def.is_object()) return Error::Invalid("default_filter", "type", "must be an object");
    OPSBOX_TRY(CheckObjectKeys(def, {"targets"}, "default_filter"));
    OPSBOX_TRY(CheckTargets(def.value("targets", Json()), "default_filter.targets", queue_exists));
  }
  if (filters.empty() && def.is_null()) {
    return Error::Invalid("filters", "required", "a workflow needs a filter or a default filter");
  }
  return One(kWorkflowUpserted,
             Json{{"workflow_id", id}, {"filters", filters}, {"default_filter", def}},
             Json{{"workflow_id", id}});
}

Result<Decision> DecideCreateTask(
    const std::optional<TaskRow>& existing, const std::optional<WorkflowRow>& workflow,
    const std::function<std::optional<QueueRow>(std::string_view)>& queue, const Json& p,
    const Ids& ids, Instant now) {
  OPSBOX_TRY(CheckObjectKeys(p, {"task_id", "channel", "attributes", "priority", "timeout_s",
                                 "conversation_id", "customer_id", "queue_id",
                                 "sticky_worker_id", "sticky_timeout_s"}));
  OPSBOX_ASSIGN_OR_RETURN(auto task_id, Text(p, "task_id", kIdBytesMax, ids.task_id));
  if (existing) return State("exists", "task " + task_id + " already exists");
  OPSBOX_ASSIGN_OR_RETURN(auto channel, Id(p, "channel"));
  Json attributes = p.value("attributes", Json::object());
  if (!attributes.is_object()) return Error::Invalid("attributes", "type", "must be an object");
  OPSBOX_TRY(SizeOk(attributes, "attributes", kAttributesBytesMax));
  if (!attributes.contains("channel")) attributes["channel"] = channel;
  OPSBOX_ASSIGN_OR_RETURN(auto priority, IntIn(p, "priority", 0, 0, kPriorityMax));
  OPSBOX_ASSIGN_OR_RETURN(auto lifetime_s,
                          IntIn(p, "timeout_s", kTaskLifetimeSDefault, 1, kTaskLifetimeSMax));
  OPSBOX_ASSIGN_OR_RETURN(auto conversation, Text(p, "conversation_id", kIdBytesMax, ""));
  OPSBOX_ASSIGN_OR_RETURN(auto customer, Text(p, "customer_id", kIdBytesMax, ""));
  OPSBOX_ASSIGN_OR_RETURN(auto sticky, Text(p, "sticky_worker_id", kIdBytesMax, ""));
  OPSBOX_ASSIGN_OR_RETURN(auto sticky_s,
                          IntIn(p, "sticky_timeout_s", kStickySDefault, 1, kTargetTimeoutSMax));
  Json placement;
  std::string filter;
  if (const Json* q = Member(p, "queue_id"); q != nullptr) {
    OPSBOX_ASSIGN_OR_RETURN(auto qid, Id(p, "queue_id"));
    if (!queue(qid)) return Error::Invalid("queue_id", "exists", "queue " + qid + " does not exist");
    placement = Json{{"queue_id", qid}, {"target_index", 0}, {"priority", priority},
                     {"target_timeout_at_us", 0}, {"workflow_id", ""}, {"filter_index", -2}};
    filter = "direct";
  } else {
    if (!workflow) {
      return State("no_workflow", "the tenant has no workflow \"default\"; define one with PUT "
                                  "/routing/workflows/default or give queue_id");
    }
    OPSBOX_ASSIGN_OR_RETURN(auto matched, MatchWorkflow(*workflow, attributes));
    placement = Placement(matched.targets, 0, priority, now);
    placement["workflow_id"] = workflow->workflow_id;
    placement["filter_index"] = matched.filter_index;
    filter = matched.filter_name;
  }
  Json e{{"task_id", task_id},
         {"channel", channel},
         {"base_priority", priority},
         {"attributes", attributes},
         {"conversation_id", conversation},
         {"customer_id", customer},
         {"created_at_us", now.us},
         {"expires_at_us", now.us + lifetime_s * 1000000},
         {"filter", filter},
         {"sticky_worker_id", sticky},
         {"sticky_until_us", sticky.empty() ? 0 : now.us + sticky_s * 1000000}};
  for (auto& [k, v] : placement.items()) e[k] = v;
  return One(kTaskCreated, e, Json{{"task_id", task_id}, {"queue_id", e["queue_id"]}});
}

Result<Decision> DecideReserve(const ReserveInput& in, const Json& p, const Ids& ids,
                               Instant now) {
  OPSBOX_TRY(CheckObjectKeys(p, {"task_id", "worker_id", "reservation_id"}));
  OPSBOX_ASSIGN_OR_RETURN(auto task_id, Id(p, "task_id"));
  OPSBOX_ASSIGN_OR_RETURN(auto reservation_id,
                          Text(p, "reservation_id", kIdBytesMax, ids.reservation_id));
  OPSBOX_ASSIGN_OR_RETURN(auto worker_id, Id(p, "worker_id"));
  if (!in.task) return NotFound("task", task_id);
  if (!in.worker) return NotFound("worker", worker_id);
  const TaskRow& t = *in.task;
  const WorkerRow& w = *in.worker;
  if (t.status != "waiting") {
    return State("task_not_waiting", "task " + task_id + " is " + t.status + ", not waiting");
  }
  if (w.activity != "available") {
    return State("worker_not_available", "worker " + worker_id + " is " + w.activity);
  }
  auto cap = w.capacity.find(t.channel);
  const int64_t capacity = cap == w.capacity.end() ? 0 : cap->second;
  if (in.worker_load >= capacity) {
    return State("capacity", "worker " + worker_id + " has " + std::to_string(in.worker_load) +
                                 " of " + std::to_string(capacity) + " " + t.channel +
                                 " tasks");
  }
  if (!t.sticky_worker_id.empty() && t.sticky_until_us > now.us && t.sticky_worker_id != w.worker_id) {
    return State("sticky", "task " + task_id + " waits for worker " + t.sticky_worker_id);
  }
  const int64_t timeout_s = in.queue ? in.queue->reservation_timeout_s()
                                     : kReservationTimeoutSDefault;
  Json e{{"reservation_id", reservation_id},
         {"task_id", task_id},
         {"worker_id", worker_id},
         {"queue_id", t.queue_id},
         {"channel", t.channel},
         {"at_us", now.us},
         {"expires_at_us", now.us + timeout_s * 1000000}};
  return One(kReservationCreated, e, Json{{"reservation_id", reservation_id}, {"task_id", task_id}});
}

namespace {

Result<const ReservationRow*> PendingOf(const ReservationInput& in, std::string_view actor) {
  if (!in.reservation) return NotFound("reservation", "");
  const ReservationRow& r = *in.reservation;
  if (!actor.empty() && actor != r.worker_id) {
    return Error{ErrorCode::kPermissionDenied, "reservation_id", "owner",
                 "reservation " + r.reservation_id + " is offered to another worker"};
  }
  if (r.status != "pending") {
    return State("reservation_not_pending",
                 "reservation " + r.reservation_id + " is " + r.status + ", not pending");
  }
  OPSBOX_ASSERT(in.task.has_value());
  return &r;
}

Json ReservationEvent(const ReservationRow& r, Instant now) {
  return Json{{"reservation_id", r.reservation_id}, {"task_id", r.task_id},
              {"worker_id", r.worker_id},           {"queue_id", r.queue_id},
              {"at_us", now.us}};
}

}  // namespace

Result<Decision> DecideAccept(const ReservationInput& in, std::string_view actor, Instant now) {
  OPSBOX_ASSIGN_OR_RETURN(const ReservationRow* r, PendingOf(in, actor));
  if (now.us > r->expires_at_us) {
    return State("reservation_expired", "reservation " + r->reservation_id + " has expired");
  }
  Json e = ReservationEvent(*r, now);
  const int64_t wait_us = now.us - in.task->created_at_us;
  const int64_t sl_s = in.queue ? in.queue->sl_threshold_s() : kServiceLevelThresholdSDefault;
  e["wait_us"] = wait_us;
  e["in_service_level"] = wait_us <= sl_s * 1000000;
  return One(kReservationAccepted, e,
             Json{{"reservation_id", r->reservation_id}, {"task_id", r->task_id},
                  {"status", "accepted"}});
}

Result<Decision> DecideReject(const ReservationInput& in, std::string_view actor, const Json& p,
                              Instant now) {
  OPSBOX_ASSIGN_OR_RETURN(const ReservationRow* r, PendingOf(in, actor));
  OPSBOX_ASSIGN_OR_RETURN(auto reason, Text(p, "reason", 200, "rejected"));
  Json e = ReservationEvent(*r, now);
  e["reason"] = reason;
  return One(kReservationRejected, e,
             Json{{"reservation_id", r->reservation_id}, {"task_id", r->task_id},
                  {"status", "rejected"}});
}

Result<Decision> DecideExpireReservation(const ReservationInput& in, Instant now) {
  OPSBOX_ASSIGN_OR_RETURN(const ReservationRow* r, PendingOf(in, ""));
  if (now.us < r->expires_at_us) {
    return State("not_due", "reservation " + r->reservation_id + " has not expired yet");
  }
  OPSBOX_ASSERT(in.worker.has_value());
  const int64_t timeouts = in.worker->offer_timeouts + 1;
  Json e = ReservationEvent(*r, now);
  e["offer_timeouts"] = timeouts;
  Decision d = One(kReservationTimedOut, e,
                   Json{{"reservation_id", r->reservation_id}, {"status", "timeout"}});
  if (timeouts >= kOfferTimeoutsBeforeOffline && in.worker->activity == "available") {
    AddEvent(d, kWorkerActivityChanged,
             ActivityEvent(*in.worker, "offline", "offer_timeouts", now));
  }
  return d;
}

namespace {

Result<const TaskRow*> TaskOf(const TaskInput& in, std::string_view actor,
                              std::initializer_list<std::string_view> statuses) {
  if (!in.task) return NotFound("task", "");
  const TaskRow& t = *in.task;
  if (!actor.empty() && actor != t.worker_id) {
    return Error{ErrorCode::kPermissionDenied, "task_id", "owner",
                 "task " + t.task_id + " is not assigned to you"};
  }
  for (auto s : statuses) {
    if (t.status == s) return &t;
  }
  return State("task_status", "task " + t.task_id + " is " + t.status);
}

}  // namespace

Result<Decision> DecideComplete(const TaskInput& in, std::string_view actor, Instant now) {
  OPSBOX_ASSIGN_OR_RETURN(const TaskRow* t, TaskOf(in, actor, {"assigned"}));
  const int64_t wrap_s = in.queue ? in.queue->wrap_up_s() : kWrapUpSDefault;
  Decision d = One(kTaskCompleted,
                   Json{{"task_id", t->task_id},
                        {"worker_id", t->worker_id},
                        {"queue_id", t->queue_id},
                        {"at_us", now.us},
                        {"wrap_up_until_us", now.us + wrap_s * 1000000}},
                   Json{{"task_id", t->task_id}, {"status", "wrap_up"}});
  if (in.worker && in.worker->activity != "wrap_up" && in.worker->activity != "offline") {
    AddEvent(d, kWorkerActivityChanged, ActivityEvent(*in.worker, "wrap_up", "task_completed", now));
  }
  return d;
}

Result<Decision> DecideFinishWrapUp(const TaskInput& in, std::string_view actor, Instant now,
                                    bool system) {
  OPSBOX_ASSIGN_OR_RETURN(const TaskRow* t, TaskOf(in, actor, {"wrap_up"}));
  if (system && now.us < t->wrap_up_until_us) {
    return State("not_due", "the wrap-up of task " + t->task_id + " has not ended yet");
  }
  Decision d = One(kTaskWrappedUp,
                   Json{{"task_id", t->task_id}, {"worker_id", t->worker_id},
                        {"queue_id", t->queue_id}, {"at_us", now.us}},
                   Json{{"task_id", t->task_id}, {"status", "completed"}});
  if (in.worker && in.worker->activity == "wrap_up" && in.other_wrap_ups == 0) {
    AddEvent(d, kWorkerActivityChanged, ActivityEvent(*in.worker, "available", "wrap_up_done", now));
  }
  return d;
}

Result<Decision> DecideTransfer(const TransferInput& in, std::string_view actor, const Json& p,
                                Instant now) {
  OPSBOX_TRY(
      CheckObjectKeys(p, {"task_id", "queue_id", "to_worker_id", "worker_id", "sticky_timeout_s"}));
  OPSBOX_ASSIGN_OR_RETURN(const TaskRow* t,
                          TaskOf(in.task, actor, {"waiting", "reserved", "assigned"}));
  const bool to_queue = Member(p, "queue_id") != nullptr;
  const bool to_worker = Member(p, "to_worker_id") != nullptr;
  if (to_queue == to_worker) {
    return Error::Invalid("queue_id", "one_of", "give exactly one of queue_id and worker_id");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto sticky_s,
                          IntIn(p, "sticky_timeout_s", kStickySDefault, 1, kTargetTimeoutSMax));
  if (to_queue && !in.to_queue) return Error::Invalid("queue_id", "exists", "no such queue");
  if (to_worker && !in.to_worker) return Error::Invalid("worker_id", "exists", "no such worker");
  Decision d;
  if (t->status == "reserved" && in.task.reservation) {
    AddEvent(d, kReservationCancelled,
             Json{{"reservation_id", t->reservation_id}, {"task_id", t->task_id},
                  {"worker_id", t->worker_id}, {"reason", "transferred"}, {"at_us", now.us}});
  }
  Json e{{"task_id", t->task_id},
         {"from_worker_id", t->status == "assigned" ? t->worker_id : ""},
         {"from_queue_id", t->queue_id},
         {"queue_id", to_queue ? in.to_queue->queue_id : t->queue_id},
         {"target_index", -1},
         {"sticky_worker_id", to_worker ? in.to_worker->worker_id : ""},
         {"sticky_until_us", to_worker ? now.us + sticky_s * 1000000 : 0},
         {"at_us", now.us}};
  AddEvent(d, kTaskTransferred, e);
  d.result = Json{{"task_id", t->task_id}, {"status", "waiting"}, {"queue_id", e["queue_id"]}};
  // The transferring worker's part ends here; wrap-up after a transfer is not tracked.
  return d;
}

Result<Decision> DecideScheduleCallback(const TaskInput& in, const Json& p, Instant now) {
  OPSBOX_TRY(CheckObjectKeys(p, {"task_id", "at"}));
  OPSBOX_ASSIGN_OR_RETURN(const TaskRow* t, TaskOf(in, "", {"waiting", "reserved", "scheduled"}));
  OPSBOX_ASSIGN_OR_RETURN(auto at_text, Text(p, "at", 64, ""));
  if (at_text.empty()) return Error::Invalid("at", "required", "is required");
  OPSBOX_ASSIGN_OR_RETURN(auto at, ParseRfc3339(at_text, "at"));
  if (at.us <= now.us) return Error::Invalid("at", "future", "must be in the future");
  Decision d;
  if (t->status == "reserved") {
    AddEvent(d, kReservationCancelled,
             Json{{"reservation_id", t->reservation_id}, {"task_id", t->task_id},
                  {"worker_id", t->worker_id}, {"reason", "callback_scheduled"},
                  {"at_us", now.us}});
  }
  AddEvent(d, kCallbackScheduled,
           Json{{"task_id", t->task_id}, {"queue_id", t->queue_id}, {"scheduled_at_us", at.us},
                {"expires_at_us", std::max(t->expires_at_us, at.us + kCallbackLifetimeUs)},
                {"at_us", now.us}});
  d.result = Json{{"task_id", t->task_id}, {"status", "scheduled"},
                  {"scheduled_at", FormatRfc3339(at)}};
  return d;
}

Result<Decision> DecideReleaseCallback(const TaskInput& in, Instant now) {
  OPSBOX_ASSIGN_OR_RETURN(const TaskRow* t, TaskOf(in, "", {"scheduled"}));
  if (now.us < t->scheduled_at_us) return State("not_due", "the callback is not due yet");
  return One(kCallbackReleased, Json{{"task_id", t->task_id}, {"at_us", now.us}},
             Json{{"task_id", t->task_id}, {"status", "waiting"}});
}

Result<Decision> DecideEscalate(const TaskInput& in, const std::optional<WorkflowRow>& workflow,
                                const Json& p, Instant now) {
  OPSBOX_ASSIGN_OR_RETURN(const TaskRow* t, TaskOf(in, "", {"waiting"}));
  // Escalation on timeout must be due; the engine may also skip a target with no eligible
  // worker ("no_worker"), which needs no timeout.
  const std::string reason = p.value("reason", "timeout");
  if (reason == "timeout" && (t->target_timeout_at_us == 0 || now.us < t->target_timeout_at_us)) {
    return State("not_due", "task " + t->task_id + " has no target timeout due");
  }
  if (p.value("from_target_index", t->target_index) != t->target_index || t->target_index < 0 ||
      !workflow) {
    return State("stale", "task " + t->task_id + " is no longer on that target");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto matched, MatchWorkflow(*workflow, t->attributes));
  // The engine may skip targets that have no eligible worker: it names the target it chose.
  OPSBOX_ASSIGN_OR_RETURN(
      auto chosen, IntIn(p, "target_index", t->target_index + 1, t->target_index + 1,
                         static_cast<int64_t>(kTargetsMax)));
  const size_t next = static_cast<size_t>(chosen);
  Json e{{"task_id", t->task_id}, {"from_queue_id", t->queue_id}, {"reason", reason},
         {"at_us", now.us}};
  if (next >= matched.targets.size()) {
    // The last target keeps the task, without a timeout.
    e.update(Json{{"queue_id", t->queue_id}, {"target_index", t->target_index},
                  {"target_timeout_at_us", 0}, {"exhausted", true}});
  } else {
    e.update(Placement(matched.targets, next, t->priority, now));
    e["exhausted"] = false;
  }
  return One(kTaskEscalated, e, Json{{"task_id", t->task_id}, {"queue_id", e["queue_id"]}});
}

Result<Decision> DecideExpireSticky(const TaskInput& in, Instant now) {
  if (!in.task) return NotFound("task", "");
  const TaskRow& t = *in.task;
  if (t.sticky_worker_id.empty() || now.us < t.sticky_until_us || !t.Open()) {
    return State("not_due", "task " + t.task_id + " has no sticky worker to release");
  }
  return One(kTaskStickyExpired,
             Json{{"task_id", t.task_id}, {"worker_id", t.sticky_worker_id}, {"at_us", now.us}},
             Json{{"task_id", t.task_id}});
}

Result<Decision> DecideCancel(const TaskInput& in, const Json& p, Instant now,
                              std::string_view reason) {
  if (!in.task) return NotFound("task", "");
  const TaskRow& t = *in.task;
  if (!t.Open() || t.status == "wrap_up") {
    return State("task_status", "task " + t.task_id + " is " + t.status);
  }
  if (reason == "lifetime_expired" && now.us < t.expires_at_us) {
    return State("not_due", "task " + t.task_id + " has not expired");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto given, Text(p, "reason", 200, std::string(reason)));
  Decision d;
  if (t.status == "reserved") {
    AddEvent(d, kReservationCancelled,
             Json{{"reservation_id", t.reservation_id}, {"task_id", t.task_id},
                  {"worker_id", t.worker_id}, {"reason", "task_cancelled"}, {"at_us", now.us}});
  }
  AddEvent(d, kTaskCancelled,
           Json{{"task_id", t.task_id}, {"reason", given}, {"previous_status", t.status},
                {"queue_id", t.queue_id}, {"worker_id", t.worker_id}, {"at_us", now.us}});
  d.result = Json{{"task_id", t.task_id}, {"status", "cancelled"}};
  return d;
}

}  // namespace opsbox::routing::detail
