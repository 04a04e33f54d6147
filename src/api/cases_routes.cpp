// Routes of cases (issue #19) under /api/v1/tenants/{tenant}/: cases, their transitions and
// notes, and the tenant's case settings (business calendar, SLA policies). Thin: each route
// builds a command payload (decisions in src/cases/decide.cpp) or reads the projections; personal
// fields are opened and presented through Governance::Present (masked by role).
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "cases/case_ledger.hpp"
#include "core/time.hpp"
#include "privacy/governance.hpp"
#include "privacy/keyring.hpp"

namespace opsbox::api::detail {
namespace {

using Who = const identity::Principal&;
using privacy::FieldClass;

const std::string kCases = "/api/v1/tenants/{tenant}/cases";

// A stored personal value opened and presented for `who` (masked unless the role sees it).
Result<Json> Show(const ApiDeps& deps, store::Connection& c, Who who, FieldClass cls,
                  const Json& stored) {
  if (stored.is_null()) return Json();
  OPSBOX_ASSIGN_OR_RETURN(auto opened, deps.keyring->Open(c, who.tenant_id, stored));
  return deps.privacy->Present(who, cls, opened, deps.clock->Now());
}

Result<Json> Summary(const ApiDeps& deps, store::Connection& c, Who who,
                     const cases::CaseRecord& r, Instant now) {
  Json j{{"case_id", r.case_id},
         {"type", r.type},
         {"category", r.category},
         {"priority", r.priority},
         {"status", r.status},
         {"subject", r.subject},
         {"channel", r.channel.empty() ? Json() : Json(r.channel)},
         {"repeat_count", r.repeat_count},
         {"received_at", FormatRfc3339(r.received_at)},
         {"created_at", FormatRfc3339(r.created_at)},
         {"updated_at", FormatRfc3339(r.updated_at)},
         {"resolved_at", r.resolved_at ? Json(FormatRfc3339(*r.resolved_at)) : Json()},
         {"closed_at", r.closed_at ? Json(FormatRfc3339(*r.closed_at)) : Json()},
         {"sla", cases::SlaToJson(r, now)}};
  OPSBOX_ASSIGN_OR_RETURN(j["customer_id"],
                          Show(deps, c, who, FieldClass::kIdentifier, r.customer_id));
  return j;
}

// One timeline entry: kind, when, who, and the event's fields with personal ones presented.
Result<Json> Entry(const ApiDeps& deps, store::Connection& c, Who who,
                   const cases::TimelineEntry& t) {
  Json j{{"seq", t.seq}, {"at", FormatRfc3339(t.at)}, {"kind", t.kind}, {"actor", t.actor}};
  const Json& b = t.body;
  if (t.kind == "transitioned") {
    j["from"] = b.value("from", "");
    j["to"] = b.value("to", "");
    OPSBOX_ASSIGN_OR_RETURN(j["reason"],
                            Show(deps, c, who, FieldClass::kFreeText, b.value("reason", Json())));
  } else if (t.kind == "note") {
    j["note_id"] = b.value("note_id", "");
    j["visibility"] = b.value("visibility", "");
    j["response"] = b.value("response", false);
    OPSBOX_ASSIGN_OR_RETURN(j["text"],
                            Show(deps, c, who, FieldClass::kFreeText, b.value("text", Json())));
  } else if (t.kind == "sla_at_risk" || t.kind == "sla_breached") {
    j["target"] = b.value("target", "");
    j["due_at"] = FormatRfc3339(Instant{b.value("due_at_us", int64_t{0})});
  } else if (t.kind == "opened") {
    j["status"] = b.value("status", "");
  }
  return j;
}

Result<Json> Detail(const ApiDeps& deps, store::Connection& c, Who who, std::string_view id) {
  OPSBOX_ASSIGN_OR_RETURN(auto rec, cases::GetCase(c, who.tenant_id, id));
  if (!rec) return Error::NotFound("no case " + std::string(id));
  const Instant now = deps.clock->Now();
  OPSBOX_ASSIGN_OR_RETURN(Json j, Summary(deps, c, who, *rec, now));
  OPSBOX_ASSIGN_OR_RETURN(j["description"],
                          Show(deps, c, who, FieldClass::kFreeText, rec->description));
  j["repeat_of"] = rec->repeat_of;
  const auto allowed = cases::AllowedTargets(
      cases::DefaultLifecycle(cases::ParseCaseType(rec->type).value_or(cases::CaseType::kComplaint)),
      cases::ParseCaseStatus(rec->status).value_or(cases::CaseStatus::kNew));
  j["allowed_transitions"] = Json::array();
  for (auto s : allowed) j["allowed_transitions"].push_back(cases::Name(s));
  OPSBOX_ASSIGN_OR_RETURN(auto timeline,
                          cases::CaseTimeline(c, who.tenant_id, id, cases::kTimelineEntriesMax));
  j["timeline"] = Json::array();
  for (const auto& t : timeline) {
    OPSBOX_ASSIGN_OR_RETURN(auto e, Entry(deps, c, who, t));
    j["timeline"].push_back(std::move(e));
  }
  return j;
}

Result<cases::CaseFilter> Filter(const HttpRequest& req, Instant now) {
  cases::CaseFilter f;
  f.now = now;
  OPSBOX_ASSIGN_OR_RETURN(f.limit, PageLimit(req));
  auto text = [&req](std::string_view name, auto valid) -> Result<std::optional<std::string>> {
    auto v = req.QueryParam(name);
    if (!v || v->empty()) return std::optional<std::string>();
    if (!valid(*v)) {
      return Error::Invalid(std::string(name), "enum", std::string(name) + " is not known: " + *v);
    }
    return std::optional<std::string>(*v);
  };
  OPSBOX_ASSIGN_OR_RETURN(f.status, text("status", [](const std::string& v) {
                            return cases::ParseCaseStatus(v).has_value();
                          }));
  OPSBOX_ASSIGN_OR_RETURN(f.type, text("type", [](const std::string& v) {
                            return cases::ParseCaseType(v).has_value();
                          }));
  OPSBOX_ASSIGN_OR_RETURN(f.priority, text("priority", [](const std::string& v) {
                            return cases::ParsePriority(v).has_value();
                          }));
  OPSBOX_ASSIGN_OR_RETURN(f.category, text("category", [](const std::string& v) {
                            return v.size() <= 128;
                          }));
  OPSBOX_ASSIGN_OR_RETURN(f.sla_state, text("sla_state", [](const std::string& v) {
                            return v == "on_track" || v == "at_risk" || v == "breached";
                          }));
  if (auto d = req.QueryParam("due_before"); d && !d->empty()) {
    OPSBOX_ASSIGN_OR_RETURN(auto at, ParseRfc3339(*d, "due_before"));
    f.due_before = at;
  }
  if (auto a = req.QueryParam("after"); a && !a->empty()) {
    if (a->size() > 18 || a->find_first_not_of("0123456789") != std::string::npos) {
      return Error::Invalid("after", "format", "after must be a cursor from a previous page");
    }
    f.after_seq = std::stoll(*a);
  }
  return f;
}

// The case permissions the caller holds, for the writer's transition check.
Json Granted(Who who) {
  Json granted = Json::array();
  for (auto p : {cases::kPermCasesWork, cases::kPermCasesClose, cases::kPermCasesReopen}) {
    if (who.Allows(p)) granted.push_back(std::string(p));
  }
  return granted;
}

void Submit(const ApiDeps& deps, HttpRequest& req, Who who, std::string_view type,
            const Json& path_fields, std::initializer_list<std::string_view> body_keys,
            Respond respond, int status) {
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  Json payload = Json::object();
  for (auto& [k, v] : body->items()) payload[k] = v;
  // Fields the server sets are never taken from the client.
  for (auto k : body_keys) {
    if (payload.contains(std::string(k))) {
      return respond(Problem(Error::Invalid(std::string(k), "unknown_field",
                                            std::string(k) + " is not a field of this body"),
                             req.path));
    }
  }
  for (auto& [k, v] : path_fields.items()) payload[k] = v;
  SubmitCommand(deps, req, who, std::string(type), std::move(payload), std::move(respond),
                status);
}

}  // namespace

void AddCasesRoutes(Router& router, const ApiDeps& deps) {
  AddAuthed(router, deps, "POST", kCases, std::string(cases::kPermCasesWrite),
            "Open a case (a complaint, dispute, service request…) with its SLA due instants",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Submit(deps, req, who, cases::kOpenCase, Json::object(), {}, std::move(respond),
                     201);
            });
  AddAuthed(router, deps, "GET", kCases, std::string(cases::kPermCasesRead),
            "List cases, newest first, by status, type, category, priority, SLA state or due "
            "instant",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              const Instant now = deps.clock->Now();
              auto f = Filter(req, now);
              if (!f.ok()) return respond(Problem(f.error(), req.path));
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(auto rows, cases::ListCases(c, who.tenant_id, *f));
                Json items = Json::array();
                for (const auto& r : rows) {
                  OPSBOX_ASSIGN_OR_RETURN(auto j, Summary(deps, c, who, r, now));
                  items.push_back(std::move(j));
                }
                Json next = rows.size() == f->limit && !rows.empty()
                                ? Json(std::to_string(rows.back().created_seq))
                                : Json();
                return Json{{"items", std::move(items)},
                            {"next_cursor", std::move(next)},
                            {"now", FormatRfc3339(now)}};
              });
            });
  AddAuthed(router, deps, "GET", kCases + "/{case_id}", std::string(cases::kPermCasesRead),
            "A case with its SLA clocks, allowed transitions and timeline",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              const std::string id = req.path_params.at("case_id");
              WithReader(deps, respond,
                         [&](store::Connection& c) { return Detail(deps, c, who, id); });
            });
  AddAuthed(router, deps, "POST", kCases + "/{case_id}/transitions",
            std::string(cases::kPermCasesWork),
            "Move a case to another status (409 names the allowed targets)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Submit(deps, req, who, cases::kTransitionCase,
                     Json{{"case_id", req.path_params.at("case_id")}, {"granted", Granted(who)}},
                     {"case_id", "granted"}, std::move(respond), 200);
            });
  AddAuthed(router, deps, "POST", kCases + "/{case_id}/notes", std::string(cases::kPermCasesWrite),
            "Add an internal or customer-visible note (a customer-visible note is a response)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Submit(deps, req, who, cases::kAddCaseNote,
                     Json{{"case_id", req.path_params.at("case_id")}}, {"case_id"},
                     std::move(respond), 201);
            });
  AddAuthed(router, deps, "GET", "/api/v1/tenants/{tenant}/case-settings",
            std::string(cases::kPermCasesRead),
            "The tenant's business calendar and SLA policy overrides (defaults when never set)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              (void)req;
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(auto s, cases::GetCaseSettings(c, who.tenant_id));
                if (s) return *s;
                cases::CaseSettings defaults;
                defaults.calendar = cases::DefaultCaseCalendar();
                return cases::CaseSettingsToJson(defaults);
              });
            });
  AddAuthed(router, deps, "PUT", "/api/v1/tenants/{tenant}/case-settings",
            std::string(cases::kPermCasesManage),
            "Set the tenant's business calendar and SLA policy overrides",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              Submit(deps, req, who, cases::kConfigureCases, Json::object(), {},
                     std::move(respond), 200);
            });
}

}  // namespace opsbox::api::detail
