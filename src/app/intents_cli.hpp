// `opsbox intents train|classify` (issue #12, "Intent classification"). Thin: reads the input
// and calls intents::Train / intents::Model::Classify, the same library calls the server uses.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>
#include <vector>

namespace opsbox::app {

// The most bytes one training CSV may have; more is an error (exit 2).
inline constexpr size_t kIntentsCsvBytesMax = size_t{256} << 20;

struct IntentsTrainOptions {
  std::vector<std::string> data;  // CSV files (text,category), e.g. BANKING77 + a tenant's own
  std::string out;                // the model file; its card is also written to OUT.card.json
  double validation_share = 0.1;
};

// Trains and writes the model. Prints a one-line summary (intents, rows, validation top-1,
// accuracy at 80% coverage) to `out`. Exit status: 0; 2 bad input (message names the file,
// line and rule); 1 I/O failure.
int RunIntentsTrain(const IntentsTrainOptions& options, std::ostream& out, std::ostream& err);

// Classifies each line of `in` (one text a line; the first intents::kTextBytesMax bytes count)
// and prints one line each: with `json` the object
// {"intent","confidence","alternatives":[{"intent","confidence"}…]}, else
// "<intent>\t<confidence>". Exit status: 0; 2 when the model cannot be loaded.
int RunIntentsClassify(const std::string& model_path, bool json, std::istream& in,
                       std::ostream& out, std::ostream& err);

// Registers `intents train` and `intents classify` under `app`; the commands run in their
// callbacks and report a non-zero status as CLI::RuntimeError. Returns the `intents` command.
CLI::App* AddIntentsCommands(CLI::App& app);

}  // namespace opsbox::app
