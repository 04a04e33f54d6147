// `opsbox wfm erlang-c` and `opsbox wfm erlang-a`: queue figures for a number of agents, or the
// fewest agents meeting staffing targets, printed as one JSON object (issue #5, "Staffing").
// Thin: parses flags and calls wfm/erlang.hpp, which owns every definition and rule.
#pragma once

#include <CLI/CLI.hpp>

namespace opsbox::app {

// Registers erlang-c and erlang-a under `wfm` (the `opsbox wfm` subcommand). Each prints one JSON
// object on stdout: agents, traffic_erlangs, p_wait, service_level, asa_s, mean_wait_answered_s,
// abandon_probability, occupancy, scheduled_agents, binding_constraint (null with --agents).
// Invalid input: a message naming the flag and the rule on stderr, then CLI::RuntimeError(2).
void AddWfmErlangCommands(CLI::App& wfm);

}  // namespace opsbox::app
