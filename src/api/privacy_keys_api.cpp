// Routes of data-subject requests (erasure with maker-checker, deadlines), legal holds and
// tenant key rotation (issue #3; privacy/erasure.hpp, privacy/keyring.hpp).
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "privacy/erasure.hpp"
#include "privacy/keyring.hpp"
#include "store/store.hpp"

namespace opsbox::api::detail {
namespace {

const std::string kPrivacy = "/api/v1/tenants/{tenant}/privacy";

// The body (an object) with the path's id set; `allow_empty` accepts a request without a body.
Result<Json> BodyWith(const HttpRequest& req, const char* id_name, bool allow_empty) {
  Json body = Json::object();
  if (!(allow_empty && req.body.empty())) {
    OPSBOX_ASSIGN_OR_RETURN(body, ParseBody(req));
  }
  if (body.contains(id_name)) {
    return Error::Invalid(id_name, "unknown_field",
                          std::string(id_name) + " comes from the path, not the body");
  }
  body[id_name] = req.path_params.at(id_name);
  return body;
}

// A command whose payload is the body plus the path id.
AuthedHandler PathCommand(const ApiDeps& deps, std::string type, const char* id_name,
                          bool allow_empty) {
  return [&deps, type = std::move(type), id_name, allow_empty](
             HttpRequest& req, const identity::Principal& who, Respond respond) {
    auto body = BodyWith(req, id_name, allow_empty);
    if (!body.ok()) return respond(Problem(body.error(), req.path));
    SubmitCommand(deps, req, who, type, std::move(*body), std::move(respond), 200);
  };
}

AuthedHandler BodyCommand(const ApiDeps& deps, std::string type) {
  return [&deps, type = std::move(type)](HttpRequest& req, const identity::Principal& who,
                                         Respond respond) {
    auto body = ParseBody(req);
    if (!body.ok()) return respond(Problem(body.error(), req.path));
    SubmitCommand(deps, req, who, type, std::move(*body), std::move(respond));
  };
}

void AddSubjectRequests(Router& router, const ApiDeps& deps) {
  const std::string r = kPrivacy + "/subject-requests";
  AddAuthed(router, deps, "POST", r, "privacy.erase",
            "Open a data-subject request (erasure, access, rectification); due in one month",
            BodyCommand(deps, "open_subject_request"));
  AddAuthed(router, deps, "GET", r, "privacy.read",
            "Data-subject requests (?status=open|done&subject_id=&after=&limit=)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              const std::string status = req.QueryParam("status").value_or("");
              const std::string subject = req.QueryParam("subject_id").value_or("");
              const std::string after = req.QueryParam("after").value_or("");
              WithReader(deps, respond, [&](store::Connection& c) {
                return privacy::ListSubjectRequests(c, who.tenant_id, deps.clock->Now(), status,
                                                    subject, after, *limit);
              });
            });
  AddAuthed(router, deps, "GET", r + "/{request_id}", "privacy.read",
            "One data-subject request with its deadline",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              const std::string id = req.path_params["request_id"];
              WithReader(deps, respond, [&](store::Connection& c) {
                return privacy::GetSubjectRequest(c, who.tenant_id, id, deps.clock->Now());
              });
            });
  AddAuthed(router, deps, "POST", r + "/{request_id}/extend", "privacy.erase",
            "Extend a request's deadline by 1 or 2 months (at most 2 in total)",
            PathCommand(deps, "extend_subject_request", "request_id", false));
  AddAuthed(router, deps, "POST", r + "/{request_id}/approve", "privacy.erase",
            "Approve and execute an erasure (another user than the one who opened it)",
            PathCommand(deps, "approve_erasure", "request_id", true));
  AddAuthed(router, deps, "POST", r + "/{request_id}/complete", "privacy.erase",
            "Mark an access or rectification request done",
            PathCommand(deps, "complete_subject_request", "request_id", true));
}

void AddLegalHolds(Router& router, const ApiDeps& deps) {
  const std::string h = kPrivacy + "/legal-holds";
  AddAuthed(router, deps, "POST", h, "privacy.erase",
            "Place a legal hold on a data subject (blocks its erasure)",
            BodyCommand(deps, "place_legal_hold"));
  AddAuthed(router, deps, "POST", h + "/{hold_id}/release", "privacy.erase",
            "Release a legal hold", PathCommand(deps, "release_legal_hold", "hold_id", false));
  AddAuthed(router, deps, "GET", h, "privacy.read",
            "Legal holds (?active=true|false&subject_id=&after=&limit=)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              const std::string active = req.QueryParam("active").value_or("false");
              if (active != "true" && active != "false") {
                return respond(Problem(
                    Error::Invalid("active", "enum", "active must be true or false"), req.path));
              }
              const std::string subject = req.QueryParam("subject_id").value_or("");
              const std::string after = req.QueryParam("after").value_or("");
              WithReader(deps, respond, [&](store::Connection& c) {
                return privacy::ListLegalHolds(c, who.tenant_id, active == "true", subject, after,
                                               *limit);
              });
            });
}

}  // namespace

void AddPrivacyKeysRoutes(Router& router, const ApiDeps& deps) {
  AddSubjectRequests(router, deps);
  AddLegalHolds(router, deps);
  AddAuthed(router, deps, "POST", kPrivacy + "/keys/rotate", "privacy.keys",
            "Rotate the tenant master key: a new version rewraps every data key",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              SubmitCommand(deps, req, who, "rotate_tenant_key", Json::object(),
                            std::move(respond));
            });
}

}  // namespace opsbox::api::detail
