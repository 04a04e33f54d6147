// `opsbox collections import --db URL --tenant T FILE` (issue #11): runs a portfolio file
// through collections::RunImport on an Offline session and prints the report. Thin: flags,
// files and printing only.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>

namespace opsbox::app {

class Offline;

struct CollectionsImportOptions {
  std::string tenant;
  std::string file;
  std::string buckets_file;  // optional: delinquency buckets per product (JSON)
  std::string errors_file;   // optional: every row error as CSV (line,field,rule,message)
  bool json = false;
};

// Adds `import` under the `collections` subcommand; main runs it with RunCollectionsImport
// when it was parsed (it needs the database flags main adds).
CLI::App* AddCollectionsImportCommand(CLI::App& collections, CollectionsImportOptions& options);

// Returns 0 when the import finished (row errors are reported, not a failure), 2 on a bad file
// or flag, 1 when a chunk was refused (run again to resume).
int RunCollectionsImport(Offline& off, const CollectionsImportOptions& options, std::ostream& out,
                         std::ostream& err);

}  // namespace opsbox::app
