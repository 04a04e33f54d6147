// IANA time zones: UTC offsets of one zone read from the system's compiled TZif files
// (/usr/share/zoneinfo, Debian package tzdata). Owned here so every module that turns local
// wall-clock time into instants (WFM forecasts, business calendars for SLAs) shares one reader.
// Threads: a loaded ZoneRules is immutable and may be shared between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace opsbox {

inline constexpr size_t kZoneFileBytesMax = 1024 * 1024;

// UTC offsets of one IANA zone, from a compiled TZif file (version 2+ 64-bit data). Times after
// the file's last transition keep the last offset (Debian's "fat" files run to 2037).
class ZoneRules {
 public:
  // UTC; never fails.
  static ZoneRules Utc();
  // Parses TZif bytes; errors name field "zone" and rule "tzif".
  static Result<ZoneRules> FromTzif(std::string_view name, std::string_view bytes);
  // Reads /usr/share/zoneinfo/<name> (name like "America/New_York"; "UTC" needs no file).
  // Errors name field "zone": rule "iana_name" (not a safe zone name), "known_zone" (no file).
  static Result<ZoneRules> Load(std::string_view name);

  const std::string& name() const { return name_; }
  int64_t OffsetAtUtcS(int64_t utc_s) const;  // local = utc + offset

  // A local wall-clock second (seconds since 1970-01-01T00:00:00 local) maps to one instant, two
  // (a repeated hour when clocks go back) or none (skipped when clocks go forward). Assumes
  // transitions of a zone are more than a day apart, as they are in the tz database.
  enum class LocalKind { kUnique, kAmbiguous, kNonexistent };
  struct LocalResolution {
    LocalKind kind = LocalKind::kUnique;
    int64_t utc_s = 0;        // the instant; the earlier one when ambiguous; when nonexistent,
                              // the instant the clocks jumped (the end of the skipped hour)
    int64_t later_utc_s = 0;  // the later instant when ambiguous, else utc_s
  };
  LocalResolution ResolveLocal(int64_t local_s) const;
  // The instants (UTC seconds, ascending) where the offset changes.
  const std::vector<int64_t>& Transitions() const { return transitions_utc_s_; }

 private:
  std::string name_ = "UTC";
  std::vector<int64_t> transitions_utc_s_;  // ascending
  std::vector<int32_t> offsets_s_;          // offset after each transition
  int32_t initial_offset_s_ = 0;            // before the first transition
};

}  // namespace opsbox
