// `opsbox wfm schedule`: builds a shift schedule or a roster from a JSON problem file by mixed
// integer programming (issue #5, "Scheduling"). Thin: reads the file and flags, and calls
// wfm/schedule.hpp, which owns the model, its validation and the JSON shapes.
#pragma once

#include <CLI/CLI.hpp>

namespace opsbox::app {

// Registers `schedule` under `wfm` (the `opsbox wfm` subcommand):
//   opsbox wfm schedule --problem FILE.json [--time-limit-s N] [--max-nodes N] [--gap G]
//                       [--write-lp FILE.lp] [--json]
// With --json, prints one JSON object on stdout: mode, solver {status, objective, best_bound,
// gap, nodes, solve_time_ms, columns, rows, integer_columns}, has_schedule, shift_cost,
// under_agent_intervals, over_agent_intervals, shifts[], coverage[] (see ScheduleToJson);
// without it, a short text summary. An infeasible problem or a limit without a schedule is a
// result, not an error: exit 0 with the status. Invalid input (unreadable file, bad JSON, a
// broken rule): a message naming the field and rule on stderr, then CLI::RuntimeError(2);
// a solver failure: CLI::RuntimeError(1).
void AddWfmScheduleCommands(CLI::App& wfm);

}  // namespace opsbox::app
