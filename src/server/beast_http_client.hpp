// The production integrations::HttpClient: one synchronous HTTP/1.1 exchange per Send over
// http:// or https:// (OpenSSL, peer verified against the system CA store, SNI and host name
// checked), with the request's timeout_ms covering resolve, connect, handshake, write and read.
// Beast and Asio stay inside beast_http_client.cpp.
#pragma once

#include <cstddef>
#include <memory>

#include "integrations/http_client.hpp"

namespace opsbox::server {

// Thread-safe: Send keeps all connection state local; the TLS context is only read after
// construction. No connection reuse: each Send opens and closes its own connection.
class BeastHttpClient final : public integrations::HttpClient {
 public:
  static constexpr size_t kResponseBodyBytesMax = 64 * 1024;  // longer bodies are truncated
  static constexpr size_t kUrlBytesMax = 8192;
  static constexpr int kTimeoutMsMax = 10 * 60 * 1000;

  BeastHttpClient();
  ~BeastHttpClient() override;
  BeastHttpClient(const BeastHttpClient&) = delete;
  BeastHttpClient& operator=(const BeastHttpClient&) = delete;

  // Errors: a malformed url (field "url", rule "format"), a header with CR/LF (field
  // "headers") or timeout_ms outside 1..kTimeoutMsMax (field "timeout_ms") is
  // kInvalidArgument; a transport failure (DNS, refused, TLS, timeout, connection lost) is
  // kUnavailable with a message naming the method and url. Any HTTP status is a response.
  // A name lookup cannot be interrupted, so a slow DNS server may hold Send past timeout_ms.
  Result<integrations::OutboundResponse> Send(
      const integrations::OutboundRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsbox::server
