// `opsbox wfm simulate`: the queue simulation (wfm/simulate.hpp) on the command line, with the
// Erlang C / Erlang A prediction (wfm/erlang.hpp) beside each interval.
#pragma once

#include <CLI/CLI.hpp>

namespace opsbox::app {

// Registers `simulate` on the `opsbox wfm` subcommand. On invalid input the callback prints
// "opsbox wfm simulate: <flag>: <message> (field F, rule R)" to stderr and throws
// CLI::RuntimeError(2); on success it prints one JSON object (--json) or a text table to stdout.
void AddWfmSimulateCommands(CLI::App& wfm);

}  // namespace opsbox::app
