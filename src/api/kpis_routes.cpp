// Routes of the KPIs (issue #13) under /api/v1/tenants/{tenant}/kpis: the grouped figures (JSON
// or CSV), the catalogue of definitions, and the rebuild of the aggregates from the ledger.
// Thin: parsing, sums and formulas are in src/kpis.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "core/zone.hpp"
#include "kpis/kpis.hpp"

namespace opsbox::api::detail {
namespace {

using Who = const identity::Principal&;

std::string Param(const HttpRequest& req, std::string_view name) {
  auto v = req.QueryParam(name);
  return v ? *v : std::string();
}

void GetKpis(const ApiDeps& deps, HttpRequest& req, Who who, const Respond& respond) {
  const std::string format = Param(req, "format");
  if (!format.empty() && format != "json" && format != "csv") {
    return respond(Problem(Error::Invalid("format", "enum", "format is json or csv"), req.path));
  }
  auto q = kpis::ParseQuery(Param(req, "from"), Param(req, "to"), Param(req, "group_by"),
                            Param(req, "kpi"), Param(req, "zone"));
  if (!q.ok()) return respond(Problem(q.error(), req.path));
  auto zone = ZoneRules::Load(q->zone);
  if (!zone.ok()) return respond(Problem(zone.error(), req.path));
  auto lease = deps.pool->Acquire();
  if (!lease.ok()) return respond(Problem(lease.error(), req.path));
  auto groups = kpis::Run(**lease, who.tenant_id, *q, *zone);
  if (!groups.ok()) {
    if (groups.error().code == ErrorCode::kUnavailable ||
        groups.error().code == ErrorCode::kInternal) {
      lease->Discard();
    }
    return respond(Problem(groups.error(), req.path));
  }
  if (format == "csv") {
    HttpResponse r;
    r.content_type = "text/csv; charset=utf-8";
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"kpis.csv\"");
    r.body = kpis::ToCsv(*q, *groups);
    return respond(std::move(r));
  }
  respond(Ok(kpis::ToJson(*q, *groups)));
}

Json CatalogueJson() {
  Json items = Json::array();
  for (const auto& k : kpis::Catalogue()) {
    items.push_back(Json{{"id", k.id},
                         {"name", k.name},
                         {"unit", k.unit},
                         {"definition", k.definition},
                         {"formula", k.formula},
                         {"source_events", k.source_events},
                         {"abandonment", k.abandonment}});
  }
  return Json{{"items", std::move(items)},
              {"interval_minutes", kpis::kBucketUs / 60000000},
              {"short_abandon_s", kpis::kShortAbandonUs / 1000000}};
}

}  // namespace

void AddKpisRoutes(Router& router, const ApiDeps& deps) {
  const std::string r = "/api/v1/tenants/{tenant}/kpis";
  AddAuthed(router, deps, "GET", r, std::string(kpis::kPermRead),
            "KPIs over a range, grouped by queue, channel, intent, language, agent and local "
            "interval, hour or day (JSON, or CSV with format=csv)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              GetKpis(deps, req, who, respond);
            });
  AddAuthed(router, deps, "GET", r + "/catalogue", std::string(kpis::kPermRead),
            "The KPI catalogue: each KPI's definition, formula, unit, source events and how "
            "abandoned contacts are treated",
            [](HttpRequest&, Who, Respond respond) { respond(Ok(CatalogueJson())); });
  AddAuthed(router, deps, "POST", r + "/rebuild", std::string(kpis::kPermRebuild),
            "Rebuild the tenant's KPI aggregates from the ledger (a command on the ledger)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Json payload = Json::object();
              if (!req.body.empty()) {
                auto body = ParseBody(req);
                if (!body.ok()) return respond(Problem(body.error(), req.path));
                payload = std::move(*body);
              }
              SubmitCommand(deps, req, who, std::string(kpis::kRebuildKpis), std::move(payload),
                            std::move(respond), 200);
            });
}

}  // namespace opsbox::api::detail
