// keys_bench: encrypt-on-append overhead (issue #3). The ledger writer under concurrent
// submitters, each command appending one event that carries a customer's personal fields
// (name, phone, email, a free-text note), measured in the same run with and without sealing them
// for the customer's data subject (XChaCha20-Poly1305 under a per-subject key, keys created on
// first use and then served from the keyring's cache). Phases alternate plain/sealed/plain/
// sealed on fresh databases so that a shared machine's noise hits both alike. Prints one JSON
// object per line, then a summary line with the overhead.
//
//   privacy_keys_bench --dir DIR [--sync FULL|NORMAL] [--submitters 64] [--subjects 1000]
//                      [--seconds 3] [--warmup-seconds 0.5] [--rounds 2]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "ledger/writer.hpp"
#include "privacy/keyring.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace opsbox::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string dir;
  std::string sync = "FULL";
  int submitters = 64;
  int subjects = 1000;
  double seconds = 3;
  double warmup_seconds = 0.5;
  int rounds = 2;
};

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "privacy_keys_bench: " << what << "\n";
  std::exit(1);
}

template <class T>
T Check(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.error().ToString());
  return std::move(r).value();
}

double NumberArg(const std::string& name, const char* text, double lo, double hi) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || v < lo || v > hi) Die(name + " is out of range");
  return v;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) Die("missing value after " + a);
    const char* v = argv[++i];
    if (a == "--dir") o.dir = v;
    else if (a == "--sync") o.sync = v;
    else if (a == "--submitters") o.submitters = static_cast<int>(NumberArg(a, v, 1, 1024));
    else if (a == "--subjects") o.subjects = static_cast<int>(NumberArg(a, v, 1, 1000000));
    else if (a == "--seconds") o.seconds = NumberArg(a, v, 0.1, 600);
    else if (a == "--warmup-seconds") o.warmup_seconds = NumberArg(a, v, 0, 600);
    else if (a == "--rounds") o.rounds = static_cast<int>(NumberArg(a, v, 1, 20));
    else Die("unknown option " + a);
  }
  if (o.dir.empty()) Die("--dir is required");
  return o;
}

int64_t ProcessCpuUs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec +
         ru.ru_stime.tv_usec;
}

// note_contact {customer_id, seal}: one contact_noted event with personal fields, sealed for the
// customer when `seal` is true.
void RegisterBenchCommand(ledger::Registry& registry) {
  registry.DeclareEvents({"contact_noted"});
  registry.AddCommand("note_contact", [](store::Tx&, const ledger::Command& c, Instant now,
                                         Random&) -> Result<ledger::Decision> {
    const std::string customer = c.payload["customer_id"].get<std::string>();
    ledger::NewEvent e{"contact_noted",
                       {{"customer_id", customer},
                        {"channel", "voice"},
                        {"queue", "collections"},
                        {"outcome", "promise_to_pay"},
                        {"duration_s", 42},
                        {"occurred_at", FormatRfc3339(now)},
                        {"name", "Asha Rao"},
                        {"phone", "+919876543210"},
                        {"email", "asha.rao@example.com"},
                        {"note", "Customer promised to pay INR 12,500 on the 5th; asked for a "
                                 "call-back after 6 pm."}}};
    if (c.payload["seal"].get<bool>()) {
      e.subject_id = customer;
      e.personal_fields = {"name", "phone", "email", "note"};
    }
    ledger::Decision d;
    d.events.push_back(std::move(e));
    return d;
  });
}

struct Phase {
  int64_t commands = 0;
  double seconds = 0;
  int64_t cpu_us = 0;
  std::vector<int64_t> latencies_ns;
  int64_t failures = 0;
  std::string first_error;
};

void Submitter(ledger::Writer& w, int index, const Options& o, bool seal,
               const std::atomic<bool>& stop, const std::atomic<bool>& measuring, Phase& out,
               std::mutex& out_mu) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Result<ledger::CommandOutcome> answer = Error::Internal("no answer");
  std::vector<int64_t> lat;
  int64_t fails = 0;
  std::string err;
  for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    const int subject = static_cast<int>((index * 7919 + i) % o.subjects);
    ledger::Command cmd{"bench", "", "note_contact", "key_bench",
                        Json{{"customer_id", "cus_" + std::to_string(subject)}, {"seal", seal}}};
    const auto t0 = SteadyClock::now();
    w.Submit(std::move(cmd), [&](Result<ledger::CommandOutcome> r) {
      std::lock_guard lock(mu);
      answer = std::move(r);
      done = true;
      cv.notify_one();
    });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    done = false;
    if (!answer.ok()) {
      if (fails++ == 0) err = answer.error().ToString();
      continue;
    }
    if (measuring.load(std::memory_order_relaxed)) {
      lat.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - t0).count());
    }
  }
  std::lock_guard lock(out_mu);
  out.latencies_ns.insert(out.latencies_ns.end(), lat.begin(), lat.end());
  out.failures += fails;
  if (out.first_error.empty()) out.first_error = err;
}

Json RunPhase(const Options& o, bool seal, int round) {
  const std::string path =
      o.dir + "/keys-bench-" + (seal ? "sealed" : "plain") + "-" + std::to_string(round) + ".db";
  for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  auto db = Check(store::OpenSqlite({.path = path, .synchronous = o.sync}), "open " + path);
  if (auto st = db->Migrate(); !st.ok()) Die("migrate: " + st.error().ToString());
  SystemClock clock;
  SystemRandom random;
  ledger::Registry registry;
  auto keyring = Check(privacy::Keyring::Create(privacy::NewMemoryKeyProvider(), clock), "keyring");
  keyring->Register(registry);
  RegisterBenchCommand(registry);
  ledger::Writer writer(*db, registry, clock, random, ledger::WriterOptions{});
  if (auto st = writer.Start(); !st.ok()) Die("writer: " + st.error().ToString());

  Phase phase;
  std::mutex out_mu;
  std::atomic<bool> stop{false}, measuring{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < o.submitters; ++i) {
    threads.emplace_back(
        [&, i] { Submitter(writer, i, o, seal, stop, measuring, phase, out_mu); });
  }
  auto secs = [](double s) {
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
  };
  std::this_thread::sleep_for(secs(o.warmup_seconds));
  const uint64_t commands0 = writer.stats().commands;
  const int64_t cpu0 = ProcessCpuUs();
  const auto t0 = SteadyClock::now();
  measuring = true;
  std::this_thread::sleep_for(secs(o.seconds));
  measuring = false;
  phase.seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  phase.cpu_us = ProcessCpuUs() - cpu0;
  phase.commands = static_cast<int64_t>(writer.stats().commands - commands0);
  stop = true;
  for (auto& t : threads) t.join();
  writer.Stop();
  auto& lat = phase.latencies_ns;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0.0
                       : static_cast<double>(lat[std::min(lat.size() - 1,
                                                          static_cast<size_t>(p * lat.size()))]) /
                             1e6;
  };
  const auto n = static_cast<double>(phase.commands);
  return Json{{"bench", "ledger_writer_personal_fields"},
              {"sealed", seal},
              {"round", round},
              {"sync", o.sync},
              {"submitters", o.submitters},
              {"subjects", o.subjects},
              {"commands", phase.commands},
              {"commands_per_s", n / phase.seconds},
              {"p50_ms", pct(0.5)},
              {"p99_ms", pct(0.99)},
              {"cpu_us_per_command", n > 0 ? static_cast<double>(phase.cpu_us) / n : 0},
              {"data_keys_cached", keyring->CachedKeys()},
              {"failures", phase.failures},
              {"first_error", phase.first_error}};
}

// The sealing step alone: SealFields on the benchmark's payload, keys cached, in one thread,
// beside copying the same payload (the copy is what both sides pay).
Json MeasureSealing(const Options& o) {
  const std::string path = o.dir + "/keys-bench-seal.db";
  for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  auto db = Check(store::OpenSqlite({.path = path, .synchronous = o.sync}), "open " + path);
  if (auto st = db->Migrate(); !st.ok()) Die("migrate: " + st.error().ToString());
  SystemClock clock;
  auto keyring = Check(privacy::Keyring::Create(privacy::NewMemoryKeyProvider(), clock), "keyring");
  auto conn = Check(db->Connect(), "connect");
  auto tx = Check(conn->Begin(), "begin");
  const Json payload = {{"customer_id", "cus_1"},       {"channel", "voice"},
                        {"name", "Asha Rao"},           {"phone", "+919876543210"},
                        {"email", "asha.rao@example.com"},
                        {"note", "Customer promised to pay INR 12,500 on the 5th; asked for a "
                                 "call-back after 6 pm."}};
  const std::vector<std::string> fields = {"name", "phone", "email", "note"};
  constexpr int kEvents = 100000;
  for (int i = 0; i < o.subjects; ++i) {
    Json p = payload;
    if (auto st = keyring->SealFields(*tx, "bench", "cus_" + std::to_string(i), p, fields);
        !st.ok()) {
      Die("seal: " + st.error().ToString());
    }
  }
  auto time_loop = [&](bool seal) {
    const auto t0 = SteadyClock::now();
    size_t bytes = 0;
    for (int i = 0; i < kEvents; ++i) {
      Json p = payload;
      if (seal) {
        (void)keyring->SealFields(*tx, "bench", "cus_" + std::to_string(i % o.subjects), p,
                                  fields);
      }
      bytes += CanonicalJson(p).size();
    }
    const double us = std::chrono::duration<double, std::micro>(SteadyClock::now() - t0).count();
    return std::make_pair(us / kEvents, bytes / kEvents);
  };
  const auto plain = time_loop(false);
  const auto sealed = time_loop(true);
  tx->Rollback();
  return Json{{"bench", "seal_fields"},
              {"fields", fields.size()},
              {"events", kEvents},
              {"copy_and_encode_us_per_event", plain.first},
              {"seal_copy_and_encode_us_per_event", sealed.first},
              {"seal_us_per_event", sealed.first - plain.first},
              {"payload_bytes_plain", plain.second},
              {"payload_bytes_sealed", sealed.second}};
}

int Main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  InitCrypto();
  const Json sealing = MeasureSealing(o);
  std::cout << sealing.dump() << std::endl;
  double plain_rate = 0, sealed_rate = 0, plain_cpu = 0, sealed_cpu = 0;
  for (int round = 0; round < o.rounds; ++round) {
    for (bool seal : {false, true}) {
      Json j = RunPhase(o, seal, round);
      std::cout << j.dump() << std::endl;
      (seal ? sealed_rate : plain_rate) += j["commands_per_s"].get<double>() / o.rounds;
      (seal ? sealed_cpu : plain_cpu) += j["cpu_us_per_command"].get<double>() / o.rounds;
    }
  }
  std::cout << Json{{"bench", "encrypt_on_append_overhead"},
                    {"sync", o.sync},
                    {"plain_commands_per_s", plain_rate},
                    {"sealed_commands_per_s", sealed_rate},
                    {"throughput_overhead", plain_rate / sealed_rate - 1},
                    {"plain_cpu_us_per_command", plain_cpu},
                    {"sealed_cpu_us_per_command", sealed_cpu},
                    {"cpu_overhead", sealed_cpu / plain_cpu - 1},
                    {"seal_us_per_event", sealing["seal_us_per_event"]},
                    {"seal_share_of_plain_cpu",
                     sealing["seal_us_per_event"].get<double>() / plain_cpu}}
                   .dump()
            << std::endl;
  return 0;
}

}  // namespace
}  // namespace opsbox::bench

int main(int argc, char** argv) { return opsbox::bench::Main(argc, argv); }
