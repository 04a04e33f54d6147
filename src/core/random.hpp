// Randomness is injected (STYLE.md house rule 8): production uses the OS CSPRNG (libsodium);
// tests use a seeded generator and print the seed.
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace opsbox {

class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(std::span<uint8_t> out) = 0;
  uint64_t NextU64();
  // Uniform in [0, bound). bound > 0.
  uint64_t Uniform(uint64_t bound);
};

// Cryptographically secure; thread-safe.
class SystemRandom final : public Random {
 public:
  void Fill(std::span<uint8_t> out) override;
};

// Deterministic; not thread-safe.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : gen_(seed) {}
  void Fill(std::span<uint8_t> out) override;

 private:
  std::mt19937_64 gen_;
};

}  // namespace opsbox
