// From Hyperscan hits to findings: validators, context words and the overlap merge.
#include "pii/internal/candidates.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "pii/internal/validators.hpp"

namespace opsbox::pii::detail {
namespace {

// A run of digit groups longer than this is an identifier of another kind (or noise).
constexpr size_t kRunGroupsMax = 8;
constexpr size_t kRunDigitsMax = 40;
constexpr size_t kEmailLocalBytesMax = 64;
constexpr size_t kEmailDomainBytesMax = 253;
// The longest context word ("card verification" with some spacing), for window look-ups.
constexpr size_t kContextWordBytesMax = 64;

int RankOf(Type t) {
  switch (t) {
    case Type::kCard: return 14;
    case Type::kAadhaar: return 13;
    case Type::kIban: return 12;
    case Type::kPan: return 11;
    case Type::kIfsc: return 10;
    case Type::kSsn: return 9;
    case Type::kEmail: return 8;
    case Type::kUpi: return 8;
    case Type::kDob: return 7;
    case Type::kCvv: return 6;
    case Type::kPassport: return 5;
    case Type::kVoterId: return 5;
    case Type::kPhone: return 3;
    case Type::kBankAccount: return 2;
  }
  return 0;
}

bool IsWordByte(char c) { return IsAlnum(c) || c == '_'; }
bool IsSep(char c) { return c == ' ' || c == '-'; }

struct Span {
  size_t start = 0;
  size_t end = 0;
};

// Context word spans per class, sorted by end, with "is one within the window" look-ups.
class ContextIndex {
 public:
  void Add(unsigned id, const Hit& h) { spans_[id - kPatCtxCvv].push_back({h.from, h.to}); }
  void Sort() {
    for (auto& v : spans_) {
      std::sort(v.begin(), v.end(), [](const Span& a, const Span& b) { return a.end < b.end; });
    }
  }
  const std::vector<Span>& Of(unsigned id) const { return spans_[id - kPatCtxCvv]; }
  bool Near(unsigned id, size_t start, size_t end) const {
    const auto& v = Of(id);
    const size_t lo = start > kContextWindowBytes ? start - kContextWindowBytes : 0;
    auto it = std::lower_bound(v.begin(), v.end(), lo,
                               [](const Span& s, size_t x) { return s.end < x; });
    for (; it != v.end() && it->end <= end + kContextWindowBytes + kContextWordBytesMax; ++it) {
      if (it->end <= start) return true;  // before, within the window (lower bound)
      if (it->start >= end) {
        if (it->start - end <= kContextWindowBytes) return true;
      } else {
        return true;  // overlapping
      }
    }
    return false;
  }

 private:
  std::array<std::vector<Span>, kPatternCount - kPatCtxCvv> spans_;
};

struct Group {
  size_t start = 0;
  size_t end = 0;
};

// The maximal run of digit groups joined by single separators around [from, to). Empty when
// the run touches a word, a '+' (phone territory) or a decimal point, or is too long.
std::vector<Group> NumberRun(std::string_view text, size_t from, size_t to, size_t* run_end) {
  while (from > 0 && IsDigit(text[from - 1])) --from;
  while (from >= 2 && IsSep(text[from - 1]) && IsDigit(text[from - 2])) {
    from -= 2;
    while (from > 0 && IsDigit(text[from - 1])) --from;
  }
  while (to + 1 < text.size() && IsSep(text[to]) && IsDigit(text[to + 1])) {
    to += 2;
    while (to < text.size() && IsDigit(text[to])) ++to;
  }
  *run_end = to;
  if (from > 0) {
    const char before = text[from - 1];
    if (IsWordByte(before) || before == '+') return {};
    if ((before == '.' || before == ',') && from >= 2 && IsDigit(text[from - 2])) return {};
  }
  if (to < text.size()) {
    const char after = text[to];
    if (IsWordByte(after)) return {};
    if ((after == '.' || after == ',') && to + 1 < text.size() && IsDigit(text[to + 1])) return {};
  }
  std::vector<Group> groups;
  size_t digits = 0;
  for (size_t i = from; i < to;) {
    size_t j = i;
    while (j < to && IsDigit(text[j])) ++j;
    groups.push_back({i, j});
    digits += j - i;
    if (groups.size() > kRunGroupsMax || digits > kRunDigitsMax) return {};
    i = j + 1;
  }
  return groups;
}

// At most 3 groups of 3+ digits, the way numbers are spoken and written ("98765 43210",
// "022 2345 6789"); other groupings are parts of other numbers.
bool PhoneGroupsPlausible(std::string_view s) {
  size_t groups = 1, group = 0;
  for (char c : s) {
    if (IsDigit(c)) {
      ++group;
      continue;
    }
    if (group < 3) return false;
    ++groups;
    group = 0;
  }
  return groups <= 3 && group >= 3;
}

struct Checks {
  const ContextIndex& ctx;
  const PhoneValidator& phones;
};

std::optional<Type> ClassifyNumber(std::string_view s, size_t digits, bool separated,
                                   const Checks& checks, size_t start, size_t end) {
  const ContextIndex& ctx = checks.ctx;
  if (digits >= 13 && digits <= 19 && CardValid(s)) return Type::kCard;
  if (digits == 12 && AadhaarValid(s)) return Type::kAadhaar;
  if (digits == 9) {
    bool with_separators = false;
    if (SsnValid(s, &with_separators) &&
        (with_separators || ctx.Near(kPatCtxSsn, start, end))) {
      return Type::kSsn;
    }
  }
  if (digits >= 10 && digits <= 13 && PhoneGroupsPlausible(s) && checks.phones.Valid(s)) {
    return Type::kPhone;
  }
  if (!separated && digits >= 9 && digits <= 18 && ctx.Near(kPatCtxAccount, start, end)) {
    return Type::kBankAccount;
  }
  return std::nullopt;
}

// Every group-aligned part of a run, longest first, that validates as a type; parts found do
// not overlap.
void ClassifyRun(std::string_view text, const std::vector<Group>& groups, const Checks& checks,
                 std::vector<Ranked>& out) {
  std::array<bool, kRunGroupsMax> used{};
  const size_t n = groups.size();
  for (size_t len = n; len >= 1; --len) {
    for (size_t i = 0; i + len <= n; ++i) {
      if (std::any_of(used.begin() + i, used.begin() + i + len, [](bool u) { return u; })) {
        continue;
      }
      size_t digits = 0;
      for (size_t g = i; g < i + len; ++g) digits += groups[g].end - groups[g].start;
      if (digits < 8 || digits > 19) continue;
      const size_t start = groups[i].start, end = groups[i + len - 1].end;
      auto type =
          ClassifyNumber(text.substr(start, end - start), digits, len > 1, checks, start, end);
      if (!type) continue;
      out.push_back({{start, end, *type}, RankOf(*type)});
      std::fill(used.begin() + i, used.begin() + i + len, true);
    }
  }
}

void ResolveNumbers(std::string_view text, const std::vector<Hit>& hits, const Checks& checks,
                    std::vector<Ranked>& out) {
  size_t done_until = 0;
  for (const auto& h : hits) {
    if (h.id != kPatNumber || h.to <= done_until) continue;
    size_t run_end = h.to;
    const auto groups = NumberRun(text, h.from, h.to, &run_end);
    done_until = run_end;
    if (!groups.empty()) ClassifyRun(text, groups, checks, out);
  }
}

// "+cc …" and "(area) …": for each start, the longest end that is a valid number.
void ResolvePhonePlus(std::string_view text, const std::vector<Hit>& hits,
                      const PhoneValidator& phones, std::vector<Ranked>& out) {
  std::map<size_t, std::vector<size_t>> ends_by_start;
  for (const auto& h : hits) {
    if (h.id == kPatPhonePlus) ends_by_start[h.from].push_back(h.to);
  }
  for (auto& [start, ends] : ends_by_start) {
    std::sort(ends.rbegin(), ends.rend());
    for (size_t end : ends) {
      if (end < text.size() && IsSep(text[end]) && end + 1 < text.size() &&
          IsDigit(text[end + 1])) {
        continue;  // more digits follow: part of a longer number
      }
      if (phones.Valid(text.substr(start, end - start))) {
        out.push_back({{start, end, Type::kPhone}, RankOf(Type::kPhone)});
        break;
      }
    }
  }
}

bool WordStartsAt(std::string_view text, size_t p) { return p == 0 || !IsWordByte(text[p - 1]); }

// The end of an IBAN starting at `start` ("CC99", then letters and digits with single spaces
// between them, up to the country's length), or 0.
size_t IbanEnd(std::string_view text, size_t start) {
  const size_t length = IbanLength(text.substr(start, 2));
  size_t chars = 0, p = start;
  while (length != 0 && p < text.size() && chars < length) {
    if (IsAlnum(text[p])) {
      ++chars;
    } else if (!(text[p] == ' ' && chars > 0 && p + 1 < text.size() && IsAlnum(text[p + 1]))) {
      break;
    }
    ++p;
  }
  if (chars != length || (p < text.size() && IsWordByte(text[p]))) return 0;
  return p;
}

// The finding a token trigger ending at `to` stands for, if it validates.
std::optional<Finding> ResolveToken(std::string_view text, const Hit& h, const ContextIndex& ctx) {
  const size_t to = h.to;
  auto fixed = [&](size_t len, Type type, bool valid) -> std::optional<Finding> {
    if (to < len || !WordStartsAt(text, to - len) || !valid) return std::nullopt;
    return Finding{to - len, to, type};
  };
  switch (h.id) {
    case kPatPan: return fixed(10, Type::kPan, to >= 10 && PanValid(text.substr(to - 10, 10)));
    case kPatIfsc: return fixed(11, Type::kIfsc, to >= 11 && IfscValid(text.substr(to - 11, 11)));
    case kPatIban: {
      const size_t end = IbanEnd(text, to - 4);
      if (end == 0 || !IbanValid(text.substr(to - 4, end - (to - 4)))) return std::nullopt;
      return Finding{to - 4, end, Type::kIban};
    }
    case kPatLetterDigits: {
      if (to >= 10 && IsAlpha(text[to - 10]) && IsAlpha(text[to - 9]) &&
          ctx.Near(kPatCtxVoter, to - 10, to)) {
        return fixed(10, Type::kVoterId, true);
      }
      return fixed(8, Type::kPassport, ctx.Near(kPatCtxPassport, to - 8, to));
    }
    default: return std::nullopt;
  }
}

void ResolveTokens(std::string_view text, const std::vector<Hit>& hits, const ContextIndex& ctx,
                   std::vector<Ranked>& out) {
  for (const auto& h : hits) {
    if (h.id < kPatPan || h.id > kPatLetterDigits) continue;
    if (auto f = ResolveToken(text, h, ctx)) out.push_back({*f, RankOf(f->type)});
  }
}

bool IsLocalByte(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsDomainByte(char c) { return IsAlnum(c) || c == '.' || c == '-'; }

// Expands "x@y" (the '@' at `at`) into an e-mail address or a UPI id.
std::optional<Finding> ResolveAt(std::string_view text, size_t at) {
  size_t start = at;
  while (start > 0 && IsLocalByte(text[start - 1]) && at - start <= kEmailLocalBytesMax) --start;
  if (at - start > kEmailLocalBytesMax) return std::nullopt;
  while (start < at && !IsAlnum(text[start])) ++start;  // no leading dot or dash
  size_t end = at + 1;
  while (end < text.size() && IsDomainByte(text[end]) && end - at <= kEmailDomainBytesMax) ++end;
  while (end > at + 1 && !IsAlnum(text[end - 1])) --end;  // a sentence's full stop
  if (start == at || end == at + 1 || (end < text.size() && text[end] == '@')) {
    return std::nullopt;
  }
  const std::string_view local = text.substr(start, at - start);
  const std::string_view domain = text.substr(at + 1, end - at - 1);
  const size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos) {
    if (!IsUpiPsp(domain) || local.size() < 2) return std::nullopt;
    if (local.find_first_of("%+") != std::string_view::npos) return std::nullopt;
    return Finding{start, end, Type::kUpi};
  }
  const std::string_view tld = domain.substr(dot + 1);
  if (tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), IsAlpha)) return std::nullopt;
  if (domain.find("..") != std::string_view::npos) return std::nullopt;
  return Finding{start, end, Type::kEmail};
}

void ResolveAts(std::string_view text, const std::vector<Hit>& hits, std::vector<Ranked>& out) {
  for (const auto& h : hits) {
    if (h.id != kPatAt) continue;
    if (auto f = ResolveAt(text, h.to - 1)) out.push_back({*f, RankOf(f->type)});
  }
}

bool TokenStart(std::string_view text, size_t p) { return p == 0 || !IsAlnum(text[p - 1]); }

// A date within the window after each date-of-birth context word.
void ResolveDob(std::string_view text, const ContextIndex& ctx, std::vector<Ranked>& out) {
  for (const auto& c : ctx.Of(kPatCtxDob)) {
    const size_t hi = std::min(text.size(), c.end + kContextWindowBytes);
    for (size_t p = c.end; p < hi; ++p) {
      if (!TokenStart(text, p)) continue;
      if (size_t n = DateLengthAt(text, p)) {
        out.push_back({{p, p + n, Type::kDob}, RankOf(Type::kDob)});
        break;
      }
    }
  }
}

// A standalone 3-4 digit number: not a part of a date, a grouped or a decimal number.
bool ShortNumberAt(std::string_view text, size_t p, size_t* end) {
  if (!IsDigit(text[p]) || !TokenStart(text, p)) return false;
  size_t e = p;
  while (e < text.size() && IsDigit(text[e])) ++e;
  if (e - p < 3 || e - p > 4 || (e < text.size() && IsAlnum(text[e]))) return false;
  // Joined by punctuation to a digit, or by a space to a group of 2+ digits.
  auto at = [&](size_t i) { return i < text.size() ? text[i] : '\0'; };  // wraps to '\0' too
  auto joined = [&](size_t sep_at, size_t d1, size_t d2) {
    const char sep = at(sep_at);
    if (sep != '\0' && std::string_view("/-.,:").find(sep) != std::string_view::npos) {
      return IsDigit(at(d1));
    }
    return sep == ' ' && IsDigit(at(d1)) && IsDigit(at(d2));
  };
  if (joined(p - 1, p - 2, p - 3) || joined(e, e + 1, e + 2)) return false;
  *end = e;
  return true;
}

// The first short number within the window after a CVV word, else the last one before it.
void ResolveCvv(std::string_view text, const ContextIndex& ctx, std::vector<Ranked>& out) {
  for (const auto& c : ctx.Of(kPatCtxCvv)) {
    const size_t hi = std::min(text.size(), c.end + kContextWindowBytes);
    size_t end = 0;
    std::optional<size_t> found;
    for (size_t p = c.end; p < hi && !found; ++p) {
      if (ShortNumberAt(text, p, &end)) found = p;
    }
    if (!found) {
      const size_t lo = c.start > kContextWindowBytes ? c.start - kContextWindowBytes : 0;
      for (size_t p = c.start; p-- > lo && !found;) {
        if (ShortNumberAt(text, p, &end) && end <= c.start) found = p;
      }
    }
    if (found) out.push_back({{*found, end, Type::kCvv}, RankOf(Type::kCvv)});
  }
}

}  // namespace

namespace {

// Phone characters walked back from a "+cc"/"(area)" match's end to find its '+' or '('.
constexpr size_t kPhoneMatchBytesMax = 32;
// The shortest context word ("ssn", "dob", "a/c"): a context match's start is taken as its
// end less this, which is all the window look-ups need.
constexpr uint32_t kContextWordBytesMin = 3;

// "+cc …" / "(area) …" ending at `to`: the last '+' before it, else the first '('.
size_t PhonePlusStart(std::string_view text, size_t to) {
  size_t p = to;
  while (p > 0 && to - p < kPhoneMatchBytesMax &&
         std::string_view("0123456789 -.()+").find(text[p - 1]) != std::string_view::npos) {
    --p;
  }
  const std::string_view span = text.substr(p, to - p);
  const size_t plus = span.rfind('+');
  if (plus != std::string_view::npos) return p + plus;
  const size_t paren = span.find('(');
  return paren != std::string_view::npos ? p + paren : to;
}

// Where a match starts, for the patterns whose start matters before they are resolved.
size_t MatchStart(std::string_view text, const Hit& h) {
  switch (h.id) {
    case kPatNumber: return h.to - 1;  // NumberRun walks back to the run's start
    case kPatPhonePlus: return PhonePlusStart(text, h.to);
    case kPatPan:
    case kPatIfsc:
    case kPatIban:
    case kPatLetterDigits:
    case kPatAt: return h.to - 1;  // ResolveToken and ResolveAts look around the end
    default: return h.to >= kContextWordBytesMin ? h.to - kContextWordBytesMin : 0;
  }
}

using PhoneUtil = i18n::phonenumbers::PhoneNumberUtil;

// The number type libphonenumber gives `s`, or -1 when it is not a valid number.
int PhoneTypeOf(std::string_view s, i18n::phonenumbers::PhoneNumber* number) {
  const auto& util = *PhoneUtil::GetInstance();
  if (util.Parse(std::string(s), "IN", number) != PhoneUtil::NO_PARSING_ERROR ||
      !util.IsValidNumber(*number)) {
    return -1;
  }
  return static_cast<int>(util.GetNumberType(*number));
}

// Cache key: country code, national number length and its digits but the last few.
uint64_t PhoneKey(int country_code, std::string_view national) {
  uint64_t prefix = 0;
  for (size_t i = 0; i + kPhoneCacheSuffixDigits < national.size(); ++i) {
    prefix = prefix * 10 + static_cast<uint64_t>(national[i] - '0');
  }
  return (prefix * 100 + national.size()) * 1000 + static_cast<uint64_t>(country_code);
}

// The country code and national number this file reads in `s`, for the cache; false when
// only libphonenumber can tell (parentheses, unusual lengths).
bool ReadPhone(std::string_view s, int* country_code, std::string* national) {
  std::string d;
  for (char c : s) {
    if (c == '(' || c == ')') return false;
    if (IsDigit(c)) d += c;
  }
  if (s[0] != '+') {
    *country_code = 91;
    if (d.size() == 10) *national = d;
    else if (d.size() == 11 && d[0] == '0') *national = d.substr(1);
    else if (d.size() == 12 && d.compare(0, 2, "91") == 0) *national = d.substr(2);
    else return false;
    return true;
  }
  const auto& util = *PhoneUtil::GetInstance();
  for (size_t n = 1; n <= 3 && n < d.size(); ++n) {
    const int cc = std::stoi(d.substr(0, n));
    std::string region;
    util.GetRegionCodeForCountryCode(cc, &region);
    if (region != "ZZ") {
      *country_code = cc;
      *national = d.substr(n);
      return !national->empty() && (*national)[0] != '0';
    }
  }
  return false;
}

bool PersonalNumber(std::string_view s, int type) {
  if (type < 0 || type == PhoneUtil::TOLL_FREE || type == PhoneUtil::PREMIUM_RATE ||
      type == PhoneUtil::SHARED_COST) {
    return false;  // invalid, or a business's service number
  }
  // A landline is written with its trunk prefix or country code; ten bare digits that only a
  // landline plan accepts are more often an order or reference number.
  return type != PhoneUtil::FIXED_LINE || s[0] == '0' || s[0] == '+' || s[0] == '(';
}

}  // namespace

bool PhoneValidator::Valid(std::string_view s) const {
  size_t digits = 0;
  for (char c : s) digits += IsDigit(c) ? 1 : 0;
  const bool plus = !s.empty() && s[0] == '+';
  if (digits < (plus ? 8u : 10u) || digits > (plus ? 15u : 13u)) return false;
  int cc = 0;
  std::string national;
  const bool cacheable = ReadPhone(s, &cc, &national);
  const uint64_t key = cacheable ? PhoneKey(cc, national) : 0;
  if (cacheable) {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return PersonalNumber(s, it->second);
  }
  i18n::phonenumbers::PhoneNumber number;
  const int type = PhoneTypeOf(s, &number);
  if (cacheable && number.country_code() == cc &&
      std::to_string(number.national_number()) == national) {
    std::lock_guard lock(mu_);
    if (cache_.size() >= kPhoneCacheEntriesMax) cache_.clear();
    cache_.emplace(key, type);
  }
  return PersonalNumber(s, type);
}

std::vector<Ranked> Resolve(std::string_view text, std::vector<Hit>& hits,
                            const PhoneValidator& phones) {
  for (auto& h : hits) h.from = static_cast<uint32_t>(MatchStart(text, h));
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.to != b.to ? a.to < b.to : a.from < b.from;
  });
  ContextIndex ctx;
  for (const auto& h : hits) {
    if (h.id >= kPatCtxCvv) ctx.Add(h.id, h);
  }
  ctx.Sort();
  std::vector<Ranked> out;
  ResolveNumbers(text, hits, Checks{ctx, phones}, out);
  ResolvePhonePlus(text, hits, phones, out);
  ResolveTokens(text, hits, ctx, out);
  ResolveAts(text, hits, out);
  ResolveDob(text, ctx, out);
  ResolveCvv(text, ctx, out);
  return out;
}

std::vector<Finding> Merge(std::vector<Ranked> candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const Ranked& a, const Ranked& b) {
    if (a.rank != b.rank) return a.rank > b.rank;
    const size_t la = a.finding.end - a.finding.start, lb = b.finding.end - b.finding.start;
    if (la != lb) return la > lb;
    return a.finding.start < b.finding.start;
  });
  std::map<size_t, Finding> taken;  // by start
  for (const auto& c : candidates) {
    const Finding& f = c.finding;
    auto next = taken.lower_bound(f.start);
    if (next != taken.end() && next->second.start < f.end) continue;
    if (next != taken.begin() && std::prev(next)->second.end > f.start) continue;
    taken.emplace(f.start, f);
  }
  std::vector<Finding> out;
  out.reserve(taken.size());
  for (auto& [start, f] : taken) out.push_back(f);
  return out;
}

}  // namespace opsbox::pii::detail
