// Internal to the routing service: its shared state (service*.cpp only).
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ledger/writer.hpp"
#include "routing/engine.hpp"
#include "routing/service.hpp"

namespace opsbox::routing {

struct Service::State {
  State(store::Database& d, Clock& c, live::Hub* h, ServiceOptions o)
      : db(d), clock(c), hub(h), options(o) {}
  store::Database& db;
  Clock& clock;
  live::Hub* hub;
  ServiceOptions options;
  ledger::Writer* writer = nullptr;
  const Service* owner = nullptr;
  std::mutex stats_conn_mu;
  std::unique_ptr<store::Connection> stats_conn;  // the service thread's, for statistics

  mutable std::mutex mu;  // guards everything below
  std::condition_variable cv;
  std::map<std::string, Engine, std::less<>> engines;
  std::vector<ledger::Command> pending;      // commands to submit (intake hook, follow-ups)
  std::set<std::string> rebuild;             // tenants whose engine disagrees with the ledger
  std::set<std::string> stats_dirty;         // tenants whose queue statistics changed
  std::map<std::string, Json, std::less<>> last_stats;
  bool wake = false;
  bool stop = false;
  std::thread thread;

  // Waiting for RunPending's commands.
  std::mutex wait_mu;
  std::condition_variable wait_cv;
  size_t in_flight = 0;

  Engine& EngineOf(const std::string& tenant) { return engines[tenant]; }
  void OnCommitted(const std::vector<ledger::Event>& events);
  void Publish(const std::string& tenant, const ledger::Event& e, const Json& p, Engine& engine);
  std::vector<ledger::Command> Collect(Instant now);
  void Submit(std::vector<ledger::Command> commands, bool track);
  void Refused(const ledger::Command& cmd, const Error& error);
  void Rebuild(const std::set<std::string>& tenants);
  void PublishStats();
  void Run();
};

}  // namespace opsbox::routing
