// The ledger writer: one writer per tenant shard, group commit.
//
// Submit() queues a command. A shard thread takes every waiting command (up to batch_max),
// opens one transaction, and for each command in order: returns the recorded outcome when its
// command id was seen before; otherwise runs its handler, appends its events with the hash
// chain, runs projections and records the outcome. Then one commit (one fsync) and every
// command of the batch is answered. A failure inside the batch rolls it back and the
// commands are retried one transaction each, so one bad command cannot fail its neighbours.
// No command is answered before its events are durable. An exception thrown by module code
// (handler, projector, sealer, listener) is caught by the Registry and fails that command only
// (kInternal, rule "module_exception"); anything else that throws inside a batch rolls it back
// and answers its commands with an internal error; the shard thread keeps serving.
// Before every append the writer asserts that each tenant's new events continue its chain
// (contiguous seq, prev_hash equal to the previous event's hash).
//
// Several nodes on one PostgreSQL (options.cluster.enabled; cluster.hpp): a shard is written
// only while this node holds its advisory lock; Submit() hands commands of shards owned
// elsewhere to the cluster's Forwarder, SubmitLocal() refuses them (rule "not_shard_owner").
// Each commit then NOTIFYs the other nodes' followers.
//
// Thread safety: Submit() from any thread; callbacks run on the shard thread and must not
// block (post the answer to the caller's executor).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock_fwd.hpp"
#include "core/result.hpp"
#include "ledger/cluster.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox::ledger {

// Size limits (issue #9). A command whose canonical payload exceeds command_bytes_max is refused
// at Submit (kPayloadTooLarge, field "payload", rule "command_bytes_max"); one that decides an
// event whose canonical payload exceeds event_bytes_max is refused (rule "event_bytes_max"), as
// is one whose events alone exceed batch_bytes_max (rule "batch_bytes_max"). A batch stops
// taking commands once its events reach batch_bytes_max; the rest wait for the next batch.
inline constexpr size_t kCommandBytesMaxDefault = size_t{8} << 20;
inline constexpr size_t kEventBytesMaxDefault = size_t{8} << 20;  // wfm schedules reach 4 MiB
inline constexpr size_t kBatchBytesMaxDefault = size_t{32} << 20;

struct WriterOptions {
  int shards = 1;                    // tenant shards; capped at Database::WriterShardsMax()
  size_t batch_max = 512;            // commands per transaction at most
  size_t queue_depth_max = 100000;   // waiting commands at most; more answer kUnavailable
  size_t command_bytes_max = kCommandBytesMaxDefault;  // canonical payload of one command
  size_t event_bytes_max = kEventBytesMaxDefault;      // canonical payload of one event
  size_t batch_bytes_max = kBatchBytesMaxDefault;      // event payload bytes per transaction
  ClusterOptions cluster{};          // off: this process owns every shard
};

struct CommandOutcome {
  std::string command_id;
  Json result;
  Json once = Json::object();  // Decision::once on the first answer; empty when replayed
  int64_t first_seq = 0;  // 0 when the command appended nothing
  int64_t last_seq = 0;
  bool replayed = false;  // true when this is the recorded outcome of an earlier submission
};

using CommandCallback = std::function<void(Result<CommandOutcome>)>;

struct WriterStats {
  std::atomic<uint64_t> commands{0};
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> replayed{0};
  std::atomic<uint64_t> batch_size_sum{0};
  std::atomic<uint64_t> queue_depth{0};
  // Histogram of batch sizes: bucket i counts batches of size <= 2^i (i = 0..12), last +Inf.
  std::atomic<uint64_t> batch_size_buckets[14]{};
  std::atomic<uint64_t> batches_failed{0};   // whole batches rolled back (then retried one by one)
  std::atomic<uint64_t> forwarded{0};        // commands handed to the cluster's forwarder
  std::atomic<uint64_t> shards_acquired{0};  // shard take-overs by this node
  std::atomic<uint64_t> shards_released{0};
  std::atomic<uint64_t> shards_owned{0};
};

// The writer's batched idempotency lookup for one tenant and `ids` command ids (parameters:
// the tenant, then the ids). Public so that a test can check the databases search the primary
// key with it rather than scanning the command log.
std::string FindCommandsSql(size_t ids);

class Writer {
 public:
  Writer(store::Database& db, const Registry& registry, Clock& clock, Random& random,
         WriterOptions options);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Opens one connection per shard and starts the shard threads.
  Status Start();
  // Thread-safe. `done` is called exactly once.
  void Submit(Command command, CommandCallback done);
  // For commands forwarded by another node: never forwards again; a command whose shard this
  // node does not own answers kUnavailable with rule "not_shard_owner".
  void SubmitLocal(Command command, CommandCallback done);
  // Convenience for the CLI and tests: submits and waits.
  Result<CommandOutcome> SubmitAndWait(Command command);
  // Stops accepting (new submissions answer kUnavailable), commits and answers everything
  // already queued, joins the threads. Idempotent.
  void Stop();

  const WriterStats& stats() const { return stats_; }
  int shard_count() const;
  // Whether this node writes the tenant's shard now (always true without clustering).
  bool OwnsTenant(std::string_view tenant_id) const;
  bool OwnsShard(int shard) const;

 private:
  struct Shard;
  void Enqueue(Command command, CommandCallback done, bool local_only);
  void ForwardOrRefuse(Shard& shard, Command command, CommandCallback done, bool local_only);
  void RunShard(Shard& shard);
  void ApplyWant(Shard& shard);
  void Acquire(Shard& shard);
  void Release(Shard& shard);
  Status ConnectControl();
  void Balance();
  void RunBalancer();
  store::Database& db_;
  const Registry& registry_;
  Clock& clock_;
  Random& random_;
  WriterOptions options_;
  WriterStats stats_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> started_{false};
  // Clustering: the control connection holds this node's liveness lock; only the balancer
  // thread uses it after Start().
  std::unique_ptr<store::Connection> control_;
  std::thread balancer_;
  std::mutex balancer_mu_;
  std::condition_variable balancer_cv_;
};

}  // namespace opsbox::ledger
