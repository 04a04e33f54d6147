// Identifier normalisation: phone numbers with libphonenumber, e-mail addresses.
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cctype>

#include "intake/intake.hpp"

namespace opsbox::intake {

Result<std::string> NormalizePhone(std::string_view raw, std::string_view region,
                                   std::string_view field) {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  std::string_view s = raw;
  for (std::string_view prefix : {"whatsapp:", "tel:"}) {
    if (s.substr(0, prefix.size()) == prefix) s.remove_prefix(prefix.size());
  }
  if (s.empty() || s.size() > 64) {
    return Error::Invalid(std::string(field), "format", std::string(field) + " is not a phone number");
  }
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  const auto parsed = util->Parse(std::string(s), std::string(region), &number);
  if (parsed != PhoneNumberUtil::NO_PARSING_ERROR || !util->IsPossibleNumber(number)) {
    return Error::Invalid(std::string(field), "format",
                          std::string(field) + " is not a possible phone number (default region " +
                              std::string(region) + ")");
  }
  std::string e164;
  util->Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

Result<std::string> NormalizeEmail(std::string_view raw, std::string_view field) {
  const size_t at = raw.find('@');
  const bool bad = raw.empty() || raw.size() > 320 || at == std::string_view::npos || at == 0 ||
                   at + 1 == raw.size() || raw.find('@', at + 1) != std::string_view::npos ||
                   std::any_of(raw.begin(), raw.end(), [](unsigned char c) {
                     return c <= 0x20 || c == 0x7f;
                   });
  if (bad) {
    return Error::Invalid(std::string(field), "format", std::string(field) + " is not an e-mail address");
  }
  std::string out(raw);
  std::transform(out.begin() + static_cast<std::ptrdiff_t>(at), out.end(),
                 out.begin() + static_cast<std::ptrdiff_t>(at),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace opsbox::intake
