// Retention (internal to privacy, api/privacy_api.cpp and the composition root): policies per
// tenant and record type, the run_retention decision, the projections, the queries, and the
// scheduler that runs retention for every tenant with a policy every kRetentionRunInterval.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock_fwd.hpp"
#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/event.hpp"
#include "ledger/registry.hpp"
#include "privacy/governance.hpp"
#include "store/store.hpp"

namespace opsbox::ledger {
class Writer;
}

namespace opsbox::privacy::detail {

struct RetentionTarget {
  std::string action;  // "crypto_shred" | "anonymise"
  Governance::ExpiredFinder finder;
};
using RetentionTargets = std::map<std::string, RetentionTarget, std::less<>>;

// Pure: validates set_retention_policy {record_type, retain_days, action} against the
// statutory minimums and the registered target's action (when one is registered).
Result<ledger::Decision> DecideRetentionPolicy(const Json& payload,
                                               const RetentionTargets& targets);

// Loads the tenant's policies, asks each target for expired ids and returns the events of
// run_retention {dry_run}. `run_id` is fresh.
Result<ledger::Decision> DecideRetentionRun(store::Tx& tx, const std::string& tenant,
                                            const Json& payload, const RetentionTargets& targets,
                                            Instant now, std::string run_id);

Status ProjectRetentionPolicy(store::Tx& tx, const ledger::Event& event);
Status ProjectRetentionRun(store::Tx& tx, const ledger::Event& event);

// {policies:[{record_type, retain_days, action, target_registered, updated_at, updated_by}]}
Result<Json> ListRetentionPolicies(store::Connection& conn, std::string_view tenant,
                                   const RetentionTargets& targets);
// {runs:[{run_id, dry_run, actor, at, items}]}, newest first.
Result<Json> ListRetentionRuns(store::Connection& conn, std::string_view tenant, size_t limit);
// Tenants that have at least one retention policy.
Result<std::vector<std::string>> TenantsWithRetentionPolicies(store::Connection& conn);

}  // namespace opsbox::privacy::detail

namespace opsbox::privacy {

// Submits run_retention {dry_run:false} as "system" for every tenant with a policy, once per
// `interval` (kRetentionRunInterval in production), on its own thread. The command id
// "retention:<tenant>:<interval number>" makes a run per interval idempotent across nodes.
// Start/Stop from the owner's thread; `db`, `writer` and `clock` must outlive it.
class RetentionScheduler {
 public:
  RetentionScheduler(store::Database& db, ledger::Writer& writer, Clock& clock, Duration interval);
  ~RetentionScheduler();
  RetentionScheduler(const RetentionScheduler&) = delete;
  RetentionScheduler& operator=(const RetentionScheduler&) = delete;

  void Start();
  void Stop();  // idempotent; waits for a run in progress
  // One pass over every tenant (the thread calls it; tests call it directly).
  Status RunOnce();

 private:
  void Run();
  store::Database& db_;
  ledger::Writer& writer_;
  Clock& clock_;
  Duration interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace opsbox::privacy
