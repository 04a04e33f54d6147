// Keyring: sealing, opening, erasure and rotation of per-subject data keys (see keyring.hpp).
#include "privacy/keyring.hpp"

#include <sodium.h>

#include <array>
#include <atomic>
#include <cstring>
#include <optional>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/assert.hpp"
#include "core/crypto.hpp"
#include "core/random.hpp"
#include "core/time.hpp"

namespace opsbox::privacy {
namespace {

constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t kKeyIdRandomBytes = 16;
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kDataKeyBytes);

using Dek = std::array<uint8_t, kDataKeyBytes>;
using QueryFn = std::function<Result<store::Rows>(std::string_view, std::span<const store::Value>)>;

constexpr std::string_view kFindLiveKey =
    "SELECT key_id, kek_version, wrapped FROM privacy_subject_keys "
    "WHERE tenant_id = ? AND subject_id = ? AND destroyed_at_us IS NULL LIMIT 1";
constexpr std::string_view kFindKey =
    "SELECT subject_id, kek_version, wrapped, destroyed_at_us FROM privacy_subject_keys "
    "WHERE tenant_id = ? AND key_id = ?";
constexpr std::string_view kInsertKey =
    "INSERT INTO privacy_subject_keys (tenant_id, subject_id, key_id, kek_version, wrapped, "
    "created_at_us, destroyed_at_us) VALUES (?, ?, ?, ?, ?, ?, NULL)";

std::string WrapAd(std::string_view tenant, std::string_view subject) {
  return "opsbox-dek-v1\n" + std::string(tenant) + "\n" + std::string(subject);
}

std::string ValueAd(std::string_view tenant, std::string_view subject, std::string_view key_id) {
  return "opsbox-pii-v1\n" + std::string(tenant) + "\n" + std::string(subject) + "\n" +
         std::string(key_id);
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// A stored value or key that cannot be opened: not the caller's input, so kInternal, with the
// rule and the field for the operator.
Error Unopenable(std::string rule, std::string message) {
  return Error{ErrorCode::kInternal, "value", std::move(rule), std::move(message)};
}

// Nonces: a random 16-byte prefix drawn once per process, then a 64-bit counter. XChaCha20's
// 24-byte nonce only has to be unique per key; this avoids a getrandom() system call per sealed
// value, and processes sharing keys (server, CLI) differ by their random prefix.
class NonceSource {
 public:
  NonceSource() { randombytes_buf(prefix_.data(), prefix_.size()); }
  void Next(unsigned char* out) {
    const uint64_t n = counter_.fetch_add(1, std::memory_order_relaxed);
    std::memcpy(out, prefix_.data(), prefix_.size());
    for (size_t i = 0; i < 8; ++i) out[prefix_.size() + i] = static_cast<unsigned char>(n >> (8 * i));
  }

 private:
  std::array<unsigned char, kNonceBytes - 8> prefix_{};
  std::atomic<uint64_t> counter_{0};
};

NonceSource& Nonces() {
  static NonceSource source;
  return source;
}

// nonce || ciphertext+tag
std::string AeadSeal(const uint8_t* key, std::string_view plaintext, std::string_view ad) {
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  Nonces().Next(nonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonceBytes, &written, Bytes(plaintext),
                                             plaintext.size(), Bytes(ad), ad.size(), nullptr,
                                             nonce, key);
  OPSBOX_ASSERT(written == plaintext.size() + kTagBytes);
  return out;
}

Result<std::string> AeadOpen(const uint8_t* key, std::string_view sealed, std::string_view ad,
                             std::string_view what) {
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return Unopenable("sealed_format", std::string(what) + " is too short");
  }
  std::string out(sealed.size() - kNonceBytes - kTagBytes, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &written, nullptr,
          Bytes(sealed) + kNonceBytes, sealed.size() - kNonceBytes, Bytes(ad), ad.size(),
          Bytes(sealed), key) != 0) {
    return Unopenable("authentication",
                          std::string(what) +
                              " failed authentication: it was altered, or belongs to another "
                              "tenant or subject");
  }
  out.resize(written);
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return Unopenable("sealed_format", "sealed value is not base64url");
  }
  out.resize(len);
  return out;
}

// Subject ids: "cus_…" or scopes "cus_…/conv_…": ASCII letters, digits and _-. separated by
// single slashes.
Status CheckSubjectId(std::string_view subject) {
  if (subject.empty() || subject.size() > kSubjectIdBytesMax) {
    return Error::Invalid("subject_id", "format", "subject_id must hold 1..200 bytes");
  }
  if (subject.front() == '/' || subject.back() == '/' ||
      subject.find("//") != std::string_view::npos) {
    return Error::Invalid("subject_id", "format", "subject_id has an empty scope segment");
  }
  for (char c : subject) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == '/';
    if (!ok) {
      return Error::Invalid("subject_id", "format",
                            "subject_id may hold only letters, digits, _ - . and /");
    }
  }
  return Ok();
}

bool InScope(std::string_view subject, std::string_view parent) {
  return subject == parent ||
         (subject.size() > parent.size() && subject.starts_with(parent) &&
          subject[parent.size()] == '/');
}

// "cus\_1/%" for LIKE … ESCAPE '\'.
std::string LikePrefix(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "/%";
}

}  // namespace

struct Keyring::Impl {
  struct Entry {
    std::string tenant;
    std::string subject_id;
    std::string key_id;
    Dek dek{};
  };
  using Lru = std::list<Entry>;

  Impl(std::unique_ptr<KeyProvider> p, Clock& c, KeyringOptions o)
      : provider(std::move(p)), clock(c), options(o) {}

  std::unique_ptr<KeyProvider> provider;
  Clock& clock;
  KeyringOptions options;
  std::string index_root;
  std::vector<ErasureScrubber> scrubbers;

  mutable std::mutex mu;
  Lru lru;  // front: most recently used
  std::unordered_map<std::string, Lru::iterator> by_key;      // tenant '\n' key_id
  std::unordered_map<std::string, Lru::iterator> by_subject;  // tenant '\n' subject (live key)
  // Bumped whenever cached keys are dropped: a reader that loaded a key before the drop must
  // not put it back.
  uint64_t generation = 0;

  static std::string Join(std::string_view a, std::string_view b) {
    return std::string(a) + '\n' + std::string(b);
  }

  uint64_t Generation() const {
    std::lock_guard lock(mu);
    return generation;
  }

  std::optional<Entry> Find(std::unordered_map<std::string, Lru::iterator>& index,
                            const std::string& k) {
    std::lock_guard lock(mu);
    auto it = index.find(k);
    if (it == index.end()) return std::nullopt;
    lru.splice(lru.begin(), lru, it->second);
    return *it->second;
  }

  void Remove(Lru::iterator it) {
    by_key.erase(Join(it->tenant, it->key_id));
    auto s = by_subject.find(Join(it->tenant, it->subject_id));
    if (s != by_subject.end() && s->second == it) by_subject.erase(s);
    sodium_memzero(it->dek.data(), it->dek.size());
    lru.erase(it);
  }

  void Insert(const Entry& e, uint64_t generation_seen) {
    std::lock_guard lock(mu);
    if (generation_seen != generation || options.cached_keys_max == 0) return;
    if (auto it = by_key.find(Join(e.tenant, e.key_id)); it != by_key.end()) Remove(it->second);
    lru.push_front(e);
    by_key[Join(e.tenant, e.key_id)] = lru.begin();
    by_subject[Join(e.tenant, e.subject_id)] = lru.begin();
    while (lru.size() > options.cached_keys_max) Remove(std::prev(lru.end()));
  }

  void DropSubject(std::string_view tenant, std::string_view subject) {
    std::lock_guard lock(mu);
    ++generation;
    for (auto it = lru.begin(); it != lru.end();) {
      auto next = std::next(it);
      if (it->tenant == tenant && InScope(it->subject_id, subject)) Remove(it);
      it = next;
    }
  }

  void DropAll() {
    std::lock_guard lock(mu);
    ++generation;
    while (!lru.empty()) Remove(lru.begin());
  }

  Result<Dek> Unwrap(std::string_view tenant, std::string_view subject, int64_t kek_version,
                     std::string_view wrapped_hex) {
    OPSBOX_ASSIGN_OR_RETURN(std::string kek, provider->MasterKey(tenant, kek_version));
    OPSBOX_ASSIGN_OR_RETURN(std::string wrapped, HexDecode(wrapped_hex, "wrapped"));
    OPSBOX_ASSIGN_OR_RETURN(
        std::string raw, AeadOpen(Bytes(kek), wrapped, WrapAd(tenant, subject), "wrapped data key"));
    sodium_memzero(kek.data(), kek.size());
    if (raw.size() != kDataKeyBytes) return Error::Internal("unwrapped data key has a bad size");
    Dek dek;
    std::memcpy(dek.data(), raw.data(), dek.size());
    sodium_memzero(raw.data(), raw.size());
    return dek;
  }

  Result<std::string> Wrap(std::string_view tenant, std::string_view subject, int64_t kek_version,
                           const Dek& dek) {
    OPSBOX_ASSIGN_OR_RETURN(std::string kek, provider->MasterKey(tenant, kek_version));
    std::string wrapped = AeadSeal(
        Bytes(kek), std::string_view(reinterpret_cast<const char*>(dek.data()), dek.size()),
        WrapAd(tenant, subject));
    sodium_memzero(kek.data(), kek.size());
    return HexEncode(wrapped);
  }

  // The subject's live key, from the cache, the table, or created in `tx`.
  Result<Entry> LiveKey(store::Tx& tx, const std::string& tenant, const std::string& subject) {
    if (auto hit = Find(by_subject, Join(tenant, subject))) return *hit;
    const uint64_t gen = Generation();
    store::Value p[] = {tenant, subject};
    OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query(kFindLiveKey, p));
    Entry e{tenant, subject, "", {}};
    if (!rows.empty()) {
      e.key_id = rows[0].Text(0);
      OPSBOX_ASSIGN_OR_RETURN(e.dek, Unwrap(tenant, subject, rows[0].Int(1), rows[0].Text(2)));
    } else {
      std::array<uint8_t, kKeyIdRandomBytes> id{};
      randombytes_buf(id.data(), id.size());
      e.key_id = "dek_" + HexEncode(std::span<const uint8_t>(id));
      randombytes_buf(e.dek.data(), e.dek.size());
      OPSBOX_ASSIGN_OR_RETURN(int64_t version, provider->CurrentVersion(tenant));
      OPSBOX_ASSIGN_OR_RETURN(std::string wrapped, Wrap(tenant, subject, version, e.dek));
      store::Value ins[] = {tenant, subject, e.key_id, version, wrapped, clock.Now().us};
      OPSBOX_TRY(tx.Exec(kInsertKey, ins));
    }
    Insert(e, gen);
    return e;
  }

  Result<Opened> Open(const QueryFn& query, std::string_view tenant, const Json& value);
};

Result<Opened> Keyring::Impl::Open(const QueryFn& query, std::string_view tenant,
                                   const Json& value) {
  if (!IsSealed(value)) return Opened{false, value};
  const std::string& text = value.get_ref<const std::string&>();
  const std::string_view rest = std::string_view(text).substr(kSealedPrefix.size());
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Unopenable("sealed_format", "sealed value has no key id");
  }
  const std::string key_id(rest.substr(0, colon));
  OPSBOX_ASSIGN_OR_RETURN(std::string sealed, Base64UrlDecode(rest.substr(colon + 1)));
  std::optional<Entry> entry = Find(by_key, Join(tenant, key_id));
  if (!entry) {
    const uint64_t gen = Generation();
    store::Value p[] = {std::string(tenant), key_id};
    OPSBOX_ASSIGN_OR_RETURN(auto rows, query(kFindKey, p));
    if (rows.empty()) {
      return Unopenable("unknown_key",
                        "sealed value names data key " + key_id + ", unknown in this tenant");
    }
    if (!rows[0].IsNull(3)) return Opened{true, Json()};
    Entry e{std::string(tenant), rows[0].Text(0), key_id, {}};
    OPSBOX_ASSIGN_OR_RETURN(e.dek, Unwrap(tenant, e.subject_id, rows[0].Int(1), rows[0].Text(2)));
    Insert(e, gen);
    entry = std::move(e);
  }
  OPSBOX_ASSIGN_OR_RETURN(std::string plain,
                          AeadOpen(entry->dek.data(), sealed,
                                   ValueAd(tenant, entry->subject_id, key_id), "sealed value"));
  sodium_memzero(entry->dek.data(), entry->dek.size());
  OPSBOX_ASSIGN_OR_RETURN(Json opened, ParseJson(plain, "value"));
  return Opened{false, std::move(opened)};
}

Keyring::Keyring(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Keyring::~Keyring() { impl_->DropAll(); }

Result<std::unique_ptr<Keyring>> Keyring::Create(std::unique_ptr<KeyProvider> provider,
                                                 Clock& clock, KeyringOptions options) {
  OPSBOX_ASSERT(provider != nullptr);
  auto impl = std::make_unique<Impl>(std::move(provider), clock, options);
  OPSBOX_ASSIGN_OR_RETURN(impl->index_root, impl->provider->IndexRootKey());
  if (impl->index_root.size() != kMasterKeyBytes) {
    return Error::Internal("the index root key must hold 32 bytes");
  }
  return std::unique_ptr<Keyring>(new Keyring(std::move(impl)));
}

bool Keyring::IsSealed(const Json& value) {
  return value.is_string() && value.get_ref<const std::string&>().starts_with(kSealedPrefix);
}

Status Keyring::SealFields(store::Tx& tx, const std::string& tenant,
                           const std::string& subject_id, Json& payload,
                           const std::vector<std::string>& fields) {
  OPSBOX_TRY(CheckSubjectId(subject_id));
  if (!payload.is_object()) {
    return Error::Invalid("payload", "type", "only fields of a JSON object can be sealed");
  }
  std::vector<std::string_view> todo;
  for (const auto& f : fields) {
    auto it = payload.find(f);
    if (it != payload.end() && !it->is_null() && !IsSealed(*it)) todo.push_back(f);
  }
  if (todo.empty()) return Ok();
  OPSBOX_ASSIGN_OR_RETURN(Impl::Entry key, impl_->LiveKey(tx, tenant, subject_id));
  const std::string ad = ValueAd(tenant, subject_id, key.key_id);
  Status st = Ok();
  for (std::string_view f : todo) {
    Json& v = payload[std::string(f)];
    std::string plain = CanonicalJson(v);
    if (plain.size() > kSealedPlaintextBytesMax) {
      st = Error::Invalid(std::string(f), "max_bytes", "a sealed value holds at most 1 MiB");
      break;
    }
    v = std::string(kSealedPrefix) + key.key_id + ":" +
        Base64UrlEncode(AeadSeal(key.dek.data(), plain, ad));
    sodium_memzero(plain.data(), plain.size());
  }
  sodium_memzero(key.dek.data(), key.dek.size());
  return st;
}

Result<Opened> Keyring::Open(store::Connection& conn, std::string_view tenant, const Json& value) {
  return impl_->Open([&](std::string_view sql,
                         std::span<const store::Value> p) { return conn.Query(sql, p); },
                     tenant, value);
}

Result<Opened> Keyring::Open(store::Tx& tx, std::string_view tenant, const Json& value) {
  return impl_->Open(
      [&](std::string_view sql, std::span<const store::Value> p) { return tx.Query(sql, p); },
      tenant, value);
}

std::string Keyring::BlindIndex(std::string_view tenant, std::string_view kind,
                                std::string_view normalized) const {
  Hash32 tenant_key =
      HmacSha256(impl_->index_root, "opsbox-blind-index-v1\n" + std::string(tenant));
  std::string_view key(reinterpret_cast<const char*>(tenant_key.data()), tenant_key.size());
  Hash32 mac = HmacSha256(key, std::string(kind) + "\n" + std::string(normalized));
  sodium_memzero(tenant_key.data(), tenant_key.size());
  return HexEncode(std::span<const uint8_t>(mac));
}

void Keyring::AddErasureScrubber(ErasureScrubber scrubber) {
  impl_->scrubbers.push_back(std::move(scrubber));
}

Result<int64_t> Keyring::EraseSubject(store::Tx& tx, const std::string& tenant,
                                      const std::string& subject_id, Instant now) {
  OPSBOX_TRY(CheckSubjectId(subject_id));
  store::Value p[] = {tenant, subject_id, LikePrefix(subject_id)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT key_id, subject_id FROM privacy_subject_keys WHERE tenant_id = ? "
                          "AND destroyed_at_us IS NULL AND (subject_id = ? OR subject_id LIKE ? "
                          "ESCAPE '\\')",
                          p));
  int64_t destroyed = 0;
  for (const auto& row : rows) {
    if (!InScope(row.Text(1), subject_id)) continue;  // LIKE is case-insensitive on SQLite
    store::Value u[] = {now.us, tenant, row.Text(0)};
    OPSBOX_TRY(tx.Exec("UPDATE privacy_subject_keys SET wrapped = '', destroyed_at_us = ? "
                       "WHERE tenant_id = ? AND key_id = ?",
                       u));
    ++destroyed;
  }
  impl_->DropSubject(tenant, subject_id);
  for (const auto& scrub : impl_->scrubbers) OPSBOX_TRY(scrub(tx, tenant, subject_id));
  return destroyed;
}

Result<int64_t> Keyring::NewMasterKeyVersion(std::string_view tenant) {
  return impl_->provider->CreateVersion(tenant);
}

Result<RotationResult> Keyring::RewrapTenant(store::Tx& tx, const std::string& tenant,
                                             int64_t kek_version) {
  store::Value p[] = {tenant, kek_version};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT key_id, subject_id, kek_version, wrapped FROM "
                          "privacy_subject_keys WHERE tenant_id = ? AND destroyed_at_us IS NULL "
                          "AND kek_version < ? ORDER BY key_id",
                          p));
  RotationResult out{kek_version, 0};
  for (const auto& row : rows) {
    OPSBOX_ASSIGN_OR_RETURN(Dek dek,
                            impl_->Unwrap(tenant, row.Text(1), row.Int(2), row.Text(3)));
    auto wrapped = impl_->Wrap(tenant, row.Text(1), kek_version, dek);
    sodium_memzero(dek.data(), dek.size());
    if (!wrapped.ok()) return std::move(wrapped).error();
    store::Value u[] = {kek_version, *wrapped, tenant, row.Text(0)};
    OPSBOX_TRY(tx.Exec("UPDATE privacy_subject_keys SET kek_version = ?, wrapped = ? "
                       "WHERE tenant_id = ? AND key_id = ?",
                       u));
    ++out.rewrapped;
  }
  return out;
}

size_t Keyring::CachedKeys() const {
  std::lock_guard lock(impl_->mu);
  return impl_->lru.size();
}

void Keyring::DropCache() { impl_->DropAll(); }

void Keyring::Register(ledger::Registry& registry) {
  registry.SetSealer([this](store::Tx& tx, const std::string& tenant, const std::string& subject,
                            Json& payload, const std::vector<std::string>& fields) {
    return SealFields(tx, tenant, subject, payload, fields);
  });
  registry.SetOpener([this](store::Tx& tx, const std::string& tenant,
                            const Json& value) -> Result<Json> {
    OPSBOX_ASSIGN_OR_RETURN(Opened opened, Open(tx, tenant, value));
    if (opened.erased) {
      return Error{ErrorCode::kInternal, "value", "erased", "the sealed value's key was destroyed"};
    }
    return std::move(opened.value);
  });
  registry.AddRollbackListener([this] { DropCache(); });
  registry.AddCommand("rotate_tenant_key",
                      [this](store::Tx& tx, const ledger::Command& cmd, Instant,
                             Random&) -> Result<ledger::Decision> {
                        OPSBOX_TRY(CheckObjectKeys(cmd.payload, {}));
                        // The provider keeps a version even if this command rolls back; an
                        // unused version is harmless and the next rotation moves past it.
                        OPSBOX_ASSIGN_OR_RETURN(int64_t version,
                                                NewMasterKeyVersion(cmd.tenant_id));
                        store::Value p[] = {cmd.tenant_id, version};
                        OPSBOX_ASSIGN_OR_RETURN(
                            auto rows, tx.Query("SELECT COUNT(*) FROM privacy_subject_keys WHERE "
                                                "tenant_id = ? AND destroyed_at_us IS NULL AND "
                                                "kek_version < ?",
                                                p));
                        Json body = {{"kek_version", version}, {"rewrapped", rows[0].Int(0)}};
                        ledger::Decision d;
                        d.events.push_back(ledger::NewEvent{"tenant_key_rotated", body});
                        d.result = body;
                        return d;
                      });
  registry.AddProjector("tenant_key_rotated",
                        [this](store::Tx& tx, const ledger::Event& e) -> Status {
                          Json storage;
                          OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
                          const int64_t version = p->value("kek_version", int64_t{0});
                          OPSBOX_ASSERT_MSG(version > 0, "tenant_key_rotated without kek_version");
                          OPSBOX_TRY(RewrapTenant(tx, e.tenant_id, version));
                          return Ok();
                        });
  // The projector dropped the subject ahead of the commit; a reader may have cached its key
  // again from the still-committed row in between, so drop it once more now it is durable.
  registry.AddCommittedListener([this](const std::vector<ledger::Event>& events) {
    for (const auto& e : events) {
      if (e.type != "subject_erased") continue;
      auto p = ParseJson(e.payload, "payload");
      if (p.ok() && p->contains("subject_id") && (*p)["subject_id"].is_string()) {
        impl_->DropSubject(e.tenant_id, (*p)["subject_id"].get<std::string>());
      }
    }
  });
}

}  // namespace opsbox::privacy
