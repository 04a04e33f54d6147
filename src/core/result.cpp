#include "core/result.hpp"

#include <cstdio>
#include <cstdlib>

#include "core/assert.hpp"

namespace opsbox {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kPayloadTooLarge: return "payload_too_large";
    case ErrorCode::kUnsupportedMediaType: return "unsupported_media_type";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

std::string Error::ToString() const {
  std::string out = ErrorCodeName(code);
  if (!field.empty()) out += " field=" + field;
  if (!rule.empty()) out += " rule=" + rule;
  out += ": " + message;
  return out;
}

namespace detail {
void AssertFail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "opsbox: assertion failed: %s at %s:%d %s\n", expr, file, line, msg);
  std::fflush(stderr);
  std::abort();
}
}  // namespace detail

}  // namespace opsbox
