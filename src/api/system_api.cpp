// Routes that are not a module's: health, readiness, metrics, the OpenAPI document and the
// version. The console's page and assets are in console_api.cpp.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "api/web_assets.hpp"
#include "core/crypto.hpp"

namespace opsbox::api::detail {
namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";
constexpr std::string_view kScript = "text/javascript; charset=utf-8";

// Redoc styles itself with inline <style> elements and searches in a blob: worker; the page
// loads nothing from other origins.
constexpr std::string_view kDocsPolicy =
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'";

// Replaces the Content-Security-Policy StaticAsset sets.
HttpResponse WithPolicy(HttpResponse response, std::string_view policy) {
  for (auto& [name, value] : response.headers) {
    if (name == "Content-Security-Policy") value = std::string(policy);
  }
  return response;
}

}  // namespace

void AddSystemRoutes(Router& router, const ApiDeps& deps) {
  AddPublic(router, deps, Budget::kNone, "GET", "/healthz", "Liveness: the process answers",
            [](HttpRequest&, Respond respond) { respond(Ok(Json{{"status", "ok"}})); });
  AddPublic(router, deps, Budget::kNone, "GET", "/readyz", "Readiness: database reachable and ledger writer running",
            [&deps](HttpRequest& req, Respond respond) {
              if (deps.ready && deps.ready()) return respond(Ok(Json{{"status", "ready"}}));
              respond(Problem(Error::Unavailable("not ready: starting or shutting down"),
                              req.path));
            });
  AddPublic(router, deps, Budget::kAddress, "GET", "/metrics",
            "Prometheus metrics (text exposition format); with metrics.bearer_token_file set, "
            "only for Authorization: Bearer <that token>",
            [&deps](HttpRequest& req, Respond respond) {
              if (!deps.metrics_bearer_token.empty() &&
                  !ConstantTimeEqual(req.Header("authorization"),
                                     "Bearer " + deps.metrics_bearer_token)) {
                HttpResponse refusal = Problem(
                    Error{ErrorCode::kUnauthenticated, "Authorization", "metrics_token",
                          "GET /metrics needs Authorization: Bearer with the metrics token"},
                    req.path);
                refusal.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"opsbox-metrics\"");
                return respond(std::move(refusal));
              }
              HttpResponse r;
              r.content_type = "text/plain; version=0.0.4";
              r.body = deps.render_metrics ? deps.render_metrics() : "";
              respond(std::move(r));
            });
  AddPublic(router, deps, Budget::kAddress, "GET", "/api/v1/openapi.json", "This API's OpenAPI 3.1 document",
            [](HttpRequest&, Respond respond) { respond(JsonResponse(200, OpenApiDocument())); });
  AddPublic(router, deps, Budget::kAddress, "GET", "/api/docs", "The API reference page, rendered from this document",
            [](HttpRequest&, Respond respond) {
              respond(WithPolicy(StaticAsset(kHtml, web::kApiDocsHtml), kDocsPolicy));
            });
  AddPublic(router, deps, Budget::kAddress, "GET", "/api/docs/redoc.standalone.js", "The reference page's renderer (Redoc)",
            [](HttpRequest&, Respond respond) {
              respond(WithPolicy(StaticAsset(kScript, web::kRedocJs), kDocsPolicy));
            });
  AddPublic(router, deps, Budget::kAddress, "GET", "/api/v1/version", "The server's version",
            [&deps](HttpRequest&, Respond respond) {
              respond(Ok(Json{{"version", deps.version}}));
            });
}

}  // namespace opsbox::api::detail
