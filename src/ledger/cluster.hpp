// Several opsbox nodes on one PostgreSQL (issue #20 item 7; docs/operations.md "Several nodes on
// one PostgreSQL"; docs/decisions/0013-writer-shards-across-nodes.md).
//
// Shards. A tenant's commands are written by writer shard ShardOf(tenant, shards): FNV-1a
// (64-bit) over the tenant id's bytes, modulo the shard count. It is defined here rather than
// with std::hash because every node must compute the same shard, whatever its build or its
// standard library. Every node of one database must run with the same database.writer_shards;
// a node whose count differs from the one the owners recorded refuses to start.
//
// Ownership. On PostgreSQL with clustering on (cluster.advertise_url set), a shard is written
// only by the node that holds the session-level advisory lock (kShardLockSpace, shard) on that
// shard's own writer connection: the lock and the only connection that writes the shard are
// one session, so a node whose connection drops or whose process dies loses the lock at the
// same moment it loses the ability to write. Each node also holds (kNodeLockSpace, random key)
// on a control connection; the number of such locks is the number of live nodes. Every
// rebalance interval each node aims at ceil(shards / live nodes) shards: it takes free shards
// while below that (try-lock, never waits) and gives back its highest shards while above it,
// between batches. A node that takes a shard first delivers to its listeners every event the
// previous owner appended (Follower::CatchUp), reloads the chain heads from the database, and
// records itself in ledger_shard_owners; then it writes.
//
// Forwarding. A command for a shard owned elsewhere is handed to the Forwarder, which sends it
// to the owner's advertise_url (app/cluster_forwarder.cpp) and answers it with the owner's
// outcome. A node that receives a forwarded command for a shard it no longer owns answers
// kUnavailable with rule "not_shard_owner"; the forwarder looks the owner up again and retries
// until cluster.forward_timeout_ms.
//
// Following. Each commit of a clustered writer NOTIFYs channel kLedgerChannel with one line
// "<tenant> <last seq>" per tenant it touched (inside the transaction, so only on commit). The
// Follower on every node LISTENs, reads the events after its cursor for tenants whose shard it
// does not own, and hands them to the Registry's committed listeners, as its own writer does
// for its own commits: the routing engine, live streams, identity's caches follow the whole
// ledger on every node. A missed notification (the LISTEN connection dropped) is caught up by
// sequence: on reconnect, every catch-up interval and on every shard take-over, the follower
// compares each tenant's head with its cursor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/registry.hpp"
#include "store/cluster.hpp"
#include "store/store.hpp"

namespace opsbox::ledger {

struct CommandOutcome;
class Writer;

inline constexpr int32_t kShardLockSpace = 0x6f70;  // advisory lock space of writer shards
inline constexpr int32_t kNodeLockSpace = 0x6f71;   // advisory lock space of live nodes
inline constexpr std::string_view kLedgerChannel = "opsbox_ledger";

// The writer shard of `tenant_id`: FNV-1a 64 of its bytes, modulo `shards` (> 0).
int ShardOf(std::string_view tenant_id, int shards);

// Sends commands to the node that owns their shard. Implementations must be thread-safe and
// answer every command exactly once, never on the caller's stack while it holds a writer lock
// (post the work).
class Forwarder {
 public:
  virtual ~Forwarder() = default;
  virtual void Forward(int shard, Command command,
                       std::function<void(Result<CommandOutcome>)> done) = 0;
};

struct ClusterOptions {
  bool enabled = false;        // PostgreSQL only
  std::string node_id;         // unique per running process ("node_…")
  std::string advertise_url;   // http://host:port where the other nodes reach this node
  int64_t rebalance_interval_ms = 1000;
  Forwarder* forwarder = nullptr;  // null: commands for shards owned elsewhere answer 503
  // Runs on the shard thread after this node took `shard` and before it writes to it.
  std::function<void(int shard)> on_shard_acquired;
};

// The wire form of forwarded commands and their outcomes (POST /internal/v1/ledger/commands;
// api/cluster_api.cpp). Commands: {tenant_id, command_id, type, actor, payload}. Outcomes:
// {ok:true, command_id, result, once, first_seq, last_seq, replayed} or {ok:false, error:{code,
// field, rule, message}} with code the name of an ErrorCode ("unavailable", …).
inline constexpr std::string_view kForwardPath = "/internal/v1/ledger/commands";
inline constexpr std::string_view kForwardSignatureHeader = "opsbox-cluster-signature";
inline constexpr size_t kForwardCommandsMax = 256;  // commands per forwarded request
Json CommandToWire(const Command& c);
Result<Command> CommandFromWire(const Json& j);
Json OutcomeToWire(const Result<CommandOutcome>& r);
Result<CommandOutcome> OutcomeFromWire(const Json& j);

// The owner a node recorded for `shard` in ledger_shard_owners; "" when none did.
Result<std::string> ShardOwnerUrl(store::Connection& conn, int shard);

struct FollowerOptions {
  int64_t catch_up_interval_ms = 5000;  // full comparison of heads and cursors at least this often
  int64_t wait_ms_max = 500;            // longest wait for a notification before checking stop
  size_t events_per_read_max = 1000;    // events read and delivered per query
};

// Delivers other nodes' appends to this node's committed listeners (see the header comment).
// Thread-safe: Advance() runs on writer threads, CatchUp() on a shard thread, the rest on the
// composition root's thread; deliveries of one tenant never overlap and keep seq order.
class Follower {
 public:
  // `owned_here(tenant)`: whether this node's writer owns the tenant's shard right now (its
  // own commits reach the listeners directly). `listen` opens a session LISTENing on
  // kLedgerChannel (store::OpenPostgresListener). `db` and `registry` must outlive Stop().
  using ListenerFactory = std::function<Result<std::unique_ptr<store::Listener>>()>;
  Follower(store::Database& db, const Registry& registry, ListenerFactory listen,
           std::function<bool(std::string_view tenant)> owned_here, FollowerOptions options = {});
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Sets every tenant's cursor to its current head (what projections already reflect), then
  // LISTENs and starts the follower thread. Call before modules load their state.
  Status Start();
  void Stop();  // idempotent

  // The committed listener of this node's writer: moves cursors past its own appends.
  void Advance(const std::vector<Event>& events);
  // Delivers everything after the cursors of the tenants `select` accepts, up to their heads.
  Status CatchUp(const std::function<bool(std::string_view tenant)>& select);

  uint64_t events_delivered() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace opsbox::ledger
