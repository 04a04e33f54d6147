// STL, MSTL and ETS (issue #15), written from the published algorithms cited in forecast.hpp.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "wfm/forecast.hpp"
#include "wfm/internal/nelder_mead.hpp"

namespace opsbox::wfm {
namespace {

int NextOdd(double x) {
  int v = static_cast<int>(std::ceil(x));
  return v % 2 == 0 ? v + 1 : v;
}

int Jump(int window) { return std::max(1, static_cast<int>(std::ceil(window / 10.0))); }

// Loess estimate at position xs (0-based, may lie outside [0, n)) from the points
// [left, right] of y, window q (the number of neighbours), degree 0 or 1, robustness weights
// rw (empty: all 1). Tricube weights over the distance to the farthest neighbour, widened when
// the window exceeds the series (Cleveland et al. 1990, section 3.1). False when every weight is
// zero. One pass of weighted moments: the degree-1 fit at xs is the weighted mean plus the
// weighted slope times (xs - weighted mean position), as the paper's weight adjustment gives.
bool LoessAt(std::span<const double> y, std::span<const double> rw, int q, int degree, double xs,
             int left, int right, double& out) {
  const int n = static_cast<int>(y.size());
  double h = std::max(xs - left, static_cast<double>(right) - xs);
  if (q > n) h += (q - n) / 2.0;
  // Tricube weights without branches: the paper's cut-offs (weight 1 within 0.001 h, 0 beyond
  // 0.999 h) change a weight by less than 3e-8 of its maximum, so they are left out; this loop
  // is the hot path of every decomposition.
  const double inv_h = h > 0 ? 1.0 / h : 0.0;
  const bool weighted = !rw.empty();
  double sw = 0, swx = 0, swxx = 0, swy = 0, swxy = 0;
  int j = left;
  for (; j <= right; ++j) {
    const double d = j - xs;
    const double u = std::min(std::abs(d) * inv_h, 1.0);
    const double c = 1 - u * u * u;
    double wj = c * c * c;
    if (weighted) wj *= rw[j];
    const double wd = wj * d, wy = wj * y[j];
    sw += wj, swx += wd, swxx += wd * d, swy += wy, swxy += wd * y[j];
  }
  if (sw <= 0) return false;
  const double mean_y = swy / sw;
  if (degree == 1 && h > 0) {
    // Positions relative to xs: the weighted mean position is a = swx / sw.
    const double a = swx / sw;
    const double c = swxx / sw - a * a;
    if (std::sqrt(std::max(c, 0.0)) > 0.001 * (n - 1)) {
      const double slope = (swxy / sw - a * mean_y) / c;
      out = mean_y + slope * (0 - a);
      return true;
    }
  }
  out = mean_y;
  return true;
}

// The q nearest neighbours of position i in a series of n points.
void Neighbours(int n, int q, double xs, int& left, int& right) {
  if (q >= n) {
    left = 0, right = n - 1;
    return;
  }
  left = std::clamp(static_cast<int>(std::floor(xs)) - (q - 1) / 2, 0, n - q);
  right = left + q - 1;
}

// Loess over the whole series at every `jump`-th point and the last, linear in between.
std::vector<double> LoessSmooth(std::span<const double> y, std::span<const double> rw, int q,
                                int degree, int jump) {
  const int n = static_cast<int>(y.size());
  std::vector<double> out(static_cast<size_t>(n));
  if (n == 0) return out;
  jump = std::max(1, std::min(jump, n - 1 > 0 ? n - 1 : 1));
  int prev = -1;
  auto at = [&](int i) {
    int left, right;
    Neighbours(n, q, i, left, right);
    if (!LoessAt(y, rw, q, degree, i, left, right, out[i])) out[i] = y[i];
  };
  for (int i = 0; i < n; i += jump) {
    at(i);
    if (prev >= 0) {
      for (int k = prev + 1; k < i; ++k) {
        out[k] = out[prev] + (out[i] - out[prev]) * (k - prev) / static_cast<double>(i - prev);
      }
    }
    prev = i;
  }
  if (prev != n - 1) {
    at(n - 1);
    for (int k = prev + 1; k < n - 1; ++k) {
      out[k] = out[prev] + (out[n - 1] - out[prev]) * (k - prev) / static_cast<double>(n - 1 - prev);
    }
  }
  return out;
}

// Moving average of length len: out[i] = mean(x[i .. i + len)).
std::vector<double> MovingAverage(std::span<const double> x, int len) {
  const size_t n = x.size() - static_cast<size_t>(len) + 1;
  std::vector<double> out(n);
  double sum = 0;
  for (int i = 0; i < len; ++i) sum += x[i];
  out[0] = sum / len;
  for (size_t i = 1; i < n; ++i) {
    sum += x[i + len - 1] - x[i - 1];
    out[i] = sum / len;
  }
  return out;
}

// Steps 2-4 of the inner loop: cycle-subseries smoothing extended one period at each end (c has
// n + 2 * period values), then the low-pass filter; returns the seasonal component.
std::vector<double> SeasonalStep(std::span<const double> detrended, std::span<const double> rw,
                                 const StlOptions& o) {
  const int n = static_cast<int>(detrended.size()), np = o.period;
  std::vector<double> c(static_cast<size_t>(n + 2 * np), 0.0);
  std::vector<double> sub, sub_rw, smooth;
  const int ns = o.seasonal_window;
  for (int cycle = 0; cycle < np; ++cycle) {
    sub.clear();
    sub_rw.clear();
    for (int t = cycle; t < n; t += np) {
      sub.push_back(detrended[t]);
      if (!rw.empty()) sub_rw.push_back(rw[t]);
    }
    const int k = static_cast<int>(sub.size());
    smooth = LoessSmooth(sub, sub_rw, ns, o.seasonal_degree, Jump(ns));
    // Extrapolate one point before and after the subseries.
    double before = sub.front(), after = sub.back();
    int left, right;
    Neighbours(k, ns, 0, left, right);
    LoessAt(sub, sub_rw, ns, o.seasonal_degree, -1, left, right, before);
    Neighbours(k, ns, k - 1, left, right);
    LoessAt(sub, sub_rw, ns, o.seasonal_degree, k, left, right, after);
    c[static_cast<size_t>(cycle)] = before;
    for (int m = 0; m < k; ++m) c[static_cast<size_t>((m + 1) * np + cycle)] = smooth[m];
    c[static_cast<size_t>((k + 1) * np + cycle)] = after;
  }
  // Subseries one shorter than the others leave their "after" value inside the n + 2np range
  // and the slot past it unused; the low-pass filter reads exactly n + 2np values.
  std::vector<double> l = MovingAverage(c, np);
  l = MovingAverage(l, np);
  l = MovingAverage(l, 3);
  const int nl = NextOdd(np);
  l = LoessSmooth(l, {}, nl, 1, Jump(nl));
  std::vector<double> seasonal(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) seasonal[i] = c[static_cast<size_t>(np + i)] - l[i];
  return seasonal;
}

// Bisquare robustness weights from the remainder (Cleveland et al. 1990, section 3.3).
void RobustnessWeights(std::span<const double> remainder, std::vector<double>& rw) {
  std::vector<double> a(remainder.size());
  for (size_t i = 0; i < a.size(); ++i) a[i] = std::abs(remainder[i]);
  std::vector<double> sorted = a;
  const size_t mid = sorted.size() / 2;
  std::nth_element(sorted.begin(), sorted.begin() + mid, sorted.end());
  double median = sorted[mid];
  if (sorted.size() % 2 == 0) {
    median = (median + *std::max_element(sorted.begin(), sorted.begin() + mid)) / 2;
  }
  const double h = 6 * median;
  rw.resize(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const double u = h > 0 ? a[i] / h : (a[i] > 0 ? 1.0 : 0.0);
    rw[i] = u < 1 ? (1 - u * u) * (1 - u * u) : 0.0;
  }
}

}  // namespace

Result<StlDecomposition> Stl(std::span<const double> y, const StlOptions& options) {
  StlOptions o = options;
  if (o.period < 2) return Error::Invalid("period", "min_period", "the STL period must be >= 2");
  if (y.size() < 2 * static_cast<size_t>(o.period)) {
    return Error::Invalid("history", "min_length", "STL needs at least two periods of history (" +
                                                       std::to_string(2 * o.period) + " intervals)");
  }
  if (o.seasonal_window < 3 || o.seasonal_window % 2 == 0) {
    return Error::Invalid("seasonal_window", "odd_min_3", "the seasonal window must be odd, >= 3");
  }
  if (o.seasonal_degree != 0 && o.seasonal_degree != 1) {
    return Error::Invalid("seasonal_degree", "one_of", "the seasonal degree must be 0 or 1");
  }
  if (o.trend_window <= 0) {
    o.trend_window = NextOdd(1.5 * o.period / (1 - 1.5 / o.seasonal_window));
  }
  const size_t n = y.size();
  StlDecomposition d;
  d.trend.assign(n, 0.0);
  d.seasonal.assign(n, 0.0);
  std::vector<double> rw, work(n);
  for (int outer = 0; outer <= o.robust_iterations; ++outer) {
    for (int inner = 0; inner < std::max(o.inner_iterations, 1); ++inner) {
      for (size_t i = 0; i < n; ++i) work[i] = y[i] - d.trend[i];
      d.seasonal = SeasonalStep(work, rw, o);
      for (size_t i = 0; i < n; ++i) work[i] = y[i] - d.seasonal[i];
      d.trend = LoessSmooth(work, rw, o.trend_window, 1, Jump(o.trend_window));
    }
    d.remainder.resize(n);
    for (size_t i = 0; i < n; ++i) d.remainder[i] = y[i] - d.seasonal[i] - d.trend[i];
    if (outer < o.robust_iterations) RobustnessWeights(d.remainder, rw);
  }
  return d;
}

Result<MstlDecomposition> Mstl(std::span<const double> y, std::vector<int> periods,
                               int iterations) {
  std::sort(periods.begin(), periods.end());
  periods.erase(std::unique(periods.begin(), periods.end()), periods.end());
  MstlDecomposition d;
  for (int p : periods) {
    if (p >= 2 && 2 * static_cast<size_t>(p) < y.size()) d.periods.push_back(p);
  }
  if (d.periods.empty()) {
    return Error::Invalid("history", "min_length",
                          "MSTL needs a history longer than two of its shortest period");
  }
  const size_t n = y.size();
  d.seasonal.assign(d.periods.size(), std::vector<double>(n, 0.0));
  std::vector<double> deseason(y.begin(), y.end());
  // With one period a second pass would repeat the first exactly.
  if (d.periods.size() == 1) iterations = 1;
  for (int it = 0; it < std::max(iterations, 1); ++it) {
    for (size_t i = 0; i < d.periods.size(); ++i) {
      for (size_t t = 0; t < n; ++t) deseason[t] += d.seasonal[i][t];
      StlOptions o;
      o.period = d.periods[i];
      o.seasonal_window = 7 + 4 * static_cast<int>(i + 1);
      OPSBOX_ASSIGN_OR_RETURN(StlDecomposition stl, Stl(deseason, o));
      d.seasonal[i] = std::move(stl.seasonal);
      for (size_t t = 0; t < n; ++t) deseason[t] -= d.seasonal[i][t];
      d.trend = std::move(stl.trend);
    }
  }
  d.remainder.resize(n);
  for (size_t t = 0; t < n; ++t) d.remainder[t] = deseason[t] - d.trend[t];
  return d;
}

namespace {

constexpr double kAlphaMin = 1e-4, kAlphaMax = 0.9999, kBetaMin = 1e-4;
constexpr double kEtsLogitBound = 15.0;
constexpr double kEtsRelTol = 1e-5;

double Logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

struct EtsParams {
  double alpha = 0.5, beta = 0, phi = 1;
};

EtsParams EtsFromCoordinates(std::span<const double> x, EtsForm form) {
  EtsParams p;
  p.alpha = kAlphaMin + (kAlphaMax - kAlphaMin) * Logistic(x[0]);
  if (form == EtsForm::kDampedTrend) {
    p.beta = kBetaMin + (p.alpha - kBetaMin) * Logistic(x[1]);
    p.phi = kDampingMin + (kDampingMax - kDampingMin) * Logistic(x[2]);
  }
  return p;
}

// One pass of the error-correction recursions from a zero initial state, carrying the
// sensitivities of the one-step prediction to the initial level (g) and trend (h): since the
// errors are affine in the initial state, e_t = e0_t - l0 g_t - b0 h_t, the least-squares l0, b0
// solve a 2x2 system and the SSE follows without a second pass. Returns that minimal SSE and
// the initial state; with `final_state` the state after the last observation for that l0, b0.
struct EtsPass {
  double sse = 0, l0 = 0, b0 = 0, level = 0, trend = 0;
};

// Simple smoothing alone: the level recursion l' = l + alpha e and its sensitivity to the
// initial level, (1 - alpha)^t, in one short loop (the fits' hot path).
EtsPass RunSimpleEts(std::span<const double> y, double a) {
  double l = 0, g = 1, see = 0, seg = 0, sgg = 0;
  const double keep = 1 - a;
  for (double yt : y) {
    const double e = yt - l;
    see += e * e, seg += e * g, sgg += g * g;
    l += a * e;
    g *= keep;
  }
  EtsPass r;
  if (sgg > 0) r.l0 = seg / sgg;
  r.sse = std::max(see - 2 * r.l0 * seg + r.l0 * r.l0 * sgg, 0.0);
  r.level = l + r.l0 * g;
  return r;
}

EtsPass RunEts(std::span<const double> y, EtsForm form, const EtsParams& p) {
  if (form == EtsForm::kSimple) return RunSimpleEts(y, p.alpha);
  const bool damped = form == EtsForm::kDampedTrend;
  const double a = p.alpha, b = p.beta, phi = damped ? p.phi : 0.0;
  double l = 0, tr = 0;                  // state from a zero start
  double gl = 1, gb = 0, hl = 0, hb = 1;  // d(level, trend) / d(l0) and / d(b0)
  double see = 0, seg = 0, seh = 0, sgg = 0, sgh = 0, shh = 0;
  for (double yt : y) {
    const double pred = l + phi * tr;
    const double g = gl + phi * gb, h = hl + phi * hb;
    const double e = yt - pred;
    see += e * e, seg += e * g, seh += e * h, sgg += g * g, sgh += g * h, shh += h * h;
    l = pred + a * e;
    tr = phi * tr + b * e;
    gl = g - a * g, gb = phi * gb - b * g;
    hl = h - a * h, hb = phi * hb - b * h;
  }
  EtsPass r;
  if (damped) {
    const double det = sgg * shh - sgh * sgh;
    if (std::abs(det) > 1e-12 * (sgg * shh + 1e-300)) {
      r.l0 = (seg * shh - seh * sgh) / det;
      r.b0 = (seh * sgg - seg * sgh) / det;
    } else if (sgg > 0) {
      r.l0 = seg / sgg;
    }
  } else if (sgg > 0) {
    r.l0 = seg / sgg;
  }
  r.sse = see - 2 * (r.l0 * seg + r.b0 * seh) +
          (r.l0 * r.l0 * sgg + 2 * r.l0 * r.b0 * sgh + r.b0 * r.b0 * shh);
  r.sse = std::max(r.sse, 0.0);
  r.level = l + r.l0 * gl + r.b0 * hl;
  r.trend = damped ? tr + r.l0 * gb + r.b0 * hb : 0.0;
  return r;
}

double LogitOf(double p) {
  p = std::clamp(p, 1e-6, 1 - 1e-6);
  return std::log(p / (1 - p));
}

// Coordinates of a previous fit's parameters (a warm start), the inverse of EtsFromCoordinates.
std::array<double, 3> CoordinatesOf(const EtsFit& f) {
  return {LogitOf((f.alpha - kAlphaMin) / (kAlphaMax - kAlphaMin)),
          f.form == EtsForm::kDampedTrend ? LogitOf((f.beta - kBetaMin) / (f.alpha - kBetaMin))
                                          : std::log(0.1 / 0.9),
          f.form == EtsForm::kDampedTrend
              ? LogitOf((f.phi - kDampingMin) / (kDampingMax - kDampingMin))
              : 0.0};
}

EtsFit FitEtsForm(std::span<const double> y, EtsForm form, int evaluations_max,
                  const EtsFit* start) {
  auto objective = [&](const auto& x) {
    const double v = RunEts(y, form, EtsFromCoordinates(x, form)).sse;
    return std::isfinite(v) ? v : std::numeric_limits<double>::max();
  };
  std::array<double, 3> best_x{};
  int evals = 0;
  // Cold start at alpha = 0.2, beta = alpha / 10, phi = 0.89; a warm start (the fit on a shorter
  // history of the same series) begins at its parameters with a smaller simplex.
  std::array<double, 3> x0{std::log(0.2 / 0.8), std::log(0.1 / 0.9), 0.0};
  double step = 1.0;
  if (start != nullptr) x0 = CoordinatesOf(*start), step = 0.3;
  if (form == EtsForm::kSimple) {
    auto r = detail::MinimiseNelderMead<1>(objective, {x0[0]}, step, evaluations_max,
                                           kEtsLogitBound, kEtsRelTol);
    best_x[0] = r.x[0], evals = r.evaluations;
  } else {
    auto r = detail::MinimiseNelderMead<3>(objective, x0, step, evaluations_max, kEtsLogitBound,
                                           kEtsRelTol);
    best_x = r.x, evals = r.evaluations;
  }
  const EtsParams p = EtsFromCoordinates(best_x, form);
  const EtsPass pass = RunEts(y, form, p);
  EtsFit fit;
  fit.form = form;
  fit.alpha = p.alpha, fit.beta = p.beta, fit.phi = form == EtsForm::kDampedTrend ? p.phi : 1.0;
  fit.level = pass.level, fit.trend = pass.trend;
  fit.sse = pass.sse;
  fit.evaluations = evals + 1;
  const double n = static_cast<double>(y.size());
  // Parameters counted as R's ets counts them: smoothing and damping, initial states, sigma.
  const double k = form == EtsForm::kSimple ? 3 : 6;
  fit.sigma2 = pass.sse / std::max(n - k + 1, 1.0);
  const double loglik_part = n * std::log(std::max(pass.sse / n, 1e-300));
  fit.aicc = loglik_part + 2 * k + (n - k - 1 > 0 ? 2 * k * (k + 1) / (n - k - 1) : 1e300);
  return fit;
}

}  // namespace

Result<EtsFit> FitEts(std::span<const double> y, std::optional<EtsForm> form,
                      int evaluations_max, EtsWarmStart* warm) {
  if (y.size() < 8) return Error::Invalid("history", "min_length", "ETS needs at least 8 values");
  for (double v : y) {
    if (!std::isfinite(v)) return Error::Invalid("history", "finite", "values must be finite");
  }
  evaluations_max = std::max(evaluations_max, 4);
  auto fit = [&](EtsForm f) {
    std::optional<EtsFit>* slot = nullptr;
    if (warm != nullptr) slot = f == EtsForm::kSimple ? &warm->simple : &warm->damped;
    EtsFit r = FitEtsForm(y, f, evaluations_max, slot && slot->has_value() ? &**slot : nullptr);
    if (slot != nullptr) *slot = r;
    return r;
  };
  if (form) return fit(*form);
  const EtsFit simple = fit(EtsForm::kSimple);
  const EtsFit damped = fit(EtsForm::kDampedTrend);
  return damped.aicc < simple.aicc ? damped : simple;
}

std::vector<double> EtsForecast(const EtsFit& fit, int horizon_intervals) {
  std::vector<double> out(static_cast<size_t>(std::max(horizon_intervals, 0)));
  double damp_sum = 0, phi_h = 1;
  for (double& v : out) {
    phi_h *= fit.phi;
    damp_sum += phi_h;
    v = fit.level + (fit.form == EtsForm::kDampedTrend ? damp_sum * fit.trend : 0.0);
  }
  return out;
}

Result<std::vector<double>> MstlEtsForecast(std::span<const double> y, std::vector<int> periods,
                                            int horizon_intervals, int evaluations_max,
                                            EtsWarmStart* warm) {
  OPSBOX_ASSIGN_OR_RETURN(MstlDecomposition d, Mstl(y, std::move(periods)));
  const size_t n = y.size();
  std::vector<double> adjusted(y.begin(), y.end());
  for (const auto& s : d.seasonal)
    for (size_t t = 0; t < n; ++t) adjusted[t] -= s[t];
  OPSBOX_ASSIGN_OR_RETURN(EtsFit fit, FitEts(adjusted, std::nullopt, evaluations_max, warm));
  std::vector<double> out = EtsForecast(fit, horizon_intervals);
  for (size_t i = 0; i < d.periods.size(); ++i) {
    const size_t p = static_cast<size_t>(d.periods[i]);
    for (size_t h = 0; h < out.size(); ++h) out[h] += d.seasonal[i][n - p + h % p];
  }
  for (double& v : out) v = std::max(v, 0.0);
  return out;
}

}  // namespace opsbox::wfm
