// Routes of the automation boundary (issue #12) under /api/v1/tenants/{tenant}/automation/: the
// boundary policy (GET/PUT), automation sessions and their events from bots, IVR and voice AI
// platforms, the agent's review of a handoff packet, and the handoff acceptance rate per
// intent. Thin: each route builds a command payload (decisions in src/automation/decide.cpp)
// or reads through automation::Automation.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "automation/automation.hpp"
#include "core/time.hpp"

namespace opsbox::api::detail {
namespace {

using Who = const identity::Principal&;

bool Wired(const ApiDeps& deps, const HttpRequest& req, const Respond& respond) {
  if (deps.automation != nullptr) return true;
  respond(Problem(Error::Unavailable("automation is not enabled on this server"), req.path));
  return false;
}

// Submits `type` with the JSON body, `wrap` naming the member the body goes into ("" = the
// body is the payload), plus the path's session id when given.
void Submit(const ApiDeps& deps, HttpRequest& req, Who who, std::string_view type,
            std::string_view wrap, bool with_session, Respond respond, int created_status) {
  if (!Wired(deps, req, respond)) return;
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  Json payload = wrap.empty() ? std::move(*body) : Json{{std::string(wrap), std::move(*body)}};
  if (with_session) {
    if (payload.contains("session_id")) {
      return respond(Problem(Error::Invalid("session_id", "unknown_field",
                                            "the session is named by the path"),
                             req.path));
    }
    payload["session_id"] = req.path_params["session_id"];
  }
  SubmitCommand(deps, req, who, std::string(type), std::move(payload), std::move(respond),
                created_status);
}

void GetPolicy(const ApiDeps& deps, HttpRequest& req, Who who, const Respond& respond) {
  if (!Wired(deps, req, respond)) return;
  Instant at = deps.clock->Now();
  if (auto q = req.QueryParam("at")) {
    auto parsed = ParseRfc3339(*q, "at");
    if (!parsed.ok()) return respond(Problem(parsed.error(), req.path));
    at = *parsed;
  }
  WithReader(deps, respond, [&](store::Connection& c) {
    return deps.automation->PolicyAt(c, who.tenant_id, at);
  });
}

}  // namespace

void AddAutomationRoutes(Router& router, const ApiDeps& deps) {
  const std::string r = "/api/v1/tenants/{tenant}/automation";
  AddAuthed(router, deps, "GET", r + "/policy", "automation.read",
            "The automation boundary policy in force (now or at `at`) and versions scheduled later",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              GetPolicy(deps, req, who, respond);
            });
  AddAuthed(router, deps, "PUT", r + "/policy", "automation.manage",
            "Declare a new version of the automation boundary policy, effective now or later",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Submit(deps, req, who, automation::kSetPolicy, "", false, std::move(respond), 200);
            });
  AddAuthed(router, deps, "POST", r + "/sessions", "automation.write",
            "Start an automation session (a bot, IVR or voice AI conversation)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Submit(deps, req, who, automation::kStartSession, "", false, std::move(respond),
                     201);
            });
  AddAuthed(router, deps, "GET", r + "/sessions/{session_id}", "automation.read",
            "An automation session's handoff packet (transcript masked)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              if (!Wired(deps, req, respond)) return;
              const std::string id = req.path_params["session_id"];
              WithReader(deps, respond, [&](store::Connection& c) {
                return deps.automation->GetSession(c, who.tenant_id, id);
              });
            });
  AddAuthed(router, deps, "POST", r + "/sessions/{session_id}/events", "automation.write",
            "Record one event of an automation session; outcome partial or failed hands off",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Submit(deps, req, who, automation::kRecordEvent, "event", true, std::move(respond),
                     201);
            });
  AddAuthed(router, deps, "POST", r + "/sessions/{session_id}/review", "automation.review",
            "Mark a handoff packet useful or name what was missing",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Submit(deps, req, who, automation::kReviewHandoff, "", true, std::move(respond),
                     201);
            });
  AddAuthed(router, deps, "GET", r + "/handoff-acceptance", "automation.read",
            "Handoff acceptance rate per intent (packets agents marked useful / reviewed)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              if (!Wired(deps, req, respond)) return;
              WithReader(deps, respond, [&](store::Connection& c) {
                return deps.automation->HandoffAcceptance(c, who.tenant_id);
              });
            });
}

}  // namespace opsbox::api::detail
