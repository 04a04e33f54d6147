// Goal: token buckets allow exactly the burst, refill at the declared rate, say when to retry,
// keep keys apart and keep their table bounded.
#include <gtest/gtest.h>

#include "core/rate_limiter.hpp"

namespace opsbox {
namespace {

constexpr Instant kT0{1'700'000'000'000'000};

Instant At(int64_t ms) { return Instant{kT0.us + ms * 1000}; }

TEST(RateLimiter, AllowsTheBurstAndRefusesOnePastItWithRetryAfter) {
  RateLimiter limiter(RateLimit{.per_s = 2, .burst = 5});
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Take("key_a", kT0).allowed) << i;
  auto refused = limiter.Take("key_a", kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 1);  // one token comes back after 500 ms: round up to 1 s
}

TEST(RateLimiter, RefillsAtTheSustainedRate) {
  RateLimiter limiter(RateLimit{.per_s = 2, .burst = 2});
  EXPECT_TRUE(limiter.Take("k", At(0)).allowed);
  EXPECT_TRUE(limiter.Take("k", At(0)).allowed);
  EXPECT_FALSE(limiter.Take("k", At(499)).allowed);
  EXPECT_TRUE(limiter.Take("k", At(500)).allowed);
  EXPECT_FALSE(limiter.Take("k", At(500)).allowed);
  // A long pause refills to the burst, never beyond it.
  EXPECT_TRUE(limiter.Take("k", At(3'600'000)).allowed);
  EXPECT_TRUE(limiter.Take("k", At(3'600'000)).allowed);
  EXPECT_FALSE(limiter.Take("k", At(3'600'000)).allowed);
}

TEST(RateLimiter, RetryAfterCoversSlowRates) {
  RateLimiter limiter(RateLimit{.per_s = 1, .burst = 1});
  EXPECT_TRUE(limiter.Take("k", At(0)).allowed);
  auto refused = limiter.Take("k", At(100));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 1);
  EXPECT_TRUE(limiter.Take("k", At(1000)).allowed);
}

TEST(RateLimiter, KeysHaveTheirOwnBuckets) {
  RateLimiter limiter(RateLimit{.per_s = 1, .burst = 1});
  EXPECT_TRUE(limiter.Take("a", kT0).allowed);
  EXPECT_FALSE(limiter.Take("a", kT0).allowed);
  EXPECT_TRUE(limiter.Take("b", kT0).allowed);
}

TEST(RateLimiter, TheTableStaysBoundedAndNewcomersShareAnOverflowBucketWhenFull) {
  RateLimiter limiter(RateLimit{.per_s = 1, .burst = 2}, /*keys_max=*/3);
  for (const char* k : {"a", "b", "c"}) EXPECT_TRUE(limiter.Take(k, kT0).allowed);
  // Full of partly spent buckets: newcomers share one overflow bucket of the same size.
  EXPECT_TRUE(limiter.Take("d", kT0).allowed);
  EXPECT_TRUE(limiter.Take("e", kT0).allowed);
  EXPECT_FALSE(limiter.Take("f", kT0).allowed);
  EXPECT_LE(limiter.size(), 4u);
  // Once the old buckets have refilled they are forgotten and a newcomer gets its own.
  EXPECT_TRUE(limiter.Take("g", At(5000)).allowed);
  EXPECT_TRUE(limiter.Take("g", At(5000)).allowed);
  EXPECT_FALSE(limiter.Take("g", At(5000)).allowed);
  EXPECT_LE(limiter.size(), 4u);
}

TEST(RateLimiter, AClockThatGoesBackwardsNeverAddsTokens) {
  RateLimiter limiter(RateLimit{.per_s = 1, .burst = 1});
  EXPECT_TRUE(limiter.Take("k", At(10'000)).allowed);
  EXPECT_FALSE(limiter.Take("k", At(0)).allowed);
  EXPECT_FALSE(limiter.Take("k", At(10'500)).allowed);
  EXPECT_TRUE(limiter.Take("k", At(11'000)).allowed);
}

}  // namespace
}  // namespace opsbox

namespace opsbox {
namespace {

TEST(CountingThrottle, ReportsTheFirstOccurrenceThenAtMostOncePerWindowWithTheCount) {
  CountingThrottle throttle(Duration::Minutes(1));
  EXPECT_EQ(throttle.Record("t\nwhatsapp\n10.0.0.1", At(0)), 1);
  for (int i = 1; i < 1000; ++i) EXPECT_EQ(throttle.Record("t\nwhatsapp\n10.0.0.1", At(i)), 0);
  // The next occurrence after the window reports everything counted meanwhile, itself included.
  EXPECT_EQ(throttle.Record("t\nwhatsapp\n10.0.0.1", At(60'000)), 1000);
  EXPECT_EQ(throttle.Record("t\nwhatsapp\n10.0.0.1", At(60'001)), 0);
}

TEST(CountingThrottle, DrainHandsOverUnreportedCountsOnceTheirWindowEnds) {
  CountingThrottle throttle(Duration::Minutes(1));
  EXPECT_EQ(throttle.Record("a", At(0)), 1);
  EXPECT_EQ(throttle.Record("a", At(10)), 0);
  EXPECT_EQ(throttle.Record("a", At(20)), 0);
  EXPECT_EQ(throttle.Record("b", At(30)), 1);
  EXPECT_TRUE(throttle.Drain(At(59'999)).empty());
  auto due = throttle.Drain(At(60'030));
  ASSERT_EQ(due.size(), 1u);  // "b" had nothing pending
  EXPECT_EQ(due[0].first, "a");
  EXPECT_EQ(due[0].second, 2);
  EXPECT_EQ(throttle.size(), 0u);
  EXPECT_EQ(throttle.Record("a", At(60'040)), 1);  // a fresh window reports at once
}

TEST(CountingThrottle, PastTheKeyLimitOccurrencesAreCountedUnderTheOverflowKey) {
  CountingThrottle throttle(Duration::Minutes(1), /*keys_max=*/2);
  EXPECT_EQ(throttle.Record("a", At(0)), 1);
  EXPECT_EQ(throttle.Record("b", At(0)), 1);
  EXPECT_EQ(throttle.Record("c", At(0)), 1);  // the overflow key's first report
  EXPECT_EQ(throttle.Record("d", At(1)), 0);
  EXPECT_EQ(throttle.Record("e", At(2)), 0);
  EXPECT_LE(throttle.size(), 3u);
  auto due = throttle.Drain(At(60'002));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].first, std::string(CountingThrottle::kOverflowKey));
  EXPECT_EQ(due[0].second, 2);
}

}  // namespace
}  // namespace opsbox
