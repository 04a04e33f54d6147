// The routing service's reads: workers, queues, tasks and "me" from the projections, and the
// queue statistics (live figures from the engine, cumulative ones since midnight UTC from
// routing_queue_days), published to the live hub when they changed.
#include <nlohmann/json.hpp>

#include "core/time.hpp"
#include "routing/service.hpp"
#include "routing/service_bridge.hpp"
#include "routing/service_state.hpp"

#if OPSBOX_ROUTING_WITH_LIVE
#include "live/hub.hpp"
#endif

namespace opsbox::routing {

namespace {

constexpr int64_t kDayUs = 86400LL * 1000000;

Result<Json> Rows(store::Connection& c, const std::string& sql, std::vector<store::Value> params,
                  Json (*view)(const store::Row&)) {
  OPSBOX_ASSIGN_OR_RETURN(auto rows, c.Query(sql, params));
  Json out = Json::array();
  for (const auto& r : rows) out.push_back(view(r));
  return out;
}

double Round(double v, double unit) { return static_cast<double>(std::llround(v / unit)) * unit; }

}  // namespace

Result<Json> Service::ListWorkers(store::Connection& c, std::string_view tenant, size_t limit,
                                  std::string_view after) const {
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, c.Query("SELECT worker_id FROM routing_workers WHERE tenant_id = ? AND "
                         "worker_id > ? ORDER BY worker_id LIMIT ?",
                         std::vector<store::Value>{std::string(tenant), std::string(after),
                                                   static_cast<int64_t>(limit)}));
  Json items = Json::array();
  for (const auto& r : rows) {
    OPSBOX_ASSIGN_OR_RETURN(auto w, detail::LoadWorker(c, tenant, r.Text(0)));
    if (w) items.push_back(detail::WorkerJson(*w));
  }
  Json out{{"items", items}};
  out["next_after"] = items.size() == limit && !items.empty() ? items.back()["worker_id"] : Json();
  return out;
}

Result<Json> Service::Me(store::Connection& c, std::string_view tenant,
                         std::string_view worker_id) const {
  OPSBOX_ASSIGN_OR_RETURN(auto w, detail::LoadWorker(c, tenant, worker_id));
  if (!w) {
    return Error::NotFound("you are not a routing worker in this tenant (PUT "
                           "/routing/workers/{worker_id} registers one)");
  }
  std::vector<store::Value> params{std::string(tenant), std::string(worker_id)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto res, c.Query("SELECT reservation_id FROM routing_reservations WHERE tenant_id = ? AND "
                        "worker_id = ? AND status = 'pending' ORDER BY created_at_us LIMIT 100",
                        params));
  Json reservations = Json::array();
  for (const auto& r : res) {
    OPSBOX_ASSIGN_OR_RETURN(auto rr, detail::LoadReservation(c, tenant, r.Text(0)));
    if (!rr) continue;
    Json j = detail::ReservationJson(*rr);
    OPSBOX_ASSIGN_OR_RETURN(auto t, detail::LoadTask(c, tenant, rr->task_id));
    if (t) j["task"] = detail::TaskJson(*t);
    reservations.push_back(j);
  }
  OPSBOX_ASSIGN_OR_RETURN(
      auto tasks, c.Query("SELECT task_id FROM routing_tasks WHERE tenant_id = ? AND worker_id = ? "
                          "AND status IN ('assigned', 'wrap_up') ORDER BY created_at_us LIMIT 100",
                          params));
  Json task_list = Json::array();
  for (const auto& r : tasks) {
    OPSBOX_ASSIGN_OR_RETURN(auto t, detail::LoadTask(c, tenant, r.Text(0)));
    if (t) task_list.push_back(detail::TaskJson(*t));
  }
  Json me = detail::WorkerJson(*w);
  return Json{{"worker", me}, {"activity", me["activity"]}, {"reservations", reservations},
              {"tasks", task_list}};
}

Result<Json> Service::ListQueues(store::Connection& c, std::string_view tenant) const {
  OPSBOX_ASSIGN_OR_RETURN(
      auto items, Rows(c, "SELECT config FROM routing_queues WHERE tenant_id = ? ORDER BY queue_id "
                          "LIMIT 10000",
                       {std::string(tenant)}, [](const store::Row& r) {
                         return Json::parse(r.Text(0), nullptr, false);
                       }));
  return Json{{"items", items}};
}

Result<Json> Service::GetTask(store::Connection& c, std::string_view tenant,
                              std::string_view task_id) const {
  OPSBOX_ASSIGN_OR_RETURN(auto t, detail::LoadTask(c, tenant, task_id));
  if (!t) return Error::NotFound("task " + std::string(task_id) + " does not exist");
  return detail::TaskJson(*t);
}

Result<std::string> Service::ReservationWorker(store::Connection& c, std::string_view tenant,
                                               std::string_view reservation_id) const {
  OPSBOX_ASSIGN_OR_RETURN(auto r, detail::LoadReservation(c, tenant, reservation_id));
  if (!r) {
    return Error::NotFound("reservation " + std::string(reservation_id) + " does not exist");
  }
  return r->worker_id;
}

Result<Json> Service::Stats(store::Connection& c, std::string_view tenant) const {
  const Instant now = s_->clock.Now();
  OPSBOX_ASSIGN_OR_RETURN(auto days, detail::LoadQueueDays(c, tenant, now.us / kDayUs));
  std::vector<QueueStats> live;
  {
    std::lock_guard lock(s_->mu);
    auto it = s_->engines.find(tenant);
    if (it != s_->engines.end()) live = it->second.AllStats(now);
  }
  Json queues = Json::array();
  for (const auto& q : live) {
    const detail::QueueDay d = days.count(q.queue_id) ? days[q.queue_id] : detail::QueueDay{};
    const int64_t denominator = d.answered + d.abandoned;
    const double sl = denominator == 0 ? 1.0
                                       : static_cast<double>(d.answered_in_sl) /
                                             static_cast<double>(denominator);
    const double asa = d.answered == 0 ? 0.0
                                       : static_cast<double>(d.answer_wait_us_sum) /
                                             static_cast<double>(d.answered) / 1e6;
    queues.push_back(Json{
        {"queue_id", q.queue_id},
        {"name", q.name.empty() ? q.queue_id : q.name},
        {"waiting", q.waiting},
        {"scheduled", q.scheduled},
        {"longest_wait_s", Round(q.longest_wait_s, 0.001)},
        {"service_level", Round(sl, 0.0001)},
        {"asa_s", Round(asa, 0.001)},
        {"abandoned", d.abandoned},
        {"offered", d.offered},
        {"answered", d.answered},
        {"estimated_wait_s", Round(q.estimated_wait_s, 0.001)},
        {"callback_offered", q.callback_offered},
        {"agents",
         Json{{"available", q.agents_available}, {"busy", q.agents_busy},
              {"wrap_up", q.agents_wrap_up}, {"break", q.agents_break},
              {"offline", q.agents_offline}}}});
  }
  return Json{{"type", "queue_stats"}, {"at", FormatRfc3339(now)}, {"queues", queues}};
}

void Service::State::PublishStats() {
  std::set<std::string> tenants;
  {
    std::lock_guard lock(mu);
    tenants.swap(stats_dirty);
  }
  if (tenants.empty()) return;
  std::lock_guard conn_lock(stats_conn_mu);
  if (!stats_conn) {
    auto c = db.Connect();
    if (!c.ok()) return;
    stats_conn = std::move(*c);
  }
  for (const auto& tenant : tenants) {
    auto stats = owner->Stats(*stats_conn, tenant);
    if (!stats.ok()) {
      stats_conn.reset();  // reconnect next time
      return;
    }
    {
      std::lock_guard lock(mu);
      last_stats.insert_or_assign(tenant, *stats);
    }
#if OPSBOX_ROUTING_WITH_LIVE
    if (hub != nullptr) hub->Publish(tenant, "queue_stats", *stats);
#endif
  }
}

Json Service::EngineSnapshot(std::string_view tenant) const {
  std::lock_guard lock(s_->mu);
  auto it = s_->engines.find(tenant);
  if (it == s_->engines.end()) return Json{{"tasks", Json::array()}, {"workers", Json::array()}};
  return detail::EngineJson(it->second);
}

}  // namespace opsbox::routing
