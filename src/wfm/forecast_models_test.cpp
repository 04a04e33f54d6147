// Goal (issue #15): show on synthetic series with known components that STL and MSTL recover
// those components, that ETS (simple and damped) fits what it should within its bounds, that
// damped Holt-Winters cannot run away, that closed hours are forecast as zero and never make a
// method collapse or diverge, that auto chooses by rolling-origin cross-validation and reports
// every candidate's scores, and that the prediction intervals cover about 80% and 95% of data
// whose noise is known. Seeds are fixed and printed in failure messages.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "wfm/forecast.hpp"

namespace opsbox::wfm {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kMonday20030303 = 12114;

double Rms(const std::vector<double>& a, const std::vector<double>& b, size_t from, size_t to) {
  double s = 0;
  for (size_t i = from; i < to; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s / static_cast<double>(to - from));
}

double Mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Hourly: a daily shape (sum 0), a weekly shape by weekday (sum 0), a slow linear trend and
// Gaussian noise of standard deviation `sd`.
struct Components {
  std::vector<double> y, trend, daily, weekly;
};

Components DailyWeeklySeries(int weeks, double sd, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, sd);
  const double weekday_shape[7] = {12, 6, 2, 0, -4, -8, -8};
  Components c;
  for (int t = 0; t < weeks * 168; ++t) {
    const int hour = t % 24, weekday = (t / 24) % 7;
    c.trend.push_back(200 + 0.02 * t);
    c.daily.push_back(30 * std::sin(2 * M_PI * hour / 24) + 10 * std::cos(4 * M_PI * hour / 24));
    c.weekly.push_back(weekday_shape[weekday]);
    c.y.push_back(c.trend.back() + c.daily.back() + c.weekly.back() + noise(rng));
  }
  return c;
}

TEST(Stl, RecoversTheTrendAndTheSeasonOfASeriesWithKnownComponents) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> y, trend, season;
  for (int t = 0; t < 24 * 20; ++t) {
    trend.push_back(50 + 0.1 * t);
    season.push_back(8 * std::sin(2 * M_PI * (t % 24) / 24));
    y.push_back(trend.back() + season.back() + noise(rng));
  }
  StlOptions o;
  o.period = 24;
  auto d = Stl(y, o);
  ASSERT_TRUE(d.ok()) << d.error().message;
  // Away from the ends, where loess extrapolates, the components are within the noise.
  EXPECT_LT(Rms(d->seasonal, season, 48, y.size() - 48), 0.6) << "seed 11";
  EXPECT_LT(Rms(d->trend, trend, 48, y.size() - 48), 0.6) << "seed 11";
  for (size_t i = 0; i < y.size(); ++i) {
    EXPECT_NEAR(d->trend[i] + d->seasonal[i] + d->remainder[i], y[i], 1e-9);
  }
}

TEST(Stl, RobustnessWeightsKeepOutliersOutOfTheSeason) {
  std::vector<double> y;
  std::vector<double> season;
  for (int t = 0; t < 12 * 12; ++t) {
    season.push_back(5 * std::cos(2 * M_PI * (t % 12) / 12));
    y.push_back(100 + season.back());
  }
  for (int t : {13, 50, 77, 101}) y[t] += 200;  // outliers
  StlOptions o;
  o.period = 12;
  o.robust_iterations = 15;
  o.inner_iterations = 1;
  auto robust = Stl(y, o);
  o.robust_iterations = 0;
  o.inner_iterations = 2;
  auto plain = Stl(y, o);
  ASSERT_TRUE(robust.ok() && plain.ok());
  const double robust_err = Rms(robust->seasonal, season, 24, y.size() - 24);
  EXPECT_LT(robust_err, 0.5);
  EXPECT_LT(robust_err, Rms(plain->seasonal, season, 24, y.size() - 24));
}

TEST(Stl, RefusesTooShortHistoriesAndEvenWindows) {
  std::vector<double> y(47, 1.0);
  StlOptions o;
  o.period = 24;
  EXPECT_EQ(Stl(y, o).error().rule, "min_length");
  y.resize(48);
  o.seasonal_window = 10;
  EXPECT_EQ(Stl(y, o).error().rule, "odd_min_3");
}

TEST(Mstl, RecoversDailyAndWeeklyComponentsWithinTolerance) {
  const Components c = DailyWeeklySeries(10, 2.0, 42);
  auto d = Mstl(c.y, {168, 24});
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->periods, (std::vector<int>{24, 168}));
  const size_t n = c.y.size(), edge = 168;
  // The weekly component also holds the weekday levels; compare away from the ends.
  EXPECT_LT(Rms(d->seasonal[0], c.daily, edge, n - edge), 1.5) << "seed 42";
  EXPECT_LT(Rms(d->seasonal[1], c.weekly, edge, n - edge), 2.0) << "seed 42";
  EXPECT_LT(Rms(d->trend, c.trend, edge, n - edge), 1.5) << "seed 42";
  EXPECT_NEAR(Mean(d->remainder), 0, 0.3);
}

TEST(Mstl, DropsPeriodsOfHalfTheSeriesOrMore) {
  const Components c = DailyWeeklySeries(3, 1.0, 1);  // 504 hours: the week (168) stays
  auto d = Mstl(std::span<const double>(c.y).first(330), {24, 168});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->periods, (std::vector<int>{24}));
  EXPECT_EQ(Mstl(std::span<const double>(c.y).first(40), {24}).error().rule, "min_length");
}

TEST(MstlEts, ForecastsTheNextWeekOfADailyWeeklySeriesWithinTheNoise) {
  const Components c = DailyWeeklySeries(11, 2.0, 5);
  const size_t n = 10 * 168;
  auto f = MstlEtsForecast(std::span<const double>(c.y).first(n), {24, 168}, 168);
  ASSERT_TRUE(f.ok()) << f.error().message;
  std::vector<double> truth;
  for (size_t t = n; t < n + 168; ++t) truth.push_back(c.trend[t] + c.daily[t] + c.weekly[t]);
  EXPECT_LT(Rms(*f, truth, 0, 168), 3.0) << "seed 5";
}

TEST(Ets, DampedTrendIsChosenForATrendSeriesAndFollowsIt) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> y;
  for (int t = 0; t < 300; ++t) y.push_back(10 + 0.5 * t + noise(rng));
  auto fit = FitEts(y);
  ASSERT_TRUE(fit.ok()) << fit.error().message;
  EXPECT_EQ(fit->form, EtsForm::kDampedTrend) << "seed 3";
  EXPECT_NEAR(fit->trend, 0.5, 0.15);
  EXPECT_GE(fit->phi, kDampingMin);
  EXPECT_LE(fit->phi, kDampingMax);
  EXPECT_GT(fit->beta, 0);
  EXPECT_LT(fit->beta, fit->alpha);
  const std::vector<double> f = EtsForecast(*fit, 5);
  for (int h = 0; h < 5; ++h) EXPECT_NEAR(f[h], 10 + 0.5 * (300 + h), 3.0) << "h=" << h;
  // Damped: the long-run forecast is bounded by level + phi / (1 - phi) * trend.
  const double bound = fit->level + fit->phi / (1 - fit->phi) * std::abs(fit->trend) + 1e-9;
  EXPECT_LE(EtsForecast(*fit, 10'000).back(), bound);
}

TEST(Ets, SimpleSmoothingIsChosenForALevelSeries) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> noise(0, 2);
  std::vector<double> y;
  for (int t = 0; t < 400; ++t) y.push_back(70 + noise(rng));
  auto fit = FitEts(y);
  ASSERT_TRUE(fit.ok());
  EXPECT_EQ(fit->form, EtsForm::kSimple) << "seed 4";
  EXPECT_NEAR(fit->level, 70, 1.0);
  EXPECT_GT(fit->alpha, 0);
  EXPECT_LT(fit->alpha, 0.3);
  EXPECT_NEAR(fit->sigma2, 4.0, 1.0);
}

TEST(HoltWinters, DampedFitStaysBoundedFarAhead) {
  std::mt19937_64 rng(8);
  std::normal_distribution<double> noise(0, 3);
  std::vector<double> y;
  for (int t = 0; t < 24 * 10; ++t) y.push_back(100 + 0.3 * t + 20 * std::sin(2 * M_PI * t / 24) + noise(rng));
  auto fit = FitHoltWinters(y, 24, HoltWintersKind::kAdditive, 300, /*damped=*/true);
  ASSERT_TRUE(fit.ok());
  EXPECT_GE(fit->params.phi, kDampingMin);
  EXPECT_LE(fit->params.phi, kDampingMax);
  const std::vector<double> f = HoltWintersForecast(*fit, 24 * 365);
  const double bound = fit->level + fit->params.phi / (1 - fit->params.phi) * std::abs(fit->trend) + 25;
  for (double v : f) EXPECT_LE(v, bound);
}

// Weekdays open 08:00-18:00 with a daily shape and Poisson noise; nights and weekends closed.
IntervalSeries OfficeHoursSeries(int weeks, double scale, uint64_t seed) {
  std::mt19937_64 rng(seed);
  IntervalSeries s;
  s.interval_min = 60;
  s.first_start_local_s = kMonday20030303 * kDay;
  for (int d = 0; d < weeks * 7; ++d) {
    for (int hour = 0; hour < 24; ++hour) {
      const bool open = d % 7 < 5 && hour >= 8 && hour < 18;
      const double mean = scale * (60 + 30 * std::sin(M_PI * (hour - 8) / 10) + 10 * (d % 7 == 0));
      s.volume.push_back(open ? std::poisson_distribution<int>(mean)(rng) : 0.0);
    }
  }
  return s;
}

TEST(Forecast, ClosedHoursAreForecastAsZeroAndNoMethodCollapsesOrDiverges) {
  const IntervalSeries s = OfficeHoursSeries(9, 1.0, 21);
  const size_t n = s.volume.size() - 7 * 24;
  IntervalSeries history = s;
  history.volume.resize(n);
  const std::span<const double> actual = std::span<const double>(s.volume).subspan(n);
  for (ForecastMethod m : {ForecastMethod::kSeasonalNaive, ForecastMethod::kHoltWintersAdditive,
                           ForecastMethod::kHoltWintersMultiplicative, ForecastMethod::kMstlEts}) {
    for (Season season : {Season::kDay, Season::kWeek}) {
      ForecastRequest r;
      r.method = m;
      r.season = season;
      r.horizon_days = 7;
      r.holdout_days = 7;
      auto f = Forecast(history, r);
      ASSERT_TRUE(f.ok()) << ForecastMethodName(m) << " " << f.error().message;
      EXPECT_EQ(f->closed_intervals_of_week, 7 * 24 - 50);
      std::vector<double> fc;
      for (const auto& i : f->intervals) {
        fc.push_back(i.volume);
        const int hour = static_cast<int>((i.start_local_s / 3600) % 24);
        const int weekday = WeekdayOfLocalDay(i.start_local_s / kDay);
        if (weekday >= 5 || hour < 8 || hour >= 18) {
          EXPECT_EQ(i.volume, 0);
        }
      }
      // A collapse to zero scores 1, a divergence far above 1; these stay near the noise.
      EXPECT_LT(*Wape(actual, fc), 0.2) << ForecastMethodName(m) << "/" << SeasonName(season)
                                        << " seed 21";
    }
  }
}

TEST(Forecast, MultiplicativeIsRefusedWhenOpenIntervalsHaveZeros) {
  IntervalSeries s = OfficeHoursSeries(6, 1.0, 2);
  s.volume[2 * 168 + 24 + 10] = 0;  // a zero on a Tuesday at 10:00 in week 3
  ForecastRequest r;
  r.method = ForecastMethod::kHoltWintersMultiplicative;
  r.season = Season::kWeek;
  auto f = Forecast(s, r);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().rule, "positive_for_multiplicative");
  r.method = ForecastMethod::kAuto;
  r.season.reset();
  auto a = Forecast(s, r);
  ASSERT_TRUE(a.ok()) << a.error().message;
  for (const auto& c : a->candidates) {
    if (c.method != ForecastMethod::kHoltWintersMultiplicative) continue;
    EXPECT_FALSE(c.evaluated);
    EXPECT_NE(c.skipped_reason.find("multiplicative"), std::string::npos);
  }
}

TEST(Forecast, AutoKeepsTheCombinationUnlessACandidateBeatsItInEveryWindow) {
  const IntervalSeries s = OfficeHoursSeries(8, 2.0, 9);
  ForecastRequest r;
  r.horizon_days = 7;
  r.holdout_days = 7;
  auto f = Forecast(s, r);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->cv_windows, 4);  // 4 weeks before the end, each after >= 21 days of history
  ASSERT_EQ(f->candidates.size(), 7u);
  const ForecastCandidate* combination = nullptr;
  for (const auto& c : f->candidates) {
    ASSERT_TRUE(c.evaluated) << ForecastMethodName(c.method) << ": " << c.skipped_reason;
    ASSERT_EQ(c.cv_wapes.size(), 4u);
    EXPECT_NEAR(*c.cv_wape, Mean(c.cv_wapes), 1e-12);
    EXPECT_EQ(*c.holdout_wape, c.cv_wapes.back());  // the last window is the holdout
    if (c.method == ForecastMethod::kMstlCombined) combination = &c;
  }
  ASSERT_NE(combination, nullptr);
  // The rule, recomputed: challengers beat the combination in every window; the lowest mean of
  // those wins, else the combination.
  const ForecastCandidate* expected = combination;
  for (const auto& c : f->candidates) {
    bool every = true;
    for (size_t w = 0; w < 4; ++w) every = every && c.cv_wapes[w] < combination->cv_wapes[w];
    if (every && *c.cv_wape < *expected->cv_wape) expected = &c;
  }
  EXPECT_EQ(f->method, expected->method);
  EXPECT_EQ(f->season, expected->season);
  // On noise-free weekly data the weekly seasonal naive is exact in every window and wins.
  IntervalSeries exact = s;
  for (size_t t = 7 * 24; t < exact.volume.size(); ++t) exact.volume[t] = exact.volume[t - 7 * 24];
  auto g = Forecast(exact, r);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->method, ForecastMethod::kSeasonalNaive);
  EXPECT_EQ(g->season, Season::kWeek);
  // One window only: every candidate is scored on that window alone.
  r.cv_origins = 1;
  auto one = Forecast(s, r);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->cv_windows, 1);
  for (const auto& c : one->candidates) EXPECT_EQ(c.cv_wapes.size(), 1u);
}

TEST(Forecast, TheCombinationIsTheMeanOfItsTwoMstlMembers) {
  const IntervalSeries s = OfficeHoursSeries(6, 2.0, 13);
  ForecastRequest r;
  r.horizon_days = 7;
  r.holdout_days = 7;
  r.method = ForecastMethod::kMstlCombined;
  auto f = Forecast(s, r);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->method, ForecastMethod::kMstlCombined);
  ASSERT_EQ(f->candidates.size(), 3u);  // the members are scored and reported too
  r.method = ForecastMethod::kMstlEts;
  std::vector<double> mean(f->intervals.size(), 0.0);
  for (Season season : {Season::kWeek, Season::kDayAndWeek}) {
    r.season = season;
    auto m = Forecast(s, r);
    ASSERT_TRUE(m.ok()) << m.error().message;
    for (size_t h = 0; h < mean.size(); ++h) mean[h] += m->intervals[h].volume / 2;
  }
  for (size_t h = 0; h < mean.size(); ++h) EXPECT_NEAR(f->intervals[h].volume, mean[h], 1e-6);
}

TEST(Forecast, CrossValidationOriginsAreLimited) {
  const IntervalSeries s = OfficeHoursSeries(5, 1.0, 1);
  ForecastRequest r;
  r.method = ForecastMethod::kSeasonalNaive;
  r.holdout_days = 1;
  r.cv_origins = kCvOriginsMax;
  auto f = Forecast(s, r);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->cv_windows, kCvOriginsMax);
  r.cv_origins = kCvOriginsMax + 1;
  EXPECT_EQ(Forecast(s, r).error().field, "cv_origins");
  r.cv_origins = 0;
  EXPECT_EQ(Forecast(s, r).error().field, "cv_origins");
}

TEST(Forecast, PredictionIntervalsCoverAbout80And95PercentOfPoissonData) {
  double inside80 = 0, inside95 = 0, open = 0;
  for (uint64_t seed = 100; seed < 110; ++seed) {
    const IntervalSeries s = OfficeHoursSeries(10, 3.0, seed);
    const size_t n = s.volume.size() - 7 * 24;
    IntervalSeries history = s;
    history.volume.resize(n);
    ForecastRequest r;
    r.method = ForecastMethod::kMstlEts;
    r.horizon_days = 7;
    r.holdout_days = 7;
    auto f = Forecast(history, r);
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_GT(f->interval_scale_95, f->interval_scale_80);
    for (size_t h = 0; h < f->intervals.size(); ++h) {
      const auto& i = f->intervals[h];
      ASSERT_TRUE(i.bounds.has_value());
      if (i.volume == 0) {
        EXPECT_EQ(i.bounds->upper_95, 0);  // closed
        continue;
      }
      EXPECT_LE(i.bounds->lower_95, i.bounds->lower_80);
      EXPECT_LE(i.bounds->lower_80, i.volume);
      EXPECT_LE(i.volume, i.bounds->upper_80);
      EXPECT_LE(i.bounds->upper_80, i.bounds->upper_95);
      const double a = s.volume[n + h];
      open += 1;
      inside80 += a >= i.bounds->lower_80 && a <= i.bounds->upper_80;
      inside95 += a >= i.bounds->lower_95 && a <= i.bounds->upper_95;
    }
  }
  // 10 seeds x 50 open hours: the binomial standard error is about 0.018 at 80%.
  EXPECT_NEAR(inside80 / open, 0.80, 0.06) << "seeds 100..109";
  EXPECT_NEAR(inside95 / open, 0.95, 0.035) << "seeds 100..109";
}

TEST(Forecast, WithoutCrossValidationThereAreNoIntervals) {
  ForecastRequest r;
  r.method = ForecastMethod::kSeasonalNaive;
  r.holdout_days = 0;
  auto f = Forecast(OfficeHoursSeries(3, 1.0, 1), r);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->intervals[0].bounds.has_value());
  EXPECT_EQ(f->cv_windows, 0);
}

TEST(Forecast, IntervalsNeedThirtyCrossValidationErrorsAndNotOneFewer) {
  // Four weeks and Monday..Wednesday: three one-day windows (Mon, Tue, Wed), 10 open hours each.
  IntervalSeries s = OfficeHoursSeries(5, 1.0, 17);
  s.volume.resize((4 * 7 + 3) * 24);
  ForecastRequest r;
  r.method = ForecastMethod::kSeasonalNaive;
  r.season = Season::kWeek;
  r.holdout_days = 1;
  r.cv_origins = 3;
  auto at_limit = Forecast(s, r);
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
  EXPECT_EQ(kIntervalErrorsMin, 30u);
  EXPECT_TRUE(at_limit->has_prediction_intervals);  // 3 x 10 = 30 errors
  // The Monday before the first window forecasts Monday 10:00 as 0: one error fewer.
  s.volume[(3 * 7) * 24 + 10] = 0;
  auto one_fewer = Forecast(s, r);
  ASSERT_TRUE(one_fewer.ok()) << one_fewer.error().message;
  EXPECT_FALSE(one_fewer->has_prediction_intervals);
  EXPECT_FALSE(one_fewer->intervals[0].bounds.has_value());
}

TEST(ForecastNames, MstlAndDayPlusWeekRoundTrip) {
  EXPECT_EQ(*ParseForecastMethod("mstl"), ForecastMethod::kMstlEts);
  EXPECT_EQ(*ParseSeason("day+week"), Season::kDayAndWeek);
  EXPECT_STREQ(SeasonName(Season::kDayAndWeek), "day+week");
  EXPECT_EQ(ParseSeason("month").error().rule, "one_of");
}

}  // namespace
}  // namespace opsbox::wfm
