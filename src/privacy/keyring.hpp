// Keyring: per-data-subject encryption of personal data in events (issue #3, contracts.md §2).
//
// Keys. Each tenant has a master key (KEK) in versions 1, 2, … that a KeyProvider holds (the
// default provider keeps them in a key file in the data folder; an external KMS plugs in
// behind the same interface). Each data subject ("cus_…", or a scope below it such as
// "cus_…/conv_…") gets a 32-byte data key (DEK) on first use, stored wrapped by the tenant's
// current KEK (XChaCha20-Poly1305, associated data tenant + subject) in the projection table
// privacy_subject_keys. Values are sealed with XChaCha20-Poly1305 under the DEK, associated data
// tenant + subject + key id; the sealed value is the JSON string
//   "pii:v1:<key id>:<base64url of 24-byte nonce followed by the ciphertext>"
// where the plaintext is the canonical JSON of the original value (any JSON type).
//
// Erasure (crypto-shredding) destroys the DEKs of a subject and of its scopes: the wrapped key
// is deleted and destroyed_at_us recorded. Sealed values of that subject then open as
// {erased: true}; the ledger, its hashes and `ledger verify` are unchanged.
//
// Caching: unwrapped DEKs are kept in a bounded LRU (KeyringOptions::cached_keys_max), dropped
// for a subject on erasure (in the projector and again after commit) and entirely when a ledger
// batch rolls back.
//
// Thread safety: Keyring is thread-safe. SealFields and the projectors run on the ledger writer
// thread; Open runs on any reader thread with its own connection or transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock_fwd.hpp"
#include "core/json.hpp"
#include "core/result.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox::privacy {

// A sealed value opened: `value` is the original JSON value; null when erased.
struct Opened {
  bool erased = false;
  Json value;
};

inline constexpr std::string_view kSealedPrefix = "pii:v1:";
inline constexpr size_t kDataKeyBytes = 32;
inline constexpr size_t kMasterKeyBytes = 32;
inline constexpr size_t kSubjectIdBytesMax = 200;
// A sealed value's plaintext (canonical JSON) at most; larger values fail to seal.
inline constexpr size_t kSealedPlaintextBytesMax = 1024 * 1024;

// Where tenant master keys come from. Implementations must be thread-safe; keys are 32 bytes.
class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  // The tenant's newest KEK version, creating version 1 when the tenant has none.
  virtual Result<int64_t> CurrentVersion(std::string_view tenant) = 0;
  // The KEK of `version` (kNotFound when the provider does not hold it).
  virtual Result<std::string> MasterKey(std::string_view tenant, int64_t version) = 0;
  // Creates version CurrentVersion()+1 (durably) and returns it.
  virtual Result<int64_t> CreateVersion(std::string_view tenant) = 0;
  // A secret, stable for the life of the deployment and never rotated, from which the per-tenant
  // blind-index keys are derived (32 bytes).
  virtual Result<std::string> IndexRootKey() = 0;
};

// The default provider: a JSON key file (created with mode 0600 and random keys when missing;
// rewritten atomically through a temporary file and rename when a tenant or version is added).
// Losing the file makes every sealed value unreadable: back it up apart from the database.
// Several nodes sharing one database must share the same key file (or use a KMS provider).
Result<std::unique_ptr<KeyProvider>> OpenKeyFile(std::string path);

// An in-memory provider with random keys, for tests and benchmarks.
std::unique_ptr<KeyProvider> NewMemoryKeyProvider();

struct KeyringOptions {
  size_t cached_keys_max = 10000;  // unwrapped DEKs kept in memory at most
};

// What a rotation did.
struct RotationResult {
  int64_t kek_version = 0;
  int64_t rewrapped = 0;  // DEKs rewrapped under the new version
};

class Keyring {
 public:
  // Scrubs derived plaintext or sealed copies of an erased subject, in the erasure's
  // transaction (contracts.md §2). Called once per erased subject id (the parent; scopes
  // "<subject>/…" are the scrubber's to match).
  using ErasureScrubber = std::function<Status(store::Tx&, const std::string& tenant,
                                               const std::string& subject_id)>;

  // `provider` is owned; `clock` must outlive the keyring. Reads the index root key once.
  static Result<std::unique_ptr<Keyring>> Create(std::unique_ptr<KeyProvider> provider,
                                                 Clock& clock, KeyringOptions options = {});
  ~Keyring();
  Keyring(const Keyring&) = delete;
  Keyring& operator=(const Keyring&) = delete;

  // Registers the sealer, the rollback listener (drops the cache), the command
  // rotate_tenant_key with the projector of tenant_key_rotated, and a committed listener that
  // drops erased subjects from the cache again. The subject_erased projector that calls
  // EraseSubject is registered by privacy::RegisterErasure (erasure.hpp). Call once, before the
  // writer starts.
  void Register(ledger::Registry& registry);

  // Seals payload[f] in place for each f in `fields` present and not null; a value already
  // sealed is left alone. Creates the subject's DEK inside `tx` on first use.
  // Errors: subject_id empty, too long or malformed (rule "format"); the payload not an
  // object; a value too large ("max_bytes").
  Status SealFields(store::Tx& tx, const std::string& tenant, const std::string& subject_id,
                    Json& payload, const std::vector<std::string>& fields);

  // A value that is not sealed is returned as it is (erased=false). A sealed value whose key
  // was destroyed opens as {erased:true, null}. Errors (code kInternal, field "value": stored
  // data that cannot be opened is not the caller's fault): malformed sealed string (rule
  // "sealed_format"), a key unknown in this tenant (rule "unknown_key"), a wrapped key or
  // ciphertext that fails authentication (rule "authentication": altered, or moved to another
  // tenant or subject).
  Result<Opened> Open(store::Connection& conn, std::string_view tenant, const Json& value);
  Result<Opened> Open(store::Tx& tx, std::string_view tenant, const Json& value);
  static bool IsSealed(const Json& value);

  // Keyed pseudonymous index for look-ups of sealed values (HMAC-SHA256, 64 hex chars), per
  // tenant and kind ("phone", "email", "whatsapp"). Stable across KEK rotations. Not erased
  // with the subject: projections drop their rows in an erasure scrubber.
  std::string BlindIndex(std::string_view tenant, std::string_view kind,
                         std::string_view normalized) const;

  // Modules that keep derived plaintext or sealed copies register here, before the writer
  // starts; called by the subject_erased projector in the same transaction.
  void AddErasureScrubber(ErasureScrubber scrubber);

  // Destroys the DEKs of `subject_id` and of every "<subject_id>/…" scope inside `tx`, drops
  // them from the cache, then runs the scrubbers. Returns the number of keys destroyed.
  // Used by the subject_erased projector; idempotent.
  Result<int64_t> EraseSubject(store::Tx& tx, const std::string& tenant,
                               const std::string& subject_id, Instant now);

  // Creates a new KEK version for the tenant (through the provider); the command
  // rotate_tenant_key records it and its projector rewraps the tenant's DEKs under it.
  Result<int64_t> NewMasterKeyVersion(std::string_view tenant);
  // Rewraps every live DEK of the tenant wrapped under an older version than `kek_version`.
  Result<RotationResult> RewrapTenant(store::Tx& tx, const std::string& tenant,
                                      int64_t kek_version);

  // Cached unwrapped DEKs right now (tests and metrics).
  size_t CachedKeys() const;
  // Drops every cached DEK (registered as the ledger rollback listener).
  void DropCache();

 private:
  struct Impl;
  explicit Keyring(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsbox::privacy
