// Routes that are not a module's: health, readiness, metrics, the OpenAPI document and the
// minimal web page.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "api/web_assets.hpp"

namespace opsbox::api::detail {
void AddSystemRoutes(Router& router, const ApiDeps& deps) {
  AddPublic(router, "GET", "/healthz", "Liveness: the process answers",
            [](HttpRequest&, Respond respond) { respond(Ok(Json{{"status", "ok"}})); });
  AddPublic(router, "GET", "/readyz", "Readiness: database reachable and ledger writer running",
            [&deps](HttpRequest& req, Respond respond) {
              if (deps.ready && deps.ready()) return respond(Ok(Json{{"status", "ready"}}));
              respond(Problem(Error::Unavailable("not ready: starting or shutting down"),
                              req.path));
            });
  AddPublic(router, "GET", "/metrics", "Prometheus metrics (text exposition format)",
            [&deps](HttpRequest&, Respond respond) {
              HttpResponse r;
              r.content_type = "text/plain; version=0.0.4";
              r.body = deps.render_metrics ? deps.render_metrics() : "";
              respond(std::move(r));
            });
  AddPublic(router, "GET", "/api/v1/openapi.json", "This API's OpenAPI 3.1 document",
            [](HttpRequest&, Respond respond) { respond(JsonResponse(200, OpenApiDocument())); });
  AddPublic(router, "GET", "/api/v1/version", "The server's version",
            [&deps](HttpRequest&, Respond respond) {
              respond(Ok(Json{{"version", deps.version}}));
            });
  AddPublic(router, "GET", "/", "The web page (log in, recent ledger events)",
            [](HttpRequest&, Respond respond) {
              respond(StaticAsset("text/html; charset=utf-8", web::kIndexHtml));
            });
  AddPublic(router, "GET", "/app.js", "The web page's script",
            [](HttpRequest&, Respond respond) {
              respond(StaticAsset("text/javascript; charset=utf-8", web::kAppJs));
            });
  AddPublic(router, "GET", "/app.css", "The web page's style sheet",
            [](HttpRequest&, Respond respond) {
              respond(StaticAsset("text/css; charset=utf-8", web::kAppCss));
            });
}

}  // namespace opsbox::api::detail
