#include "server/beast_http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <chrono>
#include <limits>
#include <algorithm>
#include <optional>
#include <vector>

namespace opsbox::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kResponseHeaderBytesMax = 64 * 1024;
constexpr size_t kReadChunkBytes = 16 * 1024;

using integrations::IpAddress;
using integrations::OutboundUrl;

tcp::endpoint ToEndpoint(const IpAddress& a, uint16_t port) {
  const bool mapped = std::all_of(a.bytes.begin(), a.bytes.begin() + 10,
                                  [](uint8_t b) { return b == 0; }) &&
                      a.bytes[10] == 0xff && a.bytes[11] == 0xff;
  if (mapped) {
    return {asio::ip::address_v4({a.bytes[12], a.bytes[13], a.bytes[14], a.bytes[15]}), port};
  }
  asio::ip::address_v6::bytes_type b;
  std::copy(a.bytes.begin(), a.bytes.end(), b.begin());
  return {asio::ip::address_v6(b), port};
}

IpAddress FromAddress(const asio::ip::address& address) {
  if (address.is_v4()) {
    const auto b = address.to_v4().to_bytes();
    return IpAddress::V4(b[0], b[1], b[2], b[3]);
  }
  IpAddress out;
  const auto b = address.to_v6().to_bytes();
  std::copy(b.begin(), b.end(), out.bytes.begin());
  if (address.to_v6().is_v4_mapped()) out.v4 = true;
  return out;
}

// One exchange's I/O: every asynchronous step runs the private io_context until it completes
// or the overall deadline passes, which gives synchronous calls a real timeout.
class Exchange {
 public:
  Exchange(const integrations::OutboundRequest& request, const integrations::OutboundPolicy& policy,
           size_t body_bytes_max, ssl::context* tls_context)
      : request_(request),
        policy_(policy),
        body_bytes_max_(body_bytes_max),
        deadline_(SteadyClock::now() + std::chrono::milliseconds(request.timeout_ms)),
        socket_(ioc_) {
    if (tls_context != nullptr) tls_.emplace(socket_, *tls_context);
  }

  // Connects only to `checked` (addresses the policy allowed after resolution), checking each
  // again as it is connected and the peer once connected.
  Result<integrations::OutboundResponse> Run(const OutboundUrl& url,
                                             const std::vector<IpAddress>& checked);

 private:
  template <class Initiate>
  beast::error_code Await(Initiate initiate);

  template <class Stream>
  Result<integrations::OutboundResponse> WriteAndRead(Stream& stream, const OutboundUrl& url);

  Error Failure(std::string_view step, const beast::error_code& ec) const {
    std::string what = ec == asio::error::timed_out
                           ? "timed out after " + std::to_string(request_.timeout_ms) + " ms"
                           : ec.message();
    return Error{ErrorCode::kUnavailable, "url", "unavailable",
                 request_.method + " " + request_.url + ": " + std::string(step) + ": " + what};
  }

  Error Refused(const Error& why) const {
    return Error{ErrorCode::kInvalidArgument, why.field, why.rule,
                 request_.method + " " + request_.url + ": " + why.message};
  }

  const integrations::OutboundRequest& request_;
  const integrations::OutboundPolicy& policy_;
  size_t body_bytes_max_;
  SteadyClock::time_point deadline_;
  asio::io_context ioc_{1};
  tcp::socket socket_;
  std::optional<ssl::stream<tcp::socket&>> tls_;
  beast::flat_buffer buffer_;
};

template <class Initiate>
beast::error_code Exchange::Await(Initiate initiate) {
  bool done = false;
  beast::error_code result;
  initiate([&done, &result](beast::error_code ec) {
    result = ec;
    done = true;
  });
  ioc_.restart();
  ioc_.run_until(deadline_);
  if (done) return result;
  // Timed out. Closing aborts the operation; its handler refers to this frame, so let it run.
  beast::error_code ignored;
  socket_.close(ignored);
  ioc_.restart();
  ioc_.run();
  return asio::error::timed_out;
}

Result<integrations::OutboundResponse> Exchange::Run(const OutboundUrl& url,
                                                     const std::vector<IpAddress>& checked) {
  std::vector<tcp::endpoint> endpoints;
  for (const auto& a : checked) endpoints.push_back(ToEndpoint(a, url.port));
  std::optional<Error> refused;
  beast::error_code ec = Await([&](auto done) {
    asio::async_connect(
        socket_, endpoints,
        [&](const beast::error_code&, const tcp::endpoint& next) {
          // Connect time: the address about to be connected is checked once more.
          Status st = policy_.CheckAddress(FromAddress(next.address()), "url");
          if (!st.ok()) refused = st.error();
          return st.ok();
        },
        [done](beast::error_code e, const tcp::endpoint&) mutable { done(e); });
  });
  if (refused) return Refused(*refused);
  if (ec) return Failure("connect", ec);
  // The peer of the connected socket must be an address that was checked (no rebinding).
  const tcp::endpoint peer = socket_.remote_endpoint(ec);
  if (ec) return Failure("connect", ec);
  const IpAddress peer_address = FromAddress(peer.address());
  const bool was_checked = std::any_of(checked.begin(), checked.end(), [&](const IpAddress& a) {
    return a.bytes == peer_address.bytes;
  });
  if (!was_checked) {
    return Refused(Error::Invalid("url", std::string(integrations::kForbiddenDestination),
                                  "connected to " + peer_address.ToString() +
                                      ", which is not an address the policy checked"));
  }
  if (Status st = policy_.CheckAddress(peer_address, "url"); !st.ok()) return Refused(st.error());
  beast::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  if (!tls_) return WriteAndRead(socket_, url);

  SSL* handle = tls_->native_handle();
  // SNI, then verification of the certificate's name against the host (SSL_set1_host).
  if (SSL_set_tlsext_host_name(handle, url.host.c_str()) != 1 ||
      SSL_set1_host(handle, url.host.c_str()) != 1) {
    return Failure("tls setup", beast::error_code(static_cast<int>(ERR_get_error()),
                                                  asio::error::get_ssl_category()));
  }
  ec = Await([&](auto done) {
    tls_->async_handshake(ssl::stream_base::client,
                          [done](beast::error_code e) mutable { done(e); });
  });
  if (ec) return Failure("tls handshake", ec);
  return WriteAndRead(*tls_, url);
}

template <class Stream>
Result<integrations::OutboundResponse> Exchange::WriteAndRead(Stream& stream,
                                                              const OutboundUrl& url) {
  http::request<http::string_body> message;
  message.method_string(request_.method);
  message.target(url.target);
  message.version(11);
  message.set(http::field::host, url.host_header);
  message.set(http::field::user_agent, "opsbox");
  for (const auto& [name, value] : request_.headers) message.set(name, value);
  message.set(http::field::connection, "close");
  message.body() = request_.body;
  message.prepare_payload();
  beast::error_code ec = Await([&](auto done) {
    http::async_write(stream, message,
                      [done](beast::error_code e, size_t) mutable { done(e); });
  });
  if (ec) return Failure("write", ec);

  http::response_parser<http::buffer_body> parser;
  // The loop below stops at body_bytes_max_ itself; the parser must not fail first.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.header_limit(kResponseHeaderBytesMax);
  ec = Await([&](auto done) {
    http::async_read_header(stream, buffer_, parser,
                            [done](beast::error_code e, size_t) mutable { done(e); });
  });
  if (ec) return Failure("read", ec);
  integrations::OutboundResponse response;
  response.status = static_cast<int>(parser.get().result_int());
  char chunk[kReadChunkBytes];
  while (!parser.is_done() && response.body.size() < body_bytes_max_) {
    size_t want = std::min(sizeof chunk, body_bytes_max_ - response.body.size());
    parser.get().body().data = chunk;
    parser.get().body().size = want;
    ec = Await([&](auto done) {
      http::async_read(stream, buffer_, parser,
                       [done](beast::error_code e, size_t) mutable { done(e); });
    });
    response.body.append(chunk, want - parser.get().body().size);
    if (ec == http::error::need_buffer) continue;
    // A TLS peer that closes without close_notify ends an EOF-delimited body this way.
    if (ec == ssl::error::stream_truncated) break;
    if (ec) return Failure("read", ec);
  }
  return response;
}

bool HasLineBreak(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

}  // namespace

struct BeastHttpClient::Impl {
  integrations::OutboundPolicy policy;
  integrations::SystemResolver system_resolver;
  integrations::Resolver* resolver = nullptr;
  size_t response_body_bytes_max = BeastHttpClient::kResponseBodyBytesMax;
  std::optional<ssl::context> tls_context;
  std::string tls_error;  // why tls_context is missing
};

BeastHttpClient::BeastHttpClient(integrations::OutboundPolicy policy,
                                 integrations::Resolver* resolver, size_t response_body_bytes_max)
    : impl_(std::make_unique<Impl>()) {
  impl_->policy = std::move(policy);
  impl_->response_body_bytes_max = response_body_bytes_max;
  impl_->resolver = resolver != nullptr ? resolver : &impl_->system_resolver;
  try {
    ssl::context context(ssl::context::tls_client);
    context.set_default_verify_paths();
    context.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
    impl_->tls_context.emplace(std::move(context));
  } catch (const std::exception& e) {
    impl_->tls_error = e.what();
  }
}

BeastHttpClient::~BeastHttpClient() = default;

Result<integrations::OutboundResponse> BeastHttpClient::Send(
    const integrations::OutboundRequest& request) {
  OPSBOX_ASSIGN_OR_RETURN(OutboundUrl url, integrations::ParseOutboundUrl(request.url, "url"));
  if (request.timeout_ms < 1 || request.timeout_ms > kTimeoutMsMax) {
    return Error::Invalid("timeout_ms", "range",
                          "timeout_ms must be 1.." + std::to_string(kTimeoutMsMax));
  }
  if (request.method.empty() || HasLineBreak(request.method)) {
    return Error::Invalid("method", "format", "method must be a non-empty token");
  }
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value)) {
      return Error::Invalid("headers", "format", "header names and values must not be empty "
                                                 "or contain line breaks");
    }
  }
  auto refused = [&](const Error& why) {
    return Error{ErrorCode::kInvalidArgument, why.field, why.rule,
                 request.method + " " + request.url + ": " + why.message};
  };
  if (Status st = impl_->policy.CheckScheme(url.https, "url"); !st.ok()) {
    return refused(st.error());
  }
  if (url.https && !impl_->tls_context) {
    return Error{ErrorCode::kUnavailable, "url", "unavailable",
                 request.method + " " + request.url + ": no TLS context: " + impl_->tls_error};
  }
  // Resolve once; every address must pass, and only these addresses are connected.
  std::vector<IpAddress> addresses;
  if (auto literal = integrations::ParseIpLiteral(url.host)) {
    addresses.push_back(*literal);
  } else {
    auto resolved = impl_->resolver->Resolve(url.host);
    if (!resolved.ok()) {
      return Error{ErrorCode::kUnavailable, "url", "unavailable",
                   request.method + " " + request.url + ": " + resolved.error().message};
    }
    addresses = std::move(*resolved);
  }
  for (const auto& a : addresses) {
    if (Status st = impl_->policy.CheckAddress(a, "url"); !st.ok()) {
      return refused(st.error());
    }
  }
  try {
    Exchange exchange(request, impl_->policy, impl_->response_body_bytes_max,
                      url.https ? &*impl_->tls_context : nullptr);
    return exchange.Run(url, addresses);
  } catch (const std::exception& e) {
    // Asio and Beast report through error codes here; this catches what allocation may throw.
    return Error{ErrorCode::kUnavailable, "url", "unavailable",
                 request.method + " " + request.url + ": " + e.what()};
  }
}

}  // namespace opsbox::server
