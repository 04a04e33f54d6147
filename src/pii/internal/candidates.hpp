// From Hyperscan hits to ranked findings (internal to src/pii): the C++ half of the scanner.
// Everything here works on one block of text (at most kScanBlockBytesMax bytes) and is pure
// apart from libphonenumber's read-only singleton.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "pii/internal/phones.hpp"
#include "pii/pii.hpp"

namespace opsbox::pii::detail {

// Hyperscan pattern ids.
enum Pattern : unsigned {
  kPatNumber = 0,   // digit groups, 8-19 digits: card, aadhaar, ssn, phone, bank_account
  kPatPhonePlus,    // "+cc …" or "(area) …"
  kPatPan,          // "x9999x": the letters before are checked in C++
  kPatIfsc,         // "x0xxxxxx"
  kPatIban,         // "CC99": expanded to the country's length in C++
  kPatLetterDigits, // "x9999999": passport (1 letter) or voter id (3 letters)
  kPatAt,           // "@": e-mail or UPI, expanded in C++
  kPatSsnDots,      // "AAA.GG.SSSS"
  kPatPhoneDots,    // "212.555.0123": national numbers written with dots
  kPatCtxCvv,       // context words; their spans qualify nearby values
  kPatCtxAccount,
  kPatCtxSsn,
  kPatCtxDob,
  kPatCtxPassport,
  kPatCtxVoter,
  kPatCtxPan,
  kPatCtxAadhaar,
  kPatternCount
};

struct Hit {
  uint32_t id = 0;
  uint32_t from = 0;  // the start, set in C++ (the patterns ask Hyperscan for ends only)
  uint32_t to = 0;    // end, exclusive
};

struct Ranked {
  Finding finding;
  int rank = 0;  // higher wins an overlap
};

// Country words: Hyperscan pattern ids kPatternCount + i; each names the region whose national
// format nearby phone numbers may be read in.
struct CountryWord {
  const char* regex;
  bool caseless;
  std::string_view region;  // ISO 3166 alpha-2
};
std::span<const CountryWord> CountryWords();

// Ranked candidates found in `text` from its Hyperscan hits (in any order).
std::vector<Ranked> Resolve(std::string_view text, std::vector<Hit>& hits,
                            const PhoneValidator& phones);

// Non-overlapping findings sorted by start: the highest rank, then the longest, then the first.
std::vector<Finding> Merge(std::vector<Ranked> candidates);


}  // namespace opsbox::pii::detail
