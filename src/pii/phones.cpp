// Phone number validity (see internal/phones.hpp): cheap length checks, a cache, then
// libphonenumber.
#include "pii/internal/phones.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>

#include "core/assert.hpp"
#include "pii/internal/validators.hpp"

namespace opsbox::pii::detail {
namespace {

using PhoneUtil = i18n::phonenumbers::PhoneNumberUtil;

// National numbers are at most 17 digits long (libphonenumber's own limit).
constexpr int kNationalDigitsMax = 17;
// The cache's region for "+…" numbers, read without a region.
constexpr uint64_t kInternational = 0xFFFF;

// The national lengths libphonenumber's metadata allows for a country code: a number of each
// length is asked whether it is possible (its length alone decides that).
uint32_t NationalLengths(int country_code) {
  const auto& util = *PhoneUtil::GetInstance();
  uint32_t mask = 0;
  uint64_t value = 2;
  for (int n = 1; n <= kNationalDigitsMax; ++n, value *= 10) {
    i18n::phonenumbers::PhoneNumber number;
    number.set_country_code(country_code);
    number.set_national_number(value);
    if (util.IsPossibleNumberWithReason(number) == PhoneUtil::IS_POSSIBLE) mask |= 1u << n;
  }
  return mask;
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return !prefix.empty() && s.size() > prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Exact: the digits but the last few (at most 12, < 2^40), the count (< 32), whether the
// text opens with '(' and the region (< 2^16).
uint64_t CacheKey(const std::string& digits, bool paren, uint64_t region) {
  uint64_t prefix = 0;
  for (size_t i = 0; i + kPhoneCacheSuffixDigits < digits.size(); ++i) {
    prefix = prefix * 10 + static_cast<uint64_t>(digits[i] - '0');
  }
  return ((prefix * 32 + digits.size()) * 2 + (paren ? 1 : 0)) * 65536 + region;
}

bool Personal(std::string_view s, int type, bool named) {
  if (type < 0 || type == PhoneUtil::TOLL_FREE || type == PhoneUtil::PREMIUM_RATE ||
      type == PhoneUtil::SHARED_COST) {
    return false;  // invalid, or a business's service number
  }
  // A landline is written with its trunk prefix, country code or area code in parentheses;
  // bare digits that only a landline plan accepts are more often an order or reference
  // number, unless the text names the country.
  return type != PhoneUtil::FIXED_LINE || named || s[0] == '0' || s[0] == '+' || s[0] == '(';
}

}  // namespace

PhoneValidator::PhoneValidator(std::span<const std::string> regions,
                               std::span<const std::string_view> extra) {
  const auto& util = *PhoneUtil::GetInstance();
  auto add = [&](std::string_view code) {
    for (const auto& p : plans_) {
      if (p.code == code) return;
    }
    Plan plan;
    plan.code = std::string(code);
    const int cc = util.GetCountryCodeForRegion(plan.code);
    OPSBOX_ASSERT_MSG(cc != 0, "pii: a phone region libphonenumber does not know");
    plan.country_code = std::to_string(cc);
    util.GetNddPrefixForRegion(plan.code, true, &plan.trunk);
    plan.national_lengths = NationalLengths(cc);
    plans_.push_back(std::move(plan));
  };
  for (const auto& r : regions) add(r);
  default_count_ = plans_.size();
  for (auto r : extra) add(r);
  OPSBOX_ASSERT(plans_.size() < kInternational);
}

RegionIndex PhoneValidator::IndexOf(std::string_view code) const {
  for (size_t i = 0; i < plans_.size(); ++i) {
    if (plans_[i].code == code) return static_cast<RegionIndex>(i);
  }
  OPSBOX_ASSERT_MSG(false, "pii: a phone region outside the validator's list");
  return 0;
}

bool PhoneValidator::LengthFits(const Plan& plan, const std::string& digits) const {
  auto fits = [&](size_t n) { return n <= kNationalDigitsMax && (plan.national_lengths >> n) & 1; };
  return fits(digits.size()) ||
         (StartsWith(digits, plan.trunk) && fits(digits.size() - plan.trunk.size())) ||
         (StartsWith(digits, plan.country_code) && fits(digits.size() - plan.country_code.size()));
}

int PhoneValidator::TypeOf(std::string_view s, const std::string& digits, const Plan* plan) const {
  const uint64_t key =
      CacheKey(digits, s[0] == '(', plan != nullptr ? plan - plans_.data() : kInternational);
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  const auto& util = *PhoneUtil::GetInstance();
  i18n::phonenumbers::PhoneNumber number;
  int type = -1;
  if (util.Parse(std::string(s), plan != nullptr ? plan->code : "ZZ", &number) ==
          PhoneUtil::NO_PARSING_ERROR &&
      util.IsValidNumber(number)) {
    type = static_cast<int>(util.GetNumberType(number));
  }
  std::lock_guard lock(mu_);
  if (cache_.size() >= kPhoneCacheEntriesMax) cache_.clear();
  cache_.emplace(key, type);
  return type;
}

bool PhoneValidator::Valid(std::string_view s, std::span<const RegionIndex> named) const {
  if (s.empty()) return false;
  std::string digits;
  for (char c : s) {
    if (IsDigit(c)) digits += c;
  }
  if (s[0] == '+') {
    if (digits.size() < kPhonePlusDigitsMin || digits.size() > kPhonePlusDigitsMax) return false;
    return Personal(s, TypeOf(s, digits, nullptr), false);
  }
  if (digits.size() < kPhoneNationalDigitsMin || digits.size() > kPhoneNationalDigitsMax) {
    return false;
  }
  auto valid_in = [&](size_t region, bool by_name) {
    const Plan& plan = plans_[region];
    return LengthFits(plan, digits) && Personal(s, TypeOf(s, digits, &plan), by_name);
  };
  for (size_t r = 0; r < default_count_; ++r) {
    const bool by_name = std::find(named.begin(), named.end(), r) != named.end();
    if (valid_in(r, by_name)) return true;
  }
  for (RegionIndex r : named) {
    if (r >= default_count_ && valid_in(r, true)) return true;
  }
  return false;
}

}  // namespace opsbox::pii::detail
