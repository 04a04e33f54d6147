#include "core/random.hpp"

#include <sodium.h>

namespace opsbox {

uint64_t Random::NextU64() {
  uint64_t v = 0;
  Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof v));
  return v;
}

uint64_t Random::Uniform(uint64_t bound) {
  // Rejection sampling avoids modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t v;
  do v = NextU64(); while (v >= limit);
  return v % bound;
}

void SystemRandom::Fill(std::span<uint8_t> out) { randombytes_buf(out.data(), out.size()); }

void SeededRandom::Fill(std::span<uint8_t> out) {
  for (auto& b : out) b = static_cast<uint8_t>(gen_());
}

}  // namespace opsbox
