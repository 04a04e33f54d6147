// Time inside opsbox: UTC instants in integer microseconds; RFC 3339 on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace opsbox {

struct Duration {
  int64_t us = 0;
  static constexpr Duration Micros(int64_t v) { return {v}; }
  static constexpr Duration Millis(int64_t v) { return {v * 1000}; }
  static constexpr Duration Seconds(int64_t v) { return {v * 1000000}; }
  static constexpr Duration Minutes(int64_t v) { return {v * 60000000}; }
  static constexpr Duration Hours(int64_t v) { return {v * 3600000000LL}; }
  constexpr int64_t ms() const { return us / 1000; }
  friend constexpr auto operator<=>(Duration, Duration) = default;
  friend constexpr Duration operator+(Duration a, Duration b) { return {a.us + b.us}; }
  friend constexpr Duration operator*(Duration a, int64_t k) { return {a.us * k}; }
};

struct Instant {
  int64_t us = 0;  // microseconds since 1970-01-01T00:00:00Z
  friend constexpr auto operator<=>(Instant, Instant) = default;
  friend constexpr Instant operator+(Instant a, Duration d) { return {a.us + d.us}; }
  friend constexpr Instant operator-(Instant a, Duration d) { return {a.us - d.us}; }
  friend constexpr Duration operator-(Instant a, Instant b) { return {a.us - b.us}; }
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t& year, unsigned& month, unsigned& day);

// "YYYY-MM-DD" (years 1970–9999, a real calendar date) -> days since 1970-01-01; else nullopt.
std::optional<int64_t> ParseIsoDate(std::string_view text);
// Days since 1970-01-01 -> "YYYY-MM-DD" (the inverse of ParseIsoDate).
std::string FormatIsoDate(int64_t days);

// "2026-11-22T10:15:30.123456Z" (microseconds always shown, always UTC).
std::string FormatRfc3339(Instant t);
// Accepts RFC 3339 date-time with 'Z' or a numeric offset and 0–9 fraction digits
// (beyond microseconds truncated). Years 1970–9999.
Result<Instant> ParseRfc3339(std::string_view text, std::string_view field);

// Where "now" comes from; tests inject a ManualClock. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant Now() = 0;
};

class SystemClock final : public Clock {
 public:
  Instant Now() override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Instant start) : now_us_(start.us) {}
  Instant Now() override { return Instant{now_us_}; }
  void Advance(Duration d) { now_us_ += d.us; }
  void Set(Instant t) { now_us_ = t.us; }

 private:
  int64_t now_us_;
};

}  // namespace opsbox
