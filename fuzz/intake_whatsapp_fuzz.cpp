// WhatsApp webhook bodies: ParseWhatsAppWebhook never crashes and every item it returns has a
// kind and a provider message id.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "intake/adapters.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto r = opsbox::intake::ParseWhatsAppWebhook(body);
  if (!r.ok()) return 0;
  for (const auto& item : (*r)["items"]) {
    if (!item.contains("kind") || item.value("provider_message_id", "").empty()) std::abort();
  }
  return 0;
}
