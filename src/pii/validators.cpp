// Checksums and formats behind pii::Scanner (see internal/validators.hpp).
#include "pii/internal/validators.hpp"

#include <array>
#include <cstdint>

namespace opsbox::pii::detail {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

namespace {

bool IsSeparator(char c) { return c == ' ' || c == '-'; }

// Digits with at most one kind of separator, each group at least `group_min` digits long.
bool GroupsRegular(std::string_view s, size_t group_min) {
  char sep = 0;
  size_t group = 0;
  for (char c : s) {
    if (IsDigit(c)) {
      ++group;
      continue;
    }
    if (!IsSeparator(c) || group < group_min || (sep != 0 && c != sep)) return false;
    sep = c;
    group = 0;
  }
  return group >= 1;
}

int Digit(char c) { return c - '0'; }

// Parses 1..max_len digits at text[pos]; returns the count read (0: none) and the value.
size_t ReadNumber(std::string_view text, size_t pos, size_t max_len, int* value) {
  size_t n = 0;
  *value = 0;
  while (pos + n < text.size() && n < max_len && IsDigit(text[pos + n])) {
    *value = *value * 10 + Digit(text[pos + n]);
    ++n;
  }
  if (pos + n < text.size() && IsDigit(text[pos + n])) return 0;  // a longer number
  return n;
}

// Month name at text[pos] (full or 3-4 letter abbreviation): 1..12 and its length, or 0.
int ReadMonth(std::string_view text, size_t pos, size_t* len) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  size_t n = 0;
  while (pos + n < text.size() && IsAlpha(text[pos + n]) && n < 10) ++n;
  if (n < 3 || (pos + n < text.size() && IsAlpha(text[pos + n]))) return 0;
  std::string word;
  for (size_t i = 0; i < n; ++i) word += static_cast<char>(ToUpper(text[pos + i]) - 'A' + 'a');
  for (size_t m = 0; m < kMonths.size(); ++m) {
    const auto full = kMonths[m];
    if (word == full || word == full.substr(0, 3) || (m == 8 && word == "sept")) {
      *len = n;
      return static_cast<int>(m) + 1;
    }
  }
  return 0;
}

bool DayMonthValid(int day, int month) { return day >= 1 && day <= 31 && month >= 1 && month <= 12; }
bool YearValid(int year, size_t len) { return len == 2 || (year >= 1900 && year <= 2099); }

size_t SkipOrdinal(std::string_view text, size_t pos) {
  static constexpr std::array<std::string_view, 4> kSuffixes = {"st", "nd", "rd", "th"};
  for (auto suffix : kSuffixes) {
    if (text.substr(pos, 2).size() == 2 && ToUpper(text[pos]) == ToUpper(suffix[0]) &&
        ToUpper(text[pos + 1]) == ToUpper(suffix[1])) {
      return pos + 2;
    }
  }
  return pos;
}

size_t SkipAny(std::string_view text, size_t pos, std::string_view chars, size_t max) {
  size_t n = 0;
  while (pos < text.size() && n < max && chars.find(text[pos]) != std::string_view::npos) {
    ++pos;
    ++n;
  }
  return pos;
}

bool EndsAtBoundary(std::string_view text, size_t end) {
  return end >= text.size() || !IsAlnum(text[end]);
}

// dd/mm/yyyy, mm/dd/yyyy, dd-mm-yy, dd.mm.yyyy, yyyy-mm-dd.
size_t NumericDateLength(std::string_view text, size_t pos) {
  int a = 0, b = 0, c = 0;
  const size_t la = ReadNumber(text, pos, 4, &a);
  if (la == 0 || pos + la >= text.size()) return 0;
  const char sep = text[pos + la];
  if (sep != '/' && sep != '-' && sep != '.') return 0;
  const size_t lb = ReadNumber(text, pos + la + 1, 2, &b);
  if (lb == 0 || pos + la + 1 + lb >= text.size() || text[pos + la + 1 + lb] != sep) return 0;
  const size_t pc = pos + la + 1 + lb + 1;
  const size_t lc = ReadNumber(text, pc, 4, &c);
  if (la == 4) {
    if (lc == 0 || lc > 2 || !YearValid(a, 4) || !DayMonthValid(c, b)) return 0;
  } else {
    if (la > 2 || (lc != 2 && lc != 4) || !YearValid(c, lc)) return 0;
    if (!DayMonthValid(a, b) && !DayMonthValid(b, a)) return 0;
  }
  return EndsAtBoundary(text, pc + lc) ? pc + lc - pos : 0;
}

// 12 March 1985, 12th Mar, 1985, 12-Mar-1985.
size_t DayFirstDateLength(std::string_view text, size_t pos) {
  int day = 0, year = 0;
  const size_t ld = ReadNumber(text, pos, 2, &day);
  if (ld == 0) return 0;
  size_t p = SkipOrdinal(text, pos + ld);
  p = SkipAny(text, p, " -", 2);
  size_t lm = 0;
  const int month = ReadMonth(text, p, &lm);
  if (month == 0) return 0;
  p = SkipAny(text, p + lm, " ,.-", 3);
  const size_t ly = ReadNumber(text, p, 4, &year);
  if (ly != 4 || !YearValid(year, 4) || !DayMonthValid(day, month)) return 0;
  return EndsAtBoundary(text, p + ly) ? p + ly - pos : 0;
}

// March 12, 1985; Mar 12th 1985.
size_t MonthFirstDateLength(std::string_view text, size_t pos) {
  size_t lm = 0;
  const int month = ReadMonth(text, pos, &lm);
  if (month == 0) return 0;
  size_t p = SkipAny(text, pos + lm, " .-", 2);
  int day = 0, year = 0;
  const size_t ld = ReadNumber(text, p, 2, &day);
  if (ld == 0) return 0;
  p = SkipOrdinal(text, p + ld);
  p = SkipAny(text, p, " ,", 3);
  const size_t ly = ReadNumber(text, p, 4, &year);
  if (ly != 4 || !YearValid(year, 4) || !DayMonthValid(day, month)) return 0;
  return EndsAtBoundary(text, p + ly) ? p + ly - pos : 0;
}

struct IbanCountry {
  char code[3];
  uint8_t length;
};

// The main IBAN countries (SWIFT IBAN registry lengths).
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AT", 20}, {"BE", 16}, {"BG", 22}, {"BH", 22}, {"CH", 21},
    {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DK", 18}, {"EE", 20}, {"EG", 29}, {"ES", 24},
    {"FI", 18}, {"FR", 27}, {"GB", 22}, {"GI", 23}, {"GR", 27}, {"HR", 21}, {"HU", 28},
    {"IE", 22}, {"IL", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20},
    {"LB", 28}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MT", 31},
    {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24}, {"PL", 28}, {"PT", 25}, {"QA", 29},
    {"RO", 24}, {"SA", 24}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"TR", 26},
    {"UA", 29}};

}  // namespace

std::string DigitsOf(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (IsDigit(c)) {
      out += c;
    } else if (!IsSeparator(c)) {
      return {};
    }
  }
  return out;
}

bool LuhnValid(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = Digit(digits[i]);
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return !digits.empty() && sum % 10 == 0;
}

bool VerhoeffValid(std::string_view digits) {
  static constexpr uint8_t kD[10][10] = {
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
      {2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
      {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
      {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
      {8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}};
  static constexpr uint8_t kP[8][10] = {
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
      {5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
      {9, 4, 5, 3, 1, 2, 0, 7, 8, 6}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
      {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}};
  int c = 0;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) c = kD[c][kP[i % 8][Digit(digits[n - 1 - i])]];
  return n > 0 && c == 0;
}

namespace {

// One issuer identification range: the first `digits` digits of the number in [lo, hi], and
// the card lengths the network issues in it (bit n: n digits).
struct IinRange {
  uint8_t digits;
  uint32_t lo, hi;
  uint32_t lengths;
};

constexpr uint32_t Len(int n) { return uint32_t{1} << n; }
constexpr uint32_t Lens(int from, int to) {
  uint32_t m = 0;
  for (int n = from; n <= to; ++n) m |= Len(n);
  return m;
}

// The networks' published IIN ranges and lengths (ISO/IEC 7812 issuer identification numbers
// as each network lists them): a number is a card when any range holding its prefix allows its
// length. Ranges may overlap (RuPay 65 and Discover 65): lengths are unioned.
constexpr IinRange kIinRanges[] = {
    {1, 4, 4, Len(13) | Len(16) | Len(19)},     // Visa (Visa Electron included)
    {2, 51, 55, Len(16)},                       // Mastercard
    {4, 2221, 2720, Len(16)},                   // Mastercard 2-series
    {2, 34, 34, Len(15)},                       // American Express
    {2, 37, 37, Len(15)},                       // American Express
    {4, 6011, 6011, Lens(16, 19)},              // Discover
    {3, 644, 649, Lens(16, 19)},                // Discover
    {2, 65, 65, Lens(16, 19)},                  // Discover, RuPay
    {4, 3528, 3589, Lens(16, 19)},              // JCB
    {3, 300, 305, Lens(14, 19)},                // Diners Club
    {4, 3095, 3095, Lens(14, 19)},              // Diners Club
    {2, 36, 36, Lens(14, 19)},                  // Diners Club International
    {2, 38, 39, Lens(14, 19)},                  // Diners Club
    {2, 60, 60, Len(16)},                       // RuPay
    {2, 81, 82, Len(16)},                       // RuPay
    {3, 508, 508, Len(16)},                     // RuPay
    {3, 353, 353, Len(16)},                     // RuPay-JCB
    {3, 356, 356, Len(16)},                     // RuPay-JCB
    {2, 62, 62, Lens(16, 19)},                  // UnionPay
    {4, 5018, 5018, Lens(12, 19)},              // Maestro
    {4, 5020, 5020, Lens(12, 19)},              // Maestro
    {4, 5038, 5038, Lens(12, 19)},              // Maestro
    {4, 5893, 5893, Lens(12, 19)},              // Maestro
    {4, 6304, 6304, Lens(12, 19)},              // Maestro
    {4, 6759, 6759, Lens(12, 19)},              // Maestro, Maestro UK
    {4, 6761, 6763, Lens(12, 19)},              // Maestro
    {4, 2200, 2204, Lens(16, 19)},              // Mir
    {1, 1, 1, Len(15)},                         // UATP
};

}  // namespace

bool CardPrefixValid(std::string_view d) {
  if (d.size() < 4 || d.size() > 31) return false;
  const uint32_t length = Len(static_cast<int>(d.size()));
  uint32_t prefix[5] = {0, 0, 0, 0, 0};
  for (size_t i = 0; i < 4; ++i) prefix[i + 1] = prefix[i] * 10 + static_cast<uint32_t>(Digit(d[i]));
  for (const auto& r : kIinRanges) {
    const uint32_t p = prefix[r.digits];
    if (p >= r.lo && p <= r.hi && (r.lengths & length) != 0) return true;
  }
  return false;
}

bool CardValid(std::string_view s) {
  if (!GroupsRegular(s, 3)) return false;
  const std::string d = DigitsOf(s);
  return d.size() >= 13 && d.size() <= 19 && CardPrefixValid(d) && LuhnValid(d);
}

bool AadhaarValid(std::string_view s) {
  const std::string d = DigitsOf(s);
  if (d.size() != 12 || d[0] < '2') return false;
  if (s.size() != 12) {
    if (s.size() != 14 || !IsSeparator(s[4]) || s[9] != s[4]) return false;
  }
  return VerhoeffValid(d);
}

bool SsnValid(std::string_view s, bool* with_separators) {
  *with_separators = s.size() == 11;
  if (*with_separators) {
    const char sep = s[3];
    if ((sep != ' ' && sep != '-' && sep != '.') || s[6] != sep) return false;
  } else if (s.size() != 9) {
    return false;
  }
  std::string d;
  for (size_t i = 0; i < s.size(); ++i) {
    if (*with_separators && (i == 3 || i == 6)) continue;
    if (!IsDigit(s[i])) return false;
    d += s[i];
  }
  const std::string_view area(d.data(), 3), group(d.data() + 3, 2), serial(d.data() + 5, 4);
  if (area == "000" || area == "666" || area[0] == '9' || group == "00" || serial == "0000") {
    return false;
  }
  // Numbers the SSA voided after they were printed as samples (a wallet insert in 1938, an
  // SSA pamphlet): they identify nobody. 987-65-4320..4329, the SSA's advertising range, is
  // already outside the issued areas (9xx).
  return d != "078051120" && d != "219099999";
}

bool IbanValid(std::string_view s) {
  std::string iban;
  for (char c : s) {
    if (c == ' ') continue;
    if (!IsAlnum(c)) return false;
    iban += ToUpper(c);
  }
  if (iban.size() < 15 || !IsAlpha(iban[0]) || !IsAlpha(iban[1]) || !IsDigit(iban[2]) ||
      !IsDigit(iban[3])) {
    return false;
  }
  bool known = false;
  for (const auto& country : kIbanCountries) {
    if (iban.compare(0, 2, country.code) == 0) known = iban.size() == country.length;
  }
  if (!known) return false;
  // mod 97 of the rearranged number, letters as 10..35, digit by digit.
  int rem = 0;
  const std::string moved = iban.substr(4) + iban.substr(0, 4);
  for (char c : moved) {
    const int v = IsDigit(c) ? Digit(c) : (c - 'A' + 10);
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem == 1;
}

size_t IbanLength(std::string_view country) {
  for (const auto& c : kIbanCountries) {
    if (country == c.code) return c.length;
  }
  return 0;
}

bool PanValid(std::string_view s) {
  static constexpr std::string_view kHolderTypes = "PCHFATBLJG";
  if (s.size() != 10) return false;
  for (size_t i = 0; i < 10; ++i) {
    const bool letter = i < 5 || i == 9;
    if (letter ? !IsAlpha(s[i]) : !IsDigit(s[i])) return false;
  }
  return kHolderTypes.find(ToUpper(s[3])) != std::string_view::npos;
}

bool IfscValid(std::string_view s) {
  if (s.size() != 11 || s[4] != '0') return false;
  for (size_t i = 0; i < 4; ++i) {
    if (!IsAlpha(s[i])) return false;
  }
  for (size_t i = 5; i < 11; ++i) {
    if (!IsAlnum(s[i])) return false;
  }
  return true;
}

size_t DateLengthAt(std::string_view text, size_t pos) {
  if (pos >= text.size()) return 0;
  if (IsDigit(text[pos])) {
    if (size_t n = NumericDateLength(text, pos)) return n;
    return DayFirstDateLength(text, pos);
  }
  return IsAlpha(text[pos]) ? MonthFirstDateLength(text, pos) : 0;
}

bool IsUpiPsp(std::string_view handle) {
  static constexpr std::string_view kPsps[] = {
      "ybl",      "ibl",        "axl",     "okicici", "oksbi",   "okhdfcbank", "okaxis",
      "paytm",    "ptyes",      "ptaxis",  "pthdfc",  "ptsbi",   "upi",        "apl",
      "yapl",     "rapl",       "abfspay", "axisbank", "axisb",  "icici",      "hdfcbank",
      "sbi",      "kotak",      "kmbl",    "yesbank", "yesbankltd", "idfcbank", "idfcfirst",
      "indus",    "federal",    "fbl",     "pnb",     "barodampay", "boi",    "cnrb",
      "unionbank", "uboi",      "airtel",  "airtelpaymentsbank", "jio",  "freecharge",
      "mobikwik", "ikwik",      "waicici", "wahdfcbank", "wasbi", "waaxis",     "aubank",
      "rbl",      "dbs",        "hsbc",    "citi",    "sc",      "equitas",    "jupiteraxis",
      "slice",    "fam",        "naviaxis", "timecosmos", "postbank", "ippb", "allbank",
      "andb",     "cboi",       "centralbank", "cub", "dcb",     "denabank",   "dlb",
      "esaf",     "ezeepay",    "idbi",    "indianbank", "iob",  "jkb",        "kbl",
      "kvb",      "lvb",        "obc",     "psb",     "scb",     "sib",        "tjsb",
      "ucobank",  "utbi",       "vijb",    "ybl",     "ratn",    "pingpay",    "purz",
      "superyes", "tapicici",   "mahb",    "bandhan", "ujjivan", "cmsidfc",    "hdfcbankjd"};
  if (handle.empty() || handle.size() > 24) return false;
  std::string lower;
  for (char c : handle) lower += static_cast<char>(IsAlpha(c) ? (ToUpper(c) - 'A' + 'a') : c);
  for (auto psp : kPsps) {
    if (lower == psp) return true;
  }
  return false;
}

}  // namespace opsbox::pii::detail
