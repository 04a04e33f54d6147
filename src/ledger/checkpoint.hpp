// Signed checkpoints: from time to time the ledger signs the Merkle root (merkle.hpp) of each
// tenant's events with an Ed25519 key, so that anyone holding the public key can later check
// that nothing was altered or removed up to that size (verify.hpp) and that a given event is in
// the ledger (reader.hpp ProveInclusion). Checkpoints live in the ledger_checkpoints table.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock_fwd.hpp"
#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/merkle.hpp"
#include "store/store.hpp"

namespace opsbox::ledger {

struct Checkpoint {
  std::string tenant_id;
  int64_t tree_size = 0;  // events 1..tree_size are covered
  std::string root_hash;  // hex MTH of those events' hashes
  Instant signed_at;
  std::string key_id;      // CheckpointKeyId(public key)
  std::string public_key;  // hex Ed25519 public key (32 bytes)
  std::string signature;   // hex Ed25519 signature (64 bytes) over CheckpointMessage

  // Wire form: every field above (signed_at in RFC 3339) plus "signed_message", the exact text
  // that was signed, so an outside verifier needs nothing but an Ed25519 library.
  Json ToJson() const;
};

// The bytes that are signed:
// "opsbox-checkpoint-v1\n<tenant>\n<tree_size>\n<root hex>\n<signed_at_us>\n".
std::string CheckpointMessage(const Checkpoint& c);

// First 16 hex digits of SHA-256 over the 32 raw bytes of an Ed25519 public key.
std::string CheckpointKeyId(std::span<const uint8_t> public_key32);

// True when c.signature is a valid signature by c.public_key over CheckpointMessage(c) and
// c.key_id matches c.public_key. Malformed hex reads as invalid.
bool CheckpointSignatureValid(const Checkpoint& c);

// Loads the checkpoint signing key from `path`: one line holding the 32-byte Ed25519 seed as 64
// hex digits. When the file is missing it is created (mode 0600, parent directories too) with a
// fresh key. A malformed or unreadable file is an Error whose message names the path.
Result<SigningKey> LoadOrCreateSigningKey(const std::string& path);

// Reads ledger_checkpoints rows (tenant_id, tree_size, root_hash, signed_at_us, key_id,
// public_key, signature) in that column order. Shared with reader.cpp and verify.cpp.
inline constexpr std::string_view kCheckpointColumns =
    "tenant_id, tree_size, root_hash, signed_at_us, key_id, public_key, signature";
Checkpoint CheckpointFromRow(const store::Row& row);

// Signs checkpoints. Keeps a CompactRange per tenant in memory: built on first use from the
// stored event hashes (checked against the latest stored checkpoint, so a rewritten history is
// never signed), then extended by reading only the events appended since. At most 4096 tenants'
// ranges are cached (O(log n) hashes each); others are rebuilt when next needed.
//
// Thread safety: all methods may be called from any thread; they serialise on one mutex.
// `db` and `clock` must outlive the Checkpointer.
class Checkpointer {
 public:
  // interval_events: a tenant is checkpointed when at least this many events were appended
  // since its latest checkpoint (>= 1).
  Checkpointer(store::Database& db, SigningKey key, Clock& clock, int64_t interval_events);

  // Signs and stores a checkpoint for `tenant` when interval_events new events exist, or when
  // `force` and at least one new event exists. Returns nullopt when nothing was due. Fails
  // (kConflict, rule "ledger_inconsistent") rather than sign when the stored events do not
  // extend the latest checkpoint: a seq gap, a broken prev_hash link, fewer events than the
  // checkpoint covers, or a different root at its size.
  Result<std::optional<Checkpoint>> CheckpointTenant(store::Connection& conn,
                                                     const std::string& tenant, bool force = false);
  // CheckpointTenant (not forced) for every tenant ListTenants names, on a connection of its
  // own. A failing tenant does not stop the others; the first failure is returned.
  Status CheckpointAll();

  const std::string& key_id() const { return key_id_; }
  std::string public_key_hex() const;

 private:
  struct TenantRange {
    CompactRange range;
    std::string last_hash;  // hex hash of event range.size(); kGenesisHash when empty
  };
  Result<TenantRange*> RangeFor(store::Connection& conn, const std::string& tenant,
                                const std::optional<Checkpoint>& latest);
  Status Extend(store::Connection& conn, const std::string& tenant, TenantRange& t,
                const std::optional<Checkpoint>& check_at);
  Checkpoint Sign(const std::string& tenant, const TenantRange& t);

  store::Database& db_;
  SigningKey key_;
  std::string key_id_;
  Clock& clock_;
  int64_t interval_events_;
  std::mutex mu_;
  std::map<std::string, TenantRange> ranges_;  // guarded by mu_
};

}  // namespace opsbox::ledger
