// Shard function, owner look-up and the follower of cluster.hpp.
#include "ledger/cluster.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/assert.hpp"
#include "ledger/reader.hpp"
#include "ledger/writer.hpp"

namespace opsbox::ledger {

int ShardOf(std::string_view tenant_id, int shards) {
  OPSBOX_ASSERT(shards > 0);
  // FNV-1a, 64-bit: offset basis 14695981039346656037, prime 1099511628211.
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : tenant_id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int>(h % static_cast<uint64_t>(shards));
}

Result<std::string> ShardOwnerUrl(store::Connection& conn, int shard) {
  store::Value p[] = {int64_t{shard}};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT advertise_url FROM ledger_shard_owners WHERE shard = ?", p));
  if (rows.empty()) return std::string();
  return rows[0].Text(0);
}

Json CommandToWire(const Command& c) {
  return Json{{"tenant_id", c.tenant_id}, {"command_id", c.command_id}, {"type", c.type},
              {"actor", c.actor}, {"payload", c.payload}};
}

Result<Command> CommandFromWire(const Json& j) {
  for (const char* k : {"tenant_id", "command_id", "type", "actor"}) {
    if (!j.is_object() || !j.contains(k) || !j[k].is_string() || j[k].get<std::string>().empty()) {
      return Error::Invalid(std::string("commands[].") + k, "required", "a non-empty string");
    }
  }
  if (!j.contains("payload")) return Error::Invalid("commands[].payload", "required", "JSON");
  return Command{j["tenant_id"].get<std::string>(), j["command_id"].get<std::string>(),
                 j["type"].get<std::string>(), j["actor"].get<std::string>(), j["payload"]};
}

Json OutcomeToWire(const Result<CommandOutcome>& r) {
  if (!r.ok()) {
    const Error& e = r.error();
    return Json{{"ok", false},
                {"error", Json{{"code", ErrorCodeName(e.code)}, {"field", e.field},
                               {"rule", e.rule}, {"message", e.message}}}};
  }
  return Json{{"ok", true},           {"command_id", r->command_id}, {"result", r->result},
              {"once", r->once},      {"first_seq", r->first_seq},   {"last_seq", r->last_seq},
              {"replayed", r->replayed}};
}

Result<CommandOutcome> OutcomeFromWire(const Json& j) {
  if (!j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
    return Error::Internal("forwarded outcome without ok");
  }
  if (!j["ok"].get<bool>()) {
    const Json& e = j.value("error", Json::object());
    const std::string code = e.value("code", "");
    ErrorCode c = ErrorCode::kInternal;
    for (ErrorCode k : {ErrorCode::kInvalidArgument, ErrorCode::kNotFound, ErrorCode::kConflict,
                        ErrorCode::kUnauthenticated, ErrorCode::kPermissionDenied,
                        ErrorCode::kRateLimited, ErrorCode::kPayloadTooLarge,
                        ErrorCode::kUnsupportedMediaType, ErrorCode::kUnavailable}) {
      if (code == ErrorCodeName(k)) c = k;
    }
    return Error{c, e.value("field", ""), e.value("rule", ""), e.value("message", "")};
  }
  CommandOutcome o;
  o.command_id = j.value("command_id", "");
  o.result = j.value("result", Json::object());
  o.once = j.value("once", Json::object());
  o.first_seq = j.value("first_seq", int64_t{0});
  o.last_seq = j.value("last_seq", int64_t{0});
  o.replayed = j.value("replayed", false);
  return o;
}

namespace {

// One index probe per tenant (the newest event), not a scan of the ledger.
constexpr std::string_view kHeads =
    "SELECT t.tenant_id, (SELECT MAX(e.seq) FROM ledger_events e "
    "WHERE e.tenant_id = t.tenant_id) FROM tenants t";
constexpr auto kReconnectDelay = std::chrono::milliseconds(500);

// "<tenant> <seq>\n…" as sent by the writer; malformed lines are skipped.
std::unordered_map<std::string, int64_t> ParseHeads(std::string_view payload) {
  std::unordered_map<std::string, int64_t> out;
  while (!payload.empty()) {
    const size_t end = std::min(payload.find('\n'), payload.size());
    std::string_view line = payload.substr(0, end);
    payload.remove_prefix(std::min(end + 1, payload.size()));
    const size_t space = line.rfind(' ');
    if (space == std::string_view::npos || space == 0) continue;
    int64_t seq = 0;
    for (char c : line.substr(space + 1)) {
      if (c < '0' || c > '9') {
        seq = -1;
        break;
      }
      seq = seq * 10 + (c - '0');
    }
    if (seq <= 0) continue;
    auto& v = out[std::string(line.substr(0, space))];
    v = std::max(v, seq);
  }
  return out;
}

}  // namespace

struct Follower::State {
  store::Database& db;
  const Registry& registry;
  ListenerFactory listen;
  std::function<bool(std::string_view)> owned_here;
  FollowerOptions options;
  std::mutex cursor_mu;  // guards cursors
  std::unordered_map<std::string, int64_t> cursors;
  std::mutex deliver_mu;  // one delivery at a time, so a tenant's events keep their order
  std::unique_ptr<store::Connection> read_conn;  // guarded by deliver_mu
  std::unique_ptr<store::Listener> listen_conn;  // the follower thread's
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> delivered{0};
  std::thread thread;

  State(store::Database& d, const Registry& r, ListenerFactory l,
        std::function<bool(std::string_view)> o, FollowerOptions opt)
      : db(d), registry(r), listen(std::move(l)), owned_here(std::move(o)), options(opt) {}

  int64_t Cursor(const std::string& tenant) {
    std::lock_guard lock(cursor_mu);
    auto it = cursors.find(tenant);
    return it == cursors.end() ? 0 : it->second;
  }
  void MoveCursor(const std::string& tenant, int64_t seq) {
    std::lock_guard lock(cursor_mu);
    auto& c = cursors[tenant];
    c = std::max(c, seq);
  }

  Result<std::unordered_map<std::string, int64_t>> ReadHeads(store::Connection& conn) {
    OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(kHeads));
    std::unordered_map<std::string, int64_t> heads;
    for (const auto& r : rows) heads[r.Text(0)] = r.Int(1);
    return heads;
  }

  Status ReadConn() {
    if (read_conn) return Ok();
    OPSBOX_ASSIGN_OR_RETURN(read_conn, db.Connect());
    return Ok();
  }

  // Delivers `tenant`'s events after its cursor up to `up_to` (unless this node owns it).
  // Caller holds deliver_mu.
  Status Deliver(const std::string& tenant, int64_t up_to) {
    for (;;) {
      if (owned_here(tenant)) return Ok();
      const int64_t after = Cursor(tenant);
      if (after >= up_to) return Ok();
      OPSBOX_TRY(ReadConn());
      auto events = ReadEvents(*read_conn, tenant, after, options.events_per_read_max, "");
      if (!events.ok()) {
        read_conn.reset();
        return std::move(events).error();
      }
      if (events->empty()) return Ok();
      OPSBOX_ASSERT_MSG(events->front().seq == after + 1, "follower read a gap in the ledger");
      const int64_t last = events->back().seq;
      registry.NotifyCommitted(*events);
      delivered.fetch_add(events->size());
      MoveCursor(tenant, last);
    }
  }

  Status DeliverAll(const std::unordered_map<std::string, int64_t>& heads,
                    const std::function<bool(std::string_view)>& select) {
    std::lock_guard lock(deliver_mu);
    Status first = Ok();
    for (const auto& [tenant, seq] : heads) {
      if (select && !select(tenant)) continue;
      Status st = Deliver(tenant, seq);
      if (!st.ok() && first.ok()) first = st;
    }
    return first;
  }

  Status CatchUp(const std::function<bool(std::string_view)>& select) {
    std::unordered_map<std::string, int64_t> heads;
    {
      std::lock_guard lock(deliver_mu);
      OPSBOX_TRY(ReadConn());
      auto h = ReadHeads(*read_conn);
      if (!h.ok()) {
        read_conn.reset();
        return std::move(h).error();
      }
      heads = std::move(*h);
    }
    return DeliverAll(heads, select);
  }

  Status Listen() {
    OPSBOX_ASSIGN_OR_RETURN(listen_conn, listen());
    return Ok();
  }

  void Run();
};

void Follower::State::Run() {
  using Steady = std::chrono::steady_clock;
  auto next_full = Steady::now() + std::chrono::milliseconds(options.catch_up_interval_ms);
  while (!stop.load()) {
    if (!listen_conn) {
      // Whatever was notified while the session was down is caught up by sequence.
      if (Status st = Listen(); !st.ok()) {
        spdlog::warn("ledger follower: {}", st.error().ToString());
        std::this_thread::sleep_for(kReconnectDelay);
        continue;
      }
      next_full = Steady::now();
    }
    if (Steady::now() >= next_full) {
      if (Status st = CatchUp(nullptr); !st.ok()) {
        spdlog::warn("ledger follower: catch-up: {}", st.error().ToString());
      }
      next_full = Steady::now() + std::chrono::milliseconds(options.catch_up_interval_ms);
    }
    auto notes = listen_conn->Wait(static_cast<int>(options.wait_ms_max));
    if (!notes.ok()) {
      spdlog::warn("ledger follower: {}", notes.error().ToString());
      listen_conn.reset();
      continue;
    }
    std::unordered_map<std::string, int64_t> heads;
    for (const auto& n : *notes) {
      for (auto& [tenant, seq] : ParseHeads(n.payload)) {
        auto& v = heads[tenant];
        v = std::max(v, seq);
      }
    }
    if (heads.empty()) continue;
    if (Status st = DeliverAll(heads, nullptr); !st.ok()) {
      spdlog::warn("ledger follower: {}", st.error().ToString());
      next_full = Steady::now();  // retried by sequence on the next round
    }
  }
}

Follower::Follower(store::Database& db, const Registry& registry, ListenerFactory listen,
                   std::function<bool(std::string_view)> owned_here, FollowerOptions options)
    : s_(std::make_unique<State>(db, registry, std::move(listen), std::move(owned_here),
                                 options)) {}

Follower::~Follower() { Stop(); }

Status Follower::Start() {
  OPSBOX_ASSERT(!s_->thread.joinable());
  OPSBOX_TRY(s_->Listen());  // before reading the heads, so nothing falls between the two
  {
    std::lock_guard lock(s_->deliver_mu);
    OPSBOX_TRY(s_->ReadConn());
    OPSBOX_ASSIGN_OR_RETURN(auto heads, s_->ReadHeads(*s_->read_conn));
    std::lock_guard cursor_lock(s_->cursor_mu);
    for (auto& [tenant, seq] : heads) {
      auto& c = s_->cursors[tenant];
      c = std::max(c, seq);
    }
  }
  s_->thread = std::thread([s = s_.get()] { s->Run(); });
  return Ok();
}

void Follower::Stop() {
  s_->stop.store(true);
  if (s_->thread.joinable()) s_->thread.join();
}

void Follower::Advance(const std::vector<Event>& events) {
  std::lock_guard lock(s_->cursor_mu);
  for (const auto& e : events) {
    auto& c = s_->cursors[e.tenant_id];
    c = std::max(c, e.seq);
  }
}

Status Follower::CatchUp(const std::function<bool(std::string_view)>& select) {
  return s_->CatchUp(select);
}

uint64_t Follower::events_delivered() const { return s_->delivered.load(); }

}  // namespace opsbox::ledger
