// Type names and redaction styles (pii.hpp).
#include <array>

#include "core/crypto.hpp"
#include "pii/internal/validators.hpp"
#include "pii/pii.hpp"

namespace opsbox::pii {

namespace {

constexpr std::array<std::string_view, kTypeCount> kTypeNames = {
    "card", "cvv", "aadhaar", "pan",   "ifsc", "bank_account", "iban",
    "ssn",  "phone", "email", "dob", "upi",  "passport",     "voter_id"};

// Hex digits of the HMAC kept in a token.
constexpr size_t kTokenHexChars = 12;
// Letters and digits a partial mask keeps at the end, and the fewest a value needs for that.
constexpr size_t kPartialKeepLast = 4;
constexpr size_t kPartialKeepMin = 8;
constexpr size_t kCardKeepFirst = 6;

bool IsSeparatorByte(char c) { return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'; }

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = detail::ToUpper(c);
  return out;
}

// Significant characters kept: the first `first` and the last `last`; the others become '*'.
std::string MaskSignificant(std::string_view value, size_t first, size_t last) {
  size_t significant = 0;
  for (char c : value) significant += detail::IsAlnum(c) ? 1 : 0;
  std::string out(value);
  size_t i = 0;
  for (char& c : out) {
    if (!detail::IsAlnum(c)) continue;
    if (i >= first && i + last < significant) c = '*';
    ++i;
  }
  return out;
}

std::string PartialMask(Type type, std::string_view value) {
  switch (type) {
    case Type::kCard: return MaskSignificant(value, kCardKeepFirst, kPartialKeepLast);
    case Type::kCvv: return MaskSignificant(value, 0, 0);
    case Type::kEmail:
    case Type::kUpi: {
      const size_t at = value.find('@');
      if (at == std::string_view::npos || at == 0) return MaskSignificant(value, 0, 0);
      std::string out(value.substr(0, 1));
      out.append("***").append(value.substr(at));
      return out;
    }
    default: {
      size_t significant = 0;
      for (char c : value) significant += detail::IsAlnum(c) ? 1 : 0;
      return MaskSignificant(value, 0, significant >= kPartialKeepMin ? kPartialKeepLast : 0);
    }
  }
}

// The value a token stands for: separators removed; e-mail and UPI lower-cased, others upper.
std::string Normalized(Type type, std::string_view value) {
  std::string out;
  const bool lower = type == Type::kEmail || type == Type::kUpi;
  for (char c : value) {
    if (type != Type::kEmail && type != Type::kUpi && type != Type::kDob && IsSeparatorByte(c)) {
      continue;
    }
    const char u = detail::ToUpper(c);
    out += lower && detail::IsAlpha(c) ? static_cast<char>(u - 'A' + 'a') : u;
  }
  return out;
}

std::string Token(Type type, std::string_view value, std::string_view key) {
  std::string message(TypeName(type));
  message.append(":").append(Normalized(type, value));
  const Hash32 mac = HmacSha256(key, message);
  std::string out("[");
  out.append(Upper(TypeName(type))).append(":tok_");
  out.append(HexEncode(mac).substr(0, kTokenHexChars)).append("]");
  return out;
}

}  // namespace

std::string_view TypeName(Type type) { return kTypeNames[static_cast<size_t>(type)]; }

Result<Type> TypeFromName(std::string_view name, std::string_view field) {
  for (size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<Type>(i);
  }
  return Error::Invalid(std::string(field), "enum",
                        "unknown PII type \"" + std::string(name) + "\"");
}

std::string Redact(std::string_view text, std::span<const Finding> findings, RedactStyle style,
                   std::string_view token_key) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const auto& f : findings) {
    if (f.start < pos || f.end <= f.start || f.end > text.size()) continue;
    out.append(text.substr(pos, f.start - pos));
    const std::string_view value = text.substr(f.start, f.end - f.start);
    switch (style) {
      case RedactStyle::kTag: out.append("[").append(Upper(TypeName(f.type))).append("]"); break;
      case RedactStyle::kPartial: out += PartialMask(f.type, value); break;
      case RedactStyle::kToken: out += Token(f.type, value, token_key); break;
    }
    pos = f.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace opsbox::pii
