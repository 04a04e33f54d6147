// Routes that are not a module's: health, readiness, metrics, the OpenAPI document and the
// web UI's pages (web/, built with Vite and embedded at build time; the planning page's routes
// are in wfm_api.cpp).
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "api/web_assets.hpp"

namespace opsbox::api::web {
// Built from web/ with the other pages (src/api/CMakeLists.txt, OPSBOX_WEB_ASSETS).
extern const std::string_view kDesktopHtml;
extern const std::string_view kDesktopJs;
extern const std::string_view kWallboardHtml;
extern const std::string_view kWallboardJs;
extern const std::string_view kSharedJs;
extern const std::string_view kLiveCss;
}  // namespace opsbox::api::web

namespace opsbox::api::detail {
namespace {

void AddAsset(Router& router, const ApiDeps& deps, std::string path, std::string summary,
              std::string_view content_type, const std::string_view& body) {
  AddPublic(router, deps, Budget::kAddress, "GET", std::move(path), std::move(summary),
            [content_type, &body](HttpRequest&, Respond respond) {
              respond(StaticAsset(content_type, body));
            });
}

constexpr std::string_view kHtml = "text/html; charset=utf-8";

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

constexpr std::string_view kScript = "text/javascript; charset=utf-8";

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
  AddPublic(router, deps, Budget::kAddress, "GET", "/metrics", "Prometheus metrics (text exposition format)",
            [&deps](HttpRequest&, Respond respond) {
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
  AddPublic(router, deps, Budget::kAddress, "GET", "/", "The web page (log in, recent ledger events)",
            [](HttpRequest&, Respond respond) {
              respond(StaticAsset("text/html; charset=utf-8", web::kIndexHtml));
            });
  AddPublic(router, deps, Budget::kAddress, "GET", "/app.js", "The web page's script",
            [](HttpRequest&, Respond respond) {
              respond(StaticAsset("text/javascript; charset=utf-8", web::kAppJs));
            });
  AddPublic(router, deps, Budget::kAddress, "GET", "/app.css", "The web page's style sheet",
            [](HttpRequest&, Respond respond) {
              respond(StaticAsset("text/css; charset=utf-8", web::kAppCss));
            });
  AddAsset(router, deps, "/desktop", "The agent desktop page", kHtml, web::kDesktopHtml);
  AddAsset(router, deps, "/desktop.js", "The agent desktop's script", kScript, web::kDesktopJs);
  AddAsset(router, deps, "/wallboard", "The supervisor wallboard page", kHtml, web::kWallboardHtml);
  AddAsset(router, deps, "/wallboard.js", "The wallboard's script", kScript, web::kWallboardJs);
  AddAsset(router, deps, "/shared.js", "Script code the web pages share", kScript, web::kSharedJs);
  AddAsset(router, deps, "/live.css", "The live pages' style sheet", "text/css; charset=utf-8",
           web::kLiveCss);
}

}  // namespace opsbox::api::detail
