// The bundle container, the manifest and passphrase sealing: the parts of backup.hpp that do
// no database work.
#include <sodium.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>

#include "backup/backup.hpp"
#include "backup/internal/bundle_io.hpp"
#include "core/crypto.hpp"

namespace opsbox::backup {
namespace {

Error Bad(std::string field, std::string rule, std::string message) {
  return Error::Invalid("manifest." + field, std::move(rule), std::move(message));
}

Result<std::string> Str(const Json& j, const char* key, size_t bytes_max = 4096) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return Bad(key, "type", std::string(key) + " must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > bytes_max) return Bad(key, "length", std::string(key) + " is too long");
  return s;
}

Result<int64_t> Int(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    return Bad(key, "type", std::string(key) + " must be an integer");
  }
  if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
    return Bad(key, "range", std::string(key) + " is out of range");
  }
  const int64_t v = it->get<int64_t>();
  if (v < 0) return Bad(key, "range", std::string(key) + " must be >= 0");
  return v;
}

bool IsIdentifier(std::string_view s) {
  return !s.empty() && s.size() <= 63 &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

Result<TenantHead> TenantFromJson(const Json& t) {
  if (!t.is_object()) return Bad("tenants", "type", "each tenant must be an object");
  TenantHead h;
  OPSBOX_ASSIGN_OR_RETURN(h.tenant_id, Str(t, "tenant_id", 200));
  OPSBOX_ASSIGN_OR_RETURN(h.head_seq, Int(t, "head_seq"));
  OPSBOX_ASSIGN_OR_RETURN(h.head_hash, Str(t, "head_hash", 128));
  OPSBOX_ASSIGN_OR_RETURN(h.checkpoint_tree_size, Int(t, "checkpoint_tree_size"));
  OPSBOX_ASSIGN_OR_RETURN(h.checkpoint_root_hash, Str(t, "checkpoint_root_hash", 128));
  OPSBOX_ASSIGN_OR_RETURN(h.checkpoint_signed_at_us, Int(t, "checkpoint_signed_at_us"));
  OPSBOX_ASSIGN_OR_RETURN(h.checkpoint_key_id, Str(t, "checkpoint_key_id", 128));
  OPSBOX_ASSIGN_OR_RETURN(h.checkpoint_public_key, Str(t, "checkpoint_public_key", 128));
  OPSBOX_ASSIGN_OR_RETURN(h.checkpoint_signature, Str(t, "checkpoint_signature", 256));
  return h;
}

Result<PartEntry> PartFromJson(const Json& p) {
  if (!p.is_object()) return Bad("parts", "type", "each part must be an object");
  PartEntry e;
  OPSBOX_ASSIGN_OR_RETURN(e.name, Str(p, "name", kPartNameBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(int64_t bytes, Int(p, "bytes"));
  e.bytes = static_cast<uint64_t>(bytes);
  OPSBOX_ASSIGN_OR_RETURN(e.sha256_hex, Str(p, "sha256", 64));
  OPSBOX_ASSIGN_OR_RETURN(e.rows, Int(p, "rows"));
  auto cols = p.find("columns");
  if (cols == p.end() || !cols->is_array() || cols->size() > 1000) {
    return Bad("parts.columns", "type", "columns must be an array of at most 1000 names");
  }
  for (const auto& c : *cols) {
    if (!c.is_string() || !IsIdentifier(c.get_ref<const std::string&>())) {
      return Bad("parts.columns", "identifier",
                 "part " + e.name + ": a column name must be [a-z0-9_]{1,63}");
    }
    e.columns.push_back(c.get<std::string>());
  }
  if (e.name.rfind(kTablePartPrefix, 0) == 0 &&
      !IsIdentifier(std::string_view(e.name).substr(kTablePartPrefix.size()))) {
    return Bad("parts.name", "identifier", "part " + e.name + ": a table name must be [a-z0-9_]{1,63}");
  }
  return e;
}

}  // namespace

Json ManifestToJson(const Manifest& m) {
  Json tenants = Json::array();
  for (const auto& t : m.tenants) {
    tenants.push_back({{"tenant_id", t.tenant_id},
                       {"head_seq", t.head_seq},
                       {"head_hash", t.head_hash},
                       {"checkpoint_tree_size", t.checkpoint_tree_size},
                       {"checkpoint_root_hash", t.checkpoint_root_hash},
                       {"checkpoint_signed_at_us", t.checkpoint_signed_at_us},
                       {"checkpoint_key_id", t.checkpoint_key_id},
                       {"checkpoint_public_key", t.checkpoint_public_key},
                       {"checkpoint_signature", t.checkpoint_signature}});
  }
  Json parts = Json::array();
  for (const auto& p : m.parts) {
    parts.push_back({{"name", p.name},
                     {"bytes", p.bytes},
                     {"sha256", p.sha256_hex},
                     {"rows", p.rows},
                     {"columns", p.columns}});
  }
  return Json{{"format_version", m.format_version},
              {"opsbox_version", m.opsbox_version},
              {"schema_version", m.schema_version},
              {"created_at_us", m.created_at_us},
              {"source_backend", m.source_backend},
              {"tenants", std::move(tenants)},
              {"parts", std::move(parts)},
              {"keys", {{"included", m.keys_included},
                        {"files", m.key_files},
                        {"kdf", "argon2id"},
                        {"kdf_ops_limit", m.kdf_ops_limit},
                        {"kdf_mem_limit_bytes", m.kdf_mem_limit_bytes},
                        {"cipher", "xchacha20poly1305-ietf"},
                        {"note", m.keys_note}}}};
}

Result<Manifest> ManifestFromJson(const Json& j) {
  if (!j.is_object()) return Bad("", "type", "the manifest must be a JSON object");
  Manifest m;
  OPSBOX_ASSIGN_OR_RETURN(m.format_version, Int(j, "format_version"));
  if (m.format_version > kBundleFormatVersion) {
    return Bad("format_version", "newer",
               "bundle format " + std::to_string(m.format_version) +
                   " is newer than this binary reads (" + std::to_string(kBundleFormatVersion) + ")");
  }
  OPSBOX_ASSIGN_OR_RETURN(m.opsbox_version, Str(j, "opsbox_version", 64));
  OPSBOX_ASSIGN_OR_RETURN(m.schema_version, Int(j, "schema_version"));
  OPSBOX_ASSIGN_OR_RETURN(m.created_at_us, Int(j, "created_at_us"));
  OPSBOX_ASSIGN_OR_RETURN(m.source_backend, Str(j, "source_backend", 32));
  auto tenants = j.find("tenants");
  if (tenants == j.end() || !tenants->is_array()) return Bad("tenants", "type", "tenants must be an array");
  for (const auto& t : *tenants) {
    OPSBOX_ASSIGN_OR_RETURN(auto h, TenantFromJson(t));
    m.tenants.push_back(std::move(h));
  }
  auto parts = j.find("parts");
  if (parts == j.end() || !parts->is_array() || parts->size() > kPartsMax) {
    return Bad("parts", "type", "parts must be an array of at most " + std::to_string(kPartsMax));
  }
  for (const auto& p : *parts) {
    OPSBOX_ASSIGN_OR_RETURN(auto e, PartFromJson(p));
    m.parts.push_back(std::move(e));
  }
  auto keys = j.find("keys");
  if (keys == j.end() || !keys->is_object()) return Bad("keys", "type", "keys must be an object");
  auto included = keys->find("included");
  if (included == keys->end() || !included->is_boolean()) {
    return Bad("keys.included", "type", "keys.included must be true or false");
  }
  m.keys_included = included->get<bool>();
  auto files = keys->find("files");
  if (files == keys->end() || !files->is_array() || files->size() > 16) {
    return Bad("keys.files", "type", "keys.files must be an array of at most 16 names");
  }
  for (const auto& f : *files) {
    if (!f.is_string() || f.get_ref<const std::string&>().find('/') != std::string::npos ||
        f.get_ref<const std::string&>().empty() || f.get_ref<const std::string&>()[0] == '.') {
      return Bad("keys.files", "name", "a key file name must be a plain file name");
    }
    m.key_files.push_back(f.get<std::string>());
  }
  OPSBOX_ASSIGN_OR_RETURN(int64_t ops, Int(*keys, "kdf_ops_limit"));
  OPSBOX_ASSIGN_OR_RETURN(int64_t mem, Int(*keys, "kdf_mem_limit_bytes"));
  m.kdf_ops_limit = static_cast<uint64_t>(ops);
  m.kdf_mem_limit_bytes = static_cast<uint64_t>(mem);
  if (m.keys_included && (m.kdf_ops_limit > kKdfOpsLimitMax || m.kdf_mem_limit_bytes > kKdfMemLimitBytesMax)) {
    return Bad("keys.kdf_mem_limit_bytes", "max", "key derivation limits are above what restore allows");
  }
  OPSBOX_ASSIGN_OR_RETURN(m.keys_note, Str(*keys, "note"));
  return m;
}

Status CheckPassphrase(std::string_view passphrase) {
  if (passphrase.size() < kPassphraseBytesMin || passphrase.size() > kPassphraseBytesMax) {
    return Error::Invalid("passphrase", "length",
                          "the passphrase must be " + std::to_string(kPassphraseBytesMin) + " to " +
                              std::to_string(kPassphraseBytesMax) + " bytes");
  }
  return Ok();
}

namespace {

constexpr std::string_view kSealAd = "opsbox-backup-keys v1";

Result<std::array<uint8_t, crypto_aead_xchacha20poly1305_ietf_KEYBYTES>> DeriveKey(
    std::string_view passphrase, const uint8_t* salt, uint64_t ops, uint64_t mem) {
  std::array<uint8_t, crypto_aead_xchacha20poly1305_ietf_KEYBYTES> key{};
  if (ops < crypto_pwhash_OPSLIMIT_MIN || mem < crypto_pwhash_MEMLIMIT_MIN ||
      ops > kKdfOpsLimitMax || mem > kKdfMemLimitBytesMax) {
    return Error::Invalid("kdf", "range", "key derivation limits out of range");
  }
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt, ops,
                    static_cast<size_t>(mem), crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error::Internal("argon2id: out of memory");
  }
  return key;
}

}  // namespace

Result<std::string> SealWithPassphrase(std::string_view plaintext, std::string_view passphrase,
                                       uint64_t ops_limit, uint64_t mem_limit_bytes) {
  OPSBOX_TRY(CheckPassphrase(passphrase));
  std::string out(crypto_pwhash_SALTBYTES + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                      plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES,
                  '\0');
  auto* salt = reinterpret_cast<uint8_t*>(out.data());
  auto* nonce = salt + crypto_pwhash_SALTBYTES;
  auto* cipher = nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  randombytes_buf(salt, crypto_pwhash_SALTBYTES);
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  OPSBOX_ASSIGN_OR_RETURN(auto key, DeriveKey(passphrase, salt, ops_limit, mem_limit_bytes));
  unsigned long long cipher_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      cipher, &cipher_len, reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const uint8_t*>(kSealAd.data()), kSealAd.size(), nullptr, nonce, key.data());
  sodium_memzero(key.data(), key.size());
  return out;
}

Result<std::string> OpenWithPassphrase(std::string_view sealed, std::string_view passphrase,
                                       uint64_t ops_limit, uint64_t mem_limit_bytes) {
  constexpr size_t kHeader =
      crypto_pwhash_SALTBYTES + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  if (sealed.size() < kHeader + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return Error::Invalid("keys.sealed", "length", "the sealed keys are too short");
  }
  const auto* salt = reinterpret_cast<const uint8_t*>(sealed.data());
  const auto* nonce = salt + crypto_pwhash_SALTBYTES;
  const auto* cipher = salt + kHeader;
  const size_t cipher_len = sealed.size() - kHeader;
  OPSBOX_ASSIGN_OR_RETURN(auto key, DeriveKey(passphrase, salt, ops_limit, mem_limit_bytes));
  std::string plain(cipher_len - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long plain_len = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      reinterpret_cast<uint8_t*>(plain.data()), &plain_len, nullptr, cipher, cipher_len,
      reinterpret_cast<const uint8_t*>(kSealAd.data()), kSealAd.size(), nonce, key.data());
  sodium_memzero(key.data(), key.size());
  if (rc != 0) {
    return Error::Invalid("passphrase", "wrong_passphrase",
                          "the passphrase does not open the bundle's sealed keys");
  }
  return plain;
}

// ---- container ----

namespace detail {

namespace {
void PutBe(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetBe(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}
}  // namespace

BundleWriter::~BundleWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

Status BundleWriter::Open(const std::string& path) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "wbx");
  if (file_ == nullptr) {
    return Error::Invalid("out", "writable", "cannot create " + path + ": " + std::strerror(errno));
  }
  return Write(kBundleMagic);
}

Status BundleWriter::Write(std::string_view bytes) {
  if (bytes.empty()) return Ok();
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    return Error::Internal("write " + path_ + ": " + std::strerror(errno));
  }
  if (in_part_) {
    crypto_hash_sha256_update(&sha_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    part_bytes_ += bytes.size();
  }
  return Ok();
}

Status BundleWriter::BeginPart(std::string_view name) {
  OPSBOX_ASSERT(!in_part_ && name.size() <= kPartNameBytesMax);
  std::string head;
  PutBe(head, name.size(), 2);
  head.append(name);
  OPSBOX_TRY(Write(head));
  length_at_ = ftello(file_);
  OPSBOX_TRY(Write(std::string(8, '\0')));  // patched by EndPart
  crypto_hash_sha256_init(&sha_);
  part_bytes_ = 0;
  in_part_ = true;
  return Ok();
}

Result<PartEntry> BundleWriter::EndPart(std::string name) {
  OPSBOX_ASSERT(in_part_);
  in_part_ = false;
  std::array<uint8_t, 32> digest{};
  crypto_hash_sha256_final(&sha_, digest.data());
  OPSBOX_TRY(Write(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size())));
  const off_t end = ftello(file_);
  std::string len;
  PutBe(len, part_bytes_, 8);
  if (fseeko(file_, length_at_, SEEK_SET) != 0 || std::fwrite(len.data(), 1, 8, file_) != 8 ||
      fseeko(file_, end, SEEK_SET) != 0) {
    return Error::Internal("write " + path_ + ": " + std::strerror(errno));
  }
  PartEntry e;
  e.name = std::move(name);
  e.bytes = part_bytes_;
  e.sha256_hex = HexEncode(digest);
  return e;
}

Status BundleWriter::Finish() {
  if (std::fflush(file_) != 0 || fsync(fileno(file_)) != 0) {
    return Error::Internal("flush " + path_ + ": " + std::strerror(errno));
  }
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) return Error::Internal("close " + path_ + ": " + std::strerror(errno));
  return Ok();
}

Result<std::vector<Frame>> ReadFrames(const std::string& path, std::string* manifest_text) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Error::Invalid("bundle", "readable", "cannot open " + path + ": " + std::strerror(errno));
  }
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  std::string magic(kBundleMagic.size(), '\0');
  if (std::fread(magic.data(), 1, magic.size(), f) != magic.size() || magic != kBundleMagic) {
    return Error::Invalid("bundle", "magic", path + " is not an opsbox backup bundle (v1)");
  }
  std::vector<Frame> frames;
  std::vector<char> buf(1 << 20);
  for (;;) {
    unsigned char len2[2];
    const size_t got = std::fread(len2, 1, 2, f);
    if (got == 0 && std::feof(f)) break;
    if (got != 2) return Error::Invalid("bundle", "frame", "truncated part header");
    if (frames.size() >= kPartsMax + 1) return Error::Invalid("bundle", "parts_max", "too many parts");
    const uint64_t name_len = GetBe(len2, 2);
    if (name_len == 0 || name_len > kPartNameBytesMax) {
      return Error::Invalid("bundle", "frame",
                            "malformed part header after part " +
                                (frames.empty() ? std::string("(none)") : frames.back().name));
    }
    Frame fr;
    fr.name.resize(name_len);
    unsigned char len8[8];
    if (std::fread(fr.name.data(), 1, name_len, f) != name_len || std::fread(len8, 1, 8, f) != 8) {
      return Error::Invalid("bundle", "frame", "truncated part header");
    }
    fr.bytes = GetBe(len8, 8);
    fr.offset = static_cast<uint64_t>(ftello(f));
    const bool is_manifest = fr.name == kManifestPart;
    if (is_manifest && fr.bytes > kManifestBytesMax) {
      return Error::Invalid("bundle", "manifest_bytes_max", "the manifest is too large");
    }
    crypto_hash_sha256_state sha;
    crypto_hash_sha256_init(&sha);
    uint64_t left = fr.bytes;
    while (left > 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
      if (std::fread(buf.data(), 1, n, f) != n) {
        return Error::Invalid("bundle", "frame", "part " + fr.name + " is truncated");
      }
      crypto_hash_sha256_update(&sha, reinterpret_cast<const uint8_t*>(buf.data()), n);
      if (is_manifest) manifest_text->append(buf.data(), n);
      left -= n;
    }
    std::array<uint8_t, 32> digest{}, stored{};
    crypto_hash_sha256_final(&sha, digest.data());
    if (std::fread(stored.data(), 1, 32, f) != 32) {
      return Error::Invalid("bundle", "frame", "part " + fr.name + " is truncated");
    }
    if (digest != stored) {
      return Error::Invalid("bundle", "part_hash",
                            "part " + fr.name + " is corrupted: its SHA-256 does not match");
    }
    fr.sha256_hex = HexEncode(digest);
    frames.push_back(std::move(fr));
  }
  return frames;
}

}  // namespace detail

Result<OpenedBundle> OpenBundle(const std::string& path) {
  std::string manifest_text;
  OPSBOX_ASSIGN_OR_RETURN(auto frames, detail::ReadFrames(path, &manifest_text));
  if (frames.empty() || frames.back().name != kManifestPart) {
    return Error::Invalid("bundle", "manifest", "the bundle does not end with its manifest (truncated?)");
  }
  OPSBOX_ASSIGN_OR_RETURN(Json mj, ParseJson(manifest_text, "manifest"));
  OPSBOX_ASSIGN_OR_RETURN(Manifest m, ManifestFromJson(mj));
  frames.pop_back();
  if (frames.size() != m.parts.size()) {
    return Error::Invalid("bundle", "parts",
                          "the bundle holds " + std::to_string(frames.size()) +
                              " parts but its manifest lists " + std::to_string(m.parts.size()));
  }
  OpenedBundle b;
  b.path = path;
  for (size_t i = 0; i < frames.size(); ++i) {
    const auto& fr = frames[i];
    const auto& e = m.parts[i];
    if (fr.name != e.name) {
      return Error::Invalid("bundle", "parts",
                            "part " + fr.name + " is not the manifest's part " + e.name);
    }
    if (fr.bytes != e.bytes || fr.sha256_hex != e.sha256_hex) {
      return Error::Invalid("bundle", "part_hash",
                            "part " + fr.name + " is corrupted: its SHA-256 does not match the manifest");
    }
    b.parts.push_back({fr.name, fr.offset, fr.bytes});
  }
  b.manifest = std::move(m);
  return b;
}

}  // namespace opsbox::backup
