// Routes of the console (web/: one browser application built with Vite and embedded at build
// time): its page, script and style sheet, and the page again for every console path, so a deep
// link (/customers/cust_…, /settings/api-keys) or a reload opens the console where it was. The
// browser's router (web/src/console/router.ts) draws the page; paths outside kConsolePages
// answer 404 as before.
#include <array>
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "api/web_assets.hpp"

namespace opsbox::api::detail {
namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";

// The first path segments the console's router knows (web/src/console/pages.ts).
constexpr std::array<std::string_view, 14> kConsolePages = {
    "home",  "desktop", "wallboard", "customers", "conversations", "workforce", "wfm",
    "privacy", "audit", "settings", "sign-in", "cases", "collections", "kpis"};

bool IsConsolePage(std::string_view page) {
  for (auto p : kConsolePages) {
    if (p == page) return true;
  }
  return false;
}

void AddConsolePath(Router& router, const ApiDeps& deps, std::string pattern,
                    std::string summary) {
  AddPublic(router, deps, Budget::kAddress, "GET", std::move(pattern), std::move(summary),
            [](HttpRequest& req, Respond respond) {
              if (!IsConsolePage(req.path_params["page"])) {
                return respond(Problem(Error::NotFound("no such page: " + req.path), req.path));
              }
              respond(StaticAsset(kHtml, web::kIndexHtml));
            });
}

}  // namespace

void AddConsoleRoutes(Router& router, const ApiDeps& deps) {
  AddPublic(router, deps, Budget::kAddress, "GET", "/",
            "The console (sign-in, then the home of the user's role)",
            [](HttpRequest&, Respond respond) { respond(StaticAsset(kHtml, web::kIndexHtml)); });
  AddPublic(router, deps, Budget::kAddress, "GET", "/app.js", "The console's script",
            [](HttpRequest&, Respond respond) {
              respond(StaticAsset("text/javascript; charset=utf-8", web::kAppJs));
            });
  AddPublic(router, deps, Budget::kAddress, "GET", "/app.css", "The console's style sheet",
            [](HttpRequest&, Respond respond) {
              respond(StaticAsset("text/css; charset=utf-8", web::kAppCss));
            });
  AddConsolePath(router, deps, "/{page}", "The console at one of its pages (a deep link)");
  AddConsolePath(router, deps, "/{page}/{section}",
                 "The console at a page's section or record");
  AddConsolePath(router, deps, "/{page}/{section}/{item}",
                 "The console at a record of a section");
}

}  // namespace opsbox::api::detail
