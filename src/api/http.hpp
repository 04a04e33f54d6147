// The HTTP surface the API layer sees: plain request/response values and a router. No Beast
// here; server/ adapts Beast to these types, so handlers compile fast and test without sockets.
#pragma once

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

// Completes a request. Thread-safe; call exactly once, from any thread.
using Respond = std::function<void(HttpResponse)>;
using Handler = std::function<void(HttpRequest& request, Respond respond)>;

// Who may call a route.
enum class Access {
  kPublic,         // no credentials (health, login, openapi, the web page)
  kAuthenticated,  // credentials for the tenant in the path carrying `permission`
};

struct Route {
  std::string method;
  std::string pattern;     // "/api/v1/tenants/{tenant}/events/{seq}"
  std::string permission;  // e.g. "ledger.read"; "" for kPublic routes
  Access access = Access::kAuthenticated;
  std::string summary;     // for the OpenAPI document
  Handler handler;
};

// Matches method + path against patterns with {name} segments. Thread-safe for Match once
// all routes are added.
class Router {
 public:
  void Add(Route route);
  struct Match {
    const Route* route = nullptr;     // nullptr: no route for this path (404) ...
    bool method_not_allowed = false;  // ... or the path exists with another method (405)
    std::map<std::string, std::string> params;
  };
  Match Find(std::string_view method, std::string_view path) const;
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace opsbox::api
