// Interval forecasting for workforce management (issue #5, "Forecasting").
//
// What: per-queue interval volumes (and handle times when history has them) at 15, 30 or 60
// minutes, by seasonal naive, Holt-Winters additive or multiplicative (season of one day or one
// week of intervals) or "auto" (the candidate with the lowest holdout WAPE). Holidays and special
// days are overrides. Accuracy is WAPE and MASE on a holdout at the end of the history.
//
// Time: a series lives on the LOCAL wall-clock grid of its queue's business zone. A local time is
// counted in seconds since 1970-01-01T00:00 local ("local seconds"); a local day is
// floor(local_s / 86400) and its weekday follows from that (1970-01-01 was a Thursday). Seasonality
// is therefore wall-clock seasonality; history.hpp converts to and from UTC instants.
//
// Purity and threads: every function here is pure (no I/O, no clock, no globals) and may run
// concurrently on different inputs. Inputs are borrowed; results are owned by the caller.
//
// Units: volumes are calls per interval; handle times are seconds (_s); intervals are counted in
// intervals of the series ("_intervals") unless a name says otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace opsbox::wfm {

// Limits (STYLE.md house rule 4).
inline constexpr int kForecastHorizonDaysMax = 366;
inline constexpr int kForecastHoldoutDaysMax = 56;
inline constexpr size_t kSeriesIntervalsMax = 1'000'000;  // about 28 years of 15-minute data
inline constexpr size_t kSpecialDaysMax = 10'000;
inline constexpr int kFitEvaluationsMaxLimit = 10'000;
// Multiplicative Holt-Winters copes with closed (zero-volume) intervals thus: seasonal indices
// (shares of the level) are floored at kMultiplicativeSeasonFloor, so nothing divides by zero; and
// where the index is below kMultiplicativeLevelIndexMin (closed or nearly closed intervals, whose
// noise over a tiny index would swing the level) level and trend are carried and only the index
// is updated.
inline constexpr double kMultiplicativeSeasonFloor = 0.01;
inline constexpr double kMultiplicativeLevelIndexMin = 0.1;

// An interval series on the local wall-clock grid. volume[i] covers
// [first_start_local_s + i * interval_min * 60, + interval_min * 60).
struct IntervalSeries {
  int64_t first_start_local_s = 0;     // aligned to the interval
  int interval_min = 15;               // 15, 30 or 60 for forecasting
  std::vector<double> volume;          // calls per interval, >= 0
  std::vector<double> handle_total_s;  // empty, or sum of handle time of the interval's calls
  std::vector<double> abandons;        // empty, or abandoned calls per interval
};

enum class ForecastMethod { kAuto, kSeasonalNaive, kHoltWintersAdditive, kHoltWintersMultiplicative };
enum class Season { kDay, kWeek };

// Wire names: "auto", "seasonal-naive", "holt-winters-add", "holt-winters-mul"; "day", "week".
const char* ForecastMethodName(ForecastMethod m);
Result<ForecastMethod> ParseForecastMethod(std::string_view text);
const char* SeasonName(Season s);
Result<Season> ParseSeason(std::string_view text);
// Intervals in one season of a series with this interval length.
int SeasonPeriodIntervals(Season s, int interval_min);
// 0 = Monday … 6 = Sunday for a local day number.
int WeekdayOfLocalDay(int64_t local_day);

// A holiday or special day (a local date). Its forecast is replaced by the profile of
// like_weekday (mean of that weekday's last four days in the history), if given, else kept; then
// multiplied by multiplier (0 = closed). In the history, a special day is replaced before fitting
// by the same day one week earlier (or later), so it does not distort the model.
struct SpecialDay {
  int64_t local_day = 0;            // days since 1970-01-01 (local)
  std::optional<int> like_weekday;  // 0 = Monday … 6 = Sunday
  double multiplier = 1.0;          // >= 0
};

struct HoltWintersParams {
  double alpha = 0.3;  // level, in (0,1)
  double beta = 0.1;   // trend, in (0,1)
  double gamma = 0.1;  // season, in (0,1)
};

enum class HoltWintersKind { kAdditive, kMultiplicative };

// A fitted Holt-Winters model: the state after the last observation.
struct HoltWintersFit {
  HoltWintersKind kind = HoltWintersKind::kAdditive;
  int period_intervals = 0;
  HoltWintersParams params;
  double sse = 0;                   // in-sample one-step squared error (after the first season)
  int evaluations = 0;              // objective evaluations used by the optimiser
  double level = 0;
  double trend = 0;
  std::vector<double> season;       // period_intervals indices; season[0] is for the next step
  int floored_intervals = 0;        // multiplicative: indices clamped to the floor
};

// Seasonal naive: forecast[h] = y[n - period + (h mod period)].
// Precondition: y.size() >= period > 0.
std::vector<double> SeasonalNaiveForecast(std::span<const double> y, int period_intervals,
                                          int horizon_intervals);

// Runs the Holt-Winters recursions (R's HoltWinters form: s_t uses y_t - l_t, or y_t / l_t)
// from initial values taken from the first two seasons: level = mean of season 1, trend =
// (mean of season 2 - mean of season 1) / period, season = detrended season 1.
// Needs y.size() >= 2 * period_intervals; errors name "history" and rule "min_length".
Result<HoltWintersFit> RunHoltWinters(std::span<const double> y, int period_intervals,
                                      HoltWintersKind kind, const HoltWintersParams& params);

// Fits alpha, beta, gamma in (0,1) by minimising the in-sample one-step SSE with Nelder-Mead on
// logit-transformed parameters, at most evaluations_max objective evaluations.
Result<HoltWintersFit> FitHoltWinters(std::span<const double> y, int period_intervals,
                                      HoltWintersKind kind, int evaluations_max = 300);

// Point forecasts h = 1..horizon from a fit; negative values are clipped to 0.
std::vector<double> HoltWintersForecast(const HoltWintersFit& fit, int horizon_intervals);

// WAPE = sum |actual - forecast| / sum |actual|. Errors: sizes differ ("forecast", "same_size"),
// empty, or all actuals zero ("actual", "nonzero_sum").
Result<double> Wape(std::span<const double> actual, std::span<const double> forecast);
// MASE = mean |actual - forecast| / mean_{t >= m} |train[t] - train[t - m]| (in-sample seasonal
// naive error, m = scaling_period_intervals). Errors when the scale is zero or train too short.
Result<double> Mase(std::span<const double> actual, std::span<const double> forecast,
                    std::span<const double> train, int scaling_period_intervals);

struct ForecastRequest {
  ForecastMethod method = ForecastMethod::kAuto;
  std::optional<Season> season;  // unset: auto tries both; a single method uses week if it fits
  int horizon_days = 7;          // 1..kForecastHorizonDaysMax
  int holdout_days = 7;          // 0..kForecastHoldoutDaysMax; 0 = no accuracy (not with auto)
  std::vector<SpecialDay> special_days;
  int fit_evaluations_max = 300;  // per Holt-Winters fit
};

// One method and season tried on the holdout.
struct ForecastCandidate {
  ForecastMethod method = ForecastMethod::kSeasonalNaive;
  Season season = Season::kWeek;
  bool evaluated = false;
  std::string skipped_reason;  // why not evaluated (too little history, ...)
  std::optional<HoltWintersParams> params;
  std::optional<double> holdout_wape;
  std::optional<double> holdout_mase;
  std::string note;  // e.g. how many multiplicative indices were floored
};

struct IntervalForecast {
  int64_t start_local_s = 0;
  double volume = 0;
  std::optional<double> aht_s;  // when the history has handle times
};

struct ForecastResult {
  ForecastMethod method = ForecastMethod::kSeasonalNaive;  // the method used (never kAuto)
  Season season = Season::kWeek;
  std::optional<HoltWintersParams> params;
  int holdout_intervals = 0;
  int mase_scaling_period_intervals = 0;
  std::vector<ForecastCandidate> candidates;  // every candidate tried, chosen one included
  std::optional<double> aht_holdout_wape;     // volume-weighted, when handle times are present
  int history_special_days_replaced = 0;
  std::vector<IntervalForecast> intervals;   // horizon_days whole local days after the history
};

// Validates the request against the series and forecasts. The history must cover whole local
// days (history.hpp imports do). With auto, the candidates are seasonal naive and Holt-Winters
// additive and multiplicative, each with a daily and a weekly season where the history allows;
// each is fitted on the history without the holdout and the lowest holdout WAPE wins; the winner's
// parameters are then run over the whole history to forecast. Errors name the field and rule.
Result<ForecastResult> Forecast(const IntervalSeries& series, const ForecastRequest& request);

}  // namespace opsbox::wfm
