// erlang_bench: wall time of Erlang C staffing (wfm/erlang.hpp StaffIntervals) for 96 intervals x
// 100 queues at 80% within 20 s (issue #5 target: at most 20 ms in all), on one core. Prints one
// JSON object per line on stdout; bench/wfm/erlang.sh puts it beside a Python implementation of
// the same work, run on the same inputs (written with --inputs-out).
//
//   wfm_erlang_bench [--queues 100] [--intervals 96] [--repeats 15] [--seed 1]
//                    [--inputs-out FILE] [--patience-s 120]
//
// Inputs (seeded, repeatable): each queue has a peak volume uniform in [20, 2000] calls per
// 15 minutes and an AHT uniform in [180, 600] s; its day follows a two-peak intraday profile
// (near zero at night, peaks late morning and mid afternoon), volumes rounded to whole calls.
// Figures: `erlang_c` (the target) and, for information, `erlang_a` (the same work under Erlang
// A with the given mean patience). Each is the median of `repeats` runs of identical work.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "wfm/erlang.hpp"

namespace {

using opsbox::wfm::Traffic;
using SteadyClock = std::chrono::steady_clock;

constexpr int kQueuesMax = 10'000;
constexpr int kIntervalsMax = 2'000;
constexpr int kRepeatsMax = 101;
constexpr double kIntervalS = 900;

struct Args {
  int queues = 100;
  int intervals = 96;
  int repeats = 15;
  uint64_t seed = 1;
  std::string inputs_out;
  double patience_s = 120;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "erlang_bench: %s\nusage: wfm_erlang_bench [--queues N] [--intervals N] "
               "[--repeats N] [--seed N] [--inputs-out FILE] [--patience-s S]\n",
               why);
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) Usage("missing value");
    const char* flag = argv[i];
    const char* v = argv[++i];
    if (!std::strcmp(flag, "--queues"))
      a.queues = std::atoi(v);
    else if (!std::strcmp(flag, "--intervals"))
      a.intervals = std::atoi(v);
    else if (!std::strcmp(flag, "--repeats"))
      a.repeats = std::atoi(v);
    else if (!std::strcmp(flag, "--seed"))
      a.seed = std::strtoull(v, nullptr, 10);
    else if (!std::strcmp(flag, "--inputs-out"))
      a.inputs_out = v;
    else if (!std::strcmp(flag, "--patience-s"))
      a.patience_s = std::atof(v);
    else
      Usage("unknown flag");
  }
  if (a.queues < 1 || a.queues > kQueuesMax) Usage("--queues out of range");
  if (a.intervals < 1 || a.intervals > kIntervalsMax) Usage("--intervals out of range");
  if (a.repeats < 1 || a.repeats > kRepeatsMax) Usage("--repeats out of range");
  if (!(a.patience_s > 0)) Usage("--patience-s must be > 0");
  return a;
}

// splitmix64: a tiny, portable seeded generator (the inputs only need to be repeatable).
double Uniform(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1p-53;
}

// Share of the daily peak in interval i of n: two Gaussian bumps (11:00 and 15:30) over a floor.
double Profile(int i, int n) {
  const double hour = 24.0 * (i + 0.5) / n;
  auto bump = [&](double at, double width) {
    return std::exp(-0.5 * (hour - at) * (hour - at) / (width * width));
  };
  return std::min(1.0, 0.02 + bump(11, 2.0) + 0.85 * bump(15.5, 2.2));
}

std::vector<std::vector<Traffic>> MakeQueues(const Args& args) {
  uint64_t state = args.seed;
  std::vector<std::vector<Traffic>> queues(args.queues);
  for (auto& day : queues) {
    const double peak = 20 + Uniform(state) * 1980;
    const double aht_s = 180 + Uniform(state) * 420;
    for (int i = 0; i < args.intervals; ++i) {
      day.push_back(Traffic{std::round(peak * Profile(i, args.intervals)), kIntervalS, aht_s});
    }
  }
  return queues;
}

struct Run {
  double seconds;
  int64_t agents_total;
};

Run StaffAll(const std::vector<std::vector<Traffic>>& queues, std::optional<double> patience_s) {
  opsbox::wfm::StaffingTargets targets;
  targets.service_level = 0.8;
  targets.target_answer_s = 20;
  int64_t agents = 0;
  const auto t0 = SteadyClock::now();
  for (const auto& day : queues) {
    auto r = opsbox::wfm::StaffIntervals(day, targets, patience_s);
    if (!r.ok()) {
      std::fprintf(stderr, "erlang_bench: %s\n", r.error().ToString().c_str());
      std::exit(1);
    }
    for (const auto& s : *r) agents += s.figures.agents;
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  return Run{seconds, agents};
}

void Report(const char* scenario, const Args& args, const std::vector<std::vector<Traffic>>& qs,
            std::optional<double> patience_s) {
  std::vector<double> seconds;
  int64_t agents = -1;
  for (int r = 0; r < args.repeats; ++r) {
    const Run run = StaffAll(qs, patience_s);
    if (agents >= 0 && agents != run.agents_total) Usage("non-repeatable result");
    agents = run.agents_total;
    seconds.push_back(run.seconds);
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf(
      "{\"scenario\":\"%s\",\"queues\":%d,\"intervals\":%d,\"problems\":%d,\"repeats\":%d,"
      "\"seconds_median\":%.6f,\"seconds_min\":%.6f,\"agents_total\":%lld,\"patience_s\":%g}\n",
      scenario, args.queues, args.intervals, args.queues * args.intervals, args.repeats,
      seconds[seconds.size() / 2], seconds.front(), static_cast<long long>(agents),
      patience_s ? *patience_s : 0.0);
}

void WriteInputs(const std::string& path, const std::vector<std::vector<Traffic>>& queues) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) Usage("cannot write --inputs-out");
  std::fprintf(f, "queue,interval,volume,interval_s,aht_s\n");
  for (size_t q = 0; q < queues.size(); ++q) {
    for (size_t i = 0; i < queues[q].size(); ++i) {
      const Traffic& t = queues[q][i];
      std::fprintf(f, "%zu,%zu,%.17g,%.17g,%.17g\n", q, i, t.volume, t.interval_s, t.aht_s);
    }
  }
  std::fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  const auto queues = MakeQueues(args);
  if (!args.inputs_out.empty()) WriteInputs(args.inputs_out, queues);
  StaffAll(queues, std::nullopt);  // warm-up: page in code and data
  Report("erlang_c", args, queues, std::nullopt);
  Report("erlang_a", args, queues, args.patience_s);
  return 0;
}
