#include "wfm/history.hpp"

#include "core/files.hpp"
#include "core/time.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

namespace opsbox::wfm {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }


bool Digits(std::string_view s, size_t pos, size_t n, int64_t& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// "YYYY-MM-DD" -> local day.
std::optional<int64_t> ParseDay(std::string_view s) { return ParseIsoDate(s); }

// "HH:MM" or "HH:MM:SS" -> seconds of the day.
std::optional<int64_t> ParseTimeOfDay(std::string_view s) {
  int64_t h, mi, se = 0;
  if ((s.size() != 5 && s.size() != 8) || !Digits(s, 0, 2, h) || s[2] != ':' ||
      !Digits(s, 3, 2, mi) || h > 23 || mi > 59) {
    return std::nullopt;
  }
  if (s.size() == 8 && (s[5] != ':' || !Digits(s, 6, 2, se) || se > 59)) return std::nullopt;
  return h * 3600 + mi * 60 + se;
}

}  // namespace

std::string FormatLocal(int64_t local_s) {
  const int64_t day = FloorDiv(local_s, kSecondsPerDay);
  const int64_t sec = local_s - day * kSecondsPerDay;
  char buf[32];
  std::snprintf(buf, sizeof buf, "T%02lld:%02lld:%02lld", static_cast<long long>(sec / 3600),
                static_cast<long long>(sec / 60 % 60), static_cast<long long>(sec % 60));
  return FormatIsoDate(day) + buf;
}

std::optional<Instant> LocalToInstant(const ZoneRules& zone, int64_t local_s) {
  const auto r = zone.ResolveLocal(local_s);
  if (r.kind == ZoneRules::LocalKind::kNonexistent) return std::nullopt;
  return Instant{r.utc_s * 1000000};
}

namespace {

// One CSV line split into fields (RFC 4180 quotes, no line breaks inside fields).
Result<std::vector<std::string_view>> SplitCsvLine(std::string_view line, size_t line_no,
                                                   std::vector<std::string>& unquoted) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  unquoted.clear();
  unquoted.reserve(kHistoryColumnsMax + 1);
  while (true) {
    if (fields.size() == kHistoryColumnsMax) {
      return Error::Invalid("line " + std::to_string(line_no), "max_columns",
                            "line " + std::to_string(line_no) + ": more than " +
                                std::to_string(kHistoryColumnsMax) + " columns");
    }
    if (pos < line.size() && line[pos] == '"') {
      std::string v;
      size_t i = pos + 1;
      for (; i < line.size(); ++i) {
        if (line[i] != '"') { v += line[i]; continue; }
        if (i + 1 < line.size() && line[i + 1] == '"') { v += '"'; ++i; continue; }
        break;
      }
      if (i >= line.size() || (i + 1 < line.size() && line[i + 1] != ',')) {
        return Error::Invalid("line " + std::to_string(line_no), "csv_quote",
                              "line " + std::to_string(line_no) + ": unbalanced or misplaced quote");
      }
      unquoted.push_back(std::move(v));
      fields.push_back(unquoted.back());
      pos = i + 1;
    } else {
      const size_t end = std::min(line.find(',', pos), line.size());
      fields.push_back(line.substr(pos, end - pos));
      pos = end;
    }
    if (pos >= line.size()) break;
    ++pos;  // the comma
    if (pos == line.size()) { fields.push_back({}); break; }
  }
  for (auto& f : fields) {
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
  }
  return fields;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

struct Columns {
  int start = -1, date = -1, time = -1, count = -1, aht = -1, abandons = -1;
  std::vector<std::string> names;
  std::vector<std::string> ignored;
};

bool OneOf(const std::string& s, std::initializer_list<const char*> names) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return s == n; });
}

Result<Columns> MapHeader(const std::vector<std::string_view>& header) {
  Columns c;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string h = Lower(header[i]);
    c.names.push_back(std::string(header[i]));
    int* slot = nullptr;
    if (OneOf(h, {"interval_start", "start", "datetime", "date_time", "timestamp", "interval"})) {
      slot = &c.start;
    } else if (h == "date") {
      slot = &c.date;
    } else if (h == "time") {
      slot = &c.time;
    } else if (OneOf(h, {"count", "calls", "volume", "offered", "arrivals"})) {
      slot = &c.count;
    } else if (OneOf(h, {"aht_s", "handle_time_s", "avg_handle_time_s", "aht", "handle_time"})) {
      slot = &c.aht;
    } else if (OneOf(h, {"abandons", "abandoned", "abandon"})) {
      slot = &c.abandons;
    }
    if (slot == nullptr) { c.ignored.push_back(std::string(header[i])); continue; }
    if (*slot >= 0) {
      return Error::Invalid("line 1: " + std::string(header[i]), "duplicate_column",
                            "line 1: column \"" + std::string(header[i]) +
                                "\" names the same field as column \"" + c.names[*slot] + "\"");
    }
    *slot = static_cast<int>(i);
  }
  if (c.start < 0 && (c.date < 0 || c.time < 0)) {
    return Error::Invalid("line 1", "start_column",
                          "line 1: the header needs an interval start column (interval_start, "
                          "start, datetime, timestamp) or both date and time columns");
  }
  if (c.count < 0) {
    return Error::Invalid("line 1", "count_column",
                          "line 1: the header needs a count column (count, calls, volume, offered)");
  }
  if (c.start >= 0) {
    // A start column wins; a date column beside it (as in the bank file) is informational.
    if (c.date >= 0) c.ignored.push_back(c.names[c.date]);
    if (c.time >= 0) c.ignored.push_back(c.names[c.time]);
    c.date = c.time = -1;
  }
  return c;
}

struct Cell {
  size_t line;
  int column;  // 0-based
  const Columns* cols;
  std::string Field() const {
    return "line " + std::to_string(line) + ": " + cols->names[static_cast<size_t>(column)];
  }
  Error Bad(const std::string& rule, const std::string& what, std::string_view value) const {
    return Error::Invalid(Field(), rule,
                          "line " + std::to_string(line) + ", column " + std::to_string(column + 1) +
                              " (" + cols->names[static_cast<size_t>(column)] + "): " + what +
                              ", got \"" + std::string(value.substr(0, 64)) + "\"");
  }
};

Result<double> ParseNumber(std::string_view v, const Cell& cell, double max, bool required) {
  if (v.empty()) {
    if (required) return cell.Bad("required", "a value is required", v);
    return -1.0;
  }
  double x = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(x)) {
    return cell.Bad("number", "must be a number", v);
  }
  if (x < 0) return cell.Bad("non_negative", "must be >= 0", v);
  if (x > max) return cell.Bad("max", "must be <= " + std::to_string(static_cast<int64_t>(max)), v);
  return x;
}

// A start cell -> local seconds in `zone`.
Result<int64_t> ParseStart(std::string_view v, const Cell& cell, const ZoneRules& zone) {
  const bool has_zone = v.size() > 19 && (v.back() == 'Z' || v.back() == 'z' ||
                                          v[v.size() - 6] == '+' || v[v.size() - 6] == '-');
  if (has_zone) {
    auto t = ParseRfc3339(v, cell.Field());
    if (!t.ok()) return cell.Bad("rfc3339", "must be an RFC 3339 date-time", v);
    const int64_t utc_s = FloorDiv(t->us, 1000000);
    return utc_s + zone.OffsetAtUtcS(utc_s);
  }
  const auto day = v.size() >= 16 ? ParseDay(v.substr(0, 10)) : std::nullopt;
  const auto tod = day && (v[10] == ' ' || v[10] == 'T') ? ParseTimeOfDay(v.substr(11)) : std::nullopt;
  if (!tod) {
    return cell.Bad("datetime", "must be RFC 3339 or \"YYYY-MM-DD HH:MM[:SS]\" local time", v);
  }
  return *day * kSecondsPerDay + *tod;
}

// The streaming state of one import.
struct Accumulator {
  int64_t target_s = 0;
  int64_t first_day = 0;
  bool started = false;
  int64_t last_local_s = 0;
  bool last_ambiguous = false;
  int64_t gcd_s = 0;
  std::vector<double> volume, handle, abandons;
  std::vector<uint8_t> has_row;
};

struct Row {
  int64_t local_s;
  double count, aht_s, abandons;  // aht_s / abandons < 0 when absent
};

Status AddRow(Accumulator& acc, const Row& row, const Cell& start_cell, std::string_view start_text,
              const ZoneRules& zone) {
  const auto kind = zone.ResolveLocal(row.local_s).kind;
  if (kind == ZoneRules::LocalKind::kNonexistent) {
    return start_cell.Bad("nonexistent_local_time",
                          "is not a local time in zone " + zone.name() + " (daylight-saving gap)",
                          start_text);
  }
  const bool ambiguous = kind == ZoneRules::LocalKind::kAmbiguous;
  if (!acc.started) {
    acc.started = true;
    acc.first_day = FloorDiv(row.local_s, kSecondsPerDay);
  } else if (row.local_s <= acc.last_local_s && !(ambiguous && acc.last_ambiguous)) {
    return start_cell.Bad(row.local_s == acc.last_local_s ? "duplicate" : "ascending",
                          "start times must increase (previous row " +
                              FormatLocal(acc.last_local_s) + ")", start_text);
  } else {
    acc.gcd_s = std::gcd(acc.gcd_s, std::abs(row.local_s - acc.last_local_s));
  }
  acc.last_local_s = row.local_s;
  acc.last_ambiguous = ambiguous;
  const int64_t offset = row.local_s - acc.first_day * kSecondsPerDay;
  if (offset < 0) {
    return start_cell.Bad("ascending", "start times must increase", start_text);
  }
  const size_t idx = static_cast<size_t>(offset / acc.target_s);
  if (idx >= kSeriesIntervalsMax) {
    return start_cell.Bad("max_span", "history spans more than " +
                          std::to_string(kSeriesIntervalsMax) + " intervals", start_text);
  }
  if (idx >= acc.volume.size()) {
    const size_t n = idx + 1;
    acc.volume.resize(n, 0), acc.handle.resize(n, 0), acc.abandons.resize(n, 0);
    acc.has_row.resize(n, 0);
  }
  acc.volume[idx] += row.count;
  if (row.aht_s >= 0) acc.handle[idx] += row.count * row.aht_s;
  if (row.abandons >= 0) acc.abandons[idx] += row.abandons;
  acc.has_row[idx] = 1;
  return Ok();
}

Result<Row> ParseRow(const std::vector<std::string_view>& f, const Columns& cols, size_t line_no,
                     const ZoneRules& zone, std::string& start_text, Cell& start_cell) {
  const int needed = std::max({cols.start, cols.date, cols.time, cols.count, cols.aht, cols.abandons});
  if (static_cast<int>(f.size()) <= needed) {
    return Error::Invalid("line " + std::to_string(line_no), "column_count",
                          "line " + std::to_string(line_no) + ": " + std::to_string(f.size()) +
                              " columns, the header has " + std::to_string(cols.names.size()));
  }
  start_cell = Cell{line_no, cols.start >= 0 ? cols.start : cols.date, &cols};
  start_text = cols.start >= 0 ? std::string(f[cols.start])
                               : std::string(f[cols.date]) + " " + std::string(f[cols.time]);
  Row row{};
  OPSBOX_ASSIGN_OR_RETURN(row.local_s, ParseStart(start_text, start_cell, zone));
  OPSBOX_ASSIGN_OR_RETURN(row.count, ParseNumber(f[cols.count], Cell{line_no, cols.count, &cols},
                                                 kHistoryCountMax, true));
  row.aht_s = row.abandons = -1;
  if (cols.aht >= 0) {
    const Cell cell{line_no, cols.aht, &cols};
    OPSBOX_ASSIGN_OR_RETURN(row.aht_s, ParseNumber(f[cols.aht], cell, kHistoryAhtMaxS, false));
    if (row.aht_s == 0 && row.count > 0) {
      return cell.Bad("positive_when_calls", "handle time must be > 0 when the count is > 0",
                      f[cols.aht]);
    }
  }
  if (cols.abandons >= 0) {
    const Cell cell{line_no, cols.abandons, &cols};
    OPSBOX_ASSIGN_OR_RETURN(row.abandons, ParseNumber(f[cols.abandons], cell, kHistoryCountMax, false));
    if (row.abandons > row.count) {
      return cell.Bad("abandons_le_count", "abandons must not exceed the count", f[cols.abandons]);
    }
  }
  return row;
}

Status CheckOptions(const HistoryImportOptions& o) {
  if (o.interval_min != 15 && o.interval_min != 30 && o.interval_min != 60) {
    return Error::Invalid("interval_min", "one_of", "interval_min must be 15, 30 or 60");
  }
  if (o.rows_max == 0 || o.rows_max > kHistoryRowsMax) {
    return Error::Invalid("rows_max", "range", "rows_max must be 1.." + std::to_string(kHistoryRowsMax));
  }
  if (o.line_bytes_max == 0 || o.line_bytes_max > kHistoryLineBytesMax) {
    return Error::Invalid("line_bytes_max", "range",
                          "line_bytes_max must be 1.." + std::to_string(kHistoryLineBytesMax));
  }
  return Ok();
}

// Pads to whole days, counts intervals without rows and empty days, checks the source interval.
Result<HistoryImport> Finish(Accumulator& acc, HistoryImport out, const Columns& cols,
                             const HistoryImportOptions& o) {
  if (!acc.started) return Error::Invalid("history", "non_empty", "the history has no data rows");
  if (acc.gcd_s > acc.target_s || (acc.gcd_s > 0 && acc.target_s % acc.gcd_s != 0)) {
    return Error::Invalid("interval_min", "divides_source",
                          "the history's rows are " + std::to_string(acc.gcd_s / 60) +
                              " minutes apart: they cannot be aggregated into " +
                              std::to_string(o.interval_min) + "-minute intervals");
  }
  const size_t ipd = static_cast<size_t>(kSecondsPerDay / acc.target_s);
  const size_t n = (acc.volume.size() + ipd - 1) / ipd * ipd;
  acc.volume.resize(n, 0), acc.handle.resize(n, 0), acc.abandons.resize(n, 0);
  acc.has_row.resize(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (acc.has_row[i]) continue;
    ++out.intervals_without_rows;
    if (i == 0 || acc.has_row[i - 1]) ++out.gaps;
  }
  for (size_t d = 0; d < n / ipd; ++d) {
    if (std::any_of(acc.has_row.begin() + d * ipd, acc.has_row.begin() + (d + 1) * ipd,
                    [](uint8_t b) { return b != 0; })) {
      continue;
    }
    ++out.empty_days_total;
    if (out.empty_days.size() < kEmptyDaysReportedMax) {
      out.empty_days.push_back(acc.first_day + static_cast<int64_t>(d));
    }
  }
  out.source_interval_s = static_cast<int>(acc.gcd_s);
  out.has_aht = cols.aht >= 0;
  out.has_abandons = cols.abandons >= 0;
  out.ignored_columns = cols.ignored;
  out.series.first_start_local_s = acc.first_day * kSecondsPerDay;
  out.series.interval_min = o.interval_min;
  out.series.volume = std::move(acc.volume);
  if (out.has_aht) out.series.handle_total_s = std::move(acc.handle);
  if (out.has_abandons) out.series.abandons = std::move(acc.abandons);
  return out;
}

}  // namespace

Result<HistoryImport> ParseHistoryCsv(std::string_view csv, const HistoryImportOptions& options,
                                      const ZoneRules& zone) {
  OPSBOX_TRY(CheckOptions(options));
  if (csv.substr(0, 3) == "\xEF\xBB\xBF") csv.remove_prefix(3);
  HistoryImport out;
  Accumulator acc;
  acc.target_s = static_cast<int64_t>(options.interval_min) * 60;
  std::optional<Columns> cols;
  std::vector<std::string> unquoted;
  size_t line_no = 0, pos = 0;
  while (pos < csv.size()) {
    const size_t nl = std::min(csv.find('\n', pos), csv.size());
    std::string_view line = csv.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > options.line_bytes_max) {
      return Error::Invalid("line " + std::to_string(line_no), "max_line_bytes",
                            "line " + std::to_string(line_no) + " is longer than " +
                                std::to_string(options.line_bytes_max) + " bytes");
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    OPSBOX_ASSIGN_OR_RETURN(auto fields, SplitCsvLine(line, line_no, unquoted));
    if (!cols) {
      OPSBOX_ASSIGN_OR_RETURN(cols, MapHeader(fields));
      continue;
    }
    if (out.rows == options.rows_max) {
      return Error::Invalid("line " + std::to_string(line_no), "max_rows",
                            "line " + std::to_string(line_no) + ": more than " +
                                std::to_string(options.rows_max) + " data rows");
    }
    std::string start_text;
    Cell start_cell{line_no, 0, &*cols};
    OPSBOX_ASSIGN_OR_RETURN(Row row, ParseRow(fields, *cols, line_no, zone, start_text, start_cell));
    OPSBOX_TRY(AddRow(acc, row, start_cell, start_text, zone));
    ++out.rows;
  }
  if (!cols) return Error::Invalid("history", "header", "the history is empty: no header row");
  return Finish(acc, std::move(out), *cols, options);
}

Result<HistoryImport> ImportHistoryFile(const std::string& path,
                                        const HistoryImportOptions& options,
                                        const ZoneRules& zone) {
  OPSBOX_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, kHistoryFileBytesMax, "history"));
  return ParseHistoryCsv(text, options, zone);
}

namespace {

std::optional<int> ParseWeekday(std::string_view text) {
  static constexpr const char* kNames[] = {"monday", "tuesday", "wednesday", "thursday",
                                           "friday", "saturday", "sunday"};
  const std::string s = Lower(text);
  for (int i = 0; i < 7; ++i) {
    if (s == kNames[i] || s == std::string(kNames[i], 3)) return i;
  }
  return std::nullopt;
}

Result<SpecialDay> ParseSpecialRow(const std::vector<std::string_view>& f, int date_col,
                                   int like_col, int mult_col, size_t line_no) {
  const std::string where = "line " + std::to_string(line_no);
  auto get = [&](int col) { return col >= 0 && col < static_cast<int>(f.size()) ? f[col] : std::string_view{}; };
  SpecialDay day;
  const auto d = ParseDay(get(date_col));
  if (!d) return Error::Invalid(where + ": date", "date", where + ": date must be YYYY-MM-DD");
  day.local_day = *d;
  if (!get(like_col).empty()) {
    day.like_weekday = ParseWeekday(get(like_col));
    if (!day.like_weekday) {
      return Error::Invalid(where + ": like", "weekday", where + ": like must be a weekday name");
    }
  }
  if (const auto m = get(mult_col); !m.empty()) {
    const auto [p, ec] = std::from_chars(m.data(), m.data() + m.size(), day.multiplier);
    if (ec != std::errc() || p != m.data() + m.size() || !std::isfinite(day.multiplier) ||
        day.multiplier < 0 || day.multiplier > 1000) {
      return Error::Invalid(where + ": multiplier", "range",
                            where + ": multiplier must be a number in 0..1000");
    }
  }
  return day;
}

}  // namespace

Result<std::vector<SpecialDay>> ParseSpecialDaysCsv(std::string_view csv) {
  std::vector<SpecialDay> out;
  std::vector<std::string> unquoted;
  int date_col = -1, like_col = -1, mult_col = -1;
  size_t line_no = 0, pos = 0;
  while (pos < csv.size()) {
    const size_t nl = std::min(csv.find('\n', pos), csv.size());
    std::string_view line = csv.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kHistoryLineBytesMax) {
      return Error::Invalid("line " + std::to_string(line_no), "max_line_bytes", "line too long");
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    OPSBOX_ASSIGN_OR_RETURN(auto f, SplitCsvLine(line, line_no, unquoted));
    if (date_col < 0) {
      for (size_t i = 0; i < f.size(); ++i) {
        const std::string h = Lower(f[i]);
        if (h == "date") date_col = static_cast<int>(i);
        if (h == "like") like_col = static_cast<int>(i);
        if (h == "multiplier") mult_col = static_cast<int>(i);
      }
      if (date_col < 0) {
        return Error::Invalid("line 1", "date_column", "line 1: the header needs a date column");
      }
      continue;
    }
    if (out.size() == kSpecialDaysMax) {
      return Error::Invalid("line " + std::to_string(line_no), "max_rows", "too many special days");
    }
    OPSBOX_ASSIGN_OR_RETURN(SpecialDay d, ParseSpecialRow(f, date_col, like_col, mult_col, line_no));
    out.push_back(d);
  }
  return out;
}

Result<std::vector<SpecialDay>> LoadSpecialDaysFile(const std::string& path) {
  OPSBOX_ASSIGN_OR_RETURN(std::string text,
                          ReadFileCapped(path, kSpecialDaysFileBytesMax, "holidays"));
  return ParseSpecialDaysCsv(text);
}

}  // namespace opsbox::wfm
