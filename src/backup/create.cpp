// CreateBackup: every table read in one snapshot transaction and streamed into a bundle.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "backup/backup.hpp"
#include "backup/internal/bundle_io.hpp"
#include "core/crypto.hpp"
#include "ledger/checkpoint.hpp"

namespace opsbox::backup {
namespace {

Result<std::string> ReadWholeFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::Invalid(std::string(what), "readable",
                          "cannot read key file " + path + " (needed for --include-keys)");
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string SelectAll(const std::string& table, const std::vector<std::string>& columns) {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < columns.size(); ++i) sql += (i ? ", \"" : "\"") + columns[i] + "\"";
  return sql + " FROM \"" + table + "\"";
}

Json RowJson(const store::Row& row) {
  Json a = Json::array();
  for (const auto& v : row.values) {
    if (const auto* n = std::get_if<int64_t>(&v)) {
      a.push_back(*n);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      a.push_back(*s);
    } else {
      a.push_back(nullptr);
    }
  }
  return a;
}

// Each tenant's head event and latest checkpoint, read in the snapshot.
Result<std::vector<TenantHead>> ReadHeads(store::Tx& tx) {
  OPSBOX_ASSIGN_OR_RETURN(
      auto tenants,
      tx.Query("SELECT tenant_id FROM ledger_events UNION SELECT tenant_id FROM "
               "ledger_checkpoints ORDER BY 1"));
  std::vector<TenantHead> out;
  for (const auto& t : tenants) {
    TenantHead h;
    h.tenant_id = t.Text(0);
    const store::Value id = h.tenant_id;
    OPSBOX_ASSIGN_OR_RETURN(
        auto head, tx.Query("SELECT seq, hash FROM ledger_events WHERE tenant_id = ? ORDER BY seq "
                            "DESC LIMIT 1",
                            std::span(&id, 1)));
    if (!head.empty()) {
      h.head_seq = head[0].Int(0);
      h.head_hash = head[0].Text(1);
    }
    OPSBOX_ASSIGN_OR_RETURN(
        auto cp, tx.Query("SELECT " + std::string(ledger::kCheckpointColumns) +
                              " FROM ledger_checkpoints WHERE tenant_id = ? ORDER BY tree_size "
                              "DESC LIMIT 1",
                          std::span(&id, 1)));
    if (!cp.empty()) {
      const ledger::Checkpoint c = ledger::CheckpointFromRow(cp[0]);
      h.checkpoint_tree_size = c.tree_size;
      h.checkpoint_root_hash = c.root_hash;
      h.checkpoint_signed_at_us = c.signed_at.us;
      h.checkpoint_key_id = c.key_id;
      h.checkpoint_public_key = c.public_key;
      h.checkpoint_signature = c.signature;
    }
    out.push_back(std::move(h));
  }
  return out;
}

Status DumpTable(store::Tx& tx, store::Dialect dialect, const std::string& table,
                 detail::BundleWriter& w, Manifest& m, int64_t& rows_total) {
  OPSBOX_ASSIGN_OR_RETURN(auto columns, store::ListColumns(tx, dialect, table));
  const std::string name = std::string(kTablePartPrefix) + table;
  OPSBOX_TRY(w.BeginPart(name));
  int64_t rows = 0;
  std::string line;
  OPSBOX_TRY(tx.QueryEach(SelectAll(table, columns), {}, [&](const store::Row& row) -> Status {
    try {
      line = RowJson(row).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    } catch (const nlohmann::json::exception& e) {
      return Error::Internal("table " + table + ": a value is not valid UTF-8: " + e.what());
    }
    line.push_back('\n');
    ++rows;
    return w.Write(line);
  }));
  OPSBOX_ASSIGN_OR_RETURN(PartEntry e, w.EndPart(name));
  e.rows = rows;
  e.columns = std::move(columns);
  rows_total += rows;
  m.parts.push_back(std::move(e));
  return Ok();
}

Status AddKeys(const BackupOptions& o, detail::BundleWriter& w, Manifest& m) {
  std::string listed;
  for (const auto& k : o.key_files) listed += (listed.empty() ? "" : ", ") + k.path;
  if (!o.include_keys) {
    m.keys_note =
        "keys NOT included: save these files apart from this bundle (without them sealed "
        "personal data cannot be read and checkpoints cannot be signed with the same key): " +
        listed;
    return Ok();
  }
  OPSBOX_TRY(CheckPassphrase(o.passphrase));
  Json files = Json::object();
  for (const auto& k : o.key_files) {
    OPSBOX_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(k.path, k.name));
    files[k.name] = HexEncode(content);
    m.key_files.push_back(k.name);
  }
  const std::string plain = Json{{"files", files}}.dump();
  OPSBOX_ASSIGN_OR_RETURN(std::string sealed, SealWithPassphrase(plain, o.passphrase, kKdfOpsLimit,
                                                                 kKdfMemLimitBytes));
  OPSBOX_TRY(w.BeginPart(kKeysPart));
  OPSBOX_TRY(w.Write(sealed));
  OPSBOX_ASSIGN_OR_RETURN(PartEntry e, w.EndPart(std::string(kKeysPart)));
  m.parts.push_back(std::move(e));
  m.keys_included = true;
  m.kdf_ops_limit = kKdfOpsLimit;
  m.kdf_mem_limit_bytes = kKdfMemLimitBytes;
  m.keys_note = "keys included, sealed with the passphrase (Argon2id, XChaCha20-Poly1305): " +
                listed;
  return Ok();
}

Status WriteBundle(store::Database& db, const BackupOptions& o, detail::BundleWriter& w,
                   BackupResult& result) {
  Manifest& m = result.manifest;
  m.opsbox_version = o.opsbox_version;
  m.created_at_us = o.now_us;
  m.source_backend = db.dialect() == store::Dialect::kSqlite ? "sqlite" : "postgresql";
  OPSBOX_ASSIGN_OR_RETURN(auto conn, db.Connect());
  {
    OPSBOX_ASSIGN_OR_RETURN(auto tx, conn->BeginSnapshot());
    OPSBOX_ASSIGN_OR_RETURN(auto version,
                            tx->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    m.schema_version = version.empty() ? 0 : version[0].Int(0);
    OPSBOX_ASSIGN_OR_RETURN(m.tenants, ReadHeads(*tx));
    OPSBOX_ASSIGN_OR_RETURN(auto tables, store::ListTables(*tx, db.dialect()));
    for (const auto& t : tables) {
      OPSBOX_TRY(DumpTable(*tx, db.dialect(), t, w, m, result.rows));
    }
    OPSBOX_TRY(tx->Commit());
  }
  OPSBOX_TRY(AddKeys(o, w, m));
  OPSBOX_TRY(w.BeginPart(kManifestPart));
  OPSBOX_TRY(w.Write(ManifestToJson(m).dump(1)));
  OPSBOX_TRY(w.EndPart(std::string(kManifestPart)));
  return w.Finish();
}

}  // namespace

Result<BackupResult> CreateBackup(store::Database& db, const std::string& out_path,
                                  const BackupOptions& options) {
  std::error_code ec;
  if (std::filesystem::exists(out_path, ec)) {
    return Error::Invalid("out", "exists", out_path + " exists; a backup never overwrites a file");
  }
  if (options.include_keys) OPSBOX_TRY(CheckPassphrase(options.passphrase));
  const std::string partial = out_path + ".partial";
  std::filesystem::remove(partial, ec);
  BackupResult result;
  Status st = Ok();
  {
    detail::BundleWriter w;
    st = w.Open(partial);
    if (st.ok()) st = WriteBundle(db, options, w, result);
  }
  if (!st.ok()) {
    std::filesystem::remove(partial, ec);
    return std::move(st).error();
  }
  std::filesystem::rename(partial, out_path, ec);
  if (ec) return Error::Internal("rename " + partial + ": " + ec.message());
  result.bundle_bytes = std::filesystem::file_size(out_path, ec);
  return result;
}

}  // namespace opsbox::backup
