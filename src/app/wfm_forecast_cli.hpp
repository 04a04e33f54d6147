// `opsbox wfm forecast`: interval forecasting (wfm/forecast.hpp) from a history CSV
// (wfm/history.hpp) on the command line.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.hpp"

namespace opsbox::app {

struct WfmForecastOptions {
  std::string history_path;
  std::string zone;            // IANA name; empty = UTC
  int interval_min = 15;
  std::string method = "auto";
  std::string season;          // "", "day", "week" or "day+week" (mstl)
  int horizon_days = 7;
  int holdout_days = 7;
  std::string holidays_path;   // optional special-days CSV
  int fit_evaluations_max = 300;
  int cv_origins = 4;          // rolling-origin cross-validation windows
};

// Imports, forecasts and renders the JSON document that `--json` prints: chosen method, season,
// parameters, holdout WAPE/MASE and cross-validation WAPE (cv_wape, cv_wapes per window) per
// candidate, the import report and the forecast intervals (start as an RFC 3339 UTC instant,
// local_start in the zone, volume, aht_s when present, lower_80/upper_80/lower_95/upper_95 when
// cross-validation left enough errors; "prediction_intervals" says how they were made).
// Errors name the flag's field and rule. Reads files; otherwise pure.
Result<nlohmann::json> RunWfmForecast(const WfmForecastOptions& options);

// Registers `forecast` on the `opsbox wfm` subcommand. On invalid input the callback prints
// "opsbox wfm forecast: <message> (field F, rule R)" to stderr and throws CLI::RuntimeError(2);
// on success it prints the JSON document (--json) or a short text summary to stdout.
void AddWfmForecastCommands(CLI::App& wfm);

}  // namespace opsbox::app
