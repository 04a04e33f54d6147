// Backup, restore and the backup bundle (issue #18).
//
// A backup is one file, the *bundle*, holding a logical copy of every opsbox table read in one
// consistent snapshot through store.hpp (Connection::BeginSnapshot: a WAL read transaction on
// SQLite, REPEATABLE READ on PostgreSQL), so it is taken while the server runs and writes, never
// blocks the ledger writer, and restores into either backend (docs/decisions/0009-logical-backup-bundle.md
// says why logical rather than a file copy or pg_dump).
//
// Bundle layout (docs/operations.md "The bundle"): the magic line kBundleMagic, then parts, each
//   u16 name length (big-endian) | name (UTF-8) | u64 data length (big-endian) | data |
//   32-byte SHA-256 of data
// Parts, in order: "table/<name>" for every table (data: one JSON array per row and line, the
// columns in the order the manifest lists them; values are null, integers or strings),
// "keys.sealed" when keys were included, and last "manifest.json" (Manifest below), which lists
// every other part with its size and SHA-256. A reader checks each part against its own hash
// and against the manifest, so one changed byte anywhere is refused naming the part.
//
// Keys (the tenant key file that unwraps sealed personal data, and the ledger signing key) go
// into the bundle only when asked, sealed with XChaCha20-Poly1305 under a key derived from a
// passphrase with Argon2id (libsodium crypto_pwhash); the KDF limits are recorded in the
// manifest. Without them the manifest says the keys must be saved apart.
//
// Thread safety: free functions; each call uses its own connections. BackupScheduler is
// thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace opsbox::backup {

inline constexpr std::string_view kBundleMagic = "opsbox-backup-bundle v1\n";
inline constexpr int64_t kBundleFormatVersion = 1;
inline constexpr std::string_view kManifestPart = "manifest.json";
inline constexpr std::string_view kKeysPart = "keys.sealed";
inline constexpr std::string_view kTablePartPrefix = "table/";

// Limits on what a reader accepts (a bundle is outside input once it left the server).
inline constexpr size_t kPartNameBytesMax = 200;
inline constexpr size_t kPartsMax = 4096;
inline constexpr uint64_t kManifestBytesMax = 16ull << 20;
inline constexpr uint64_t kKeysPartBytesMax = 16ull << 20;
inline constexpr size_t kRowLineBytesMax = 64u << 20;  // one table row as a JSON line
// Rows inserted per ExecBatch during a restore.
inline constexpr size_t kRestoreBatchRows = 1000;
// Passphrase length, bytes.
inline constexpr size_t kPassphraseBytesMin = 12;
inline constexpr size_t kPassphraseBytesMax = 1024;
// Argon2id limits for sealing keys (libsodium's "moderate" operations with 64 MiB of memory).
inline constexpr uint64_t kKdfOpsLimit = 3;
inline constexpr uint64_t kKdfMemLimitBytes = 64ull << 20;
// Limits accepted when opening (a bundle cannot make restore allocate more than this).
inline constexpr uint64_t kKdfOpsLimitMax = 16;
inline constexpr uint64_t kKdfMemLimitBytesMax = 1ull << 30;

// A tenant's ledger at the snapshot: its head event and its latest signed checkpoint.
struct TenantHead {
  std::string tenant_id;
  int64_t head_seq = 0;           // 0 when the tenant has checkpoints but no events
  std::string head_hash;          // hex hash of event head_seq ("" when none)
  int64_t checkpoint_tree_size = 0;  // 0: no checkpoint yet
  std::string checkpoint_root_hash;
  int64_t checkpoint_signed_at_us = 0;
  std::string checkpoint_key_id;
  std::string checkpoint_public_key;
  std::string checkpoint_signature;
};

struct PartEntry {
  std::string name;
  uint64_t bytes = 0;
  std::string sha256_hex;
  int64_t rows = 0;                  // table parts
  std::vector<std::string> columns;  // table parts, in the order of each row's values
};

struct Manifest {
  int64_t format_version = kBundleFormatVersion;
  std::string opsbox_version;
  int64_t schema_version = 0;
  int64_t created_at_us = 0;
  std::string source_backend;  // "sqlite" or "postgresql"
  std::vector<TenantHead> tenants;
  std::vector<PartEntry> parts;  // every part but the manifest, in bundle order
  bool keys_included = false;
  std::vector<std::string> key_files;  // names of the sealed files, when included
  uint64_t kdf_ops_limit = 0;
  uint64_t kdf_mem_limit_bytes = 0;
  std::string keys_note;  // for the operator: where the keys are, or that they must be saved apart
};

Json ManifestToJson(const Manifest& m);
// Strict: every field typed and bounded; errors name the field ("manifest.<field>").
Result<Manifest> ManifestFromJson(const Json& j);

// Sealing: salt (16) | nonce (24) | XChaCha20-Poly1305 ciphertext of `plaintext`, with the key
// Argon2id(passphrase, salt, ops, mem). Pure but for the random salt and nonce.
Result<std::string> SealWithPassphrase(std::string_view plaintext, std::string_view passphrase,
                                       uint64_t ops_limit, uint64_t mem_limit_bytes);
// A wrong passphrase (or altered ciphertext) is kInvalidArgument, field "passphrase", rule
// "wrong_passphrase".
Result<std::string> OpenWithPassphrase(std::string_view sealed, std::string_view passphrase,
                                       uint64_t ops_limit, uint64_t mem_limit_bytes);
// Length rule for passphrases (field "passphrase", rule "length").
Status CheckPassphrase(std::string_view passphrase);

// A key file the server needs and the backup may carry: its name inside the bundle
// ("privacy-keys.json", "ledger-signing.key") and its path on this machine.
struct KeyFile {
  std::string name;
  std::string path;
};

struct BackupOptions {
  std::string opsbox_version;
  int64_t now_us = 0;
  std::vector<KeyFile> key_files;  // named in the manifest's note; sealed when include_keys
  bool include_keys = false;
  std::string passphrase;  // required (CheckPassphrase) when include_keys
};

struct BackupResult {
  Manifest manifest;
  uint64_t bundle_bytes = 0;
  int64_t rows = 0;
};

// Writes a bundle of `db` to `out_path` (through "<out_path>.partial", fsynced and renamed, so
// a crash never leaves a truncated bundle under the final name). An existing `out_path` is
// refused (rule "exists").
Result<BackupResult> CreateBackup(store::Database& db, const std::string& out_path,
                                  const BackupOptions& options);

// A bundle whose structure, part hashes and manifest were checked.
struct OpenedBundle {
  std::string path;
  Manifest manifest;
  struct Span {
    std::string name;
    uint64_t offset = 0;  // of the data in the file
    uint64_t bytes = 0;
  };
  std::vector<Span> parts;  // every part but the manifest, in bundle order
};

// Reads the whole file once: refuses a wrong magic, a malformed frame, a part whose SHA-256
// does not match (its own or the manifest's: rule "part_hash", the message names the part), a
// part missing from or unknown to the manifest, a newer format version.
Result<OpenedBundle> OpenBundle(const std::string& path);

struct RestoreOptions {
  bool replace = false;   // empty the target's tables first (in the restore's transaction)
  std::string passphrase;  // opens keys.sealed when given
  // Where each key file goes (matched by name); a file already there with other content is
  // refused unless `replace`.
  std::vector<KeyFile> key_files;
};

struct TenantCheck {
  std::string tenant_id;
  bool ok = false;
  int64_t events_checked = 0;
  int64_t checkpoints_checked = 0;
  std::string reason;  // "" when ok
};

struct RestoreReport {
  Manifest manifest;
  int64_t rows = 0;
  std::vector<TenantCheck> tenants;
  std::vector<std::string> keys_written;  // paths
  bool ok = false;  // every tenant verified and matches the manifest
  Json ToJson() const;
};

// Restores `bundle` into `target`: refuses a bundle made by a newer schema than this binary
// (rule "schema_newer") and a target that holds rows unless options.replace (rule
// "target_not_empty"); migrates the target to the bundle's schema version, loads every table in
// one transaction (a failure leaves the target as it was), migrates to this binary's version,
// writes the keys when a passphrase opens them, then runs ledger verify on every tenant and
// compares its head and latest checkpoint with the manifest. A failed comparison is a report
// with ok == false (the caller exits non-zero), an Error is a restore that could not run.
Result<RestoreReport> Restore(const OpenedBundle& bundle, store::Database& target,
                              const RestoreOptions& options);

// File names a scheduled backup writes: "opsbox-backup-YYYYMMDDTHHMMSSZ.obk" (UTC, so names
// sort by time).
std::string ScheduledBackupName(int64_t now_us);
// Of the scheduled bundles in `names` (others are ignored), the ones to delete so that the
// newest `keep` remain. Pure.
std::vector<std::string> BackupsToDelete(std::vector<std::string> names, size_t keep);

struct ScheduleOptions {
  int64_t interval_s = 0;  // 0: scheduled backups off
  std::string folder;
  int64_t keep_count = 7;
  std::string opsbox_version;
  // Several nodes on one PostgreSQL (docs/operations.md): whether this node takes the
  // scheduled backups now (the node writing ledger shard 0). Empty: always. The others stand by
  // and take over when they become that node.
  std::function<bool()> runs_here{};
};

// What the administrator's home page and /metrics show.
struct ScheduleStatus {
  bool enabled = false;
  int64_t interval_s = 0;
  std::string folder;
  int64_t keep_count = 0;
  int64_t last_success_at_us = 0;  // 0: none yet
  int64_t last_failure_at_us = 0;
  std::string last_error;          // of the latest run, "" when it succeeded
  std::string last_file;
  uint64_t last_bytes = 0;
  int64_t last_duration_ms = 0;
  int64_t next_at_us = 0;
  uint64_t successes = 0;
  uint64_t failures = 0;
  bool standby = false;  // another node takes the scheduled backups (ScheduleOptions::runs_here)
  // "ok", "failing" (the latest run failed), "stale" (no success within two intervals),
  // "pending" (none ran yet), "standby" (another node of the cluster runs them) or "disabled".
  std::string State(int64_t now_us) const;
  Json ToJson(int64_t now_us) const;
};

// Runs a backup of `db` into options.folder every interval (the first one interval after
// Start) and keeps the newest keep_count. Keys are never included (no passphrase on a server):
// the manifest says so. `db` must outlive the scheduler.
class BackupScheduler {
 public:
  BackupScheduler(store::Database& db, ScheduleOptions options);
  ~BackupScheduler();
  void Start();
  void Stop();  // idempotent; waits for a running backup to finish
  // Runs one backup now, on the calling thread.
  Status RunOnce();
  // What the timer does at each interval: RunOnce when ScheduleOptions::runs_here allows,
  // otherwise records standing by (ok; no file written).
  Status RunIfHere();
  ScheduleStatus status() const;

 private:
  void Loop();
  static int64_t NowUs();
  store::Database& db_;
  ScheduleOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  ScheduleStatus status_;
  std::thread thread_;
};

}  // namespace opsbox::backup
