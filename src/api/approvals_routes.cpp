// Routes of maker-checker approvals (issue #19) under /api/v1/tenants/{tenant}/approvals. Thin:
// each route builds a command payload (rules in src/approvals/approvals.cpp) or reads the
// projection. The checker's roles are taken from the caller's credentials, never from the body.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "approvals/approvals.hpp"

namespace opsbox::api::detail {
namespace {

using Who = const identity::Principal&;

const std::string kApprovals = "/api/v1/tenants/{tenant}/approvals";

void Decide(const ApiDeps& deps, HttpRequest& req, Who who, std::string_view type,
            bool body_required, Respond respond) {
  Json payload = Json::object();
  if (body_required || !req.body.empty()) {
    auto body = ParseBody(req);
    if (!body.ok()) return respond(Problem(body.error(), req.path));
    payload = std::move(*body);
  }
  for (auto k : {"approval_id", "checker_roles"}) {
    if (payload.contains(k)) {
      return respond(Problem(Error::Invalid(k, "unknown_field",
                                            std::string(k) + " is not a field of this body"),
                             req.path));
    }
  }
  payload["approval_id"] = req.path_params.at("approval_id");
  payload["checker_roles"] = who.roles;
  SubmitCommand(deps, req, who, std::string(type), std::move(payload), std::move(respond), 200);
}

}  // namespace

void AddApprovalsRoutes(Router& router, const ApiDeps& deps) {
  AddAuthed(router, deps, "POST", kApprovals, std::string(approvals::kPermRequest),
            "Request a second person's approval for an action (fee waiver, refund, …)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              auto body = ParseBody(req);
              if (!body.ok()) return respond(Problem(body.error(), req.path));
              SubmitCommand(deps, req, who, std::string(approvals::kRequestApproval),
                            std::move(*body), std::move(respond), 201);
            });
  AddAuthed(router, deps, "GET", kApprovals, std::string(approvals::kPermRead),
            "List approval requests, newest first (?status=pending|approved|rejected)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              std::optional<std::string> status;
              if (auto s = req.QueryParam("status"); s && !s->empty()) {
                if (*s != "pending" && *s != "approved" && *s != "rejected") {
                  return respond(Problem(
                      Error::Invalid("status", "enum", "status is pending, approved or rejected"),
                      req.path));
                }
                status = *s;
              }
              int64_t before = 0;
              if (auto a = req.QueryParam("after"); a && !a->empty()) {
                if (a->size() > 18 || a->find_first_not_of("0123456789") != std::string::npos) {
                  return respond(Problem(Error::Invalid("after", "format",
                                                        "after must be a cursor from a previous page"),
                                         req.path));
                }
                before = std::stoll(*a);
              }
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(
                    auto rows, approvals::ListRequests(c, who.tenant_id, status, before, *limit));
                const Instant now = deps.clock->Now();
                Json items = Json::array();
                for (const auto& [seq, r] : rows) items.push_back(approvals::ToJson(r, now));
                Json next = rows.size() == *limit && !rows.empty()
                                ? Json(std::to_string(rows.back().first))
                                : Json();
                return Json{{"items", std::move(items)}, {"next_cursor", std::move(next)}};
              });
            });
  AddAuthed(router, deps, "GET", kApprovals + "/{approval_id}", std::string(approvals::kPermRead),
            "One approval request and its decision",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              const std::string id = req.path_params.at("approval_id");
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(auto r, approvals::GetRequest(c, who.tenant_id, id));
                if (!r) return Error::NotFound("no approval request " + id);
                return approvals::ToJson(*r, deps.clock->Now());
              });
            });
  AddAuthed(router, deps, "POST", kApprovals + "/{approval_id}/approve",
            std::string(approvals::kPermCheck),
            "Approve a request: the action runs once, in the same command (403 self_approval, "
            "403 limit_exceeded)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Decide(deps, req, who, approvals::kApproveRequest, false, std::move(respond));
            });
  AddAuthed(router, deps, "POST", kApprovals + "/{approval_id}/reject",
            std::string(approvals::kPermCheck), "Reject a request with a reason",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Decide(deps, req, who, approvals::kRejectRequest, true, std::move(respond));
            });
}

}  // namespace opsbox::api::detail
