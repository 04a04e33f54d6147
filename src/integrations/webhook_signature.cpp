#include "integrations/webhook_signature.hpp"

#include <vector>

#include "core/crypto.hpp"

namespace opsbox::integrations {
namespace {

std::string Mac(std::string_view secret, std::string_view t, std::string_view body) {
  std::string message;
  message.reserve(t.size() + 1 + body.size());
  message.append(t).append(".").append(body);
  return HexEncode(HmacSha256(secret, message));
}

int64_t FloorSeconds(Instant at) {
  return at.us >= 0 ? at.us / 1000000 : (at.us - 999999) / 1000000;
}

}  // namespace

std::string SignWebhook(std::string_view secret, Instant at, std::string_view body) {
  const std::string t = std::to_string(FloorSeconds(at));
  return "t=" + t + ",v1=" + Mac(secret, t, body);
}

bool VerifyWebhookSignature(std::string_view secret, std::string_view header, std::string_view body,
                            Instant now, int64_t tolerance_s) {
  if (header.size() > kSignatureHeaderBytesMax) return false;
  std::string_view t;
  std::vector<std::string_view> candidates;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.starts_with("t=")) {
      if (!t.empty()) return false;  // two timestamps: ambiguous
      t = part.substr(2);
    } else if (part.starts_with("v1=")) {
      candidates.push_back(part.substr(3));
    }
  }
  if (t.empty() || t.size() > 15 || candidates.empty()) return false;
  int64_t seconds = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
    seconds = seconds * 10 + (c - '0');
  }
  const int64_t skew = seconds - FloorSeconds(now);
  if (skew > tolerance_s || -skew > tolerance_s) return false;
  const std::string expected = Mac(secret, t, body);
  bool ok = false;
  for (auto c : candidates) ok = ConstantTimeEqual(c, expected) || ok;
  return ok;
}

}  // namespace opsbox::integrations
