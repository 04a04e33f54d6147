// Forecast benchmark (issues #5, #15): 100 queues x 8 weeks of 15-minute history built from the
// real bank series (../shared/data/callcenter), each queue a different 8-week window, scaled,
// shifted in time of day and given Poisson-like noise from a fixed seed. Each queue's first 7
// weeks are the history (auto cross-validates inside them) and the forecast of week 8 is scored
// against it (WAPE, MASE with weekly seasonal-naive scaling, 80%/95% interval coverage): the
// forecaster never sees week 8, as R never does in forecast_reference.R.
// Prints JSON lines; bench/wfm/forecast.sh runs it beside the R reference and renders the table.
//
//   forecast_bench --data FILE.csv [--queues 100] [--weeks 8] [--seed 42] [--repeats 5]
//                  [--write-series OUT.csv]   the queues' series, one column each, for R
//                  [--only TEXT]              only the configurations whose name contains TEXT
//   FORECAST_BENCH_PER_QUEUE=1 prints each queue's choice and WAPE to stderr.
//   forecast_bench --data FILE.csv --bank [--windows 4] [--write-series OUT.csv]
//                  the whole bank series at 15 min, each of the last `windows` weeks forecast
//                  from everything before it
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "wfm/forecast.hpp"
#include "wfm/history.hpp"

namespace {

using opsbox::wfm::ForecastMethod;
using opsbox::wfm::Season;

struct Args {
  std::string data, write_series, only;
  int queues = 100, weeks = 8, repeats = 5, evaluations = 300, windows = 4;
  uint64_t seed = 42;
  bool bank = false;
};

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "forecast_bench: %s\n", why.c_str());
  std::exit(2);
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + k);
      return argv[++i];
    };
    if (k == "--data") a.data = next();
    else if (k == "--write-series") a.write_series = next();
    else if (k == "--queues") a.queues = std::clamp(std::stoi(next()), 1, 10000);
    else if (k == "--weeks") a.weeks = std::clamp(std::stoi(next()), 3, 30);
    else if (k == "--repeats") a.repeats = std::clamp(std::stoi(next()), 1, 100);
    else if (k == "--seed") a.seed = std::stoull(next());
    else if (k == "--evaluations") a.evaluations = std::clamp(std::stoi(next()), 4, 10000);
    else if (k == "--bank") a.bank = true;
    else if (k == "--only") a.only = next();
    else if (k == "--windows") a.windows = std::clamp(std::stoi(next()), 1, 20);
    else Die("unknown argument " + k);
  }
  if (a.data.empty()) Die("--data FILE is required");
  return a;
}

opsbox::wfm::HistoryImport Import(const std::string& path, int interval_min) {
  opsbox::wfm::HistoryImportOptions o;
  o.interval_min = interval_min;
  auto h = opsbox::wfm::ImportHistoryFile(path, o, opsbox::wfm::ZoneRules::Utc());
  if (!h.ok()) Die(h.error().message);
  return std::move(h).value();
}

// The bank is closed on six weekdays (holidays or outages, see the data's README): those days
// are replaced by the same weekday a week earlier, so that every queue is an ordinary series
// for both opsbox and the R reference (holiday handling is tested elsewhere).
std::vector<double> WithoutClosedWeekdays(const opsbox::wfm::IntervalSeries& s) {
  std::vector<double> v = s.volume;
  const size_t ipd = 96, days = v.size() / ipd;
  const int64_t first_day = s.first_start_local_s / 86400;
  for (size_t d = 7; d < days; ++d) {
    const bool weekday = opsbox::wfm::WeekdayOfLocalDay(first_day + static_cast<int64_t>(d)) < 5;
    double sum = 0;
    for (size_t k = 0; k < ipd; ++k) sum += v[d * ipd + k];
    if (weekday && sum == 0) std::copy_n(v.begin() + (d - 7) * ipd, ipd, v.begin() + d * ipd);
  }
  return v;
}

// Queue q: an 8-week window of the bank series starting on a Monday, scaled by 0.3..3, shifted
// by -4..4 intervals (another time zone's opening hours), with noise N(0, sqrt(mean)).
std::vector<opsbox::wfm::IntervalSeries> MakeQueues(const opsbox::wfm::IntervalSeries& bank,
                                                    const Args& a) {
  const size_t week = 7 * 96;
  const size_t len = week * static_cast<size_t>(a.weeks);
  if (bank.volume.size() < len + week) Die("the bank series is shorter than the window");
  const size_t windows = (bank.volume.size() - len) / week + 1;
  const std::vector<double> volume = WithoutClosedWeekdays(bank);
  std::mt19937_64 rng(a.seed);
  std::uniform_real_distribution<double> scale_d(0.3, 3.0);
  std::uniform_int_distribution<int> shift_d(-4, 4);
  std::normal_distribution<double> unit(0.0, 1.0);
  std::vector<opsbox::wfm::IntervalSeries> out;
  for (int q = 0; q < a.queues; ++q) {
    const size_t start = (static_cast<size_t>(q) % windows) * week;
    const double scale = scale_d(rng);
    const int shift = shift_d(rng);
    opsbox::wfm::IntervalSeries s;
    s.interval_min = 15;
    s.first_start_local_s = bank.first_start_local_s + static_cast<int64_t>(start) * 900;
    s.volume.resize(len);
    for (size_t t = 0; t < len; ++t) {
      const int64_t src = static_cast<int64_t>(start + t) - shift;
      const double mean = src >= 0 ? scale * volume[static_cast<size_t>(src)] : 0.0;
      s.volume[t] = mean > 0 ? std::max(0.0, std::round(mean + std::sqrt(mean) * unit(rng))) : 0.0;
    }
    out.push_back(std::move(s));
  }
  return out;
}

void WriteSeries(const std::string& path, const std::vector<opsbox::wfm::IntervalSeries>& qs) {
  std::ofstream f(path);
  if (!f) Die("cannot write " + path);
  for (size_t q = 0; q < qs.size(); ++q) f << (q ? "," : "") << "q" << q;
  f << "\n";
  for (size_t t = 0; t < qs[0].volume.size(); ++t) {
    for (size_t q = 0; q < qs.size(); ++q) f << (q ? "," : "") << qs[q].volume[t];
    f << "\n";
  }
}

// One queue split for scoring: the history the forecaster sees and the week it must forecast.
struct Split {
  opsbox::wfm::IntervalSeries history;
  std::vector<double> actual;
};

Split SplitAt(const opsbox::wfm::IntervalSeries& s, size_t history_len, size_t actual_len) {
  Split out;
  out.history = s;
  out.history.volume.assign(s.volume.begin(), s.volume.begin() + history_len);
  out.actual.assign(s.volume.begin() + history_len, s.volume.begin() + history_len + actual_len);
  return out;
}

struct Scores {
  double wape_sum = 0, mase_sum = 0, cover80 = 0, cover95 = 0, open = 0;
  int n = 0;
};

// Runs one configuration over all splits `repeats` times: forecasts each split's history (auto
// cross-validates inside it) and scores the forecast on the split's actual week, which the
// forecaster never saw. Prints the median time, the mean scores, the choices and the mean
// cross-validation WAPE of every candidate.
void RunConfig(const std::string& name, const std::vector<Split>& splits,
               const opsbox::wfm::ForecastRequest& r, int repeats, const std::string& only) {
  if (!only.empty() && name.find(only) == std::string::npos) return;
  std::vector<double> times, cpu_times;
  Scores score;
  std::map<std::string, Scores> cv;
  std::map<std::string, int> chosen;
  for (int rep = 0; rep < repeats; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    std::vector<opsbox::wfm::ForecastResult> results;
    results.reserve(splits.size());
    for (const auto& sp : splits) {
      auto f = opsbox::wfm::Forecast(sp.history, r);
      if (!f.ok()) Die(name + ": " + f.error().message);
      results.push_back(std::move(f).value());
    }
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    cpu_times.push_back(static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
    if (rep > 0) continue;
    for (size_t q = 0; q < results.size(); ++q) {
      const auto& f = results[q];
      const auto& sp = splits[q];
      std::vector<double> fc(sp.actual.size());
      for (size_t h = 0; h < fc.size(); ++h) {
        fc[h] = f.intervals[h].volume;
        if (f.intervals[h].bounds && sp.actual[h] > 0) {
          const auto& b = *f.intervals[h].bounds;
          score.open += 1;
          score.cover80 += sp.actual[h] >= b.lower_80 && sp.actual[h] <= b.upper_80;
          score.cover95 += sp.actual[h] >= b.lower_95 && sp.actual[h] <= b.upper_95;
        }
      }
      auto w = opsbox::wfm::Wape(sp.actual, fc);
      auto m = opsbox::wfm::Mase(sp.actual, fc, sp.history.volume, 7 * 96);
      if (!w.ok() || !m.ok()) Die(name + ": cannot score");
      score.wape_sum += *w, score.mase_sum += *m, ++score.n;
      if (std::getenv("FORECAST_BENCH_PER_QUEUE") != nullptr) {
        std::fprintf(stderr, "%s q%zu %s/%s %.4f\n", name.c_str(), q, ForecastMethodName(f.method),
                     SeasonName(f.season), *w);
      }
      ++chosen[std::string(ForecastMethodName(f.method)) + "/" + SeasonName(f.season)];
      for (const auto& c : f.candidates) {
        if (!c.cv_wape) continue;
        Scores& s = cv[std::string(ForecastMethodName(c.method)) + "/" + SeasonName(c.season)];
        s.wape_sum += *c.cv_wape, ++s.n;
      }
    }
  }
  std::sort(times.begin(), times.end());
  std::sort(cpu_times.begin(), cpu_times.end());
  std::printf("{\"bench\":\"forecast\",\"config\":\"%s\",\"queues\":%zu,\"history_intervals\":%zu,"
              "\"seconds_median\":%.4f,\"seconds_min\":%.4f,\"cpu_seconds_median\":%.4f,"
              "\"repeats\":%d,\"wape\":%.4f,\"mase\":%.4f,\"cover80\":%.4f,\"cover95\":%.4f,"
              "\"cv_wape\":{",
              name.c_str(), splits.size(), splits[0].history.volume.size(),
              times[times.size() / 2], times[0], cpu_times[cpu_times.size() / 2], repeats,
              score.wape_sum / score.n, score.mase_sum / score.n,
              score.open > 0 ? score.cover80 / score.open : -1.0,
              score.open > 0 ? score.cover95 / score.open : -1.0);
  bool first = true;
  for (const auto& [k, s] : cv) {
    std::printf("%s\"%s\":%.4f", first ? "" : ",", k.c_str(), s.wape_sum / s.n);
    first = false;
  }
  std::printf("},\"chosen\":{");
  first = true;
  for (const auto& [k, n] : chosen) std::printf("%s\"%s\":%d", first ? "" : ",", k.c_str(), n), first = false;
  std::printf("}}\n");
}

// auto and the single methods, in the order the table shows them.
void RunMethods(const std::string& prefix, const std::vector<Split>& splits, const Args& a,
                int repeats) {
  opsbox::wfm::ForecastRequest r;
  r.horizon_days = 7;
  r.holdout_days = 7;
  r.fit_evaluations_max = a.evaluations;
  RunConfig(prefix + "auto", splits, r, repeats, a.only);
  r.method = ForecastMethod::kMstlEts;
  r.season = Season::kDayAndWeek;
  RunConfig(prefix + "mstl/day+week", splits, r, repeats, a.only);
  r.season = Season::kWeek;
  RunConfig(prefix + "mstl/week", splits, r, repeats, a.only);
  r.method = ForecastMethod::kHoltWintersAdditive;
  r.season = Season::kWeek;
  RunConfig(prefix + "holt-winters-add/week", splits, r, repeats, a.only);
  r.method = ForecastMethod::kSeasonalNaive;
  RunConfig(prefix + "seasonal-naive/week", splits, r, repeats, a.only);
}

void RunQueues(const Args& a) {
  const auto bank = Import(a.data, 15);
  const auto queues = MakeQueues(bank.series, a);
  if (!a.write_series.empty()) WriteSeries(a.write_series, queues);
  std::vector<Split> splits;
  const size_t week = 7 * 96;
  for (const auto& q : queues) splits.push_back(SplitAt(q, q.volume.size() - week, week));
  RunMethods("", splits, a, a.repeats);
}

// The bank series itself at 15 minutes, several holdout weeks: window k (1 = the last week)
// forecasts week n - k from everything before it. Each window prints its own rows.
void RunBank(const Args& a) {
  const auto h = Import(a.data, 15);
  if (!a.write_series.empty()) WriteSeries(a.write_series, {h.series});
  const size_t week = 7 * 96, n = h.series.volume.size();
  for (int k = 1; k <= a.windows; ++k) {
    const size_t end = n - static_cast<size_t>(k - 1) * week;
    const std::vector<Split> one{SplitAt(h.series, end - week, week)};
    RunMethods("bank/w" + std::to_string(k) + "/", one, a, 1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = ParseArgs(argc, argv);
  if (a.bank) RunBank(a);
  else RunQueues(a);
  return 0;
}
