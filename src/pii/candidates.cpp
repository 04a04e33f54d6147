// From Hyperscan hits to findings: validators, context words and the overlap merge.
#include "pii/internal/candidates.hpp"

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

// Context word spans per class, sorted by end, with "is one within the window" look-ups; and
// the country words' spans with their regions.
class ContextIndex {
 public:
  void Add(unsigned id, const Hit& h) {
    if (id >= kPatternCount) {
      countries_.push_back({{h.from, h.to}, id - kPatternCount});
    } else {
      spans_[id - kPatCtxCvv].push_back({h.from, h.to});
    }
  }
  void Sort() {
    for (auto& v : spans_) {
      std::sort(v.begin(), v.end(), [](const Span& a, const Span& b) { return a.end < b.end; });
    }
    std::sort(countries_.begin(), countries_.end(),
              [](const Country& a, const Country& b) { return a.span.end < b.span.end; });
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
  // A context word of class `id` ends within the window before `start`.
  bool Before(unsigned id, size_t start) const {
    const auto& v = Of(id);
    const size_t lo = start > kContextWindowBytes ? start - kContextWindowBytes : 0;
    auto it = std::lower_bound(v.begin(), v.end(), lo,
                               [](const Span& s, size_t x) { return s.end < x; });
    return it != v.end() && it->end <= start;
  }
  // The regions of the country words within the window of [start, end), nearest first.
  std::vector<RegionIndex> Countries(size_t start, size_t end, const PhoneValidator& phones) const {
    std::vector<std::pair<size_t, RegionIndex>> near;
    const size_t lo = start > kContextWindowBytes ? start - kContextWindowBytes : 0;
    auto it = std::lower_bound(countries_.begin(), countries_.end(), lo,
                               [](const Country& c, size_t x) { return c.span.end < x; });
    for (; it != countries_.end() && it->span.end <= end + kContextWindowBytes + kContextWordBytesMax;
         ++it) {
      const Span& s = it->span;
      const size_t gap = s.end <= start ? start - s.end : s.start >= end ? s.start - end : 0;
      if (gap <= kContextWindowBytes) {
        near.push_back({gap, phones.IndexOf(CountryWords()[it->word].region)});
      }
    }
    std::sort(near.begin(), near.end());
    std::vector<RegionIndex> out;
    for (const auto& [gap, region] : near) out.push_back(region);
    return out;
  }

 private:
  struct Country {
    Span span;
    size_t word = 0;
  };
  std::array<std::vector<Span>, kPatternCount - kPatCtxCvv> spans_;
  std::vector<Country> countries_;
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
// "022 2345 6789"); the first group may be a 2-digit trunk prefix and area code ("09-765 4321",
// "03 612 3456"). Other groupings are parts of other numbers.
bool PhoneGroupsPlausible(std::string_view s) {
  size_t groups = 1, group = 0;
  for (char c : s) {
    if (IsDigit(c)) {
      ++group;
      continue;
    }
    if (group < 3 && !(groups == 1 && group == 2 && s[0] == '0')) return false;
    ++groups;
    group = 0;
  }
  return groups <= 3 && group >= 3;
}

struct Checks {
  const ContextIndex& ctx;
  const PhoneValidator& phones;
};

// Where a number sits in its run of digit groups.
enum class Part {
  kWhole,      // the whole run
  kShortTail,  // the run's start, followed by one space and one group of at most 4 digits
               // (a CVV or an expiry written after a card number)
  kInside      // any other part: a slice of a longer identifier
};
constexpr size_t kShortTailDigitsMax = 4;

std::optional<Type> ClassifyNumber(std::string_view s, size_t digits, bool separated, Part part,
                                   const Checks& checks, size_t start, size_t end) {
  const ContextIndex& ctx = checks.ctx;
  // Cards and Aadhaar numbers stand alone: a slice of a longer grouped number ("case
  // 3810-3028-7567-1756-5641", or twelve digits of a 16-digit number that failed Luhn) is
  // neither.
  if (digits >= 13 && digits <= 19 && part != Part::kInside && CardValid(s)) return Type::kCard;
  // Twelve Verhoeff-valid digits are an Aadhaar number, unless they are written plain right
  // after an account word (one account number in ten passes Verhoeff) and the text never
  // mentions Aadhaar. Grouped 4-4-4 they are Aadhaar's printed form whatever follows
  // ("… - please link to my account").
  if (digits == 12 && part == Part::kWhole && AadhaarValid(s) &&
      (separated || ctx.Near(kPatCtxAadhaar, start, end) ||
       !ctx.Before(kPatCtxAccount, start))) {
    return Type::kAadhaar;
  }
  if (digits == 9) {
    bool with_separators = false;
    if (SsnValid(s, &with_separators) &&
        (with_separators || ctx.Near(kPatCtxSsn, start, end))) {
      return Type::kSsn;
    }
  }
  if (digits >= kPhoneNationalDigitsMin && digits <= kPhoneNationalDigitsMax &&
      PhoneGroupsPlausible(s) &&
      checks.phones.Valid(s, ctx.Countries(start, end, checks.phones))) {
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
      const Part part =
          len == n ? Part::kWhole
          : i == 0 && len + 1 == n && text[end] == ' ' &&
                  groups[n - 1].end - groups[n - 1].start <= kShortTailDigitsMax
              ? Part::kShortTail
              : Part::kInside;
      auto type = ClassifyNumber(text.substr(start, end - start), digits, len > 1, part, checks,
                                 start, end);
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
void ResolvePhonePlus(std::string_view text, const std::vector<Hit>& hits, const Checks& checks,
                      std::vector<Ranked>& out) {
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
      const auto named = text[start] == '+' ? std::vector<RegionIndex>()
                                            : checks.ctx.Countries(start, end, checks.phones);
      if (checks.phones.Valid(text.substr(start, end - start), named)) {
        out.push_back({{start, end, Type::kPhone}, RankOf(Type::kPhone)});
        break;
      }
    }
  }
}

// A national number written with dots ("212.555.0123"): a phone number when it is valid in a
// region, like the digit runs; not a part of a longer dotted or digit run (versions, addresses).
void ResolvePhoneDots(std::string_view text, const std::vector<Hit>& hits, const Checks& checks,
                      std::vector<Ranked>& out) {
  for (const auto& h : hits) {
    if (h.id != kPatPhoneDots) continue;
    size_t start = h.to;
    while (start > 0 && (IsDigit(text[start - 1]) || text[start - 1] == '.')) --start;
    while (start < h.to && !IsDigit(text[start])) ++start;
    if (start > 0 && (IsWordByte(text[start - 1]) || text[start - 1] == '+')) continue;
    if (h.to < text.size() && (text[h.to] == '.' || text[h.to] == '-') && h.to + 1 < text.size() &&
        IsDigit(text[h.to + 1])) {
      continue;
    }
    const std::string_view s = text.substr(start, h.to - start);
    if (std::count(s.begin(), s.end(), '.') != 2) continue;
    if (checks.phones.Valid(s, checks.ctx.Countries(start, h.to, checks.phones))) {
      out.push_back({{start, h.to, Type::kPhone}, RankOf(Type::kPhone)});
    }
  }
}

// "AAA.GG.SSSS": an SSN written with dots, alone (not a part of a dotted run such as a
// version or an address).
void ResolveSsnDots(std::string_view text, const std::vector<Hit>& hits, std::vector<Ranked>& out) {
  for (const auto& h : hits) {
    if (h.id != kPatSsnDots || h.to < 11) continue;
    const size_t start = h.to - 11;
    if (start > 0 && (IsWordByte(text[start - 1]) || text[start - 1] == '.' ||
                      text[start - 1] == '-' || text[start - 1] == '+')) {
      continue;
    }
    if (h.to + 1 < text.size() && (text[h.to] == '.' || text[h.to] == '-') &&
        IsDigit(text[h.to + 1])) {
      continue;
    }
    bool with_separators = false;
    if (SsnValid(text.substr(start, 11), &with_separators)) {
      out.push_back({{start, h.to, Type::kSsn}, RankOf(Type::kSsn)});
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
    case kPatPan: {
      // Permanent account numbers are issued in capitals. Written all in lower case (chat) a
      // PAN is one only after a PAN context word; mixed case is not a PAN.
      if (to < 10 || !PanValid(text.substr(to - 10, 10))) return std::nullopt;
      const std::string_view v = text.substr(to - 10, 10);
      const bool upper = std::none_of(v.begin(), v.end(), [](char c) { return c >= 'a' && c <= 'z'; });
      const bool lower = std::none_of(v.begin(), v.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
      return fixed(10, Type::kPan, upper || (lower && ctx.Near(kPatCtxPan, to - 10, to)));
    }
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

// A UTF-8 letter of an internationalised domain name at text[p]: its length in bytes, or 0
// for anything else (invalid UTF-8, spaces and punctuation of any script, symbols, emoji), so
// that a sentence's "。" or "।" ends the address.
size_t IdnLetterLength(std::string_view text, size_t p) {
  const auto b0 = static_cast<unsigned char>(text[p]);
  size_t n = 0;
  uint32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2, cp = b0 & 0x1F;
  else if (b0 >= 0xE0 && b0 <= 0xEF) n = 3, cp = b0 & 0x0F;
  else if (b0 >= 0xF0 && b0 <= 0xF4) n = 4, cp = b0 & 0x07;
  else return 0;
  if (p + n > text.size()) return 0;
  for (size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(text[p + i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  constexpr std::pair<uint32_t, uint32_t> kNotLetters[] = {
      {0x80, 0xBF},     {0xD7, 0xD7},     {0xF7, 0xF7},     {0x37E, 0x37E},
      {0x55A, 0x55F},   {0x589, 0x58A},   {0x5BE, 0x5BE},   {0x5C0, 0x5C0},
      {0x5C3, 0x5C3},   {0x5F3, 0x5F4},   {0x600, 0x61F},   {0x66A, 0x66D},
      {0x6D4, 0x6D4},   {0x964, 0x965},   {0x970, 0x970},   {0xE4F, 0xE4F},
      {0xE5A, 0xE5B},   {0x2000, 0x2BFF}, {0x3000, 0x303F}, {0xD800, 0xDFFF},
      {0xFE10, 0xFE6F}, {0xFEFF, 0xFEFF}, {0xFF00, 0xFF0F}, {0xFF1A, 0xFF20},
      {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65}, {0xFFF0, 0xFFFF}, {0x1F000, 0x1FFFF}};
  for (const auto& [lo, hi] : kNotLetters) {
    if (cp >= lo && cp <= hi) return 0;
  }
  return (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ? 0 : n;
}

bool IsAscii(char c) { return static_cast<unsigned char>(c) < 0x80; }

// The end of the domain after an '@' at `at`: ASCII letters, digits, '-' and '.', and UTF-8
// letters (internationalised domain names, RFC 5890); at most kEmailDomainBytesMax bytes.
size_t DomainEnd(std::string_view text, size_t at) {
  size_t end = at + 1;
  while (end < text.size() && end - at <= kEmailDomainBytesMax) {
    const char c = text[end];
    if (IsAlnum(c) || c == '.' || c == '-') {
      ++end;
    } else if (size_t n = IsAscii(c) ? 0 : IdnLetterLength(text, end)) {
      end += n;
    } else {
      break;
    }
  }
  return end;
}

// The top-level label of `domain` (after its last dot) as far as it is one: ASCII letters, an
// A-label ("xn--…", RFC 5891), or UTF-8 letters only (a U-label). A label that changes from
// ASCII to UTF-8 or back ends at the change (text in another script runs on after the
// address without a space): its length in bytes, 0 when no top-level label fits.
size_t TldLength(std::string_view tld) {
  if (tld.size() >= 5 && (tld.substr(0, 4) == "xn--" || tld.substr(0, 4) == "XN--")) {
    size_t n = 4;
    while (n < tld.size() && (IsAlnum(tld[n]) || tld[n] == '-')) ++n;
    return n > 4 && IsAlnum(tld[n - 1]) ? n : 0;
  }
  size_t n = 0;
  if (IsAscii(tld[0])) {
    while (n < tld.size() && IsAlpha(tld[n])) ++n;
    return n >= 2 && (n == tld.size() || !IsAscii(tld[n])) ? n : 0;
  }
  while (n < tld.size() && !IsAscii(tld[n])) ++n;
  return n;
}

// Every label of `domain` is 1..63 bytes, neither starts nor ends with '-', and an A-label
// ("xn--") has something after its prefix (RFC 1035, RFC 5891).
bool LabelsValid(std::string_view domain) {
  constexpr size_t kLabelBytesMax = 63;
  for (size_t from = 0; from <= domain.size();) {
    size_t dot = domain.find('.', from);
    if (dot == std::string_view::npos) dot = domain.size();
    const std::string_view label = domain.substr(from, dot - from);
    if (label.empty() || label.size() > kLabelBytesMax || label.front() == '-' ||
        label.back() == '-') {
      return false;
    }
    if (label.size() <= 4 && (label.substr(0, 4) == "xn--" || label.substr(0, 4) == "XN--")) {
      return false;
    }
    from = dot + 1;
  }
  return true;
}

// Expands "x@y" (the '@' at `at`) into an e-mail address or a UPI id.
std::optional<Finding> ResolveAt(std::string_view text, size_t at) {
  size_t start = at;
  while (start > 0 && IsLocalByte(text[start - 1]) && at - start <= kEmailLocalBytesMax) --start;
  if (at - start > kEmailLocalBytesMax) return std::nullopt;
  while (start < at && !IsAlnum(text[start])) ++start;  // no leading dot or dash
  size_t end = DomainEnd(text, at);
  while (end > at + 1 && (text[end - 1] == '.' || text[end - 1] == '-')) --end;  // a full stop
  if (start == at || end == at + 1 || (end < text.size() && text[end] == '@')) {
    return std::nullopt;
  }
  const std::string_view local = text.substr(start, at - start);
  std::string_view domain = text.substr(at + 1, end - at - 1);
  const size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos) {
    if (!IsUpiPsp(domain) || local.size() < 2) return std::nullopt;
    if (local.find_first_of("%+") != std::string_view::npos) return std::nullopt;
    return Finding{start, end, Type::kUpi};
  }
  if (dot + 1 >= domain.size()) return std::nullopt;
  const size_t tld = TldLength(domain.substr(dot + 1));
  if (tld == 0) return std::nullopt;
  domain = domain.substr(0, dot + 1 + tld);
  if (!LabelsValid(domain)) return std::nullopt;
  return Finding{start, at + 1 + domain.size(), Type::kEmail};
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
    case kPatAt:
    case kPatSsnDots:
    case kPatPhoneDots: return h.to - 1;  // their resolvers look around the end
    default: return h.to >= kContextWordBytesMin ? h.to - kContextWordBytesMin : 0;
  }
}

}  // namespace

std::span<const CountryWord> CountryWords() {
  // Names, demonyms and the capitals that stand for a country in contact-centre text. The
  // short upper-case forms are case-sensitive: "us" is a pronoun, "US" a country.
  static constexpr CountryWord kWords[] = {
      {R"(\b(?:US|USA)\b|\bU\.S\.(?:A\.)?)", false, "US"},
      {R"(\b(?:united\s+states|america|american)\b)", true, "US"},
      {R"(\b(?:canada|canadian)\b)", true, "CA"},
      {R"(\bUK\b|\bU\.K\.)", false, "GB"},
      {R"(\b(?:united\s+kingdom|britain|british|england|london)\b)", true, "GB"},
      {R"(\b(?:ireland|irish)\b)", true, "IE"},
      {R"(\b(?:israel|israeli|tel\s+aviv|jerusalem)\b)", true, "IL"},
      {R"(\b(?:china|chinese|beijing|shanghai|prc)\b)", true, "CN"},
      {R"(\b(?:hong\s+kong)\b)", true, "HK"},
      {R"(\b(?:india|indian)\b)", true, "IN"},
      {R"(\b(?:UAE)\b)", false, "AE"},
      {R"(\b(?:emirates|emirati|dubai|abu\s+dhabi)\b)", true, "AE"},
      {R"(\b(?:saudi|riyadh|jeddah)\b)", true, "SA"},
      {R"(\b(?:qatar|qatari|doha)\b)", true, "QA"},
      {R"(\b(?:kuwait|kuwaiti)\b)", true, "KW"},
      {R"(\b(?:oman|omani|muscat)\b)", true, "OM"},
      {R"(\b(?:bahrain)\b)", true, "BH"},
      {R"(\b(?:singapore|singaporean)\b)", true, "SG"},
      {R"(\b(?:malaysia|malaysian)\b)", true, "MY"},
      {R"(\b(?:australia|australian)\b)", true, "AU"},
      {R"(\b(?:new\s+zealand)\b)", true, "NZ"},
      {R"(\b(?:germany|german)\b)", true, "DE"},
      {R"(\b(?:france|french)\b)", true, "FR"},
      {R"(\b(?:spain|spanish)\b)", true, "ES"},
      {R"(\b(?:italy|italian)\b)", true, "IT"},
      {R"(\b(?:netherlands|dutch)\b)", true, "NL"},
      {R"(\b(?:japan|japanese)\b)", true, "JP"},
      {R"(\b(?:pakistan|pakistani)\b)", true, "PK"},
      {R"(\b(?:bangladesh|bangladeshi)\b)", true, "BD"},
      {R"(\b(?:nepal|nepali|nepalese)\b)", true, "NP"},
      {R"(\b(?:sri\s+lanka|sri\s+lankan)\b)", true, "LK"},
      {R"(\b(?:philippines|filipino)\b)", true, "PH"},
      {R"(\b(?:south\s+africa|south\s+african)\b)", true, "ZA"},
      {R"(\b(?:nigeria|nigerian)\b)", true, "NG"},
      {R"(\b(?:kenya|kenyan)\b)", true, "KE"},
      {R"(\b(?:brazil|brazilian)\b)", true, "BR"},
      {R"(\b(?:mexico|mexican)\b)", true, "MX"},
  };
  return kWords;
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
  const Checks checks{ctx, phones};
  ResolveNumbers(text, hits, checks, out);
  ResolvePhonePlus(text, hits, checks, out);
  ResolvePhoneDots(text, hits, checks, out);
  ResolveSsnDots(text, hits, out);
  ResolveTokens(text, hits, ctx, out);
  ResolveAts(text, hits, out);
  ResolveDob(text, ctx, out);
  ResolveCvv(text, ctx, out);
  return out;
}

namespace {

// Resolves one cluster of overlapping candidates: the highest rank first, then the longest,
// then the first; a candidate overlapping one already taken is dropped.
void MergeCluster(std::vector<Ranked>::iterator first, std::vector<Ranked>::iterator last,
                  std::vector<Finding>& out) {
  std::sort(first, last, [](const Ranked& a, const Ranked& b) {
    if (a.rank != b.rank) return a.rank > b.rank;
    const size_t la = a.finding.end - a.finding.start, lb = b.finding.end - b.finding.start;
    if (la != lb) return la > lb;
    return a.finding.start < b.finding.start;
  });
  const size_t from = out.size();
  for (auto it = first; it != last; ++it) {
    const Finding& f = it->finding;
    const bool overlaps = std::any_of(out.begin() + static_cast<std::ptrdiff_t>(from), out.end(),
                                      [&](const Finding& t) { return t.start < f.end && f.start < t.end; });
    if (!overlaps) out.push_back(f);
  }
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(from), out.end(),
            [](const Finding& a, const Finding& b) { return a.start < b.start; });
}

}  // namespace

// Candidates sorted by start fall into clusters of transitively overlapping ones; most are
// alone, and each cluster is resolved on its own (no overlap crosses clusters).
std::vector<Finding> Merge(std::vector<Ranked> candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const Ranked& a, const Ranked& b) {
    return a.finding.start < b.finding.start;
  });
  std::vector<Finding> out;
  out.reserve(candidates.size());
  for (auto first = candidates.begin(); first != candidates.end();) {
    size_t cluster_end = first->finding.end;
    auto last = first + 1;
    while (last != candidates.end() && last->finding.start < cluster_end) {
      cluster_end = std::max(cluster_end, last->finding.end);
      ++last;
    }
    if (last - first == 1) {
      out.push_back(first->finding);
    } else {
      MergeCluster(first, last, out);
    }
    first = last;
  }
  return out;
}

}  // namespace opsbox::pii::detail
