// Phone number validity behind pii::Scanner (internal to src/pii): libphonenumber, run only on
// candidates that pass cheap checks first, behind a bounded cache.
//
// A number written with "+" is read with its country code, whatever the regions. A number in
// national format is read in each region the caller allows, in order: the scanner's regions
// (ScannerOptions::phone_regions) and the regions of country words near the number. Before
// libphonenumber sees it, the digit count must fit the region (a national length that
// libphonenumber's metadata allows, possibly after the region's trunk prefix or country code:
// derived once per region at construction), so most digit runs never reach the regex-based
// parser. libphonenumber's answer (valid, and which type) depends on the region, the digit
// count and the leading digits, so the cache keys on those with the last
// kPhoneCacheSuffixDigits digits dropped (one customer base's numbers share few prefixes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace opsbox::pii::detail {

inline constexpr size_t kPhoneCacheEntriesMax = size_t{1} << 16;
inline constexpr int kPhoneCacheSuffixDigits = 3;
// National format: the fewest and most digits a number may have (with trunk prefix or country
// code); "+…": the fewest and most digits with the country code (E.164 allows 15).
inline constexpr size_t kPhoneNationalDigitsMin = 8;
inline constexpr size_t kPhoneNationalDigitsMax = 13;
inline constexpr size_t kPhonePlusDigitsMin = 8;
inline constexpr size_t kPhonePlusDigitsMax = 15;

// Where a national-format number may be read: an index into PhoneValidator's regions.
using RegionIndex = uint16_t;

class PhoneValidator {
 public:
  // `regions`: ISO 3166 alpha-2 codes libphonenumber knows (checked by the caller), in order;
  // they get indexes 0..n-1. `extra` (the country words' regions) get the next indexes; a code
  // already present is not added twice.
  PhoneValidator(std::span<const std::string> regions, std::span<const std::string_view> extra);

  size_t RegionCount() const { return plans_.size(); }
  size_t DefaultRegionCount() const { return default_count_; }
  // The index of `code` (present in the constructor's lists).
  RegionIndex IndexOf(std::string_view code) const;

  // `s` (digits with spaces, dashes, dots or parentheses; "+…" for an international number) is
  // a valid personal number: not toll-free, premium or shared-cost; a landline only with its
  // trunk prefix, country code or area code in parentheses, unless a country word named its
  // region. National numbers are read in the default regions, then in `named` (the regions
  // of country words near it). Thread-safe.
  bool Valid(std::string_view s, std::span<const RegionIndex> named = {}) const;

 private:
  struct Plan {
    std::string code;               // "IN"
    std::string country_code;       // "91"
    std::string trunk;              // "0", or "" where there is none
    uint32_t national_lengths = 0;  // bit n: a national number may have n digits
  };
  // The number type libphonenumber gives `s` read in `region` ("ZZ" for "+…"), -1: invalid.
  int TypeOf(std::string_view s, const std::string& digits, const Plan* plan) const;
  bool LengthFits(const Plan& plan, const std::string& digits) const;

  std::vector<Plan> plans_;
  size_t default_count_ = 0;
  mutable std::mutex mu_;
  mutable std::unordered_map<uint64_t, int> cache_;  // key -> number type, -1: invalid
};

}  // namespace opsbox::pii::detail
