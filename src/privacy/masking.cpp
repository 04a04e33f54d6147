#include "privacy/masking.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace opsbox::privacy {
namespace {

struct ClassName {
  FieldClass cls;
  std::string_view name;
};

constexpr std::array<ClassName, 10> kClassNames{{
    {FieldClass::kName, "name"},
    {FieldClass::kPhone, "phone"},
    {FieldClass::kEmail, "email"},
    {FieldClass::kAddress, "address"},
    {FieldClass::kDateOfBirth, "date_of_birth"},
    {FieldClass::kAccountNumber, "account_number"},
    {FieldClass::kCard, "card"},
    {FieldClass::kNationalId, "national_id"},
    {FieldClass::kFreeText, "free_text"},
    {FieldClass::kIdentifier, "identifier"},
}};

constexpr uint32_t Bit(FieldClass cls) { return 1u << static_cast<uint32_t>(cls); }

constexpr uint32_t kAgentClear = Bit(FieldClass::kName) | Bit(FieldClass::kFreeText);
constexpr uint32_t kIntegrationClear = Bit(FieldClass::kName) | Bit(FieldClass::kPhone) |
                                       Bit(FieldClass::kEmail) | Bit(FieldClass::kAddress) |
                                       Bit(FieldClass::kIdentifier) | Bit(FieldClass::kFreeText);

struct RolePolicy {
  std::string_view role;
  uint32_t clear_classes;
};

// The default policy (docs/privacy.md). Roles absent here see nothing in clear.
constexpr std::array<RolePolicy, 10> kRolePolicies{{
    {"agent", kAgentClear},
    {"team_lead", kAgentClear},
    {"supervisor", kAgentClear},
    {"collections_manager", kAgentClear},
    {"qa_analyst", kAgentClear},
    {"compliance_officer", 0},
    {"auditor", 0},
    {"admin", 0},
    {"wfm_planner", 0},
    {"integration", kIntegrationClear},
}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Keeps the last 4 of `significant`, stars the rest; 4 or fewer characters mask entirely.
std::string KeepLast4(std::string_view significant) {
  if (significant.size() <= 4) return "****";
  std::string out(significant.size() - 4, '*');
  out.append(significant.substr(significant.size() - 4));
  return out;
}

std::string Filter(std::string_view text, bool (*keep)(char)) {
  std::string out;
  for (char c : text) {
    if (keep(c)) out.push_back(c);
  }
  return out;
}

// Country calling codes of 1 and 2 digits (ITU-T E.164 assignments); the rest have 3.
bool IsShortCountryCode(std::string_view digits) {
  static constexpr std::string_view kOne[] = {"1", "7"};
  static constexpr std::string_view kTwo[] = {
      "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
      "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
      "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"};
  if (digits.size() == 1)
    return std::find(std::begin(kOne), std::end(kOne), digits) != std::end(kOne);
  return std::find(std::begin(kTwo), std::end(kTwo), digits) != std::end(kTwo);
}

size_t CountryCodeLength(std::string_view text, std::string_view digits) {
  // "+91 98765…": the digits before the first separator, when 1..3 of them.
  size_t run = 0;
  for (size_t i = 1; i < text.size() && IsDigit(text[i]); ++i) ++run;
  if (run >= 1 && run <= 3 && run < text.size() - 1) return run;
  for (size_t n = 1; n <= 2; ++n) {
    if (digits.size() > n && IsShortCountryCode(digits.substr(0, n))) return n;
  }
  return std::min<size_t>(3, digits.size());
}

std::string MaskPhone(std::string_view text) {
  const std::string digits = Filter(text, IsDigit);
  const bool international = !text.empty() && text.front() == '+';
  if (!international) return KeepLast4(digits);
  const size_t cc = CountryCodeLength(text, digits);
  const std::string_view rest = std::string_view(digits).substr(cc);
  // Built by append: GCC 12 at -O3 warns falsely (-Wrestrict) on "literal" + std::string.
  std::string out(1, '+');
  out.append(digits, 0, cc);
  out.append(KeepLast4(rest));
  return out;
}

std::string MaskEmail(std::string_view text) {
  const size_t at = text.rfind('@');
  if (at == std::string_view::npos || at == 0) return std::string(kRedactedMarker);
  size_t first = 1;
  const auto lead = static_cast<unsigned char>(text[0]);
  if (lead >= 0xF0) {
    first = 4;
  } else if (lead >= 0xE0) {
    first = 3;
  } else if (lead >= 0xC0) {
    first = 2;
  }
  first = std::min(first, at);
  std::string out(text.substr(0, first));
  out.append("***");
  out.append(text.substr(at));
  return out;
}

std::string MaskCard(std::string_view text) {
  const std::string digits = Filter(text, IsDigit);
  if (digits.size() < 13) return KeepLast4(digits);
  std::string out = digits.substr(0, 6);
  out.append(digits.size() - 10, '*');
  out.append(digits, digits.size() - 4, 4);
  return out;
}

// The first UTF-8 code point of each word, followed by ". ".
std::string MaskName(std::string_view text) {
  std::string out;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space) {
      in_word = false;
      continue;
    }
    if (in_word) continue;
    in_word = true;
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    len = std::min(len, text.size() - i);
    if (!out.empty()) out.push_back(' ');
    out.append(text.substr(i, len));
    out.push_back('.');
  }
  return out.empty() ? "****" : out;
}

std::string MaskDateOfBirth(std::string_view text) {
  const bool iso = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                   std::all_of(text.begin(), text.begin() + 4, IsDigit);
  if (iso) {
    std::string year(text.substr(0, 4));
    year.append("-**-**");
    return year;
  }
  std::string out(text);
  for (char& c : out) {
    if (IsDigit(c)) c = '*';
  }
  return out;
}

}  // namespace

std::string_view FieldClassName(FieldClass cls) {
  for (const auto& c : kClassNames) {
    if (c.cls == cls) return c.name;
  }
  return "unknown";
}

std::optional<FieldClass> ParseFieldClass(std::string_view name) {
  for (const auto& c : kClassNames) {
    if (c.name == name) return c.cls;
  }
  return std::nullopt;
}

const std::vector<FieldClass>& AllFieldClasses() {
  static const std::vector<FieldClass> all = [] {
    std::vector<FieldClass> v;
    for (const auto& c : kClassNames) v.push_back(c.cls);
    return v;
  }();
  return all;
}

std::string MaskValue(FieldClass cls, std::string_view plaintext) {
  if (plaintext.empty()) return "";
  switch (cls) {
    case FieldClass::kPhone:
      return MaskPhone(plaintext);
    case FieldClass::kEmail:
      return MaskEmail(plaintext);
    case FieldClass::kCard:
      return MaskCard(plaintext);
    case FieldClass::kAccountNumber:
    case FieldClass::kNationalId:
    case FieldClass::kIdentifier:
      return KeepLast4(Filter(plaintext, IsAlnum));
    case FieldClass::kName:
      return MaskName(plaintext);
    case FieldClass::kDateOfBirth:
      return MaskDateOfBirth(plaintext);
    case FieldClass::kAddress:
    case FieldClass::kFreeText:
      return std::string(kRedactedMarker);
  }
  return std::string(kRedactedMarker);
}

bool RoleSeesClear(std::string_view role, FieldClass cls) {
  for (const auto& p : kRolePolicies) {
    if (p.role == role) return (p.clear_classes & Bit(cls)) != 0;
  }
  return false;
}

bool RolesSeeClear(const std::vector<std::string>& roles, FieldClass cls) {
  return std::any_of(roles.begin(), roles.end(),
                     [cls](const std::string& r) { return RoleSeesClear(r, cls); });
}

}  // namespace opsbox::privacy
