// Routes of client contracts and invoices (issue #13) under /api/v1/tenants/{tenant}/billing:
// the contract's versions (GET) and a new version (PUT), and a month's invoice as JSON, CSV or
// HTML. Thin: rules and arithmetic are in src/billing.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "billing/billing.hpp"

namespace opsbox::api::detail {
namespace {

using Who = const identity::Principal&;

}  // namespace

void AddBillingRoutes(Router& router, const ApiDeps& deps) {
  const std::string r = "/api/v1/tenants/{tenant}/billing";
  AddAuthed(router, deps, "GET", r + "/contract", std::string(billing::kPermRead),
            "The client contract: every version, the newest last",
            [&deps](HttpRequest&, Who who, Respond respond) {
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(auto versions, billing::ListContracts(c, who.tenant_id));
                Json items = Json::array();
                for (const auto& v : versions) {
                  items.push_back(Json{{"version", v.version},
                                       {"contract", billing::ContractToJson(v.contract)},
                                       {"set_by", v.actor},
                                       {"set_at", FormatRfc3339(v.set_at)}});
                }
                return Json{{"items", std::move(items)}};
              });
            });
  AddAuthed(router, deps, "PUT", r + "/contract", std::string(billing::kPermManage),
            "Set a new version of the client contract, in force from its effective month "
            "(not a past one)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              auto body = ParseBody(req);
              if (!body.ok()) return respond(Problem(body.error(), req.path));
              SubmitCommand(deps, req, who, std::string(billing::kSetContract),
                            Json{{"contract", std::move(*body)}}, std::move(respond), 200);
            });
  AddAuthed(router, deps, "GET", r + "/invoices/{month}", std::string(billing::kPermRead),
            "The month's invoice computed from the ledger (?format=json|csv|html), every figure "
            "with the KPI query behind it",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              const std::string format = req.QueryParam("format").value_or("json");
              if (format != "json" && format != "csv" && format != "html") {
                return respond(Problem(Error::Invalid("format", "enum", "format is json, csv or html"),
                                       req.path));
              }
              auto lease = deps.pool->Acquire();
              if (!lease.ok()) return respond(Problem(lease.error(), req.path));
              auto inv = billing::InvoiceJson(**lease, who.tenant_id, req.path_params.at("month"),
                                              "/api/v1/tenants/" + who.tenant_id);
              if (!inv.ok()) return respond(Problem(inv.error(), req.path));
              if (format == "json") return respond(Ok(*inv));
              HttpResponse out;
              if (format == "csv") {
                out.content_type = "text/csv; charset=utf-8";
                out.headers.emplace_back("Content-Disposition", "attachment; filename=\"invoice-" +
                                                                    req.path_params.at("month") + ".csv\"");
                out.body = billing::InvoiceCsv(*inv);
              } else {
                out.content_type = "text/html; charset=utf-8";
                out.headers.emplace_back("Content-Security-Policy",
                                         "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
                out.body = billing::InvoiceHtml(*inv);
              }
              respond(std::move(out));
            });
}

}  // namespace opsbox::api::detail
