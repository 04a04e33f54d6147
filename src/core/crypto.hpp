// Cryptographic primitives from libsodium, behind plain byte/string types. Thread-safe once
// InitCrypto() has run (the composition root and test mains call it).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace opsbox {

using Hash32 = std::array<uint8_t, 32>;

void InitCrypto();

Hash32 Sha256(std::string_view data);
Hash32 HmacSha256(std::string_view key, std::string_view data);
bool ConstantTimeEqual(std::string_view a, std::string_view b);

std::string HexEncode(std::span<const uint8_t> bytes);
std::string HexEncode(std::string_view bytes);
Result<std::string> HexDecode(std::string_view hex, std::string_view field);
std::string Base64UrlEncode(std::string_view bytes);  // no padding
std::string RandomToken(size_t bytes);                // base64url of CSPRNG bytes

// Password hashing: argon2id with libsodium's interactive limits; the output is the
// self-describing "$argon2id$v=19$m=...,t=...,p=...$salt$hash" string.
Result<std::string> HashPassword(std::string_view password);
bool VerifyPassword(std::string_view stored_hash, std::string_view password);

// Ed25519 keys. Secret key: 64 bytes (seed||public), public key: 32 bytes, signature: 64 bytes.
struct SigningKey {
  std::array<uint8_t, 64> secret{};
  std::array<uint8_t, 32> public_key{};
};
SigningKey GenerateSigningKey();
Result<SigningKey> SigningKeyFromSeed(std::span<const uint8_t> seed32);
std::array<uint8_t, 64> Sign(const SigningKey& key, std::string_view message);
bool VerifySignature(std::span<const uint8_t> public_key32, std::string_view message,
                     std::span<const uint8_t> signature64);

}  // namespace opsbox
