// routing_engine_bench: routing decisions per second and decision latency of the routing engine
// (routing/engine.hpp) at issue #4's size: 10,000 workers, 500 queues, 100,000 waiting tasks,
// on one core (targets: >= 200,000 decisions/s, p99 <= 50 us).
//
//   routing_engine_bench [--workers 10000] [--queues 500] [--waiting 100000]
//                        [--decisions 200000] [--seed 1]
//
// Setup: queues = 50 skills x 10 languages, target expression
// `worker.skills.s<k> >= 1 AND 'l<j>' IN worker.languages`, longest idle / most skilled / round
// robin in turn; each worker has 5 of the 50 skills (levels 1..9) and 2 of the 10 languages
// (so ~10 queues each, ~200 eligible workers per queue), capacity voice 1 + chat 3. Tasks are
// 70% voice, 30% chat, priorities 0..3, spread uniformly over the queues. Every worker becomes
// available (the initial burst of offers is not measured), then the steady state: a random
// assigned task is completed and wrapped up (freeing one slot), a new task of the same channel
// arrives in a random queue (the backlog stays at --waiting), Dispatch makes the decision (one offer), the offer is accepted.
// A decision = one Dispatch call that yields one offer; its latency is that call's wall time.
//
// Printed (JSON, one object per line): the engine's decisions/s and p50/p99/p999; the full
// cycle (complete + wrap-up + add + dispatch + accept) per second; and two references measured
// in the same run: the same decision by naive scan (every worker of the task's queue checked
// and the longest idle chosen, re-evaluating the target expression per worker as an engine
// without incremental sets would), and the cost of one unordered_map<string> look-up of a
// task id (the floor of any decision that names a task).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "routing/engine.hpp"

namespace {

using namespace opsbox;
using namespace opsbox::routing;
using SteadyClock = std::chrono::steady_clock;

constexpr int kSkills = 50;
constexpr int kLanguages = 10;
constexpr int64_t kDecisionsMax = 10'000'000;

struct Args {
  int workers = 10'000;
  int queues = 500;
  int waiting = 100'000;
  int64_t decisions = 200'000;
  uint64_t seed = 1;
};

bool Parse(int argc, char** argv, Args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--workers") a.workers = std::atoi(v);
    else if (k == "--queues") a.queues = std::atoi(v);
    else if (k == "--waiting") a.waiting = std::atoi(v);
    else if (k == "--decisions") a.decisions = std::atoll(v);
    else if (k == "--seed") a.seed = std::strtoull(v, nullptr, 10);
    else return false;
  }
  return argc % 2 == 1 && a.workers > 0 && a.queues > 0 && a.queues <= kSkills * kLanguages &&
         a.waiting >= 0 && a.decisions > 0 && a.decisions <= kDecisionsMax;
}

double Ns(SteadyClock::duration d) { return std::chrono::duration<double, std::nano>(d).count(); }

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

// Builds "<prefix><n>" (append, not operator+, which trips GCC 12's -Wrestrict at -O3).
std::string Name(const char* prefix, int64_t n) {
  std::string out(prefix);
  out.append(std::to_string(n));
  return out;
}

std::string QueueId(int q) { return Name("q", q); }

struct World {
  Engine engine;
  std::vector<Json> worker_attrs;
  std::vector<Expression> queue_exprs;
  std::vector<std::pair<std::string, std::string>> assigned;  // (task id, channel) assigned
  int64_t next_task = 0;
};

void Die(const char* what, const Error& e) {
  std::fprintf(stderr, "routing_engine_bench: %s: %s\n", what, e.ToString().c_str());
  std::exit(1);
}

void Build(const Args& a, World& w, std::mt19937_64& rng, Instant now) {
  for (int q = 0; q < a.queues; ++q) {
    QueueSpec spec;
    spec.id = QueueId(q);
    spec.name = spec.id;
    const int skill = q % kSkills, lang = q / kSkills;
    spec.target_expression = Name("worker.skills.s", skill);
    spec.target_expression.append(" >= 1 AND ").append(Name("'l", lang)).append("' IN worker.languages");
    spec.worker_selection = static_cast<WorkerSelection>(q % 3);
    spec.skill = Name("s", skill);
    if (auto s = w.engine.UpsertQueue(spec); !s.ok()) Die("queue", s.error());
    w.queue_exprs.push_back(*Expression::Compile(spec.target_expression));
  }
  std::uniform_int_distribution<int> skill(0, kSkills - 1), lang(0, kLanguages - 1), level(1, 9);
  for (int i = 0; i < a.workers; ++i) {
    Json attrs = {{"skills", Json::object()}, {"languages", Json::array()}};
    while (attrs["skills"].size() < 5) attrs["skills"][Name("s", skill(rng))] = level(rng);
    const int l1 = lang(rng);
    int l2 = lang(rng);
    while (l2 == l1) l2 = lang(rng);
    attrs["languages"] = {Name("l", l1), Name("l", l2)};
    WorkerSpec spec{Name("usr_", i), "", attrs, {{"voice", 1}, {"chat", 3}}};
    if (auto s = w.engine.UpsertWorker(spec, now - Duration::Seconds(i)); !s.ok()) Die("worker", s.error());
    w.worker_attrs.push_back(std::move(attrs));
  }
}

// A new task on `channel`, or on a random channel (70% voice, 30% chat) when empty.
void AddTask(const Args& a, World& w, std::mt19937_64& rng, Instant now,
             const std::string& channel = "") {
  std::uniform_int_distribution<int> queue(0, a.queues - 1), prio(0, 3), pct(0, 99);
  TaskSpec t;
  t.id = Name("tsk_", w.next_task++);
  t.channel = !channel.empty() ? channel : pct(rng) < 70 ? "voice" : "chat";
  t.priority = prio(rng);
  t.queue_id = QueueId(queue(rng));
  auto r = w.engine.AddTask(t, now);
  if (!r.ok()) Die("task", r.error());
}

void AcceptAll(World& w, const Decisions& d, Instant now) {
  for (const Offer& o : d.offers) {
    if (auto r = w.engine.Accept(o.reservation.id, now); !r.ok()) Die("accept", r.error());
    w.assigned.emplace_back(o.reservation.task_id, o.channel);
  }
}

// The naive decision: scan the queue's workers (every worker, expression re-evaluated), keep
// the routable longest idle one.
double NaiveDecisionNs(const Args& a, World& w, std::mt19937_64& rng, int samples) {
  std::uniform_int_distribution<int> queue(0, a.queues - 1);
  std::vector<Instant> idle(w.worker_attrs.size());
  for (size_t i = 0; i < idle.size(); ++i) idle[i] = Instant{static_cast<int64_t>(rng() % 1000)};
  size_t found = 0;
  const auto t0 = SteadyClock::now();
  for (int s = 0; s < samples; ++s) {
    const Expression& e = w.queue_exprs[static_cast<size_t>(queue(rng))];
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < w.worker_attrs.size(); ++i) {
      if (!e.Evaluate(nullptr, &w.worker_attrs[i])) continue;
      if (best == SIZE_MAX || idle[i] < idle[best]) best = i;
    }
    found += best != SIZE_MAX;
  }
  const double ns = Ns(SteadyClock::now() - t0) / samples;
  if (found == 0) std::fprintf(stderr, "naive scan found nobody\n");
  return ns;
}

double LookupNs(const World& w, std::mt19937_64& rng, int samples) {
  std::unordered_map<std::string, uint32_t> map;
  for (int64_t i = 0; i < w.next_task; ++i) map.emplace(Name("tsk_", i), static_cast<uint32_t>(i));
  std::vector<std::string> keys;
  for (int s = 0; s < samples; ++s) keys.push_back("tsk_" + std::to_string(rng() % static_cast<uint64_t>(w.next_task)));
  uint64_t sum = 0;
  const auto t0 = SteadyClock::now();
  for (const auto& k : keys) sum += map.find(k)->second;
  const double ns = Ns(SteadyClock::now() - t0) / samples;
  if (sum == 1) std::fprintf(stderr, "\n");
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!Parse(argc, argv, a)) {
    std::fprintf(stderr, "usage: routing_engine_bench [--workers N] [--queues N] [--waiting N] "
                         "[--decisions N] [--seed N]\n");
    return 2;
  }
  std::mt19937_64 rng(a.seed);
  World w;
  Instant now{1'700'000'000'000'000};
  const auto setup0 = SteadyClock::now();
  Build(a, w, rng, now);
  const int64_t capacity = static_cast<int64_t>(a.workers) * 4;
  for (int64_t i = 0; i < a.waiting + capacity; ++i) AddTask(a, w, rng, now);
  for (int i = 0; i < a.workers; ++i) {
    auto r = w.engine.SetActivity(Name("usr_", i), Activity::kAvailable, now);
    if (!r.ok()) Die("activity", r.error());
  }
  AcceptAll(w, w.engine.Dispatch(now), now);
  const double setup_s = Ns(SteadyClock::now() - setup0) / 1e9;
  const size_t waiting_at_start = w.engine.open_tasks() - w.assigned.size();

  std::vector<double> latency;
  latency.reserve(static_cast<size_t>(a.decisions));
  double dispatch_ns = 0;
  int64_t made = 0, empty = 0;
  const auto cycle0 = SteadyClock::now();
  for (int64_t i = 0; i < a.decisions && !w.assigned.empty(); ++i) {
    now = now + Duration::Millis(5);
    const size_t pick = static_cast<size_t>(rng() % w.assigned.size());
    std::swap(w.assigned[pick], w.assigned.back());
    const auto [done, channel] = std::move(w.assigned.back());
    w.assigned.pop_back();
    if (auto r = w.engine.Complete(done, now); !r.ok()) Die("complete", r.error());
    if (auto r = w.engine.WrapUp(done, now); !r.ok()) Die("wrap-up", r.error());
    AddTask(a, w, rng, now, channel);  // same channel: the backlog of each channel holds
    const auto t0 = SteadyClock::now();
    Decisions d = w.engine.Dispatch(now);
    const double ns = Ns(SteadyClock::now() - t0);
    dispatch_ns += ns;
    if (d.offers.empty()) {
      ++empty;
    } else {
      made += static_cast<int64_t>(d.offers.size());
      latency.push_back(ns / static_cast<double>(d.offers.size()));
    }
    AcceptAll(w, d, now);
  }
  const double cycle_s = Ns(SteadyClock::now() - cycle0) / 1e9;
  const double p50 = Percentile(latency, 0.50), p99 = Percentile(latency, 0.99),
               p999 = Percentile(latency, 0.999);
  std::printf("{\"figure\":\"engine\",\"workers\":%d,\"queues\":%d,\"waiting_at_start\":%zu,"
              "\"waiting_at_end\":%zu,\"decisions\":%lld,\"dispatch_without_offer\":%lld,"
              "\"decisions_per_s\":%.0f,\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,"
              "\"cycles_per_s\":%.0f,\"setup_s\":%.2f}\n",
              a.workers, a.queues, waiting_at_start, w.engine.open_tasks() - w.assigned.size(),
              static_cast<long long>(made), static_cast<long long>(empty),
              made / (dispatch_ns / 1e9), p50 / 1e3, p99 / 1e3, p999 / 1e3,
              static_cast<double>(a.decisions) / cycle_s, setup_s);
  const double naive_ns = NaiveDecisionNs(a, w, rng, 2000);
  std::printf("{\"figure\":\"naive_scan\",\"decision_us\":%.3f,\"decisions_per_s\":%.0f}\n",
              naive_ns / 1e3, 1e9 / naive_ns);
  const double lookup_ns = LookupNs(w, rng, 1'000'000);
  std::printf("{\"figure\":\"hash_lookup\",\"lookup_ns\":%.1f}\n", lookup_ns);
  return 0;
}
