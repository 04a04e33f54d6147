#include "core/crypto.hpp"

#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <cstdlib>

#include "core/assert.hpp"

namespace opsbox {

void InitCrypto() { OPSBOX_ASSERT_MSG(sodium_init() >= 0, "libsodium failed to initialise"); }

// SHA-256 and HMAC come from OpenSSL, which uses the CPU's SHA extensions where present
// (libsodium's portable SHA-256 was 14% of the ledger writer's CPU; bench/profile-notes.md).
Hash32 Sha256(std::string_view data) {
  Hash32 out;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

Hash32 HmacSha256(std::string_view key, std::string_view data) {
  Hash32 out;
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HexEncode(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return out;
}

std::string HexEncode(std::string_view bytes) {
  return HexEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            bytes.size()));
}

Result<std::string> HexDecode(std::string_view hex, std::string_view field) {
  if (hex.size() % 2 != 0) {
    return Error::Invalid(std::string(field), "hex", "odd number of hex digits");
  }
  std::string out(hex.size() / 2, '\0');
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Error::Invalid(std::string(field), "hex", "not a hexadecimal string");
    }
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(),
                                            sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

std::string RandomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return Base64UrlEncode(raw);
}

Result<std::string> HashPassword(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error::Internal("argon2id hashing ran out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view stored_hash, std::string_view password) {
  std::string h(stored_hash);  // needs NUL termination
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

SigningKey GenerateSigningKey() {
  SigningKey k;
  crypto_sign_keypair(k.public_key.data(), k.secret.data());
  return k;
}

Result<SigningKey> SigningKeyFromSeed(std::span<const uint8_t> seed32) {
  if (seed32.size() != crypto_sign_SEEDBYTES) {
    return Error::Invalid("signing_key", "length", "an Ed25519 seed is 32 bytes");
  }
  SigningKey k;
  crypto_sign_seed_keypair(k.public_key.data(), k.secret.data(), seed32.data());
  return k;
}

std::array<uint8_t, 64> Sign(const SigningKey& key, std::string_view message) {
  std::array<uint8_t, 64> sig;
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), key.secret.data());
  return sig;
}

bool VerifySignature(std::span<const uint8_t> public_key32, std::string_view message,
                     std::span<const uint8_t> signature64) {
  if (public_key32.size() != 32 || signature64.size() != 64) return false;
  return crypto_sign_verify_detached(signature64.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), public_key32.data()) == 0;
}

}  // namespace opsbox
