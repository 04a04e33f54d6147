#include "core/ids.hpp"

#include <array>

namespace opsbox {
namespace {
constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr size_t kIdChars = 26;
}  // namespace

std::string NewId(std::string_view prefix, Instant now, Random& random) {
  // 128 bits: 48-bit big-endian milliseconds then 80 random bits, in 26 base32 digits.
  std::array<uint8_t, 16> raw{};
  uint64_t ms = static_cast<uint64_t>(now.us / 1000);
  for (int i = 5; i >= 0; --i) raw[i] = static_cast<uint8_t>(ms & 0xff), ms >>= 8;
  random.Fill(std::span<uint8_t>(raw.data() + 6, 10));
  std::string out(prefix);
  out.push_back('_');
  // 130 bits of output for 128 bits of input: the top 2 bits are zero.
  unsigned __int128 v = 0;
  for (uint8_t b : raw) v = (v << 8) | b;
  char digits[kIdChars];
  for (size_t i = 0; i < kIdChars; ++i) {
    digits[kIdChars - 1 - i] = kCrockford[static_cast<unsigned>(v & 31)];
    v >>= 5;
  }
  out.append(digits, kIdChars);
  return out;
}

bool IsId(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 1 + kIdChars) return false;
  if (id.substr(0, prefix.size()) != prefix || id[prefix.size()] != '_') return false;
  for (char c : id.substr(prefix.size() + 1)) {
    if (std::string_view(kCrockford).find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace opsbox
