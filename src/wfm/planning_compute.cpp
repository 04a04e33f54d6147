// The computations behind the planning API: staffing and simulation requests (no state), and
// the forecast and schedule requests whose answers become save_forecast / save_schedule payloads.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "wfm/forecast.hpp"
#include "wfm/history.hpp"
#include "wfm/internal/planning_json.hpp"
#include "wfm/planning.hpp"
#include "wfm/schedule.hpp"
#include "wfm/simulate.hpp"

namespace opsbox::wfm {
namespace {

using detail::FieldPath;
using detail::ItemPath;
using detail::Member;
using detail::NumberOrNull;

Error Prefixed(Error e, std::string_view prefix) {
  e.field = e.field.empty() ? std::string(prefix) : FieldPath(prefix, e.field);
  return e;
}

Json FiguresJson(const QueueFigures& f) {
  return Json{{"agents", f.agents},
              {"traffic_erlangs", NumberOrNull(f.traffic_erlangs)},
              {"p_wait", NumberOrNull(f.p_wait)},
              {"service_level", NumberOrNull(f.service_level)},
              {"asa_s", NumberOrNull(f.asa_s)},
              {"mean_wait_answered_s", NumberOrNull(f.mean_wait_answered_s)},
              {"abandon_probability", NumberOrNull(f.abandon_probability)},
              {"occupancy", NumberOrNull(f.occupancy)}};
}

Result<const Json*> RequireArray(const Json& body, std::string_view key, size_t items_max) {
  OPSBOX_ASSIGN_OR_RETURN(const Json* a, detail::OptionalArray(body, key, "", items_max));
  if (a == nullptr || a->empty()) {
    return Error::Invalid(std::string(key), "required", "must be a non-empty array");
  }
  return a;
}

Result<std::vector<Traffic>> ParseTrafficIntervals(const Json& body, double interval_s) {
  OPSBOX_ASSIGN_OR_RETURN(const Json* items,
                          RequireArray(body, "intervals", kStaffingRequestIntervalsMax));
  std::vector<Traffic> out;
  out.reserve(items->size());
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string path = ItemPath("intervals", i);
    const Json& item = (*items)[i];
    OPSBOX_TRY(CheckObjectKeys(item, {"volume", "aht_s"}, path));
    Traffic t;
    t.interval_s = interval_s;
    OPSBOX_ASSIGN_OR_RETURN(t.volume, detail::RequireNumber(item, "volume", path));
    OPSBOX_ASSIGN_OR_RETURN(t.aht_s, detail::RequireNumber(item, "aht_s", path));
    out.push_back(t);
  }
  return out;
}

Result<std::vector<int>> ParseAgents(const Json& body, size_t count) {
  std::vector<int> agents;
  OPSBOX_ASSIGN_OR_RETURN(const Json* items, detail::OptionalArray(body, "agents", "", count));
  if (items == nullptr) return agents;
  if (items->size() != count) {
    return Error::Invalid("agents", "length", "must hold one count per interval");
  }
  for (size_t i = 0; i < items->size(); ++i) {
    const Json& v = (*items)[i];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > kAgentsMax) {
      return Error::Invalid(
          ItemPath("agents", i), "range",
          "must be a whole number of agents from 0 to " + std::to_string(kAgentsMax));
    }
    agents.push_back(static_cast<int>(v.get<int64_t>()));
  }
  return agents;
}

}  // namespace

Result<Json> ComputeStaffing(const Json& body) {
  OPSBOX_TRY(CheckObjectKeys(body, {"interval_s", "intervals", "targets", "agents"}));
  OPSBOX_ASSIGN_OR_RETURN(double interval_s, detail::NumberOr(body, "interval_s", "", 900));
  OPSBOX_ASSIGN_OR_RETURN(auto traffic, ParseTrafficIntervals(body, interval_s));
  const Json* targets_json = Member(body, "targets");
  if (targets_json == nullptr) return Error::Invalid("targets", "required", "is required");
  OPSBOX_ASSIGN_OR_RETURN(auto targets, ParseQueueTargets(*targets_json, "targets"));
  OPSBOX_ASSIGN_OR_RETURN(auto agents, ParseAgents(body, traffic.size()));
  const bool erlang_a = targets.patience_s.has_value();
  Json rows = Json::array();
  if (agents.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(auto staffed,
                            StaffIntervals(traffic, targets.staffing, targets.patience_s));
    for (const auto& s : staffed) {
      Json row = FiguresJson(s.figures);
      row["scheduled_agents"] = s.scheduled_agents;
      row["binding_constraint"] = BindingConstraintName(s.binding);
      rows.push_back(std::move(row));
    }
  } else {
    const double target = targets.staffing.target_answer_s;
    for (size_t i = 0; i < traffic.size(); ++i) {
      auto f = erlang_a ? ErlangA(traffic[i], *targets.patience_s, agents[i], target)
                        : ErlangC(traffic[i], agents[i], target);
      if (!f.ok()) return Prefixed(f.error(), ItemPath("intervals", i));
      Json row = FiguresJson(*f);
      row["scheduled_agents"] = ScheduledAgents(agents[i], targets.staffing.shrinkage);
      row["binding_constraint"] = nullptr;
      rows.push_back(std::move(row));
    }
  }
  return Json{{"model", erlang_a ? "erlang_a" : "erlang_c"},
              {"interval_s", interval_s},
              {"targets", QueueTargetsToJson(targets)},
              {"intervals", std::move(rows)}};
}

// ---- simulation
// ----------------------------------------------------------------------------------

Status CheckSimulationWork(std::span<const double> volumes, int32_t replications) {
  double calls = 0;
  for (double v : volumes) calls += std::max(0.0, v);
  calls *= std::max<int32_t>(replications, 1);
  if (calls > kSimulationCallsPerRequestMax) {
    return Error::Invalid("volumes", "calls_max",
                          "the request would simulate about " +
                              std::to_string(static_cast<int64_t>(calls)) +
                              " calls (sum of volumes times replications); at most " +
                              std::to_string(static_cast<int64_t>(kSimulationCallsPerRequestMax)) +
                              " are allowed per request");
  }
  return Ok();
}

namespace {

Json EstimateJson(const Estimate& e) {
  return Json{{"mean", NumberOrNull(e.mean)},
              {"half_width_95", NumberOrNull(e.half_width_95)},
              {"replications", e.replications}};
}

Json ReportJson(const IntervalReport& r) {
  return Json{{"index", r.index},
              {"agents", r.agents},
              {"expected_volume", r.expected_volume},
              {"offered", EstimateJson(r.offered)},
              {"answered", EstimateJson(r.answered)},
              {"abandoned", EstimateJson(r.abandoned)},
              {"service_level", EstimateJson(r.service_level)},
              {"asa_s", EstimateJson(r.asa_s)},
              {"mean_wait_answered_s", EstimateJson(r.mean_wait_answered_s)},
              {"abandon_probability", EstimateJson(r.abandon_probability)},
              {"occupancy", EstimateJson(r.occupancy)}};
}

Result<SimulationConfig> ParseSimulation(const Json& body, uint64_t& seed) {
  OPSBOX_TRY(CheckObjectKeys(
      body, {"interval_s", "volumes", "agents", "aht_s", "handle", "aht_sd_s", "patience_s",
             "target_answer_s", "replications", "seed", "warmup_intervals"}));
  SimulationConfig c;
  OPSBOX_ASSIGN_OR_RETURN(auto interval_s, detail::IntOr(body, "interval_s", "", 900, 1, 3600));
  c.interval_s = static_cast<int32_t>(interval_s);
  OPSBOX_ASSIGN_OR_RETURN(const Json* volumes, RequireArray(body, "volumes", kSimIntervalsMax));
  for (size_t i = 0; i < volumes->size(); ++i) {
    if (!(*volumes)[i].is_number()) {
      return Error::Invalid(ItemPath("volumes", i), "type", "must be a number");
    }
    c.volumes_per_interval.push_back((*volumes)[i].get<double>());
  }
  OPSBOX_ASSIGN_OR_RETURN(auto agents, ParseAgents(body, volumes->size()));
  if (agents.empty()) return Error::Invalid("agents", "required", "one count per interval");
  c.agents_per_interval.assign(agents.begin(), agents.end());
  OPSBOX_ASSIGN_OR_RETURN(c.handle.mean_s, detail::RequireNumber(body, "aht_s", ""));
  const Json* handle = Member(body, "handle");
  const std::string kind =
      handle != nullptr && handle->is_string() ? handle->get<std::string>() : "exponential";
  if (kind != "exponential" && kind != "lognormal") {
    return Error::Invalid("handle", "one_of", "must be \"exponential\" or \"lognormal\"");
  }
  c.handle.kind =
      kind == "lognormal" ? HandleDistribution::kLognormal : HandleDistribution::kExponential;
  OPSBOX_ASSIGN_OR_RETURN(c.handle.sd_s, detail::NumberOr(body, "aht_sd_s", "", 0));
  OPSBOX_ASSIGN_OR_RETURN(auto patience, detail::OptionalNumber(body, "patience_s", ""));
  if (patience) {
    c.patience.kind = PatienceDistribution::kExponential;
    c.patience.mean_s = *patience;
  }
  OPSBOX_ASSIGN_OR_RETURN(c.target_answer_s, detail::NumberOr(body, "target_answer_s", "", 20));
  OPSBOX_ASSIGN_OR_RETURN(auto reps,
                          detail::IntOr(body, "replications", "", 10, 1, kSimReplicationsMax));
  c.replications = static_cast<int32_t>(reps);
  OPSBOX_ASSIGN_OR_RETURN(
      auto warmup, detail::IntOr(body, "warmup_intervals", "", 0, 0, kSimWarmupIntervalsMax));
  c.warmup_intervals = static_cast<int32_t>(warmup);
  OPSBOX_ASSIGN_OR_RETURN(auto s, detail::IntOr(body, "seed", "", 1, 0, (int64_t{1} << 53)));
  seed = static_cast<uint64_t>(s);
  OPSBOX_TRY(CheckSimulationWork(c.volumes_per_interval, c.replications));
  OPSBOX_TRY(ValidateSimulationConfig(c));
  return c;
}

// Erlang's figures for the same interval and agents (exponential handle times assumed), or null
// where the model has none (Erlang C without a steady state).
Json ErlangBeside(const SimulationConfig& c, size_t i) {
  const Traffic t{c.volumes_per_interval[i], static_cast<double>(c.interval_s), c.handle.mean_s};
  const int n = c.agents_per_interval[i];
  auto f = c.patience.kind == PatienceDistribution::kExponential
               ? ErlangA(t, c.patience.mean_s, n, c.target_answer_s)
               : ErlangC(t, n, c.target_answer_s);
  if (!f.ok()) return nullptr;
  return FiguresJson(*f);
}

}  // namespace

Result<Json> ComputeSimulation(const Json& body) {
  uint64_t seed = 1;
  OPSBOX_ASSIGN_OR_RETURN(auto config, ParseSimulation(body, seed));
  OPSBOX_ASSIGN_OR_RETURN(auto report, Simulate(config, seed));
  Json intervals = Json::array();
  for (size_t i = 0; i < report.intervals.size(); ++i) {
    Json row = ReportJson(report.intervals[i]);
    row["erlang"] = ErlangBeside(config, i);
    intervals.push_back(std::move(row));
  }
  return Json{
      {"seed", report.seed},
      {"replications", report.replications},
      {"calls_simulated", report.calls_simulated},
      {"erlang_model",
       config.patience.kind == PatienceDistribution::kExponential ? "erlang_a" : "erlang_c"},
      {"total", ReportJson(report.total)},
      {"intervals", std::move(intervals)}};
}

// ---- forecasts
// -----------------------------------------------------------------------------------
namespace {

Status CheckCsvText(const std::string& s, const std::string& field) {
  if (s.find_first_of(",\"\r\n") != std::string::npos || s.size() > 64) {
    return Error::Invalid(field, "format",
                          "must be at most 64 bytes without commas, quotes "
                          "or line breaks");
  }
  return Ok();
}

std::string CsvNumber(const Json& v) { return v.dump(); }

// JSON history rows -> the CSV shape history.hpp parses (one parser for both forms).
Result<std::string> HistoryRowsToCsv(const Json& rows) {
  bool aht = false, abandons = false;
  for (const Json& r : rows) {
    aht = aht || (r.is_object() && Member(r, "aht_s") != nullptr);
    abandons = abandons || (r.is_object() && Member(r, "abandons") != nullptr);
  }
  std::string csv = "start,count";
  csv += aht ? ",aht_s" : "";
  csv += abandons ? ",abandons\n" : "\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string path = ItemPath("history", i);
    const Json& r = rows[i];
    OPSBOX_TRY(CheckObjectKeys(r, {"start", "count", "aht_s", "abandons"}, path));
    const Json* start = Member(r, "start");
    if (start == nullptr || !start->is_string()) {
      return Error::Invalid(FieldPath(path, "start"), "required", "must be a time string");
    }
    OPSBOX_TRY(CheckCsvText(start->get<std::string>(), FieldPath(path, "start")));
    OPSBOX_ASSIGN_OR_RETURN(double count, detail::RequireNumber(r, "count", path));
    csv += start->get<std::string>() + "," + CsvNumber(count);
    for (auto [present, key] : {std::pair{aht, "aht_s"}, std::pair{abandons, "abandons"}}) {
      if (!present) continue;
      OPSBOX_ASSIGN_OR_RETURN(auto v, detail::OptionalNumber(r, key, path));
      csv += "," + (v ? CsvNumber(*v) : std::string());
    }
    csv += "\n";
  }
  return csv;
}

Result<std::vector<SpecialDay>> ParseSpecialDays(const Json& body) {
  OPSBOX_ASSIGN_OR_RETURN(const Json* days,
                          detail::OptionalArray(body, "special_days", "", kSpecialDaysMax));
  if (days == nullptr) return std::vector<SpecialDay>();
  std::string csv = "date,like,multiplier\n";
  for (size_t i = 0; i < days->size(); ++i) {
    const std::string path = ItemPath("special_days", i);
    const Json& d = (*days)[i];
    OPSBOX_TRY(CheckObjectKeys(d, {"date", "like", "multiplier"}, path));
    const Json* date = Member(d, "date");
    const Json* like = Member(d, "like");
    if (date == nullptr || !date->is_string()) {
      return Error::Invalid(FieldPath(path, "date"), "required", "must be YYYY-MM-DD");
    }
    if (like != nullptr && !like->is_string()) {
      return Error::Invalid(FieldPath(path, "like"), "type", "must be a weekday name");
    }
    OPSBOX_TRY(CheckCsvText(date->get<std::string>(), FieldPath(path, "date")));
    if (like) OPSBOX_TRY(CheckCsvText(like->get<std::string>(), FieldPath(path, "like")));
    OPSBOX_ASSIGN_OR_RETURN(auto mult, detail::OptionalNumber(d, "multiplier", path));
    csv += date->get<std::string>() + "," + (like ? like->get<std::string>() : "") + "," +
           (mult ? CsvNumber(*mult) : "") + "\n";
  }
  auto parsed = ParseSpecialDaysCsv(csv);
  if (!parsed.ok()) return Prefixed(parsed.error(), "special_days");
  return std::move(*parsed);
}

Result<ForecastRequest> ParseForecastRequest(const Json& body, int interval_min) {
  ForecastRequest r;
  const Json* method = Member(body, "method");
  if (method != nullptr) {
    if (!method->is_string()) return Error::Invalid("method", "type", "must be a method name");
    OPSBOX_ASSIGN_OR_RETURN(r.method, ParseForecastMethod(method->get<std::string>()));
  }
  const Json* season = Member(body, "season");
  if (season != nullptr) {
    if (!season->is_string()) return Error::Invalid("season", "type", "must be day or week");
    OPSBOX_ASSIGN_OR_RETURN(r.season, ParseSeason(season->get<std::string>()));
  }
  const int64_t days_max = static_cast<int64_t>(kSavedForecastIntervalsMax) / (1440 / interval_min);
  OPSBOX_ASSIGN_OR_RETURN(auto horizon,
                          detail::IntOr(body, "horizon_days", "", 7, 1,
                                        std::min<int64_t>(days_max, kSavedForecastDaysMax)));
  OPSBOX_ASSIGN_OR_RETURN(auto holdout,
                          detail::IntOr(body, "holdout_days", "", 7, 0, kForecastHoldoutDaysMax));
  r.horizon_days = static_cast<int>(horizon);
  r.holdout_days = static_cast<int>(holdout);
  OPSBOX_ASSIGN_OR_RETURN(auto origins,
                          detail::IntOr(body, "cv_origins", "", 4, 1, kCvOriginsMax));
  r.cv_origins = static_cast<int>(origins);
  OPSBOX_ASSIGN_OR_RETURN(r.special_days, ParseSpecialDays(body));
  return r;
}

double Rounded(double v) { return std::round(v * 1000) / 1000; }

Json CandidateJson(const ForecastCandidate& c) {
  Json cv_wapes = Json::array();
  for (double w : c.cv_wapes) cv_wapes.push_back(std::round(w * 1e4) / 1e4);
  return Json{{"method", ForecastMethodName(c.method)},
              {"season", SeasonName(c.season)},
              {"evaluated", c.evaluated},
              {"skipped_reason", c.skipped_reason},
              {"holdout_wape", detail::OptionalJson(c.holdout_wape)},
              {"holdout_mase", detail::OptionalJson(c.holdout_mase)},
              {"cv_wape", detail::OptionalJson(c.cv_wape)},
              {"cv_wapes", std::move(cv_wapes)}};
}

// The 80% and 95% bounds beside the point forecast, or null when the forecast has none.
Json PredictionIntervalsJson(const ForecastResult& f) {
  if (f.intervals.empty() || !f.intervals.front().bounds) return nullptr;
  Json lower_80 = Json::array(), upper_80 = Json::array(), lower_95 = Json::array(),
       upper_95 = Json::array();
  for (const auto& i : f.intervals) {
    const IntervalBounds b = i.bounds.value_or(IntervalBounds{});
    lower_80.push_back(Rounded(b.lower_80));
    upper_80.push_back(Rounded(b.upper_80));
    lower_95.push_back(Rounded(b.lower_95));
    upper_95.push_back(Rounded(b.upper_95));
  }
  return Json{{"source", "cross-validation"},
              {"scale_80", f.interval_scale_80},
              {"scale_95", f.interval_scale_95},
              {"lower_80", std::move(lower_80)},
              {"upper_80", std::move(upper_80)},
              {"lower_95", std::move(lower_95)},
              {"upper_95", std::move(upper_95)}};
}

Json ForecastPayload(const std::string& queue, const std::string& zone, int interval_min,
                     const HistoryImport& history, const ForecastRequest& request,
                     const ForecastResult& f) {
  Json volume = Json::array(), aht = Json::array();
  bool has_aht = false;
  for (const auto& i : f.intervals) {
    volume.push_back(Rounded(i.volume));
    aht.push_back(i.aht_s ? Json(Rounded(*i.aht_s)) : Json(nullptr));
    has_aht = has_aht || i.aht_s.has_value();
  }
  const ForecastCandidate* chosen = nullptr;
  for (const auto& c : f.candidates) {
    if (c.method == f.method && c.season == f.season && c.evaluated) chosen = &c;
  }
  Json candidates = Json::array();
  for (const auto& c : f.candidates) candidates.push_back(CandidateJson(c));
  Json params = nullptr;
  if (f.params)
    params = Json{{"alpha", f.params->alpha}, {"beta", f.params->beta}, {"gamma", f.params->gamma}};
  const auto& s = history.series;
  Json payload = {{"queue", queue},
                  {"zone", zone},
                  {"interval_min", interval_min},
                  {"first_start_local", FormatLocal(f.intervals.front().start_local_s)},
                  {"horizon_days", request.horizon_days},
                  {"method", ForecastMethodName(f.method)},
                  {"season", SeasonName(f.season)},
                  {"params", params},
                  {"holdout",
                   {{"intervals", f.holdout_intervals},
                    {"wape", chosen ? detail::OptionalJson(chosen->holdout_wape) : Json(nullptr)},
                    {"mase", chosen ? detail::OptionalJson(chosen->holdout_mase) : Json(nullptr)},
                    {"cv_wape", chosen ? detail::OptionalJson(chosen->cv_wape) : Json(nullptr)},
                    {"cv_windows", f.cv_windows},
                    {"aht_wape", detail::OptionalJson(f.aht_holdout_wape)}}},
                  {"candidates", std::move(candidates)},
                  {"history",
                   {{"rows", history.rows},
                    {"first_start_local", FormatLocal(s.first_start_local_s)},
                    {"days", s.volume.size() * interval_min / 1440},
                    {"intervals_without_rows", history.intervals_without_rows},
                    {"source_interval_s", history.source_interval_s},
                    {"special_days_replaced", f.history_special_days_replaced}}},
                  {"volume", std::move(volume)}};
  if (has_aht) payload["aht_s"] = std::move(aht);
  if (Json pi = PredictionIntervalsJson(f); !pi.is_null()) payload["prediction_intervals"] = std::move(pi);
  return payload;
}

}  // namespace

Result<Json> BuildForecastPayload(const Json& body, const ZoneLoader& load_zone) {
  OPSBOX_TRY(
      CheckObjectKeys(body, {"queue", "interval_min", "zone", "history_csv", "history", "method",
                             "season", "horizon_days", "holdout_days", "cv_origins",
                             "special_days"}));
  OPSBOX_ASSIGN_OR_RETURN(auto queue, RequireString(body, "queue", kQueueBytesMax));
  OPSBOX_TRY(CheckQueueName(queue, "queue"));
  OPSBOX_ASSIGN_OR_RETURN(auto interval_min, detail::IntOr(body, "interval_min", "", 15, 15, 60));
  if (interval_min != 15 && interval_min != 30 && interval_min != 60) {
    return Error::Invalid("interval_min", "one_of", "must be 15, 30 or 60");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto zone_name, OptionalString(body, "zone", kZoneNameBytesMax, "UTC"));
  auto zone = load_zone(zone_name);
  if (!zone.ok()) return Prefixed(zone.error(), "zone");
  const Json* csv_text = Member(body, "history_csv");
  OPSBOX_ASSIGN_OR_RETURN(const Json* rows,
                          detail::OptionalArray(body, "history", "", kForecastHistoryRowsMax));
  if ((csv_text == nullptr) == (rows == nullptr)) {
    return Error::Invalid("history", "one_of", "give either history (rows) or history_csv");
  }
  if (csv_text != nullptr && !csv_text->is_string()) {
    return Error::Invalid("history_csv", "type", "must be CSV text");
  }
  std::string csv;
  if (rows != nullptr) {
    OPSBOX_ASSIGN_OR_RETURN(csv, HistoryRowsToCsv(*rows));
  } else {
    csv = csv_text->get<std::string>();
  }
  HistoryImportOptions options;
  options.interval_min = static_cast<int>(interval_min);
  options.rows_max = kForecastHistoryRowsMax;
  OPSBOX_ASSIGN_OR_RETURN(auto history, ParseHistoryCsv(csv, options, *zone));
  OPSBOX_ASSIGN_OR_RETURN(auto request, ParseForecastRequest(body, static_cast<int>(interval_min)));
  OPSBOX_ASSIGN_OR_RETURN(auto result, Forecast(history.series, request));
  if (result.intervals.empty()) {
    return Error::Invalid("horizon_days", "range", "the forecast has no intervals");
  }
  return ForecastPayload(queue, zone_name, static_cast<int>(interval_min), history, request,
                         result);
}

// ---- schedules
// -----------------------------------------------------------------------------------
namespace {

Result<Json> CoverageSummary(const Schedule& s, const ScheduleProblem& p,
                             const std::string& skill) {
  const size_t per_day = static_cast<size_t>(1440 / p.interval_min);
  const size_t n = per_day * static_cast<size_t>(p.days);
  std::vector<double> required(n, 0), scheduled(n, 0);
  for (const auto& row : s.coverage) {
    if (row.skill != skill) continue;
    const size_t i = static_cast<size_t>(row.day) * per_day + static_cast<size_t>(row.interval);
    if (i >= n) continue;
    required[i] = row.required;
    scheduled[i] = row.scheduled;
  }
  return Json{{"required", required}, {"scheduled", scheduled}};
}

}  // namespace

Result<Json> BuildSchedulePayload(const Json& body) {
  OPSBOX_TRY(CheckObjectKeys(
      body, {"queue", "start_date", "skill", "problem", "time_limit_s", "relative_gap"}));
  OPSBOX_ASSIGN_OR_RETURN(auto queue, RequireString(body, "queue", kQueueBytesMax));
  OPSBOX_TRY(CheckQueueName(queue, "queue"));
  OPSBOX_ASSIGN_OR_RETURN(auto start_date, RequireString(body, "start_date", 10));
  OPSBOX_TRY(ParseLocalDate(start_date, "start_date"));
  const Json* problem_json = Member(body, "problem");
  if (problem_json == nullptr) return Error::Invalid("problem", "required", "is required");
  auto problem = ParseScheduleProblem(*problem_json);
  if (!problem.ok()) return Prefixed(problem.error(), "problem");
  OPSBOX_ASSIGN_OR_RETURN(auto skill, OptionalString(body, "skill", kScheduleIdBytesMax,
                                                     problem->requirements[0].skill));
  const bool known = std::any_of(problem->requirements.begin(), problem->requirements.end(),
                                 [&](const SkillRequirement& r) { return r.skill == skill; });
  if (!known) return Error::Invalid("skill", "unknown", "no requirement has skill " + skill);
  SolveOptions options;
  OPSBOX_ASSIGN_OR_RETURN(options.time_limit_s, detail::NumberOr(body, "time_limit_s", "", 10));
  if (!(options.time_limit_s > 0 && options.time_limit_s <= kScheduleRequestTimeLimitMaxS)) {
    return Error::Invalid("time_limit_s", "range", "must be above 0 and at most 20 seconds");
  }
  OPSBOX_ASSIGN_OR_RETURN(options.relative_gap, detail::NumberOr(body, "relative_gap", "", 0));
  OPSBOX_TRY(ValidateSolveOptions(options));
  OPSBOX_ASSIGN_OR_RETURN(auto schedule, SolveSchedule(*problem, options));
  if (!schedule.has_schedule) {
    return Error::Invalid("problem", "no_schedule",
                          std::string("the solver found no schedule (status ") +
                              SolveStatusName(schedule.solver.status) + ")");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto coverage, CoverageSummary(schedule, *problem, skill));
  return Json{{"queue", queue},
              {"start_date", start_date},
              {"skill", skill},
              {"interval_min", problem->interval_min},
              {"days", problem->days},
              {"coverage", std::move(coverage)},
              {"schedule", ScheduleToJson(schedule, *problem)}};
}

}  // namespace opsbox::wfm
