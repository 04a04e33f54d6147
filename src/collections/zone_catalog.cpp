// The zones a calling window is checked in: tzdata's zone1970.tab maps countries to zones,
// core/zone.hpp loads each zone's rules; libphonenumber gives a phone number's country.
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <list>

#include "collections/contact_policy.hpp"
#include "core/files.hpp"

namespace opsbox::collections {
namespace {

std::vector<std::string_view> SplitTabs(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) return out;
    start = tab + 1;
  }
}

}  // namespace

Result<ZoneCatalog> ZoneCatalog::FromZoneTab(std::string_view text) {
  ZoneCatalog c;
  size_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const auto f = SplitTabs(line);
    if (f.size() < 3 || f[0].empty() || f[2].empty()) {
      return Error::Invalid("zone1970.tab", "format",
                            "line " + std::to_string(line_no) +
                                ": expected codes, coordinates and a zone separated by tabs");
    }
    size_t at = 0;
    while (at <= f[0].size()) {
      size_t comma = f[0].find(',', at);
      if (comma == std::string_view::npos) comma = f[0].size();
      const std::string_view code = f[0].substr(at, comma - at);
      if (code.size() != 2) {
        return Error::Invalid("zone1970.tab", "format",
                              "line " + std::to_string(line_no) + ": country code must be 2 letters");
      }
      c.country_zones_[std::string(code)].emplace_back(f[2]);
      at = comma + 1;
    }
  }
  return c;
}

Result<ZoneCatalog> ZoneCatalog::Load() {
  OPSBOX_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(std::string(kZone1970TabPath),
                                                           kZoneTabBytesMax, "zone1970.tab"));
  return FromZoneTab(text);
}

Result<uint16_t> ZoneCatalog::LoadZone(std::string_view name) {
  const auto it = zone_index_.find(std::string(name));
  if (it != zone_index_.end()) return it->second;
  if (zones_.size() >= kZonesMax) {
    return Error::Invalid("zone", "zones_max",
                          "more than " + std::to_string(kZonesMax) + " distinct zones");
  }
  OPSBOX_ASSIGN_OR_RETURN(ZoneRules rules, ZoneRules::Load(name));
  const auto index = static_cast<uint16_t>(zones_.size());
  zones_.push_back(std::move(rules));
  zone_index_.emplace(std::string(name), index);
  return index;
}

Result<uint32_t> ZoneCatalog::ResolveZone(std::string_view zone) {
  const auto it = zone_set_index_.find(std::string(zone));
  if (it != zone_set_index_.end()) return it->second;
  OPSBOX_ASSIGN_OR_RETURN(const uint16_t index, LoadZone(zone));
  const uint32_t set = AddSet({index});
  zone_set_index_.emplace(std::string(zone), set);
  return set;
}

Result<uint32_t> ZoneCatalog::ResolveCountry(std::string_view country) {
  const auto it = country_set_index_.find(std::string(country));
  if (it != country_set_index_.end()) return it->second;
  const auto names = country_zones_.find(std::string(country));
  if (names == country_zones_.end()) return kUnknownZoneSet;
  std::vector<uint16_t> set;
  for (const std::string& name : names->second) {
    OPSBOX_ASSIGN_OR_RETURN(const uint16_t index, LoadZone(name));
    set.push_back(index);
  }
  const uint32_t id = AddSet(std::move(set));
  country_set_index_.emplace(std::string(country), id);
  return id;
}

uint32_t ZoneCatalog::AddSet(std::vector<uint16_t> zones) {
  ZoneSet set;
  set.zones = std::move(zones);
  // Every instant where some zone of the set changes offset starts a new span.
  for (uint16_t z : set.zones) {
    for (int64_t t : zones_[z].Transitions()) set.starts_utc_s.push_back(t);
  }
  std::sort(set.starts_utc_s.begin(), set.starts_utc_s.end());
  set.starts_utc_s.erase(std::unique(set.starts_utc_s.begin(), set.starts_utc_s.end()),
                         set.starts_utc_s.end());
  auto span_at = [&](int64_t utc_s) {
    ZoneSpan span;
    bool first = true;
    for (uint16_t z : set.zones) {
      const auto off = static_cast<int32_t>(zones_[z].OffsetAtUtcS(utc_s));
      if (first || off < span.min_offset_s) span.min_offset_s = off, span.min_zone = z;
      if (first || off > span.max_offset_s) span.max_offset_s = off, span.max_zone = z;
      first = false;
    }
    return span;
  };
  set.spans.push_back(span_at(set.starts_utc_s.empty() ? 0 : set.starts_utc_s.front() - 1));
  for (int64_t t : set.starts_utc_s) set.spans.push_back(span_at(t));
  sets_.push_back(std::move(set));
  return static_cast<uint32_t>(sets_.size() - 1);
}

const ZoneSpan& ZoneSet::At(int64_t utc_s) const {
  const auto it = std::upper_bound(starts_utc_s.begin(), starts_utc_s.end(), utc_s);
  return spans[static_cast<size_t>(it - starts_utc_s.begin())];
}

std::vector<std::string> ZoneCatalog::CountryZones(std::string_view country) const {
  const auto it = country_zones_.find(std::string(country));
  return it == country_zones_.end() ? std::vector<std::string>{} : it->second;
}

Result<std::string> PhoneCountry(std::string_view e164, std::string_view field) {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (e164.empty() || e164.front() != '+' ||
      util->Parse(std::string(e164), "ZZ", &number) != PhoneNumberUtil::NO_PARSING_ERROR ||
      !util->IsPossibleNumber(number)) {
    return Error::Invalid(std::string(field), "e164",
                          std::string(field) + " must be an E.164 number such as +12025550143");
  }
  std::string region;
  util->GetRegionCodeForNumber(number, &region);
  if (region.empty() || region == "ZZ") {
    // Not valid for any region (e.g. an unassigned range): the calling code decides when it
    // belongs to one country only; +1 (many countries) stays unknown.
    std::list<std::string> regions;
    util->GetRegionCodesForCountryCallingCode(number.country_code(), &regions);
    if (regions.size() == 1) region = regions.front();
  }
  if (region.empty() || region == "ZZ" || region == "001") {
    return Error::Invalid(std::string(field), "country",
                          std::string(field) + " belongs to no single country");
  }
  return region;
}

}  // namespace opsbox::collections
