#include "wfm/forecast.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "core/assert.hpp"

namespace opsbox::wfm {
namespace {

constexpr int kSecondsPerDay = 86400;
constexpr double kLogitBound = 12.0;       // keeps parameters within about [6e-6, 1 - 6e-6]
constexpr double kLevelFloor = 1e-6;       // multiplicative level stays positive
constexpr int kProfileWeeks = 4;           // "like Sunday" and handle-time profiles
constexpr double kNelderMeadRelTol = 1e-6;

int IntervalsPerDay(int interval_min) { return 1440 / interval_min; }

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double Logit(double p) { return std::log(p / (1.0 - p)); }

// Initial level, trend and season from the first two seasons (see forecast.hpp). The level
// returned is the level at the end of season 1 (t = m - 1). Multiplicative indices average the
// ratios of the two seasons that are positive: a zero beside a positive value is a closure (a
// holiday), not a seasonal shape.
void InitHoltWinters(std::span<const double> y, int m, HoltWintersKind kind, double& level,
                     double& trend, std::vector<double>& season) {
  double mean1 = 0, mean2 = 0;
  for (int i = 0; i < m; ++i) mean1 += y[i], mean2 += y[m + i];
  mean1 /= m;
  mean2 /= m;
  trend = (mean2 - mean1) / m;
  const double mid = (m - 1) / 2.0;
  season.assign(m, 0.0);
  for (int i = 0; i < m; ++i) {
    const double base1 = mean1 + (i - mid) * trend, base2 = base1 + m * trend;
    if (kind == HoltWintersKind::kAdditive) {
      season[i] = (y[i] - base1 + y[m + i] - base2) / 2;
      continue;
    }
    double sum = 0;
    int count = 0;
    for (const auto& [v, base] : {std::pair{y[i], base1}, std::pair{y[m + i], base2}}) {
      if (v > 0 && base > kLevelFloor) sum += v / base, ++count;
    }
    season[i] = count > 0 ? std::max(sum / count, kMultiplicativeSeasonFloor)
                          : kMultiplicativeSeasonFloor;
  }
  level = mean1 + mid * trend;
  if (kind == HoltWintersKind::kMultiplicative) level = std::max(level, kLevelFloor);
}

// The recursions from t = m to the end; returns the SSE of one-step predictions. `season` is a
// ring indexed by t mod m on entry and on exit. This is the hot loop of every fit, so it carries
// u = level + trend and writes trend' = beta * level' + k with k = (1 - beta) * trend - beta *
// level computed off the critical path: u' = (1 + beta) * level' + k is then one fused step from
// level', which halves the loop-carried latency (same algebra as the textbook form).
double RecurseAdditive(std::span<const double> y, int m, const HoltWintersParams& p,
                       double& level, double& trend, std::vector<double>& season) {
  const double a = p.alpha, b = p.beta, g = p.gamma;
  double l = level, tr = trend, u = level + trend, sse = 0;
  double* s = season.data();
  const size_t n = y.size();
  int j = 0;
  for (size_t t = static_cast<size_t>(m); t < n; ++t) {
    const double yt = y[t];
    const double st = s[j];
    const double e = yt - (u + st);
    sse += e * e;
    const double k = (1 - b) * tr - b * l;
    const double nl = a * (yt - st) + (1 - a) * u;
    tr = b * nl + k;
    u = (1 + b) * nl + k;
    s[j] = g * (yt - nl) + (1 - g) * st;
    l = nl;
    if (++j == m) j = 0;
  }
  level = l;
  trend = tr;
  return sse;
}

double RecurseMultiplicative(std::span<const double> y, int m, const HoltWintersParams& p,
                             double& level, double& trend, std::vector<double>& season,
                             int& floored) {
  const double a = p.alpha, b = p.beta, g = p.gamma;
  double l = level, tr = trend, u = level + trend, sse = 0;
  double* s = season.data();
  const size_t n = y.size();
  int j = 0;
  for (size_t t = static_cast<size_t>(m); t < n; ++t) {
    const double yt = y[t];
    const double st = s[j];
    const double e = yt - u * st;
    sse += e * e;
    double ns;
    if (st < kMultiplicativeLevelIndexMin) {
      // A closed or nearly closed interval says little about the level (noise over a tiny index
      // would swing it): the model's clock stops, level and trend stay, only the index learns.
      // Carrying the trend across nights and weekends instead multiplied its noise by hundreds
      // of steps. A closed interval that opens takes its index from this observation at once.
      const double ratio = yt / std::max(l, kLevelFloor);
      ns = st <= kMultiplicativeSeasonFloor ? ratio : g * ratio + (1 - g) * st;
    } else {
      const double k = (1 - b) * tr - b * l;
      const double nl = std::max(a * (yt / st) + (1 - a) * u, kLevelFloor);
      tr = b * nl + k;
      u = (1 + b) * nl + k;
      ns = g * (yt / nl) + (1 - g) * st;
      l = nl;
    }
    if (yt > 0 && ns < kMultiplicativeSeasonFloor) ++floored;
    s[j] = std::max(ns, kMultiplicativeSeasonFloor);
    if (++j == m) j = 0;
  }
  level = l;
  trend = tr;
  return sse;
}

// Minimises f over R^3 with Nelder-Mead (reflection 1, expansion 2, contraction 0.5, shrink 0.5).
struct NelderMeadResult {
  std::array<double, 3> x;
  double f;
  int evaluations;
};

NelderMeadResult MinimiseNelderMead(const std::function<double(const std::array<double, 3>&)>& f,
                                    std::array<double, 3> x0, double step, int evaluations_max) {
  using Point = std::array<double, 3>;
  std::array<Point, 4> v;
  std::array<double, 4> fv;
  int evals = 0;
  auto eval = [&](const Point& p) { ++evals; return f(p); };
  for (int i = 0; i < 4; ++i) {
    v[i] = x0;
    if (i > 0) v[i][i - 1] += step;
    fv[i] = eval(v[i]);
  }
  auto combine = [](const Point& c, const Point& w, double k) {
    Point r;
    for (int d = 0; d < 3; ++d) r[d] = std::clamp(c[d] + k * (w[d] - c[d]), -kLogitBound, kLogitBound);
    return r;
  };
  while (evals < evaluations_max) {
    std::array<int, 4> o{0, 1, 2, 3};
    std::sort(o.begin(), o.end(), [&](int a, int b) { return fv[a] < fv[b]; });
    const int best = o[0], worst = o[3], second = o[2];
    if (fv[worst] - fv[best] <= kNelderMeadRelTol * (std::abs(fv[best]) + 1e-12)) break;
    Point c{0, 0, 0};
    for (int i : {o[0], o[1], o[2]})
      for (int d = 0; d < 3; ++d) c[d] += v[i][d] / 3.0;
    const Point r = combine(c, v[worst], -1.0);
    const double fr = eval(r);
    if (fr < fv[best]) {
      const Point e = combine(c, v[worst], -2.0);
      const double fe = eval(e);
      if (fe < fr) v[worst] = e, fv[worst] = fe; else v[worst] = r, fv[worst] = fr;
    } else if (fr < fv[second]) {
      v[worst] = r, fv[worst] = fr;
    } else {
      const bool outside = fr < fv[worst];
      const Point k = combine(c, outside ? r : v[worst], 0.5);
      const double fk = eval(k);
      if (fk < std::min(fr, fv[worst])) {
        v[worst] = k, fv[worst] = fk;
      } else {
        for (int i : {o[1], o[2], o[3]}) v[i] = combine(v[best], v[i], 0.5), fv[i] = eval(v[i]);
      }
    }
  }
  const int best = static_cast<int>(std::min_element(fv.begin(), fv.end()) - fv.begin());
  return {v[best], fv[best], evals};
}

HoltWintersParams ParamsFromLogits(const std::array<double, 3>& x) {
  return {Sigmoid(x[0]), Sigmoid(x[1]), Sigmoid(x[2])};
}

Status CheckHoltWintersInput(std::span<const double> y, int m) {
  if (m < 2) return Error::Invalid("season", "min_period", "the seasonal period must be >= 2");
  if (y.size() < 2 * static_cast<size_t>(m)) {
    return Error::Invalid("history", "min_length",
                          "Holt-Winters needs at least two seasons of history (" +
                              std::to_string(2 * m) + " intervals), got " +
                              std::to_string(y.size()));
  }
  return Ok();
}

}  // namespace

const char* ForecastMethodName(ForecastMethod m) {
  switch (m) {
    case ForecastMethod::kAuto: return "auto";
    case ForecastMethod::kSeasonalNaive: return "seasonal-naive";
    case ForecastMethod::kHoltWintersAdditive: return "holt-winters-add";
    case ForecastMethod::kHoltWintersMultiplicative: return "holt-winters-mul";
  }
  return "?";
}

Result<ForecastMethod> ParseForecastMethod(std::string_view text) {
  for (auto m : {ForecastMethod::kAuto, ForecastMethod::kSeasonalNaive,
                 ForecastMethod::kHoltWintersAdditive, ForecastMethod::kHoltWintersMultiplicative}) {
    if (text == ForecastMethodName(m)) return m;
  }
  return Error::Invalid("method", "one_of",
                        "method must be auto, seasonal-naive, holt-winters-add or "
                        "holt-winters-mul, got \"" + std::string(text) + "\"");
}

const char* SeasonName(Season s) { return s == Season::kDay ? "day" : "week"; }

Result<Season> ParseSeason(std::string_view text) {
  if (text == "day") return Season::kDay;
  if (text == "week") return Season::kWeek;
  return Error::Invalid("season", "one_of",
                        "season must be day or week, got \"" + std::string(text) + "\"");
}

int SeasonPeriodIntervals(Season s, int interval_min) {
  return IntervalsPerDay(interval_min) * (s == Season::kDay ? 1 : 7);
}

int WeekdayOfLocalDay(int64_t local_day) {
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  return static_cast<int>(((local_day + 3) % 7 + 7) % 7);
}

std::vector<double> SeasonalNaiveForecast(std::span<const double> y, int period_intervals,
                                          int horizon_intervals) {
  OPSBOX_ASSERT(period_intervals > 0 && y.size() >= static_cast<size_t>(period_intervals));
  std::vector<double> out(static_cast<size_t>(std::max(horizon_intervals, 0)));
  const size_t base = y.size() - static_cast<size_t>(period_intervals);
  for (size_t h = 0; h < out.size(); ++h) out[h] = y[base + h % period_intervals];
  return out;
}

Result<HoltWintersFit> RunHoltWinters(std::span<const double> y, int period_intervals,
                                      HoltWintersKind kind, const HoltWintersParams& params) {
  OPSBOX_TRY(CheckHoltWintersInput(y, period_intervals));
  HoltWintersFit fit;
  fit.kind = kind;
  fit.period_intervals = period_intervals;
  fit.params = params;
  std::vector<double> ring;
  InitHoltWinters(y, period_intervals, kind, fit.level, fit.trend, ring);
  fit.sse = kind == HoltWintersKind::kAdditive
                ? RecurseAdditive(y, period_intervals, params, fit.level, fit.trend, ring)
                : RecurseMultiplicative(y, period_intervals, params, fit.level, fit.trend, ring,
                                        fit.floored_intervals);
  // Rotate the ring so that season[0] belongs to the step after the last observation.
  fit.season.resize(ring.size());
  const size_t m = ring.size();
  for (size_t k = 0; k < m; ++k) fit.season[k] = ring[(y.size() - m + k) % m];
  return fit;
}

Result<HoltWintersFit> FitHoltWinters(std::span<const double> y, int period_intervals,
                                      HoltWintersKind kind, int evaluations_max) {
  OPSBOX_TRY(CheckHoltWintersInput(y, period_intervals));
  const int m = period_intervals;
  double level0 = 0, trend0 = 0;
  std::vector<double> season0, ring;
  InitHoltWinters(y, m, kind, level0, trend0, season0);
  auto sse = [&](const std::array<double, 3>& x) {
    const HoltWintersParams p = ParamsFromLogits(x);
    double l = level0, tr = trend0;
    ring = season0;
    int floored = 0;
    const double v = kind == HoltWintersKind::kAdditive
                         ? RecurseAdditive(y, m, p, l, tr, ring)
                         : RecurseMultiplicative(y, m, p, l, tr, ring, floored);
    return std::isfinite(v) ? v : std::numeric_limits<double>::max();
  };
  const HoltWintersParams start;
  const NelderMeadResult best =
      MinimiseNelderMead(sse, {Logit(start.alpha), Logit(start.beta), Logit(start.gamma)}, 1.0,
                         std::max(evaluations_max, 4));
  OPSBOX_ASSIGN_OR_RETURN(HoltWintersFit fit, RunHoltWinters(y, m, kind, ParamsFromLogits(best.x)));
  fit.evaluations = best.evaluations + 1;
  return fit;
}

std::vector<double> HoltWintersForecast(const HoltWintersFit& fit, int horizon_intervals) {
  const size_t m = fit.season.size();
  OPSBOX_ASSERT(m > 0);
  std::vector<double> out(static_cast<size_t>(std::max(horizon_intervals, 0)));
  const bool mul = fit.kind == HoltWintersKind::kMultiplicative;
  double steps = 0;  // multiplicative: closed intervals do not advance the trend (see Recurse)
  for (size_t h = 1; h <= out.size(); ++h) {
    const double s = fit.season[(h - 1) % m];
    steps += !mul || s >= kMultiplicativeLevelIndexMin ? 1 : 0;
    const double trend_part = fit.level + std::max(steps, 1.0) * fit.trend;
    const double v = mul ? std::max(trend_part, 0.0) * s : trend_part + s;
    out[h - 1] = std::max(v, 0.0);
  }
  return out;
}

Result<double> Wape(std::span<const double> actual, std::span<const double> forecast) {
  if (actual.size() != forecast.size()) {
    return Error::Invalid("forecast", "same_size", "forecast and actual differ in length");
  }
  if (actual.empty()) return Error::Invalid("actual", "non_empty", "no actual values to score");
  double num = 0, den = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    num += std::abs(actual[i] - forecast[i]);
    den += std::abs(actual[i]);
  }
  if (den == 0) return Error::Invalid("actual", "nonzero_sum", "WAPE is undefined: actuals sum to 0");
  return num / den;
}

Result<double> Mase(std::span<const double> actual, std::span<const double> forecast,
                    std::span<const double> train, int scaling_period_intervals) {
  if (actual.size() != forecast.size()) {
    return Error::Invalid("forecast", "same_size", "forecast and actual differ in length");
  }
  if (actual.empty()) return Error::Invalid("actual", "non_empty", "no actual values to score");
  const size_t m = static_cast<size_t>(std::max(scaling_period_intervals, 1));
  if (train.size() <= m) {
    return Error::Invalid("history", "min_length", "MASE needs more than one season of history");
  }
  double scale = 0;
  for (size_t t = m; t < train.size(); ++t) scale += std::abs(train[t] - train[t - m]);
  scale /= static_cast<double>(train.size() - m);
  if (scale == 0) return Error::Invalid("history", "nonzero_scale", "MASE is undefined: the "
                                        "seasonal naive in-sample error is 0");
  double mae = 0;
  for (size_t i = 0; i < actual.size(); ++i) mae += std::abs(actual[i] - forecast[i]);
  return mae / static_cast<double>(actual.size()) / scale;
}

namespace {

// A day-indexed view of the series: day d covers [d * ipd, (d + 1) * ipd).
struct Calendar {
  int64_t first_day = 0;
  int ipd = 0;  // intervals per day
};

Status ValidateRequest(const IntervalSeries& series, const ForecastRequest& r) {
  const int im = series.interval_min;
  if (im != 15 && im != 30 && im != 60) {
    return Error::Invalid("interval_min", "one_of", "interval_min must be 15, 30 or 60");
  }
  const size_t ipd = static_cast<size_t>(IntervalsPerDay(im));
  if (series.first_start_local_s % kSecondsPerDay != 0 || series.volume.size() % ipd != 0 ||
      series.volume.empty()) {
    return Error::Invalid("history", "whole_days", "history must cover whole local days");
  }
  if (series.volume.size() > kSeriesIntervalsMax) {
    return Error::Invalid("history", "max_intervals", "history has more than " +
                          std::to_string(kSeriesIntervalsMax) + " intervals");
  }
  for (double v : series.volume) {
    if (!std::isfinite(v) || v < 0) {
      return Error::Invalid("history.volume", "non_negative", "volumes must be finite and >= 0");
    }
  }
  if (!series.handle_total_s.empty() && series.handle_total_s.size() != series.volume.size()) {
    return Error::Invalid("history.handle_total_s", "same_size", "handle times must match volumes");
  }
  if (r.horizon_days < 1 || r.horizon_days > kForecastHorizonDaysMax) {
    return Error::Invalid("horizon_days", "range", "horizon_days must be 1.." +
                          std::to_string(kForecastHorizonDaysMax));
  }
  if (r.holdout_days < 0 || r.holdout_days > kForecastHoldoutDaysMax) {
    return Error::Invalid("holdout_days", "range", "holdout_days must be 0.." +
                          std::to_string(kForecastHoldoutDaysMax));
  }
  if (r.method == ForecastMethod::kAuto && r.holdout_days == 0) {
    return Error::Invalid("holdout_days", "required_for_auto",
                          "method auto chooses by holdout error: holdout_days must be >= 1");
  }
  if (static_cast<size_t>(r.holdout_days + 1) * ipd > series.volume.size()) {
    return Error::Invalid("holdout_days", "shorter_than_history",
                          "the holdout must leave at least one day of history to fit on");
  }
  if (r.fit_evaluations_max < 1 || r.fit_evaluations_max > kFitEvaluationsMaxLimit) {
    return Error::Invalid("fit_evaluations_max", "range", "fit_evaluations_max must be 1.." +
                          std::to_string(kFitEvaluationsMaxLimit));
  }
  if (r.special_days.size() > kSpecialDaysMax) {
    return Error::Invalid("special_days", "max_items", "at most " +
                          std::to_string(kSpecialDaysMax) + " special days");
  }
  for (const SpecialDay& d : r.special_days) {
    if (!std::isfinite(d.multiplier) || d.multiplier < 0) {
      return Error::Invalid("special_days.multiplier", "non_negative", "multiplier must be >= 0");
    }
    if (d.like_weekday && (*d.like_weekday < 0 || *d.like_weekday > 6)) {
      return Error::Invalid("special_days.like", "weekday", "like must be a weekday 0..6");
    }
  }
  return Ok();
}

const SpecialDay* FindSpecial(const std::vector<SpecialDay>& days, int64_t local_day) {
  for (const SpecialDay& d : days) {
    if (d.local_day == local_day) return &d;
  }
  return nullptr;
}

// Replaces special days inside the history by the same weekday one week earlier (else later) that
// is not special itself. Returns how many days were replaced.
int ReplaceSpecialDaysInHistory(std::vector<double>& v, const Calendar& cal,
                                const std::vector<SpecialDay>& special) {
  const int64_t days = static_cast<int64_t>(v.size()) / cal.ipd;
  int replaced = 0;
  for (const SpecialDay& s : special) {
    const int64_t d = s.local_day - cal.first_day;
    if (d < 0 || d >= days) continue;
    for (int64_t src : {d - 7, d + 7}) {
      if (src < 0 || src >= days || FindSpecial(special, cal.first_day + src)) continue;
      std::copy_n(v.begin() + src * cal.ipd, cal.ipd, v.begin() + d * cal.ipd);
      ++replaced;
      break;
    }
  }
  return replaced;
}

// Mean profile of the last kProfileWeeks days with this weekday in the history, or empty.
std::vector<double> WeekdayProfile(std::span<const double> history, const Calendar& cal,
                                   int weekday) {
  std::vector<double> profile(static_cast<size_t>(cal.ipd), 0.0);
  int found = 0;
  for (int64_t d = static_cast<int64_t>(history.size()) / cal.ipd - 1; d >= 0 && found < kProfileWeeks;
       --d) {
    if (WeekdayOfLocalDay(cal.first_day + d) != weekday) continue;
    for (int k = 0; k < cal.ipd; ++k) profile[k] += history[d * cal.ipd + k];
    ++found;
  }
  if (found == 0) return {};
  for (double& p : profile) p /= found;
  return profile;
}

// Applies special-day overrides to a forecast whose first interval starts on local day
// forecast_first_day; profiles come from `history` (which ends where the forecast begins).
void ApplySpecialDays(std::vector<double>& forecast, int64_t forecast_first_day,
                      std::span<const double> history, const Calendar& cal,
                      const std::vector<SpecialDay>& special) {
  const int64_t days = static_cast<int64_t>(forecast.size()) / cal.ipd;
  for (const SpecialDay& s : special) {
    const int64_t d = s.local_day - forecast_first_day;
    if (d < 0 || d >= days) continue;
    auto day = forecast.begin() + d * cal.ipd;
    if (s.like_weekday) {
      const std::vector<double> profile = WeekdayProfile(history, cal, *s.like_weekday);
      if (!profile.empty()) std::copy(profile.begin(), profile.end(), day);
    }
    for (int k = 0; k < cal.ipd; ++k) day[k] *= s.multiplier;
  }
}

struct CandidateRun {
  std::vector<double> forecast;
  std::optional<HoltWintersParams> params;
  std::string note;
};

// Fits (or, with fixed params, runs) one method on `train` and forecasts `horizon` intervals.
Result<CandidateRun> RunCandidate(ForecastMethod method, int period, std::span<const double> train,
                                  int horizon, int evaluations_max,
                                  const std::optional<HoltWintersParams>& fixed) {
  CandidateRun run;
  if (method == ForecastMethod::kSeasonalNaive) {
    if (train.size() < static_cast<size_t>(period)) {
      return Error::Invalid("history", "min_length", "seasonal naive needs one season of history");
    }
    run.forecast = SeasonalNaiveForecast(train, period, horizon);
    return run;
  }
  const HoltWintersKind kind = method == ForecastMethod::kHoltWintersAdditive
                                   ? HoltWintersKind::kAdditive
                                   : HoltWintersKind::kMultiplicative;
  OPSBOX_ASSIGN_OR_RETURN(HoltWintersFit fit,
                          fixed ? RunHoltWinters(train, period, kind, *fixed)
                                : FitHoltWinters(train, period, kind, evaluations_max));
  run.params = fit.params;
  if (fit.floored_intervals > 0) {
    run.note = std::to_string(fit.floored_intervals) +
               " seasonal index updates floored at " +
               std::to_string(kMultiplicativeSeasonFloor) + " (closed or near-zero intervals)";
  }
  run.forecast = HoltWintersForecast(fit, horizon);
  return run;
}

std::vector<ForecastCandidate> CandidatesFor(const ForecastRequest& r, size_t train_size,
                                             int interval_min) {
  std::vector<ForecastMethod> methods{r.method};
  if (r.method == ForecastMethod::kAuto) {
    methods = {ForecastMethod::kSeasonalNaive, ForecastMethod::kHoltWintersAdditive,
               ForecastMethod::kHoltWintersMultiplicative};
  }
  std::vector<ForecastCandidate> out;
  for (ForecastMethod m : methods) {
    std::vector<Season> seasons{Season::kDay, Season::kWeek};
    if (r.season) {
      seasons = {*r.season};
    } else if (r.method != ForecastMethod::kAuto) {
      const size_t needed = static_cast<size_t>(SeasonPeriodIntervals(Season::kWeek, interval_min)) *
                            (m == ForecastMethod::kSeasonalNaive ? 1 : 2);
      seasons = {train_size >= needed ? Season::kWeek : Season::kDay};
    }
    for (Season s : seasons) {
      ForecastCandidate c;
      c.method = m;
      c.season = s;
      out.push_back(c);
    }
  }
  return out;
}

// Handle-time profile: volume-weighted mean AHT by interval of the week over the last
// kProfileWeeks weeks of `history`, falling back to interval of the day, then to the overall mean.
std::vector<double> AhtForecast(std::span<const double> volume, std::span<const double> handle,
                                const Calendar& cal, int horizon) {
  const size_t week = static_cast<size_t>(cal.ipd) * 7;
  const size_t n = volume.size();
  const size_t from = n > week * kProfileWeeks ? n - week * kProfileWeeks : 0;
  std::vector<double> wv(week, 0), wh(week, 0), dv(cal.ipd, 0), dh(cal.ipd, 0);
  double tv = 0, th = 0;
  for (size_t t = from; t < n; ++t) {
    // Slot of the week measured from the series' first day, which the forecast continues.
    wv[t % week] += volume[t], wh[t % week] += handle[t];
    dv[t % cal.ipd] += volume[t], dh[t % cal.ipd] += handle[t];
    tv += volume[t], th += handle[t];
  }
  std::vector<double> out(static_cast<size_t>(horizon), 0.0);
  for (size_t h = 0; h < out.size(); ++h) {
    const size_t t = n + h;
    if (wv[t % week] > 0) out[h] = wh[t % week] / wv[t % week];
    else if (dv[t % cal.ipd] > 0) out[h] = dh[t % cal.ipd] / dv[t % cal.ipd];
    else if (tv > 0) out[h] = th / tv;
  }
  return out;
}

std::optional<double> AhtHoldoutWape(std::span<const double> volume, std::span<const double> handle,
                                     std::span<const double> predicted, size_t from) {
  double num = 0, den = 0;
  for (size_t i = from; i < volume.size(); ++i) {
    if (volume[i] <= 0) continue;
    const double actual = handle[i] / volume[i];
    num += volume[i] * std::abs(actual - predicted[i - from]);
    den += volume[i] * actual;
  }
  if (den <= 0) return std::nullopt;
  return num / den;
}

// Scores every candidate on the holdout; returns the index of the lowest WAPE, or -1.
// MASE is scaled on the history as given (before special-day replacement), so that scores with
// and without special days, and those of other tools on the same series, share one scale.
int EvaluateCandidates(ForecastResult& result, std::span<const double> train,
                       std::span<const double> original_train, std::span<const double> actual,
                       const Calendar& cal, int interval_min, const ForecastRequest& request) {
  const int64_t holdout_first_day = cal.first_day + static_cast<int64_t>(train.size()) / cal.ipd;
  constexpr double kNoScore = std::numeric_limits<double>::max();
  int chosen = -1;
  for (size_t i = 0; i < result.candidates.size(); ++i) {
    ForecastCandidate& c = result.candidates[i];
    auto run = RunCandidate(c.method, SeasonPeriodIntervals(c.season, interval_min), train,
                            static_cast<int>(actual.size()), request.fit_evaluations_max,
                            std::nullopt);
    if (!run.ok()) {
      c.skipped_reason = run.error().message;
      continue;
    }
    ApplySpecialDays(run->forecast, holdout_first_day, train, cal, request.special_days);
    c.evaluated = true;
    c.params = run->params;
    c.note = run->note;
    if (auto w = Wape(actual, run->forecast); w.ok()) c.holdout_wape = *w;
    if (auto m = Mase(actual, run->forecast, original_train, result.mase_scaling_period_intervals);
        m.ok()) {
      c.holdout_mase = *m;
    }
    if (chosen < 0 || c.holdout_wape.value_or(kNoScore) <
                          result.candidates[chosen].holdout_wape.value_or(kNoScore)) {
      chosen = static_cast<int>(i);
    }
  }
  return chosen;
}

// Volume-weighted handle-time forecast for the holdout (scored) and for the horizon.
void ForecastHandleTime(const IntervalSeries& series, const Calendar& cal, size_t holdout,
                        int horizon, ForecastResult& result, std::vector<double>& aht) {
  if (series.handle_total_s.empty()) return;
  const size_t n = series.volume.size();
  const std::span<const double> vol(series.volume), handle(series.handle_total_s);
  if (holdout > 0) {
    const std::vector<double> predicted = AhtForecast(
        vol.first(n - holdout), handle.first(n - holdout), cal, static_cast<int>(holdout));
    result.aht_holdout_wape = AhtHoldoutWape(vol, handle, predicted, n - holdout);
  }
  aht = AhtForecast(vol, handle, cal, horizon);
}

}  // namespace

Result<ForecastResult> Forecast(const IntervalSeries& series, const ForecastRequest& request) {
  OPSBOX_TRY(ValidateRequest(series, request));
  const Calendar cal{series.first_start_local_s / kSecondsPerDay,
                     IntervalsPerDay(series.interval_min)};
  ForecastResult result;
  std::vector<double> clean = series.volume;
  result.history_special_days_replaced =
      ReplaceSpecialDaysInHistory(clean, cal, request.special_days);
  const size_t n = clean.size();
  const size_t holdout = static_cast<size_t>(request.holdout_days) * cal.ipd;
  result.holdout_intervals = static_cast<int>(holdout);
  const std::span<const double> train(clean.data(), n - holdout);
  const std::span<const double> actual(series.volume.data() + (n - holdout), holdout);
  const int week = SeasonPeriodIntervals(Season::kWeek, series.interval_min);
  result.mase_scaling_period_intervals = train.size() > static_cast<size_t>(week) ? week : cal.ipd;
  result.candidates = CandidatesFor(request, train.size(), series.interval_min);
  const int chosen =
      holdout == 0 ? 0
                   : EvaluateCandidates(result, train, std::span(series.volume).first(train.size()),
                                        actual, cal, series.interval_min, request);
  if (chosen < 0) {
    return Error::Invalid("history", "min_length", "no forecasting method fits this history: " +
                                                       result.candidates[0].skipped_reason);
  }
  ForecastCandidate& best = result.candidates[chosen];
  result.method = best.method;
  result.season = best.season;
  const int horizon = request.horizon_days * cal.ipd;
  // With a holdout the parameters fitted without it are reused; without one, fit on everything.
  OPSBOX_ASSIGN_OR_RETURN(
      CandidateRun final_run,
      RunCandidate(best.method, SeasonPeriodIntervals(best.season, series.interval_min), clean,
                   horizon, request.fit_evaluations_max, best.params));
  result.params = final_run.params;
  if (holdout == 0) best.params = final_run.params, best.note = final_run.note;
  const int64_t forecast_first_day = cal.first_day + static_cast<int64_t>(n) / cal.ipd;
  ApplySpecialDays(final_run.forecast, forecast_first_day, clean, cal, request.special_days);
  std::vector<double> aht;
  ForecastHandleTime(series, cal, holdout, horizon, result, aht);
  result.intervals.resize(static_cast<size_t>(horizon));
  const int64_t step_s = static_cast<int64_t>(series.interval_min) * 60;
  for (size_t h = 0; h < result.intervals.size(); ++h) {
    IntervalForecast& f = result.intervals[h];
    f.start_local_s = forecast_first_day * kSecondsPerDay + static_cast<int64_t>(h) * step_s;
    f.volume = final_run.forecast[h];
    if (!aht.empty()) f.aht_s = aht[h];
  }
  return result;
}

}  // namespace opsbox::wfm
