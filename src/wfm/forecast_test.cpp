// Goal: show that interval forecasting is right where the answer is known: seasonal naive and
// Holt-Winters recover synthetic series with known level, trend and season exactly; additive and
// multiplicative each win on data of their own shape; WAPE and MASE match hand-computed values;
// the history CSV import aggregates, fills gaps, honours zones and limits, and names line, column
// and rule in its errors; special days override forecasts; and the real bank data imports.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>

#include "wfm/forecast.hpp"
#include "wfm/history.hpp"

namespace opsbox::wfm {
namespace {

constexpr int64_t kDay = 86400;
// 2003-03-03 (a Monday) as a local day number.
constexpr int64_t kMonday20030303 = 12114;

std::vector<double> AdditiveSeries(int n, int m, double level, double slope) {
  std::vector<double> y(n);
  for (int t = 0; t < n; ++t) {
    const double season = 10.0 * std::sin(2 * M_PI * (t % m) / m) + ((t % m) == 3 ? 5.0 : 0.0) -
                          5.0 / m;
    y[t] = level + slope * t + season;
  }
  return y;
}

std::vector<double> SeasonIndices(int m) {
  std::vector<double> s(m);
  double sum = 0;
  for (int i = 0; i < m; ++i) sum += (s[i] = 1.0 + 0.6 * std::sin(2 * M_PI * i / m));
  for (double& v : s) v *= m / sum;
  return s;
}

TEST(SeasonalNaive, RepeatsTheLastSeasonExactly) {
  const std::vector<double> y{1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(SeasonalNaiveForecast(y, 3, 7), (std::vector<double>{5, 6, 7, 5, 6, 7, 5}));
}

TEST(HoltWinters, AdditiveRecoversLevelTrendAndSeasonExactlyForAnyParameters) {
  const int m = 24, n = 24 * 6;
  const std::vector<double> y = AdditiveSeries(n + 48, m, 100, 0.5);
  const std::span<const double> history(y.data(), n);
  for (const HoltWintersParams p : {HoltWintersParams{0.3, 0.1, 0.1}, HoltWintersParams{0.9, 0.5, 0.7}}) {
    auto fit = RunHoltWinters(history, m, HoltWintersKind::kAdditive, p);
    ASSERT_TRUE(fit.ok()) << fit.error().message;
    EXPECT_NEAR(fit->sse, 0, 1e-12);
    EXPECT_NEAR(fit->level, 100 + 0.5 * (n - 1), 1e-9);
    EXPECT_NEAR(fit->trend, 0.5, 1e-12);
    const std::vector<double> f = HoltWintersForecast(*fit, 48);
    for (int h = 0; h < 48; ++h) EXPECT_NEAR(f[h], y[n + h], 1e-9) << "h=" << h;
  }
}

TEST(HoltWinters, FittedAdditiveForecastIsExactOnNoiseFreeData) {
  const int m = 12, n = 12 * 8;
  const std::vector<double> y = AdditiveSeries(n + 12, m, 50, -0.2);
  auto fit = FitHoltWinters(std::span<const double>(y.data(), n), m, HoltWintersKind::kAdditive);
  ASSERT_TRUE(fit.ok());
  const std::vector<double> f = HoltWintersForecast(*fit, 12);
  for (int h = 0; h < 12; ++h) EXPECT_NEAR(f[h], y[n + h], 1e-7);
}

TEST(HoltWinters, MultiplicativeRecoversSeasonalIndicesExactlyWithoutTrend) {
  const int m = 24, n = m * 5;
  const std::vector<double> s = SeasonIndices(m);
  std::vector<double> y(n);
  for (int t = 0; t < n; ++t) y[t] = 80 * s[t % m];
  auto fit = RunHoltWinters(y, m, HoltWintersKind::kMultiplicative, {0.4, 0.2, 0.3});
  ASSERT_TRUE(fit.ok());
  EXPECT_NEAR(fit->sse, 0, 1e-12);
  EXPECT_NEAR(fit->level, 80, 1e-9);
  EXPECT_NEAR(fit->trend, 0, 1e-12);
  for (int k = 0; k < m; ++k) EXPECT_NEAR(fit->season[k], s[(n + k) % m], 1e-12);
}

// Growing seasonal amplitude suits the multiplicative model; constant amplitude the additive.
TEST(HoltWinters, EachFormWinsOnDataOfItsOwnShape) {
  const int m = 24, n = m * 10;
  const std::vector<double> s = SeasonIndices(m);
  std::vector<double> mul(n), add(n);
  for (int t = 0; t < n; ++t) {
    mul[t] = (50 + 1.0 * t) * s[t % m];
    add[t] = 50 + 1.0 * t + 30 * (s[t % m] - 1);
  }
  const auto sse = [&](const std::vector<double>& y, HoltWintersKind k) {
    auto fit = FitHoltWinters(y, m, k, 400);
    EXPECT_TRUE(fit.ok());
    return fit->sse;
  };
  EXPECT_LT(sse(mul, HoltWintersKind::kMultiplicative), 0.1 * sse(mul, HoltWintersKind::kAdditive));
  EXPECT_LT(sse(add, HoltWintersKind::kAdditive), 0.1 * sse(add, HoltWintersKind::kMultiplicative));
}

TEST(HoltWinters, MultiplicativeCopesWithClosedNightIntervals) {
  const int m = 24, n = m * 7;
  std::vector<double> y(n, 0.0);
  for (int t = 0; t < n; ++t) {
    const int hour = t % m;
    if (hour >= 8 && hour < 20) y[t] = 100 + 40 * std::sin(M_PI * (hour - 8) / 12);
  }
  auto fit = FitHoltWinters(y, m, HoltWintersKind::kMultiplicative);
  ASSERT_TRUE(fit.ok());
  EXPECT_TRUE(std::isfinite(fit->sse));
  const std::vector<double> f = HoltWintersForecast(*fit, m);
  for (int h = 0; h < m; ++h) {
    const double expected = y[(n + h) % m];
    EXPECT_NEAR(f[h], expected, expected == 0 ? 1.0 : 0.02 * expected) << "hour " << h;
  }
}

TEST(HoltWinters, FittedParametersStayInsideTheOpenUnitInterval) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 5);
  std::vector<double> y = AdditiveSeries(24 * 8, 24, 100, 0.0);
  for (double& v : y) v += noise(rng);
  auto fit = FitHoltWinters(y, 24, HoltWintersKind::kAdditive);
  ASSERT_TRUE(fit.ok());
  for (double p : {fit->params.alpha, fit->params.beta, fit->params.gamma}) {
    EXPECT_GT(p, 0);
    EXPECT_LT(p, 1);
  }
  auto start = RunHoltWinters(y, 24, HoltWintersKind::kAdditive, HoltWintersParams{});
  EXPECT_LE(fit->sse, start->sse);
}

TEST(HoltWinters, RejectsHistoryShorterThanTwoSeasons) {
  const std::vector<double> y(47, 1.0);
  auto fit = FitHoltWinters(y, 24, HoltWintersKind::kAdditive);
  ASSERT_FALSE(fit.ok());
  EXPECT_EQ(fit.error().rule, "min_length");
}

TEST(Accuracy, WapeAndMaseMatchHandComputedValues) {
  const std::vector<double> actual{10, 20, 30, 40}, forecast{12, 18, 33, 40};
  // |errors| = 2, 2, 3, 0: WAPE = 7 / 100.
  EXPECT_DOUBLE_EQ(*Wape(actual, forecast), 0.07);
  // Seasonal naive (m = 2) in-sample errors of {1,2,3,5,7,9}: 2, 3, 4, 4 -> mean 3.25; MAE 1.75.
  const std::vector<double> train{1, 2, 3, 5, 7, 9};
  EXPECT_DOUBLE_EQ(*Mase(actual, forecast, train, 2), 1.75 / 3.25);
}

TEST(Accuracy, RejectsUndefinedScores) {
  const std::vector<double> zeros{0, 0}, f{1, 1}, flat{3, 3, 3, 3};
  EXPECT_EQ(Wape(zeros, f).error().rule, "nonzero_sum");
  EXPECT_EQ(Mase(f, zeros, flat, 2).error().rule, "nonzero_scale");
  EXPECT_EQ(Wape(f, std::vector<double>{1}).error().rule, "same_size");
}

// ---- history import ----

HistoryImportOptions Opts(int interval_min) {
  HistoryImportOptions o;
  o.interval_min = interval_min;
  return o;
}

TEST(HistoryImport, SumsFiveMinuteRowsIntoFifteenAndSixtyMinutes) {
  const std::string csv =
      "start,calls\n2003-03-03 07:00,1\n2003-03-03 07:05,2\n2003-03-03 07:10,3\n"
      "2003-03-03 07:15,4\n2003-03-03 08:00,5\n";
  auto q = ParseHistoryCsv(csv, Opts(15), ZoneRules::Utc());
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->series.first_start_local_s, kMonday20030303 * kDay);
  ASSERT_EQ(q->series.volume.size(), 96u);
  EXPECT_EQ(q->series.volume[28], 6);  // 07:00
  EXPECT_EQ(q->series.volume[29], 4);  // 07:15
  EXPECT_EQ(q->series.volume[32], 5);  // 08:00
  EXPECT_EQ(q->source_interval_s, 300);
  EXPECT_EQ(q->rows, 5u);
  auto h = ParseHistoryCsv(csv, Opts(60), ZoneRules::Utc());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->series.volume[7], 10);
  EXPECT_EQ(h->series.volume[8], 5);
}

TEST(HistoryImport, FillsMissingIntervalsWithZeroAndReportsThem) {
  const std::string csv = "interval_start,count\n2003-03-03 00:00,5\n2003-03-03 01:00,7\n"
                          "2003-03-05 23:00,2\n";
  auto h = ParseHistoryCsv(csv, Opts(60), ZoneRules::Utc());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->series.volume.size(), 72u);
  EXPECT_EQ(h->intervals_without_rows, 69u);
  EXPECT_EQ(h->gaps, 1u);
  ASSERT_EQ(h->empty_days.size(), 1u);
  EXPECT_EQ(FormatIsoDate(h->empty_days[0]), "2003-03-04");
  EXPECT_EQ(h->series.volume[1], 7);
  EXPECT_EQ(h->series.volume[2], 0);
}

TEST(HistoryImport, CarriesHandleTimeAndAbandonsVolumeWeighted) {
  const std::string csv = "Start,Offered,AHT_S,Abandoned\n2003-03-03T10:00:00Z,10,100,1\n"
                          "2003-03-03T10:05:00Z,30,200,2\n";
  auto h = ParseHistoryCsv(csv, Opts(15), ZoneRules::Utc());
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_TRUE(h->has_aht);
  EXPECT_EQ(h->series.volume[40], 40);
  EXPECT_EQ(h->series.handle_total_s[40], 10 * 100 + 30 * 200);
  EXPECT_EQ(h->series.abandons[40], 3);
}

TEST(HistoryImport, JoinsSeparateDateAndTimeColumns) {
  const std::string csv = "date,time,calls\n2003-03-03,07:00,4\n2003-03-03,07:30:00,6\n";
  auto h = ParseHistoryCsv(csv, Opts(30), ZoneRules::Utc());
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->series.volume[14], 4);
  EXPECT_EQ(h->series.volume[15], 6);
}

void ExpectError(const std::string& csv, const std::string& field, const std::string& rule,
                 int interval_min = 15) {
  auto h = ParseHistoryCsv(csv, Opts(interval_min), ZoneRules::Utc());
  ASSERT_FALSE(h.ok()) << csv;
  EXPECT_EQ(h.error().field, field) << h.error().message;
  EXPECT_EQ(h.error().rule, rule) << h.error().message;
}

TEST(HistoryImport, ErrorsNameLineColumnAndRule) {
  const std::string head = "start,calls\n2003-03-03 07:00,1\n";
  ExpectError(head + "2003-03-03 07:05,-3\n", "line 3: calls", "non_negative");
  ExpectError(head + "2003-03-03 07:05,abc\n", "line 3: calls", "number");
  ExpectError(head + "2003-03-03 07:05,\n", "line 3: calls", "required");
  ExpectError(head + "2003-02-30 07:05,1\n", "line 3: start", "datetime");
  ExpectError(head + "2003-03-03 06:55,1\n", "line 3: start", "ascending");
  ExpectError(head + "2003-03-03 07:00,1\n", "line 3: start", "duplicate");
  ExpectError(head + "2003-03-03 07:05\n", "line 3", "column_count");
  ExpectError(head + "\"2003-03-03 07:05,1\n", "line 3", "csv_quote");
  ExpectError("when,calls\n2003-03-03 07:00,1\n", "line 1", "start_column");
  ExpectError("start,calls,abandons\n2003-03-03 07:00,1,2\n", "line 2: abandons",
              "abandons_le_count");
  ExpectError("start,calls,aht_s\n2003-03-03 07:00,1,0\n", "line 2: aht_s", "positive_when_calls");
  ExpectError("start,calls\n", "history", "non_empty");
}

TEST(HistoryImport, RejectsIntervalsThatCannotBeAggregated) {
  ExpectError("start,calls\n2003-03-03 07:00,1\n2003-03-03 08:00,1\n", "interval_min",
              "divides_source", 15);
  ExpectError("start,calls\n2003-03-03 07:00,1\n2003-03-03 07:20,1\n", "interval_min",
              "divides_source", 30);
}

TEST(HistoryImport, AcceptsRowsUpToTheLimitAndRejectsOneMore) {
  std::string csv = "start,calls\n";
  for (int i = 0; i < 4; ++i) csv += "2003-03-03 07:0" + std::to_string(i) + ",1\n";
  HistoryImportOptions o = Opts(15);
  o.rows_max = 4;
  EXPECT_TRUE(ParseHistoryCsv(csv, o, ZoneRules::Utc()).ok());
  csv += "2003-03-03 07:04,1\n";
  auto h = ParseHistoryCsv(csv, o, ZoneRules::Utc());
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().rule, "max_rows");
  EXPECT_EQ(h.error().field, "line 6");
  o.rows_max = kHistoryRowsMax + 1;
  EXPECT_EQ(ParseHistoryCsv(csv, o, ZoneRules::Utc()).error().rule, "range");
}

TEST(HistoryImport, AcceptsLinesUpToTheByteLimitAndRejectsOneMore) {
  const std::string row = "2003-03-03 07:00,1,";
  const std::string exact = row + std::string(kHistoryLineBytesMax - row.size(), 'x');
  ASSERT_EQ(exact.size(), kHistoryLineBytesMax);
  EXPECT_TRUE(ParseHistoryCsv("start,calls,note\n" + exact + "\n", Opts(15), ZoneRules::Utc()).ok());
  auto h = ParseHistoryCsv("start,calls,note\n" + exact + "x\n", Opts(15), ZoneRules::Utc());
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().rule, "max_line_bytes");
  EXPECT_EQ(h.error().field, "line 2");
}

std::optional<ZoneRules> NewYork() {
  auto z = ZoneRules::Load("America/New_York");
  if (!z.ok()) return std::nullopt;
  return *z;
}

TEST(HistoryImport, ConvertsInstantsToTheDeclaredZone) {
  auto ny = NewYork();
  if (!ny) GTEST_SKIP() << "no tzdata in /usr/share/zoneinfo";
  // 12:00Z on 2003-03-03 is 07:00 EST; 11:00Z on 2003-07-01 is 07:00 EDT.
  auto h = ParseHistoryCsv("start,calls\n2003-03-03T12:00:00Z,5\n2003-03-03T08:00:00-05:00,2\n"
                           "2003-07-01T11:00:00Z,6\n", Opts(60), *ny);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->series.volume[7], 5);
  EXPECT_EQ(h->series.volume[8], 2);
  const size_t july1 = static_cast<size_t>(120) * 24;  // days from 2003-03-03 to 2003-07-01
  EXPECT_EQ(h->series.volume[july1 + 7], 6);
  EXPECT_EQ(*LocalToInstant(*ny, kMonday20030303 * kDay + 7 * 3600), Instant{(kMonday20030303 * kDay + 12 * 3600) * 1000000});
}

TEST(HistoryImport, AddsTheRepeatedFallBackHourAndRejectsTheSpringGap) {
  auto ny = NewYork();
  if (!ny) GTEST_SKIP() << "no tzdata in /usr/share/zoneinfo";
  // 2003-10-26 01:00-02:00 happened twice in New York; 2003-04-06 02:30 never happened.
  auto h = ParseHistoryCsv("start,calls\n2003-10-26 01:00,3\n2003-10-26 01:30,4\n"
                           "2003-10-26 01:00,5\n2003-10-26 01:30,6\n2003-10-26 02:00,1\n",
                           Opts(60), *ny);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->series.volume[1], 18);
  auto gap = ParseHistoryCsv("start,calls\n2003-04-06 02:30,1\n", Opts(60), *ny);
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.error().rule, "nonexistent_local_time");
  EXPECT_EQ(ZoneRules::Load("Mars/Olympus").error().rule, "known_zone");
  EXPECT_EQ(ZoneRules::Load("../etc/passwd").error().rule, "iana_name");
}

// ---- forecasting with overrides ----

// Four weeks of 60-minute history: weekdays open 8-18 with a daily shape, weekends closed.
IntervalSeries WeeklySeries(int weeks) {
  IntervalSeries s;
  s.interval_min = 60;
  s.first_start_local_s = kMonday20030303 * kDay;
  for (int d = 0; d < weeks * 7; ++d) {
    for (int hour = 0; hour < 24; ++hour) {
      const bool open = d % 7 < 5 && hour >= 8 && hour < 18;
      s.volume.push_back(open ? 100.0 + 10 * (hour - 8) + 20 * (d % 7 == 0) : 0.0);
    }
  }
  return s;
}

TEST(Forecast, AutoPicksAWeeklyModelForWeeklyData) {
  ForecastRequest r;
  r.horizon_days = 7;
  r.holdout_days = 7;
  auto f = Forecast(WeeklySeries(5), r);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->season, Season::kWeek);
  EXPECT_EQ(f->candidates.size(), 7u);
  ASSERT_TRUE(f->candidates[1].holdout_wape.has_value());
  EXPECT_NEAR(*f->candidates[1].holdout_wape, 0, 1e-12);  // seasonal naive, weekly: exact
  EXPECT_NEAR(*f->candidates[1].holdout_mase, 0, 1e-12);
  ASSERT_EQ(f->intervals.size(), 168u);
  EXPECT_EQ(f->intervals[0].start_local_s, (kMonday20030303 + 35) * kDay);
  EXPECT_NEAR(f->intervals[8].volume, 120, 1e-6);  // Monday 08:00
}

TEST(Forecast, SpecialDaysCloseOrReshapeForecastDays) {
  ForecastRequest r;
  r.method = ForecastMethod::kSeasonalNaive;
  r.horizon_days = 7;
  r.holdout_days = 0;
  const int64_t next_monday = kMonday20030303 + 28;
  r.special_days = {{next_monday, std::nullopt, 0.0}, {next_monday + 1, 5, 1.0},
                    {next_monday + 2, std::nullopt, 1.5}};
  auto f = Forecast(WeeklySeries(4), r);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->intervals[8].volume, 0);               // Monday closed
  EXPECT_EQ(f->intervals[24 + 8].volume, 0);          // Tuesday like a Saturday
  EXPECT_EQ(f->intervals[48 + 8].volume, 150);        // Wednesday x1.5
  EXPECT_EQ(f->intervals[72 + 8].volume, 100);        // Thursday as usual
}

TEST(Forecast, ReplacesSpecialDaysInTheHistoryBeforeFitting) {
  IntervalSeries s = WeeklySeries(4);
  const int64_t closed_monday = kMonday20030303 + 21;  // last week's Monday, a holiday
  std::fill_n(s.volume.begin() + 21 * 24, 24, 0.0);
  ForecastRequest r;
  r.method = ForecastMethod::kSeasonalNaive;
  r.season = Season::kWeek;
  r.horizon_days = 7;
  r.holdout_days = 0;
  auto plain = Forecast(s, r);
  EXPECT_EQ(plain->intervals[8].volume, 0);
  r.special_days = {{closed_monday, std::nullopt, 0.0}};
  auto cleaned = Forecast(s, r);
  ASSERT_TRUE(cleaned.ok());
  EXPECT_EQ(cleaned->history_special_days_replaced, 1);
  EXPECT_EQ(cleaned->intervals[8].volume, 120);
}

TEST(Forecast, ForecastsHandleTimeBySlotOfTheWeek) {
  IntervalSeries s = WeeklySeries(3);
  s.handle_total_s.resize(s.volume.size());
  for (size_t t = 0; t < s.volume.size(); ++t) s.handle_total_s[t] = s.volume[t] * (200 + t % 24);
  ForecastRequest r;
  r.method = ForecastMethod::kSeasonalNaive;
  r.horizon_days = 2;
  r.holdout_days = 7;
  auto f = Forecast(s, r);
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_TRUE(f->intervals[9].aht_s.has_value());
  EXPECT_NEAR(*f->intervals[9].aht_s, 209, 1e-9);
  EXPECT_NEAR(*f->aht_holdout_wape, 0, 1e-12);
}

TEST(Forecast, ValidatesTheRequest) {
  ForecastRequest r;
  r.holdout_days = 0;
  EXPECT_EQ(Forecast(WeeklySeries(3), r).error().rule, "required_for_auto");
  r.holdout_days = 7;
  r.horizon_days = 0;
  EXPECT_EQ(Forecast(WeeklySeries(3), r).error().field, "horizon_days");
  r.horizon_days = 1;
  r.holdout_days = 21;
  EXPECT_EQ(Forecast(WeeklySeries(3), r).error().rule, "shorter_than_history");
  IntervalSeries partial = WeeklySeries(3);
  partial.volume.pop_back();
  r.holdout_days = 1;
  EXPECT_EQ(Forecast(partial, r).error().rule, "whole_days");
  r.method = ForecastMethod::kHoltWintersAdditive;
  r.season = Season::kWeek;
  EXPECT_EQ(Forecast(WeeklySeries(2), r).error().rule, "min_length");
}

TEST(SpecialDaysCsv, ParsesWeekdayNamesAndMultipliersAndNamesBadLines) {
  auto d = ParseSpecialDaysCsv("date,like,multiplier\n2003-07-04,,0\n2003-12-26,Sunday,\n"
                               "2003-11-28,,0.6\n");
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->size(), 3u);
  EXPECT_EQ((*d)[0].multiplier, 0);
  EXPECT_EQ((*d)[1].like_weekday, 6);
  EXPECT_EQ((*d)[2].multiplier, 0.6);
  EXPECT_EQ(ParseSpecialDaysCsv("date,like\n2003-07-04,someday\n").error().field, "line 2: like");
  EXPECT_EQ(ParseSpecialDaysCsv("date\n2003-13-04\n").error().field, "line 2: date");
}

// ---- the real bank data (../shared/data/callcenter) ----

TEST(BankData, ImportsTheCleanedFileWithItsGapsReported) {
  const std::string path = std::string(OPSBOX_CALLCENTER_DATA_DIR) + "/na_bank_2003_5min_calls.csv";
  ASSERT_TRUE(std::filesystem::exists(path)) << "missing test data: " << path;
  auto h = ImportHistoryFile(path, Opts(15), ZoneRules::Utc());
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->rows, 27716u);
  EXPECT_EQ(h->source_interval_s, 300);
  EXPECT_EQ(std::accumulate(h->series.volume.begin(), h->series.volume.end(), 0.0), 5323661.0);
  EXPECT_EQ(h->series.volume.size(), 236u * 96);  // 2003-03-03 .. 2003-10-24
  EXPECT_EQ(h->empty_days_total, 72u);            // 33 weekends + the six missing weekdays
  const std::vector<std::string> ignored{"weekday", "date"};
  EXPECT_EQ(h->ignored_columns, ignored);
  auto raw = ImportHistoryFile(std::string(OPSBOX_CALLCENTER_DATA_DIR) + "/raw/bank_calls.csv",
                               Opts(15), ZoneRules::Utc());
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  EXPECT_EQ(raw->series.volume, h->series.volume);
}

TEST(BankData, WeeklyModelsBeatTheWeeklySeasonalNaiveOnTheLastWeek) {
  const std::string path = std::string(OPSBOX_CALLCENTER_DATA_DIR) + "/na_bank_2003_5min_calls.csv";
  ASSERT_TRUE(std::filesystem::exists(path)) << "missing test data: " << path;
  auto h = ImportHistoryFile(path, Opts(60), ZoneRules::Utc());
  ASSERT_TRUE(h.ok());
  ForecastRequest r;
  r.horizon_days = 7;
  r.holdout_days = 7;
  for (int64_t day : {12146, 12149, 12198, 12237, 12296, 12339}) {  // the six missing weekdays
    r.special_days.push_back({day, std::nullopt, 0.0});
  }
  auto f = Forecast(h->series, r);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->history_special_days_replaced, 6);
  EXPECT_EQ(f->season, Season::kWeek);
  EXPECT_NE(f->method, ForecastMethod::kSeasonalNaive);
  EXPECT_LT(*f->candidates[0 + 1].holdout_wape, 0.15);
  for (const auto& c : f->candidates) {
    if (c.season == Season::kWeek && c.method != ForecastMethod::kSeasonalNaive) {
      EXPECT_LT(*c.holdout_wape, *f->candidates[1].holdout_wape);
    }
  }
}

}  // namespace
}  // namespace opsbox::wfm
