#include "ledger/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/assert.hpp"
#include "ledger/event.hpp"
#include "ledger/reader.hpp"
#include "ledger/verify.hpp"

namespace opsbox::ledger {
namespace {

// Tenants whose compact range is kept in memory at most; beyond it one is dropped and rebuilt
// from the store when next needed.
constexpr size_t kCachedTenantsMax = 4096;
// The key file holds 64 hex digits and a newline; anything much longer is not a key file.
constexpr std::streamsize kKeyFileBytesMax = 256;

std::string_view AsText(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Error KeyFileError(const std::string& path, const std::string& what) {
  return Error{ErrorCode::kInternal, "checkpoint_key_file", "key_file",
               "checkpoint signing key file " + path + ": " + what};
}

Result<SigningKey> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return KeyFileError(path, "cannot be read: " + std::string(std::strerror(errno)));
  std::string text(kKeyFileBytesMax + 1, '\0');
  in.read(text.data(), kKeyFileBytesMax + 1);
  text.resize(static_cast<size_t>(in.gcount()));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.size() != 64) {
    return KeyFileError(path, "expected one line of 64 hex digits (a 32-byte Ed25519 seed)");
  }
  auto seed = HexDecode(text, "checkpoint_key_file");
  if (!seed.ok()) return KeyFileError(path, "the seed is not hexadecimal");
  auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(seed->data()), 32);
  return SigningKeyFromSeed(bytes);
}

Result<SigningKey> CreateKeyFile(const std::string& path) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return KeyFileError(path, "cannot create its directory: " + ec.message());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) return ReadKeyFile(path);  // another starter won the race
  if (fd < 0) return KeyFileError(path, "cannot be created: " + std::string(std::strerror(errno)));
  SigningKey key = GenerateSigningKey();
  std::string line = HexEncode(std::span<const uint8_t>(key.secret.data(), 32)) + "\n";
  bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                 ::fsync(fd) == 0;
  int saved_errno = errno;
  ::close(fd);
  if (!written) {
    ::unlink(path.c_str());
    return KeyFileError(path, "cannot be written: " + std::string(std::strerror(saved_errno)));
  }
  return key;
}

Error Inconsistent(const std::string& tenant, const std::string& what) {
  return Error::Conflict(
      "ledger_inconsistent",
      "tenant " + tenant + ": " + what + "; refusing to sign a checkpoint, run `opsbox verify`");
}

}  // namespace

Json Checkpoint::ToJson() const {
  return Json{{"tenant_id", tenant_id}, {"tree_size", tree_size},
              {"root_hash", root_hash}, {"signed_at", FormatRfc3339(signed_at)},
              {"key_id", key_id},       {"public_key", public_key},
              {"signature", signature}, {"signed_message", CheckpointMessage(*this)}};
}

std::string CheckpointMessage(const Checkpoint& c) {
  return "opsbox-checkpoint-v1\n" + c.tenant_id + "\n" + std::to_string(c.tree_size) + "\n" +
         c.root_hash + "\n" + std::to_string(c.signed_at.us) + "\n";
}

std::string CheckpointKeyId(std::span<const uint8_t> public_key32) {
  return HexEncode(Sha256(AsText(public_key32))).substr(0, 16);
}

bool CheckpointSignatureValid(const Checkpoint& c) {
  auto pk = HexDecode(c.public_key, "public_key");
  auto sig = HexDecode(c.signature, "signature");
  if (!pk.ok() || !sig.ok() || pk->size() != 32 || sig->size() != 64) return false;
  auto pk_bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(pk->data()), 32);
  auto sig_bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(sig->data()), 64);
  return CheckpointKeyId(pk_bytes) == c.key_id &&
         VerifySignature(pk_bytes, CheckpointMessage(c), sig_bytes);
}

Result<SigningKey> LoadOrCreateSigningKey(const std::string& path) {
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);
  if (ec) return KeyFileError(path, "cannot be inspected: " + ec.message());
  return exists ? ReadKeyFile(path) : CreateKeyFile(path);
}

Checkpoint CheckpointFromRow(const store::Row& row) {
  Checkpoint c;
  c.tenant_id = row.Text(0);
  c.tree_size = row.Int(1);
  c.root_hash = row.Text(2);
  c.signed_at = Instant{row.Int(3)};
  c.key_id = row.Text(4);
  c.public_key = row.Text(5);
  c.signature = row.Text(6);
  return c;
}

Checkpointer::Checkpointer(store::Database& db, SigningKey key, Clock& clock,
                           int64_t interval_events)
    : db_(db),
      key_(key),
      key_id_(CheckpointKeyId(key.public_key)),
      clock_(clock),
      interval_events_(interval_events) {
  OPSBOX_ASSERT(interval_events_ >= 1);
}

std::string Checkpointer::public_key_hex() const { return HexEncode(key_.public_key); }

Status Checkpointer::Extend(store::Connection& conn, const std::string& tenant, TenantRange& t,
                            const std::optional<Checkpoint>& check_at) {
  return ScanEventHashes(
      conn, tenant, static_cast<int64_t>(t.range.size()), std::numeric_limits<int64_t>::max(),
      [&](int64_t seq, const std::string& prev_hash, const std::string& hash) -> Status {
        auto expected = static_cast<int64_t>(t.range.size()) + 1;
        if (seq != expected) {
          return Inconsistent(tenant, "event " + std::to_string(expected) + " is missing");
        }
        if (prev_hash != t.last_hash) {
          return Inconsistent(
              tenant, "event " + std::to_string(seq) + " does not link to the previous event");
        }
        auto leaf = HashFromHex(hash, "hash");
        if (!leaf.ok()) {
          return Inconsistent(tenant, "event " + std::to_string(seq) + " has a malformed hash");
        }
        t.range.Append(*leaf);
        t.last_hash = hash;
        if (check_at && check_at->tree_size == seq &&
            HexEncode(t.range.Root()) != check_at->root_hash) {
          return Inconsistent(tenant,
                              "events 1.." + std::to_string(seq) +
                                  " do not hash to the root of the checkpoint of that size");
        }
        return Ok();
      });
}

Result<Checkpointer::TenantRange*> Checkpointer::RangeFor(store::Connection& conn,
                                                          const std::string& tenant,
                                                          const std::optional<Checkpoint>& latest) {
  auto it = ranges_.find(tenant);
  if (it == ranges_.end()) {
    if (ranges_.size() >= kCachedTenantsMax) ranges_.erase(ranges_.begin());
    it = ranges_.emplace(tenant, TenantRange{CompactRange(), std::string(kGenesisHash)}).first;
  }
  TenantRange& t = it->second;
  // Check the latest checkpoint whenever this pass will reach its size (always on first build).
  std::optional<Checkpoint> check_at;
  if (latest && static_cast<uint64_t>(latest->tree_size) > t.range.size()) check_at = latest;
  Status extended = Extend(conn, tenant, t, check_at);
  if (!extended.ok()) {
    ranges_.erase(it);  // rebuild from scratch next time
    return std::move(extended).error();
  }
  return &t;
}

Checkpoint Checkpointer::Sign(const std::string& tenant, const TenantRange& t) {
  Checkpoint c;
  c.tenant_id = tenant;
  c.tree_size = static_cast<int64_t>(t.range.size());
  c.root_hash = HexEncode(t.range.Root());
  c.signed_at = clock_.Now();
  c.key_id = key_id_;
  c.public_key = HexEncode(key_.public_key);
  c.signature = HexEncode(opsbox::Sign(key_, CheckpointMessage(c)));
  return c;
}

Result<std::optional<Checkpoint>> Checkpointer::CheckpointTenant(store::Connection& conn,
                                                                 const std::string& tenant,
                                                                 bool force) {
  std::lock_guard lock(mu_);
  OPSBOX_ASSIGN_OR_RETURN(std::optional<Checkpoint> latest, LatestCheckpoint(conn, tenant));
  OPSBOX_ASSIGN_OR_RETURN(TenantRange * t, RangeFor(conn, tenant, latest));
  const auto size = static_cast<int64_t>(t->range.size());
  const int64_t covered = latest ? latest->tree_size : 0;
  if (size < covered) {
    ranges_.erase(tenant);
    return Inconsistent(tenant, "the ledger holds " + std::to_string(size) +
                                    " events but a checkpoint covers " + std::to_string(covered));
  }
  const int64_t fresh = size - covered;
  if (fresh == 0 || (!force && fresh < interval_events_)) return std::optional<Checkpoint>();

  Checkpoint c = Sign(tenant, *t);
  std::string sql = "INSERT INTO ledger_checkpoints (";
  sql += kCheckpointColumns;
  sql += ") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, tree_size) DO NOTHING";
  std::vector<store::Value> params = {c.tenant_id, c.tree_size,  c.root_hash, c.signed_at.us,
                                      c.key_id,    c.public_key, c.signature};
  OPSBOX_ASSIGN_OR_RETURN(int64_t inserted, conn.Exec(sql, params));
  // Zero rows: another signer stored a checkpoint of this size first; nothing new from us.
  if (inserted == 0) return std::optional<Checkpoint>();
  return std::optional<Checkpoint>(std::move(c));
}

Status Checkpointer::CheckpointAll() {
  OPSBOX_ASSIGN_OR_RETURN(std::unique_ptr<store::Connection> conn, db_.Connect());
  OPSBOX_ASSIGN_OR_RETURN(std::vector<std::string> tenants, ListTenants(*conn));
  std::optional<Error> first_failure;
  for (const std::string& tenant : tenants) {
    auto r = CheckpointTenant(*conn, tenant);
    if (!r.ok() && !first_failure) first_failure = std::move(r).error();
  }
  if (first_failure) return std::move(*first_failure);
  return Ok();
}

}  // namespace opsbox::ledger
