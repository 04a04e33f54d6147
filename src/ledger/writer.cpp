#include "ledger/writer.hpp"

#include <spdlog/spdlog.h>

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

namespace opsbox::ledger {
namespace {

constexpr std::string_view kInsertEvent =
    "INSERT INTO ledger_events (tenant_id, seq, event_id, recorded_at_us, actor, command_id, "
    "type, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kInsertCommand =
    "INSERT INTO ledger_commands (tenant_id, command_id, command_type, request_hash, result, "
    "first_seq, last_seq, recorded_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kFindCommand =
    "SELECT request_hash, result, first_seq, last_seq FROM ledger_commands "
    "WHERE tenant_id = ? AND command_id = ?";
constexpr std::string_view kChainHead =
    "SELECT seq, hash, recorded_at_us FROM ledger_events WHERE tenant_id = ? "
    "ORDER BY seq DESC LIMIT 1";

struct Pending {
  Command command;
  CommandCallback done;
  std::string request_hash;  // computed on the submitting thread
};

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
  std::unordered_map<std::string, Head> heads;  // only the shard thread touches it
};

// Everything one batch accumulates before its commit.
struct BatchState {
  std::vector<std::vector<store::Value>> event_rows;
  std::vector<std::vector<store::Value>> command_rows;
  std::vector<Event> events;
  std::unordered_map<std::string, Recorded> seen;  // tenant + '\n' + command id
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
  auto replay = [&](const std::string& stored_hash,
                    CommandOutcome outcome) -> Result<CommandOutcome> {
    if (stored_hash != request_hash) {
      return Error{ErrorCode::kConflict, "Idempotency-Key", "idempotency_key_reused",
                   "command id " + cmd.command_id + " was already used for a different request"};
    }
    outcome.replayed = true;
    outcome.once = Json::object();
    return outcome;
  };
  if (auto it = batch.seen.find(seen_key); it != batch.seen.end()) {
    return replay(it->second.request_hash, it->second.outcome);
  }
  store::Value key_params[] = {cmd.tenant_id, cmd.command_id};
  OPSBOX_ASSIGN_OR_RETURN(auto found, tx.Query(kFindCommand, key_params));
  if (!found.empty()) {
    auto result = ParseJson(found[0].Text(1), "result");
    OPSBOX_ASSERT_MSG(result.ok(), "stored command result is not JSON");
    CommandOutcome o{cmd.command_id, std::move(*result), Json::object(), found[0].Int(2),
                     found[0].Int(3), false};
    return replay(found[0].Text(0), std::move(o));
  }
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
  batch.command_rows.push_back({cmd.tenant_id, cmd.command_id, cmd.type, request_hash,
                                CanonicalJson(outcome.result), outcome.first_seq,
                                outcome.last_seq, now.us});
  batch.seen.emplace(seen_key, Recorded{request_hash, outcome});
  return outcome;
}

}  // namespace

Writer::Writer(store::Database& db, const Registry& registry, Clock& clock, Random& random,
               WriterOptions options)
    : db_(db), registry_(registry), clock_(clock), random_(random), options_(options) {
  OPSBOX_ASSERT(options_.batch_max > 0);
}

Writer::~Writer() { Stop(); }

int Writer::shard_count() const { return static_cast<int>(shards_.size()); }

Status Writer::Start() {
  OPSBOX_ASSERT(shards_.empty());
  const int n = std::max(1, std::min(options_.shards, db_.WriterShardsMax()));
  for (int i = 0; i < n; ++i) {
    auto shard = std::make_unique<Shard>();
    shard->index = i;
    shard->completer = std::make_unique<Completer>();
    OPSBOX_ASSIGN_OR_RETURN(shard->conn, db_.Connect());
    shards_.push_back(std::move(shard));
  }
  for (auto& s : shards_) s->thread = std::thread([this, sp = s.get()] { RunShard(*sp); });
  return Ok();
}

void Writer::Submit(Command command, CommandCallback done) {
  if (command.command_id.empty()) command.command_id = NewId("cmd", clock_.Now(), random_);
  if (shards_.empty() || stopping_.load()) {
    done(Error::Unavailable("the ledger writer is not running (shutting down)"));
    return;
  }
  Shard& shard = *shards_[std::hash<std::string>{}(command.tenant_id) % shards_.size()];
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
    std::lock_guard lock(shard.mu);
    if (shard.stop) {
      done(Error::Unavailable("the ledger writer is shutting down"));
      return;
    }
    if (shard.queue.size() >= options_.queue_depth_max) {
      stats_.rejected.fetch_add(1);
      done(Error::Unavailable("ledger queue is full (" +
                              std::to_string(options_.queue_depth_max) + " waiting commands)"));
      return;
    }
    shard.queue.push_back(Pending{std::move(command), std::move(done), std::move(request_hash)});
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
  }
}

namespace {

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
                     WriterStats& stats, bool single, Completer& completer, size_t* taken) {
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
  std::vector<Pending> batch;
  batch.reserve(options_.batch_max);
  for (;;) {
    {
      std::unique_lock lock(shard.mu);
      shard.cv.wait(lock, [&] { return shard.stop || !shard.queue.empty(); });
      if (shard.queue.empty()) return;  // stopping and drained
      while (!shard.queue.empty() && batch.size() < options_.batch_max) {
        batch.push_back(std::move(shard.queue.front()));
        shard.queue.pop_front();
      }
      stats_.queue_depth.fetch_sub(batch.size());
    }
    const Instant now = clock_.Now();
    size_t taken = 0;
    if (!RunBatch(*shard.conn, registry_, random_, options_, now, shard.heads, batch, stats_,
                  false, *shard.completer, &taken)) {
      // Isolate the failure: each command in its own transaction.
      for (auto& p : batch) {
        std::vector<Pending> one;
        one.push_back(std::move(p));
        size_t one_taken = 0;
        RunBatch(*shard.conn, registry_, random_, options_, now, shard.heads, one, stats_,
                 true, *shard.completer, &one_taken);
      }
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

}  // namespace opsbox::ledger
