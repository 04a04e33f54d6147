// Routes of the integrations module: external events in, webhook subscriptions and the
// delivery (dead-letter) list out.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "integrations/external_events.hpp"
#include "integrations/webhooks.hpp"
#include "store/store.hpp"

namespace opsbox::api::detail {
namespace {

void RecordExternalEvent(const ApiDeps& deps, HttpRequest& req, const identity::Principal& who,
                         Respond respond) {
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  auto key = IdempotencyKey(req);
  if (!key.ok()) return respond(Problem(key.error(), req.path));
  std::string command_id = *key;
  const auto source = body->value("source", Json()), external_id = body->value("external_id", Json());
  if (command_id.empty() && source.is_string() && external_id.is_string()) {
    command_id = integrations::ExternalEventCommandId(source.get<std::string>(),
                                                      external_id.get<std::string>());
  }
  // The same (source, external_id) sent again with a different body is still the same
  // external fact: answer with the record we have rather than a conflict.
  Respond on_done = [&deps, respond, tenant = who.tenant_id, source, external_id,
                     path = req.path](HttpResponse resp) {
    if (resp.status != 409 || !source.is_string() || !external_id.is_string()) {
      return respond(std::move(resp));
    }
    WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
      OPSBOX_ASSIGN_OR_RETURN(auto found,
                              integrations::FindExternalEvent(c, tenant, source.get<std::string>(),
                                                              external_id.get<std::string>()));
      if (!found) return Error::Conflict("idempotency_key_reused",
                                         "the Idempotency-Key was used for another request");
      return *found;
    });
  };
  SubmitCommand(deps, req, who, std::string(integrations::kRecordExternalEvent),
                std::move(*body), std::move(on_done), 201, command_id);
}

}  // namespace

void AddIntegrationsRoutes(Router& router, const ApiDeps& deps) {
  const std::string t = "/api/v1/tenants/{tenant}";
  AddAuthed(router, deps, "POST", t + "/external-events", "external_events.write",
            "Record an event reported by an outside system (idempotent by source and "
            "external_id)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              RecordExternalEvent(deps, req, who, std::move(respond));
            });
  AddAuthed(router, deps, "GET", t + "/external-events", "external_events.read",
            "External events, oldest first (?after=CURSOR&limit=N&source=S)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              std::string after = req.QueryParam("after").value_or("");
              auto source = req.QueryParam("source");
              WithReader(deps, respond, [&](store::Connection& c) {
                return integrations::ListExternalEvents(c, who.tenant_id, after, *limit, source);
              });
            });
  AddAuthed(router, deps, "GET", t + "/external-events/{id}", "external_events.read",
            "One external event",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              WithReader(deps, respond, [&](store::Connection& c) {
                return integrations::GetExternalEvent(c, who.tenant_id, req.path_params["id"]);
              });
            });
  AddWebhookRoutes(router, deps);
}

}  // namespace opsbox::api::detail
