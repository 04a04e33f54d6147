// Routes of routing (issue #4, contracts §5) under /api/v1/tenants/{tenant}/routing/: workers
// and their activities, task queues, workflows, tasks, reservations and queue statistics.
// Thin: each route builds a command payload (decisions are in routing/service_decide.cpp) or
// reads through routing::Service.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "routing/expression.hpp"
#include "routing/service.hpp"
#include "store/store.hpp"

namespace opsbox::api::detail {
namespace {

using Who = const identity::Principal&;

// A route answering 503 while the routing service is not wired.
bool Wired(const ApiDeps& deps, const HttpRequest& req, const Respond& respond) {
  if (deps.routing != nullptr) return true;
  respond(Problem(Error::Unavailable("routing is not enabled on this server"), req.path));
  return false;
}

// The body as an object, with `extra` members set (path parameters win over the body).
Result<Json> BodyWith(const HttpRequest& req, const Json& extra, bool body_required = true) {
  Json body = Json::object();
  if (body_required || !req.body.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(body, ParseBody(req));
  }
  for (auto& [k, v] : extra.items()) body[k] = v;
  return body;
}

// Workers act as themselves; a principal allowed routing.manage acts for anyone.
Json Acting(Who who) {
  if (who.Allows("routing.manage")) return Json::object();
  return Json{{"worker_id", who.actor_id}};
}

void Command(const ApiDeps& deps, HttpRequest& req, Who who, std::string_view type,
             const Json& extra, Respond respond, int status = 200, bool body_required = false) {
  if (!Wired(deps, req, respond)) return;
  auto body = BodyWith(req, extra, body_required);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  SubmitCommand(deps, req, who, std::string(type), std::move(*body), std::move(respond), status);
}

void SetActivity(const ApiDeps& deps, HttpRequest& req, Who who, Respond respond) {
  std::string worker = req.path_params["worker_id"];
  if (worker == "me") worker = who.actor_id;
  if (worker != who.actor_id && !who.Allows("routing.manage")) {
    return respond(Problem(Error{ErrorCode::kPermissionDenied, "worker_id", "permission",
                                 "setting another worker's activity needs routing.manage"},
                           req.path));
  }
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  Json payload = *body;
  payload["worker_id"] = worker;
  if (!Wired(deps, req, respond)) return;
  SubmitCommand(deps, req, who, std::string(routing::kSetWorkerActivity), std::move(payload),
                std::move(respond), 200);
}

void Transfer(const ApiDeps& deps, HttpRequest& req, Who who, Respond respond) {
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  Json payload = Acting(who);
  payload["task_id"] = req.path_params["task_id"];
  for (auto& [k, v] : body->items()) {
    payload[k == "worker_id" ? "to_worker_id" : k] = v;
  }
  if (!Wired(deps, req, respond)) return;
  SubmitCommand(deps, req, who, std::string(routing::kTransferTask), std::move(payload),
                std::move(respond), 200);
}

void Read(const ApiDeps& deps, const HttpRequest& req, const Respond& respond,
          const std::function<Result<Json>(store::Connection&)>& fn) {
  if (!Wired(deps, req, respond)) return;
  WithReader(deps, respond, fn);
}

void AddConfigRoutes(Router& router, const ApiDeps& deps, const std::string& r) {
  AddAuthed(router, deps, "PUT", r + "/workers/{worker_id}", "routing.manage",
            "Create or update a routing worker (an agent): attributes and capacity per channel",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Command(deps, req, who, routing::kUpsertWorker,
                      Json{{"worker_id", req.path_params["worker_id"]}}, std::move(respond), 200,
                      true);
            });
  AddAuthed(router, deps, "GET", r + "/workers", "routing.read",
            "List routing workers with their activities",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              const std::string after = req.QueryParam("after").value_or("");
              Read(deps, req, respond, [&](store::Connection& c) {
                return deps.routing->ListWorkers(c, who.tenant_id, *limit, after);
              });
            });
  AddAuthed(router, deps, "GET", r + "/me", "routing.work",
            "The caller's worker, activity, pending reservations and tasks",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Read(deps, req, respond, [&](store::Connection& c) {
                return deps.routing->Me(c, who.tenant_id, who.actor_id);
              });
            });
  AddAuthed(router, deps, "POST", r + "/workers/{worker_id}/activity", "routing.work",
            "Set a worker's activity (\"me\" for the caller; others need routing.manage)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              SetActivity(deps, req, who, std::move(respond));
            });
  AddAuthed(router, deps, "PUT", r + "/queues/{queue_id}", "routing.manage",
            "Create or update a task queue (target expression, worker selection, service level)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Command(deps, req, who, routing::kUpsertTaskQueue,
                      Json{{"queue_id", req.path_params["queue_id"]}}, std::move(respond), 200,
                      true);
            });
  AddAuthed(router, deps, "GET", r + "/queues", "routing.read", "List task queues",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Read(deps, req, respond, [&](store::Connection& c) {
                return deps.routing->ListQueues(c, who.tenant_id);
              });
            });
  AddAuthed(router, deps, "PUT", r + "/workflows/{workflow_id}", "routing.manage",
            "Create or update a workflow (\"default\" routes new tasks)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Command(deps, req, who, routing::kUpsertWorkflow,
                      Json{{"workflow_id", req.path_params["workflow_id"]}}, std::move(respond),
                      200, true);
            });
  // A query, not a command: the console validates a queue's or a workflow's expression as it
  // is typed with the same compiler the routing engine uses (routing/expression.hpp).
  AddAuthed(router, deps, "POST", r + "/expressions/validate", "routing.manage",
            "Validate a routing expression (200 {valid: true}, or a problem naming the column "
            "and the rule); records nothing",
            [](HttpRequest& req, Who, Respond respond) {
              auto body = ParseBody(req);
              if (!body.ok()) return respond(Problem(body.error(), req.path));
              if (auto st = CheckObjectKeys(*body, {"expression"}); !st.ok()) {
                return respond(Problem(st.error(), req.path));
              }
              auto text = RequireString(*body, "expression", routing::kExpressionTextBytesMax);
              if (!text.ok()) return respond(Problem(text.error(), req.path));
              auto compiled = routing::Expression::Compile(*text, "expression");
              if (!compiled.ok()) return respond(Problem(compiled.error(), req.path));
              respond(Ok(Json{{"valid", true}}));
            });
  AddAuthed(router, deps, "GET", r + "/stats", "routing.read",
            "Queue statistics: live waiting, longest wait, agents by activity; since midnight "
            "UTC offered, answered, service level, ASA, abandoned",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Read(deps, req, respond, [&](store::Connection& c) {
                return deps.routing->Stats(c, who.tenant_id);
              });
            });
}

void AddTaskRoutes(Router& router, const ApiDeps& deps, const std::string& r) {
  AddAuthed(router, deps, "POST", r + "/tasks", "tasks.write",
            "Create a task; the default workflow (or queue_id) places it in a queue",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Command(deps, req, who, routing::kCreateTask, Json::object(), std::move(respond),
                      201, true);
            });
  AddAuthed(router, deps, "GET", r + "/tasks/{task_id}", "routing.read", "A task",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              const std::string id = req.path_params["task_id"];
              Read(deps, req, respond, [&](store::Connection& c) {
                return deps.routing->GetTask(c, who.tenant_id, id);
              });
            });
  struct Action {
    const char* method;
    std::string path;
    std::string permission;
    std::string_view command;
    const char* summary;
    const char* id_param;
    bool acting;
  };
  const std::vector<Action> actions = {
      {"POST", "/reservations/{reservation_id}/accept", "routing.work",
       routing::kAcceptReservation, "Accept an offered reservation", "reservation_id", true},
      {"POST", "/reservations/{reservation_id}/reject", "routing.work",
       routing::kRejectReservation, "Reject an offered reservation; the task is offered again",
       "reservation_id", true},
      {"POST", "/tasks/{task_id}/complete", "routing.work", routing::kCompleteTask,
       "Complete a task; the worker enters wrap-up", "task_id", true},
      {"POST", "/tasks/{task_id}/wrap-up", "routing.work", routing::kFinishWrapUp,
       "End the wrap-up of a completed task", "task_id", true},
      {"POST", "/tasks/{task_id}/callback", "tasks.write", routing::kScheduleCallback,
       "Schedule a callback: the task waits until `at`, keeping its position", "task_id", false},
      {"POST", "/tasks/{task_id}/cancel", "tasks.write", routing::kCancelTask,
       "Cancel a task (counted as abandoned when it was waiting)", "task_id", false},
  };
  for (const auto& a : actions) {
    AddAuthed(router, deps, a.method, r + a.path, a.permission, a.summary,
              [&deps, a](HttpRequest& req, Who who, Respond respond) {
                Json extra = a.acting ? Acting(who) : Json::object();
                extra[a.id_param] = req.path_params[a.id_param];
                Command(deps, req, who, a.command, extra, std::move(respond));
              });
  }
  AddAuthed(router, deps, "POST", r + "/tasks/{task_id}/transfer", "routing.work",
            "Transfer a task to a queue or a worker, keeping its attributes",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Transfer(deps, req, who, std::move(respond));
            });
}

}  // namespace

void AddRoutingRoutes(Router& router, const ApiDeps& deps) {
  const std::string r = "/api/v1/tenants/{tenant}/routing";
  AddConfigRoutes(router, deps, r);
  AddTaskRoutes(router, deps, r);
}

}  // namespace opsbox::api::detail
