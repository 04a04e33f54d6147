// The import runner: file -> chunk commands, with the error report and progress beside the
// ledger (import.hpp). Control flow stays here; deciding a chunk is chunk.cpp's.
#include "collections/import.hpp"

#include <openssl/evp.h>

#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "collections/collections.hpp"
#include "core/assert.hpp"
#include "core/crypto.hpp"
#include "core/time.hpp"

namespace opsbox::collections {
namespace {

constexpr int64_t kProgressEveryChunks = 16;

Result<std::string> FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Invalid("file", "readable", "cannot open " + path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  OPSBOX_ASSERT(ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1);
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) {
      OPSBOX_ASSERT(EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount())) == 1);
    }
  }
  if (in.bad()) return Error::Invalid("file", "readable", "cannot read " + path);
  Hash32 out;
  unsigned int len = 0;
  OPSBOX_ASSERT(EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1 && len == out.size());
  return HexEncode(out);
}

// The unfinished import of this file in this tenant, or a new one.
Result<std::pair<std::string, bool>> StartImport(store::Connection& conn, const ImportOptions& o,
                                                 const std::string& sha, Instant now) {
  const store::Value find[] = {o.tenant, sha};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT import_id FROM collections_imports WHERE "
                                                "tenant_id = ? AND file_sha256 = ? AND status = "
                                                "'running' ORDER BY started_at_us DESC LIMIT 1",
                                                find));
  if (!rows.empty()) return std::pair{rows[0].Text(0), true};
  const std::string id =
      "imp_" + HexEncode(Sha256(o.tenant + "\n" + sha + "\n" + std::to_string(now.us) + "\n" +
                                RandomToken(16)))
                    .substr(0, 26);
  const std::string name = o.file_path.substr(o.file_path.find_last_of('/') + 1);
  const store::Value row[] = {o.tenant, id, sha, name.substr(0, 255), now.us};
  OPSBOX_TRY(conn.Exec("INSERT INTO collections_imports (tenant_id, import_id, file_sha256, "
                       "file_name, status, rows_read, rows_rejected, chunks_done, started_at_us, "
                       "finished_at_us) VALUES (?, ?, ?, ?, 'running', 0, 0, 0, ?, 0)",
                       row));
  return std::pair{id, false};
}

Status WriteErrors(store::Connection& conn, const std::string& tenant, const std::string& import_id,
                   std::vector<RowError>& errors) {
  if (errors.empty()) return Ok();
  std::vector<std::vector<store::Value>> batch;
  batch.reserve(errors.size());
  for (auto& e : errors) {
    batch.push_back({tenant, import_id, static_cast<int64_t>(e.line), e.field, e.rule, e.message});
  }
  OPSBOX_ASSIGN_OR_RETURN(auto tx, conn.Begin());
  OPSBOX_TRY(tx->ExecBatch("INSERT INTO collections_import_errors (tenant_id, import_id, line, "
                           "field, rule, message) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
                           "(tenant_id, import_id, line) DO NOTHING",
                           batch));
  OPSBOX_TRY(tx->Commit());
  errors.clear();
  return Ok();
}

Status WriteProgress(store::Connection& conn, const ImportOptions& o, const ImportReport& r,
                     const char* status, int64_t finished_at_us) {
  const store::Value p[] = {std::string(status), r.rows_read, r.rows_rejected, r.chunks,
                            finished_at_us, o.tenant, r.import_id};
  OPSBOX_TRY(conn.Exec("UPDATE collections_imports SET status = ?, rows_read = ?, "
                       "rows_rejected = ?, chunks_done = ?, finished_at_us = ? WHERE tenant_id = "
                       "? AND import_id = ?",
                       p));
  return Ok();
}

// About the bytes a row takes in a chunk command: its text plus a fixed share for keys and
// numbers.
size_t RowTextBytes(const PortfolioRow& r) {
  size_t n = 400 + r.account_id.size() + r.customer_id.size() + r.product.size() +
             r.bucket.size() + r.branch.size() + r.region.size() + r.zone.size() +
             r.address.size() + r.email.size() + r.name.size();
  for (const auto& p : r.phones) n += p.size() + 4;
  return n;
}

// Chunks in flight: submitted, not yet answered. Answers arrive on the writer's thread.
struct InFlight {
  std::mutex mu;
  std::condition_variable cv;
  size_t pending = 0;
  int64_t answered = 0, replayed = 0, changed = 0, forward = 0, back = 0;
  std::optional<Error> failed;

  void Done(Result<ledger::CommandOutcome> r) {
    std::lock_guard lock(mu);
    --pending;
    ++answered;
    if (!r.ok()) {
      if (!failed) failed = r.error();
    } else {
      if (r->replayed) ++replayed;
      changed += r->result.value("changed", int64_t{0});
      forward += r->result.value("roll_forward", int64_t{0});
      back += r->result.value("roll_back", int64_t{0});
    }
    cv.notify_all();
  }
  // Waits until at most `max` chunks are pending; false once a chunk failed.
  bool WaitBelow(size_t max) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return pending <= max || failed; });
    return !failed;
  }
};

}  // namespace

Result<ImportReport> RunImport(store::Database& db, const ChunkSubmitter& submit,
                               const ImportOptions& o, Clock& clock) {
  OPSBOX_ASSERT(o.chunk_rows >= 1 && o.chunk_rows <= kImportChunkRowsMax);
  OPSBOX_ASSERT(o.chunks_in_flight_max >= 1);
  ImportReport report;
  OPSBOX_ASSIGN_OR_RETURN(report.file_sha256, FileSha256(o.file_path));
  OPSBOX_ASSIGN_OR_RETURN(auto conn, db.Connect());
  OPSBOX_ASSIGN_OR_RETURN(auto started, StartImport(*conn, o, report.file_sha256, clock.Now()));
  std::tie(report.import_id, report.resumed) = started;

  std::ifstream in(o.file_path, std::ios::binary);
  if (!in) return Error::Invalid("file", "readable", "cannot open " + o.file_path);
  PortfolioReader reader(in, o.buckets);
  InFlight flight;
  std::vector<RowError> errors;
  Json rows = Json::array();
  size_t chunk_bytes = 0;
  auto flush = [&]() -> bool {
    if (rows.empty()) return true;
    if (!flight.WaitBelow(o.chunks_in_flight_max - 1)) return false;
    const int64_t index = report.chunks++;
    {
      std::lock_guard lock(flight.mu);
      ++flight.pending;
    }
    ledger::Command cmd{o.tenant, report.import_id + "/" + std::to_string(index),
                        std::string(kImportPortfolioChunk), o.actor,
                        Json{{"import_id", report.import_id},
                             {"chunk_index", index},
                             {"rows", std::move(rows)}}};
    rows = Json::array();
    chunk_bytes = 0;
    if (index % kProgressEveryChunks == 0) {
      // Progress for anyone watching (not business state); a failure here is not the import's.
      (void)WriteProgress(*conn, o, report, "running", 0);
    }
    submit(std::move(cmd), [&flight](Result<ledger::CommandOutcome> r) { flight.Done(std::move(r)); });
    if (o.on_progress) o.on_progress(report.rows_read, flight.answered);
    return true;
  };
  Status io = Ok();
  while (auto item = reader.Next()) {
    ++report.rows_read;
    if (item->error) {
      ++report.rows_rejected;
      if (report.first_errors.size() < kImportReportErrorsMax) report.first_errors.push_back(*item->error);
      errors.push_back(std::move(*item->error));
      if (errors.size() >= kImportErrorsPerWriteMax) io = WriteErrors(*conn, o.tenant, report.import_id, errors);
    } else {
      chunk_bytes += RowTextBytes(*item->row);
      rows.push_back(ChunkRowToJson(*item->row));
      if ((rows.size() >= o.chunk_rows || chunk_bytes >= kImportChunkBytesMax) && !flush()) break;
    }
    if (!io.ok()) break;
  }
  if (io.ok() && !flight.failed) flush();
  flight.WaitBelow(0);
  {
    std::unique_lock lock(flight.mu);
    flight.cv.wait(lock, [&] { return flight.pending == 0; });
  }
  report.ignored_columns = reader.IgnoredColumns();
  report.chunks_replayed = flight.replayed;
  report.accounts_changed = flight.changed;
  report.roll_forward = flight.forward;
  report.roll_back = flight.back;
  if (io.ok()) io = WriteErrors(*conn, o.tenant, report.import_id, errors);
  if (!io.ok()) return std::move(io).error();
  if (flight.failed) {
    (void)WriteProgress(*conn, o, report, "running", 0);
    return *flight.failed;
  }
  if (reader.Fatal()) {
    (void)WriteProgress(*conn, o, report, "failed", clock.Now().us);
    return *reader.Fatal();
  }
  OPSBOX_TRY(WriteProgress(*conn, o, report, "completed", clock.Now().us));
  return report;
}

Result<std::vector<RowError>> ImportErrors(store::Connection& conn, std::string_view tenant,
                                           std::string_view import_id, int64_t after_line,
                                           size_t limit) {
  const store::Value p[] = {std::string(tenant), std::string(import_id), after_line,
                            static_cast<int64_t>(limit)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT line, field, rule, message FROM "
                                                "collections_import_errors WHERE tenant_id = ? "
                                                "AND import_id = ? AND line > ? ORDER BY line "
                                                "LIMIT ?",
                                                p));
  std::vector<RowError> out;
  for (const auto& r : rows) {
    out.push_back(RowError{static_cast<size_t>(r.Int(0)), r.Text(1), r.Text(2), r.Text(3)});
  }
  return out;
}

}  // namespace opsbox::collections
