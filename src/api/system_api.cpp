// Routes that are not a module's: health, readiness, metrics, the OpenAPI document and the
// version. The console's page and assets are in console_api.cpp.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "core/crypto.hpp"

namespace opsbox::api::detail {

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
  AddPublic(router, deps, Budget::kAddress, "GET", "/api/v1/version", "The server's version",
            [&deps](HttpRequest&, Respond respond) {
              respond(Ok(Json{{"version", deps.version}}));
            });
}

}  // namespace opsbox::api::detail
