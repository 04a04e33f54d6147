// Interval forecasting for workforce management (issue #5, "Forecasting").
//
// What: per-queue interval volumes (and handle times when history has them) at 15, 30 or 60
// minutes, by seasonal naive, damped Holt-Winters additive or multiplicative (season of one day
// or one week of intervals), MSTL + ETS (daily and weekly STL components, exponential smoothing
// of the seasonally adjusted series; issue #15) or "auto": the candidate with the lowest mean
// WAPE over a rolling-origin cross-validation (cv_origins windows of holdout_days, one after
// another at the end of the history). Holidays and special days are overrides. Accuracy is WAPE
// and MASE per window; prediction intervals (80% and 95%) come from the cross-validation errors.
//
// Closed hours: wfm has no opening-hours calendar for a queue, so an interval of the week
// (weekday and time of day) is CLOSED when its volume is zero in every week of the history that
// a model is fitted on (at least kClosedHoursWeeksMin whole weeks; shorter histories have no
// closed intervals). Every model is fitted on the open intervals only, one after another (the
// "open series"), with a daily period of the open intervals of one open day (when every open day
// has the same count) and a weekly period of the open intervals of one week; closed intervals are
// forecast as exactly 0. So nights and weekends neither pull a level towards zero nor make a
// multiplicative index collapse.
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
// Closed-hours detection needs this many whole weeks of history (see the top of this file).
inline constexpr int kClosedHoursWeeksMin = 2;
// Rolling-origin cross-validation: at most this many windows; a window is used only when the
// history before it has at least kCvTrainDaysMin days (the last window is always used).
inline constexpr int kCvOriginsMax = 8;
inline constexpr int kCvTrainDaysMin = 21;  // weekly MSTL needs over two weeks
// Prediction intervals need at least this many cross-validation errors in open intervals.
inline constexpr size_t kIntervalErrorsMin = 30;
// Damped trends: phi is fitted within [kDampingMin, kDampingMax] (Hyndman et al. 2008, ch. 5).
inline constexpr double kDampingMin = 0.8;
inline constexpr double kDampingMax = 0.98;

// An interval series on the local wall-clock grid. volume[i] covers
// [first_start_local_s + i * interval_min * 60, + interval_min * 60).
struct IntervalSeries {
  int64_t first_start_local_s = 0;     // aligned to the interval
  int interval_min = 15;               // 15, 30 or 60 for forecasting
  std::vector<double> volume;          // calls per interval, >= 0
  std::vector<double> handle_total_s;  // empty, or sum of handle time of the interval's calls
  std::vector<double> abandons;        // empty, or abandoned calls per interval
};

// kMstlCombined: the mean of the MSTL forecasts with a weekly and with a daily + weekly season
// (a forecast combination; its cross-validation errors are those of the mean of its members').
enum class ForecastMethod {
  kAuto, kSeasonalNaive, kHoltWintersAdditive, kHoltWintersMultiplicative, kMstlEts,
  kMstlCombined
};
// kDayAndWeek: both periods at once (MSTL only).
enum class Season { kDay, kWeek, kDayAndWeek };

// Wire names: "auto", "seasonal-naive", "holt-winters-add", "holt-winters-mul", "mstl",
// "mstl-combined"; "day", "week", "day+week".
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

// R's HoltWinters form: beta and gamma act on the level's change and on y - level (y / level),
// so beta in (0,1) and gamma in (0,1) are the admissible region 0 < beta* < alpha and
// 0 < gamma* < 1 - alpha of the error-correction form. phi damps the trend: the h-step forecast
// adds (phi + ... + phi^h) * trend, bounded by phi / (1 - phi) * trend; phi = 1 is undamped.
struct HoltWintersParams {
  double alpha = 0.3;  // level, in (0,1)
  double beta = 0.1;   // trend, in (0,1)
  double gamma = 0.1;  // season, in (0,1)
  double phi = 1.0;    // damping, 1 or in [kDampingMin, kDampingMax]
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

// Fits alpha, beta, gamma in (0,1) (and with `damped` phi in [kDampingMin, kDampingMax]) by
// minimising the in-sample one-step SSE with Nelder-Mead on logit-transformed parameters, at most
// evaluations_max objective evaluations. Forecast() refuses the multiplicative form when the open
// series has a zero (a collapse risk); called directly, zeros meet the floors above.
// `start` (optional): parameters fitted on a shorter history of the same series, where the
// search begins with a smaller simplex (rolling-origin cross-validation refits thus).
Result<HoltWintersFit> FitHoltWinters(std::span<const double> y, int period_intervals,
                                      HoltWintersKind kind, int evaluations_max = 300,
                                      bool damped = false,
                                      const HoltWintersParams* start = nullptr);

// Point forecasts h = 1..horizon from a fit; negative values are clipped to 0.
std::vector<double> HoltWintersForecast(const HoltWintersFit& fit, int horizon_intervals);

// WAPE = sum |actual - forecast| / sum |actual|. Errors: sizes differ ("forecast", "same_size"),
// empty, or all actuals zero ("actual", "nonzero_sum").
Result<double> Wape(std::span<const double> actual, std::span<const double> forecast);
// MASE = mean |actual - forecast| / mean_{t >= m} |train[t] - train[t - m]| (in-sample seasonal
// naive error, m = scaling_period_intervals). Errors when the scale is zero or train too short.
Result<double> Mase(std::span<const double> actual, std::span<const double> forecast,
                    std::span<const double> train, int scaling_period_intervals);

// ---- STL, MSTL and ETS (issue #15) ---------------------------------------------------------------
// STL (Cleveland, Cleveland, McRae and Terpenning 1990, "STL: a seasonal-trend decomposition
// procedure based on loess", J. Official Statistics 6(1)): y = trend + seasonal + remainder by an
// inner loop of (1) detrending, (2) loess smoothing of each cycle-subseries (window
// seasonal_window, degree seasonal_degree, extended by one period at each end), (3) a low-pass
// filter of that (moving averages of period, period and 3, then loess of the next odd number
// >= period), (4) seasonal = (2) - (3), (5) loess of y - seasonal (window trend_window) as the
// trend; and an outer loop of bisquare robustness weights on the remainder. Loess is evaluated
// every ceil(window / 10) points and interpolated linearly between (the paper's "jump").
struct StlOptions {
  int period = 0;              // >= 2; y needs at least two periods
  int seasonal_window = 11;    // odd, >= 3
  int seasonal_degree = 0;     // 0 or 1 (R's stl default is 0)
  int trend_window = 0;        // 0: next odd >= 1.5 period / (1 - 1.5 / seasonal_window)
  int inner_iterations = 2;    // the paper: 2 without robustness, 1 with
  int robust_iterations = 0;   // outer loop; 0 = not robust (the paper suggests 15 when robust)
};
struct StlDecomposition {
  std::vector<double> trend, seasonal, remainder;  // each y.size()
};
Result<StlDecomposition> Stl(std::span<const double> y, const StlOptions& options);

// MSTL (Bandara, Hyndman and Bergmeir 2021, "MSTL: a seasonal-trend decomposition algorithm for
// time series with multiple seasonal patterns", arXiv:2107.13462): STL for each period, shortest
// first, each on the series without the other components, `iterations` times over; periods of
// at least half the series are dropped. Seasonal windows 7 + 4 i (i = 1, 2, ...: 11, 15, ...).
struct MstlDecomposition {
  std::vector<int> periods;                  // used, ascending
  std::vector<std::vector<double>> seasonal;  // one per period, each y.size()
  std::vector<double> trend, remainder;
};
Result<MstlDecomposition> Mstl(std::span<const double> y, std::vector<int> periods,
                               int iterations = 2);

// ETS with additive errors and no season (Hyndman, Koehler, Ord and Snyder 2008, "Forecasting
// with exponential smoothing"): simple (A,N,N: alpha) or damped trend (A,Ad,N: alpha, beta, phi).
// Parameters minimise the one-step SSE (the Gaussian likelihood's concentrated form) within the
// admissible bounds 1e-4 < alpha < 0.9999, 1e-4 < beta < alpha, kDampingMin <= phi <=
// kDampingMax; the initial level and trend are the least-squares values for those parameters
// (exact: the one-step errors are affine in them). Fit picks the form with the lower AICc.
// `warm` (optional, in/out): each form's fit on a shorter history of the same series, where that
// form's search begins with a smaller simplex; replaced by this call's fits.
enum class EtsForm { kSimple, kDampedTrend };
struct EtsFit {
  EtsForm form = EtsForm::kSimple;
  double alpha = 0, beta = 0, phi = 1;
  double level = 0, trend = 0;  // after the last observation
  double sse = 0, sigma2 = 0, aicc = 0;
  int evaluations = 0;
};
struct EtsWarmStart {
  std::optional<EtsFit> simple, damped;
};
Result<EtsFit> FitEts(std::span<const double> y, std::optional<EtsForm> form = std::nullopt,
                      int evaluations_max = 300, EtsWarmStart* warm = nullptr);
std::vector<double> EtsForecast(const EtsFit& fit, int horizon_intervals);

// MSTL + ETS, as R's forecast::stlf: decompose, fit ETS on y minus every seasonal component,
// forecast = ETS forecast + each component's last cycle repeated. Negative values clip to 0.
// `warm` (optional, in/out): FitEts's warm start.
Result<std::vector<double>> MstlEtsForecast(std::span<const double> y, std::vector<int> periods,
                                            int horizon_intervals, int evaluations_max = 300,
                                            EtsWarmStart* warm = nullptr);

struct ForecastRequest {
  ForecastMethod method = ForecastMethod::kAuto;
  std::optional<Season> season;  // unset: auto tries both; a single method uses week if it fits
  int horizon_days = 7;          // 1..kForecastHorizonDaysMax
  int holdout_days = 7;          // days of each CV window, 0..kForecastHoldoutDaysMax; 0 = no
                                 // accuracy and no intervals (not with auto)
  std::vector<SpecialDay> special_days;
  int fit_evaluations_max = 300;  // per Holt-Winters or ETS fit
  int cv_origins = 4;             // 1..kCvOriginsMax rolling-origin windows of holdout_days
};

// One method and season tried by cross-validation. holdout_* score the last window (the end
// of the history); cv_wape is the mean WAPE over every window, the score auto chooses by.
struct ForecastCandidate {
  ForecastMethod method = ForecastMethod::kSeasonalNaive;
  Season season = Season::kWeek;
  bool evaluated = false;
  std::string skipped_reason;  // why not evaluated (too little history, ...)
  std::optional<HoltWintersParams> params;  // fitted before the last window
  std::optional<double> holdout_wape;
  std::optional<double> holdout_mase;
  std::optional<double> cv_wape;
  std::vector<double> cv_wapes;  // per window, oldest first
  std::string note;  // e.g. how many multiplicative indices were floored
};

// Prediction intervals: lower/upper at 80% and 95%, 0 in closed intervals.
struct IntervalBounds {
  double lower_80 = 0, upper_80 = 0, lower_95 = 0, upper_95 = 0;
};

struct IntervalForecast {
  int64_t start_local_s = 0;
  double volume = 0;
  std::optional<double> aht_s;  // when the history has handle times
  std::optional<IntervalBounds> bounds;  // when cross-validation left enough errors
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
  int cv_windows = 0;             // cross-validation windows used
  int closed_intervals_of_week = 0;  // closed in the whole history (see the top of this file)
  // Prediction intervals from the chosen candidate's cross-validation errors e = actual -
  // forecast in open intervals, scaled as z = e / sqrt(max(forecast, 1)) (call counts have a
  // variance that grows with their mean): bound = forecast +- q * sqrt(max(forecast, 1)) with q
  // the 80th / 95th percentile of |z|; lower bounds clip at 0. Absent without enough errors.
  bool has_prediction_intervals = false;
  double interval_scale_80 = 0, interval_scale_95 = 0;
  std::vector<IntervalForecast> intervals;   // horizon_days whole local days after the history
};

// Validates the request against the series and forecasts. The history must cover whole local
// days (history.hpp imports do). With auto, the candidates are seasonal naive (daily and weekly
// season), damped Holt-Winters additive and multiplicative (weekly), MSTL + ETS with a weekly
// and with a daily + weekly season, and their combination; each is fitted before every
// cross-validation window and scored on it. Auto keeps the combination unless another candidate
// beats it in every window (then the lowest mean WAPE of those); a single method is simply
// scored. The choice is fitted again on the whole history to forecast (a combination: each
// member). A candidate
// that cannot run on some window (too little history, zeros for multiplicative, opening hours
// that differ between days for a daily period) is skipped with its reason. Errors name the field
// and rule.
Result<ForecastResult> Forecast(const IntervalSeries& series, const ForecastRequest& request);

}  // namespace opsbox::wfm
