// Portfolio rows (issue #11, "Portfolio"): the account file a lender exports every day, read as a
// stream of typed rows with a per-row error report, and the delinquency buckets per product that
// turn days past due into a bucket and bucket changes into roll-forward / roll-back.
//
// This is the pure part of the import: it neither stores rows nor issues commands (the ledger
// commands and the import runner are in collections.hpp and import.hpp).
//
// Formats (the first non-blank byte decides: '{' JSON Lines, anything else CSV):
//   CSV  RFC 4180 (quoted fields, "" inside quotes, CRLF or LF), a header row naming the columns
//        in any order (case-insensitive); unknown columns are ignored and reported once.
//   JSON Lines: one object per line with the same keys; numbers may be JSON numbers or strings.
// Columns / keys:
//   account_id, customer_id, product, currency   required; customer_id 1..kCustomerIdBytesMax
//                                                letters, digits, _ - . (rule "identifier"); currency ISO 4217 (ICU knows its
//                                                minor-unit digits)
//   principal, outstanding, overdue, instalment  decimal amounts >= 0 in major units ("1234.50"),
//                                                at most the currency's digits; outstanding
//                                                required, the others default to 0
//   days_past_due                                required, integer 0..kDaysPastDueMax
//   due_date, next_due_date                      optional, YYYY-MM-DD
//   bucket                                       optional; when given it must be the bucket the
//                                                product's ranges give for days_past_due
//   branch, region, zone, address                optional text (zone: an IANA name, not loaded here)
//   name                                         optional text: the customer's name
//   phones                                       optional, E.164 numbers separated by ';'
//                                                (syntax: '+' and 8..15 digits)
//   email                                        optional, one address with '@'
//   consent_sms, consent_whatsapp, consent_email optional: true/false/yes/no/1/0 (empty: no answer)
//   flags                                        optional, flag names separated by ';'
//                                                (contact_policy.hpp: dispute, vulnerable, …)
// A row with an error is reported (line, field, rule, message) and skipped; the stream goes on.
// Threads: a reader is used by one thread; the parse functions are pure.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collections/contact_policy.hpp"
#include "core/result.hpp"

namespace opsbox::collections {

inline constexpr size_t kImportLineBytesMax = 64 * 1024;
inline constexpr size_t kImportColumnsMax = 64;
inline constexpr size_t kImportFieldBytesMax = 512;
inline constexpr size_t kImportPhonesMax = 8;
inline constexpr size_t kCustomerIdBytesMax = 128;  // letters, digits, _ - . (a subject id part)
inline constexpr int32_t kDaysPastDueMax = 36500;
inline constexpr int64_t kAmountMinorMax = 1'000'000'000'000'000'000;  // 10^18 minor units
inline constexpr size_t kBucketsPerProductMax = 32;
inline constexpr size_t kBucketProductsMax = 256;

// Delinquency buckets: ranges of days past due, per product, with a default for other products.
struct BucketRange {
  std::string name;
  int32_t dpd_min = 0;  // inclusive
  int32_t dpd_max = 0;  // inclusive
};

class BucketScheme {
 public:
  // current 0, dpd_1_30, dpd_31_60, dpd_61_90, dpd_91_180, dpd_181_plus.
  static BucketScheme Default();
  // {"default": [{"name", "dpd_min", "dpd_max"}…], "products": {"card": […], …}}: each list
  // ascending, contiguous from 0 to kDaysPastDueMax, names unique within a list. Errors name
  // "default[2].dpd_min" / "products.card[0].name" with rules "contiguous", "range", "unique".
  static Result<BucketScheme> FromJson(std::string_view json);

  // The bucket name and its rank (0 = least delinquent) for a product and days past due.
  const BucketRange& BucketFor(std::string_view product, int32_t days_past_due) const;
  // The rank of a bucket name for a product; nullopt when the product's list has no such name.
  std::optional<size_t> Rank(std::string_view product, std::string_view bucket) const;

 private:
  const std::vector<BucketRange>& RangesFor(std::string_view product) const;
  std::vector<BucketRange> default_;
  std::vector<std::pair<std::string, std::vector<BucketRange>>> products_;  // sorted by product
};

enum class Movement : uint8_t { kUnchanged, kRollForward, kRollBack, kNew };
std::string_view MovementName(Movement m);
// Between yesterday's bucket (nullopt: a new account) and today's, for one product.
Movement CompareBuckets(const BucketScheme& scheme, std::string_view product,
                        const std::optional<std::string>& previous_bucket,
                        std::string_view current_bucket);

struct PortfolioRow {
  size_t line = 0;  // where the row starts in the file (1-based)
  std::string account_id, customer_id, product, currency;
  int64_t principal_minor = 0, outstanding_minor = 0, overdue_minor = 0, instalment_minor = 0;
  int32_t days_past_due = 0;
  std::string bucket;  // from the scheme (checked against the file's when given)
  int32_t bucket_rank = 0;  // the bucket's place in the product's list (0 = least delinquent)
  std::optional<int64_t> due_day, next_due_day;  // days since 1970-01-01
  std::string branch, region, zone, address, email, name;
  std::vector<std::string> phones;  // E.164
  uint8_t consent_given = 0, consent_refused = 0;  // bits (1 << Channel)
  uint8_t flags = 0;                               // AccountFlag bits
};

struct RowError {
  size_t line = 0;
  std::string field;
  std::string rule;
  std::string message;
};

// Reads rows one at a time from a stream. Next() gives a row, a RowError (the row is skipped),
// or nothing at the end; a file-level problem (no header, a line longer than
// kImportLineBytesMax, a header naming a column twice) ends the stream with Fatal() set.
class PortfolioReader {
 public:
  PortfolioReader(std::istream& in, const BucketScheme& scheme);

  struct Item {
    std::optional<PortfolioRow> row;
    std::optional<RowError> error;
  };
  std::optional<Item> Next();
  const std::optional<Error>& Fatal() const { return fatal_; }
  const std::vector<std::string>& IgnoredColumns() const { return ignored_; }
  size_t LinesRead() const { return line_; }

 private:
  bool ReadLogicalLine(std::string& out);  // CSV: a record may span lines inside quotes
  bool Start();
  Item FromCsv(const std::vector<std::string>& fields, size_t line);
  Item FromJsonLine(std::string_view text, size_t line);

  std::istream& in_;
  const BucketScheme& scheme_;
  bool started_ = false;
  bool json_lines_ = false;
  size_t line_ = 0;
  std::vector<int> column_of_field_;  // header column -> field index, -1 ignored
  std::vector<std::string> ignored_;
  std::optional<Error> fatal_;
  std::string pending_;  // first line read while detecting the format
};

// Parses one amount in major units ("1234.5") into minor units for the currency's digits.
// Errors name `field` with rules "decimal", "scale" (more digits than the currency has),
// "range".
Result<int64_t> ParseAmountMinor(std::string_view text, int digits, std::string_view field);
// ISO 4217 minor-unit digits from ICU; errors: field "currency", rule "iso4217".
Result<int> CurrencyDigits(std::string_view code);

}  // namespace opsbox::collections
