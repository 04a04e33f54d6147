// Collections portfolio rows (collections/portfolio.hpp, read by the portfolio import): the
// reader never crashes on any CSV or JSON Lines text; every row error and a fatal error name a
// field and a rule; rows have a bucket, amounts within kAmountMinorMax and days past due in range;
// line numbers never go backwards.
#include <cstdlib>
#include <sstream>
#include <string>

#include "collections/portfolio.hpp"

using namespace opsbox::collections;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  const BucketScheme scheme = BucketScheme::Default();
  PortfolioReader reader(in, scheme);
  size_t last_line = 0;
  while (auto item = reader.Next()) {
    const size_t line = item->row ? item->row->line : item->error->line;
    if (line < last_line || (item->row.has_value() == item->error.has_value())) std::abort();
    last_line = line;
    if (item->error && (item->error->field.empty() || item->error->rule.empty())) std::abort();
    if (item->row) {
      const auto& r = *item->row;
      if (r.bucket.empty() || r.days_past_due < 0 || r.days_past_due > kDaysPastDueMax) std::abort();
      for (int64_t v : {r.principal_minor, r.outstanding_minor, r.overdue_minor, r.instalment_minor}) {
        if (v < 0 || v > kAmountMinorMax) std::abort();
      }
    }
  }
  if (reader.Fatal() && (reader.Fatal()->field.empty() || reader.Fatal()->rule.empty())) std::abort();
  return 0;
}
