// Request bodies: ParseJson never crashes, and the canonical encoding is a fixed point
// (canonical(parse(canonical(x))) == canonical(x)), which the ledger hash chain relies on.
#include <nlohmann/json.hpp>

#include <cstdlib>

#include "core/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = opsbox::ParseJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) return 0;
  std::string once;
  try {
    once = opsbox::CanonicalJson(*parsed);
  } catch (const nlohmann::json::exception&) {
    std::abort();  // ParseJson accepted what canonical encoding cannot write
  }
  auto again = opsbox::ParseJson(once);
  if (!again.ok() || opsbox::CanonicalJson(*again) != once) std::abort();
  return 0;
}
