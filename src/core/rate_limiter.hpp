// Token buckets keyed by a string (an API key id, a session id, a client address), for the
// server's request budgets (issue #9). Pure apart from its lock: time is a parameter, so tests
// step it by hand.
//
// Each key owns a bucket of `burst` tokens that refills at `per_s` tokens a second; a request
// takes one token or is refused with the whole seconds until one is back (Retry-After).
// Memory is bounded: at most `keys_max` buckets. When the table is full, buckets that have
// refilled completely (so forgetting them changes nothing) are dropped; if none has, the new
// key shares one overflow bucket with the other newcomers, which keeps the server's budget
// bounded under a flood of distinct keys rather than letting the table grow.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.hpp"

namespace opsbox {

struct RateLimit {
  int64_t per_s = 100;  // sustained tokens per second, >= 1
  int64_t burst = 200;  // bucket size, >= 1
};

inline constexpr size_t kRateLimiterKeysMaxDefault = 100'000;

class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit, size_t keys_max = kRateLimiterKeysMaxDefault);
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  struct Decision {
    bool allowed = true;
    int64_t retry_after_s = 0;  // >= 1 when refused
  };
  // Takes one token from `key`'s bucket at `now`.
  Decision Take(std::string_view key, Instant now);
  // Buckets held (for tests and metrics).
  size_t size() const;
  const RateLimit& limit() const { return limit_; }

 private:
  struct State;
  RateLimit limit_;
  size_t keys_max_;
  std::unique_ptr<State> state_;
};

}  // namespace opsbox

namespace opsbox {

// Turns a stream of occurrences per key into at most one report per key and window, each
// carrying how many occurrences it stands for (issue #9: forged provider webhooks must not
// append a ledger event each). Record() answers the count to report now (the first occurrence
// after a quiet window, plus everything counted since the previous report) or nothing; Drain()
// hands over the counts of keys whose window ended with occurrences still unreported.
// At most `keys_max` keys are tracked; past that, occurrences are counted under one overflow
// key (`kOverflowKey`) so memory stays bounded and nothing goes uncounted. Thread-safe.
class CountingThrottle {
 public:
  static constexpr std::string_view kOverflowKey = "\x01overflow";
  CountingThrottle(Duration window, size_t keys_max = kRateLimiterKeysMaxDefault);
  ~CountingThrottle();
  CountingThrottle(const CountingThrottle&) = delete;
  CountingThrottle& operator=(const CountingThrottle&) = delete;

  // The count to report now, or 0 when this occurrence waits for a later report.
  int64_t Record(std::string_view key, Instant now);
  // Keys whose window has ended with unreported occurrences, and their counts; they are then
  // forgotten.
  std::vector<std::pair<std::string, int64_t>> Drain(Instant now);
  size_t size() const;

 private:
  struct State;
  Duration window_;
  size_t keys_max_;
  std::unique_ptr<State> state_;
};

}  // namespace opsbox
