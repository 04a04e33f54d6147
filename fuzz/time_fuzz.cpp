// Timestamps from outside: ParseRfc3339 never crashes, and what it accepts formats and parses
// back to the same instant.
#include <cstdlib>

#include "core/time.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = opsbox::ParseRfc3339(std::string_view(reinterpret_cast<const char*>(data), size), "t");
  if (!t.ok()) return 0;
  auto back = opsbox::ParseRfc3339(opsbox::FormatRfc3339(*t), "t");
  if (!back.ok() || back->us != t->us) std::abort();
  return 0;
}
