// PII detection and redaction for free text: chat, e-mail, transcripts, notes (issue #3,
// "PII detection"). One Hyperscan database finds candidates in a single pass; validators in C++
// (Luhn, Verhoeff, mod-97, SSN ranges, libphonenumber, context words) decide which are findings.
//
// Types and what makes a finding (issue #15 revised cards, aadhaar, ssn, pan, phone, email):
//   card         13-19 digits, one kind of separator (space or dash) between groups of 3+, in
//                an issuer range that issues that length, and a valid Luhn check digit; no
//                context needed. Test numbers are cards (4012 8888 8888 1881 is a Visa number).
//                Ranges (ISO/IEC 7812 IINs as the networks publish them; validators.cpp):
//                Visa 4 (13, 16, 19); Mastercard 51-55, 2221-2720 (16); Amex 34, 37 (15);
//                Discover 6011, 644-649, 65 (16-19); JCB 3528-3589 (16-19); Diners 300-305,
//                3095, 36, 38-39 (14-19); RuPay 60, 65, 81, 82, 508, 353, 356 (16); UnionPay 62
//                (16-19); Maestro 5018, 5020, 5038, 5893, 6304, 6759, 6761-6763 (12-19); Mir
//                2200-2204 (16-19); UATP 1 (15).
//   cvv          3-4 digits within kContextWindowBytes after (or, when nothing follows, before)
//                "cvv", "cvc", "cvv2", "security code" or "card verification".
//   aadhaar      12 digits (plain or 4-4-4 with one kind of separator), first digit 2-9,
//                valid Verhoeff check digit; no keyword needed. Never a slice of a longer run
//                of digit groups (a Luhn-invalid 4-4-4-4 number holds no Aadhaar). Twelve plain
//                digits right after an account word, with no Aadhaar word ("aadhaar", "uid",
//                …) near, are a bank_account instead (one account number in ten passes
//                Verhoeff); 4-4-4 is Aadhaar's printed form and stays aadhaar.
//   pan          AAAAA9999A with the 4th letter a holder type (P C H F A T B L J G). PANs are
//                issued in capitals: upper case is a PAN anywhere; all lower case (chat) only
//                within kContextWindowBytes of "pan" or "permanent account number"; mixed
//                case never.
//   ifsc         4 letters, "0", 6 letters or digits.
//   bank_account 9-18 plain digits after an account context word ("account", "a/c", "acct",
//                "acc no", "khata") within kContextWindowBytes, when no other validator claims
//                them.
//   iban         a country code with its length (the main IBAN countries) and a valid mod-97.
//   ssn          AAA-GG-SSSS (dash, space or dot) outside 000/666/9xx, 00, 0000; 9 plain digits
//                only after "ssn" or "social security". Published samples are not findings:
//                the SSA voided 078-05-1120 (a 1938 wallet insert) and 219-09-9999 (an SSA
//                pamphlet), so they identify nobody; its advertising range 987-65-4320..4329
//                is in area 9xx, which the SSA never issues. The rule is the number, not the
//                sentence around it.
//   phone        libphonenumber-valid personal numbers (not toll-free, premium or shared-cost;
//                a landline only with its trunk prefix, country code or "(area)", or when a
//                country word names its region). "+…" for any country; national format (digit
//                groups with spaces, dashes, dots or "(area)") in each of
//                ScannerOptions::phone_regions, in order, and in the region of a country word
//                ("Israel", "Chinese", "US", "U.K.", …; candidates.cpp) within
//                kContextWindowBytes. Cheap checks first: the digit count must fit a national
//                length of the region (derived from libphonenumber's metadata at Create), and
//                answers are cached by region and leading digits (internal/phones.hpp).
//   email        local@domain.tld; the domain may be internationalised: A-labels ("xn--…")
//                and UTF-8 U-labels ("bücher.de", "例子.广告"); punctuation of any script
//                ("。", "।") ends it, as does a change of script in the top-level label.
//                Labels are 1-63 bytes and neither start nor end with '-'.
//   dob          a date (dd/mm/yyyy, yyyy-mm-dd, 12 March 1985, March 12, 1985, 12-Mar-1985, …)
//                within kContextWindowBytes after "dob", "d.o.b", "date of birth", "birth date",
//                "birthday" or "born".
//   upi          handle@psp with a known UPI PSP handle (ybl, okicici, paytm, …), no dot.
//   passport     a letter and 7 digits (India) after "passport".
//   voter_id     3 letters and 7 digits (EPIC) after "voter", "epic" or "electoral".
// Numbers inside longer digit or letter runs are not findings (word boundaries, and a group
// joined by a separator to more groups of 3+ digits belongs to that longer number); a card
// may be followed by one short group (its CVV or expiry), and a phone number may follow a
// short number ("Flat 302 98765 43210").
// Overlapping candidates are merged: each byte belongs to at most one finding, the more
// specific validated type first (card, aadhaar, iban, pan, ifsc, ssn, email, upi, dob, cvv,
// passport, voter_id, phone, bank_account), then the longer one.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace opsbox::pii {

enum class Type {
  kCard,
  kCvv,
  kAadhaar,
  kPan,
  kIfsc,
  kBankAccount,
  kIban,
  kSsn,
  kPhone,
  kEmail,
  kDob,
  kUpi,
  kPassport,
  kVoterId
};
inline constexpr size_t kTypeCount = 14;

// "card", "cvv", "aadhaar", "pan", "ifsc", "bank_account", "iban", "ssn", "phone", "email",
// "dob", "upi", "passport", "voter_id": the names `opsbox pii scan` prints.
std::string_view TypeName(Type type);
// The inverse of TypeName; an error naming `field` for an unknown name.
Result<Type> TypeFromName(std::string_view name, std::string_view field = "type");

// One finding: byte offsets into the scanned text, end exclusive.
struct Finding {
  size_t start = 0;
  size_t end = 0;
  Type type = Type::kCard;
  bool operator==(const Finding&) const = default;
};

// How far (bytes) a context word may be from the value it qualifies.
inline constexpr size_t kContextWindowBytes = 40;
// Scan() works through text in blocks of at most this many bytes, split after a newline when
// there is one (a finding never spans a block boundary).
inline constexpr size_t kScanBlockBytesMax = size_t{1} << 20;

// The most regions a scanner reads national phone numbers in (each costs a parse for every
// phone-like number that fits its lengths).
inline constexpr size_t kPhoneRegionsMax = 16;

struct ScannerOptions {
  // Regions (ISO 3166 alpha-2, upper case, known to libphonenumber) whose national format is
  // read for phone numbers without "+", in order; the first is the tenant's default. Config key
  // `pii.phone_regions` (comma-separated). 1..kPhoneRegionsMax entries.
  std::vector<std::string> phone_regions = {"IN"};
};

// Ok, or kInvalid naming `field` (rule "min_items", "max_items" or "region").
Status ValidateRegions(std::span<const std::string> regions,
                       std::string_view field = "pii.phone_regions");

class Scanner {
 public:
  // Compiles the pattern database. Fails with kInvalid for bad options (ValidateRegions), and
  // with kInternal only if Hyperscan rejects the patterns or the CPU lacks SSSE3.
  static Result<std::unique_ptr<Scanner>> Create(const ScannerOptions& options = {});
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // Findings in `text`, sorted by start, non-overlapping. Thread-safe: concurrent calls use
  // separate Hyperscan scratch spaces (cloned on demand, kept for reuse). Any bytes are
  // accepted (invalid UTF-8 included); offsets are bytes.
  std::vector<Finding> Scan(std::string_view text) const;

  struct Impl;

 private:
  explicit Scanner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

enum class RedactStyle {
  kTag,      // "[CARD]", "[BANK_ACCOUNT]", …
  kPartial,  // cards: first 6 and last 4 digits, the rest '*'; e-mail and UPI: first character
             // and "@domain"; cvv: every digit '*'; others: the last 4 letters or digits kept
             // when the value has at least 8, else all '*'. Separators are kept.
  kToken     // "[CARD:tok_<12 hex>]": HMAC-SHA256(token_key, "<type>:<value>") where <value>
             // has separators (space, dash, dot, parentheses) removed and letters upper-cased,
             // except e-mail and UPI (lower-cased); stable per key.
};

// `text` with each finding replaced. `findings` are as Scan() returns them; one that overlaps
// an earlier one or runs past the text is skipped. `token_key`: the tenant's secret for
// kToken (InitCrypto() must have run), ignored otherwise.
std::string Redact(std::string_view text, std::span<const Finding> findings, RedactStyle style,
                   std::string_view token_key = {});

}  // namespace opsbox::pii
