// Routes of webhook subscriptions and the delivery (dead-letter) list.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "integrations/webhooks.hpp"
#include "store/store.hpp"

namespace opsbox::api::detail {

void AddWebhookRoutes(Router& router, const ApiDeps& deps) {
  const std::string t = "/api/v1/tenants/{tenant}/webhooks";
  AddAuthed(router, deps, "POST", t, "webhooks.manage",
            "Subscribe a URL to ledger event types; the signing secret is in this response only",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto body = ParseBody(req);
              if (!body.ok()) return respond(Problem(body.error(), req.path));
              SubmitCommand(deps, req, who, std::string(integrations::kCreateWebhookSubscription),
                            std::move(*body), std::move(respond));
            });
  AddAuthed(router, deps, "GET", t, "webhooks.read", "Webhook subscriptions (never secrets)",
            [&deps](HttpRequest&, const identity::Principal& who, Respond respond) {
              WithReader(deps, respond, [&](store::Connection& c) {
                return integrations::ListSubscriptions(c, who.tenant_id);
              });
            });
  AddAuthed(router, deps, "DELETE", t + "/{subscription_id}", "webhooks.manage",
            "Delete a subscription (its pending deliveries are cancelled)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              SubmitCommand(deps, req, who, std::string(integrations::kDeleteWebhookSubscription),
                            Json{{"subscription_id", req.path_params["subscription_id"]}},
                            std::move(respond), 200);
            });
  AddAuthed(router, deps, "GET", t + "/deliveries", "webhooks.read",
            "Webhook deliveries (?status=pending|delivered|dead&after=CURSOR&limit=N)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              auto status = req.QueryParam("status");
              std::string after = req.QueryParam("after").value_or("");
              WithReader(deps, respond, [&](store::Connection& c) {
                return integrations::ListDeliveries(c, who.tenant_id, status, after, *limit);
              });
            });
  AddAuthed(router, deps, "POST", t + "/{subscription_id}/deliveries/{seq}/replay",
            "webhooks.manage", "Replay a dead-lettered delivery",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              const std::string& seq = req.path_params["seq"];
              if (seq.empty() || seq.size() > 18 ||
                  seq.find_first_not_of("0123456789") != std::string::npos) {
                return respond(Problem(
                    Error::Invalid("seq", "format", "seq must be a positive integer"), req.path));
              }
              SubmitCommand(deps, req, who, std::string(integrations::kReplayWebhookDelivery),
                            Json{{"subscription_id", req.path_params["subscription_id"]},
                                 {"event_seq", std::stoll(seq)}},
                            std::move(respond), 200);
            });
}

}  // namespace opsbox::api::detail
