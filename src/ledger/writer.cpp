#include "ledger/writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "core/assert.hpp"
#include "core/ids.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "store/cluster.hpp"

namespace opsbox::ledger {
namespace {

constexpr std::string_view kInsertEvent =
    "INSERT INTO ledger_events (tenant_id, seq, event_id, recorded_at_us, actor, command_id, "
    "type, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kInsertCommand =
    "INSERT INTO ledger_commands (tenant_id, command_id, command_type, request_hash, result, "
    "first_seq, last_seq, recorded_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
// The recorded outcomes of a batch's command ids, one query per tenant and kPrefetchKeysMax ids
// (issue #20 item 2). `tenant_id = ? AND command_id IN (…)` searches the primary key; a row
// value list `(tenant_id, command_id) IN ((?, ?), …)` made SQLite 3.40 scan the whole command
// log once per batch (found with callgrind: half of the writer's instructions, growing with the
// ledger). Sizes are powers of two, padded by repeating the last id, so that a connection
// prepares at most a handful of these statements.
constexpr size_t kPrefetchKeysMax = 128;

}  // namespace

std::string FindCommandsSql(size_t ids) {
  std::string sql =
      "SELECT tenant_id, command_id, request_hash, result, first_seq, last_seq, command_type "
      "FROM ledger_commands WHERE tenant_id = ? AND command_id IN (";
  for (size_t i = 0; i < ids; ++i) sql += i == 0 ? "?" : ", ?";
  return sql + ")";
}

namespace {

// A retried command's events, for a result that is rebuilt from them (Registry::RebuildResult).
const std::string kCommandEvents = "SELECT " + std::string(kEventColumns) +
                                   " FROM ledger_events WHERE tenant_id = ? AND seq >= ? AND "
                                   "seq <= ? ORDER BY seq";
constexpr std::string_view kChainHead =
    "SELECT seq, hash, recorded_at_us FROM ledger_events WHERE tenant_id = ? "
    "ORDER BY seq DESC LIMIT 1";

constexpr std::string_view kRecordShardOwner =
    "INSERT INTO ledger_shard_owners (shard, shards, node_id, advertise_url, since_us) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (shard) DO UPDATE SET shards = excluded.shards, "
    "node_id = excluded.node_id, advertise_url = excluded.advertise_url, "
    "since_us = excluded.since_us";

struct Pending {
  Command command;
  CommandCallback done;
  std::string request_hash;  // computed on the submitting thread
  bool local_only = false;   // forwarded here by another node: never forward again
};

// What the shard thread should do about ownership between two batches.
enum class Want { kNothing, kAcquire, kRelease };

// The tip of one tenant's hash chain.
struct Head {
  int64_t seq = 0;
  std::string hash{kGenesisHash};
  int64_t recorded_at_us = 0;
};

// A recorded outcome kept for commands repeated inside the same batch.
struct Recorded {
  std::string request_hash;
  CommandOutcome outcome;
  // Stored without its result (issue #20 item 5): rebuilt from the command's events by the
  // registry's rebuilder for `command_type` when the command is retried.
  std::string command_type{};
  bool rebuild = false;
};

struct Hashed {
  std::string request_hash;
  size_t payload_bytes = 0;
};

Result<Hashed> RequestHash(const Command& c) {
  OPSBOX_ASSIGN_OR_RETURN(auto payload, TryCanonicalJson(c.payload, "payload"));
  return Hashed{HexEncode(Sha256(c.type + "\n" + payload)), payload.size()};
}

std::string Bytes(size_t n) { return std::to_string(n) + " bytes"; }

// Errors that mean the transaction itself is in doubt, as opposed to a command's own rejection.
bool IsStoreFailure(const Error& e) {
  return e.code == ErrorCode::kInternal || e.code == ErrorCode::kUnavailable;
}

}  // namespace

// Answers committed commands on a thread of its own, so building responses overlaps the
// writer's next batch instead of delaying it. One per shard; answers keep their order.
class Completer {
 public:
  using Answer = std::pair<CommandCallback, Result<CommandOutcome>>;
  Completer() : thread_([this] { Run(); }) {}
  ~Completer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void Post(std::vector<Answer> answers) {
    {
      std::lock_guard lock(mu_);
      for (auto& a : answers) queue_.push_back(std::move(a));
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    std::vector<Answer> work;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        while (!queue_.empty()) {
          work.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      for (auto& [done, result] : work) {
        // A caller's callback that throws must not stop the answers of the others.
        try {
          done(std::move(result));
        } catch (const std::exception& e) {
          spdlog::error("ledger: a command callback threw: {}", e.what());
        } catch (...) {
          spdlog::error("ledger: a command callback threw");
        }
      }
      work.clear();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Answer> queue_;
  bool stop_ = false;
  std::thread thread_;
};

struct Writer::Shard {
  int index = 0;
  std::unique_ptr<Completer> completer;
  std::unique_ptr<store::Connection> conn;
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Pending> queue;
  bool stop = false;
  // Clustering (cluster.hpp): `owned` is written by the shard thread under `mu`; `want` by
  // the balancer under `mu`.
  std::atomic<bool> owned{true};
  Want want = Want::kNothing;
  std::unordered_map<std::string, Head> heads;  // only the shard thread touches it
};

// Everything one batch accumulates before its commit.
struct BatchState {
  std::vector<std::vector<store::Value>> event_rows;
  std::vector<std::vector<store::Value>> command_rows;
  std::vector<Event> events;
  std::unordered_map<std::string, Recorded> seen;  // tenant + '\n' + command id
  // Outcomes recorded before this batch, for the batch's command ids (same key as `seen`).
  std::unordered_map<std::string, Recorded> stored;
  std::unordered_map<std::string, Head> heads_before;
  size_t event_bytes = 0;  // canonical payload bytes of `events`
};

// Pair check before the append (STYLE.md house rule 5): per tenant, the batch's events continue
// the chain head they started from, with contiguous seq and linked hashes.
void AssertChainContinues(const BatchState& batch) {
  std::unordered_map<std::string, Head> tip = batch.heads_before;
  for (const auto& e : batch.events) {
    auto it = tip.find(e.tenant_id);
    OPSBOX_ASSERT_MSG(it != tip.end(), "appended event of a tenant without a chain head");
    OPSBOX_ASSERT_MSG(e.seq == it->second.seq + 1, "ledger seq is not contiguous");
    OPSBOX_ASSERT_MSG(e.prev_hash == it->second.hash, "prev_hash does not match the chain");
    it->second.seq = e.seq;
    it->second.hash = e.hash;
  }
}

namespace {

// Decides and appends one command. Sets *dirty when it failed after writing into `tx`, so the
// transaction can no longer be committed as it is.
Result<CommandOutcome> ApplyOne(store::Tx& tx, const Registry& registry, Random& random,
                                const WriterOptions& options, Instant now,
                                std::unordered_map<std::string, Head>& heads,
                                BatchState& batch, const Command& cmd,
                                const std::string& request_hash, bool* dirty) {
  const std::string seen_key = cmd.tenant_id + '\n' + cmd.command_id;
  auto replay = [&](const Recorded& recorded) -> Result<CommandOutcome> {
    if (recorded.request_hash != request_hash) {
      return Error{ErrorCode::kConflict, "Idempotency-Key", "idempotency_key_reused",
                   "command id " + cmd.command_id + " was already used for a different request"};
    }
    CommandOutcome outcome = recorded.outcome;
    if (recorded.rebuild) {
      const store::Value p[] = {cmd.tenant_id, outcome.first_seq, outcome.last_seq};
      OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query(kCommandEvents, p));
      std::vector<Event> events;
      events.reserve(rows.size());
      for (const auto& row : rows) events.push_back(EventFromRow(row));
      OPSBOX_ASSIGN_OR_RETURN(outcome.result,
                              registry.RebuildResult(recorded.command_type, events));
    }
    outcome.replayed = true;
    outcome.once = Json::object();
    return outcome;
  };
  if (auto it = batch.seen.find(seen_key); it != batch.seen.end()) return replay(it->second);
  if (auto it = batch.stored.find(seen_key); it != batch.stored.end()) return replay(it->second);
  OPSBOX_ASSIGN_OR_RETURN(Decision decision, registry.Decide(tx, cmd, now, random));
  CommandOutcome outcome{cmd.command_id, std::move(decision.result), std::move(decision.once),
                         0, 0, false};
  if (decision.events.empty()) return outcome;

  auto head_it = heads.find(cmd.tenant_id);
  if (head_it == heads.end()) {
    store::Value p[] = {cmd.tenant_id};
    OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query(kChainHead, p));
    Head h;
    if (!rows.empty()) h = Head{rows[0].Int(0), rows[0].Text(1), rows[0].Int(2)};
    head_it = heads.emplace(cmd.tenant_id, std::move(h)).first;
  }
  Head& head = head_it->second;
  batch.heads_before.try_emplace(cmd.tenant_id, head);
  outcome.first_seq = head.seq + 1;
  size_t command_event_bytes = 0;
  for (auto& ne : decision.events) {
    if (!registry.KnowsEvent(ne.type)) {
      *dirty = true;  // earlier events of this command may have been projected
      return Error{ErrorCode::kInternal, "type", "undeclared_event",
                   "event type " + ne.type + " is not declared in the registry"};
    }
    // Sealing may create the subject's key in `tx`, so a failure here dirties the batch.
    Json clear;  // the payload projectors see when the event has secret fields
    if (Status sealed = registry.Seal(tx, cmd.tenant_id, ne, &clear); !sealed.ok()) {
      *dirty = true;
      return std::move(sealed).error();
    }
    Event e;
    e.tenant_id = cmd.tenant_id;
    e.seq = head.seq + 1;
    e.event_id = NewId("evt", now, random);
    // Recorded times never go backwards within a tenant, even if the clock does.
    e.recorded_at = Instant{std::max(now.us, head.recorded_at_us)};
    e.actor = cmd.actor;
    e.command_id = cmd.command_id;
    e.type = std::move(ne.type);
    // Handlers build payloads from validated input; a string that still is not UTF-8 fails
    // this command only (nothing of it was written yet unless sealing created a key).
    auto encoded = TryCanonicalJson(ne.payload, "payload");
    if (!encoded.ok()) {
      *dirty = true;
      return std::move(encoded).error();
    }
    e.payload = std::move(*encoded);
    command_event_bytes += e.payload.size();
    if (e.payload.size() > options.event_bytes_max ||
        command_event_bytes > options.batch_bytes_max) {
      // Earlier events of this command may already be projected into `tx`.
      *dirty = true;
      const bool one_event = e.payload.size() > options.event_bytes_max;
      return Error{ErrorCode::kPayloadTooLarge, "payload",
                   one_event ? "event_bytes_max" : "batch_bytes_max",
                   one_event ? "event " + e.type + " would be " + Bytes(e.payload.size()) +
                                   "; the ledger takes at most " +
                                   Bytes(options.event_bytes_max) + " per event"
                             : "command " + cmd.type + " would append " +
                                   Bytes(command_event_bytes) + " of events; at most " +
                                   Bytes(options.batch_bytes_max) + " per command"};
    }
    e.prev_hash = head.hash;
    e.hash = ComputeEventHash(e);
    e.payload_json = ne.secret_fields.empty() ? &ne.payload : &clear;
    Status st = registry.Project(tx, e);
    e.payload_json = nullptr;
    if (!st.ok()) {
      *dirty = true;
      return std::move(st).error();
    }
    head = Head{e.seq, e.hash, e.recorded_at.us};
    batch.event_rows.push_back({e.tenant_id, e.seq, e.event_id, e.recorded_at.us, e.actor,
                                e.command_id, e.type, e.payload, e.prev_hash, e.hash});
    batch.events.push_back(std::move(e));
  }
  batch.event_bytes += command_event_bytes;
  outcome.last_seq = head.seq;
  // A result the registry can rebuild from the events is not stored a second time.
  batch.command_rows.push_back(
      {cmd.tenant_id, cmd.command_id, cmd.type, request_hash,
       registry.RebuildsResult(cmd.type) ? std::string() : CanonicalJson(outcome.result),
       outcome.first_seq, outcome.last_seq, now.us});
  batch.seen.emplace(seen_key, Recorded{request_hash, outcome});
  return outcome;
}

// Fills batch.stored with the recorded outcomes of `commands`' ids: one query per tenant and
// kPrefetchKeysMax ids instead of one per command.
template <typename Pendings>
Status PrefetchRecorded(store::Tx& tx, const Pendings& commands, BatchState& batch) {
  std::unordered_map<std::string_view, std::vector<std::string_view>> by_tenant;
  for (const auto& p : commands) by_tenant[p.command.tenant_id].push_back(p.command.command_id);
  std::vector<store::Value> params;
  for (const auto& [tenant, ids] : by_tenant) {
    for (size_t begin = 0; begin < ids.size(); begin += kPrefetchKeysMax) {
      const size_t keys = std::min(kPrefetchKeysMax, ids.size() - begin);
      size_t padded = 1;
      while (padded < keys) padded *= 2;
      params.clear();
      params.emplace_back(std::string(tenant));
      for (size_t i = 0; i < padded; ++i) {
        params.emplace_back(std::string(ids[begin + std::min(i, keys - 1)]));
      }
      OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query(FindCommandsSql(padded), params));
      for (const auto& r : rows) {
        // An empty result is rebuilt from the events when the command is retried.
        const bool rebuild = r.Text(3).empty() && r.Int(4) > 0;
        Json result;
        if (!rebuild) {
          auto parsed = ParseJson(r.Text(3), "result");
          OPSBOX_ASSERT_MSG(parsed.ok(), "stored command result is not JSON");
          result = std::move(*parsed);
        }
        CommandOutcome o{r.Text(1), std::move(result), Json::object(), r.Int(4), r.Int(5),
                         false};
        batch.stored.insert_or_assign(r.Text(0) + '\n' + r.Text(1),
                                      Recorded{r.Text(2), std::move(o), r.Text(6), rebuild});
      }
    }
  }
  return Ok();
}

}  // namespace

Writer::Writer(store::Database& db, const Registry& registry, Clock& clock, Random& random,
               WriterOptions options)
    : db_(db), registry_(registry), clock_(clock), random_(random), options_(options) {
  OPSBOX_ASSERT(options_.batch_max > 0);
}

Writer::~Writer() { Stop(); }

int Writer::shard_count() const { return static_cast<int>(shards_.size()); }

bool Writer::OwnsShard(int shard) const {
  // shards_ is complete once started_ is set (other threads may ask during Start()).
  return started_.load() && shard >= 0 && static_cast<size_t>(shard) < shards_.size() &&
         shards_[static_cast<size_t>(shard)]->owned.load();
}

bool Writer::OwnsTenant(std::string_view tenant_id) const {
  if (!started_.load() || shards_.empty()) return false;
  return OwnsShard(ShardOf(tenant_id, static_cast<int>(shards_.size())));
}

Status Writer::Start() {
  OPSBOX_ASSERT(shards_.empty());
  const int n = std::max(1, std::min(options_.shards, db_.WriterShardsMax()));
  const bool cluster = options_.cluster.enabled;
  if (cluster && db_.dialect() != store::Dialect::kPostgres) {
    return Error::Invalid("cluster.advertise_url", "postgres_only",
                          "several nodes need PostgreSQL; SQLite serves one node");
  }
  for (int i = 0; i < n; ++i) {
    auto shard = std::make_unique<Shard>();
    shard->index = i;
    shard->completer = std::make_unique<Completer>();
    shard->owned.store(!cluster);
    OPSBOX_ASSIGN_OR_RETURN(shard->conn, db_.Connect());
    shards_.push_back(std::move(shard));
  }
  if (cluster) {
    OPSBOX_TRY(ConnectControl());
    // The first round runs here, so that a node starting alone owns its shards before it
    // accepts its first command.
    Balance();
    for (auto& s : shards_) ApplyWant(*s);
  }
  stats_.shards_owned.store(static_cast<uint64_t>(
      std::count_if(shards_.begin(), shards_.end(), [](auto& s) { return s->owned.load(); })));
  for (auto& s : shards_) s->thread = std::thread([this, sp = s.get()] { RunShard(*sp); });
  started_.store(true);
  if (cluster) balancer_ = std::thread([this] { RunBalancer(); });
  return Ok();
}

void Writer::Submit(Command command, CommandCallback done) {
  Enqueue(std::move(command), std::move(done), false);
}

void Writer::SubmitLocal(Command command, CommandCallback done) {
  Enqueue(std::move(command), std::move(done), true);
}

void Writer::ForwardOrRefuse(Shard& shard, Command command, CommandCallback done,
                             bool local_only) {
  if (stopping_.load()) {
    done(Error::Unavailable("the ledger writer is shutting down"));
  } else if (local_only || options_.cluster.forwarder == nullptr) {
    done(Error{ErrorCode::kUnavailable, "tenant", "not_shard_owner",
               "ledger shard " + std::to_string(shard.index) +
                   " of this tenant is written by another node; retry"});
  } else {
    stats_.forwarded.fetch_add(1);
    options_.cluster.forwarder->Forward(shard.index, std::move(command), std::move(done));
  }
}

void Writer::Enqueue(Command command, CommandCallback done, bool local_only) {
  if (command.command_id.empty()) command.command_id = NewId("cmd", clock_.Now(), random_);
  if (shards_.empty() || stopping_.load()) {
    done(Error::Unavailable("the ledger writer is not running (shutting down)"));
    return;
  }
  Shard& shard = *shards_[static_cast<size_t>(
      ShardOf(command.tenant_id, static_cast<int>(shards_.size())))];
  if (!shard.owned.load()) {
    return ForwardOrRefuse(shard, std::move(command), std::move(done), local_only);
  }
  auto hashed = RequestHash(command);  // off the writer thread
  if (!hashed.ok()) {
    done(std::move(hashed).error());
    return;
  }
  if (hashed->payload_bytes > options_.command_bytes_max) {
    stats_.rejected.fetch_add(1);
    done(Error{ErrorCode::kPayloadTooLarge, "payload", "command_bytes_max",
               "command " + command.type + " is " + Bytes(hashed->payload_bytes) +
                   "; the ledger takes at most " + Bytes(options_.command_bytes_max)});
    return;
  }
  std::string request_hash = std::move(hashed->request_hash);
  {
    std::unique_lock lock(shard.mu);
    if (shard.stop) {
      lock.unlock();
      done(Error::Unavailable("the ledger writer is shutting down"));
      return;
    }
    if (!shard.owned.load()) {  // released meanwhile
      lock.unlock();
      return ForwardOrRefuse(shard, std::move(command), std::move(done), local_only);
    }
    if (shard.queue.size() >= options_.queue_depth_max) {
      lock.unlock();
      stats_.rejected.fetch_add(1);
      done(Error::Unavailable("ledger queue is full (" +
                              std::to_string(options_.queue_depth_max) + " waiting commands)"));
      return;
    }
    shard.queue.push_back(
        Pending{std::move(command), std::move(done), std::move(request_hash), local_only});
    stats_.queue_depth.fetch_add(1);
  }
  shard.cv.notify_one();
}

Result<CommandOutcome> Writer::SubmitAndWait(Command command) {
  std::promise<Result<CommandOutcome>> promise;
  auto future = promise.get_future();
  Submit(std::move(command), [&promise](Result<CommandOutcome> r) {
    promise.set_value(std::move(r));
  });
  return future.get();
}

void Writer::Stop() {
  stopping_.store(true);
  {
    std::lock_guard lock(balancer_mu_);
  }
  balancer_cv_.notify_all();
  if (balancer_.joinable()) balancer_.join();
  for (auto& s : shards_) {
    {
      std::lock_guard lock(s->mu);
      s->stop = true;
    }
    s->cv.notify_all();
  }
  for (auto& s : shards_) {
    if (s->thread.joinable()) s->thread.join();
    s->completer.reset();  // answers everything still queued, then joins
    s->conn.reset();       // gives up the shard's lock at once, not at destruction
  }
  control_.reset();
}

namespace {

// Tells the other nodes' followers (cluster.hpp) each touched tenant's new head, delivered by
// PostgreSQL only if the transaction commits: lines "<tenant> <last seq>", split to fit.
Status NotifyHeads(store::Tx& tx, const std::vector<Event>& events) {
  std::unordered_map<std::string_view, int64_t> heads;
  for (const auto& e : events) heads[e.tenant_id] = std::max(heads[e.tenant_id], e.seq);
  std::string payload;
  for (const auto& [tenant, seq] : heads) {
    std::string line = std::string(tenant) + ' ' + std::to_string(seq) + '\n';
    if (payload.size() + line.size() > store::kNotifyPayloadBytesMax) {
      OPSBOX_TRY(store::Notify(tx, store::Dialect::kPostgres, kLedgerChannel, payload));
      payload.clear();
    }
    payload += line;
  }
  if (payload.empty()) return Ok();
  return store::Notify(tx, store::Dialect::kPostgres, kLedgerChannel, payload);
}

void RecordBatchSize(WriterStats& stats, size_t n) {
  stats.batch_size_sum.fetch_add(n);
  size_t bucket = 0;
  while (bucket < 13 && (size_t{1} << bucket) < n) ++bucket;
  stats.batch_size_buckets[bucket].fetch_add(1);
}

}  // namespace

// Why a command of a batch failed when the batch itself went wrong.
std::string WhatThrew(std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// Runs the first commands of `batch` in one transaction: all of them, or fewer when their
// events reach batch_bytes_max (*taken says how many; the caller queues the rest again).
// Returns false when the transaction failed as a whole (nothing answered, nothing durable);
// the caller then retries the commands one by one.
static bool RunBatch(store::Connection& conn, const Registry& registry, Random& random,
                     const WriterOptions& options, Instant now,
                     std::unordered_map<std::string, Head>& heads, std::vector<Pending>& batch,
                     WriterStats& stats, bool single, Completer& completer, size_t* taken,
                     bool notify) {
  BatchState state;
  std::vector<std::optional<Result<CommandOutcome>>> answers(batch.size());
  *taken = batch.size();
  // After a rollback the chain heads of the touched tenants are dropped, not restored: they
  // are reloaded from the store, which also recovers when another process (the CLI, another
  // node) appended to the same tenant meanwhile.
  auto restore = [&] {
    for (auto& [tenant, head] : state.heads_before) heads.erase(tenant);
    registry.NotifyRolledBack();
  };
  auto fail_single = [&](Error error) {
    spdlog::error("ledger: command {} failed in its own transaction: {}",
                  batch[0].command.command_id, error.ToString());
    stats.rejected.fetch_add(1);
    completer.Post({{std::move(batch[0].done), Result<CommandOutcome>(std::move(error))}});
  };
  auto tx_r = conn.Begin();
  if (!tx_r.ok()) {
    if (!single) return false;
    fail_single(std::move(tx_r).error());
    return true;
  }
  auto& tx = **tx_r;
  // Module code is guarded by the Registry; this boundary catches what is left (the store,
  // the encoder, allocation) so a throwing batch rolls back instead of ending the process.
  std::optional<Error> failed;
  try {
    // One IN (...) query per batch finds the commands recorded before it (idempotent replays).
    if (Status prefetched = PrefetchRecorded(tx, batch, state); !prefetched.ok()) {
      failed = std::move(prefetched).error();
    }
    for (size_t i = 0; i < batch.size() && !failed; ++i) {
      if (i > 0 && state.event_bytes >= options.batch_bytes_max) {
        *taken = i;
        break;
      }
      bool dirty = false;
      auto r = ApplyOne(tx, registry, random, options, now, heads, state, batch[i].command,
                        batch[i].request_hash, &dirty);
      if (!r.ok() && (dirty || IsStoreFailure(r.error()))) {
        failed = std::move(r).error();
        break;
      }
      answers[i] = std::move(r);
    }
    if (!failed) {
      AssertChainContinues(state);
      Status st = state.event_rows.empty() ? Ok() : tx.ExecBatch(kInsertEvent, state.event_rows);
      if (st.ok() && !state.command_rows.empty()) {
        st = tx.ExecBatch(kInsertCommand, state.command_rows);
      }
      if (st.ok() && notify && !state.events.empty()) st = NotifyHeads(tx, state.events);
      if (st.ok()) st = tx.Commit();
      if (!st.ok()) failed = std::move(st).error();
    }
  } catch (...) {
    failed = Error{ErrorCode::kInternal, "", "writer_exception",
                   "the ledger batch failed with an internal error: " +
                       WhatThrew(std::current_exception())};
  }
  if (failed) {
    tx.Rollback();
    restore();
    if (!single) return false;
    fail_single(std::move(*failed));
    return true;
  }
  stats.commits.fetch_add(1);
  stats.events.fetch_add(state.events.size());
  RecordBatchSize(stats, *taken);
  if (!state.events.empty()) registry.NotifyCommitted(state.events);
  std::vector<Completer::Answer> out;
  out.reserve(*taken);
  for (size_t i = 0; i < *taken; ++i) {
    auto& a = *answers[i];
    if (a.ok()) {
      stats.commands.fetch_add(1);
      if (a->replayed) stats.replayed.fetch_add(1);
    } else {
      stats.rejected.fetch_add(1);
    }
    out.emplace_back(std::move(batch[i].done), std::move(a));
  }
  completer.Post(std::move(out));
  return true;
}

void Writer::RunShard(Shard& shard) {
  const bool cluster = options_.cluster.enabled;
  std::vector<Pending> batch;
  batch.reserve(options_.batch_max);
  for (;;) {
    {
      std::unique_lock lock(shard.mu);
      shard.cv.wait(lock, [&] {
        return shard.stop || !shard.queue.empty() || shard.want != Want::kNothing;
      });
      if (shard.stop && shard.queue.empty()) return;  // stopping and drained
    }
    if (cluster) ApplyWant(shard);
    {
      std::lock_guard lock(shard.mu);
      OPSBOX_ASSERT_MSG(shard.owned.load() || shard.queue.empty(),
                        "commands queued on a shard this node does not write");
      while (!shard.queue.empty() && batch.size() < options_.batch_max) {
        batch.push_back(std::move(shard.queue.front()));
        shard.queue.pop_front();
      }
      stats_.queue_depth.fetch_sub(batch.size());
    }
    if (batch.empty()) continue;
    const Instant now = clock_.Now();
    size_t taken = 0;
    if (!RunBatch(*shard.conn, registry_, random_, options_, now, shard.heads, batch, stats_,
                  false, *shard.completer, &taken, cluster)) {
      stats_.batches_failed.fetch_add(1);
      // Isolate the failure: each command in its own transaction.
      for (auto& p : batch) {
        std::vector<Pending> one;
        one.push_back(std::move(p));
        size_t one_taken = 0;
        RunBatch(*shard.conn, registry_, random_, options_, now, shard.heads, one, stats_,
                 true, *shard.completer, &one_taken, cluster);
      }
      // A lost session took the shard's lock with it: stop writing, reconnect, and let the
      // balancer take the shard again if no other node did.
      if (cluster && shard.owned.load() && !shard.conn->Query("SELECT 1").ok()) Release(shard);
    } else if (taken < batch.size()) {
      // The batch reached batch_bytes_max: the rest go first into the next one, in order.
      std::lock_guard lock(shard.mu);
      for (size_t i = batch.size(); i > taken; --i) {
        shard.queue.push_front(std::move(batch[i - 1]));
      }
      stats_.queue_depth.fetch_add(batch.size() - taken);
    }
    batch.clear();
  }
}

// ---- clustering (cluster.hpp) ------------------------------------------------------------

void Writer::ApplyWant(Shard& shard) {
  Want want;
  {
    std::lock_guard lock(shard.mu);
    want = shard.want;
    shard.want = Want::kNothing;
  }
  if (want == Want::kAcquire && !shard.owned.load()) Acquire(shard);
  if (want == Want::kRelease && shard.owned.load()) Release(shard);
}

void Writer::Acquire(Shard& shard) {
  auto got = store::TryLock(*shard.conn, kShardLockSpace, shard.index);
  if (!got.ok()) {
    spdlog::warn("ledger: shard {}: {}; reconnecting", shard.index, got.error().ToString());
    auto conn = db_.Connect();  // a lost session holds no lock: nothing to give back
    if (conn.ok()) shard.conn = std::move(*conn);
    return;
  }
  if (!*got) return;  // another node was faster
  // The previous owner may have appended until its last moment: its events reach this node's
  // listeners first, and the chain heads are read again from the database.
  shard.heads.clear();
  if (options_.cluster.on_shard_acquired) options_.cluster.on_shard_acquired(shard.index);
  store::Value row[] = {int64_t{shard.index}, static_cast<int64_t>(shards_.size()),
                        options_.cluster.node_id, options_.cluster.advertise_url,
                        clock_.Now().us};
  if (auto r = shard.conn->Exec(kRecordShardOwner, row); !r.ok()) {
    spdlog::warn("ledger: shard {}: recording the owner: {}", shard.index, r.error().ToString());
  }
  {
    std::lock_guard lock(shard.mu);
    shard.owned.store(true);
  }
  stats_.shards_acquired.fetch_add(1);
  stats_.shards_owned.fetch_add(1);
  spdlog::info("ledger: node {} now writes shard {}", options_.cluster.node_id, shard.index);
}

void Writer::Release(Shard& shard) {
  std::deque<Pending> waiting;
  {
    std::lock_guard lock(shard.mu);
    shard.owned.store(false);
    waiting.swap(shard.queue);
    stats_.queue_depth.fetch_sub(waiting.size());
  }
  if (Status st = store::Unlock(*shard.conn, kShardLockSpace, shard.index); !st.ok()) {
    // Closing the session gives the lock back too.
    spdlog::warn("ledger: shard {}: {}; reconnecting", shard.index, st.error().ToString());
    auto conn = db_.Connect();
    if (conn.ok()) shard.conn = std::move(*conn);
  }
  shard.heads.clear();
  stats_.shards_released.fetch_add(1);
  stats_.shards_owned.fetch_sub(1);
  spdlog::info("ledger: node {} gave shard {} back", options_.cluster.node_id, shard.index);
  for (auto& p : waiting) {
    ForwardOrRefuse(shard, std::move(p.command), std::move(p.done), p.local_only);
  }
}

Status Writer::ConnectControl() {
  OPSBOX_ASSIGN_OR_RETURN(auto conn, db_.Connect());
  OPSBOX_ASSIGN_OR_RETURN(auto live, store::LockedKeys(*conn, kNodeLockSpace));
  if (live.empty()) {
    // No other node runs: owners recorded earlier are history (their shard count too).
    OPSBOX_TRY(conn->Exec("DELETE FROM ledger_shard_owners"));
  } else {
    store::Value p[] = {static_cast<int64_t>(shards_.size())};
    OPSBOX_ASSIGN_OR_RETURN(
        auto other, conn->Query("SELECT shards, node_id FROM ledger_shard_owners "
                                "WHERE shards <> ? LIMIT 1",
                                p));
    if (!other.empty()) {
      return Error::Invalid("database.writer_shards", "same_on_every_node",
                            "this node has " + std::to_string(shards_.size()) +
                                " writer shards, node " + other[0].Text(1) + " has " +
                                std::to_string(other[0].Int(0)));
    }
  }
  for (int attempt = 0; attempt < 16; ++attempt) {
    const auto key = static_cast<int32_t>(random_.Uniform(uint64_t{1} << 31));
    OPSBOX_ASSIGN_OR_RETURN(bool got, store::TryLock(*conn, kNodeLockSpace, key));
    if (got) {
      control_ = std::move(conn);
      return Ok();
    }
  }
  return Error::Unavailable("no free node lock key after 16 attempts");
}

// Aims at ceil(shards / live nodes) shards: takes free ones while below, gives back the
// highest while above. Acting is left to the shard threads, between their batches.
void Writer::Balance() {
  if (!control_) {
    if (Status st = ConnectControl(); !st.ok()) {
      spdlog::warn("ledger: cluster control connection: {}", st.error().ToString());
      return;
    }
  }
  auto live = store::LockedKeys(*control_, kNodeLockSpace);
  auto held = live.ok() ? store::LockedKeys(*control_, kShardLockSpace) : live;
  if (!live.ok() || !held.ok()) {
    spdlog::warn("ledger: cluster balance: {}",
                 (live.ok() ? held.error() : live.error()).ToString());
    control_.reset();
    return;
  }
  const size_t n = shards_.size();
  const size_t nodes = std::max<size_t>(1, live->size());
  const size_t target = (n + nodes - 1) / nodes;
  // Counted as the shard threads will leave them: a wish not yet acted on counts as done.
  size_t owned = 0;
  for (auto& s : shards_) {
    std::lock_guard lock(s->mu);
    const bool will_own = s->want == Want::kNothing ? s->owned.load() : s->want == Want::kAcquire;
    owned += will_own ? 1 : 0;
  }
  auto is_held = [&](int shard) {
    return std::find(held->begin(), held->end(), shard) != held->end();
  };
  for (size_t i = 0; i < n && owned < target; ++i) {
    Shard& s = *shards_[i];
    std::lock_guard lock(s.mu);
    if (s.want != Want::kNothing || s.owned.load() || is_held(s.index)) continue;
    s.want = Want::kAcquire;
    ++owned;
  }
  for (size_t i = n; i > 0 && owned > target; --i) {
    Shard& s = *shards_[i - 1];
    std::lock_guard lock(s.mu);
    if (s.want != Want::kNothing || !s.owned.load()) continue;
    s.want = Want::kRelease;
    --owned;
  }
  for (auto& s : shards_) s->cv.notify_one();
}

void Writer::RunBalancer() {
  const auto interval = std::chrono::milliseconds(options_.cluster.rebalance_interval_ms);
  for (;;) {
    {
      std::unique_lock lock(balancer_mu_);
      balancer_cv_.wait_for(lock, interval, [&] { return stopping_.load(); });
      if (stopping_.load()) return;
    }
    Balance();
  }
}

}  // namespace opsbox::ledger
