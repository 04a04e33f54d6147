// The production integrations::HttpClient: one synchronous HTTP/1.1 exchange per Send over
// http:// or https:// (OpenSSL, peer verified against the system CA store, SNI and host name
// checked), with the request's timeout_ms covering resolve, connect, handshake, write and read.
// Every request obeys the integrations::OutboundPolicy given at construction (issue #17): the
// scheme is checked, the host is resolved once through the Resolver, every resolved address
// must pass the policy, and the socket connects only to those addresses, each checked again
// as it is connected and the connected peer once more (no DNS rebinding between check and
// connect). Redirects are never followed: a 3xx is returned as the response.
// Beast and Asio stay inside beast_http_client.cpp.
#pragma once

#include <cstddef>
#include <memory>

#include "integrations/http_client.hpp"
#include "integrations/outbound_policy.hpp"

namespace opsbox::server {

// Thread-safe: Send keeps all connection state local; the TLS context is only read after
// construction. No connection reuse: each Send opens and closes its own connection.
class BeastHttpClient final : public integrations::HttpClient {
 public:
  // Longer bodies are truncated: a receiver's answer is only ever shown as status and excerpt.
  static constexpr size_t kResponseBodyBytesMax = 8 * 1024;
  static constexpr int kTimeoutMsMax = 10 * 60 * 1000;

  // `resolver` null: getaddrinfo (SystemResolver). A given resolver must outlive the client.
  // `response_body_bytes_max`: longer bodies are truncated (the server's outbound clients keep
  // kResponseBodyBytesMax; an operator's tool reading opsbox's own API may read more).
  explicit BeastHttpClient(integrations::OutboundPolicy policy = {},
                           integrations::Resolver* resolver = nullptr,
                           size_t response_body_bytes_max = kResponseBodyBytesMax);
  ~BeastHttpClient() override;
  BeastHttpClient(const BeastHttpClient&) = delete;
  BeastHttpClient& operator=(const BeastHttpClient&) = delete;

  // Errors: a malformed url (field "url", rule "format"), a header with CR/LF (field
  // "headers") or timeout_ms outside 1..kTimeoutMsMax (field "timeout_ms") is
  // kInvalidArgument, and so is a request the policy refuses (field "url", rule
  // "https_required" or "forbidden_destination", the message naming address and range); a
  // transport failure (DNS, refused, TLS, timeout, connection lost) is kUnavailable with a
  // message naming the method and url. Any HTTP status is a response.
  // A name lookup cannot be interrupted, so a slow DNS server may hold Send past timeout_ms.
  Result<integrations::OutboundResponse> Send(
      const integrations::OutboundRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsbox::server
