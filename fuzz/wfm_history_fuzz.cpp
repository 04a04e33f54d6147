// WFM history CSV (wfm/history.hpp, reached from POST …/wfm/forecasts and the CLI): ParseHistoryCsv
// never crashes on any text, in UTC and in a zone with daylight-saving gaps and overlaps, at every
// target interval; an error names a field and a rule; an import covers whole local days of the
// target interval and its counters stay within the series.
#include <cstdlib>
#include <string_view>

#include "wfm/history.hpp"

namespace {

const opsbox::wfm::ZoneRules& Zone(bool daylight_saving) {
  static const opsbox::wfm::ZoneRules kUtc = opsbox::wfm::ZoneRules::Utc();
  static const opsbox::wfm::ZoneRules kNewYork = [] {
    auto z = opsbox::wfm::ZoneRules::Load("America/New_York");
    return z.ok() ? *z : opsbox::wfm::ZoneRules::Utc();
  }();
  return daylight_saving ? kNewYork : kUtc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the target interval and the zone; the rest is the CSV text.
  static constexpr int kIntervals[] = {15, 30, 60};
  opsbox::wfm::HistoryImportOptions options;
  options.interval_min = kIntervals[data[0] % 3];
  const std::string_view csv(reinterpret_cast<const char*>(data + 1), size - 1);
  auto parsed = opsbox::wfm::ParseHistoryCsv(csv, options, Zone((data[0] & 0x10) != 0));
  if (!parsed.ok()) {
    if (parsed.error().field.empty() || parsed.error().rule.empty()) std::abort();
    return 0;
  }
  const auto& series = parsed->series;
  const size_t per_day = static_cast<size_t>(1440 / options.interval_min);
  if (series.interval_min != options.interval_min) std::abort();
  const size_t n = series.volume.size();
  if (n % per_day != 0) std::abort();
  if (!series.handle_total_s.empty() && series.handle_total_s.size() != n) std::abort();
  if (!series.abandons.empty() && series.abandons.size() != n) std::abort();
  if (parsed->has_aht != !series.handle_total_s.empty()) std::abort();
  if (parsed->intervals_without_rows > n) std::abort();
  for (double v : series.volume) {
    if (!(v >= 0)) std::abort();
  }
  if (parsed->rows > options.rows_max) std::abort();
  return 0;
}
