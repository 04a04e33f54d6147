// The HTTP surface the API layer sees: plain request/response values and a router. No Beast
// here; server/ adapts Beast to these types, so handlers compile fast and test without sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace opsbox::api {

struct HttpRequest {
  std::string method;                          // "GET", "POST", …
  std::string path;                            // decoded path without the query
  std::string query;                           // raw query string without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;                  // peer IP, for rate limits and audit
  std::map<std::string, std::string> path_params;  // filled by Router::Match

  // First header with this lower-case name, or "" when absent.
  std::string_view Header(std::string_view lower_name) const;
  // Percent-decoded query parameter, or nullopt when absent.
  std::optional<std::string> QueryParam(std::string_view name) const;
  // Value of one cookie from the Cookie header, or "" when absent.
  std::string Cookie(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Completes a request. Thread-safe; call exactly once, from any thread (the server ignores and
// logs a second call). The HttpRequest passed to the handler stays valid until respond is called.
using Respond = std::function<void(HttpResponse)>;
using Handler = std::function<void(HttpRequest& request, Respond respond)>;

// Who may call a route.
enum class Access {
  kPublic,         // no credentials (health, login, openapi, the web page)
  kAuthenticated,  // credentials for the tenant in the path carrying `permission`
};

// ---- WebSocket (RFC 6455). The server speaks the protocol; handlers see these types only.

// One open WebSocket connection. Owned by the server; handlers keep it through shared_ptr and
// may call it from any thread, also after it closed (then calls do nothing).
class WebSocketSession {
 public:
  virtual ~WebSocketSession() = default;
  // Queues a text message; never blocks. Returns false when the connection is closing or
  // closed, or when the message would take the connection's send queue past its limit
  // (HttpServerOptions::websocket_send_queue_bytes_max / _messages_max): a client that does not
  // keep up is disconnected then, so a slow reader cannot grow the server's memory.
  virtual bool Send(std::shared_ptr<const std::string> text) = 0;
  // Starts a clean close with an RFC 6455 status code (1000 normal, 1001 going away, 1008
  // policy violation, ...) and a reason of at most 123 bytes, after the messages already
  // queued. Idempotent.
  virtual void Close(uint16_t code, std::string reason) = 0;
};

// What a handler does with an accepted connection's traffic. Called on the connection's own
// strand: never concurrently, in order. Must not block.
struct WebSocketCallbacks {
  // One complete text message (binary messages close the connection with 1003; messages over
  // websocket_message_bytes_max with 1009).
  std::function<void(std::string_view text)> on_message;
  // Exactly once, when the connection has closed for any reason (peer, limit, server Stop);
  // nothing is called after it. The server then drops the callbacks.
  std::function<void()> on_close;
};

// Called once the handshake has completed: receives the session, returns its callbacks.
using WebSocketOpen = std::function<WebSocketCallbacks(std::shared_ptr<WebSocketSession>)>;

// A handler's decision on an upgrade request: `open` set accepts it (101), otherwise
// `reject` is the HTTP response (401, 403, ...).
struct WebSocketAnswer {
  WebSocketOpen open;
  HttpResponse reject;
};

// Completes an upgrade request. Thread-safe; call exactly once, from any thread.
using WebSocketRespond = std::function<void(WebSocketAnswer)>;
using WebSocketHandler = std::function<void(HttpRequest& request, WebSocketRespond respond)>;

struct Route {
  std::string method;
  std::string pattern;     // "/api/v1/tenants/{tenant}/events/{seq}"
  std::string permission;  // e.g. "ledger.read"; "" for kPublic routes
  Access access = Access::kAuthenticated;
  std::string summary;     // for the OpenAPI document
  Handler handler;
  // Set for WebSocket routes (Router::AddWebSocket): a GET carrying a WebSocket upgrade goes
  // here instead of to `handler`.
  WebSocketHandler websocket = nullptr;
};

// Matches method + path against patterns with {name} segments. Thread-safe for Match once
// all routes are added.
class Router {
 public:
  // The pattern starts with '/' and has at most kSegmentsMax segments; adding the same method
  // and pattern twice is a bug (asserts). Not thread-safe: add every route before serving.
  void Add(Route route);
  // Adds a WebSocket route: GET `pattern` with an upgrade goes to `handler`, which authorises
  // the request itself (the route is documented with `permission`, "" for a public one); a GET
  // without an upgrade is answered 426 Upgrade Required. Same rules as Add.
  void AddWebSocket(std::string pattern, std::string permission, std::string summary,
                    WebSocketHandler handler);
  struct Match {
    const Route* route = nullptr;     // nullptr: no route for this path (404) ...
    bool method_not_allowed = false;  // ... or the path exists with another method (405)
    std::map<std::string, std::string> params;
    std::string allow;                // for 405: the path's methods, "GET, POST"
  };
  // `path` is the decoded path without the query. A {name} segment matches one non-empty
  // segment; when several patterns match, the one with a literal segment where the others have
  // a parameter wins (compared left to right). Paths of more than kSegmentsMax segments match
  // nothing.
  Match Find(std::string_view method, std::string_view path) const;
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

  static constexpr size_t kSegmentsMax = 32;

  // One segment of a compiled pattern (an implementation detail of Find).
  struct Segment {
    std::string text;  // literal text, or the parameter name
    bool is_param = false;
  };

 private:
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<std::vector<Segment>> segments_;  // parallel to routes_
};

// Decodes %XX escapes (and '+' as space when `plus_as_space`) from `text` into `out`
// (replacing its contents). Returns false, leaving `out` unspecified, on a malformed escape.
bool PercentDecode(std::string_view text, bool plus_as_space, std::string& out);

}  // namespace opsbox::api
