// The HTTP/1.1 server: accepts connections, parses requests with limits and timeouts, routes
// them through an api::Router and writes the handlers' responses. Beast and Asio stay inside
// http_server.cpp.
//
// Plain HTTP or, when HttpServerOptions names a certificate and key, HTTPS only (OpenSSL through
// Boost.Asio; its headers stay in http_server.cpp too).
//
// Every response carries Content-Type, Content-Length, Date, X-Content-Type-Options: nosniff,
// X-Frame-Options: DENY and Referrer-Policy: no-referrer; responses under /api/ also carry
// Cache-Control: no-store. Failures the server answers itself are RFC 9457 problems:
//   404 unknown path (route label "unmatched"), 405 known path with another method (with
//   Allow), 413 body over body_bytes_max (field "body", rule "max_bytes"), 431 header over
//   header_bytes_max (field "headers", rule "max_bytes"), 400 malformed request or path, 500 a
//   handler threw (logged with a problem id that the response's instance names).
// Each request is recorded with Metrics::ObserveRequest under its route pattern.
//
// WebSocket routes: a GET with an upgrade to a route added with Router::AddWebSocket goes to its
// WebSocketHandler; once it accepts, the connection speaks RFC 6455 (text messages, pings from
// the server when idle, limits above). A connection whose send queue overflows is dropped at
// once (counted in opsbox_websocket_slow_consumers_total). Stop() closes open WebSocket
// connections with 1001 "server shutting down" after their queued messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/http.hpp"
#include "core/result.hpp"
#include "server/metrics.hpp"

namespace opsbox::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";   // IP address or name to listen on
  uint16_t port = 8080;             // 0 = any free port; see HttpServer::port()
  int threads = 2;                  // io threads, >= 1
  size_t body_bytes_max = 1 << 20;  // request body limit (413 past it)
  size_t header_bytes_max = 16 << 10;  // request line + header fields limit (431 past it)
  int header_timeout_ms = 10000;    // from a request's first byte to its complete header
  int idle_timeout_ms = 60000;      // keep-alive connection waiting for its next request
  int io_timeout_ms = 30000;        // reading one request body; writing one response
  int shutdown_grace_ms = 15000;    // Stop(): how long in-flight requests may still finish
  size_t connections_max = 10000;   // open connections; a new one past this is closed at once
  // WebSocket connections (api::Router::AddWebSocket); they count towards connections_max.
  size_t websocket_message_bytes_max = 64 << 10;      // one received message; 1009 past it
  size_t websocket_send_queue_bytes_max = 1 << 20;    // queued, unsent bytes per connection
  size_t websocket_send_queue_messages_max = 1024;    // queued, unsent messages per connection
  int websocket_idle_timeout_ms = 60000;  // a ping after half of it; closed when nothing comes
  int websocket_handshake_timeout_ms = 10000;         // opening and closing handshakes
  // TLS (issue #9): with both files set the listener speaks only HTTPS/WSS (TLS 1.2 and 1.3,
  // forward-secret AEAD ciphers; the handshake must complete within header_timeout_ms), and
  // every response carries Strict-Transport-Security when hsts_max_age_s > 0.
  std::string tls_cert_file;        // PEM certificate chain
  std::string tls_key_file;         // PEM private key
  int64_t hsts_max_age_s = 31536000;
};

// Lifecycle: construct, Start() once, then Stop() (or destroy, which stops). The router and
// metrics are borrowed and must outlive the server; the router must not change once started.
// Handlers run on io threads and must not block for long; a handler may keep its Respond and
// call it later from any thread.
class HttpServer {
 public:
  HttpServer(HttpServerOptions options, const api::Router& router, Metrics& metrics);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens, then starts the io threads. Errors: rule "listen" naming the address
  // (for example when the port is in use; code kUnavailable), rule "options" for bad options,
  // rule "tls" naming the certificate or key file that cannot be loaded, a second Start() is a
  // kConflict.
  Status Start();

  // The bound port (useful with port 0); 0 before Start().
  uint16_t port() const;

  // Graceful and idempotent: stops accepting (new connections are refused), closes idle
  // keep-alive connections, lets in-flight requests finish and their responses be written
  // (with Connection: close) for up to shutdown_grace_ms, then closes whatever is left and
  // joins the io threads. Blocks until done. Callable from any thread except an io thread
  // (i.e. not from inside a handler; that asserts). A Respond called after Stop() is ignored.
  void Stop();

  // Blocks until Stop() has completed; returns at once if Start() never succeeded.
  void Wait();

  // Requests whose handler has been called and whose response is not yet written.
  size_t in_flight() const;

  struct Core;  // implementation, shared with connections and Respond callbacks

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace opsbox::server
