// Webhook signatures: how receivers know a delivery came from opsbox and was not altered or
// replayed long after. Header Opsbox-Signature: "t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
// "<t>." + body)>". Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace opsbox::integrations {

inline constexpr std::string_view kSignatureHeader = "Opsbox-Signature";
inline constexpr size_t kSignatureHeaderBytesMax = 1024;
// How far a signature's timestamp may differ from the receiver's clock by default.
inline constexpr int64_t kSignatureToleranceSecondsDefault = 300;

// The header value for `body` signed at `at` (whole seconds, rounded down).
std::string SignWebhook(std::string_view secret, Instant at, std::string_view body);

// True when `header` holds t=<seconds> within `tolerance_s` of `now` (either way) and at least
// one v1=<hex> that equals the HMAC of "<t>." + body (compared in constant time). Headers
// longer than kSignatureHeaderBytesMax, malformed parts and unknown schemes never verify.
bool VerifyWebhookSignature(std::string_view secret, std::string_view header, std::string_view body,
                            Instant now, int64_t tolerance_s = kSignatureToleranceSecondsDefault);

}  // namespace opsbox::integrations
