// `opsbox sla due --calendar FILE --start RFC3339 --business-minutes N [--json]`: the instant an
// SLA target falls due on a business calendar, so an operator can check a date by hand (issue
// #19, "SLA clocks"). Thin: reads the file and calls cases/business_calendar.hpp, the same code
// the cases module uses for every due instant.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>

namespace opsbox::app {

struct SlaDueOptions {
  std::string calendar_path;     // the calendar JSON file (format in business_calendar.hpp)
  std::string start;             // RFC 3339, Z or an offset
  int64_t business_minutes = 0;  // 0 .. cases::kSlaTargetMinutesMax
  bool json = false;             // print {"due_at":"…Z"} instead of the bare instant
};

// Prints the due instant (RFC 3339 UTC) on `out`. Returns the exit status: 0, or 2 with a
// message naming the flag or calendar field and the rule on `err`.
int RunSlaDue(const SlaDueOptions& options, std::ostream& out, std::ostream& err);

// Registers `sla due` under `app`; it runs in its callback and reports a non-zero status as
// CLI::RuntimeError. Returns the `sla` subcommand (parsed() tells whether it ran).
CLI::App* AddSlaCommands(CLI::App& app);

}  // namespace opsbox::app
