#include "core/zone.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/files.hpp"

namespace opsbox {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

uint32_t ReadBe32(std::string_view b, size_t pos) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(b[pos])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[pos + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[pos + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(b[pos + 3]));
}

}  // namespace

ZoneRules ZoneRules::Utc() { return ZoneRules(); }

Result<ZoneRules> ZoneRules::FromTzif(std::string_view name, std::string_view b) {
  auto bad = [&](const std::string& why) {
    return Error::Invalid("zone", "tzif", "zone " + std::string(name) + ": " + why);
  };
  constexpr size_t kHeader = 44;
  if (b.size() < kHeader || b.substr(0, 4) != "TZif") return bad("not a TZif file");
  auto counts = [&](size_t at, std::array<uint32_t, 6>& c) {
    for (size_t i = 0; i < 6; ++i) c[i] = ReadBe32(b, at + 20 + 4 * i);
  };
  std::array<uint32_t, 6> c;  // isutcnt isstdcnt leapcnt timecnt typecnt charcnt
  counts(0, c);
  size_t at = kHeader;
  size_t width = 4;
  if (b[4] >= '2') {
    const size_t v1 = c[3] * 5ull + c[4] * 6ull + c[5] + c[2] * 8ull + c[1] + c[0];
    at = kHeader + v1;
    if (b.size() < at + kHeader || b.substr(at, 4) != "TZif") return bad("truncated");
    counts(at, c);
    at += kHeader;
    width = 8;
  }
  const size_t timecnt = c[3], typecnt = c[4];
  if (typecnt == 0 || b.size() < at + timecnt * (width + 1) + typecnt * 6) return bad("truncated");
  ZoneRules z;
  z.name_ = std::string(name);
  const size_t types_at = at + timecnt * (width + 1);
  auto type_offset = [&](size_t t) { return static_cast<int32_t>(ReadBe32(b, types_at + 6 * t)); };
  z.initial_offset_s_ = type_offset(0);
  for (size_t i = 0; i < timecnt; ++i) {
    int64_t t = width == 8 ? static_cast<int64_t>((static_cast<uint64_t>(ReadBe32(b, at + 8 * i)) << 32) |
                                                  ReadBe32(b, at + 8 * i + 4))
                           : static_cast<int32_t>(ReadBe32(b, at + 4 * i));
    const auto type = static_cast<unsigned char>(b[at + timecnt * width + i]);
    if (type >= typecnt) return bad("transition type out of range");
    if (!z.transitions_utc_s_.empty() && t <= z.transitions_utc_s_.back()) return bad("unsorted");
    z.transitions_utc_s_.push_back(t);
    z.offsets_s_.push_back(type_offset(type));
  }
  return z;
}

Result<ZoneRules> ZoneRules::Load(std::string_view name) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC") return Utc();
  const bool safe = std::all_of(name.begin(), name.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '_' || ch == '-' ||
           ch == '+';
  });
  if (!safe || name.find("..") != std::string_view::npos || name.front() == '/') {
    return Error::Invalid("zone", "iana_name", "zone must be an IANA name such as America/New_York");
  }
  auto bytes = ReadFileCapped("/usr/share/zoneinfo/" + std::string(name), kZoneFileBytesMax, "zone");
  if (!bytes.ok()) {
    return Error::Invalid("zone", "known_zone", "unknown time zone " + std::string(name));
  }
  return FromTzif(name, *bytes);
}

int64_t ZoneRules::OffsetAtUtcS(int64_t utc_s) const {
  const auto it = std::upper_bound(transitions_utc_s_.begin(), transitions_utc_s_.end(), utc_s);
  if (it == transitions_utc_s_.begin()) return initial_offset_s_;
  return offsets_s_[static_cast<size_t>(it - transitions_utc_s_.begin()) - 1];
}

ZoneRules::LocalResolution ZoneRules::ResolveLocal(int64_t local_s) const {
  // Offsets in force a day either side cover any single transition near this local time.
  const int64_t before = OffsetAtUtcS(local_s - kSecondsPerDay);
  const int64_t after = OffsetAtUtcS(local_s + kSecondsPerDay);
  std::vector<int64_t> valid;
  for (int64_t o : {before, after}) {
    if (OffsetAtUtcS(local_s - o) == o &&
        std::find(valid.begin(), valid.end(), local_s - o) == valid.end()) {
      valid.push_back(local_s - o);
    }
  }
  if (valid.empty()) {
    // The skipped wall-clock hour ends at the last transition at or before local_s read with the
    // offset that was in force before the jump.
    const auto it = std::upper_bound(transitions_utc_s_.begin(), transitions_utc_s_.end(),
                                     local_s - before);
    const int64_t jump_s = it == transitions_utc_s_.begin() ? local_s - before : *(it - 1);
    return {LocalKind::kNonexistent, jump_s, jump_s};
  }
  if (valid.size() == 1) return {LocalKind::kUnique, valid[0], valid[0]};
  return {LocalKind::kAmbiguous, std::min(valid[0], valid[1]), std::max(valid[0], valid[1])};
}

}  // namespace opsbox
