// Forecast benchmark (issue #5): 100 queues x 8 weeks of 15-minute history built from the real
// bank series (../shared/data/callcenter), each queue a different 8-week window, scaled, shifted
// in time of day and given Poisson-like noise from a fixed seed. Each queue is forecast with the
// last week held out (fit on 7 weeks, score WAPE/MASE on week 8) and then 7 days ahead.
// Prints JSON lines; bench/wfm/forecast.sh runs it beside the R reference and renders the table.
//
//   forecast_bench --data FILE.csv [--queues 100] [--weeks 8] [--seed 42] [--repeats 5]
//                  [--write-series OUT.csv]   the queues' series, one column each, for R
//   forecast_bench --data FILE.csv --bank [--holidays FILE] [--write-series OUT.csv]
//                  every method on the whole bank series at 15/30/60 min, 1-week holdout
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
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
  std::string data, holidays, write_series;
  int queues = 100, weeks = 8, repeats = 5, evaluations = 300;
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
    else if (k == "--holidays") a.holidays = next();
    else if (k == "--write-series") a.write_series = next();
    else if (k == "--queues") a.queues = std::clamp(std::stoi(next()), 1, 10000);
    else if (k == "--weeks") a.weeks = std::clamp(std::stoi(next()), 3, 30);
    else if (k == "--repeats") a.repeats = std::clamp(std::stoi(next()), 1, 100);
    else if (k == "--seed") a.seed = std::stoull(next());
    else if (k == "--evaluations") a.evaluations = std::clamp(std::stoi(next()), 4, 10000);
    else if (k == "--bank") a.bank = true;
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

struct Scores {
  double wape_sum = 0, mase_sum = 0;
  int n = 0;
};

// Runs one configuration over all queues `repeats` times; prints the median time and the mean
// holdout scores per candidate.
void RunConfig(const char* name, const std::vector<opsbox::wfm::IntervalSeries>& qs,
               const opsbox::wfm::ForecastRequest& r, int repeats) {
  std::vector<double> times, cpu_times;
  std::map<std::string, Scores> scores;
  std::map<std::string, int> chosen;
  for (int rep = 0; rep < repeats; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    std::vector<opsbox::wfm::ForecastResult> results;
    results.reserve(qs.size());
    for (const auto& s : qs) {
      auto f = opsbox::wfm::Forecast(s, r);
      if (!f.ok()) Die(f.error().message);
      results.push_back(std::move(f).value());
    }
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    cpu_times.push_back(static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
    if (rep > 0) continue;
    for (const auto& f : results) {
      ++chosen[std::string(ForecastMethodName(f.method)) + "/" + SeasonName(f.season)];
      for (const auto& c : f.candidates) {
        if (!c.holdout_wape || !c.holdout_mase) continue;
        if (c.method == f.method && c.season == f.season) {
          Scores& s = scores["chosen"];  // selected on this same holdout: optimistic
          s.wape_sum += *c.holdout_wape, s.mase_sum += *c.holdout_mase, ++s.n;
        }
        Scores& s = scores[std::string(ForecastMethodName(c.method)) + "/" + SeasonName(c.season)];
        s.wape_sum += *c.holdout_wape, s.mase_sum += *c.holdout_mase, ++s.n;
      }
    }
  }
  std::sort(times.begin(), times.end());
  std::sort(cpu_times.begin(), cpu_times.end());
  std::printf("{\"bench\":\"forecast\",\"config\":\"%s\",\"queues\":%zu,\"intervals\":%zu,"
              "\"seconds_median\":%.4f,\"seconds_min\":%.4f,\"cpu_seconds_median\":%.4f,"
              "\"repeats\":%d,\"candidates\":{",
              name, qs.size(), qs[0].volume.size(), times[times.size() / 2], times[0],
              cpu_times[cpu_times.size() / 2], repeats);
  bool first = true;
  for (const auto& [k, s] : scores) {
    std::printf("%s\"%s\":{\"wape\":%.4f,\"mase\":%.4f}", first ? "" : ",", k.c_str(),
                s.wape_sum / s.n, s.mase_sum / s.n);
    first = false;
  }
  std::printf("},\"chosen\":{");
  first = true;
  for (const auto& [k, n] : chosen) std::printf("%s\"%s\":%d", first ? "" : ",", k.c_str(), n), first = false;
  std::printf("}}\n");
}

void RunQueues(const Args& a) {
  const auto bank = Import(a.data, 15);
  const auto queues = MakeQueues(bank.series, a);
  if (!a.write_series.empty()) WriteSeries(a.write_series, queues);
  opsbox::wfm::ForecastRequest r;
  r.horizon_days = 7;
  r.holdout_days = 7;
  r.fit_evaluations_max = a.evaluations;
  RunConfig("auto", queues, r, a.repeats);
  r.method = ForecastMethod::kHoltWintersAdditive;
  r.season = Season::kWeek;
  RunConfig("holt-winters-add/week", queues, r, a.repeats);
  r.method = ForecastMethod::kSeasonalNaive;
  RunConfig("seasonal-naive/week", queues, r, a.repeats);
}

void RunBank(const Args& a) {
  std::vector<opsbox::wfm::SpecialDay> special;
  if (!a.holidays.empty()) {
    auto s = opsbox::wfm::LoadSpecialDaysFile(a.holidays);
    if (!s.ok()) Die(s.error().message);
    special = *s;
  }
  for (int im : {15, 30, 60}) {
    const auto h = Import(a.data, im);
    if (im == 15 && !a.write_series.empty()) WriteSeries(a.write_series, {h.series});
    for (bool with_holidays : {false, true}) {
      if (with_holidays && special.empty()) continue;
      opsbox::wfm::ForecastRequest r;
      r.horizon_days = 7;
      r.holdout_days = 7;
      if (with_holidays) r.special_days = special;
      const std::string name = "bank/" + std::to_string(im) + "min" + (with_holidays ? "+holidays" : "");
      RunConfig(name.c_str(), {h.series}, r, 1);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = ParseArgs(argc, argv);
  if (a.bank) RunBank(a);
  else RunQueues(a);
  return 0;
}
