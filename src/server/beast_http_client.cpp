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
#include <optional>

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

// ASCII case-insensitive comparison (header names, schemes).
bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

struct ParsedUrl {
  bool tls = false;
  std::string host;         // without brackets
  std::string port;         // digits
  std::string host_header;  // host[:port] as sent in Host
  std::string target;       // path and query, "/" at least
};

Result<ParsedUrl> ParseUrl(std::string_view url) {
  auto bad = [&](std::string why) -> Error {
    return Error::Invalid("url", "format", "url " + std::string(url.substr(0, 200)) + ": " + why);
  };
  if (url.size() > BeastHttpClient::kUrlBytesMax) return bad("longer than the limit");
  ParsedUrl parsed;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return bad("no scheme");
  std::string_view scheme = url.substr(0, scheme_end);
  if (IEquals(scheme, "https")) {
    parsed.tls = true;
  } else if (!IEquals(scheme, "http")) {
    return bad("scheme must be http or https");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  target = target.substr(0, target.find('#'));
  if (authority.find('@') != std::string_view::npos) return bad("credentials in the url");
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return bad("junk after ']'");
    if (!after.empty()) port = after.substr(1);
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return bad("no host");
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return bad("port must be 1..65535");
    }
  }
  parsed.host.assign(host);
  parsed.port.assign(port.empty() ? (parsed.tls ? "443" : "80") : port);
  parsed.host_header.assign(authority);
  parsed.target.assign(target.empty() || target.front() != '/' ? "/" : "");
  parsed.target.append(target);
  return parsed;
}

// One exchange's I/O: every asynchronous step runs the private io_context until it completes
// or the overall deadline passes, which gives synchronous calls a real timeout.
class Exchange {
 public:
  Exchange(const integrations::OutboundRequest& request, ssl::context* tls_context)
      : request_(request),
        deadline_(SteadyClock::now() + std::chrono::milliseconds(request.timeout_ms)),
        resolver_(ioc_),
        socket_(ioc_) {
    if (tls_context != nullptr) tls_.emplace(socket_, *tls_context);
  }

  Result<integrations::OutboundResponse> Run(const ParsedUrl& url);

 private:
  template <class Initiate>
  beast::error_code Await(Initiate initiate);

  template <class Stream>
  Result<integrations::OutboundResponse> WriteAndRead(Stream& stream, const ParsedUrl& url);

  Error Failure(std::string_view step, const beast::error_code& ec) const {
    std::string what = ec == asio::error::timed_out
                           ? "timed out after " + std::to_string(request_.timeout_ms) + " ms"
                           : ec.message();
    return Error{ErrorCode::kUnavailable, "url", "unavailable",
                 request_.method + " " + request_.url + ": " + std::string(step) + ": " + what};
  }

  const integrations::OutboundRequest& request_;
  SteadyClock::time_point deadline_;
  asio::io_context ioc_{1};
  tcp::resolver resolver_;
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
  resolver_.cancel();
  ioc_.restart();
  ioc_.run();
  return asio::error::timed_out;
}

Result<integrations::OutboundResponse> Exchange::Run(const ParsedUrl& url) {
  tcp::resolver::results_type endpoints;
  beast::error_code ec = Await([&](auto done) {
    resolver_.async_resolve(url.host, url.port,
                            [&endpoints, done](beast::error_code e,
                                               tcp::resolver::results_type results) mutable {
                              endpoints = std::move(results);
                              done(e);
                            });
  });
  if (ec) return Failure("resolve", ec);
  ec = Await([&](auto done) {
    asio::async_connect(socket_, endpoints,
                        [done](beast::error_code e, const tcp::endpoint&) mutable { done(e); });
  });
  if (ec) return Failure("connect", ec);
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
                                                              const ParsedUrl& url) {
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
  // The loop below stops at kResponseBodyBytesMax itself; the parser must not fail first.
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
  while (!parser.is_done() && response.body.size() < BeastHttpClient::kResponseBodyBytesMax) {
    size_t want =
        std::min(sizeof chunk, BeastHttpClient::kResponseBodyBytesMax - response.body.size());
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
  std::optional<ssl::context> tls_context;
  std::string tls_error;  // why tls_context is missing
};

BeastHttpClient::BeastHttpClient() : impl_(std::make_unique<Impl>()) {
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
  OPSBOX_ASSIGN_OR_RETURN(ParsedUrl url, ParseUrl(request.url));
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
  if (url.tls && !impl_->tls_context) {
    return Error{ErrorCode::kUnavailable, "url", "unavailable",
                 request.method + " " + request.url + ": no TLS context: " + impl_->tls_error};
  }
  try {
    Exchange exchange(request, url.tls ? &*impl_->tls_context : nullptr);
    return exchange.Run(url);
  } catch (const std::exception& e) {
    // Asio and Beast report through error codes here; this catches what allocation may throw.
    return Error{ErrorCode::kUnavailable, "url", "unavailable",
                 request.method + " " + request.url + ": " + e.what()};
  }
}

}  // namespace opsbox::server
