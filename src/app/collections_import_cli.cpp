#include "app/collections_import_cli.hpp"

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/composition.hpp"
#include "collections/collections.hpp"
#include "collections/import.hpp"
#include "core/time.hpp"
#include "ledger/writer.hpp"

namespace opsbox::app {
namespace {

int Fail(std::ostream& err, const Error& e) {
  err << "opsbox: " << e.message;
  if (!e.field.empty()) err << " (field " << e.field << ", rule " << e.rule << ")";
  err << "\n";
  return e.code == ErrorCode::kInvalidArgument ? 2 : 1;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Every row error of the import, as CSV, read back page by page.
Status WriteErrorsCsv(store::Database& db, const std::string& tenant, const std::string& import_id,
                      const std::string& path) {
  std::ofstream f(path);
  if (!f) return Error::Invalid("--errors", "writable", "cannot write " + path);
  f << "line,field,rule,message\n";
  OPSBOX_ASSIGN_OR_RETURN(auto conn, db.Connect());
  int64_t after = 0;
  for (;;) {
    OPSBOX_ASSIGN_OR_RETURN(auto page, collections::ImportErrors(*conn, tenant, import_id, after, 1000));
    for (const auto& e : page) {
      f << e.line << "," << CsvField(e.field) << "," << CsvField(e.rule) << ","
        << CsvField(e.message) << "\n";
      after = static_cast<int64_t>(e.line);
    }
    if (page.size() < 1000) break;
  }
  f.flush();
  if (!f) return Error::Invalid("--errors", "writable", "cannot write " + path);
  return Ok();
}

}  // namespace

CLI::App* AddCollectionsImportCommand(CLI::App& collections, CollectionsImportOptions& o) {
  auto* cmd = collections.add_subcommand(
      "import", "Import a portfolio file (CSV or JSON Lines): an idempotent daily upsert; an "
                "interrupted import resumes when run again");
  cmd->add_option("--tenant", o.tenant, "tenant id")->required();
  cmd->add_option("FILE", o.file, "portfolio file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--buckets", o.buckets_file, "delinquency buckets per product (JSON)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--errors", o.errors_file, "write every row error to this CSV file");
  cmd->add_flag("--json", o.json, "print the report as one JSON object");
  return cmd;
}

int RunCollectionsImport(Offline& off, const CollectionsImportOptions& o, std::ostream& out,
                         std::ostream& err) {
  collections::ImportOptions io;
  io.tenant = o.tenant;
  io.file_path = o.file;
  io.actor = off.actor();
  io.chunk_rows = collections::kImportChunkRowsMax;
  if (!o.buckets_file.empty()) {
    std::ifstream f(o.buckets_file);
    std::stringstream text;
    text << f.rdbuf();
    auto scheme = collections::BucketScheme::FromJson(text.str());
    if (!scheme.ok()) return Fail(err, scheme.error());
    io.buckets = std::move(*scheme);
  }
  int64_t last_shown = 0;
  io.on_progress = [&](int64_t rows, int64_t chunks) {
    if (rows - last_shown < 100000) return;
    last_shown = rows;
    err << "progress: " << rows << " rows read, " << chunks << " chunks recorded\n";
  };
  ledger::Writer& writer = off.writer();
  SystemClock clock;
  auto report = collections::RunImport(
      off.db(), [&writer](ledger::Command c, ledger::CommandCallback done) {
        writer.Submit(std::move(c), std::move(done));
      },
      io, clock);
  if (!report.ok()) return Fail(err, report.error());
  if (auto st = off.Checkpoint(o.tenant); !st.ok()) return Fail(err, st.error());
  if (!o.errors_file.empty()) {
    if (auto st = WriteErrorsCsv(off.db(), o.tenant, report->import_id, o.errors_file); !st.ok()) {
      return Fail(err, st.error());
    }
  }
  const auto& r = *report;
  if (o.json) {
    Json errors = Json::array();
    for (const auto& e : r.first_errors) {
      errors.push_back(Json{{"line", e.line}, {"field", e.field}, {"rule", e.rule}, {"message", e.message}});
    }
    out << Json{{"import_id", r.import_id}, {"file_sha256", r.file_sha256},
                {"resumed", r.resumed}, {"rows_read", r.rows_read},
                {"rows_rejected", r.rows_rejected}, {"chunks", r.chunks},
                {"chunks_replayed", r.chunks_replayed}, {"accounts_changed", r.accounts_changed},
                {"roll_forward", r.roll_forward}, {"roll_back", r.roll_back},
                {"ignored_columns", r.ignored_columns}, {"first_errors", errors}}
               .dump()
        << "\n";
    return 0;
  }
  out << "import " << r.import_id << (r.resumed ? " (resumed)" : "") << " of " << o.file
      << " (sha256 " << r.file_sha256 << ")\n"
      << "rows read " << r.rows_read << ", rejected " << r.rows_rejected << "; chunks "
      << r.chunks << " (" << r.chunks_replayed << " recorded by an earlier run); accounts changed "
      << r.accounts_changed << "; roll-forward " << r.roll_forward << ", roll-back "
      << r.roll_back << "\n";
  for (const auto& c : r.ignored_columns) out << "ignored column: " << c << "\n";
  for (const auto& e : r.first_errors) {
    out << "line " << e.line << ": field " << e.field << ", rule " << e.rule << ": " << e.message
        << "\n";
  }
  if (static_cast<size_t>(r.rows_rejected) > r.first_errors.size()) {
    out << "(" << r.rows_rejected - static_cast<int64_t>(r.first_errors.size())
        << " more errors: --errors FILE writes them all)\n";
  }
  return 0;
}

}  // namespace opsbox::app
