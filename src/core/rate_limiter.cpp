#include "core/rate_limiter.hpp"

#include <algorithm>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/assert.hpp"

namespace opsbox {
namespace {

// Tokens are counted in millionths so refills at any rate stay exact integers.
constexpr int64_t kScale = 1'000'000;
constexpr std::string_view kOverflowKey = "\x01overflow";

struct Bucket {
  int64_t tokens = 0;  // scaled
  int64_t at_us = 0;   // when `tokens` was computed
};

}  // namespace

struct RateLimiter::State {
  std::mutex mu;
  std::unordered_map<std::string, Bucket> buckets;
};

RateLimiter::RateLimiter(RateLimit limit, size_t keys_max)
    : limit_(limit), keys_max_(keys_max), state_(std::make_unique<State>()) {
  OPSBOX_ASSERT(limit_.per_s >= 1 && limit_.burst >= 1 && keys_max_ >= 1);
}

RateLimiter::~RateLimiter() = default;

size_t RateLimiter::size() const {
  std::lock_guard lock(state_->mu);
  return state_->buckets.size();
}

RateLimiter::Decision RateLimiter::Take(std::string_view key, Instant now) {
  const int64_t full = limit_.burst * kScale;
  auto refill = [&](Bucket& b) {
    const int64_t elapsed_us = std::max<int64_t>(0, now.us - b.at_us);
    // per_s tokens per 1e6 us, scaled by 1e6: elapsed_us * per_s tokens (scaled).
    const int64_t add = elapsed_us > full / limit_.per_s ? full : elapsed_us * limit_.per_s;
    b.tokens = std::min(full, b.tokens + add);
    b.at_us = std::max(b.at_us, now.us);
  };
  std::lock_guard lock(state_->mu);
  auto& table = state_->buckets;
  auto it = table.find(std::string(key));
  if (it == table.end()) {
    if (table.size() >= keys_max_) {
      std::erase_if(table, [&](const auto& kv) {
        if (kv.first == kOverflowKey) return false;
        Bucket b = kv.second;
        refill(b);
        return b.tokens >= full;
      });
    }
    if (table.size() >= keys_max_) {
      it = table.find(std::string(kOverflowKey));
      if (it == table.end()) it = table.emplace(kOverflowKey, Bucket{full, now.us}).first;
    } else {
      it = table.emplace(std::string(key), Bucket{full, now.us}).first;
    }
  }
  Bucket& b = it->second;
  refill(b);
  if (b.tokens >= kScale) {
    b.tokens -= kScale;
    return {true, 0};
  }
  // Whole seconds until one token is back, rounded up.
  const int64_t missing = kScale - b.tokens;
  const int64_t wait_us = (missing + limit_.per_s - 1) / limit_.per_s;
  return {false, std::max<int64_t>(1, (wait_us + 999'999) / 1'000'000)};
}

}  // namespace opsbox

namespace opsbox {

struct CountingThrottle::State {
  struct Entry {
    int64_t reported_at_us = 0;  // the last report; the window runs from here
    int64_t pending = 0;         // occurrences since that report
  };
  std::mutex mu;
  std::unordered_map<std::string, Entry> keys;
};

CountingThrottle::CountingThrottle(Duration window, size_t keys_max)
    : window_(window), keys_max_(keys_max), state_(std::make_unique<State>()) {
  OPSBOX_ASSERT(window_.us > 0 && keys_max_ >= 1);
}

CountingThrottle::~CountingThrottle() = default;

size_t CountingThrottle::size() const {
  std::lock_guard lock(state_->mu);
  return state_->keys.size();
}

int64_t CountingThrottle::Record(std::string_view key, Instant now) {
  std::lock_guard lock(state_->mu);
  auto& keys = state_->keys;
  auto it = keys.find(std::string(key));
  if (it == keys.end()) {
    if (keys.size() >= keys_max_) {
      // Forget keys whose window ended with nothing pending: they would report afresh anyway.
      std::erase_if(keys, [&](auto& kv) {
        return kv.second.pending == 0 && now.us - kv.second.reported_at_us >= window_.us;
      });
    }
    const bool full = keys.size() >= keys_max_;
    if (full) {
      it = keys.find(std::string(kOverflowKey));
      if (it == keys.end()) {
        keys.emplace(std::string(kOverflowKey), State::Entry{now.us, 0});
        return 1;
      }
    } else {
      keys.emplace(std::string(key), State::Entry{now.us, 0});
      return 1;
    }
  }
  auto& e = it->second;
  ++e.pending;
  if (now.us - e.reported_at_us < window_.us) return 0;
  const int64_t count = e.pending;
  e = State::Entry{now.us, 0};
  return count;
}

std::vector<std::pair<std::string, int64_t>> CountingThrottle::Drain(Instant now) {
  std::vector<std::pair<std::string, int64_t>> due;
  std::lock_guard lock(state_->mu);
  std::erase_if(state_->keys, [&](auto& kv) {
    if (now.us - kv.second.reported_at_us < window_.us) return false;
    if (kv.second.pending > 0) due.emplace_back(kv.first, kv.second.pending);
    return true;
  });
  return due;
}

}  // namespace opsbox
