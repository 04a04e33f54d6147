// `opsbox wfm simulate` (issue #5, "Simulation"): builds a SimulationConfig from flags and CSV
// files, runs the replications and prints totals and per-interval figures with 95% confidence
// intervals beside the Erlang prediction for the same interval.
#include "app/wfm_simulate_cli.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/random.hpp"
#include "wfm/erlang.hpp"
#include "wfm/simulate.hpp"

namespace opsbox::app {
namespace {

using json = nlohmann::ordered_json;

constexpr size_t kCsvBytesMax = 64 * 1024 * 1024;
constexpr int kIntervalsFlagMax = wfm::kSimIntervalsMax;

struct SimulateFlags {
  double volume = 0;
  std::string volumes_file;
  int intervals = 1;
  int interval_s = 0;
  double aht_s = 0;
  std::string handle = "exponential";
  double aht_sd_s = 0;
  std::string handle_file;
  double patience_s = 0;
  std::string patience_file;
  int agents = 0;
  std::string agents_file;
  double target_answer_s = 0;
  int replications = 10;
  int warmup_intervals = 0;
  uint64_t seed = 0;
  bool json = false;
  // Presence of the flags whose absence means something.
  CLI::Option* volume_opt = nullptr;
  CLI::Option* intervals_opt = nullptr;
  CLI::Option* aht_opt = nullptr;
  CLI::Option* aht_sd_opt = nullptr;
  CLI::Option* patience_opt = nullptr;
  CLI::Option* patience_file_opt = nullptr;
  CLI::Option* agents_opt = nullptr;
  CLI::Option* seed_opt = nullptr;
};

Error FlagError(const std::string& flag, const std::string& rule, const std::string& message) {
  return Error::Invalid(flag, rule, flag + ": " + message);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// One number per line: the only column, or the second of "interval_start,value[,...]" rows.
// A first line whose value is not a number is taken as a header. Blank lines are skipped.
Result<std::vector<double>> ReadColumn(const std::string& path, const std::string& flag,
                                       size_t rows_max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return FlagError(flag, "readable", "cannot open " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (buf.str().size() > kCsvBytesMax)
    return FlagError(flag, "max_bytes", path + " exceeds 64 MiB");
  std::istringstream lines(buf.str());
  std::vector<double> values;
  std::string line;
  for (size_t line_no = 1; std::getline(lines, line); ++line_no) {
    std::string_view row = Trim(line);
    if (row.empty()) continue;
    size_t comma = row.find(',');
    std::string_view field = row;
    if (comma != std::string_view::npos) {
      field = row.substr(comma + 1);
      field = field.substr(0, field.find(','));
    }
    field = Trim(field);
    double v = 0;
    auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
    if (ec != std::errc() || end != field.data() + field.size()) {
      if (line_no == 1) continue;
      return FlagError(flag, "number",
                       path + " line " + std::to_string(line_no) + ": '" + std::string(field) +
                           "' is not a number");
    }
    if (values.size() == rows_max) {
      return FlagError(flag, "max_rows",
                       path + " has more than " + std::to_string(rows_max) + " values");
    }
    values.push_back(v);
  }
  if (values.empty()) return FlagError(flag, "required", path + " holds no values");
  return values;
}

Result<std::vector<int32_t>> ReadAgentsFile(const std::string& path) {
  OPSBOX_ASSIGN_OR_RETURN(auto raw, ReadColumn(path, "--agents-file", kIntervalsFlagMax));
  std::vector<int32_t> agents;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] < 0 || raw[i] > wfm::kSimAgentsMax || raw[i] != std::floor(raw[i])) {
      return FlagError("--agents-file", "whole_number",
                       "value " + std::to_string(i + 1) + " must be a whole number of agents " +
                           "between 0 and " + std::to_string(wfm::kSimAgentsMax));
    }
    agents.push_back(static_cast<int32_t>(raw[i]));
  }
  return agents;
}

Result<wfm::HandleTimeModel> BuildHandle(const SimulateFlags& f) {
  wfm::HandleTimeModel h;
  h.mean_s = f.aht_s;
  h.sd_s = f.aht_sd_s;
  if (f.handle == "exponential") {
    h.kind = wfm::HandleDistribution::kExponential;
  } else if (f.handle == "lognormal") {
    h.kind = wfm::HandleDistribution::kLognormal;
    if (!*f.aht_sd_opt) return FlagError("--aht-sd-s", "required", "--handle lognormal needs it");
  } else {
    h.kind = wfm::HandleDistribution::kEmpirical;
    if (f.handle_file.empty()) {
      return FlagError("--handle-file", "required",
                       "--handle empirical needs a file of handle "
                       "times in seconds");
    }
    OPSBOX_ASSIGN_OR_RETURN(
        h.samples_s, ReadColumn(f.handle_file, "--handle-file", wfm::kSimEmpiricalSamplesMax));
  }
  if (h.kind != wfm::HandleDistribution::kEmpirical && !*f.aht_opt) {
    return FlagError("--aht-s", "required", "the mean handle time is needed");
  }
  return h;
}

// The horizon: the rows of --volumes, else the rows of --agents-file (unless --intervals is
// given), else --intervals. A file whose length differs from the other's fails validation.
Result<wfm::SimulationConfig> BuildConfig(const SimulateFlags& f) {
  wfm::SimulationConfig c;
  c.interval_s = f.interval_s;
  c.target_answer_s = f.target_answer_s;
  c.replications = f.replications;
  c.warmup_intervals = f.warmup_intervals;
  if (!f.volumes_file.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(c.volumes_per_interval,
                            ReadColumn(f.volumes_file, "--volumes", kIntervalsFlagMax));
  }
  if (!f.agents_file.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(c.agents_per_interval, ReadAgentsFile(f.agents_file));
  }
  if (f.volumes_file.empty()) {
    if (f.intervals < 1 || f.intervals > kIntervalsFlagMax) {
      return FlagError("--intervals", "range", "must be between 1 and 100000");
    }
    size_t n = static_cast<size_t>(f.intervals);
    if (!f.agents_file.empty() && !*f.intervals_opt) n = c.agents_per_interval.size();
    c.volumes_per_interval.assign(n, f.volume);
  }
  if (f.agents_file.empty()) c.agents_per_interval.assign(c.volumes_per_interval.size(), f.agents);
  OPSBOX_ASSIGN_OR_RETURN(c.handle, BuildHandle(f));
  if (*f.patience_opt) {
    c.patience.kind = wfm::PatienceDistribution::kExponential;
    c.patience.mean_s = f.patience_s;
  } else if (!f.patience_file.empty()) {
    c.patience.kind = wfm::PatienceDistribution::kEmpirical;
    OPSBOX_ASSIGN_OR_RETURN(c.patience.samples_s, ReadColumn(f.patience_file, "--patience-file",
                                                             wfm::kSimEmpiricalSamplesMax));
  }
  return c;
}

// The flag an error of ValidateSimulationConfig points at.
std::string FlagFor(const std::string& field, const SimulateFlags& f) {
  static const std::map<std::string, std::string> kFlags = {
      {"interval_s", "--interval-s"},
      {"handle.mean_s", "--aht-s"},
      {"handle.sd_s", "--aht-sd-s"},
      {"handle.samples_s", "--handle-file"},
      {"patience.mean_s", "--patience-s"},
      {"patience.samples_s", "--patience-file"},
      {"target_answer_s", "--target-answer-s"},
      {"warmup_intervals", "--warmup-intervals"},
      {"replications", "--replications"}};
  std::string base = field.substr(0, field.find('['));
  if (base == "volumes_per_interval") return f.volumes_file.empty() ? "--volume" : "--volumes";
  if (base == "agents_per_interval") return f.agents_file.empty() ? "--agents" : "--agents-file";
  auto it = kFlags.find(base);
  return it == kFlags.end() ? field : it->second;
}

json Num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json EstimateJson(const wfm::Estimate& e) {
  json ci = std::isfinite(e.half_width_95)
                ? json::array({e.mean - e.half_width_95, e.mean + e.half_width_95})
                : json(nullptr);
  return {{"mean", Num(e.mean)}, {"ci95", ci}};
}

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// The Erlang C (no patience) or Erlang A (exponential patience) figures for one interval,
// with the simulation's mean handle time and mean patience. Where the simulation's
// distributions are not exponential the prediction is labelled approximate.
json ErlangBeside(const wfm::SimulationConfig& c, double volume, int agents) {
  const bool empirical_handle = c.handle.kind == wfm::HandleDistribution::kEmpirical;
  wfm::Traffic traffic{volume, static_cast<double>(c.interval_s),
                       empirical_handle ? Mean(c.handle.samples_s) : c.handle.mean_s};
  bool exact = c.handle.kind == wfm::HandleDistribution::kExponential;
  Result<wfm::QueueFigures> figures = Error::Internal("unset");
  std::string model;
  if (c.patience.kind == wfm::PatienceDistribution::kNone) {
    model = "erlang_c";
    figures = wfm::ErlangC(traffic, agents, c.target_answer_s);
  } else {
    model = "erlang_a";
    exact = exact && c.patience.kind == wfm::PatienceDistribution::kExponential;
    double patience_s = c.patience.kind == wfm::PatienceDistribution::kExponential
                            ? c.patience.mean_s
                            : Mean(c.patience.samples_s);
    if (patience_s <= 0) return {{"model", model}, {"error", "mean patience is 0"}};
    figures = wfm::ErlangA(traffic, patience_s, agents, c.target_answer_s);
  }
  json out = {{"model", model}, {"same_distributions", exact}};
  if (!figures.ok()) {
    out["error"] = figures.error().message;
    return out;
  }
  out["service_level"] = Num(figures->service_level);
  out["asa_s"] = Num(figures->asa_s);
  out["mean_wait_answered_s"] = Num(figures->mean_wait_answered_s);
  out["abandon_probability"] = Num(figures->abandon_probability);
  out["occupancy"] = Num(figures->occupancy);
  return out;
}

json MetricsJson(const wfm::IntervalReport& r) {
  return {{"expected_volume", r.expected_volume},
          {"offered", EstimateJson(r.offered)},
          {"answered", EstimateJson(r.answered)},
          {"abandoned", EstimateJson(r.abandoned)},
          {"unfinished", EstimateJson(r.unfinished)},
          {"service_level", EstimateJson(r.service_level)},
          {"asa_s", EstimateJson(r.asa_s)},
          {"mean_wait_answered_s", EstimateJson(r.mean_wait_answered_s)},
          {"abandon_probability", EstimateJson(r.abandon_probability)},
          {"occupancy", EstimateJson(r.occupancy)}};
}

// Erlang for the totals only when every reported interval has the same volume and agents.
json TotalErlang(const wfm::SimulationConfig& c) {
  size_t w = static_cast<size_t>(c.warmup_intervals);
  for (size_t i = w; i < c.volumes_per_interval.size(); ++i) {
    if (c.volumes_per_interval[i] != c.volumes_per_interval[w] ||
        c.agents_per_interval[i] != c.agents_per_interval[w]) {
      return nullptr;
    }
  }
  return ErlangBeside(c, c.volumes_per_interval[w], c.agents_per_interval[w]);
}

json ReportJson(const wfm::SimulationConfig& c, const wfm::SimulationReport& r) {
  static const char* kHandle[] = {"exponential", "lognormal", "empirical"};
  static const char* kPatience[] = {"none", "exponential", "empirical"};
  json out = {{"seed", r.seed},
              {"replications", r.replications},
              {"confidence_method",
               "mean over independent replications (seeds derived from seed); ci95 = mean +/- "
               "t(0.975, n-1) * sd / sqrt(n), n = replications in which the metric is defined"},
              {"interval_s", c.interval_s},
              {"target_answer_s", c.target_answer_s},
              {"warmup_intervals", c.warmup_intervals},
              {"handle", kHandle[static_cast<int>(c.handle.kind)]},
              {"patience", kPatience[static_cast<int>(c.patience.kind)]},
              {"calls_simulated", r.calls_simulated}};
  json total = MetricsJson(r.total);
  total["erlang"] = TotalErlang(c);
  out["total"] = std::move(total);
  json intervals = json::array();
  for (const wfm::IntervalReport& ir : r.intervals) {
    json row = {{"index", ir.index}, {"agents", ir.agents}};
    row.update(MetricsJson(ir));
    row["erlang"] = ErlangBeside(c, ir.expected_volume, ir.agents);
    intervals.push_back(std::move(row));
  }
  out["intervals"] = std::move(intervals);
  return out;
}

std::string Pm(const wfm::Estimate& e, const char* fmt) {
  if (!std::isfinite(e.mean)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, e.mean,
                std::isfinite(e.half_width_95) ? e.half_width_95 : 0.0);
  return buf;
}

void PrintText(const json& out, const wfm::SimulationReport& r) {
  std::cout << "seed " << r.seed << ", " << r.replications << " replications, " << r.calls_simulated
            << " calls; +/- is the 95% t half-width\n"
            << "interval agents offered     service_level    asa_s          abandon        "
               "occupancy      erlang_sl\n";
  auto row = [&](const std::string& name, const wfm::IntervalReport& ir, const json& erlang) {
    std::string erlang_sl = "-";
    if (erlang.is_object() && erlang.contains("service_level") &&
        erlang["service_level"].is_number()) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%.3f", erlang["service_level"].get<double>());
      erlang_sl = buf;
    }
    std::string agents = ir.index < 0 ? "-" : std::to_string(ir.agents);
    std::printf("%-8s %6s %-11s %-16s %-14s %-14s %-14s %s\n", name.c_str(), agents.c_str(),
                Pm(ir.offered, "%.1f").c_str(), Pm(ir.service_level, "%.3f+/-%.3f").c_str(),
                Pm(ir.asa_s, "%.1f+/-%.1f").c_str(),
                Pm(ir.abandon_probability, "%.3f+/-%.3f").c_str(),
                Pm(ir.occupancy, "%.3f+/-%.3f").c_str(), erlang_sl.c_str());
  };
  for (size_t i = 0; i < r.intervals.size(); ++i) {
    row(std::to_string(i), r.intervals[i], out["intervals"][i]["erlang"]);
  }
  row("total", r.total, out["total"]["erlang"]);
}

// Prints "opsbox wfm simulate: <flag>: <message> (field F, rule R)" and exits with status 2.
[[noreturn]] void FailInvalid(const Error& e, const std::string& config_field = "") {
  std::cerr << "opsbox wfm simulate: " << e.message << " (";
  if (!config_field.empty()) std::cerr << "field " << config_field << ", ";
  std::cerr << "rule " << e.rule << ")\n";
  throw CLI::RuntimeError(2);
}

void RunSimulate(const SimulateFlags& f) {
  Result<wfm::SimulationConfig> config = BuildConfig(f);
  if (!config.ok()) FailInvalid(config.error());
  if (Status st = wfm::ValidateSimulationConfig(*config); !st.ok()) {
    const Error& e = st.error();
    std::string flag = FlagFor(e.field, f);
    FailInvalid(Error::Invalid(flag, e.rule, flag + ": " + e.message), e.field);
  }
  uint64_t seed = f.seed;
  if (!*f.seed_opt) seed = SystemRandom().NextU64();
  Result<wfm::SimulationReport> report = wfm::Simulate(*config, seed);
  if (!report.ok()) FailInvalid(report.error());
  json out = ReportJson(*config, *report);
  if (f.json) {
    std::cout << out.dump() << "\n";
  } else {
    PrintText(out, *report);
  }
}

}  // namespace

void AddWfmSimulateCommands(CLI::App& wfm) {
  auto f = std::make_shared<SimulateFlags>();
  CLI::App* sim =
      wfm.add_subcommand("simulate",
                         "Simulate one queue (Poisson arrivals per interval, FCFS) with confidence "
                         "intervals, beside Erlang C/A");
  auto* vol =
      sim->add_option("--volume", f->volume, "Expected calls per interval (every interval)");
  auto* vols = sim->add_option("--volumes", f->volumes_file,
                               "CSV of expected calls per interval (value, or start,value)");
  vol->excludes(vols);
  f->volume_opt = vol;
  f->intervals_opt = sim->add_option("--intervals", f->intervals,
                                     "Intervals in the horizon with --volume (default 1)");
  f->intervals_opt->excludes(vols);
  sim->add_option("--interval-s", f->interval_s, "Interval length: 900, 1800 or 3600")->required();
  f->aht_opt = sim->add_option("--aht-s", f->aht_s, "Mean handle time in seconds");
  sim->add_option("--handle", f->handle, "Handle time distribution")
      ->check(CLI::IsMember({"exponential", "lognormal", "empirical"}));
  f->aht_sd_opt = sim->add_option("--aht-sd-s", f->aht_sd_s, "Handle time sd (lognormal)");
  sim->add_option("--handle-file", f->handle_file, "Observed handle times in seconds (empirical)");
  f->patience_opt = sim->add_option("--patience-s", f->patience_s,
                                    "Mean patience in seconds (exponential); none by default");
  f->patience_file_opt = sim->add_option("--patience-file", f->patience_file,
                                         "Observed patience times in seconds (empirical)");
  f->patience_opt->excludes(f->patience_file_opt);
  f->agents_opt = sim->add_option("--agents", f->agents, "Agents staffed in every interval");
  auto* agents_file = sim->add_option("--agents-file", f->agents_file,
                                      "CSV of agents per interval (value, or start,value)");
  f->agents_opt->excludes(agents_file);
  sim->add_option("--target-answer-s", f->target_answer_s, "Service level target answer time")
      ->required();
  sim->add_option("--replications", f->replications, "Independent replications (default 10)");
  sim->add_option("--warmup-intervals", f->warmup_intervals,
                  "Leading intervals left out of the totals (default 0)");
  f->seed_opt = sim->add_option("--seed", f->seed, "Seed (default: random, printed)");
  sim->add_flag("--json", f->json, "Print one JSON object");
  sim->callback([f, sim, agents_file]() {
    if (!*f->volume_opt && sim->count("--volumes") == 0) {
      FailInvalid(FlagError("--volume", "required", "give --volume N or --volumes FILE.csv"));
    }
    if (!*f->agents_opt && agents_file->count() == 0) {
      FailInvalid(FlagError("--agents", "required", "give --agents N or --agents-file FILE.csv"));
    }
    RunSimulate(*f);
  });
}

}  // namespace opsbox::app
