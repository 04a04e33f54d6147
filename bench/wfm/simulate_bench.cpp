// simulate_bench: wall time of the queue simulation (wfm/simulate.hpp) for about 1,000,000
// calls on one core (issue #5 target: at most 2 s). Prints one JSON object per line on stdout;
// bench/wfm/simulate.sh puts them beside a Python heapq simulation of the same system.
//
//   wfm_simulate_bench [--calls 1000000] [--agents 50] [--rho 0.9] [--aht-s 300]
//                      [--repeats 3] [--seed 1]
//
// Scenarios (each one replication of one long stationary run, 15-minute intervals, volume per
// interval = rho * agents * 900 / aht_s, as many intervals as make `calls` expected calls):
//   mmc      exponential handle times, no abandonment (M/M/c), Erlang C given for a sanity check
//   mmc_m    lognormal handle times (sd = mean) and exponential patience (mean = aht_s)
// and `replicated`: Simulate() with 10 replications of calls / 10 each, the summary included.
// Each figure is the median of `repeats` runs with the same seed (the work is identical).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "wfm/simulate.hpp"

namespace {

using opsbox::wfm::SimulationConfig;
using SteadyClock = std::chrono::steady_clock;

constexpr double kCallsMax = 50'000'000;
constexpr int kRepeatsMax = 20;

struct Args {
  double calls = 1'000'000;
  int agents = 50;
  double rho = 0.9;
  double aht_s = 300;
  int repeats = 3;
  uint64_t seed = 1;
};

bool ParseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--calls")
      a.calls = std::atof(v);
    else if (k == "--agents")
      a.agents = std::atoi(v);
    else if (k == "--rho")
      a.rho = std::atof(v);
    else if (k == "--aht-s")
      a.aht_s = std::atof(v);
    else if (k == "--repeats")
      a.repeats = std::atoi(v);
    else if (k == "--seed")
      a.seed = std::strtoull(v, nullptr, 10);
    else
      return false;
  }
  return argc % 2 == 1 && a.calls >= 1000 && a.calls <= kCallsMax && a.agents >= 1 && a.rho > 0 &&
         a.rho < 1 && a.aht_s > 0 && a.repeats >= 1 && a.repeats <= kRepeatsMax;
}

SimulationConfig Stationary(const Args& a, double calls) {
  SimulationConfig c;
  c.interval_s = 900;
  double volume = a.rho * a.agents * 900.0 / a.aht_s;
  int intervals = static_cast<int>(std::ceil(calls / volume));
  c.volumes_per_interval.assign(intervals, volume);
  c.agents_per_interval.assign(intervals, a.agents);
  c.handle.kind = opsbox::wfm::HandleDistribution::kExponential;
  c.handle.mean_s = a.aht_s;
  c.target_answer_s = 20;
  c.replications = 1;
  return c;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Erlang C service level (stable Erlang B recursion), for the sanity column only.
double ErlangCServiceLevel(double a, int n, double aht_s, double t_s) {
  double b = 1;
  for (int k = 1; k <= n; ++k) b = a * b / (k + a * b);
  double c = n * b / (n - a * (1 - b));
  return 1 - c * std::exp(-(n - a) / aht_s * t_s);
}

void RunReplication(const char* name, const SimulationConfig& c, const Args& a) {
  std::vector<double> seconds;
  opsbox::wfm::ReplicationResult last;
  for (int r = 0; r < a.repeats; ++r) {
    auto start = SteadyClock::now();
    auto result = opsbox::wfm::SimulateReplication(c, a.seed);
    seconds.push_back(std::chrono::duration<double>(SteadyClock::now() - start).count());
    if (!result.ok()) {
      std::fprintf(stderr, "simulate_bench: %s\n", result.error().ToString().c_str());
      std::exit(1);
    }
    last = std::move(result).value();
  }
  const auto& t = last.total;
  double s = Median(seconds);
  double sl = static_cast<double>(t.answered_within_target) / static_cast<double>(t.offered);
  // Erlang C applies to the M/M/c scenario only; the other prints -1.
  double erlang_sl =
      c.patience.kind == opsbox::wfm::PatienceDistribution::kNone
          ? ErlangCServiceLevel(a.rho * a.agents, a.agents, a.aht_s, c.target_answer_s)
          : -1.0;
  std::printf(
      "{\"bench\":\"wfm_simulate\",\"scenario\":\"%s\",\"calls\":%lld,\"events\":%lld,"
      "\"intervals\":%zu,\"agents\":%d,\"rho\":%.3f,\"seconds_median\":%.4f,\"seconds_min\":%.4f,"
      "\"ns_per_call\":%.1f,\"repeats\":%d,\"seed\":%llu,\"service_level\":%.4f,"
      "\"erlang_c_service_level\":%.4f,\"abandoned\":%lld}\n",
      name, static_cast<long long>(t.offered), static_cast<long long>(last.events),
      c.volumes_per_interval.size(), a.agents, a.rho, s,
      *std::min_element(seconds.begin(), seconds.end()), s * 1e9 / static_cast<double>(t.offered),
      a.repeats, static_cast<unsigned long long>(a.seed), sl, erlang_sl,
      static_cast<long long>(t.abandoned));
}

void RunReplicated(const Args& a) {
  SimulationConfig c = Stationary(a, a.calls / 10);
  c.replications = 10;
  std::vector<double> seconds;
  long long calls = 0;
  for (int r = 0; r < a.repeats; ++r) {
    auto start = SteadyClock::now();
    auto report = opsbox::wfm::Simulate(c, a.seed);
    seconds.push_back(std::chrono::duration<double>(SteadyClock::now() - start).count());
    if (!report.ok()) std::exit(1);
    calls = report->calls_simulated;
  }
  double s = Median(seconds);
  std::printf(
      "{\"bench\":\"wfm_simulate\",\"scenario\":\"replicated\",\"calls\":%lld,\"replications\":10,"
      "\"seconds_median\":%.4f,\"ns_per_call\":%.1f,\"repeats\":%d,\"seed\":%llu}\n",
      calls, s, s * 1e9 / static_cast<double>(calls), a.repeats,
      static_cast<unsigned long long>(a.seed));
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, a)) {
    std::fprintf(stderr,
                 "usage: wfm_simulate_bench [--calls 1000..50000000] [--agents N] [--rho (0,1)] "
                 "[--aht-s S] [--repeats 1..20] [--seed N]\n");
    return 2;
  }
  SimulationConfig mmc = Stationary(a, a.calls);
  RunReplication("mmc", mmc, a);
  SimulationConfig mmcm = mmc;
  mmcm.handle.kind = opsbox::wfm::HandleDistribution::kLognormal;
  mmcm.handle.sd_s = a.aht_s;
  mmcm.patience.kind = opsbox::wfm::PatienceDistribution::kExponential;
  mmcm.patience.mean_s = a.aht_s;
  RunReplication("mmc_m", mmcm, a);
  RunReplicated(a);
  return 0;
}
