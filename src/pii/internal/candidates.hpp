// From Hyperscan hits to ranked findings (internal to src/pii): the C++ half of the scanner.
// Everything here works on one block of text (at most kScanBlockBytesMax bytes) and is pure
// apart from libphonenumber's read-only singleton.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

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
  kPatCtxCvv,       // context words; their spans qualify nearby values
  kPatCtxAccount,
  kPatCtxSsn,
  kPatCtxDob,
  kPatCtxPassport,
  kPatCtxVoter,
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

// Phone number validity from libphonenumber (default region IN), behind a bounded cache.
// libphonenumber takes tens of microseconds per number; its answer (valid, and which type)
// depends on the country code, the national number's length and its leading digits, so the
// cache keys on those with the last kPhoneCacheSuffixDigits digits dropped: one customer
// base's numbers share few prefixes. Only numbers whose digits alone decide the parse (no
// parentheses) use the cache, and an entry is stored only when this file's reading of the
// digits agrees with libphonenumber's. Thread-safe.
class PhoneValidator {
 public:
  // `s` ("+…" for other countries) is a valid personal number (not toll-free or premium; a
  // landline only with its trunk prefix or country code).
  bool Valid(std::string_view s) const;

 private:
  mutable std::mutex mu_;
  mutable std::unordered_map<uint64_t, int> cache_;  // key -> number type, -1: invalid
};
inline constexpr size_t kPhoneCacheEntriesMax = size_t{1} << 16;
inline constexpr int kPhoneCacheSuffixDigits = 3;

// Ranked candidates found in `text` from its Hyperscan hits (in any order).
std::vector<Ranked> Resolve(std::string_view text, std::vector<Hit>& hits,
                            const PhoneValidator& phones);

// Non-overlapping findings sorted by start: the highest rank, then the longest, then the first.
std::vector<Finding> Merge(std::vector<Ranked> candidates);


}  // namespace opsbox::pii::detail
