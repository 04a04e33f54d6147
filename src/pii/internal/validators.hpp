// Checksum and format validators behind pii::Scanner (internal to src/pii). Pure functions over
// bytes; `digits` arguments hold ASCII digits only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace opsbox::pii::detail {

bool IsDigit(char c);
bool IsAlpha(char c);
bool IsAlnum(char c);
char ToUpper(char c);

// The digits of `s` with separators (space, dash) removed; "" when `s` holds anything else.
std::string DigitsOf(std::string_view s);

bool LuhnValid(std::string_view digits);
bool VerhoeffValid(std::string_view digits);
// `digits` lies in a card network's issuer range that issues numbers of its length (Visa,
// Mastercard, Amex, Discover, JCB, Diners, RuPay, UnionPay, Maestro, Mir, UATP; pii.hpp).
bool CardPrefixValid(std::string_view digits);
// 13-19 digits, known prefix, Luhn; `s` may hold one kind of separator between groups of 3+.
bool CardValid(std::string_view s);
// 12 digits plain or 4-4-4 with one separator kind, first digit 2-9, Verhoeff.
bool AadhaarValid(std::string_view s);
// AAA-GG-SSSS with '-', ' ' or '.' (with_separators), or 9 plain digits; the never-issued
// ranges and the numbers the SSA voided (078-05-1120, 219-09-9999) excluded.
bool SsnValid(std::string_view s, bool* with_separators);
// Country code, length for that country, mod-97 == 1. Spaces between groups allowed.
bool IbanValid(std::string_view s);
// The IBAN length of a country ("GB": 22), 0 for a country outside the table.
size_t IbanLength(std::string_view country);
bool PanValid(std::string_view s);
bool IfscValid(std::string_view s);

// A date starting at text[pos] (dd/mm/yyyy, dd-mm-yy, yyyy-mm-dd, 12 March 1985,
// March 12, 1985, 12-Mar-1985, 12th Mar 1985): its length in bytes, or 0.
size_t DateLengthAt(std::string_view text, size_t pos);

// A known UPI payment service provider handle ("ybl", "okicici", "paytm", …), case-insensitive.
bool IsUpiPsp(std::string_view handle);

}  // namespace opsbox::pii::detail
