// The routing service: registration on the ledger, the engines that follow committed events,
// the service thread that turns the engines' decisions into system commands, and live updates.
#include "routing/service.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/time.hpp"
#include "ledger/writer.hpp"
#include "routing/service_bridge.hpp"
#include "routing/service_state.hpp"
#if OPSBOX_ROUTING_WITH_LIVE
#include "live/hub.hpp"
#endif

namespace opsbox::routing {

namespace {

bool IsRoutingEvent(std::string_view type) {
  for (auto t : detail::EventTypes()) {
    if (t == type) return true;
  }
  return false;
}

ledger::Command TaskForConversation(const ledger::Event& e, const Json& p) {
  const std::string conversation = p.value("conversation_id", "");
  const std::string channel = p.value("channel", "");
  Json attributes{{"type", "conversation"},
                  {"channel", channel},
                  {"conversation_id", conversation},
                  {"customer_id", p.value("customer_id", "")}};
  if (p.contains("language") && p["language"].is_string()) attributes["language"] = p["language"];
  if (p.contains("intent") && p["intent"].is_string()) {  // issue #12: intake's classification
    attributes["intent"] = p["intent"];
    if (p.contains("intent_confidence_bp") && p["intent_confidence_bp"].is_number_integer()) {
      attributes["intent_confidence_bp"] = p["intent_confidence_bp"];
    }
    if (p.contains("automation_boundary") && p["automation_boundary"].is_string()) {
      attributes["automation_boundary"] = p["automation_boundary"];
      attributes["automation_policy_version"] = p.value("automation_policy_version", 0);
    }
  }
  return ledger::Command{e.tenant_id,
                         "task:" + conversation + ":" + std::to_string(e.seq),
                         std::string(kCreateTask),
                         "system",
                         Json{{"channel", channel},
                              {"attributes", attributes},
                              {"conversation_id", conversation},
                              {"customer_id", p.value("customer_id", "")}}};
}

ledger::Command TaskForHandoff(const ledger::Event& e, const Json& p) {
  const std::string session = p.value("session_id", "");
  Json attributes{{"type", "automation_handoff"},
                  {"session_id", session},
                  {"intent", p.value("intent", "")},
                  {"confidence_bp", p.value("confidence_bp", int64_t{-1})},
                  {"automation_boundary", p.value("boundary", "")},
                  {"automation_policy_version", p.value("policy_version", int64_t{0})},
                  {"authentication_status", p.value("authentication_status", "")},
                  {"outcome", p.value("outcome", "")},
                  {"reason", p.value("reason", "")}};
  Json task{{"task_id", p.value("task_id", "")},
            {"channel", p.value("channel", "")},
            {"attributes", attributes}};
  for (const char* key : {"customer_id", "conversation_id"}) {
    if (!p.value(key, "").empty()) task[key] = p[key];
  }
  return ledger::Command{e.tenant_id, "task:handoff:" + session, std::string(kCreateTask),
                         "system", std::move(task)};
}

}  // namespace

void Service::State::OnCommitted(const std::vector<ledger::Event>& events) {
  bool any = false;
  std::lock_guard lock(mu);
  for (const auto& e : events) {
    const bool routing = IsRoutingEvent(e.type);
    if (!routing && e.type != kConversationOpened && e.type != kAutomationHandedOff) continue;
    Json p = Json::parse(e.payload, nullptr, false);
    if (!p.is_object()) continue;
    any = true;
    if (!routing) {
      pending.push_back(e.type == kAutomationHandedOff ? TaskForHandoff(e, p)
                                                       : TaskForConversation(e, p));
      continue;
    }
    Engine& engine = EngineOf(e.tenant_id);
    if (!detail::ApplyEvent(engine, e, p, pending)) rebuild.insert(e.tenant_id);
    stats_dirty.insert(e.tenant_id);
    Publish(e.tenant_id, e, p, engine);
  }
  if (any) {
    wake = true;
    cv.notify_all();
  }
}

void Service::State::Publish(const std::string& tenant, const ledger::Event& e, const Json& p,
                             Engine& engine) {
#if OPSBOX_ROUTING_WITH_LIVE
  if (hub == nullptr) return;
  if (e.type == kWorkerActivityChanged) {
    hub->Publish(tenant, "agent_activities",
                 Json{{"type", "agent_activity"},
                      {"worker_id", p.value("worker_id", "")},
                      {"name", p.value("name", "")},
                      {"activity", p.value("activity", "")},
                      {"since", FormatRfc3339(Instant{p.value("at_us", int64_t{0})})}});
    return;
  }
  static const std::map<std::string_view, std::string_view> kStatus = {
      {kReservationCreated, "pending"},   {kReservationAccepted, "accepted"},
      {kReservationRejected, "rejected"}, {kReservationTimedOut, "timeout"},
      {kReservationCancelled, "cancelled"}};
  auto status = kStatus.find(e.type);
  if (status == kStatus.end()) return;
  const std::string worker = p.value("worker_id", "");
  const std::string topic = "reservations/" + worker;
  if (!hub->HasSubscribers(tenant, topic)) return;
  Json task{{"task_id", p.value("task_id", "")}, {"queue_id", p.value("queue_id", "")}};
  if (auto t = engine.FindTask(task["task_id"].get<std::string>())) {
    task["channel"] = t->channel;
    task["attributes"] = t->attributes;
    task["conversation_id"] = t->attributes.value("conversation_id", "");
    task["customer_id"] = t->attributes.value("customer_id", "");
  }
  const int64_t expires = p.value("expires_at_us", int64_t{0});
  hub->Publish(tenant, topic,
               Json{{"type", "reservation"},
                    {"reservation_id", p.value("reservation_id", "")},
                    {"task_id", p.value("task_id", "")},
                    {"status", status->second},
                    {"expires_at", expires == 0 ? Json() : Json(FormatRfc3339(Instant{expires}))},
                    {"task", task}});
#else
  (void)tenant, (void)e, (void)p, (void)engine;
#endif
}

std::vector<ledger::Command> Service::State::Collect(Instant now) {
  std::vector<ledger::Command> out;
  std::set<std::string> broken;
  {
    std::lock_guard lock(mu);
    out.swap(pending);
    broken.swap(rebuild);
    wake = false;
  }
  if (!broken.empty()) Rebuild(broken);
  std::lock_guard lock(mu);
  for (auto& [tenant, engine] : engines) {
    // With several nodes, only the node that writes the tenant's shard decides for it; the
    // others' engines follow the ledger (ledger/cluster.hpp).
    if (writer != nullptr && !writer->OwnsTenant(tenant)) continue;
    Decisions d = engine.Tick(now);
    d.Append(engine.Dispatch(now, options.offers_per_round_max));
    detail::DecisionsToCommands(tenant, d, now, out);
  }
  return out;
}

void Service::State::Refused(const ledger::Command& cmd, const Error& error) {
  if (error.code == ErrorCode::kUnavailable) return;  // shutting down: the restart restores
  std::lock_guard lock(mu);
  if (cmd.type == kReserveTask) {
    // A stale offer: the engine withdraws it and the task keeps its place.
    auto it = engines.find(cmd.tenant_id);
    const std::string id = detail::EngineReservationId(cmd.payload.value("reservation_id", ""));
    if (it != engines.end() && it->second.FindReservation(id)) {
      (void)it->second.CancelReservation(id, clock.Now());
    }
  } else if (cmd.type != kCreateTask) {
    rebuild.insert(cmd.tenant_id);
  }
  if (cmd.type == kCreateTask || error.code == ErrorCode::kInternal) {
    spdlog::warn("routing: {} {} refused: {}", cmd.type, cmd.command_id, error.ToString());
  }
  wake = true;
  cv.notify_all();
}

void Service::State::Submit(std::vector<ledger::Command> commands, bool track) {
  if (track) {
    std::lock_guard lock(wait_mu);
    in_flight += commands.size();
  }
  for (auto& cmd : commands) {
    ledger::Command copy = cmd;
    writer->Submit(std::move(cmd), [this, copy = std::move(copy),
                                    track](Result<ledger::CommandOutcome> r) {
      if (!r.ok()) Refused(copy, r.error());
      if (!track) return;
      std::lock_guard lock(wait_mu);
      if (--in_flight == 0) wait_cv.notify_all();
    });
  }
}

void Service::State::Rebuild(const std::set<std::string>& tenants) {
  auto conn = db.Connect();
  if (!conn.ok()) return spdlog::error("routing: rebuild: {}", conn.error().ToString());
  auto all = detail::LoadAll(**conn);
  if (!all.ok()) return spdlog::error("routing: rebuild: {}", all.error().ToString());
  std::lock_guard lock(mu);
  for (const auto& snap : *all) {
    if (!tenants.contains(snap.tenant_id)) continue;
    auto engine = detail::BuildEngine(snap);
    if (!engine.ok()) {
      spdlog::error("routing: rebuild of tenant {}: {}", snap.tenant_id,
                    engine.error().ToString());
      continue;
    }
    spdlog::info("routing: engine of tenant {} rebuilt from the projections", snap.tenant_id);
    engines.insert_or_assign(snap.tenant_id, std::move(*engine));
  }
}

Service::Service(store::Database& db, Clock& clock, live::Hub* hub, ServiceOptions options)
    : s_(std::make_unique<State>(db, clock, hub, options)) {
  s_->owner = this;
}

Service::~Service() { Stop(); }

void Service::Register(ledger::Registry& registry) {
  detail::RegisterCommands(registry);
  detail::RegisterProjectors(registry);
  registry.AddCommittedListener(
      [s = s_.get()](const std::vector<ledger::Event>& events) { s->OnCommitted(events); });
}

Status Service::Start(ledger::Writer& writer) {
  s_->writer = &writer;
  OPSBOX_ASSIGN_OR_RETURN(auto conn, s_->db.Connect());
  OPSBOX_ASSIGN_OR_RETURN(auto all, detail::LoadAll(*conn));
  {
    std::lock_guard lock(s_->mu);
    for (const auto& snap : all) {
      OPSBOX_ASSIGN_OR_RETURN(auto engine, detail::BuildEngine(snap));
      s_->engines.insert_or_assign(snap.tenant_id, std::move(engine));
      s_->stats_dirty.insert(snap.tenant_id);
    }
    s_->wake = true;
  }
#if OPSBOX_ROUTING_WITH_LIVE
  if (s_->hub != nullptr) {
    s_->hub->SetSnapshot("queue_stats", [this](std::string_view tenant, std::string_view)
                                            -> std::optional<Json> {
      {
        std::lock_guard lock(s_->mu);
        auto it = s_->last_stats.find(tenant);
        if (it != s_->last_stats.end()) return it->second;
      }
      auto c = s_->db.Connect();
      if (!c.ok()) return std::nullopt;
      auto stats = Stats(**c, tenant);
      if (!stats.ok()) return std::nullopt;
      return *stats;
    });
  }
#endif
  if (s_->options.run_threads) s_->thread = std::thread([s = s_.get()] { s->Run(); });
  return Ok();
}

void Service::Stop() {
  {
    std::lock_guard lock(s_->mu);
    if (s_->stop) return;
    s_->stop = true;
  }
  s_->cv.notify_all();
  if (s_->thread.joinable()) s_->thread.join();
}

size_t Service::RunPending() {
  size_t total = 0;
  for (int round = 0; round < 16; ++round) {
    auto commands = s_->Collect(s_->clock.Now());
    if (commands.empty()) break;
    total += commands.size();
    s_->Submit(std::move(commands), true);
    std::unique_lock lock(s_->wait_mu);
    s_->wait_cv.wait(lock, [&] { return s_->in_flight == 0; });
  }
  s_->PublishStats();
  return total;
}

void Service::State::Run() {
  using Steady = std::chrono::steady_clock;
  auto next_stats = Steady::now();
  for (;;) {
    Submit(Collect(clock.Now()), false);
    if (Steady::now() >= next_stats) {
      PublishStats();
      next_stats = Steady::now() + std::chrono::milliseconds(options.stats_interval_ms);
    }
    std::unique_lock lock(mu);
    auto sleep = std::chrono::milliseconds(options.timer_interval_ms_max);
    const Instant now = clock.Now();
    for (const auto& [tenant, engine] : engines) {
      if (auto d = engine.NextDeadline()) {
        sleep = std::min<std::chrono::milliseconds>(
            sleep, std::chrono::milliseconds(std::max<int64_t>(0, (*d - now).us / 1000 + 1)));
      }
    }
    if (!stats_dirty.empty()) {
      sleep = std::min<std::chrono::milliseconds>(
          sleep, std::chrono::duration_cast<std::chrono::milliseconds>(next_stats -
                                                                       Steady::now()) +
                     std::chrono::milliseconds(1));
    }
    cv.wait_for(lock, sleep, [&] { return stop || wake; });
    if (stop) return;
  }
}

}  // namespace opsbox::routing
