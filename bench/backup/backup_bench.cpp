// Backup and restore benchmark (issue #18), driven by bench/backup/backup.sh. One JSON line per
// step on standard output.
//
//   backup_bench generate --db URL --events N [--tenants T]
//       The documented direct path for a large ledger: correctly hash-chained events
//       (ComputeEventHash) inserted with ExecBatch, 10,000 per transaction, bypassing the writer
//       (which would take hours for 1,000,000 events on this machine), then one signed
//       checkpoint per tenant through the real Checkpointer, so restore's ledger verify checks
//       every hash and the Merkle root.
//   backup_bench backup --db URL --out FILE           time and size of opsbox's backup
//   backup_bench restore --from FILE --db URL         time of opsbox's restore (load + verify)
//   backup_bench writer --db URL --seconds S --rounds R [--submitters N]
//       the ledger writer's commands/s (record_external_event, N submitters) in alternating
//       windows without and with a backup of the same database running, R rounds each.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "backup/backup.hpp"
#include "core/crypto.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "integrations/integrations.hpp"
#include "identity/identity.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/event.hpp"
#include "ledger/reader.hpp"
#include "ledger/registry.hpp"
#include "ledger/writer.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace opsbox {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int64_t kEventsPerTx = 10000;
constexpr int64_t kEventsMax = 100'000'000;

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "backup_bench: " << what << "\n";
  std::exit(1);
}
template <class T>
T Check(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.error().ToString());
  return std::move(r).value();
}
void CheckOk(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.error().ToString());
}

double Seconds(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::unique_ptr<store::Database> Open(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) {
    return Check(store::OpenSqlite({.path = url.substr(7)}), "open " + url);
  }
  return Check(store::OpenPostgres({.url = url}), "open " + url);
}

std::map<std::string, std::string> Args(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) Die("expected --flag VALUE, got " + k);
    out[k.substr(2)] = argv[i + 1];
  }
  return out;
}

std::string Need(const std::map<std::string, std::string>& a, const std::string& k) {
  auto it = a.find(k);
  if (it == a.end()) Die("--" + k + " is required");
  return it->second;
}

int64_t Int(const std::map<std::string, std::string>& a, const std::string& k, int64_t def,
            int64_t max) {
  auto it = a.find(k);
  if (it == a.end()) return def;
  const int64_t v = std::stoll(it->second);
  if (v < 1 || v > max) Die("--" + k + " must be 1.." + std::to_string(max));
  return v;
}

void Generate(const std::map<std::string, std::string>& a) {
  auto db = Open(Need(a, "db"));
  CheckOk(db->Migrate(), "migrate");
  const int64_t events = Int(a, "events", 1'000'000, kEventsMax);
  const int64_t tenants = Int(a, "tenants", 10, 1000);
  auto conn = Check(db->Connect(), "connect");
  const std::string sql = "INSERT INTO ledger_events (" + std::string(ledger::kEventColumns) +
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  const auto t0 = SteadyClock::now();
  std::vector<std::string> prev(static_cast<size_t>(tenants), std::string(ledger::kGenesisHash));
  std::vector<std::vector<store::Value>> rows;
  const int64_t base_us = 1'790'000'000'000'000;
  for (int64_t done = 0; done < events;) {
    rows.clear();
    const int64_t n = std::min(kEventsPerTx, events - done);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = done + i;
      const size_t t = static_cast<size_t>(k % tenants);
      ledger::Event e;
      e.tenant_id = "t" + std::to_string(t);
      e.seq = k / tenants + 1;
      e.event_id = "evt_bench_" + std::to_string(k);
      e.recorded_at = Instant{base_us + k * 1000};
      e.actor = "key_bench";
      e.command_id = "cmd_bench_" + std::to_string(k);
      e.type = "external_event_recorded";
      e.payload = CanonicalJson(Json{{"source", "bench"},
                                     {"type", "call.ended"},
                                     {"external_id", "x-" + std::to_string(k)},
                                     {"occurred_at_us", base_us + k * 1000},
                                     {"payload", {{"agent", "agent-17"},
                                                  {"duration_s", 42},
                                                  {"queue", "collections"},
                                                  {"outcome", "promise_to_pay"}}}});
      e.prev_hash = prev[t];
      e.hash = ledger::ComputeEventHash(e);
      prev[t] = e.hash;
      rows.push_back({e.tenant_id, e.seq, e.event_id, e.recorded_at.us, e.actor, e.command_id,
                      e.type, e.payload, e.prev_hash, e.hash});
    }
    auto tx = Check(conn->Begin(), "begin");
    CheckOk(tx->ExecBatch(sql, rows), "insert events");
    CheckOk(tx->Commit(), "commit");
    done += n;
  }
  const auto t1 = SteadyClock::now();
  SystemClock clock;
  ledger::Checkpointer cp(*db, GenerateSigningKey(), clock, 1);
  CheckOk(cp.CheckpointAll(), "checkpoint");
  const auto t2 = SteadyClock::now();
  std::cout << Json{{"bench", "generate"},
                    {"events", events},
                    {"tenants", tenants},
                    {"insert_s", Seconds(t0, t1)},
                    {"checkpoint_s", Seconds(t1, t2)}}
                   .dump()
            << std::endl;
}

void Backup(const std::map<std::string, std::string>& a) {
  auto db = Open(Need(a, "db"));
  backup::BackupOptions o;
  o.opsbox_version = "bench";
  const auto t0 = SteadyClock::now();
  auto r = Check(backup::CreateBackup(*db, Need(a, "out"), o), "backup");
  const auto t1 = SteadyClock::now();
  std::cout << Json{{"bench", "backup"},
                    {"seconds", Seconds(t0, t1)},
                    {"bytes", r.bundle_bytes},
                    {"rows", r.rows}}
                   .dump()
            << std::endl;
}

void Restore(const std::map<std::string, std::string>& a) {
  auto db = Open(Need(a, "db"));
  const auto t0 = SteadyClock::now();
  auto bundle = Check(backup::OpenBundle(Need(a, "from")), "open bundle");
  const auto t1 = SteadyClock::now();
  auto report = Check(backup::Restore(bundle, *db, {}), "restore");
  const auto t2 = SteadyClock::now();
  if (!report.ok) Die("restore verified badly: " + report.ToJson().dump());
  std::cout << Json{{"bench", "restore"},
                    {"seconds", Seconds(t0, t2)},
                    {"check_s", Seconds(t0, t1)},
                    {"load_and_verify_s", Seconds(t1, t2)},
                    {"rows", report.rows}}
                   .dump()
            << std::endl;
}

// Commands/s of the writer over `seconds`, with `submitters` threads waiting for each answer.
double WriterWindow(ledger::Writer& writer, int submitters, double seconds, int64_t& next_id) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> answered{0};
  std::vector<std::thread> threads;
  const int64_t first = next_id;
  next_id += 100'000'000;
  SystemClock clock;
  for (int s = 0; s < submitters; ++s) {
    threads.emplace_back([&, s] {
      for (int64_t i = 0; !stop.load(); ++i) {
        const std::string ext = "w" + std::to_string(first) + "-" + std::to_string(s) + "-" +
                                std::to_string(i);
        ledger::Command cmd{"t0", integrations::ExternalEventCommandId("bench", ext),
                            std::string(integrations::kRecordExternalEvent), "key_bench",
                            Json{{"source", "bench"},
                                 {"type", "call.ended"},
                                 {"external_id", ext},
                                 {"occurred_at", FormatRfc3339(clock.Now())},
                                 {"payload", {{"queue", "collections"}}}}};
        auto r = writer.SubmitAndWait(std::move(cmd));
        if (r.ok()) answered.fetch_add(1);
      }
    });
  }
  const auto t0 = SteadyClock::now();
  const int64_t at_start = answered.load();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const int64_t at_end = answered.load();
  const auto t1 = SteadyClock::now();
  stop = true;
  for (auto& t : threads) t.join();
  return static_cast<double>(at_end - at_start) / Seconds(t0, t1);
}

void WriterEffect(const std::map<std::string, std::string>& a) {
  auto db = Open(Need(a, "db"));
  const double seconds = static_cast<double>(Int(a, "seconds", 5, 600));
  const int64_t rounds = Int(a, "rounds", 2, 20);
  const int submitters = static_cast<int>(Int(a, "submitters", 64, 1024));
  const std::string dir = Need(a, "dir");
  SystemClock clock;
  SystemRandom random;
  ledger::Registry registry;
  identity::RegisterIdentity(registry, identity::IdentityOptions{});
  integrations::SubscriptionCache cache;
  integrations::RegisterIntegrations(registry, cache, nullptr, {});
  ledger::Writer writer(*db, registry, clock, random, ledger::WriterOptions{});
  CheckOk(writer.Start(), "writer start");
  int64_t next_id = 1;
  std::vector<double> plain, during;
  int64_t backups = 0;
  for (int64_t r = 0; r < rounds; ++r) {
    plain.push_back(WriterWindow(writer, submitters, seconds, next_id));
    // A backup runs (again and again) for the whole window.
    std::atomic<bool> stop{false};
    std::thread backer([&] {
      for (int i = 0; !stop.load(); ++i) {
        const std::string out = dir + "/during-" + std::to_string(r) + "-" + std::to_string(i) + ".obk";
        backup::BackupOptions o;
        o.opsbox_version = "bench";
        auto made = backup::CreateBackup(*db, out, o);
        if (!made.ok()) Die("backup during writes: " + made.error().ToString());
        ++backups;
        std::filesystem::remove(out);
      }
    });
    during.push_back(WriterWindow(writer, submitters, seconds, next_id));
    stop = true;
    backer.join();
  }
  writer.Stop();
  std::sort(plain.begin(), plain.end());
  std::sort(during.begin(), during.end());
  std::cout << Json{{"bench", "writer"},
                    {"submitters", submitters},
                    {"seconds", seconds},
                    {"rounds", rounds},
                    {"plain_commands_per_s", plain[plain.size() / 2]},
                    {"during_backup_commands_per_s", during[during.size() / 2]},
                    {"plain_all", plain},
                    {"during_all", during},
                    {"backups_completed", backups}}
                   .dump()
            << std::endl;
}

}  // namespace
}  // namespace opsbox

int main(int argc, char** argv) {
  opsbox::InitCrypto();
  if (argc < 2) opsbox::Die("usage: backup_bench generate|backup|restore|writer --flag value …");
  const std::string mode = argv[1];
  const auto args = opsbox::Args(argc, argv);
  if (mode == "generate") opsbox::Generate(args);
  else if (mode == "backup") opsbox::Backup(args);
  else if (mode == "restore") opsbox::Restore(args);
  else if (mode == "writer") opsbox::WriterEffect(args);
  else opsbox::Die("unknown mode " + mode);
  return 0;
}
