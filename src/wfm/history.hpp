// Interval history import for forecasting (issue #5): CSV of interval start and count, optionally
// handle time and abandons, in a declared IANA zone or UTC, aggregated to 15, 30 or 60 minutes on
// the local wall-clock grid that forecast.hpp works on.
//
// CSV shape: a header row naming the columns (case-insensitive, any order, unknown columns are
// ignored and reported), then one row per source interval, ascending by start time:
//   start    interval_start | start | datetime | date_time | timestamp | interval
//            (or two columns "date" YYYY-MM-DD and "time" HH:MM[:SS], joined)
//   count    count | calls | volume | offered | arrivals            calls in the interval, >= 0
//   aht      aht_s | handle_time_s | avg_handle_time_s | aht | handle_time
//                                              optional: mean handle time of those calls, seconds
//   abandons abandons | abandoned | abandon        optional: abandoned calls, 0..count
// A start is either RFC 3339 with Z or an offset (an instant, shown in the declared zone), or a
// local wall-clock "YYYY-MM-DD HH:MM[:SS]" (also with 'T') in the declared zone (UTC when none).
// A row's calls belong to the interval that contains its start; finer rows (e.g. 5 minutes) are
// summed into the target interval. Local times must increase, except inside a repeated
// (daylight-saving fall-back) hour, whose rows are added to the same local intervals; a local time
// that does not exist in the zone (spring-forward gap) is an error.
// The series is padded to whole local days; intervals without any row count 0 and are reported.
//
// The bank data in /work/shared/data/callcenter (na_bank_2003_5min_calls.csv: interval_start,
// date, weekday, calls) imports as is: interval_start is the start, calls the count, date and
// weekday are ignored. The raw copy (rownames, DateTime "…Z", Calls) imports too, but its 'Z' is
// false (the clock times are local): import it without a zone, or use the cleaned file.
//
// Errors name the line, the column and the rule: field "line 12: calls", rule "non_negative".
// Threads: the parse functions are pure and reentrant; ZoneRules is immutable after loading.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "core/zone.hpp"
#include "wfm/forecast.hpp"

namespace opsbox::wfm {

inline constexpr size_t kHistoryRowsMax = 5'000'000;
inline constexpr size_t kHistoryLineBytesMax = 1024;
inline constexpr size_t kHistoryColumnsMax = 64;
inline constexpr size_t kHistoryFileBytesMax = 512ull * 1024 * 1024;
inline constexpr double kHistoryCountMax = 1e9;
inline constexpr double kHistoryAhtMaxS = 86400;
inline constexpr size_t kEmptyDaysReportedMax = 400;
inline constexpr size_t kSpecialDaysFileBytesMax = 1024 * 1024;

// The zone reader lives in core (one owner); WFM code keeps naming it through this namespace.
using ::opsbox::ZoneRules;

struct HistoryImportOptions {
  int interval_min = 15;                  // target: 15, 30 or 60
  size_t rows_max = kHistoryRowsMax;      // <= kHistoryRowsMax
  size_t line_bytes_max = kHistoryLineBytesMax;  // <= kHistoryLineBytesMax
};

struct HistoryImport {
  IntervalSeries series;                 // whole local days
  size_t rows = 0;                       // data rows read
  int source_interval_s = 0;             // detected: gcd of start differences (0: one row)
  size_t intervals_without_rows = 0;     // filled with 0 (includes whole empty days)
  size_t gaps = 0;                       // runs of consecutive intervals without rows
  std::vector<int64_t> empty_days;       // local days without any row (first kEmptyDaysReportedMax)
  size_t empty_days_total = 0;
  bool has_aht = false;
  bool has_abandons = false;
  std::vector<std::string> ignored_columns;
};

// Parses CSV text (pure). `zone` maps instants and local times.
Result<HistoryImport> ParseHistoryCsv(std::string_view csv, const HistoryImportOptions& options,
                                      const ZoneRules& zone);
// Reads a file (at most kHistoryFileBytesMax) and parses it; field "history" on I/O errors.
Result<HistoryImport> ImportHistoryFile(const std::string& path,
                                        const HistoryImportOptions& options,
                                        const ZoneRules& zone);

// Special days CSV: header "date,like,multiplier" (like and multiplier optional columns, either may
// be empty in a row): date YYYY-MM-DD; like a weekday name (monday … sunday, or mon … sun);
// multiplier a number >= 0 (default 1). Example rows: "2003-07-04,,0" (closed),
// "2003-12-26,sunday," (like a Sunday), "2003-11-28,,0.6".
Result<std::vector<SpecialDay>> ParseSpecialDaysCsv(std::string_view csv);
Result<std::vector<SpecialDay>> LoadSpecialDaysFile(const std::string& path);

// Local seconds <-> text and instants.
std::string FormatLocal(int64_t local_s);             // "2003-03-03T07:00:00"
// The instant where a local interval starts: ambiguous -> earlier, nonexistent -> nullopt.
std::optional<Instant> LocalToInstant(const ZoneRules& zone, int64_t local_s);

}  // namespace opsbox::wfm
