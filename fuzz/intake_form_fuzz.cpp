// Twilio form bodies: ParseForm and the callback parsers never crash; a verified signature is
// only ever the one computed for the same token, URL and fields.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "intake/adapters.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto form = opsbox::intake::ParseForm(body);
  if (!form.ok()) return 0;
  (void)opsbox::intake::ParseTwilioIncomingCall(*form);
  (void)opsbox::intake::ParseTwilioStatusCallback(*form);
  const std::string sig = opsbox::intake::TwilioSignature("token", "https://x/y", *form);
  if (!opsbox::intake::VerifyTwilioSignature("token", sig, "https://x/y", *form)) std::abort();
  return 0;
}
