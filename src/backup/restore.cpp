// Restore: load a checked bundle into an empty database, then prove it with ledger verify and
// the manifest's heads and checkpoints.
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "backup/backup.hpp"
#include "core/crypto.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/verify.hpp"

namespace opsbox::backup {
namespace {

// Streams one part's lines to `fn`.
Status ForEachLine(const std::string& path, const OpenedBundle::Span& part,
                   const std::function<Status(std::string_view)>& fn) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Error::Invalid("bundle", "readable", "cannot open " + path);
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  if (fseeko(f, static_cast<off_t>(part.offset), SEEK_SET) != 0) {
    return Error::Internal("seek in " + path);
  }
  std::vector<char> buf(1 << 20);
  std::string pending;
  uint64_t left = part.bytes;
  while (left > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    if (std::fread(buf.data(), 1, n, f) != n) {
      return Error::Invalid("bundle", "frame", "part " + part.name + " is truncated");
    }
    left -= n;
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] != '\n') continue;
      if (pending.empty()) {
        OPSBOX_TRY(fn(std::string_view(buf.data() + start, i - start)));
      } else {
        pending.append(buf.data() + start, i - start);
        OPSBOX_TRY(fn(pending));
        pending.clear();
      }
      start = i + 1;
    }
    pending.append(buf.data() + start, n - start);
    if (pending.size() > kRowLineBytesMax) {
      return Error::Invalid("bundle", "row_bytes_max", "part " + part.name + ": a row is too long");
    }
  }
  if (!pending.empty()) {
    return Error::Invalid("bundle", "frame", "part " + part.name + " does not end with a newline");
  }
  return Ok();
}

Result<std::string> ReadPart(const std::string& path, const OpenedBundle::Span& part) {
  if (part.bytes > kKeysPartBytesMax) {
    return Error::Invalid("bundle", "part_bytes_max", "part " + part.name + " is too large");
  }
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(part.offset));
  std::string out(part.bytes, '\0');
  if (!in.read(out.data(), static_cast<std::streamsize>(out.size()))) {
    return Error::Invalid("bundle", "frame", "part " + part.name + " is truncated");
  }
  return out;
}

Result<store::Value> ToValue(const Json& v, const std::string& part) {
  if (v.is_null()) return store::Null();
  if (v.is_number_integer()) return store::Value(v.get<int64_t>());
  if (v.is_string()) return store::Value(v.get<std::string>());
  return Error::Invalid("bundle", "row_value", "part " + part + ": a value is not null, an integer or a string");
}

// Inserts one table part's rows, kRestoreBatchRows per ExecBatch.
Status LoadTable(store::Tx& tx, const OpenedBundle& b, const OpenedBundle::Span& span,
                 const PartEntry& entry, int64_t& rows_total) {
  const std::string table = span.name.substr(kTablePartPrefix.size());
  std::string sql = "INSERT INTO \"" + table + "\" (";
  for (size_t i = 0; i < entry.columns.size(); ++i) {
    sql += (i ? ", \"" : "\"") + entry.columns[i] + "\"";
  }
  sql += ") VALUES (";
  for (size_t i = 0; i < entry.columns.size(); ++i) sql += i ? ", ?" : "?";
  sql += ")";
  std::vector<std::vector<store::Value>> batch;
  batch.reserve(kRestoreBatchRows);
  int64_t rows = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Ok();
    OPSBOX_TRY(tx.ExecBatch(sql, batch));
    batch.clear();
    return Ok();
  };
  OPSBOX_TRY(ForEachLine(b.path, span, [&](std::string_view line) -> Status {
    OPSBOX_ASSIGN_OR_RETURN(Json row, ParseJson(line, span.name));
    if (!row.is_array() || row.size() != entry.columns.size()) {
      return Error::Invalid("bundle", "row_shape",
                            "part " + span.name + ": a row does not have " +
                                std::to_string(entry.columns.size()) + " values");
    }
    std::vector<store::Value> values;
    values.reserve(row.size());
    for (const auto& v : row) {
      OPSBOX_ASSIGN_OR_RETURN(auto value, ToValue(v, span.name));
      values.push_back(std::move(value));
    }
    batch.push_back(std::move(values));
    ++rows;
    if (batch.size() >= kRestoreBatchRows) return flush();
    return Ok();
  }));
  OPSBOX_TRY(flush());
  if (rows != entry.rows) {
    return Error::Invalid("bundle", "row_count",
                          "part " + span.name + " holds " + std::to_string(rows) +
                              " rows but the manifest says " + std::to_string(entry.rows));
  }
  rows_total += rows;
  return Ok();
}

// The target's tables must be the bundle's, with the same columns (same schema version).
Status CheckSchemaMatches(store::Tx& tx, store::Dialect d, const Manifest& m) {
  OPSBOX_ASSIGN_OR_RETURN(auto tables, store::ListTables(tx, d));
  std::set<std::string> have(tables.begin(), tables.end());
  for (const auto& p : m.parts) {
    if (p.name.rfind(kTablePartPrefix, 0) != 0) continue;
    const std::string t = p.name.substr(kTablePartPrefix.size());
    if (!have.count(t)) {
      return Error::Invalid("bundle", "schema",
                            "table " + t + " of the bundle does not exist in the target at schema "
                            "version " + std::to_string(m.schema_version));
    }
    OPSBOX_ASSIGN_OR_RETURN(auto cols, store::ListColumns(tx, d, t));
    std::set<std::string> want(p.columns.begin(), p.columns.end());
    if (std::set<std::string>(cols.begin(), cols.end()) != want) {
      return Error::Invalid("bundle", "schema",
                            "table " + t + ": the bundle's columns differ from the target's");
    }
  }
  return Ok();
}

Result<bool> HasRows(store::Tx& tx, store::Dialect d) {
  OPSBOX_ASSIGN_OR_RETURN(auto tables, store::ListTables(tx, d));
  for (const auto& t : tables) {
    OPSBOX_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT 1 FROM \"" + t + "\" LIMIT 1"));
    if (!r.empty()) return true;
  }
  return false;
}

Error TargetNotEmpty() {
  return Error::Conflict("target_not_empty",
                         "the target database holds data; restore only into an empty database "
                         "(or pass --replace to empty it first, in the same transaction)");
}

Status LoadAll(store::Database& target, const OpenedBundle& b, bool replace, int64_t& rows) {
  OPSBOX_ASSIGN_OR_RETURN(auto conn, target.Connect());
  OPSBOX_ASSIGN_OR_RETURN(auto tx, conn->Begin());
  const store::Dialect d = target.dialect();
  OPSBOX_ASSIGN_OR_RETURN(bool has_rows, HasRows(*tx, d));
  if (has_rows && !replace) return TargetNotEmpty();
  OPSBOX_TRY(CheckSchemaMatches(*tx, d, b.manifest));
  if (has_rows) {
    OPSBOX_ASSIGN_OR_RETURN(auto tables, store::ListTables(*tx, d));
    for (const auto& t : tables) OPSBOX_TRY(tx->Exec("DELETE FROM \"" + t + "\""));
  }
  for (size_t i = 0; i < b.parts.size(); ++i) {
    if (b.parts[i].name.rfind(kTablePartPrefix, 0) != 0) continue;
    OPSBOX_TRY(LoadTable(*tx, b, b.parts[i], b.manifest.parts[i], rows));
  }
  return tx->Commit();
}

// Decrypts keys.sealed into {name: bytes}.
Result<std::map<std::string, std::string>> OpenKeys(const OpenedBundle& b,
                                                   const std::string& passphrase) {
  for (const auto& p : b.parts) {
    if (p.name != kKeysPart) continue;
    OPSBOX_ASSIGN_OR_RETURN(std::string sealed, ReadPart(b.path, p));
    OPSBOX_ASSIGN_OR_RETURN(std::string plain,
                            OpenWithPassphrase(sealed, passphrase, b.manifest.kdf_ops_limit,
                                               b.manifest.kdf_mem_limit_bytes));
    OPSBOX_ASSIGN_OR_RETURN(Json j, ParseJson(plain, "keys"));
    std::map<std::string, std::string> out;
    if (!j.contains("files") || !j["files"].is_object()) {
      return Error::Invalid("keys", "format", "sealed keys hold no files");
    }
    for (const auto& [name, hex] : j["files"].items()) {
      if (!hex.is_string()) return Error::Invalid("keys", "format", "key file " + name);
      OPSBOX_ASSIGN_OR_RETURN(out[name], HexDecode(hex.get<std::string>(), "keys." + name));
    }
    return out;
  }
  return Error::Invalid("passphrase", "no_keys",
                        "a passphrase was given but the bundle holds no keys (made without "
                        "--include-keys): restore the key files you saved apart");
}

Status CheckKeyTargets(const std::map<std::string, std::string>& keys,
                       const RestoreOptions& o) {
  for (const auto& k : o.key_files) {
    auto it = keys.find(k.name);
    if (it == keys.end()) continue;
    std::ifstream in(k.path, std::ios::binary);
    if (!in) continue;
    std::ostringstream s;
    s << in.rdbuf();
    if (s.str() != it->second && !o.replace) {
      return Error::Conflict("key_file_exists",
                             k.path + " exists with other keys; move it away (or pass --replace)");
    }
  }
  return Ok();
}

Result<std::vector<std::string>> WriteKeys(const std::map<std::string, std::string>& keys,
                                          const RestoreOptions& o) {
  std::vector<std::string> written;
  for (const auto& k : o.key_files) {
    auto it = keys.find(k.name);
    if (it == keys.end()) continue;
    std::error_code ec;
    const auto parent = std::filesystem::path(k.path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    const std::string tmp = k.path + ".restoring";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(it->second.data(), static_cast<std::streamsize>(it->second.size()));
      if (!out) return Error::Internal("cannot write " + tmp);
    }
    ::chmod(tmp.c_str(), 0600);
    std::filesystem::rename(tmp, k.path, ec);
    if (ec) return Error::Internal("rename " + tmp + ": " + ec.message());
    written.push_back(k.path);
  }
  return written;
}

Result<TenantCheck> CheckTenant(store::Connection& conn, const TenantHead& h,
                                const std::vector<std::string>& trusted) {
  TenantCheck c;
  c.tenant_id = h.tenant_id;
  OPSBOX_ASSIGN_OR_RETURN(auto report, ledger::VerifyTenant(conn, h.tenant_id, trusted));
  c.events_checked = report.events_checked;
  c.checkpoints_checked = report.checkpoints_checked;
  if (!report.ok) {
    c.reason = "ledger verify failed at seq " + std::to_string(report.first_bad_seq) + ": " +
               report.reason;
    return c;
  }
  const store::Value id = h.tenant_id;
  OPSBOX_ASSIGN_OR_RETURN(auto head, conn.Query("SELECT seq, hash FROM ledger_events WHERE "
                                                "tenant_id = ? ORDER BY seq DESC LIMIT 1",
                                                std::span(&id, 1)));
  const int64_t seq = head.empty() ? 0 : head[0].Int(0);
  const std::string hash = head.empty() ? "" : head[0].Text(1);
  if (seq != h.head_seq || hash != h.head_hash) {
    c.reason = "head is seq " + std::to_string(seq) + " but the manifest says " +
               std::to_string(h.head_seq);
    return c;
  }
  OPSBOX_ASSIGN_OR_RETURN(
      auto cp, conn.Query("SELECT " + std::string(ledger::kCheckpointColumns) +
                              " FROM ledger_checkpoints WHERE tenant_id = ? ORDER BY tree_size "
                              "DESC LIMIT 1",
                          std::span(&id, 1)));
  const int64_t size = cp.empty() ? 0 : ledger::CheckpointFromRow(cp[0]).tree_size;
  const std::string sig = cp.empty() ? "" : ledger::CheckpointFromRow(cp[0]).signature;
  if (size != h.checkpoint_tree_size || sig != h.checkpoint_signature) {
    c.reason = "latest checkpoint covers " + std::to_string(size) +
               " events but the manifest's covers " + std::to_string(h.checkpoint_tree_size);
    return c;
  }
  c.ok = true;
  return c;
}

}  // namespace

Json RestoreReport::ToJson() const {
  Json tenants_json = Json::array();
  for (const auto& t : tenants) {
    tenants_json.push_back({{"tenant_id", t.tenant_id},
                            {"ok", t.ok},
                            {"events_checked", t.events_checked},
                            {"checkpoints_checked", t.checkpoints_checked},
                            {"reason", t.reason}});
  }
  return Json{{"ok", ok},
              {"rows", rows},
              {"schema_version", manifest.schema_version},
              {"source_backend", manifest.source_backend},
              {"created_at_us", manifest.created_at_us},
              {"tenants", std::move(tenants_json)},
              {"keys_included", manifest.keys_included},
              {"keys_written", keys_written},
              {"keys_note", manifest.keys_note}};
}

Result<RestoreReport> Restore(const OpenedBundle& b, store::Database& target,
                              const RestoreOptions& o) {
  const Manifest& m = b.manifest;
  const int64_t known = store::Migrations().back().version;
  if (m.schema_version > known) {
    return Error::Conflict("schema_newer",
                           "the bundle is at schema version " + std::to_string(m.schema_version) +
                               ", newer than this binary's " + std::to_string(known) +
                               ": restore it with the release that made it");
  }
  // Refusals first, before the target changes: a non-empty target, a wrong passphrase.
  {
    OPSBOX_ASSIGN_OR_RETURN(auto conn, target.Connect());
    OPSBOX_ASSIGN_OR_RETURN(auto tx, conn->Begin());
    OPSBOX_ASSIGN_OR_RETURN(bool has_rows, HasRows(*tx, target.dialect()));
    if (has_rows && !o.replace) return TargetNotEmpty();
  }
  std::map<std::string, std::string> keys;
  if (!o.passphrase.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(keys, OpenKeys(b, o.passphrase));
    OPSBOX_TRY(CheckKeyTargets(keys, o));
  }
  OPSBOX_TRY(target.MigrateWith(store::Migrations(), m.schema_version));
  RestoreReport report;
  report.manifest = m;
  OPSBOX_TRY(LoadAll(target, b, o.replace, report.rows));
  OPSBOX_TRY(target.Migrate());
  OPSBOX_ASSIGN_OR_RETURN(report.keys_written, WriteKeys(keys, o));
  // Every checkpoint's signature is checked against the key it records (keys may have been
  // rotated since older checkpoints); the latest one must then equal the manifest's.
  const std::vector<std::string> trusted;
  OPSBOX_ASSIGN_OR_RETURN(auto conn, target.Connect());
  OPSBOX_ASSIGN_OR_RETURN(auto restored_tenants, ledger::ListTenants(*conn));
  report.ok = restored_tenants.size() == m.tenants.size();
  for (const auto& h : m.tenants) {
    OPSBOX_ASSIGN_OR_RETURN(auto c, CheckTenant(*conn, h, trusted));
    report.ok = report.ok && c.ok;
    report.tenants.push_back(std::move(c));
  }
  return report;
}

}  // namespace opsbox::backup
