// pii::Scanner: one Hyperscan block-mode pass per block finds candidates and context words;
// candidates.cpp validates and merges them.
#include <hs/hs.h>

#include <phonenumbers/phonenumberutil.h>

#include <array>
#include <mutex>
#include <set>

#include "core/assert.hpp"
#include "pii/internal/candidates.hpp"
#include "pii/pii.hpp"

namespace opsbox::pii {

namespace {

constexpr unsigned kNoCase = HS_FLAG_CASELESS;
// Hits are reserved for at one per this many bytes (chat with some numbers), to spare most
// regrowth of the vector on long blocks.
constexpr size_t kBytesPerHitExpected = 64;
// A block may be cut this far back from its size limit to end after a newline or a space.
constexpr size_t kBlockCutSearchBytes = 4096;

struct PatternSpec {
  const char* regex;
  unsigned flags;
};

// Indexed by detail::Pattern. \b is ASCII: a byte of UTF-8 text outside ASCII is a boundary.
// Start of match (SOM) tracking and leading character classes are costly in Hyperscan: the
// patterns are short triggers (fixed length, or walked back and forth in C++), led by the
// rarer digits where they can be. Measured: from 84 to ~300 MB/s for the database alone.
constexpr std::array<PatternSpec, detail::kPatternCount> kPatterns = {{
    {R"(\b\d(?:[ \-]?\d){7,18}\b)", 0},
    {R"((?:\+\d{1,3}[ \-.]?(?:\(\d{1,5}\)[ \-.]?)?|\(\d{2,5}\)[ \-.]?)\d(?:[ \-.]?\d){5,13}\b)", 0},
    {R"([A-Za-z]\d{4}[A-Za-z]\b)", 0},
    {R"([A-Za-z]0[A-Za-z0-9]{6}\b)", 0},
    {R"(\b[A-Z]{2}\d{2})", 0},
    {R"([A-Za-z]\d{7}\b)", 0},
    {R"(@)", 0},
    {R"(\b\d{3}\.\d{2}\.\d{4}\b)", 0},
    {R"(\b\d{2,4}\.\d{3,4}\.\d{4}\b)", 0},
    {R"(\b(?:cvv2?|cvc2?|security\s+code|card\s+verification)\b)", kNoCase},
    {R"(\b(?:accounts?|acct|a/c|acc|khata|ac\s+no)\b)", kNoCase},
    {R"(\b(?:ssn|social\s+security)\b)", kNoCase},
    {R"(\b(?:dob|d\.o\.b|date\s+of\s+birth|birth\s*date|birthday|born)\b)", kNoCase},
    {R"(\bpassport\b)", kNoCase},
    {R"(\b(?:voter|epic|electoral)\b)", kNoCase},
    {R"(\b(?:pan|permanent\s+account\s+number)\b)", kNoCase},
    {R"(\b(?:aadhaar|aadhar|adhaar|uid|uidai)\b|आधार)", kNoCase},
}};

struct ScanState {
  std::vector<detail::Hit> hits;
};

int OnMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned /*flags*/,
            void* ctx) {
  static_cast<ScanState*>(ctx)->hits.push_back(
      {id, static_cast<uint32_t>(from), static_cast<uint32_t>(to)});
  return 0;
}

// The end of the block starting at `from`: the text's end, or after the last newline (else
// space) within kBlockCutSearchBytes before the size limit.
size_t BlockEnd(std::string_view text, size_t from) {
  if (text.size() - from <= kScanBlockBytesMax) return text.size();
  const size_t limit = from + kScanBlockBytesMax;
  for (char cut : {'\n', ' '}) {
    for (size_t i = limit; i > limit - kBlockCutSearchBytes; --i) {
      if (text[i - 1] == cut) return i;
    }
  }
  return limit;
}

std::vector<std::string_view> CountryRegions() {
  std::vector<std::string_view> out;
  for (const auto& w : detail::CountryWords()) out.push_back(w.region);
  return out;
}

}  // namespace

Status ValidateRegions(std::span<const std::string> regions, std::string_view field) {
  if (regions.empty()) return Error::Invalid(std::string(field), "min_items", "at least one region");
  if (regions.size() > kPhoneRegionsMax) {
    return Error::Invalid(std::string(field), "max_items",
                          "at most " + std::to_string(kPhoneRegionsMax) + " regions");
  }
  std::set<std::string> known;
  i18n::phonenumbers::PhoneNumberUtil::GetInstance()->GetSupportedRegions(&known);
  for (const auto& r : regions) {
    if (known.count(r) == 0) {
      return Error::Invalid(std::string(field), "region",
                            "\"" + r + "\" is not an ISO 3166 alpha-2 region with a phone plan");
    }
  }
  return Ok();
}

struct Scanner::Impl {
  hs_database_t* db = nullptr;
  hs_scratch_t* prototype = nullptr;
  mutable std::mutex mu;
  mutable std::vector<hs_scratch_t*> idle;  // guarded by mu
  detail::PhoneValidator phones;

  explicit Impl(const ScannerOptions& options)
      : phones(options.phone_regions, CountryRegions()) {}

  ~Impl() {
    for (auto* s : idle) hs_free_scratch(s);
    if (prototype != nullptr) hs_free_scratch(prototype);
    if (db != nullptr) hs_free_database(db);
  }

  hs_scratch_t* Acquire() const {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        hs_scratch_t* s = idle.back();
        idle.pop_back();
        return s;
      }
    }
    hs_scratch_t* s = nullptr;
    OPSBOX_ASSERT_MSG(hs_clone_scratch(prototype, &s) == HS_SUCCESS, "hs_clone_scratch");
    return s;
  }
  void Release(hs_scratch_t* s) const {
    std::lock_guard lock(mu);
    idle.push_back(s);
  }

  void ScanBlock(std::string_view block, size_t base, std::vector<Finding>& out) const {
    ScanState state;
    state.hits.reserve(block.size() / kBytesPerHitExpected);
    hs_scratch_t* scratch = Acquire();
    const hs_error_t rc = hs_scan(db, block.data(), static_cast<unsigned>(block.size()), 0,
                                  scratch, OnMatch, &state);
    Release(scratch);
    OPSBOX_ASSERT_MSG(rc == HS_SUCCESS, "hs_scan failed");
    for (auto f : detail::Merge(detail::Resolve(block, state.hits, phones))) {
      f.start += base;
      f.end += base;
      out.push_back(f);
    }
  }
};

Result<std::unique_ptr<Scanner>> Scanner::Create(const ScannerOptions& options) {
  if (hs_valid_platform() != HS_SUCCESS) {
    return Error::Internal("pii scanner: this CPU lacks SSSE3, which Hyperscan needs");
  }
  OPSBOX_TRY(ValidateRegions(options.phone_regions));
  const auto countries = detail::CountryWords();
  const size_t count = detail::kPatternCount + countries.size();
  std::vector<const char*> exprs(count);
  std::vector<unsigned> flags(count), ids(count);
  for (unsigned i = 0; i < count; ++i) {
    const bool country = i >= detail::kPatternCount;
    const auto* word = country ? &countries[i - detail::kPatternCount] : nullptr;
    exprs[i] = country ? word->regex : kPatterns[i].regex;
    flags[i] = country ? (word->caseless ? kNoCase : 0u) : kPatterns[i].flags;
    ids[i] = i;
  }
  auto impl = std::make_unique<Impl>(options);
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(count),
                       HS_MODE_BLOCK, nullptr, &impl->db, &err) != HS_SUCCESS) {
    std::string message = err != nullptr && err->message != nullptr ? err->message : "unknown";
    const int expression = err != nullptr ? err->expression : -1;
    hs_free_compile_error(err);
    return Error::Internal("pii scanner: Hyperscan rejected pattern " +
                           std::to_string(expression) + ": " + message);
  }
  if (hs_alloc_scratch(impl->db, &impl->prototype) != HS_SUCCESS) {
    return Error::Internal("pii scanner: could not allocate Hyperscan scratch space");
  }
  return std::unique_ptr<Scanner>(new Scanner(std::move(impl)));
}

Scanner::Scanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scanner::~Scanner() = default;

std::vector<Finding> Scanner::Scan(std::string_view text) const {
  std::vector<Finding> out;
  for (size_t from = 0; from < text.size();) {
    const size_t end = BlockEnd(text, from);
    impl_->ScanBlock(text.substr(from, end - from), from, out);
    from = end;
  }
  return out;
}

}  // namespace opsbox::pii
