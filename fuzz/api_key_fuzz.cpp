// Authorization headers: ParseApiKey never crashes and only accepts the documented shape.
#include <cstdlib>

#include "identity/identity.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view key(reinterpret_cast<const char*>(data), size);
  auto parsed = opsbox::identity::ParseApiKey(key);
  if (parsed && (parsed->key_id.size() != 30 || parsed->secret.empty())) std::abort();
  return 0;
}
