// Goal: the planning layer's pure parts behave as specified: the save_forecast, save_schedule and
// set_staffing_targets decisions refuse bad payloads naming the field and rule (and accept the
// limits exactly); the staffing request equals Erlang per interval; the simulation work cap holds
// at the limit and refuses one past it; intraday aggregates hand-made contacts by interval of
// arrival, re-forecasts the rest of the day by the bounded actual/forecast ratio and reports the
// staffing gap after shrinkage; and (issue #15) a queue's targets can ask intraday to staff for
// the upper bound of the saved forecast's prediction interval.
#include "wfm/planning.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace opsbox::wfm {
namespace {

constexpr uint64_t kSeed = 515;
const Instant kNow{1795342530000000};  // 2026-11-22T10:15:30Z

Json ForecastPayload(size_t intervals, int interval_min = 15) {
  return Json{{"queue", "cards"},
              {"zone", "UTC"},
              {"interval_min", interval_min},
              {"first_start_local", "2026-11-23T00:00:00"},
              {"volume", std::vector<double>(intervals, 3.5)}};
}

void ExpectError(const Result<ledger::Decision>& r, const std::string& field,
                 const std::string& rule) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, field) << r.error().ToString();
  EXPECT_EQ(r.error().rule, rule) << r.error().ToString();
}

TEST(PlanningDecide, SaveForecastAcceptsEightWeeksOfQuarterHoursExactly) {
  SeededRandom random(kSeed);
  auto d = DecideSaveForecast(ForecastPayload(kSavedForecastIntervalsMax), kNow, random);
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_EQ(d->events[0].type, kForecastSaved);
  const std::string id = d->result["forecast_id"];
  EXPECT_EQ(id.rfind("fct_", 0), 0u);
  EXPECT_EQ(d->events[0].payload["forecast_id"], id);
}

TEST(PlanningDecide, SaveForecastRefusesOneDayMoreThanEightWeeks) {
  SeededRandom random(kSeed);
  ExpectError(DecideSaveForecast(ForecastPayload(kSavedForecastIntervalsMax + 96), kNow, random),
              "volume", "max");
}

TEST(PlanningDecide, SaveForecastRefusesPartialDaysNegativeVolumesAndBadQueues) {
  SeededRandom random(kSeed);
  ExpectError(DecideSaveForecast(ForecastPayload(95), kNow, random), "volume", "whole_days");
  Json negative = ForecastPayload(96);
  negative["volume"][7] = -1;
  ExpectError(DecideSaveForecast(negative, kNow, random), "volume[7]", "non_negative");
  Json queue = ForecastPayload(96);
  queue["queue"] = "Cards Queue";
  ExpectError(DecideSaveForecast(queue, kNow, random), "queue", "format");
  Json aht = ForecastPayload(96);
  aht["aht_s"] = std::vector<double>(96, 0.0);
  ExpectError(DecideSaveForecast(aht, kNow, random), "aht_s[0]", "positive");
  Json noon = ForecastPayload(96);
  noon["first_start_local"] = "2026-11-23T12:00:00";
  ExpectError(DecideSaveForecast(noon, kNow, random), "first_start_local", "midnight");
  Json extra = ForecastPayload(96);
  extra["surprise"] = 1;
  ExpectError(DecideSaveForecast(extra, kNow, random), "surprise", "unknown_field");
}

TEST(PlanningDecide, SaveScheduleNeedsCoverageOfEveryInterval) {
  SeededRandom random(kSeed);
  Json p = {{"queue", "cards"},
            {"start_date", "2026-11-23"},
            {"skill", "default"},
            {"interval_min", 60},
            {"days", 1},
            {"coverage",
             {{"required", std::vector<double>(24, 1)}, {"scheduled", std::vector<double>(24, 1)}}},
            {"schedule", Json::object()}};
  auto ok = DecideSaveSchedule(p, kNow, random);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->events[0].type, kScheduleSaved);
  p["coverage"]["scheduled"] = std::vector<double>(23, 1);
  ExpectError(DecideSaveSchedule(p, kNow, random), "coverage.scheduled", "length");
  p["start_date"] = "2027-02-29";
  ExpectError(DecideSaveSchedule(p, kNow, random), "start_date", "date");
}

TEST(PlanningDecide, SetStaffingTargetsRefusesUnattainableAndErlangAOnlyTargets) {
  ExpectError(DecideSetStaffingTargets(
                  Json{{"queue", "cards"}, {"targets", {{"service_level", 1.0}}}}, kNow),
              "targets.service_level", "unattainable");
  ExpectError(DecideSetStaffingTargets(
                  Json{{"queue", "cards"}, {"targets", {{"abandon_max", 0.05}}}}, kNow),
              "targets.abandon_max", "erlang_a_only");
  auto ok = DecideSetStaffingTargets(
      Json{{"queue", "cards"},
           {"targets", {{"abandon_max", 0.05}, {"patience_s", 90}, {"shrinkage", 0.3}}}},
      kNow);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->events[0].payload["targets"]["patience_s"], 90);
  EXPECT_EQ(ok->events[0].payload["targets"]["target_answer_s"], 20);
}

TEST(PlanningDates, ParsesLeapDaysAndLocalTimesStrictly) {
  EXPECT_EQ(*ParseLocalDate("1970-01-02", "d"), 1);
  EXPECT_TRUE(ParseLocalDate("2028-02-29", "d").ok());
  EXPECT_FALSE(ParseLocalDate("2027-02-29", "d").ok());
  EXPECT_FALSE(ParseLocalDate("2027-2-28", "d").ok());
  EXPECT_EQ(*ParseLocalTime("1970-01-02T01:02:03", "t"), 86400 + 3723);
  EXPECT_EQ(*ParseLocalTime("1970-01-02 01:02", "t"), 86400 + 3720);
  EXPECT_FALSE(ParseLocalTime("1970-01-02T24:00:00", "t").ok());
}

TEST(PlanningStaffing, AnswersErlangCPerIntervalWithScheduledAgentsAndBindingConstraint) {
  Json body = {{"interval_s", 1800},
               {"intervals", {{{"volume", 100}, {"aht_s", 180}}, {{"volume", 0}, {"aht_s", 180}}}},
               {"targets", {{"service_level", 0.8}, {"target_answer_s", 20}, {"shrinkage", 0.3}}}};
  auto r = ComputeStaffing(body);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  StaffingTargets t;
  t.service_level = 0.8;
  t.target_answer_s = 20;
  t.shrinkage = 0.3;
  auto expected = StaffErlangC(Traffic{100, 1800, 180}, t);
  ASSERT_TRUE(expected.ok());
  const Json& first = (*r)["intervals"][0];
  EXPECT_EQ(first["agents"], expected->figures.agents);
  EXPECT_EQ(first["service_level"], expected->figures.service_level);
  EXPECT_EQ(first["scheduled_agents"], expected->scheduled_agents);
  EXPECT_EQ(first["binding_constraint"], "service_level");
  EXPECT_EQ((*r)["intervals"][1]["agents"], 0);
  EXPECT_EQ((*r)["model"], "erlang_c");
}

TEST(PlanningStaffing, RefusesOneIntervalPastTheLimitAndBadFields) {
  Json many = {{"intervals", Json::array()}, {"targets", {{"service_level", 0.8}}}};
  for (size_t i = 0; i <= kStaffingRequestIntervalsMax; ++i) {
    many["intervals"].push_back({{"volume", 1}, {"aht_s", 60}});
  }
  auto r = ComputeStaffing(many);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "intervals");
  EXPECT_EQ(r.error().rule, "max");
  Json zero_aht = {{"intervals", {{{"volume", 10}, {"aht_s", 0}}}},
                   {"targets", {{"service_level", 0.8}}}};
  auto z = ComputeStaffing(zero_aht);
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.error().field, "intervals[0].aht_s");
}

TEST(PlanningSimulation, WorkCapAllowsTheLimitAndRefusesOneCallPast) {
  const double half = kSimulationCallsPerRequestMax / 2;
  EXPECT_TRUE(CheckSimulationWork(std::vector<double>{half}, 2).ok());
  auto past = CheckSimulationWork(std::vector<double>{kSimulationCallsPerRequestMax + 1}, 1);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().rule, "calls_max");
  auto r = ComputeSimulation(
      Json{{"volumes", {half + 1}}, {"agents", {100}}, {"aht_s", 60}, {"replications", 2}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "volumes");
}

TEST(PlanningSimulation, IsRepeatableForASeedAndReportsErlangBeside) {
  Json body = {{"interval_s", 1800}, {"volumes", {100}},  {"agents", {12}},
               {"aht_s", 180},       {"replications", 3}, {"seed", 11}};
  auto a = ComputeSimulation(body);
  auto b = ComputeSimulation(body);
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  auto erlang = ErlangC(Traffic{100, 1800, 180}, 12, 20);
  ASSERT_TRUE(erlang.ok());
  EXPECT_EQ((*a)["intervals"][0]["erlang"]["service_level"], erlang->service_level);
}

// ---- intraday ----

constexpr int64_t kDay = 20'000;  // a local day number
constexpr int64_t kMidnight = kDay * 86400;

IntradayInput HourlyDay(double forecast_per_hour) {
  IntradayInput in;
  in.day_start_local_s = kMidnight;
  in.interval_min = 60;
  in.forecast_volume.assign(24, forecast_per_hour);
  in.forecast_aht_s.assign(24, 180.0);
  in.targets = DefaultQueueTargets();
  return in;
}

void AddCalls(IntradayInput& in, int hour, int count, double wait_s) {
  for (int i = 0; i < count; ++i) {
    const int64_t at = kMidnight + hour * 3600 + i * 10;
    in.contacts.push_back({at, ContactKind::kOffered, 0, 0});
    in.contacts.push_back({at, ContactKind::kAnswered, wait_s, 200});
  }
}

TEST(PlanningIntraday, AggregatesByIntervalOfArrivalWithServiceLevelOverAllArrivals) {
  IntradayInput in = HourlyDay(10);
  in.now_local_s = kMidnight + 2 * 3600 + 60;  // 02:01: two hours complete
  AddCalls(in, 0, 3, 5);
  AddCalls(in, 1, 1, 60);
  in.contacts.push_back({kMidnight + 3599, ContactKind::kOffered, 0, 0});
  in.contacts.push_back({kMidnight + 3599, ContactKind::kAbandoned, 30, 0});
  in.contacts.push_back({kMidnight - 1, ContactKind::kOffered, 0, 0});  // yesterday
  auto r = ComputeIntraday(in);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const auto& h0 = r->intervals[0];
  EXPECT_EQ(h0.offered, 4);
  EXPECT_EQ(h0.answered, 3);
  EXPECT_EQ(h0.abandoned, 1);
  EXPECT_DOUBLE_EQ(*h0.service_level, 0.75);
  EXPECT_DOUBLE_EQ(*h0.aht_s, 200);
  EXPECT_DOUBLE_EQ(*r->intervals[1].service_level, 0.0);  // answered after 60 s > 20 s
  EXPECT_EQ(r->intervals[1].phase, IntervalPhase::kComplete);
  EXPECT_EQ(r->intervals[2].phase, IntervalPhase::kCurrent);
  EXPECT_EQ(r->intervals[3].phase, IntervalPhase::kFuture);
  EXPECT_EQ(r->offered, 5);
  EXPECT_DOUBLE_EQ(*r->service_level, 3.0 / 5.0);
}

TEST(PlanningIntraday, ReforecastScalesTheRestOfTheDayByTheBoundedRatio) {
  IntradayInput in = HourlyDay(10);
  in.now_local_s = kMidnight + 4 * 3600;  // four hours complete: 40 calls forecast
  for (int h = 0; h < 4; ++h) AddCalls(in, h, 15, 0);
  auto r = ComputeIntraday(in);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->reforecast_ratio, 1.5);
  EXPECT_DOUBLE_EQ(*r->intervals[3].reforecast_volume, 15);  // complete: the actual
  EXPECT_DOUBLE_EQ(*r->intervals[10].reforecast_volume, 15);

  IntradayInput surge = HourlyDay(10);
  surge.now_local_s = kMidnight + 4 * 3600;
  for (int h = 0; h < 4; ++h) AddCalls(surge, h, 50, 0);
  EXPECT_DOUBLE_EQ(ComputeIntraday(surge)->reforecast_ratio, kReforecastRatioMax);

  IntradayInput early = HourlyDay(10);
  early.now_local_s = kMidnight + 3600;  // 10 calls forecast so far: below the minimum
  AddCalls(early, 0, 19, 0);
  EXPECT_DOUBLE_EQ(ComputeIntraday(early)->reforecast_ratio, 1.0);
}

TEST(PlanningIntraday, GapIsScheduledMinusRequiredAfterShrinkage) {
  IntradayInput in = HourlyDay(100);
  in.now_local_s = kMidnight;
  in.targets.staffing.shrinkage = 0.3;
  in.scheduled_agents.assign(24, 4);
  auto r = ComputeIntraday(in);
  ASSERT_TRUE(r.ok());
  StaffingTargets t = in.targets.staffing;
  auto expected = StaffErlangC(Traffic{100, 3600, 180}, t);
  ASSERT_TRUE(expected.ok());
  const auto& row = r->intervals[5];
  EXPECT_EQ(*row.required_agents, expected->figures.agents);
  EXPECT_EQ(*row.required_scheduled_agents, expected->scheduled_agents);
  EXPECT_EQ(*row.gap, 4 - expected->scheduled_agents);
}

TEST(PlanningIntraday, WithoutForecastOrHandleTimeStatesWhyNothingIsRequired) {
  IntradayInput in;
  in.day_start_local_s = kMidnight;
  in.interval_min = 30;
  in.now_local_s = kMidnight + 600;
  in.targets = DefaultQueueTargets();
  auto r = ComputeIntraday(in);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->intervals.size(), 48u);
  EXPECT_FALSE(r->intervals[0].required_agents.has_value());
  EXPECT_EQ(r->intervals[0].staffing_error, "no forecast for this interval");
  in.forecast_volume.assign(47, 1.0);
  EXPECT_FALSE(ComputeIntraday(in).ok());
}

TEST(PlanningForecast, BuildsAPayloadFromJsonRowsAndRefusesAHorizonPastEightWeeks) {
  Json rows = Json::array();
  for (int d = 0; d < 14; ++d) {
    for (int h = 0; h < 24; ++h) {
      char start[64];
      std::snprintf(start, sizeof start, "2026-03-%02dT%02d:00:00", 2 + d, h);
      rows.push_back({{"start", start}, {"count", 10 + (h >= 9 && h < 17 ? 20 : 0)}});
    }
  }
  ZoneLoader utc = [](std::string_view) -> Result<ZoneRules> { return ZoneRules::Utc(); };
  Json body = {{"queue", "cards"},           {"interval_min", 60}, {"history", rows},
               {"method", "seasonal-naive"}, {"holdout_days", 7},  {"horizon_days", 3}};
  auto p = BuildForecastPayload(body, utc);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ((*p)["volume"].size(), 72u);
  EXPECT_EQ((*p)["first_start_local"], "2026-03-16T00:00:00");
  EXPECT_EQ((*p)["volume"][12], 30);
  SeededRandom random(kSeed);
  EXPECT_TRUE(DecideSaveForecast(*p, kNow, random).ok());
  body["horizon_days"] = kSavedForecastDaysMax + 1;
  auto past = BuildForecastPayload(body, utc);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().field, "horizon_days");
}

TEST(PlanningDecide, SaveForecastChecksPredictionIntervalsOnePerInterval) {
  SeededRandom random(kSeed);
  Json p = ForecastPayload(96);
  p["prediction_intervals"] = {{"source", "cross-validation"},
                               {"scale_80", 1.2},
                               {"scale_95", 2.0},
                               {"lower_80", std::vector<double>(96, 2.0)},
                               {"upper_80", std::vector<double>(96, 5.0)},
                               {"lower_95", std::vector<double>(96, 1.0)},
                               {"upper_95", std::vector<double>(96, 6.0)}};
  EXPECT_TRUE(DecideSaveForecast(p, kNow, random).ok());
  Json short_upper = p;
  short_upper["prediction_intervals"]["upper_95"] = std::vector<double>(95, 6.0);
  ExpectError(DecideSaveForecast(short_upper, kNow, random), "prediction_intervals.upper_95",
              "length");
  Json extra = p;
  extra["prediction_intervals"]["upper_99"] = std::vector<double>(96, 7.0);
  ExpectError(DecideSaveForecast(extra, kNow, random), "prediction_intervals.upper_99",
              "unknown_field");
}

TEST(PlanningTargets, PlanForNamesTheForecastBoundAndRefusesOthers) {
  auto t = ParseQueueTargets(Json{{"service_level", 0.8}, {"plan_for", "upper_95"}}, "targets");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_EQ(t->plan_for, ForecastBound::kUpper95);
  EXPECT_EQ(QueueTargetsToJson(*t)["plan_for"], "upper_95");
  EXPECT_EQ(ParseQueueTargets(Json{{"service_level", 0.8}}, "targets")->plan_for,
            ForecastBound::kPoint);
  auto bad = ParseQueueTargets(Json{{"service_level", 0.8}, {"plan_for", "upper_99"}}, "targets");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "targets.plan_for");
  EXPECT_EQ(bad.error().rule, "one_of");
}

TEST(PlanningIntraday, StaffsForThePlanVolumeScaledByTheRatioOfThePointForecast) {
  IntradayInput in = HourlyDay(100);
  in.now_local_s = kMidnight + 4 * 3600;  // four hours complete at 1.2 x the point forecast
  for (int h = 0; h < 4; ++h) AddCalls(in, h, 120, 0);
  auto point = ComputeIntraday(in);
  ASSERT_TRUE(point.ok());
  in.plan_volume.assign(24, 130.0);  // an upper bound 30% above the point forecast
  auto upper = ComputeIntraday(in);
  ASSERT_TRUE(upper.ok()) << upper.error().ToString();
  EXPECT_DOUBLE_EQ(upper->reforecast_ratio, 1.2);  // from the point forecast, not the bound
  const auto& row = upper->intervals[10];
  EXPECT_DOUBLE_EQ(*row.reforecast_volume, 120);
  EXPECT_DOUBLE_EQ(*row.staffing_volume, 156);
  auto expected = StaffErlangC(Traffic{156, 3600, 180}, in.targets.staffing);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(*row.required_agents, expected->figures.agents);
  EXPECT_GT(*row.required_agents, *point->intervals[10].required_agents);
  EXPECT_DOUBLE_EQ(*upper->intervals[2].staffing_volume, 120);  // complete: the actual
  in.plan_volume.assign(23, 130.0);
  EXPECT_FALSE(ComputeIntraday(in).ok());
}

TEST(PlanningForecast, PayloadCarriesCrossValidationScoresAndPredictionIntervals) {
  Json rows = Json::array();
  for (int d = 0; d < 35; ++d) {
    for (int h = 0; h < 24; ++h) {
      char start[64];
      std::snprintf(start, sizeof start, "2026-03-%02dT%02d:00:00", 2 + d % 30, h);
      if (d >= 30) std::snprintf(start, sizeof start, "2026-04-%02dT%02d:00:00", 1 + d - 30, h);
      const int count = (h >= 9 && h < 17) ? 20 + (d * 7 + h * 3) % 11 : 0;
      rows.push_back({{"start", start}, {"count", count}});
    }
  }
  ZoneLoader utc = [](std::string_view) -> Result<ZoneRules> { return ZoneRules::Utc(); };
  Json body = {{"queue", "cards"},     {"interval_min", 60}, {"history", rows},
               {"method", "auto"},     {"holdout_days", 7},  {"horizon_days", 2},
               {"cv_origins", 2}};
  auto p = BuildForecastPayload(body, utc);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ((*p)["holdout"]["cv_windows"], 2);
  for (const auto& c : (*p)["candidates"]) {
    if (!c["evaluated"].get<bool>()) continue;
    EXPECT_EQ(c["cv_wapes"].size(), 2u) << c.dump();
    EXPECT_TRUE(c["cv_wape"].is_number()) << c.dump();
  }
  const Json& pi = (*p)["prediction_intervals"];
  ASSERT_TRUE(pi.is_object());
  EXPECT_EQ(pi["source"], "cross-validation");
  EXPECT_EQ(pi["upper_95"].size(), (*p)["volume"].size());
  EXPECT_GE(pi["upper_95"][12].get<double>(), (*p)["volume"][12].get<double>());
  EXPECT_EQ(pi["upper_95"][2], 0);  // 02:00 is closed in every week
  SeededRandom random(kSeed);
  EXPECT_TRUE(DecideSaveForecast(*p, kNow, random).ok());
  body["cv_origins"] = kCvOriginsMax + 1;
  auto bad = BuildForecastPayload(body, utc);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "cv_origins");
}

}  // namespace
}  // namespace opsbox::wfm
