// `opsbox wfm erlang-c|erlang-a` (see wfm_erlang_cli.hpp).
#include "app/wfm_erlang_cli.hpp"

#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "wfm/erlang.hpp"

namespace opsbox::app {
namespace {

struct ErlangFlags {
  bool erlang_a = false;
  double volume = 0, interval_s = 0, aht_s = 0, target_answer_s = 0, patience_s = 0;
  double shrinkage = 0;
  int agents = 0;
  double service_level = 0, max_occupancy = 0, asa_max_s = 0, max_abandon = 0;
  bool json = false;
  CLI::Option* agents_opt = nullptr;
  CLI::Option* service_level_opt = nullptr;
  CLI::Option* max_occupancy_opt = nullptr;
  CLI::Option* asa_max_opt = nullptr;
  CLI::Option* max_abandon_opt = nullptr;
};

// The flag behind each field that wfm/erlang.hpp names in its errors.
std::string FlagOf(const std::string& field) {
  static const std::pair<const char*, const char*> kFlags[] = {
      {"volume", "--volume"},
      {"interval_s", "--interval-s"},
      {"aht_s", "--aht-s"},
      {"target_answer_s", "--target-answer-s"},
      {"agents", "--agents"},
      {"service_level", "--service-level"},
      {"asa_s_max", "--asa-max-s"},
      {"abandon_max", "--max-abandon"},
      {"occupancy_max", "--max-occupancy"},
      {"shrinkage", "--shrinkage"},
      {"patience_s", "--patience-s"},
      {"targets", "--service-level, --asa-max-s, --max-occupancy or --max-abandon"}};
  for (const auto& [f, flag] : kFlags) {
    if (field == f) return flag;
  }
  return field;
}

[[noreturn]] void FailInvalid(const char* command, const Error& e) {
  std::cerr << "opsbox wfm " << command << ": " << FlagOf(e.field) << " (rule " << e.rule
            << "): " << e.message << "\n";
  throw CLI::RuntimeError(2);
}

std::optional<double> IfGiven(const CLI::Option* opt, double value) {
  return opt->count() > 0 ? std::optional<double>(value) : std::nullopt;
}

nlohmann::ordered_json FiguresJson(const wfm::QueueFigures& f) {
  return nlohmann::ordered_json{{"agents", f.agents},
                                {"traffic_erlangs", f.traffic_erlangs},
                                {"p_wait", f.p_wait},
                                {"service_level", f.service_level},
                                {"asa_s", f.asa_s},
                                {"mean_wait_answered_s", f.mean_wait_answered_s},
                                {"abandon_probability", f.abandon_probability},
                                {"occupancy", f.occupancy}};
}

void Run(const ErlangFlags& flags) {
  const char* command = flags.erlang_a ? "erlang-a" : "erlang-c";
  const wfm::Traffic traffic{flags.volume, flags.interval_s, flags.aht_s};
  wfm::StaffingTargets targets;
  targets.target_answer_s = flags.target_answer_s;
  targets.service_level = IfGiven(flags.service_level_opt, flags.service_level);
  targets.occupancy_max = IfGiven(flags.max_occupancy_opt, flags.max_occupancy);
  targets.asa_s_max = IfGiven(flags.asa_max_opt, flags.asa_max_s);
  if (flags.max_abandon_opt)
    targets.abandon_max = IfGiven(flags.max_abandon_opt, flags.max_abandon);
  targets.shrinkage = flags.shrinkage;
  nlohmann::ordered_json out;
  if (flags.agents_opt->count() > 0) {
    if (targets.service_level) {
      FailInvalid(command, Error::Invalid("agents", "exclusive",
                                          "give either --agents or --service-level, not both"));
    }
    auto figures = flags.erlang_a ? wfm::ErlangA(traffic, flags.patience_s, flags.agents,
                                                 flags.target_answer_s)
                                  : wfm::ErlangC(traffic, flags.agents, flags.target_answer_s);
    if (!figures.ok()) FailInvalid(command, figures.error());
    if (!std::isfinite(flags.shrinkage) || flags.shrinkage < 0 || flags.shrinkage >= 1) {
      FailInvalid(command, Error::Invalid("shrinkage", "range", "shrinkage must be in [0, 1)"));
    }
    out = FiguresJson(*figures);
    out["scheduled_agents"] = wfm::ScheduledAgents(flags.agents, flags.shrinkage);
    out["binding_constraint"] = nullptr;
  } else {
    auto staff = flags.erlang_a ? wfm::StaffErlangA(traffic, flags.patience_s, targets)
                                : wfm::StaffErlangC(traffic, targets);
    if (!staff.ok()) FailInvalid(command, staff.error());
    out = FiguresJson(staff->figures);
    out["scheduled_agents"] = staff->scheduled_agents;
    out["binding_constraint"] = wfm::BindingConstraintName(staff->binding);
  }
  std::cout << out.dump(2) << "\n";
}

void AddErlangCommand(CLI::App& wfm, bool erlang_a) {
  auto flags = std::make_shared<ErlangFlags>();
  flags->erlang_a = erlang_a;
  auto* sub = wfm.add_subcommand(
      erlang_a ? "erlang-a" : "erlang-c",
      erlang_a ? "Erlang A (abandonment with a mean patience): figures for --agents, or the "
                 "fewest agents meeting the targets"
               : "Erlang C: figures for --agents, or the fewest agents meeting the targets");
  sub->add_option("--volume", flags->volume, "calls arriving in the interval")->required();
  sub->add_option("--interval-s", flags->interval_s, "interval length, seconds")->required();
  sub->add_option("--aht-s", flags->aht_s, "average handle time, seconds")->required();
  sub->add_option("--target-answer-s", flags->target_answer_s,
                  "service level target answer time, seconds")
      ->required();
  flags->agents_opt = sub->add_option("--agents", flags->agents, "agents on the phones");
  flags->service_level_opt =
      sub->add_option("--service-level", flags->service_level,
                      "target share of all calls answered within --target-answer-s, e.g. 0.8");
  flags->max_occupancy_opt =
      sub->add_option("--max-occupancy", flags->max_occupancy, "maximum occupancy, e.g. 0.85");
  flags->asa_max_opt =
      sub->add_option("--asa-max-s", flags->asa_max_s, "maximum mean wait over all calls, seconds");
  sub->add_option("--shrinkage", flags->shrinkage, "share of paid time off the phones, [0, 1)");
  if (erlang_a) {
    sub->add_option("--patience-s", flags->patience_s, "mean caller patience, seconds")->required();
    flags->max_abandon_opt =
        sub->add_option("--max-abandon", flags->max_abandon, "maximum abandonment share");
  }
  sub->add_flag("--json", flags->json, "print JSON (the only output format)");
  sub->callback([flags] { Run(*flags); });
}

}  // namespace

void AddWfmErlangCommands(CLI::App& wfm) {
  AddErlangCommand(wfm, false);
  AddErlangCommand(wfm, true);
}

}  // namespace opsbox::app
