// kpis_bench: the KPI figures of issue #13, each beside a reference measured in the same run.
// Prints one JSON object per line; bench/kpis/kpis.sh renders them.
//
//   kpis_bench --mode query  --backend sqlite --dir DIR | --backend postgres --pg-url URL
//              [--events 10000000] [--repeats 5]
//   kpis_bench --mode writer --backend sqlite --dir DIR | --backend postgres --pg-url URL
//              [--seconds 3] [--repeats 3] [--submitters 64]
//
// query: `events` routing events (4 per answered contact, 2 per abandon; 10 queues, 3
// channels, 20 intents, 2 languages, 200 agents, one year) turned into the aggregates by the
// same pure kpis::Apply the aggregator runs, stored in kpi_intervals; and the same events as
// rows of a raw table (one row per event with the measure it carries). The KPI read
// (kpis::Run: offered, asa, aht, service_level by queue and channel over the year; and by
// interval and queue over one day) beside the same figures by SQL over the raw rows.
//
// writer: `submitters` threads submit commands that each append one routing event (a contact's
// created, accepted, completed and wrapped-up in turn) through the real ledger writer, with and
// without the KPI aggregator registered, alternating, `repeats` times each; commands per second.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/random.hpp"
#include "core/time.hpp"
#include "core/zone.hpp"
#include "kpis/kpis.hpp"
#include "ledger/writer.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace opsbox::bench {
namespace {

using Clock = std::chrono::steady_clock;
using store::Value;

struct Options {
  std::string mode = "query";
  std::string backend = "sqlite";
  std::string dir = "/tmp";
  std::string pg_url;
  int64_t events = 10000000;
  int repeats = 5;
  double seconds = 3;
  int submitters = 64;
};

template <class T>
T Check(Result<T> r, const std::string& what) {
  if (!r.ok()) {
    std::cerr << what << ": " << r.error().ToString() << "\n";
    std::exit(1);
  }
  return std::move(*r);
}

void CheckStatus(const Status& s, const std::string& what) {
  if (!s.ok()) {
    std::cerr << what << ": " << s.error().ToString() << "\n";
    std::exit(1);
  }
}

std::string WithDatabase(const std::string& url, const std::string& name) {
  const auto slash = url.rfind('/');
  const auto q = url.find('?', slash);
  return url.substr(0, slash + 1) + name + (q == std::string::npos ? "" : url.substr(q));
}

std::unique_ptr<store::Database> Fresh(const Options& o, const std::string& name) {
  std::unique_ptr<store::Database> db;
  if (o.backend == "sqlite") {
    const std::string path = o.dir + "/kpis-" + name + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    db = Check(store::OpenSqlite({.path = path}), "open " + path);
  } else {
    const std::string dbname = "bench_kpis_" + name;
    auto admin = Check(store::OpenPostgres({.url = o.pg_url}), "pg");
    auto conn = Check(admin->Connect(), "connect");
    (void)Check(conn->Exec("DROP DATABASE IF EXISTS " + dbname), "drop");
    (void)Check(conn->Exec("CREATE DATABASE " + dbname), "create");
    db = Check(store::OpenPostgres({.url = WithDatabase(o.pg_url, dbname)}), "open " + dbname);
  }
  CheckStatus(db->Migrate(), "migrate");
  return db;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// ---- query --------------------------------------------------------------------------------

constexpr int64_t kYearStartUs = 1767225600000000;  // 2026-01-01T00:00:00Z
constexpr int64_t kDayUs = 86400LL * 1000000;
constexpr int kQueues = 10, kChannels = 3, kIntents = 20, kLanguages = 2, kAgents = 200;
const char* kChannelNames[kChannels] = {"voice", "chat", "email"};
const char* kLanguageNames[kLanguages] = {"en", "hi"};

struct Rng {
  std::mt19937_64 g;
  uint64_t NextU64() { return g(); }
  double NextDouble() { return static_cast<double>(g() >> 11) * 0x1.0p-53; }
};

// Raw event rows: (type code, at_us, queue, channel, intent, language, agent, wait_us, in_sl,
// duration_us). Type codes: 1 created, 2 accepted, 3 completed, 4 wrapped up, 5 cancelled.
void RunQuery(const Options& o) {
  auto db = Fresh(o, "query");
  auto conn = Check(db->Connect(), "connect");
  (void)Check(conn->Exec("CREATE TABLE raw_events (tenant_id TEXT NOT NULL, type INTEGER NOT NULL, "
                         "at_us BIGINT NOT NULL, queue_id TEXT NOT NULL, channel TEXT NOT NULL, "
                         "intent TEXT NOT NULL, language TEXT NOT NULL, agent TEXT NOT NULL, "
                         "wait_us BIGINT NOT NULL, in_sl INTEGER NOT NULL, duration_us BIGINT "
                         "NOT NULL)"),
              "create raw");
  Rng rnd{std::mt19937_64(7)};
  std::map<std::pair<int64_t, std::string>, kpis::Counters> agg;  // (bucket, dims key)
  std::map<std::string, kpis::Dims> dims_of;
  std::vector<std::vector<Value>> raw;
  const std::string raw_sql =
      "INSERT INTO raw_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  int64_t events = 0, contacts = 0;
  const auto t_load = Clock::now();
  auto flush_raw = [&] {
    auto tx = Check(conn->Begin(), "begin");
    CheckStatus(tx->ExecBatch(raw_sql, raw), "raw insert");
    CheckStatus(tx->Commit(), "commit raw");
    raw.clear();
  };
  std::optional<kpis::Contact> c;
  auto feed = [&](std::string_view type, const Json& p, int code, int64_t at, int64_t wait,
                  bool in_sl, int64_t dur) {
    kpis::Step s = kpis::Apply(type, p, c);
    for (auto& d : s.deltas) {
      std::string key = d.dims.queue + "|" + d.dims.channel + "|" + d.dims.intent + "|" +
                        d.dims.language + "|" + d.dims.agent;
      dims_of.emplace(key, d.dims);
      agg[{d.bucket_us, key}] += d.c;
    }
    raw.push_back({std::string("bench"), int64_t{code}, at, c ? c->dims.queue : std::string(),
                   c ? c->dims.channel : std::string(), c ? c->dims.intent : std::string(),
                   c ? c->dims.language : std::string(), c ? c->dims.agent : std::string(), wait,
                   int64_t{in_sl ? 1 : 0}, dur});
    ++events;
    if (raw.size() >= 20000) flush_raw();
  };
  const int64_t span = 365 * kDayUs;
  while (events < o.events) {
    const int64_t at = kYearStartUs + static_cast<int64_t>(rnd.NextDouble() * span);
    const std::string task = "t" + std::to_string(contacts++);
    Json attrs{{"intent", "intent_" + std::to_string(rnd.NextU64() % kIntents)},
               {"language", kLanguageNames[rnd.NextU64() % kLanguages]}};
    c.reset();
    feed("task_created",
         Json{{"task_id", task}, {"queue_id", "q" + std::to_string(rnd.NextU64() % kQueues)},
              {"channel", kChannelNames[rnd.NextU64() % kChannels]}, {"created_at_us", at},
              {"attributes", attrs}},
         1, at, 0, false, 0);
    const int64_t wait = static_cast<int64_t>(rnd.NextDouble() * 60e6);
    if (rnd.NextDouble() < 0.08) {
      feed("task_cancelled", Json{{"task_id", task}, {"at_us", at + wait}, {"previous_status", "waiting"}},
           5, at + wait, wait, false, 0);
      continue;
    }
    const bool in_sl = wait <= 20000000;
    const std::string agent = "agent_" + std::to_string(rnd.NextU64() % kAgents);
    feed("reservation_accepted",
         Json{{"task_id", task}, {"worker_id", agent}, {"at_us", at + wait}, {"wait_us", wait},
              {"in_service_level", in_sl}},
         2, at + wait, wait, in_sl, 0);
    const int64_t talk = 60000000 + static_cast<int64_t>(rnd.NextDouble() * 600e6);
    feed("task_completed", Json{{"task_id", task}, {"at_us", at + wait + talk}}, 3,
         at + wait + talk, 0, false, talk);
    const int64_t wrap = static_cast<int64_t>(rnd.NextDouble() * 60e6);
    feed("task_wrapped_up", Json{{"task_id", task}, {"at_us", at + wait + talk + wrap}}, 4,
         at + wait + talk + wrap, 0, false, wrap);
  }
  if (!raw.empty()) flush_raw();
  (void)Check(conn->Exec("CREATE INDEX raw_events_at ON raw_events (tenant_id, at_us)"), "index");
  const std::string upsert = "INSERT INTO kpi_intervals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  {
    std::vector<std::vector<Value>> rows;
    auto tx = Check(conn->Begin(), "begin");
    for (const auto& [k, counters] : agg) {
      const kpis::Dims& d = dims_of[k.second];
      std::vector<Value> r{std::string("bench"), k.first, d.queue, d.channel, d.intent, d.language,
                           d.agent};
      for (int64_t v : kpis::CounterValues(counters)) r.emplace_back(v);
      rows.push_back(std::move(r));
      if (rows.size() >= 20000) {
        CheckStatus(tx->ExecBatch(upsert, rows), "agg insert");
        rows.clear();
      }
    }
    if (!rows.empty()) CheckStatus(tx->ExecBatch(upsert, rows), "agg insert");
    CheckStatus(tx->Commit(), "commit agg");
  }
  // The roll-ups by queue and channel, as the aggregator keeps them beside kpi_intervals.
  {
    std::string sums;
    for (auto c : kpis::CounterColumns()) sums += ", SUM(" + std::string(c) + ")";
    (void)Check(conn->Exec("INSERT INTO kpi_qc_intervals SELECT tenant_id, bucket_us, queue_id, "
                           "channel" + sums + " FROM kpi_intervals GROUP BY tenant_id, bucket_us, "
                           "queue_id, channel"),
                "qc intervals");
    (void)Check(conn->Exec("INSERT INTO kpi_qc_days SELECT tenant_id, day_us, queue_id, channel" +
                           sums + " FROM (SELECT *, bucket_us - bucket_us % 86400000000 AS day_us "
                           "FROM kpi_intervals) x GROUP BY tenant_id, day_us, queue_id, channel"),
                "qc days");
  }
  (void)Check(conn->Exec("ANALYZE"), "analyze");
  const double load_s = std::chrono::duration<double>(Clock::now() - t_load).count();
  std::cout << Json{{"figure", "query_data"}, {"backend", o.backend}, {"events", events},
                    {"contacts", contacts}, {"aggregate_rows", agg.size()}, {"load_s", load_s}}
                   .dump()
            << std::endl;

  struct Case {
    std::string name, from, to, group_by, raw_group;
  };
  const std::vector<Case> cases = {
      {"year_by_queue_channel", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "queue,channel",
       "queue_id, channel"},
      {"day_by_interval_queue", "2026-06-15T00:00:00Z", "2026-06-16T00:00:00Z", "interval,queue",
       "at_us / 900000000, queue_id"},
      {"week_by_agent", "2026-06-15T00:00:00Z", "2026-06-22T00:00:00Z", "agent", "agent"},
  };
  for (const auto& cs : cases) {
    auto q = Check(kpis::ParseQuery(cs.from, cs.to, cs.group_by, "offered,asa,aht,service_level", ""),
                   "parse");
    const ZoneRules utc = ZoneRules::Utc();
    std::vector<double> ours, refs;
    size_t groups = 0, raw_groups = 0;
    for (int i = 0; i < o.repeats; ++i) {
      auto t0 = Clock::now();
      auto g = Check(kpis::Run(*conn, "bench", q, utc), "run");
      Json j = kpis::ToJson(q, g);
      ours.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      groups = g.size();
      // Raw: the same figures from event rows (arrival-time attribution aside: each event
      // counts at its own instant, which only makes the reference cheaper).
      t0 = Clock::now();
      Value p[] = {std::string("bench"), q.from_us, q.to_us};
      auto rows = Check(conn->Query(
          "SELECT " + cs.raw_group +
              ", SUM(CASE WHEN type = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN type = 2 THEN 1 ELSE 0 "
              "END), SUM(CASE WHEN type = 2 THEN in_sl ELSE 0 END), SUM(CASE WHEN type = 2 THEN "
              "wait_us ELSE 0 END), SUM(CASE WHEN type = 3 THEN 1 ELSE 0 END), SUM(CASE WHEN "
              "type IN (3, 4) THEN duration_us ELSE 0 END), SUM(CASE WHEN type = 5 THEN 1 ELSE "
              "0 END) FROM raw_events WHERE tenant_id = ? AND at_us >= ? AND at_us < ? GROUP BY " +
              cs.raw_group,
          p), "raw query");
      refs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      raw_groups = rows.size();
    }
    std::cout << Json{{"figure", "query"}, {"backend", o.backend}, {"case", cs.name},
                      {"events", events}, {"groups", groups}, {"raw_groups", raw_groups},
                      {"kpi_ms_median", Median(ours)}, {"raw_sql_ms_median", Median(refs)}}
                     .dump()
              << std::endl;
  }
}

// ---- writer -------------------------------------------------------------------------------

double WriterRun(const Options& o, bool with_aggregator, int round) {
  auto db = Fresh(o, std::string("writer") + (with_aggregator ? "a" : "b") + std::to_string(round));
  ledger::Registry registry;
  registry.DeclareEvents({"task_created", "reservation_accepted", "task_completed",
                          "task_wrapped_up", "task_transferred", "task_escalated",
                          "task_cancelled"});
  registry.AddCommand("route", [](store::Tx&, const ledger::Command& cmd, Instant now,
                                  Random&) -> Result<ledger::Decision> {
    const std::string& task = cmd.payload["task"].get_ref<const std::string&>();
    const int step = cmd.payload["step"].get<int>();
    ledger::Decision d;
    Json p{{"task_id", task}, {"at_us", now.us}, {"queue_id", "cards"}, {"worker_id", "ann"}};
    static const char* kTypes[] = {"task_created", "reservation_accepted", "task_completed",
                                   "task_wrapped_up"};
    if (step == 0) {
      p = Json{{"task_id", task}, {"queue_id", "cards"}, {"channel", "voice"},
               {"created_at_us", now.us}, {"attributes", Json{{"intent", "card_arrival"}}}};
    } else if (step == 1) {
      p["wait_us"] = 1000000;
      p["in_service_level"] = true;
    }
    d.events.push_back(ledger::NewEvent{kTypes[step], std::move(p)});
    return d;
  });
  std::unique_ptr<kpis::Aggregator> aggregator;
  if (with_aggregator) {
    aggregator = std::make_unique<kpis::Aggregator>(*db);
    aggregator->Register(registry);
  }
  SystemClock clock;
  SystemRandom random;
  ledger::Writer writer(*db, registry, clock, random, ledger::WriterOptions{});
  CheckStatus(writer.Start(), "writer");
  if (aggregator) CheckStatus(aggregator->Start(), "aggregator");
  std::atomic<bool> go{true};
  std::atomic<int64_t> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < o.submitters; ++t) {
    threads.emplace_back([&, t] {
      for (int64_t n = 0; go.load(); ++n) {
        const std::string task = "s" + std::to_string(t) + "_" + std::to_string(n / 4);
        auto r = writer.SubmitAndWait(ledger::Command{
            "bench", "", "route", "system", Json{{"task", task}, {"step", int(n % 4)}}});
        if (!r.ok()) {
          std::cerr << r.error().ToString() << "\n";
          std::exit(1);
        }
        done.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // warm-up
  const int64_t start_count = done.load();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  const int64_t n = done.load() - start_count;
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  go = false;
  for (auto& th : threads) th.join();
  writer.Stop();
  if (aggregator) {
    aggregator->Stop();
    CheckStatus(aggregator->Sync("bench"), "sync");
  }
  return n / s;
}

void RunWriter(const Options& o) {
  std::vector<double> with, without;
  for (int i = 0; i < o.repeats; ++i) {
    without.push_back(WriterRun(o, false, i));
    with.push_back(WriterRun(o, true, i));
  }
  std::cout << Json{{"figure", "writer"}, {"backend", o.backend}, {"submitters", o.submitters},
                    {"without_per_s", without}, {"with_per_s", with},
                    {"without_median", Median(without)}, {"with_median", Median(with)}}
                   .dump()
            << std::endl;
}

}  // namespace
}  // namespace opsbox::bench

int main(int argc, char** argv) {
  opsbox::bench::Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--mode") o.mode = v;
    else if (k == "--backend") o.backend = v;
    else if (k == "--dir") o.dir = v;
    else if (k == "--pg-url") o.pg_url = v;
    else if (k == "--events") o.events = std::stoll(v);
    else if (k == "--repeats") o.repeats = std::stoi(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--submitters") o.submitters = std::stoi(v);
    else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  if (o.mode == "query") {
    opsbox::bench::RunQuery(o);
  } else if (o.mode == "writer") {
    opsbox::bench::RunWriter(o);
  } else {
    std::cerr << "--mode is query or writer\n";
    return 2;
  }
  return 0;
}
