// Routes of workforce management (issue #5): staffing and simulation calculators, forecasts,
// staffing targets, schedules and intraday, under /api/v1/tenants/{tenant}/wfm/; and the
// planning page at /wfm. Computations that can take long (forecast fitting, simulation, the MIP
// solve) run on the blocking pool, never on I/O threads.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "core/worker_pool.hpp"
#include "store/store.hpp"
#include "wfm/planning.hpp"

namespace opsbox::api::detail {
namespace {

Result<wfm::ZoneRules> LoadZone(std::string_view name) { return wfm::ZoneRules::Load(name); }


// Runs `work` on the blocking pool; 503 when the pool is full.
void OffThread(const ApiDeps& deps, const HttpRequest& req, const Respond& respond,
               std::function<void()> work) {
  if (!deps.compute->Post(std::move(work))) {
    respond(Problem(Error::Unavailable("too many planning computations in progress; retry "
                                       "shortly"),
                    req.path));
  }
}

// A pure computation over the JSON body, answered as 200 (no state changes).
void Compute(const ApiDeps& deps, HttpRequest& req, Respond respond,
             Result<Json> (*fn)(const Json&)) {
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  OffThread(deps, req, respond, [fn, body = std::move(*body), path = req.path, respond] {
    auto out = fn(body);
    if (!out.ok()) return respond(Problem(out.error(), path));
    respond(Ok(*out));
  });
}

// Answers the saved payload with the command's result (its id and created_at) merged in.
Respond MergeResult(Json payload, Respond respond) {
  return [payload = std::move(payload), respond](HttpResponse resp) mutable {
    if (resp.status == 200 || resp.status == 201) {
      Json result = Json::parse(resp.body, nullptr, false);
      if (result.is_object()) {
        for (auto& [k, v] : result.items()) payload[k] = v;
        resp.body = payload.dump();
      }
    }
    respond(std::move(resp));
  };
}

// Builds a payload off-thread with `build`, then saves it with the command `type`.
void BuildAndSave(const ApiDeps& deps, HttpRequest& req, const identity::Principal& who,
                  std::string type, std::function<Result<Json>(const Json&)> build,
                  Respond respond) {
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  if (auto key = IdempotencyKey(req); !key.ok()) return respond(Problem(key.error(), req.path));
  OffThread(deps, req, respond,
            [&deps, req, who, type = std::move(type), build = std::move(build),
             body = std::move(*body), respond]() {
              auto payload = build(body);
              if (!payload.ok()) return respond(Problem(payload.error(), req.path));
              Json saved = *payload;
              SubmitCommand(deps, req, who, type, std::move(*payload),
                            MergeResult(std::move(saved), respond));
            });
}

void ListRoute(const ApiDeps& deps, HttpRequest& req, const identity::Principal& who,
               const Respond& respond, bool forecasts) {
  auto limit = PageLimit(req);
  if (!limit.ok()) return respond(Problem(limit.error(), req.path));
  std::string after = req.QueryParam("after").value_or("");
  auto queue = req.QueryParam("queue");
  WithReader(deps, respond, [&](store::Connection& c) {
    return forecasts ? wfm::ListForecasts(c, who.tenant_id, queue, after, *limit)
                     : wfm::ListSchedules(c, who.tenant_id, queue, after, *limit);
  });
}

void PutTargets(const ApiDeps& deps, HttpRequest& req, const identity::Principal& who,
                Respond respond) {
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  SubmitCommand(deps, req, who, std::string(wfm::kSetStaffingTargets),
                Json{{"queue", req.path_params["queue"]}, {"targets", std::move(*body)}},
                std::move(respond), 200);
}

void GetIntraday(const ApiDeps& deps, HttpRequest& req, const identity::Principal& who,
                 const Respond& respond) {
  auto queue = req.QueryParam("queue");
  auto date = req.QueryParam("date");
  if (!queue || !date) {
    return respond(Problem(Error::Invalid(!queue ? "queue" : "date", "required",
                                          "intraday needs ?queue=Q&date=YYYY-MM-DD"),
                           req.path));
  }
  auto zone = req.QueryParam("zone");
  const Instant now = deps.clock->Now();
  WithReader(deps, respond, [&](store::Connection& c) {
    return wfm::Intraday(c, who.tenant_id, *queue, *date, zone, now, LoadZone);
  });
}

}  // namespace

void AddWfmRoutes(Router& router, const ApiDeps& deps) {
  const std::string w = "/api/v1/tenants/{tenant}/wfm";
  using Who = const identity::Principal&;
  AddAuthed(router, deps, "POST", w + "/staffing", "wfm.read",
            "Erlang C or A staffing per interval for volumes, handle times and targets",
            [&deps](HttpRequest& req, Who, Respond respond) {
              Compute(deps, req, std::move(respond), wfm::ComputeStaffing);
            });
  AddAuthed(router, deps, "POST", w + "/simulations", "wfm.read",
            "Simulate a queue per interval (seeded); at most 2,000,000 expected calls",
            [&deps](HttpRequest& req, Who, Respond respond) {
              Compute(deps, req, std::move(respond), wfm::ComputeSimulation);
            });
  AddAuthed(router, deps, "POST", w + "/forecasts", "wfm.plan",
            "Forecast a queue from interval history and save the forecast",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              BuildAndSave(
                  deps, req, who, std::string(wfm::kSaveForecast),
                  [](const Json& b) { return wfm::BuildForecastPayload(b, LoadZone); },
                  std::move(respond));
            });
  AddAuthed(router, deps, "GET", w + "/forecasts", "wfm.read",
            "Saved forecasts, newest first (?queue=Q&limit=N&after=CURSOR)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              ListRoute(deps, req, who, respond, true);
            });
  AddAuthed(router, deps, "GET", w + "/forecasts/{forecast_id}", "wfm.read",
            "One saved forecast with its intervals",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              WithReader(deps, respond, [&](store::Connection& c) {
                return wfm::GetForecast(c, who.tenant_id, req.path_params["forecast_id"]);
              });
            });
  AddAuthed(router, deps, "PUT", w + "/targets/{queue}", "wfm.plan",
            "Set a queue's staffing targets", [&deps](HttpRequest& req, Who who, Respond respond) {
              PutTargets(deps, req, who, std::move(respond));
            });
  AddAuthed(router, deps, "GET", w + "/targets/{queue}", "wfm.read", "A queue's staffing targets",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              WithReader(deps, respond, [&](store::Connection& c) {
                return wfm::GetStaffingTargets(c, who.tenant_id, req.path_params["queue"]);
              });
            });
  AddAuthed(router, deps, "POST", w + "/schedules", "wfm.plan",
            "Solve a shift schedule (MIP, time-limited) and save it",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              BuildAndSave(deps, req, who, std::string(wfm::kSaveSchedule),
                           wfm::BuildSchedulePayload, std::move(respond));
            });
  AddAuthed(router, deps, "GET", w + "/schedules", "wfm.read",
            "Saved schedules, newest first (?queue=Q&limit=N&after=CURSOR)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              ListRoute(deps, req, who, respond, false);
            });
  AddAuthed(router, deps, "GET", w + "/schedules/{schedule_id}", "wfm.read",
            "One saved schedule with its shifts and coverage",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              WithReader(deps, respond, [&](store::Connection& c) {
                return wfm::GetSchedule(c, who.tenant_id, req.path_params["schedule_id"]);
              });
            });
  AddAuthed(router, deps, "GET", w + "/intraday", "wfm.read",
            "Today so far versus forecast, re-forecast and staffing gap "
            "(?queue=Q&date=YYYY-MM-DD&zone=Area/City)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              GetIntraday(deps, req, who, respond);
            });
}

}  // namespace opsbox::api::detail
