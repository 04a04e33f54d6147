// Outbound HTTP, behind an interface so tests can fake or break it (STYLE.md house rule 3).
// The concrete client (server/beast_http_client.cpp) is named only by the composition root.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace opsbox::integrations {

struct OutboundRequest {
  std::string method = "POST";
  std::string url;  // http://host[:port]/path (https:// with TLS)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int timeout_ms = 10000;
};

struct OutboundResponse {
  int status = 0;
  std::string body;  // truncated by the client (8 KiB for the production client)
};

// Thread-safe. A transport failure (refused, timeout, DNS) is an Error with code kUnavailable
// and worth retrying; a request that can never succeed (a malformed url, a destination the
// outbound policy refuses: rule "forbidden_destination", see outbound_policy.hpp) is
// kInvalidArgument. Any HTTP status, including 5xx and 3xx (redirects are not followed), is a
// response.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<OutboundResponse> Send(const OutboundRequest& request) = 0;
};

}  // namespace opsbox::integrations
