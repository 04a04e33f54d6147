// Configuration files: ParseConfig never crashes and never accepts an out-of-range value.
#include <cstdlib>

#include "app/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto c = opsbox::app::ParseConfig(std::string_view(reinterpret_cast<const char*>(data), size),
                                    "fuzz.toml");
  if (c.ok() && (c->server_threads < 1 || c->ledger_batch_max < 1)) std::abort();
  return 0;
}
