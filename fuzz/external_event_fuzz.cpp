// External events: any JSON body is either rejected with a named field or validated into an
// event whose payload respects the size limit.
#include <nlohmann/json.hpp>

#include <cstdlib>

#include "core/limits.hpp"
#include "integrations/external_events.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = opsbox::ParseJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!body.ok()) return 0;
  auto v = opsbox::integrations::ValidateExternalEvent(*body, opsbox::Instant{1795342530000000});
  if (!v.ok()) {
    if (v.error().field.empty()) std::abort();
    return 0;
  }
  if (opsbox::CanonicalJson(v->payload).size() > opsbox::limits::kExternalEventPayloadBytesMax) {
    std::abort();
  }
  return 0;
}
