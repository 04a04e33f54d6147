#include "wfm/forecast.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "core/assert.hpp"
#include "wfm/internal/nelder_mead.hpp"

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
// level', which halves the loop-carried latency (same algebra as the textbook form). Damped:
// u = level + phi * trend and k = (1 - beta) * phi * trend - beta * level.
double RecurseAdditive(std::span<const double> y, int m, const HoltWintersParams& p,
                       double& level, double& trend, std::vector<double>& season) {
  const double a = p.alpha, b = p.beta, g = p.gamma, phi = p.phi;
  double l = level, tr = trend, u = level + phi * trend, sse = 0;
  double* s = season.data();
  const size_t n = y.size();
  int j = 0;
  for (size_t t = static_cast<size_t>(m); t < n; ++t) {
    const double yt = y[t];
    const double st = s[j];
    const double e = yt - (u + st);
    sse += e * e;
    const double k = (1 - b) * phi * tr - b * l;
    const double nl = a * (yt - st) + (1 - a) * u;
    tr = b * nl + k;
    u = (1 + phi * b) * nl + phi * k;
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
  const double a = p.alpha, b = p.beta, g = p.gamma, phi = p.phi;
  double l = level, tr = trend, u = level + phi * trend, sse = 0;
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
      const double k = (1 - b) * phi * tr - b * l;
      const double nl = std::max(a * (yt / st) + (1 - a) * u, kLevelFloor);
      tr = b * nl + k;
      u = (1 + phi * b) * nl + phi * k;
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

template <size_t N>
HoltWintersParams ParamsFromLogits(const std::array<double, N>& x) {
  HoltWintersParams p{Sigmoid(x[0]), Sigmoid(x[1]), Sigmoid(x[2]), 1.0};
  if constexpr (N == 4) p.phi = kDampingMin + (kDampingMax - kDampingMin) * Sigmoid(x[3]);
  return p;
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
    case ForecastMethod::kMstlEts: return "mstl";
    case ForecastMethod::kMstlCombined: return "mstl-combined";
  }
  return "?";
}

Result<ForecastMethod> ParseForecastMethod(std::string_view text) {
  for (auto m : {ForecastMethod::kAuto, ForecastMethod::kSeasonalNaive,
                 ForecastMethod::kHoltWintersAdditive, ForecastMethod::kHoltWintersMultiplicative,
                 ForecastMethod::kMstlEts, ForecastMethod::kMstlCombined}) {
    if (text == ForecastMethodName(m)) return m;
  }
  return Error::Invalid("method", "one_of",
                        "method must be auto, seasonal-naive, holt-winters-add, "
                        "holt-winters-mul, mstl or mstl-combined, got \"" + std::string(text) + "\"");
}

const char* SeasonName(Season s) {
  switch (s) {
    case Season::kDay: return "day";
    case Season::kWeek: return "week";
    case Season::kDayAndWeek: return "day+week";
  }
  return "?";
}

Result<Season> ParseSeason(std::string_view text) {
  for (auto s : {Season::kDay, Season::kWeek, Season::kDayAndWeek}) {
    if (text == SeasonName(s)) return s;
  }
  return Error::Invalid("season", "one_of",
                        "season must be day, week or day+week, got \"" + std::string(text) + "\"");
}

int SeasonPeriodIntervals(Season s, int interval_min) {
  return IntervalsPerDay(interval_min) * (s == Season::kDay ? 1 : 7);  // day+week: the longer
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
                                      HoltWintersKind kind, int evaluations_max, bool damped,
                                      const HoltWintersParams* start) {
  OPSBOX_TRY(CheckHoltWintersInput(y, period_intervals));
  const int m = period_intervals;
  double level0 = 0, trend0 = 0;
  std::vector<double> season0, ring;
  InitHoltWinters(y, m, kind, level0, trend0, season0);
  auto sse = [&](const auto& x) {
    const HoltWintersParams p = ParamsFromLogits(x);
    double l = level0, tr = trend0;
    ring = season0;
    int floored = 0;
    const double v = kind == HoltWintersKind::kAdditive
                         ? RecurseAdditive(y, m, p, l, tr, ring)
                         : RecurseMultiplicative(y, m, p, l, tr, ring, floored);
    return std::isfinite(v) ? v : std::numeric_limits<double>::max();
  };
  const HoltWintersParams p0 = start != nullptr ? *start : HoltWintersParams{};
  auto logit = [](double p) { return Logit(std::clamp(p, 1e-6, 1 - 1e-6)); };
  const std::array<double, 3> x3{logit(p0.alpha), logit(p0.beta), logit(p0.gamma)};
  const double x_phi =
      start != nullptr && start->phi < 1 ? logit((start->phi - kDampingMin) / (kDampingMax - kDampingMin))
                                         : 0.0;
  const double step = start != nullptr ? 0.3 : 1.0;
  HoltWintersParams best;
  int evaluations = 0;
  if (damped) {
    const auto r = detail::MinimiseNelderMead<4>(sse, {x3[0], x3[1], x3[2], x_phi}, step,
                                                 std::max(evaluations_max, 5), kLogitBound,
                                                 kNelderMeadRelTol);
    best = ParamsFromLogits(r.x), evaluations = r.evaluations;
  } else {
    const auto r = detail::MinimiseNelderMead<3>(sse, x3, step, std::max(evaluations_max, 4),
                                                 kLogitBound, kNelderMeadRelTol);
    best = ParamsFromLogits(r.x), evaluations = r.evaluations;
  }
  OPSBOX_ASSIGN_OR_RETURN(HoltWintersFit fit, RunHoltWinters(y, m, kind, best));
  fit.evaluations = evaluations + 1;
  return fit;
}

std::vector<double> HoltWintersForecast(const HoltWintersFit& fit, int horizon_intervals) {
  const size_t m = fit.season.size();
  OPSBOX_ASSERT(m > 0);
  std::vector<double> out(static_cast<size_t>(std::max(horizon_intervals, 0)));
  const bool mul = fit.kind == HoltWintersKind::kMultiplicative;
  // Multiplicative: closed intervals do not advance the trend (see Recurse). damp_sum is
  // phi + phi^2 + ... over the steps taken (at least one).
  const double phi = fit.params.phi;
  double damp_sum = phi, phi_k = phi;
  bool first_step = true;
  for (size_t h = 1; h <= out.size(); ++h) {
    const double s = fit.season[(h - 1) % m];
    if (!mul || s >= kMultiplicativeLevelIndexMin) {
      if (!first_step) phi_k *= phi, damp_sum += phi_k;
      first_step = false;
    }
    const double trend_part = fit.level + damp_sum * fit.trend;
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
                          "method auto chooses by cross-validation: holdout_days must be >= 1");
  }
  if (static_cast<size_t>(r.holdout_days + 1) * ipd > series.volume.size()) {
    return Error::Invalid("holdout_days", "shorter_than_history",
                          "the holdout must leave at least one day of history to fit on");
  }
  if (r.cv_origins < 1 || r.cv_origins > kCvOriginsMax) {
    return Error::Invalid("cv_origins", "range", "cv_origins must be 1.." +
                          std::to_string(kCvOriginsMax));
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

// Open and closed intervals of the week (see forecast.hpp): slot = weekday * ipd + interval.
struct OpenHours {
  std::vector<uint8_t> open;
  int per_week = 0;
  std::optional<int> per_day;  // open intervals of each open day, when every open day agrees
};

size_t SlotOfWeek(const Calendar& cal, size_t t) {
  const int64_t day = cal.first_day + static_cast<int64_t>(t / static_cast<size_t>(cal.ipd));
  return static_cast<size_t>(WeekdayOfLocalDay(day)) * cal.ipd + t % static_cast<size_t>(cal.ipd);
}

OpenHours DetectOpenHours(std::span<const double> history, const Calendar& cal) {
  const size_t week = static_cast<size_t>(cal.ipd) * 7;
  OpenHours o;
  o.open.assign(week, 1);
  if (history.size() >= week * kClosedHoursWeeksMin) {
    std::vector<uint8_t> seen(week, 0);
    for (size_t t = 0; t < history.size(); ++t) {
      if (history[t] > 0) seen[SlotOfWeek(cal, t)] = 1;
    }
    // A history of zeros only has no opening hours to learn: every interval stays open.
    if (std::find(seen.begin(), seen.end(), 1) != seen.end()) o.open = std::move(seen);
  }
  std::optional<int> day_count;
  bool same = true;
  for (int d = 0; d < 7; ++d) {
    const int c = static_cast<int>(std::count(o.open.begin() + d * cal.ipd,
                                              o.open.begin() + (d + 1) * cal.ipd, 1));
    o.per_week += c;
    if (c == 0) continue;
    if (day_count && *day_count != c) same = false;
    day_count = c;
  }
  if (same) o.per_day = day_count;
  return o;
}

// A training span seen through its opening hours: the open series and, for a horizon that
// continues it, how many intervals are open and where.
struct OpenView {
  OpenHours hours;
  std::vector<double> open_values;
};

OpenView MakeOpenView(std::span<const double> train, const Calendar& cal) {
  OpenView v;
  v.hours = DetectOpenHours(train, cal);
  v.open_values.reserve(train.size());
  for (size_t t = 0; t < train.size(); ++t) {
    if (v.hours.open[SlotOfWeek(cal, t)]) v.open_values.push_back(train[t]);
  }
  return v;
}

// Forecast values for the open intervals of [from, from + horizon), or a full grid from them.
int OpenIntervals(const OpenView& v, const Calendar& cal, size_t from, int horizon) {
  int open = 0;
  for (size_t t = from; t < from + static_cast<size_t>(horizon); ++t)
    open += v.hours.open[SlotOfWeek(cal, t)];
  return open;
}

std::vector<double> ExpandOpen(const OpenView& v, const Calendar& cal, size_t from, int horizon,
                               std::span<const double> open_forecast) {
  std::vector<double> out(static_cast<size_t>(horizon), 0.0);
  size_t k = 0;
  for (size_t h = 0; h < out.size(); ++h) {
    if (v.hours.open[SlotOfWeek(cal, from + h)]) out[h] = open_forecast[k++];
  }
  OPSBOX_ASSERT(k == open_forecast.size());
  return out;
}

Result<std::vector<int>> PeriodsFor(const OpenHours& h, Season season) {
  std::vector<int> periods;
  if (season != Season::kWeek) {
    if (!h.per_day) {
      if (season == Season::kDay) {
        return Error::Invalid("season", "same_hours_every_day",
                              "a daily season needs the same number of open intervals on every "
                              "open day");
      }
    } else {
      periods.push_back(*h.per_day);
    }
  }
  if (season != Season::kDay) periods.push_back(h.per_week);
  return periods;
}

struct CandidateRun {
  std::vector<double> forecast;  // full grid, 0 in closed intervals
  std::optional<HoltWintersParams> params;
  std::string note;
};

// What a fit on an earlier window leaves for the next fit of the same candidate to start from.
struct WarmStart {
  std::optional<HoltWintersParams> holt_winters;
  EtsWarmStart ets;
};

// Fits one method on the open series of a training span and forecasts `horizon` intervals.
Result<CandidateRun> RunCandidate(ForecastMethod method, Season season, const OpenView& view,
                                  const Calendar& cal, std::span<const double> train, int horizon,
                                  int evaluations_max, WarmStart& warm) {
  const size_t train_size = train.size();
  CandidateRun run;
  if (method == ForecastMethod::kMstlEts && season != Season::kDay) {
    // With a weekly period MSTL works on the whole wall-clock grid, closed intervals included
    // (they are zero in every week, so the weekly component takes them exactly), as R's stlf
    // does; measured on the bank queues this beats MSTL on the open series
    // (docs/decisions/0024-forecast-mstl-cv.md). With a daily period only, closed days would
    // not repeat daily: it fits the open series below like every other method. Closed
    // intervals are forecast as 0 either way.
    std::vector<int> periods;
    if (season != Season::kWeek) periods.push_back(cal.ipd);
    if (season != Season::kDay) periods.push_back(7 * cal.ipd);
    OPSBOX_ASSIGN_OR_RETURN(
        run.forecast, MstlEtsForecast(train, periods, horizon, evaluations_max, &warm.ets));
    for (size_t h = 0; h < run.forecast.size(); ++h) {
      if (!view.hours.open[SlotOfWeek(cal, train_size + h)]) run.forecast[h] = 0;
    }
    return run;
  }
  const std::vector<double>& y = view.open_values;
  const int h_open = OpenIntervals(view, cal, train_size, horizon);
  OPSBOX_ASSIGN_OR_RETURN(std::vector<int> periods, PeriodsFor(view.hours, season));
  std::vector<double> open_forecast;
  if (method == ForecastMethod::kMstlEts) {
    OPSBOX_ASSIGN_OR_RETURN(
        open_forecast, MstlEtsForecast(y, periods, h_open, evaluations_max, &warm.ets));
  } else if (method == ForecastMethod::kSeasonalNaive) {
    if (y.size() < static_cast<size_t>(periods.back())) {
      return Error::Invalid("history", "min_length", "seasonal naive needs one season of history");
    }
    open_forecast = SeasonalNaiveForecast(y, periods.back(), h_open);
  } else {
    const bool mul = method == ForecastMethod::kHoltWintersMultiplicative;
    if (mul && std::find(y.begin(), y.end(), 0.0) != y.end()) {
      return Error::Invalid("history", "positive_for_multiplicative",
                            "multiplicative Holt-Winters is refused: the history has zero volumes "
                            "in open intervals, where its seasonal indices would collapse");
    }
    OPSBOX_ASSIGN_OR_RETURN(
        HoltWintersFit fit,
        FitHoltWinters(y, periods.back(),
                       mul ? HoltWintersKind::kMultiplicative : HoltWintersKind::kAdditive,
                       evaluations_max, /*damped=*/true,
                       warm.holt_winters ? &*warm.holt_winters : nullptr));
    run.params = fit.params;
    warm.holt_winters = fit.params;
    if (fit.floored_intervals > 0) {
      run.note = std::to_string(fit.floored_intervals) + " seasonal index updates floored at " +
                 std::to_string(kMultiplicativeSeasonFloor) + " (near-zero intervals)";
    }
    open_forecast = HoltWintersForecast(fit, h_open);
  }
  run.forecast = ExpandOpen(view, cal, train_size, horizon, open_forecast);
  return run;
}

std::vector<ForecastCandidate> CandidatesFor(const ForecastRequest& r, size_t train_size,
                                             int interval_min) {
  std::vector<ForecastMethod> methods{r.method};
  if (r.method == ForecastMethod::kAuto) {
    methods = {ForecastMethod::kSeasonalNaive, ForecastMethod::kHoltWintersAdditive,
               ForecastMethod::kHoltWintersMultiplicative, ForecastMethod::kMstlEts,
               ForecastMethod::kMstlCombined};
  } else if (r.method == ForecastMethod::kMstlCombined) {
    methods = {ForecastMethod::kMstlEts, ForecastMethod::kMstlCombined};  // members first
  }
  const bool members_only = r.method == ForecastMethod::kAuto ||
                            r.method == ForecastMethod::kMstlCombined;
  std::vector<ForecastCandidate> out;
  for (ForecastMethod m : methods) {
    std::vector<Season> seasons{Season::kDay, Season::kWeek};
    const size_t week = static_cast<size_t>(SeasonPeriodIntervals(Season::kWeek, interval_min));
    if (m == ForecastMethod::kMstlCombined) {
      seasons = {Season::kDayAndWeek};
    } else if (m == ForecastMethod::kMstlEts) {
      // MSTL drops a period of half the history or more: the weekly one needs over two weeks.
      const Season fallback = train_size > 2 * week ? Season::kWeek : Season::kDay;
      if (members_only) seasons = {Season::kWeek, Season::kDayAndWeek};
      else if (r.season) seasons = {*r.season};
      else seasons = {fallback};
    } else if (r.season) {
      if (*r.season == Season::kDayAndWeek) continue;  // only MSTL has two periods
      seasons = {*r.season};
    } else if (r.method == ForecastMethod::kAuto && m != ForecastMethod::kSeasonalNaive) {
      // Auto leaves daily Holt-Winters out: on call-centre series with a weekly pattern it was
      // never chosen and cost a quarter of auto's time (docs/decisions/0024-forecast-mstl-cv.md).
      seasons = {Season::kWeek};
    } else if (r.method != ForecastMethod::kAuto) {
      const size_t needed = week * (m == ForecastMethod::kSeasonalNaive ? 1 : 2);
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

// The members of a combination: the MSTL candidates with a weekly and a daily + weekly season.
std::vector<size_t> CombinationMembers(const std::vector<ForecastCandidate>& candidates) {
  std::vector<size_t> members;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].method == ForecastMethod::kMstlEts &&
        (candidates[i].season == Season::kWeek || candidates[i].season == Season::kDayAndWeek)) {
      members.push_back(i);
    }
  }
  return members;
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

// Rolling-origin windows: window k (1 = the last) is [n - k H, n - (k - 1) H); a window before
// the last is used when at least kCvTrainDaysMin days precede it. Oldest first.
std::vector<size_t> CvOrigins(size_t n, size_t holdout, const Calendar& cal, int origins_max) {
  std::vector<size_t> origins;
  for (int k = origins_max; k >= 1; --k) {
    const size_t back = holdout * static_cast<size_t>(k);
    if (back >= n) continue;
    if (k > 1 && n - back < static_cast<size_t>(kCvTrainDaysMin) * cal.ipd) continue;
    origins.push_back(n - back);
  }
  return origins;
}

// The scores of one candidate over every window; errors (actual, forecast) kept for intervals.
struct CvRun {
  std::vector<std::pair<double, double>> pairs;
  std::optional<Error> failure;
  WarmStart warm;  // from the last window, for the final fit
};

// Per-window WAPE, and for the last window (the holdout) WAPE and MASE, from a candidate's
// (actual, forecast) pairs, window after window.
void ScoreWindows(ForecastCandidate& c, const CvRun& run, const std::vector<size_t>& origins,
                  size_t holdout, std::span<const double> original, int mase_period) {
  std::vector<double> actual(holdout), forecast(holdout);
  for (size_t w = 0; w < origins.size(); ++w) {
    for (size_t h = 0; h < holdout; ++h) {
      actual[h] = run.pairs[w * holdout + h].first;
      forecast[h] = run.pairs[w * holdout + h].second;
    }
    auto wape = Wape(actual, forecast);
    if (wape.ok()) c.cv_wapes.push_back(*wape);
    if (w + 1 < origins.size()) continue;
    if (wape.ok()) c.holdout_wape = *wape;
    if (auto m = Mase(actual, forecast, original.first(origins[w]), mase_period); m.ok()) {
      c.holdout_mase = *m;
    }
  }
  if (!c.cv_wapes.empty()) {
    double sum = 0;
    for (double v : c.cv_wapes) sum += v;
    c.cv_wape = sum / static_cast<double>(c.cv_wapes.size());
  }
  c.evaluated = true;
}

// Fits one candidate before every window and keeps its (actual, forecast) pairs.
void RunWindows(ForecastCandidate& c, CvRun& run, const std::vector<size_t>& origins,
                const std::vector<OpenView>& views, std::span<const double> clean,
                std::span<const double> original, const Calendar& cal, size_t holdout,
                const ForecastRequest& request) {
  for (size_t w = 0; w < origins.size(); ++w) {
    const size_t o = origins[w];
    auto fc = RunCandidate(c.method, c.season, views[w], cal, clean.first(o),
                           static_cast<int>(holdout), request.fit_evaluations_max, run.warm);
    if (!fc.ok()) {
      c.skipped_reason = fc.error().message;
      run.failure = fc.error();
      run.pairs.clear();
      return;
    }
    const int64_t first_day = cal.first_day + static_cast<int64_t>(o) / cal.ipd;
    ApplySpecialDays(fc->forecast, first_day, clean.first(o), cal, request.special_days);
    for (size_t h = 0; h < holdout; ++h) run.pairs.emplace_back(original[o + h], fc->forecast[h]);
    c.params = fc->params;
    c.note = fc->note;
  }
}

// A combination's pairs: the mean of its members' forecasts, when every member ran.
void CombineWindows(ForecastCandidate& c, CvRun& run, const std::vector<ForecastCandidate>& all,
                    const std::vector<CvRun>& runs) {
  const std::vector<size_t> members = CombinationMembers(all);
  for (size_t m : members) {
    if (!all[m].evaluated || members.size() < 2) {
      c.skipped_reason = "a combination needs both MSTL candidates (weekly, daily + weekly)";
      run.failure = Error::Invalid("history", "min_length", c.skipped_reason);
      return;
    }
  }
  run.pairs = runs[members[0]].pairs;
  for (size_t k = 0; k < run.pairs.size(); ++k) {
    double sum = 0;
    for (size_t m : members) sum += runs[m].pairs[k].second;
    run.pairs[k].second = sum / static_cast<double>(members.size());
  }
}

// Auto's rule against selection noise: the MSTL combination, when it ran, stays the choice
// unless another candidate beats it in EVERY window (then the lowest mean WAPE among those that
// do). With four one-week windows a single lucky week no longer picks a model; measured on the
// bank queues, per-queue choice by mean WAPE alone lost to the combination on the next week
// (docs/decisions/0024-forecast-mstl-cv.md).
int PreferCombination(const ForecastResult& result, int best) {
  int combination = -1;
  for (size_t i = 0; i < result.candidates.size(); ++i) {
    const ForecastCandidate& c = result.candidates[i];
    if (c.method == ForecastMethod::kMstlCombined && c.evaluated && c.cv_wape) {
      combination = static_cast<int>(i);
    }
  }
  if (combination < 0 || best < 0) return best;
  const ForecastCandidate& ref = result.candidates[combination];
  int chosen = combination;
  for (size_t i = 0; i < result.candidates.size(); ++i) {
    const ForecastCandidate& c = result.candidates[i];
    if (!c.evaluated || !c.cv_wape || c.cv_wapes.size() != ref.cv_wapes.size()) continue;
    bool every = !c.cv_wapes.empty();
    for (size_t w = 0; w < c.cv_wapes.size(); ++w) every = every && c.cv_wapes[w] < ref.cv_wapes[w];
    if (every && *c.cv_wape < *result.candidates[chosen].cv_wape) chosen = static_cast<int>(i);
  }
  return chosen;
}

// Cross-validates every candidate; returns the index of the lowest mean WAPE among those the
// request may choose (auto: all; a single method: that one), or -1.
// MASE (last window) is scaled on the history as given (before special-day replacement), so that
// scores with and without special days, and those of other tools, share one scale.
int CrossValidate(ForecastResult& result, std::span<const double> clean,
                  std::span<const double> original, const Calendar& cal,
                  const ForecastRequest& request, std::vector<CvRun>& runs) {
  const size_t holdout = static_cast<size_t>(result.holdout_intervals);
  const std::vector<size_t> origins = CvOrigins(clean.size(), holdout, cal, request.cv_origins);
  result.cv_windows = static_cast<int>(origins.size());
  std::vector<OpenView> views;
  for (size_t o : origins) views.push_back(MakeOpenView(clean.first(o), cal));
  runs.assign(result.candidates.size(), {});
  constexpr double kNoScore = std::numeric_limits<double>::max();
  int chosen = -1;
  for (size_t i = 0; i < result.candidates.size(); ++i) {
    ForecastCandidate& c = result.candidates[i];
    if (c.method == ForecastMethod::kMstlCombined) {
      CombineWindows(c, runs[i], result.candidates, runs);
    } else {
      RunWindows(c, runs[i], origins, views, clean, original, cal, holdout, request);
    }
    if (!c.skipped_reason.empty()) continue;
    ScoreWindows(c, runs[i], origins, holdout, original, result.mase_scaling_period_intervals);
    if (request.method != ForecastMethod::kAuto && c.method != request.method) continue;
    if (chosen < 0 ||
        c.cv_wape.value_or(kNoScore) < result.candidates[chosen].cv_wape.value_or(kNoScore)) {
      chosen = static_cast<int>(i);
    }
  }
  if (request.method == ForecastMethod::kAuto) chosen = PreferCombination(result, chosen);
  return chosen;
}

// The final forecast of the chosen candidate on the whole history (a combination: the mean of
// its members', each fitted again), warm-started from its last cross-validation fit if any.
Result<CandidateRun> FinalRun(const ForecastResult& result, size_t chosen, std::vector<CvRun>& runs,
                              const OpenView& view, const Calendar& cal,
                              std::span<const double> clean, int horizon,
                              const ForecastRequest& request) {
  runs.resize(result.candidates.size());
  const ForecastCandidate& best = result.candidates[chosen];
  if (best.method != ForecastMethod::kMstlCombined) {
    return RunCandidate(best.method, best.season, view, cal, clean, horizon,
                        request.fit_evaluations_max, runs[chosen].warm);
  }
  CandidateRun combined;
  combined.forecast.assign(static_cast<size_t>(horizon), 0.0);
  const std::vector<size_t> members = CombinationMembers(result.candidates);
  for (size_t m : members) {
    const ForecastCandidate& c = result.candidates[m];
    OPSBOX_ASSIGN_OR_RETURN(CandidateRun run,
                            RunCandidate(c.method, c.season, view, cal, clean, horizon,
                                         request.fit_evaluations_max, runs[m].warm));
    for (size_t h = 0; h < combined.forecast.size(); ++h) {
      combined.forecast[h] += run.forecast[h] / static_cast<double>(members.size());
    }
  }
  return combined;
}

// The 80th and 95th percentiles of |actual - forecast| / sqrt(max(forecast, 1)) over the
// cross-validation errors where the forecast is above 0 (0: closed or a closed special day).
void IntervalScales(const CvRun& run, ForecastResult& result) {
  std::vector<double> z;
  z.reserve(run.pairs.size());
  for (const auto& [a, f] : run.pairs) {
    if (f > 0) z.push_back(std::abs(a - f) / std::sqrt(std::max(f, 1.0)));
  }
  if (z.size() < kIntervalErrorsMin) return;
  std::sort(z.begin(), z.end());
  auto quantile = [&](double p) {
    const size_t k = static_cast<size_t>(std::ceil(p * static_cast<double>(z.size())));
    return z[std::clamp<size_t>(k, 1, z.size()) - 1];
  };
  result.has_prediction_intervals = true;
  result.interval_scale_80 = quantile(0.80);
  result.interval_scale_95 = quantile(0.95);
}

IntervalBounds BoundsFor(double f, const ForecastResult& r) {
  IntervalBounds b;
  if (f <= 0) return b;
  const double s = std::sqrt(std::max(f, 1.0));
  b.lower_80 = std::max(0.0, f - r.interval_scale_80 * s);
  b.upper_80 = f + r.interval_scale_80 * s;
  b.lower_95 = std::max(0.0, f - r.interval_scale_95 * s);
  b.upper_95 = f + r.interval_scale_95 * s;
  return b;
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
  const int week = SeasonPeriodIntervals(Season::kWeek, series.interval_min);
  result.mase_scaling_period_intervals = n - holdout > static_cast<size_t>(week) ? week : cal.ipd;
  result.candidates = CandidatesFor(request, n - holdout, series.interval_min);
  std::vector<CvRun> runs;
  const int chosen =
      holdout == 0 ? static_cast<int>(result.candidates.size()) - 1  // the requested method
                   : CrossValidate(result, clean, series.volume, cal, request, runs);
  if (chosen < 0) {
    // Auto: the first candidate's reason (the simplest method); one method: its own.
    const size_t k = request.method == ForecastMethod::kAuto ? 0 : runs.size() - 1;
    const std::optional<Error>& failure = runs[k].failure;
    return Error::Invalid(failure && !failure->field.empty() ? failure->field : "history",
                          failure ? failure->rule : "min_length",
                          "no forecasting method fits this history: " +
                              result.candidates[k].skipped_reason);
  }
  ForecastCandidate& best = result.candidates[chosen];
  result.method = best.method;
  result.season = best.season;
  if (holdout > 0) IntervalScales(runs[chosen], result);
  const int horizon = request.horizon_days * cal.ipd;
  const OpenView view = MakeOpenView(clean, cal);
  result.closed_intervals_of_week =
      static_cast<int>(std::count(view.hours.open.begin(), view.hours.open.end(), 0));
  auto final_run = FinalRun(result, static_cast<size_t>(chosen), runs, view, cal, clean, horizon,
                            request);
  if (!final_run.ok()) {
    const Error& e = final_run.error();
    return Error::Invalid(e.field.empty() ? "history" : e.field, e.rule, e.message);
  }
  result.params = final_run->params;
  if (holdout == 0) best.params = final_run->params, best.note = final_run->note;
  const int64_t forecast_first_day = cal.first_day + static_cast<int64_t>(n) / cal.ipd;
  ApplySpecialDays(final_run->forecast, forecast_first_day, clean, cal, request.special_days);
  std::vector<double> aht;
  ForecastHandleTime(series, cal, holdout, horizon, result, aht);
  result.intervals.resize(static_cast<size_t>(horizon));
  const int64_t step_s = static_cast<int64_t>(series.interval_min) * 60;
  const bool has_bounds = result.has_prediction_intervals;
  for (size_t h = 0; h < result.intervals.size(); ++h) {
    IntervalForecast& f = result.intervals[h];
    f.start_local_s = forecast_first_day * kSecondsPerDay + static_cast<int64_t>(h) * step_s;
    f.volume = final_run->forecast[h];
    if (!aht.empty()) f.aht_s = aht[h];
    if (has_bounds) f.bounds = BoundsFor(f.volume, result);
  }
  return result;
}

}  // namespace opsbox::wfm
