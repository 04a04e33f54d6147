// `opsbox wfm schedule` (see wfm_schedule_cli.hpp).
#include "app/wfm_schedule_cli.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "core/json.hpp"
#include "wfm/schedule.hpp"

namespace opsbox::app {
namespace {

// A week of 15-minute requirements for many skill groups and agents fits easily in this.
constexpr std::streamsize kProblemFileBytesMax = 16 * 1024 * 1024;

struct ScheduleFlags {
  std::string problem_path;
  std::string lp_path;
  wfm::SolveOptions options;
  bool json = false;
};

// Solve options are named after their flags; problem fields keep their JSON path.
std::string FlagOf(const std::string& field) {
  if (field == "time_limit_s") return "--time-limit-s";
  if (field == "max_nodes") return "--max-nodes";
  if (field == "relative_gap") return "--gap";
  return field;
}

[[noreturn]] void Fail(const Error& e, int exit_code) {
  std::cerr << "opsbox wfm schedule: " << e.message;
  if (!e.field.empty()) std::cerr << " (field " << FlagOf(e.field) << ", rule " << e.rule << ")";
  std::cerr << "\n";
  throw CLI::RuntimeError(exit_code);
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Invalid("--problem", "readable", "cannot open " + path);
  std::string text;
  text.resize(static_cast<size_t>(kProblemFileBytesMax) + 1);
  in.read(text.data(), kProblemFileBytesMax + 1);
  if (in.bad()) return Error::Invalid("--problem", "readable", "cannot read " + path);
  if (in.gcount() > kProblemFileBytesMax) {
    return Error::Invalid("--problem", "max_bytes",
                          path + " is larger than " + std::to_string(kProblemFileBytesMax) +
                              " bytes");
  }
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Error::Invalid("--write-lp", "writable", "cannot write " + path);
  return Ok();
}

std::string Clock(int32_t minutes) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%s%02d:%02d", minutes >= 1440 ? "+1 " : "",
                (minutes % 1440) / 60, minutes % 60);
  return buf;
}

void PrintText(const wfm::Schedule& s) {
  const auto& r = s.solver;
  std::cout << "status " << wfm::SolveStatusName(r.status) << ", objective " << r.objective
            << ", bound " << r.best_bound << ", gap " << r.gap << ", " << r.solve_time_ms
            << " ms, " << r.columns << " columns x " << r.rows << " rows\n";
  if (!s.has_schedule) return;
  std::cout << "shift cost " << s.shift_cost << ", under " << s.under_agent_intervals
            << " agent-intervals, over " << s.over_agent_intervals << " agent-intervals\n";
  for (const auto& shift : s.shifts) {
    std::cout << "day " << shift.day << "  " << Clock(shift.start_min) << "-"
              << Clock(shift.end_min) << "  " << shift.template_id << "  x" << shift.count;
    if (!shift.agent_id.empty()) std::cout << "  " << shift.agent_id;
    for (const auto& b : shift.breaks) std::cout << "  " << b.name << "@" << Clock(b.start_min);
    std::cout << "\n";
  }
}

void Run(const ScheduleFlags& flags) {
  auto text = ReadFile(flags.problem_path);
  if (!text.ok()) Fail(text.error(), 2);
  auto json = ParseJson(*text, "problem");
  if (!json.ok()) Fail(json.error(), 2);
  auto problem = wfm::ParseScheduleProblem(*json);
  if (!problem.ok()) Fail(problem.error(), 2);
  if (!flags.lp_path.empty()) {
    auto lp = wfm::ScheduleModelLp(*problem);
    if (!lp.ok()) Fail(lp.error(), 2);
    if (auto w = WriteFile(flags.lp_path, *lp); !w.ok()) Fail(w.error(), 2);
  }
  auto schedule = wfm::SolveSchedule(*problem, flags.options);
  if (!schedule.ok()) {
    Fail(schedule.error(), schedule.error().code == ErrorCode::kInvalidArgument ? 2 : 1);
  }
  if (flags.json) {
    std::cout << wfm::ScheduleToJson(*schedule, *problem).dump() << "\n";
  } else {
    PrintText(*schedule);
  }
}

}  // namespace

void AddWfmScheduleCommands(CLI::App& wfm) {
  auto flags = std::make_shared<ScheduleFlags>();
  flags->options.time_limit_s = 60;
  CLI::App* cmd = wfm.add_subcommand(
      "schedule", "Shift schedule or roster from a JSON problem file (MIP, COIN-OR CBC)");
  cmd->add_option("--problem", flags->problem_path, "Problem file (JSON)")->required();
  cmd->add_option("--time-limit-s", flags->options.time_limit_s,
                  "Stop after this many seconds with the best schedule so far")
      ->capture_default_str();
  cmd->add_option("--max-nodes", flags->options.max_nodes,
                  "Stop after this many branch-and-bound nodes (-1: no limit)")
      ->capture_default_str();
  cmd->add_option("--gap", flags->options.relative_gap,
                  "Stop once the relative gap is at most this (0: prove optimality)")
      ->capture_default_str();
  cmd->add_option("--write-lp", flags->lp_path, "Also write the model in CPLEX LP format");
  cmd->add_flag("--json", flags->json, "Print the result as one JSON object");
  cmd->callback([flags] { Run(*flags); });
}

}  // namespace opsbox::app
