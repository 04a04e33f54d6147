#include "collections/portfolio.hpp"

#include <unicode/ucurr.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

#include "core/json.hpp"

namespace opsbox::collections {
namespace {

enum Field : uint8_t {
  kAccountId, kCustomerId, kProduct, kCurrency, kPrincipal, kOutstanding, kOverdue, kInstalment,
  kDaysPastDue, kDueDate, kNextDueDate, kBucket, kBranch, kRegion, kZone, kAddress, kPhones,
  kEmail, kConsentSms, kConsentWhatsapp, kConsentEmail, kFlags, kName, kFieldCount
};
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "account_id", "customer_id", "product",  "currency",      "principal",     "outstanding",
    "overdue",    "instalment",  "days_past_due", "due_date", "next_due_date", "bucket",
    "branch",     "region",      "zone",     "address",       "phones",        "email",
    "consent_sms", "consent_whatsapp", "consent_email", "flags", "name"};

using Values = std::array<std::optional<std::string>, kFieldCount>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitList(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(';', start);
    if (end == std::string_view::npos) end = s.size();
    const auto item = Trim(s.substr(start, end - start));
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

// RFC 4180 fields of one record (quotes already balanced by the caller). Unquoted runs are
// copied whole; only quoted fields go character by character.
std::vector<std::string> SplitCsv(std::string_view rec) {
  if (!rec.empty() && rec.back() == '\r') rec.remove_suffix(1);
  std::vector<std::string> out(1);
  size_t i = 0;
  while (i < rec.size()) {
    if (rec[i] == '"') {
      for (++i; i < rec.size(); ++i) {
        if (rec[i] != '"') {
          out.back() += rec[i];
        } else if (i + 1 < rec.size() && rec[i + 1] == '"') {
          out.back() += '"';
          ++i;
        } else {
          ++i;
          break;
        }
      }
      continue;
    }
    const size_t stop = rec.find_first_of(",\"", i);
    const size_t end = stop == std::string_view::npos ? rec.size() : stop;
    out.back().append(rec.substr(i, end - i));
    i = end;
    if (i < rec.size() && rec[i] == ',') {
      out.emplace_back();
      ++i;
    }
  }
  return out;
}

Result<int64_t> ParseDayText(std::string_view text, const std::string& field) {
  const auto day = ParseIsoDate(text);
  if (!day) return Error::Invalid(field, "date", field + " must be YYYY-MM-DD");
  return *day;
}

Result<std::optional<bool>> ParseConsent(std::string_view text, const std::string& field) {
  const std::string v = Lower(text);
  if (v.empty()) return std::optional<bool>();
  if (v == "true" || v == "yes" || v == "1" || v == "y") return std::optional<bool>(true);
  if (v == "false" || v == "no" || v == "0" || v == "n") return std::optional<bool>(false);
  return Error::Invalid(field, "boolean", field + " must be true or false (or empty)");
}

// The row from named values: every check, in column order; the first failure is the report.
Result<PortfolioRow> BuildRow(const Values& v, size_t line, const BucketScheme& scheme) {
  PortfolioRow r;
  r.line = line;
  auto text = [&](Field f) -> std::string_view {
    return v[f] ? Trim(*v[f]) : std::string_view();
  };
  auto name = [](Field f) { return std::string(kFieldNames[f]); };
  for (Field f : {kAccountId, kCustomerId, kProduct, kCurrency, kOutstanding, kDaysPastDue}) {
    if (text(f).empty()) return Error::Invalid(name(f), "required", name(f) + " is required");
  }
  for (size_t f = 0; f < kFieldCount; ++f) {
    if (v[f] && v[f]->size() > kImportFieldBytesMax) {
      return Error::Invalid(name(Field(f)), "max_bytes",
                            name(Field(f)) + " is longer than " +
                                std::to_string(kImportFieldBytesMax) + " bytes");
    }
  }
  r.account_id = text(kAccountId);
  r.customer_id = text(kCustomerId);
  // The customer id names the data subject whose key seals the contact (collections.hpp).
  if (r.customer_id.size() > kCustomerIdBytesMax ||
      !std::all_of(r.customer_id.begin(), r.customer_id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      })) {
    return Error::Invalid("customer_id", "identifier",
                          "customer_id must be 1.." + std::to_string(kCustomerIdBytesMax) +
                              " letters, digits, _ - or .");
  }
  r.product = text(kProduct);
  r.currency = text(kCurrency);
  OPSBOX_ASSIGN_OR_RETURN(const int digits, CurrencyDigits(r.currency));
  const std::pair<Field, int64_t*> amounts[] = {{kPrincipal, &r.principal_minor},
                                                {kOutstanding, &r.outstanding_minor},
                                                {kOverdue, &r.overdue_minor},
                                                {kInstalment, &r.instalment_minor}};
  for (const auto& [f, out] : amounts) {
    if (text(f).empty()) continue;
    OPSBOX_ASSIGN_OR_RETURN(*out, ParseAmountMinor(text(f), digits, name(f)));
  }
  {
    const auto t = text(kDaysPastDue);
    int32_t dpd = -1;
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), dpd);
    if (ec != std::errc() || p != t.data() + t.size() || dpd < 0 || dpd > kDaysPastDueMax) {
      return Error::Invalid("days_past_due", "range",
                            "days_past_due must be a whole number 0.." +
                                std::to_string(kDaysPastDueMax));
    }
    r.days_past_due = dpd;
  }
  for (const auto& [f, out] : {std::pair{kDueDate, &r.due_day}, std::pair{kNextDueDate, &r.next_due_day}}) {
    if (text(f).empty()) continue;
    OPSBOX_ASSIGN_OR_RETURN(*out, ParseDayText(text(f), name(f)));
  }
  r.bucket = scheme.BucketFor(r.product, r.days_past_due).name;
  r.bucket_rank = static_cast<int32_t>(scheme.Rank(r.product, r.bucket).value_or(0));
  if (!text(kBucket).empty() && text(kBucket) != r.bucket) {
    return Error::Invalid("bucket", "matches_days_past_due",
                          "bucket " + std::string(text(kBucket)) + " does not match " +
                              std::to_string(r.days_past_due) + " days past due (" + r.bucket +
                              " for product " + r.product + ")");
  }
  r.branch = text(kBranch);
  r.region = text(kRegion);
  r.zone = text(kZone);
  r.address = text(kAddress);
  r.name = text(kName);
  const auto phones = SplitList(text(kPhones));
  if (phones.size() > kImportPhonesMax) {
    return Error::Invalid("phones", "max_items",
                          "at most " + std::to_string(kImportPhonesMax) + " phone numbers");
  }
  for (auto p : phones) {
    // E.164 syntax only: libphonenumber's validation costs ~50 us a number (regular
    // expressions), most of a million-row import; the country is found when a calling window
    // needs it (PhoneCountry).
    const bool e164 = p.size() >= 9 && p.size() <= 16 && p[0] == '+' && p[1] >= '1' &&
                      p[1] <= '9' &&
                      std::all_of(p.begin() + 1, p.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!e164) {
      return Error::Invalid("phones", "e164",
                            "phones must be E.164 numbers such as +919876543210, separated by ;");
    }
    r.phones.emplace_back(p);
  }
  r.email = text(kEmail);
  if (!r.email.empty()) {
    const size_t at = r.email.find('@');
    if (at == 0 || at == std::string::npos || at + 1 >= r.email.size() ||
        r.email.find_first_of(" ,;<>") != std::string::npos) {
      return Error::Invalid("email", "address", "email must be one address such as a@b.example");
    }
  }
  const std::pair<Field, Channel> consents[] = {{kConsentSms, Channel::kSms},
                                                {kConsentWhatsapp, Channel::kWhatsapp},
                                                {kConsentEmail, Channel::kEmail}};
  for (const auto& [f, channel] : consents) {
    OPSBOX_ASSIGN_OR_RETURN(const auto given, ParseConsent(text(f), name(f)));
    if (!given) continue;
    const auto bit = static_cast<uint8_t>(1u << static_cast<unsigned>(channel));
    (*given ? r.consent_given : r.consent_refused) |= bit;
  }
  for (auto f : SplitList(text(kFlags))) {
    OPSBOX_ASSIGN_OR_RETURN(const AccountFlag flag, ParseFlag(f, "flags"));
    r.flags |= flag;
  }
  return r;
}

PortfolioReader::Item Report(Result<PortfolioRow> r, size_t line) {
  PortfolioReader::Item item;
  if (r.ok()) {
    item.row = std::move(r).value();
  } else {
    const Error& e = r.error();
    item.error = RowError{line, e.field, e.rule, e.message};
  }
  return item;
}

Status CheckRanges(const std::vector<BucketRange>& ranges, const std::string& prefix) {
  if (ranges.empty() || ranges.size() > kBucketsPerProductMax) {
    return Error::Invalid(prefix, "max_items",
                          prefix + " needs 1.." + std::to_string(kBucketsPerProductMax) + " buckets");
  }
  int64_t next = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const std::string at = prefix + "[" + std::to_string(i) + "]";
    if (ranges[i].dpd_min != next) {
      return Error::Invalid(at + ".dpd_min", "contiguous",
                            at + ".dpd_min must be " + std::to_string(next));
    }
    if (ranges[i].dpd_max < ranges[i].dpd_min || ranges[i].dpd_max > kDaysPastDueMax) {
      return Error::Invalid(at + ".dpd_max", "range", at + ".dpd_max must be dpd_min.." +
                                                          std::to_string(kDaysPastDueMax));
    }
    if (ranges[i].name.empty()) return Error::Invalid(at + ".name", "required", "name is required");
    for (size_t j = 0; j < i; ++j) {
      if (ranges[j].name == ranges[i].name) {
        return Error::Invalid(at + ".name", "unique", "bucket " + ranges[i].name + " twice");
      }
    }
    next = int64_t{ranges[i].dpd_max} + 1;
  }
  if (next != int64_t{kDaysPastDueMax} + 1) {
    return Error::Invalid(prefix, "contiguous",
                          prefix + " must reach " + std::to_string(kDaysPastDueMax) + " days");
  }
  return Ok();
}

Result<std::vector<BucketRange>> RangesFromJson(const Json& list, const std::string& prefix) {
  if (!list.is_array()) return Error::Invalid(prefix, "type", prefix + " must be an array");
  std::vector<BucketRange> out;
  for (size_t i = 0; i < list.size() && i <= kBucketsPerProductMax; ++i) {
    const std::string at = prefix + "[" + std::to_string(i) + "]";
    const Json& b = list[i];
    if (!b.is_object()) return Error::Invalid(at, "type", at + " must be an object");
    OPSBOX_TRY(CheckObjectKeys(b, {"name", "dpd_min", "dpd_max"}, at));
    BucketRange r;
    OPSBOX_ASSIGN_OR_RETURN(r.name, RequireString(b, "name", 64, at));
    for (const char* key : {"dpd_min", "dpd_max"}) {
      const auto it = b.find(key);
      if (it == b.end() || !it->is_number_integer() || it->get<int64_t>() < 0 ||
          it->get<int64_t>() > kDaysPastDueMax) {
        return Error::Invalid(at + "." + key, "range",
                              at + "." + key + " must be 0.." + std::to_string(kDaysPastDueMax));
      }
      (std::string_view(key) == "dpd_min" ? r.dpd_min : r.dpd_max) =
          static_cast<int32_t>(it->get<int64_t>());
    }
    out.push_back(std::move(r));
  }
  OPSBOX_TRY(CheckRanges(out, prefix));
  return out;
}

}  // namespace

BucketScheme BucketScheme::Default() {
  BucketScheme s;
  s.default_ = {{"current", 0, 0},     {"dpd_1_30", 1, 30},    {"dpd_31_60", 31, 60},
                {"dpd_61_90", 61, 90}, {"dpd_91_180", 91, 180}, {"dpd_181_plus", 181, kDaysPastDueMax}};
  return s;
}

Result<BucketScheme> BucketScheme::FromJson(std::string_view text) {
  OPSBOX_ASSIGN_OR_RETURN(Json j, ParseJson(text, "buckets"));
  if (!j.is_object()) return Error::Invalid("buckets", "type", "buckets must be an object");
  OPSBOX_TRY(CheckObjectKeys(j, {"default", "products"}));
  BucketScheme s = Default();
  if (j.contains("default")) {
    OPSBOX_ASSIGN_OR_RETURN(s.default_, RangesFromJson(j["default"], "default"));
  }
  if (j.contains("products")) {
    const Json& p = j["products"];
    if (!p.is_object() || p.size() > kBucketProductsMax) {
      return Error::Invalid("products", "type",
                            "products must be an object of at most " +
                                std::to_string(kBucketProductsMax) + " products");
    }
    for (const auto& [product, list] : p.items()) {
      OPSBOX_ASSIGN_OR_RETURN(auto ranges, RangesFromJson(list, "products." + product));
      s.products_.emplace_back(product, std::move(ranges));
    }
    std::sort(s.products_.begin(), s.products_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  return s;
}

const std::vector<BucketRange>& BucketScheme::RangesFor(std::string_view product) const {
  const auto it = std::lower_bound(products_.begin(), products_.end(), product,
                                   [](const auto& p, std::string_view key) { return p.first < key; });
  return it != products_.end() && it->first == product ? it->second : default_;
}

const BucketRange& BucketScheme::BucketFor(std::string_view product, int32_t dpd) const {
  const auto& ranges = RangesFor(product);
  for (const BucketRange& r : ranges) {
    if (dpd >= r.dpd_min && dpd <= r.dpd_max) return r;
  }
  return ranges.back();  // contiguous to kDaysPastDueMax: only past it
}

std::optional<size_t> BucketScheme::Rank(std::string_view product, std::string_view bucket) const {
  const auto& ranges = RangesFor(product);
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (ranges[i].name == bucket) return i;
  }
  return std::nullopt;
}

std::string_view MovementName(Movement m) {
  switch (m) {
    case Movement::kUnchanged: return "unchanged";
    case Movement::kRollForward: return "roll_forward";
    case Movement::kRollBack: return "roll_back";
    case Movement::kNew: return "new";
  }
  return "unchanged";
}

Movement CompareBuckets(const BucketScheme& scheme, std::string_view product,
                        const std::optional<std::string>& previous, std::string_view current) {
  if (!previous) return Movement::kNew;
  const auto before = scheme.Rank(product, *previous);
  const auto now = scheme.Rank(product, current);
  if (!before || !now || *before == *now) return Movement::kUnchanged;
  return *now > *before ? Movement::kRollForward : Movement::kRollBack;
}

Result<int> CurrencyDigits(std::string_view code) {
  auto bad = [&] {
    return Error::Invalid("currency", "iso4217",
                          "currency must be an ISO 4217 code such as INR or USD (got \"" +
                              std::string(code) + "\")");
  };
  if (code.size() != 3 || !std::all_of(code.begin(), code.end(), [](char c) {
        return c >= 'A' && c <= 'Z';
      })) {
    return bad();
  }
  UChar iso[4] = {static_cast<UChar>(code[0]), static_cast<UChar>(code[1]),
                  static_cast<UChar>(code[2]), 0};
  UErrorCode status = U_ZERO_ERROR;
  // Legal tender at any time (from the first to the last instant ICU knows).
  const UBool known = ucurr_isAvailable(iso, -1.0e300, 1.0e300, &status);
  if (U_FAILURE(status) || !known) return bad();
  status = U_ZERO_ERROR;
  const int32_t digits = ucurr_getDefaultFractionDigits(iso, &status);
  if (U_FAILURE(status) || digits < 0 || digits > 4) return bad();
  return digits;
}

Result<int64_t> ParseAmountMinor(std::string_view text, int digits, std::string_view field) {
  const std::string f(field);
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  auto all_digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || !all_digits(whole) || !all_digits(frac) ||
      (dot != std::string_view::npos && frac.empty())) {
    return Error::Invalid(f, "decimal", f + " must be an amount such as 1234.50 (no sign)");
  }
  if (frac.size() > static_cast<size_t>(digits)) {
    return Error::Invalid(f, "scale", f + " has more than " + std::to_string(digits) +
                                          " decimal places for its currency");
  }
  if (whole.size() > 18) return Error::Invalid(f, "range", f + " is too large");
  int64_t v = 0;
  for (char c : whole) v = v * 10 + (c - '0');
  for (int i = 0; i < digits; ++i) {
    if (v > kAmountMinorMax / 10) return Error::Invalid(f, "range", f + " is too large");
    v = v * 10 + (static_cast<size_t>(i) < frac.size() ? frac[static_cast<size_t>(i)] - '0' : 0);
  }
  if (v > kAmountMinorMax) return Error::Invalid(f, "range", f + " is too large");
  return v;
}

PortfolioReader::PortfolioReader(std::istream& in, const BucketScheme& scheme)
    : in_(in), scheme_(scheme) {}

bool PortfolioReader::ReadLogicalLine(std::string& out) {
  out.clear();
  std::string part;
  bool open_quote = false;
  do {
    if (!pending_.empty()) {
      part = std::move(pending_);
      pending_.clear();
    } else if (!std::getline(in_, part)) {
      return !out.empty();
    } else {
      ++line_;
    }
    if (out.size() + part.size() > kImportLineBytesMax) {
      fatal_ = Error::Invalid("line " + std::to_string(line_), "line_bytes_max",
                              "a record is longer than " + std::to_string(kImportLineBytesMax) +
                                  " bytes");
      return false;
    }
    if (!out.empty()) out += '\n';
    out += part;
    if (!json_lines_) {
      open_quote ^= (std::count(part.begin(), part.end(), '"') % 2) == 1;
    }
  } while (open_quote);
  return true;
}

bool PortfolioReader::Start() {
  started_ = true;
  std::string first;
  while (std::getline(in_, first)) {
    ++line_;
    if (!Trim(first).empty()) break;
  }
  const auto t = Trim(first);
  if (t.empty()) {
    fatal_ = Error::Invalid("file", "empty", "the file has no header and no rows");
    return false;
  }
  if (t.front() == '{') {
    json_lines_ = true;
    pending_ = first;  // already counted in line_; Next() reads it first
    return true;
  }
  const auto header = SplitCsv(first);
  if (header.size() > kImportColumnsMax) {
    fatal_ = Error::Invalid("header", "columns_max",
                            "more than " + std::to_string(kImportColumnsMax) + " columns");
    return false;
  }
  std::array<bool, kFieldCount> seen{};
  for (const auto& h : header) {
    const std::string name = Lower(Trim(h));
    const auto it = std::find(kFieldNames.begin(), kFieldNames.end(), name);
    if (it == kFieldNames.end()) {
      column_of_field_.push_back(-1);
      ignored_.push_back(name);
      continue;
    }
    const auto f = static_cast<size_t>(it - kFieldNames.begin());
    if (seen[f]) {
      fatal_ = Error::Invalid("header", "unique", "column " + name + " appears twice");
      return false;
    }
    seen[f] = true;
    column_of_field_.push_back(static_cast<int>(f));
  }
  for (Field f : {kAccountId, kCustomerId, kProduct, kCurrency, kOutstanding, kDaysPastDue}) {
    if (!seen[f]) {
      fatal_ = Error::Invalid("header", "required",
                              "the header has no " + std::string(kFieldNames[f]) + " column");
      return false;
    }
  }
  return true;
}

std::optional<PortfolioReader::Item> PortfolioReader::Next() {
  if (fatal_) return std::nullopt;
  if (!started_ && !Start()) return std::nullopt;
  std::string record;
  while (true) {
    const size_t start_line = line_ + (pending_.empty() ? 1 : 0);
    if (!ReadLogicalLine(record)) return std::nullopt;
    if (Trim(record).empty()) continue;
    if (json_lines_) return FromJsonLine(record, start_line);
    return FromCsv(SplitCsv(record), start_line);
  }
}

PortfolioReader::Item PortfolioReader::FromCsv(const std::vector<std::string>& fields, size_t line) {
  if (fields.size() != column_of_field_.size()) {
    return Report(Error::Invalid("row", "columns",
                                 "the row has " + std::to_string(fields.size()) +
                                     " fields; the header has " +
                                     std::to_string(column_of_field_.size())),
                  line);
  }
  Values v;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (column_of_field_[i] >= 0) v[static_cast<size_t>(column_of_field_[i])] = fields[i];
  }
  return Report(BuildRow(v, line, scheme_), line);
}

PortfolioReader::Item PortfolioReader::FromJsonLine(std::string_view text, size_t line) {
  auto j = ParseJson(text, "row");
  if (!j.ok()) return Report(j.error(), line);
  if (!j->is_object()) return Report(Error::Invalid("row", "type", "a row must be an object"), line);
  Values v;
  for (const auto& [key, value] : j->items()) {
    const auto it = std::find(kFieldNames.begin(), kFieldNames.end(), key);
    if (it == kFieldNames.end()) {
      // An empty key is named by the row that holds it (an error always names a field).
      return Report(Error::Invalid(key.empty() ? "row" : key, "unknown_field",
                                   "unknown field \"" + key + "\""),
                    line);
    }
    const auto f = static_cast<size_t>(it - kFieldNames.begin());
    if (value.is_null()) continue;
    if (value.is_string()) {
      v[f] = value.get<std::string>();
    } else if (value.is_number_integer()) {
      v[f] = std::to_string(value.get<int64_t>());
    } else if (value.is_boolean()) {
      v[f] = value.get<bool>() ? "true" : "false";
    } else if (value.is_array() && (f == kPhones || f == kFlags)) {
      std::string joined;
      for (const auto& item : value) {
        if (!item.is_string()) {
          return Report(Error::Invalid(key, "type", key + " must be a list of strings"), line);
        }
        joined += (joined.empty() ? "" : ";") + item.get<std::string>();
      }
      v[f] = joined;
    } else {
      // Amounts as JSON floats would lose minor units: a decimal string is required.
      return Report(Error::Invalid(key, "type", key + " must be a string or an integer"), line);
    }
  }
  return Report(BuildRow(v, line, scheme_), line);
}

}  // namespace opsbox::collections
