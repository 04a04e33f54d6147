// The portfolio import runner (issue #11 "Portfolio"; docs/decisions/0017-collections-import-chunked-commands.md):
// streams a CSV or JSON Lines file through PortfolioReader, submits its valid rows as
// import_portfolio_chunk commands of at most kImportChunkRowsMax rows, and records the per-row
// error report and the progress. `opsbox collections import` is a thin wrapper around it.
//
// Idempotence and resume: a chunk's command id is "<import_id>/<chunk_index>". An import that
// did not finish (status "running" in collections_imports) is resumed by the next run over
// the same file (same SHA-256) in the same tenant: it gets the same import_id, so chunks the
// ledger already recorded answer as replayed and append nothing; every row lands once. A
// finished file imported again gets a new import_id, and its chunks, decided against the
// stored accounts, append nothing because nothing changed.
//
// Errors: a row that fails a check is written to collections_import_errors (line, field, rule,
// message) and skipped; the import goes on. A chunk the writer refuses stops the import (its
// status stays "running", so the next run resumes it) and is returned.
//
// Thread safety: one RunImport per call; `submit` callbacks may arrive on another thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "collections/portfolio.hpp"
#include "core/result.hpp"
#include "core/clock_fwd.hpp"
#include "core/time.hpp"
#include "ledger/writer.hpp"
#include "store/store.hpp"

namespace opsbox::collections {

// Chunks submitted and not yet answered at most: enough for the writer to group-commit
// several chunks in one transaction, few enough to bound memory (about 0.6 MiB a chunk).
inline constexpr size_t kImportChunksInFlightMax = 8;
// A chunk is also cut when its rows' text reaches this many bytes, so a file of long fields
// stays far below the writer's command and event limits (8 MiB each; sealing grows the
// contact by about a third).
inline constexpr size_t kImportChunkBytesMax = size_t{4} << 20;
// Row errors kept in ImportReport::first_errors (all of them are in the table).
inline constexpr size_t kImportReportErrorsMax = 20;
// Row errors written per transaction.
inline constexpr size_t kImportErrorsPerWriteMax = 1000;

using ChunkSubmitter = std::function<void(ledger::Command, ledger::CommandCallback)>;

struct ImportOptions {
  std::string tenant;
  std::string file_path;
  std::string actor = "system";
  BucketScheme buckets = BucketScheme::Default();
  size_t chunk_rows = 1000;  // 1..kImportChunkRowsMax (collections.hpp)
  size_t chunks_in_flight_max = kImportChunksInFlightMax;
  // Called on the caller's thread after every answered chunk (progress bars).
  std::function<void(int64_t rows_read, int64_t chunks_done)> on_progress;
};

struct ImportReport {
  std::string import_id;
  std::string file_sha256;
  bool resumed = false;         // an unfinished import of this file was continued
  int64_t rows_read = 0;        // data rows read (valid and rejected)
  int64_t rows_rejected = 0;
  int64_t chunks = 0;
  int64_t chunks_replayed = 0;  // recorded by an earlier, interrupted run
  int64_t accounts_changed = 0; // accounts this run upserted
  int64_t roll_forward = 0, roll_back = 0;
  std::vector<std::string> ignored_columns;
  std::vector<RowError> first_errors;  // at most kImportReportErrorsMax
};

// Runs the import; `db` is used through connections of its own for the progress and the
// error report (not business state), `submit` takes the chunk commands (Writer::Submit).
// Errors: the file cannot be read (field "file", rule "readable"), a file-level format
// problem (PortfolioReader::Fatal), a refused chunk.
Result<ImportReport> RunImport(store::Database& db, const ChunkSubmitter& submit,
                               const ImportOptions& options, Clock& clock);

// The import's row errors in line order, after `after_line`, at most `limit`.
Result<std::vector<RowError>> ImportErrors(store::Connection& conn, std::string_view tenant,
                                           std::string_view import_id, int64_t after_line,
                                           size_t limit);

}  // namespace opsbox::collections
