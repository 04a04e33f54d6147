// ledger_bench: the ledger writer's group commit under concurrent submitters, beside the raw
// insert rate of the same rows done directly with the store, in the same run (STYLE.md house
// rule 9). Prints one JSON object per line on stdout; scripts/bench renders them into
// docs/benchmarks.md.
//
//   ledger_bench --backend sqlite --dir DIR [--sync FULL|NORMAL]
//   ledger_bench --backend postgres --pg-url URL [--shards N]
//     common: [--submitters 64] [--tenants 4] [--seconds 3] [--warmup-seconds 0.5]
//             [--raw-seconds 2] [--raw-large-batch 1024] [--label NAME]
//
// Writer figure: `submitters` threads each submit one record_external_event command (unique
// external id, the command id the HTTP layer would use), wait for its answer, and loop. The
// tenants are picked so that they land on distinct writer shards. Every measurement runs on a
// fresh migrated database (a new SQLite file, or a new PostgreSQL database).
//
// Raw reference: per transaction, the same three rows per command that the writer stores
// (ledger_events, ledger_commands, external_events), inserted with Tx::ExecBatch, one
// connection per writer shard, at the writer's measured average batch size and at a large
// batch. Only the transaction is timed (building the row values is not).
//
// Also printed: a hardware probe (SQLite: 4 KiB write + fdatasync in DIR; PostgreSQL: a
// `SELECT 1` round trip), and in the writer line the wall time the writer spent in each
// statement (a timing decorator around its connections) and its threads' CPU per command.
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "identity/identity.hpp"
#include "integrations/integrations.hpp"
#include "ledger/writer.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace opsbox::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Caps so that a typo cannot make the run unbounded.
constexpr int kSubmittersMax = 1024;
constexpr int kTenantsMax = 64;
constexpr double kSecondsMax = 600;
constexpr size_t kBatchRowsMax = 100000;

struct Options {
  std::string backend = "sqlite";
  std::string dir;     // SQLite: folder for fresh database files
  std::string pg_url;  // PostgreSQL: an admin URL; fresh databases are created beside it
  std::string sync = "FULL";
  int shards = 1;
  int submitters = 64;
  int tenants = 4;
  double seconds = 3;
  double warmup_seconds = 0.5;
  double raw_seconds = 2;
  size_t raw_large_batch = 1024;
  std::string label = "run";
};

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "ledger_bench: " << what << "\n";
  std::exit(1);
}

template <class T>
T Check(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.error().ToString());
  return std::move(r).value();
}

void CheckStatus(const Status& st, const std::string& what) {
  if (!st.ok()) Die(what + ": " + st.error().ToString());
}

double NumberArg(const std::string& name, const char* text, double lo, double hi) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || v < lo || v > hi) {
    Die(name + " must be a number from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return v;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) Die("missing value after " + a);
    const char* v = argv[++i];
    if (a == "--backend")
      o.backend = v;
    else if (a == "--dir")
      o.dir = v;
    else if (a == "--pg-url")
      o.pg_url = v;
    else if (a == "--sync")
      o.sync = v;
    else if (a == "--label")
      o.label = v;
    else if (a == "--shards")
      o.shards = static_cast<int>(NumberArg(a, v, 1, 64));
    else if (a == "--submitters")
      o.submitters = static_cast<int>(NumberArg(a, v, 1, kSubmittersMax));
    else if (a == "--tenants")
      o.tenants = static_cast<int>(NumberArg(a, v, 1, kTenantsMax));
    else if (a == "--seconds")
      o.seconds = NumberArg(a, v, 0.1, kSecondsMax);
    else if (a == "--warmup-seconds")
      o.warmup_seconds = NumberArg(a, v, 0, kSecondsMax);
    else if (a == "--raw-seconds")
      o.raw_seconds = NumberArg(a, v, 0.1, kSecondsMax);
    else if (a == "--raw-large-batch") {
      o.raw_large_batch = static_cast<size_t>(NumberArg(a, v, 1, kBatchRowsMax));
    } else {
      Die("unknown option " + a);
    }
  }
  if (o.backend == "sqlite" && o.dir.empty()) Die("--backend sqlite needs --dir");
  if (o.backend == "postgres" && o.pg_url.empty()) Die("--backend postgres needs --pg-url");
  if (o.backend != "sqlite" && o.backend != "postgres") Die("--backend is sqlite or postgres");
  return o;
}

// postgresql://user@host:port/db -> the same URL naming database `name`.
std::string WithDatabase(const std::string& url, const std::string& name) {
  const size_t scheme = url.find("://");
  const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) Die("--pg-url must be postgresql://user@host:port/db");
  return url.substr(0, slash + 1) + name;
}

// A fresh, migrated database for one measurement.
std::unique_ptr<store::Database> FreshDatabase(const Options& o, const std::string& name) {
  std::unique_ptr<store::Database> db;
  if (o.backend == "sqlite") {
    const std::string path = o.dir + "/" + o.label + "-" + name + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    db = Check(store::OpenSqlite({.path = path, .synchronous = o.sync}), "open " + path);
  } else {
    std::string dbname = "bench_" + o.label + "_" + name;
    for (char& c : dbname) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    auto admin = Check(store::OpenPostgres({.url = o.pg_url, .writer_shards = o.shards}), "pg");
    auto conn = Check(admin->Connect(), "connect");
    (void)Check(conn->Exec("DROP DATABASE IF EXISTS " + dbname), "drop database");
    (void)Check(conn->Exec("CREATE DATABASE " + dbname), "create database");
    db = Check(
        store::OpenPostgres({.url = WithDatabase(o.pg_url, dbname), .writer_shards = o.shards}),
        "open " + dbname);
  }
  CheckStatus(db->Migrate(), "migrate");
  return db;
}

// `count` tenant ids that the writer spreads over distinct shards (ledger::ShardOf).
std::vector<std::string> PickTenants(int count, int shards) {
  std::vector<std::string> out;
  std::map<size_t, int> per_shard;
  for (int i = 0; static_cast<int>(out.size()) < count; ++i) {
    std::string t = "bench-" + std::to_string(i);
    const auto shard = static_cast<size_t>(ledger::ShardOf(t, shards));
    if (per_shard[shard] * shards > static_cast<int>(out.size())) continue;
    ++per_shard[shard];
    out.push_back(std::move(t));
  }
  return out;
}

// The record_external_event payload the HTTP benchmark also posts.
Json ExternalEventPayload(const std::string& external_id, Instant now) {
  return Json{{"source", "bench"},
              {"type", "call.ended"},
              {"external_id", external_id},
              {"occurred_at", FormatRfc3339(now)},
              {"payload",
               {{"agent", "agent-17"},
                {"duration_s", 42},
                {"queue", "collections"},
                {"outcome", "promise_to_pay"}}}};
}

ledger::Command ExternalEventCommand(const std::string& tenant, const std::string& external_id,
                                     Instant now) {
  return ledger::Command{tenant, integrations::ExternalEventCommandId("bench", external_id),
                         std::string(integrations::kRecordExternalEvent), "key_bench",
                         ExternalEventPayload(external_id, now)};
}

// One submitter's answers: (completion time, latency) per command.
struct Sample {
  SteadyClock::time_point done_at;
  int64_t latency_ns;
};

struct SubmitterResult {
  std::vector<Sample> samples;
  int64_t failures = 0;
  std::string first_error;
};

// Submits one command at a time and waits for its answer until `stop`.
void RunSubmitter(ledger::Writer& writer, Clock& clock, const std::string& tenant, int index,
                  const std::atomic<bool>& stop, SubmitterResult& out) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Result<ledger::CommandOutcome> answer = Error::Internal("no answer");
  for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    const std::string external_id = "s" + std::to_string(index) + "-" + std::to_string(i);
    ledger::Command cmd = ExternalEventCommand(tenant, external_id, clock.Now());
    const auto t0 = SteadyClock::now();
    writer.Submit(std::move(cmd), [&](Result<ledger::CommandOutcome> r) {
      std::lock_guard lock(mu);
      answer = std::move(r);
      done = true;
      cv.notify_one();
    });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    done = false;
    const auto t1 = SteadyClock::now();
    if (!answer.ok() || answer->first_seq == 0 || answer->replayed) {
      if (out.failures++ == 0) {
        out.first_error = answer.ok() ? "not appended" : answer.error().ToString();
      }
      continue;
    }
    out.samples.push_back(
        {t1, std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()});
  }
}

int64_t Percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU time (user + system) of the whole process, or of the calling thread, in microseconds.
// Unlike wall time it barely depends on what else runs on a shared machine.
int64_t ProcessCpuUs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec +
         ru.ru_stime.tv_usec;
}

// CPU time of each thread of this process, by thread id, from /proc (clock-tick resolution).
std::map<int, int64_t> ThreadCpuUsByTid() {
  std::map<int, int64_t> out;
  const int64_t tick_us = 1000000 / sysconf(_SC_CLK_TCK);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    int64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14) utime = std::stoll(field);
      if (i == 15) stime = std::stoll(field);
    }
    out[std::stoi(entry.path().filename().string())] = (utime + stime) * tick_us;
  }
  return out;
}

// The CPU the `n` busiest threads used between two ThreadCpuUsByTid() snapshots: the writer's
// shard threads, which the submitters (each waiting most of the time) never outrun.
int64_t BusiestThreadsCpuUs(const std::map<int, int64_t>& before,
                            const std::map<int, int64_t>& after, int n) {
  std::vector<int64_t> deltas;
  for (const auto& [tid, us] : after) {
    auto it = before.find(tid);
    deltas.push_back(us - (it == before.end() ? 0 : it->second));
  }
  std::sort(deltas.rbegin(), deltas.rend());
  int64_t sum = 0;
  for (size_t i = 0; i < deltas.size() && i < static_cast<size_t>(n); ++i) sum += deltas[i];
  return sum;
}

int64_t ThreadCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

// A store decorator that times every statement the writer runs (wall clock, per SQL text), so
// the report can say where the writer's time goes. Costs two clock reads per statement.
class StatementTimes {
 public:
  void Add(std::string_view sql, SteadyClock::duration d) {
    std::lock_guard lock(mu_);
    auto& e = by_sql_[std::string(sql.substr(0, 60))];
    ++e.calls;
    e.time += d;
  }
  void Reset() {
    std::lock_guard lock(mu_);
    by_sql_.clear();
  }
  // [{sql, calls, us_per_call, total_ms}], longest total first.
  Json ToJson() const {
    std::lock_guard lock(mu_);
    Json out = Json::array();
    for (const auto& [sql, e] : by_sql_) {
      const double total_us = Seconds(e.time) * 1e6;
      out.push_back({{"sql", sql},
                     {"calls", e.calls},
                     {"us_per_call", total_us / static_cast<double>(e.calls)},
                     {"total_ms", total_us / 1000}});
    }
    std::sort(out.begin(), out.end(),
              [](const Json& a, const Json& b) { return a["total_ms"] > b["total_ms"]; });
    return out;
  }

 private:
  struct Entry {
    int64_t calls = 0;
    SteadyClock::duration time{};
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> by_sql_;
};

template <class F>
auto Timed(StatementTimes& times, std::string_view what, F&& f) {
  const auto t0 = SteadyClock::now();
  auto r = f();
  times.Add(what, SteadyClock::now() - t0);
  return r;
}

class TimedTx final : public store::Tx {
 public:
  TimedTx(std::unique_ptr<store::Tx> tx, StatementTimes& times)
      : tx_(std::move(tx)), times_(times) {}
  Result<int64_t> Exec(std::string_view sql, std::span<const store::Value> p) override {
    return Timed(times_, sql, [&] { return tx_->Exec(sql, p); });
  }
  Result<store::Rows> Query(std::string_view sql, std::span<const store::Value> p) override {
    return Timed(times_, sql, [&] { return tx_->Query(sql, p); });
  }
  Status ExecBatch(std::string_view sql, std::span<const std::vector<store::Value>> rows) override {
    return Timed(times_, "[batch] " + std::string(sql), [&] { return tx_->ExecBatch(sql, rows); });
  }
  Status Commit() override {
    return Timed(times_, "COMMIT", [&] { return tx_->Commit(); });
  }
  void Rollback() override { tx_->Rollback(); }

 private:
  std::unique_ptr<store::Tx> tx_;
  StatementTimes& times_;
};

class TimedConnection final : public store::Connection {
 public:
  TimedConnection(std::unique_ptr<store::Connection> c, StatementTimes& times)
      : conn_(std::move(c)), times_(times) {}
  Result<std::unique_ptr<store::Tx>> Begin() override {
    OPSBOX_ASSIGN_OR_RETURN(auto tx, Timed(times_, "BEGIN", [&] { return conn_->Begin(); }));
    return std::unique_ptr<store::Tx>(std::make_unique<TimedTx>(std::move(tx), times_));
  }
  Result<int64_t> Exec(std::string_view sql, std::span<const store::Value> p) override {
    return conn_->Exec(sql, p);
  }
  Result<store::Rows> Query(std::string_view sql, std::span<const store::Value> p) override {
    return conn_->Query(sql, p);
  }
  store::Dialect dialect() const override { return conn_->dialect(); }

 private:
  std::unique_ptr<store::Connection> conn_;
  StatementTimes& times_;
};

class TimedDatabase final : public store::Database {
 public:
  TimedDatabase(store::Database& db, StatementTimes& times) : db_(db), times_(times) {}
  Result<std::unique_ptr<store::Connection>> Connect() override {
    OPSBOX_ASSIGN_OR_RETURN(auto c, db_.Connect());
    return std::unique_ptr<store::Connection>(
        std::make_unique<TimedConnection>(std::move(c), times_));
  }
  store::Dialect dialect() const override { return db_.dialect(); }
  int WriterShardsMax() const override { return db_.WriterShardsMax(); }

 private:
  store::Database& db_;
  StatementTimes& times_;
};

struct WriterFigure {
  Json json;
  double batch_avg = 1;
};

// What the measurement window saw, besides the submitters' samples.
struct Window {
  SteadyClock::time_point start, end;
  uint64_t commits = 0, batch_size_sum = 0;
  int64_t cpu_us = 0, writer_cpu_us = 0;
  Json statements;
};

// Runs the submitters against `writer`, measuring only between warm-up and the end.
Window RunWindow(const Options& o, ledger::Writer& writer, Clock& clock, StatementTimes& times,
                 const std::vector<std::string>& tenants, std::vector<SubmitterResult>& results) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < o.submitters; ++i) {
    const std::string& tenant = tenants[static_cast<size_t>(i) % tenants.size()];
    threads.emplace_back([&, i, tenant] {
      RunSubmitter(writer, clock, tenant, i, stop, results[static_cast<size_t>(i)]);
    });
  }
  auto secs = [](double s) {
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
  };
  std::this_thread::sleep_for(secs(o.warmup_seconds));
  Window w;
  w.start = SteadyClock::now();
  const uint64_t commits0 = writer.stats().commits, batch0 = writer.stats().batch_size_sum;
  times.Reset();
  const int64_t cpu0_us = ProcessCpuUs();
  const auto threads0 = ThreadCpuUsByTid();
  std::this_thread::sleep_for(secs(o.seconds));
  w.end = SteadyClock::now();
  w.cpu_us = ProcessCpuUs() - cpu0_us;
  w.writer_cpu_us = BusiestThreadsCpuUs(threads0, ThreadCpuUsByTid(), writer.shard_count());
  w.statements = times.ToJson();
  w.commits = writer.stats().commits - commits0;
  w.batch_size_sum = writer.stats().batch_size_sum - batch0;
  stop = true;
  for (auto& t : threads) t.join();
  return w;
}

WriterFigure Summarise(const Options& o, int shards, size_t tenants, const Window& w,
                       const std::vector<SubmitterResult>& results) {
  std::vector<int64_t> latencies;
  int64_t failures = 0;
  std::string first_error;
  for (const auto& r : results) {
    failures += r.failures;
    if (first_error.empty()) first_error = r.first_error;
    for (const auto& s : r.samples) {
      if (s.done_at >= w.start && s.done_at < w.end) latencies.push_back(s.latency_ns);
    }
  }
  const double window_s = Seconds(w.end - w.start);
  const auto commits = static_cast<double>(w.commits);
  const auto n = static_cast<double>(latencies.size());
  const auto per_command = [n](int64_t us) { return n > 0 ? static_cast<double>(us) / n : 0; };
  WriterFigure f;
  f.batch_avg = commits > 0 ? static_cast<double>(w.batch_size_sum) / commits : 1;
  f.json = Json{{"bench", "ledger_writer"},
                {"backend", o.backend},
                {"sync", o.sync},
                {"shards", shards},
                {"label", o.label},
                {"submitters", o.submitters},
                {"tenants", tenants},
                {"commands", latencies.size()},
                {"seconds", window_s},
                {"commands_per_s", n / window_s},
                {"p50_ms", static_cast<double>(Percentile(latencies, 0.50)) / 1e6},
                {"p99_ms", static_cast<double>(Percentile(latencies, 0.99)) / 1e6},
                {"batch_avg", f.batch_avg},
                {"commits_per_s", commits / window_s},
                {"cpu_us_per_command", per_command(w.cpu_us)},
                {"writer_cpu_us_per_command", per_command(w.writer_cpu_us)},
                {"writer_busy", static_cast<double>(w.writer_cpu_us) / 1e6 / window_s / shards},
                {"writer_wall_ms", window_s * 1000 * shards},
                {"statements", w.statements},
                {"failures", failures},
                {"first_error", first_error}};
  return f;
}

// Bytes on disk per command in the writer's database after the run (issue #20 item 5): each
// ledger table with its indexes, divided by the commands recorded; beside the average
// canonical payload of the external events (the data itself). SQLite: the dbstat table
// (pages in use); PostgreSQL: pg_total_relation_size (heap, indexes and TOAST).
Json MeasureBytes(const Options& o, store::Database& db) {
  auto conn = Check(db.Connect(), "connect");
  const auto scalar = [&](const std::string& sql) {
    auto rows = Check(conn->Query(sql), sql);
    return rows.empty() ? int64_t{0} : rows[0].Int(0);
  };
  const int64_t commands = scalar("SELECT COUNT(*) FROM ledger_commands");
  const int64_t payload = scalar(
      "SELECT CAST(AVG(LENGTH(payload)) AS BIGINT) FROM ledger_events WHERE type = "
      "'external_event_recorded'");
  Json tables = Json::object();
  int64_t total = 0;
  for (const char* table : {"ledger_events", "ledger_commands", "external_events"}) {
    int64_t bytes = 0;
    if (o.backend == "sqlite") {
      // A table's own b-tree and those of its indexes (named after it by SQLite or by us).
      bytes = scalar(std::string("SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN "
                                 "(SELECT name FROM sqlite_schema WHERE tbl_name = '") +
                     table + "')");
    } else {
      bytes = scalar(std::string("SELECT pg_total_relation_size('") + table + "')");
    }
    total += bytes;
    tables[table] = commands > 0 ? static_cast<double>(bytes) / static_cast<double>(commands) : 0;
  }
  return Json{{"commands", commands},
              {"payload_bytes", payload},
              {"bytes_per_command", commands > 0 ? static_cast<double>(total) /
                                                       static_cast<double>(commands)
                                                 : 0},
              {"per_table", tables}};
}

// The writer benchmark. Returns its JSON line and the average batch size it achieved.
WriterFigure BenchWriter(const Options& o, const std::vector<std::string>& tenants) {
  auto plain_db = FreshDatabase(o, "writer");
  StatementTimes times;
  TimedDatabase db(*plain_db, times);
  SystemClock clock;
  SystemRandom random;
  ledger::Registry registry;
  identity::RegisterIdentity(registry, identity::IdentityOptions{});
  integrations::SubscriptionCache cache;
  integrations::RegisterIntegrations(registry, cache, nullptr, {});
  ledger::Writer writer(db, registry, clock, random, ledger::WriterOptions{.shards = o.shards});
  CheckStatus(writer.Start(), "writer start");
  for (const auto& t : tenants) {
    (void)Check(writer.SubmitAndWait(
                    ledger::Command{t, "", std::string(identity::kCreateTenant), "cli:bench",
                                    Json{{"tenant_id", t}, {"name", "Bench " + t}}}),
                "create_tenant " + t);
  }
  std::vector<SubmitterResult> results(static_cast<size_t>(o.submitters));
  const Window w = RunWindow(o, writer, clock, times, tenants, results);
  writer.Stop();
  WriterFigure f = Summarise(o, writer.shard_count(), tenants.size(), w, results);
  f.json["storage"] = MeasureBytes(o, *plain_db);
  return f;
}

// A random-looking 64-hex-digit string (B-tree inserts in random key order, like SHA-256 ids).
std::string Hex64(uint64_t x) {
  std::string out;
  out.reserve(64);
  static const char* kDigits = "0123456789abcdef";
  for (int part = 0; part < 4; ++part) {
    x += 0x9e3779b97f4a7c15ULL;  // splitmix64
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (int i = 0; i < 16; ++i) out.push_back(kDigits[(z >> (60 - 4 * i)) & 0xf]);
  }
  return out;
}

struct RawRows {
  std::vector<std::vector<store::Value>> events, commands, externals;
};

// The three rows the writer stores per record_external_event command, shaped like its rows
// (same columns, similar sizes, random-order command ids).
void AddRawRows(RawRows& rows, const std::string& tenant, int64_t seq, Instant now) {
  const std::string external_id = "r-" + std::to_string(seq);
  const std::string command_id =
      "xevcmd_" +
      Hex64(static_cast<uint64_t>(seq) * 7919 + std::hash<std::string>{}(tenant)).substr(0, 22);
  const std::string xev_id = "xev_" + std::to_string(now.us) + "_" + std::to_string(seq);
  Json p = ExternalEventPayload(external_id, now);
  Json event = {{"external_event_id", xev_id}, {"source", "bench"},
                {"type", "call.ended"},        {"external_id", external_id},
                {"occurred_at_us", now.us},    {"payload", p["payload"]}};
  rows.events.push_back({tenant, seq, "evt_" + std::to_string(now.us) + "_" + std::to_string(seq),
                         now.us, std::string("key_bench"), command_id,
                         std::string(integrations::kExternalEventRecorded), CanonicalJson(event),
                         Hex64(static_cast<uint64_t>(seq)), Hex64(static_cast<uint64_t>(seq) + 1)});
  rows.commands.push_back({tenant, command_id, std::string(integrations::kRecordExternalEvent),
                           Hex64(static_cast<uint64_t>(seq) + 99), std::string(), seq, seq,
                           now.us});
  rows.externals.push_back({tenant, xev_id, std::string("bench"), std::string("call.ended"),
                            external_id, now.us, now.us, seq});
}

constexpr std::string_view kRawInsertEvent =
    "INSERT INTO ledger_events (tenant_id, seq, event_id, recorded_at_us, actor, command_id, "
    "type, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kRawInsertCommand =
    "INSERT INTO ledger_commands (tenant_id, command_id, command_type, request_hash, result, "
    "first_seq, last_seq, recorded_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kRawInsertExternal =
    "INSERT INTO external_events (tenant_id, external_event_id, source, type, external_id, "
    "occurred_at_us, received_at_us, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

struct RawResult {
  int64_t commands = 0;
  SteadyClock::duration tx_time{};
  int64_t tx_cpu_us = 0;  // this process's share; PostgreSQL's server work is not in it
};

// One connection inserting batches of `batch` commands' rows into `tenant` for `seconds`.
void RunRawConnection(store::Database& db, const std::string& tenant, size_t batch, double seconds,
                      RawResult& out) {
  auto conn = Check(db.Connect(), "connect");
  SystemClock clock;
  const auto deadline = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                 std::chrono::duration<double>(seconds));
  int64_t seq = 0;
  while (SteadyClock::now() < deadline) {
    RawRows rows;
    const Instant now = clock.Now();
    for (size_t i = 0; i < batch; ++i) AddRawRows(rows, tenant, ++seq, now);
    const auto t0 = SteadyClock::now();
    const int64_t cpu0_us = ThreadCpuUs();
    auto tx = Check(conn->Begin(), "begin");
    CheckStatus(tx->ExecBatch(kRawInsertEvent, rows.events), "insert ledger_events");
    CheckStatus(tx->ExecBatch(kRawInsertCommand, rows.commands), "insert ledger_commands");
    CheckStatus(tx->ExecBatch(kRawInsertExternal, rows.externals), "insert external_events");
    CheckStatus(tx->Commit(), "commit");
    out.tx_time += SteadyClock::now() - t0;
    out.tx_cpu_us += ThreadCpuUs() - cpu0_us;
    out.commands += static_cast<int64_t>(batch);
  }
}

// The raw reference: one connection per writer shard, each on its own tenant.
Json BenchRaw(const Options& o, size_t batch, const std::string& kind) {
  auto db = FreshDatabase(o, "raw-" + kind);
  const int conns = std::max(1, std::min(o.shards, db->WriterShardsMax()));
  std::vector<RawResult> results(static_cast<size_t>(conns));
  std::vector<std::thread> threads;
  for (int i = 0; i < conns; ++i) {
    threads.emplace_back([&, i] {
      RunRawConnection(*db, "raw-" + std::to_string(i), batch, o.raw_seconds,
                       results[static_cast<size_t>(i)]);
    });
  }
  for (auto& t : threads) t.join();
  double rate = 0;
  int64_t commands = 0, cpu_us = 0;
  for (const auto& r : results) {
    commands += r.commands;
    cpu_us += r.tx_cpu_us;
    if (r.commands > 0) rate += static_cast<double>(r.commands) / Seconds(r.tx_time);
  }
  return Json{{"bench", "ledger_raw"},
              {"backend", o.backend},
              {"sync", o.sync},
              {"shards", conns},
              {"label", o.label},
              {"kind", kind},
              {"batch_rows", batch},
              {"commands", commands},
              {"commands_per_s", rate},
              {"cpu_us_per_command",
               commands > 0 ? static_cast<double>(cpu_us) / static_cast<double>(commands) : 0}};
}

// The hardware reference for a durable commit: 4 KiB written and fdatasync'ed in a loop, in
// the folder holding the SQLite files (what SQLite's WAL does per COMMIT at synchronous=FULL).
Json ProbeFsync(const Options& o) {
  const std::string path = o.dir + "/" + o.label + "-fsync-probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Die("open " + path + ": " + std::strerror(errno));
  std::vector<char> page(4096, 'x');
  // Written once first, so that the loop overwrites allocated blocks as a reused WAL does.
  for (int i = 0; i < 1024; ++i) {
    if (::write(fd, page.data(), page.size()) < 0) Die("write " + path);
  }
  if (::fsync(fd) != 0) Die("fsync " + path);
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::milliseconds(1000);
  int64_t n = 0;
  while (SteadyClock::now() < deadline) {
    if (::pwrite(fd, page.data(), page.size(), static_cast<off_t>(n % 1024) * 4096) < 0 ||
        ::fdatasync(fd) != 0) {
      Die("write/fdatasync " + path + ": " + std::strerror(errno));
    }
    ++n;
  }
  const double s = Seconds(SteadyClock::now() - start);
  ::close(fd);
  std::filesystem::remove(path);
  return Json{{"bench", "fsync_probe"},
              {"label", o.label},
              {"fsyncs_per_s", static_cast<double>(n) / s},
              {"fsync_ms", s * 1000 / static_cast<double>(n)}};
}

// The PostgreSQL reference for one synchronous statement: `SELECT 1` round trips on loopback.
Json ProbeRoundTrip(const Options& o) {
  auto db = Check(store::OpenPostgres({.url = o.pg_url}), "pg");
  auto conn = Check(db->Connect(), "connect");
  constexpr int kRoundTrips = 2000;
  const auto start = SteadyClock::now();
  for (int i = 0; i < kRoundTrips; ++i) (void)Check(conn->Query("SELECT 1"), "SELECT 1");
  const double s = Seconds(SteadyClock::now() - start);
  return Json{
      {"bench", "roundtrip_probe"}, {"label", o.label}, {"roundtrip_us", s * 1e6 / kRoundTrips}};
}

int Main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  InitCrypto();
  if (o.backend == "sqlite") std::cout << ProbeFsync(o).dump() << std::endl;
  if (o.backend == "postgres") std::cout << ProbeRoundTrip(o).dump() << std::endl;
  const auto tenants = PickTenants(o.tenants, o.shards);
  const WriterFigure w = BenchWriter(o, tenants);
  std::cout << w.json.dump() << std::endl;
  const auto avg = static_cast<size_t>(std::max(1.0, std::round(w.batch_avg)));
  std::cout << BenchRaw(o, avg, "writer_batch").dump() << std::endl;
  std::cout << BenchRaw(o, o.raw_large_batch, "large_batch").dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace opsbox::bench

int main(int argc, char** argv) { return opsbox::bench::Main(argc, argv); }
