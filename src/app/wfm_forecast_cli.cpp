#include "app/wfm_forecast_cli.hpp"

#include <cstdio>
#include <iostream>
#include <memory>

#include "wfm/forecast.hpp"
#include "wfm/history.hpp"

namespace opsbox::app {
namespace {

using nlohmann::json;

json OptionalNumber(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json ParamsJson(const std::optional<wfm::HoltWintersParams>& p) {
  if (!p) return nullptr;
  return {{"alpha", p->alpha}, {"beta", p->beta}, {"gamma", p->gamma}, {"phi", p->phi}};
}

json ImportJson(const wfm::HistoryImport& h, int replaced) {
  json empty = json::array();
  for (int64_t d : h.empty_days) empty.push_back(FormatIsoDate(d));
  const size_t ipd = static_cast<size_t>(1440 / h.series.interval_min);
  const int64_t first_day = h.series.first_start_local_s / 86400;
  return {{"rows", h.rows},
          {"source_interval_min", h.source_interval_s / 60.0},
          {"intervals", h.series.volume.size()},
          {"first_day", FormatIsoDate(first_day)},
          {"last_day", FormatIsoDate(first_day + static_cast<int64_t>(h.series.volume.size() / ipd) - 1)},
          {"intervals_without_rows", h.intervals_without_rows},
          {"gaps", h.gaps},
          {"empty_days_total", h.empty_days_total},
          {"empty_days", empty},
          {"ignored_columns", h.ignored_columns},
          {"has_aht", h.has_aht},
          {"has_abandons", h.has_abandons},
          {"special_days_replaced", replaced}};
}

json CandidatesJson(const std::vector<wfm::ForecastCandidate>& candidates) {
  json out = json::array();
  for (const auto& c : candidates) {
    json j = {{"method", wfm::ForecastMethodName(c.method)},
              {"season", wfm::SeasonName(c.season)},
              {"evaluated", c.evaluated},
              {"params", ParamsJson(c.params)},
              {"holdout_wape", OptionalNumber(c.holdout_wape)},
              {"holdout_mase", OptionalNumber(c.holdout_mase)},
              {"cv_wape", OptionalNumber(c.cv_wape)},
              {"cv_wapes", c.cv_wapes}};
    if (!c.skipped_reason.empty()) j["skipped_reason"] = c.skipped_reason;
    if (!c.note.empty()) j["note"] = c.note;
    out.push_back(std::move(j));
  }
  return out;
}

json IntervalsJson(const std::vector<wfm::IntervalForecast>& intervals, const wfm::ZoneRules& zone) {
  json out = json::array();
  for (const auto& f : intervals) {
    const auto at = wfm::LocalToInstant(zone, f.start_local_s);
    if (!at) continue;  // a local time skipped by daylight saving
    json j = {{"start", FormatRfc3339(*at)},
              {"local_start", wfm::FormatLocal(f.start_local_s)},
              {"volume", f.volume}};
    if (f.aht_s) j["aht_s"] = *f.aht_s;
    if (f.bounds) {
      j["lower_80"] = f.bounds->lower_80, j["upper_80"] = f.bounds->upper_80;
      j["lower_95"] = f.bounds->lower_95, j["upper_95"] = f.bounds->upper_95;
    }
    out.push_back(std::move(j));
  }
  return out;
}

Result<wfm::ForecastRequest> BuildRequest(const WfmForecastOptions& o) {
  wfm::ForecastRequest r;
  OPSBOX_ASSIGN_OR_RETURN(r.method, wfm::ParseForecastMethod(o.method));
  if (!o.season.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(wfm::Season s, wfm::ParseSeason(o.season));
    r.season = s;
  }
  r.horizon_days = o.horizon_days;
  r.holdout_days = o.holdout_days;
  r.fit_evaluations_max = o.fit_evaluations_max;
  r.cv_origins = o.cv_origins;
  if (!o.holidays_path.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(r.special_days, wfm::LoadSpecialDaysFile(o.holidays_path));
  }
  return r;
}

void PrintText(const json& doc) {
  std::printf("method %s, season %s\n", doc["method"].get<std::string>().c_str(),
              doc["season"].get<std::string>().c_str());
  for (const auto& c : doc["candidates"]) {
    const auto num = [](const json& v) { return v.is_null() ? std::string("-") : std::to_string(v.get<double>()); };
    std::printf("  %-18s %-8s CV WAPE %-10s last window WAPE %-10s MASE %s\n",
                c["method"].get<std::string>().c_str(), c["season"].get<std::string>().c_str(),
                num(c["cv_wape"]).c_str(), num(c["holdout_wape"]).c_str(),
                num(c["holdout_mase"]).c_str());
  }
  std::printf("%zu forecast intervals (use --json for them)\n", doc["intervals"].size());
}

}  // namespace

Result<json> RunWfmForecast(const WfmForecastOptions& o) {
  OPSBOX_ASSIGN_OR_RETURN(wfm::ZoneRules zone, wfm::ZoneRules::Load(o.zone));
  OPSBOX_ASSIGN_OR_RETURN(wfm::ForecastRequest request, BuildRequest(o));
  wfm::HistoryImportOptions import_options;
  import_options.interval_min = o.interval_min;
  OPSBOX_ASSIGN_OR_RETURN(wfm::HistoryImport history,
                          wfm::ImportHistoryFile(o.history_path, import_options, zone));
  OPSBOX_ASSIGN_OR_RETURN(wfm::ForecastResult result, wfm::Forecast(history.series, request));
  json doc = {{"method", wfm::ForecastMethodName(result.method)},
              {"season", wfm::SeasonName(result.season)},
              {"params", ParamsJson(result.params)},
              {"interval_min", o.interval_min},
              {"zone", zone.name()},
              {"history", ImportJson(history, result.history_special_days_replaced)},
              {"holdout", {{"days", request.holdout_days},
                           {"intervals", result.holdout_intervals},
                           {"mase_scaling_period_intervals", result.mase_scaling_period_intervals},
                           {"cv_windows", result.cv_windows},
                           {"aht_wape", OptionalNumber(result.aht_holdout_wape)}}},
              {"closed_intervals_of_week", result.closed_intervals_of_week},
              {"prediction_intervals",
               result.has_prediction_intervals
                   ? json{{"source", "cross-validation"},
                          {"scale_80", result.interval_scale_80},
                          {"scale_95", result.interval_scale_95}}
                   : json(nullptr)},
              {"candidates", CandidatesJson(result.candidates)},
              {"intervals", IntervalsJson(result.intervals, zone)}};
  return doc;
}

void AddWfmForecastCommands(CLI::App& wfm) {
  auto o = std::make_shared<WfmForecastOptions>();
  auto json_out = std::make_shared<bool>(false);
  CLI::App* cmd = wfm.add_subcommand("forecast", "Forecast interval volumes and handle times");
  cmd->add_option("--history", o->history_path, "History CSV (interval start, count, ...)")->required();
  cmd->add_option("--zone", o->zone, "IANA time zone of the history's local times (default UTC)");
  cmd->add_option("--interval-min", o->interval_min, "Interval length: 15, 30 or 60")->required();
  cmd->add_option("--method", o->method,
                  "auto|seasonal-naive|holt-winters-add|holt-winters-mul|mstl");
  cmd->add_option("--season", o->season, "day|week|day+week (default: auto tries each)");
  cmd->add_option("--horizon-days", o->horizon_days, "Days to forecast")->required();
  cmd->add_option("--holdout-days", o->holdout_days,
                  "Days of each cross-validation window (default 7)");
  cmd->add_option("--cv-origins", o->cv_origins,
                  "Rolling-origin cross-validation windows, 1..8 (default 4)");
  cmd->add_option("--holidays", o->holidays_path, "Special days CSV: date,like,multiplier");
  cmd->add_option("--fit-evaluations-max", o->fit_evaluations_max,
                  "Optimiser evaluations per Holt-Winters or ETS fit (default 300)");
  cmd->add_flag("--json", *json_out, "Print JSON");
  cmd->callback([o, json_out] {
    auto doc = RunWfmForecast(*o);
    if (!doc.ok()) {
      const Error& e = doc.error();
      std::cerr << "opsbox wfm forecast: " << e.message << " (field " << e.field << ", rule "
                << e.rule << ")\n";
      throw CLI::RuntimeError(2);
    }
    if (*json_out) std::cout << doc->dump(2) << "\n";
    else PrintText(*doc);
  });
}

}  // namespace opsbox::app
