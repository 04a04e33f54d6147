// `opsbox pii scan [FILE]`: finds personal data in text (issue #3, "PII detection"). Thin:
// reads the input and calls pii::Scanner / pii::Redact, the same library call every intake
// path uses.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <iosfwd>

#include "pii/pii.hpp"

namespace opsbox::app {

// The most input `opsbox pii scan` reads; more is an error (exit 2), nothing is printed.
inline constexpr size_t kPiiScanInputBytesMax = size_t{256} << 20;

struct PiiScanOptions {
  bool redact = false;                              // print the redacted text instead
  pii::RedactStyle style = pii::RedactStyle::kTag;  // with redact: kTag or kPartial
  // --phone-regions: as the config key pii.phone_regions (the default region first).
  std::vector<std::string> phone_regions = {"IN"};
};

// Reads all of `in` and prints to `out` either one JSON object per finding and line,
// exactly {"start":<byte offset>,"end":<byte offset, exclusive>,"type":"<type name>"}, in
// order, or (redact) the text with each finding replaced. Returns the exit status: 0; 2 when
// the input exceeds kPiiScanInputBytesMax; 1 when the scanner cannot start or reading fails
// (a message on standard error).
int RunPiiScan(const PiiScanOptions& options, std::istream& in, std::ostream& out);

// Registers `pii scan [FILE] [--redact [--style tag|partial]]` (standard input without FILE)
// under `app`; the command runs in its callback and reports a non-zero status as
// CLI::RuntimeError. Returns the `pii` subcommand (parsed() tells whether it ran).
CLI::App* AddPiiCommands(CLI::App& app);

}  // namespace opsbox::app
