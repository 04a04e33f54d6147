// Nelder-Mead minimisation on R^N for the forecasting fits (forecast.cpp, forecast_models.cpp).
// Internal to wfm. Coefficients: reflection 1, expansion 2, contraction 0.5, shrink 0.5. Every
// coordinate is clamped to [-bound, bound]: callers map coordinates to parameters through a
// logistic function, so the clamp keeps parameters strictly inside their admissible interval.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace opsbox::wfm::detail {

template <size_t N>
struct NelderMeadResult {
  std::array<double, N> x{};
  double f = 0;
  int evaluations = 0;
};

// Minimises f from x0 with an initial simplex of side `step`, stopping when the simplex's values
// agree to rel_tol or after evaluations_max evaluations of f.
template <size_t N, typename F>
NelderMeadResult<N> MinimiseNelderMead(const F& f, std::array<double, N> x0, double step,
                                       int evaluations_max, double bound, double rel_tol) {
  using Point = std::array<double, N>;
  std::array<Point, N + 1> v;
  std::array<double, N + 1> fv;
  int evals = 0;
  auto eval = [&](const Point& p) { ++evals; return f(p); };
  for (size_t i = 0; i <= N; ++i) {
    v[i] = x0;
    if (i > 0) v[i][i - 1] += step;
    fv[i] = eval(v[i]);
  }
  auto combine = [bound](const Point& c, const Point& w, double k) {
    Point r;
    for (size_t d = 0; d < N; ++d) r[d] = std::clamp(c[d] + k * (w[d] - c[d]), -bound, bound);
    return r;
  };
  std::array<size_t, N + 1> o;
  while (evals < evaluations_max) {
    std::iota(o.begin(), o.end(), size_t{0});
    std::sort(o.begin(), o.end(), [&](size_t a, size_t b) { return fv[a] < fv[b]; });
    const size_t best = o[0], worst = o[N], second = o[N - 1];
    if (fv[worst] - fv[best] <= rel_tol * (std::abs(fv[best]) + 1e-12)) break;
    Point c{};
    for (size_t j = 0; j < N; ++j)
      for (size_t d = 0; d < N; ++d) c[d] += v[o[j]][d] / static_cast<double>(N);
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
        for (size_t j = 1; j <= N; ++j) {
          v[o[j]] = combine(v[best], v[o[j]], 0.5);
          fv[o[j]] = eval(v[o[j]]);
        }
      }
    }
  }
  const size_t best = static_cast<size_t>(std::min_element(fv.begin(), fv.end()) - fv.begin());
  return {v[best], fv[best], evals};
}

}  // namespace opsbox::wfm::detail
