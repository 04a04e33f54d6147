// Routes of privacy governance: unmasking, break-glass, consent, retention and reports
// (privacy/governance.hpp; docs/privacy.md).
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "core/limits.hpp"
#include "core/worker_pool.hpp"
#include "privacy/consent.hpp"
#include "privacy/governance.hpp"
#include "privacy/reports.hpp"
#include "privacy/retention.hpp"
#include "store/store.hpp"

namespace opsbox::api::detail {
namespace {

const std::string kBase = "/api/v1/tenants/{tenant}";

bool Unavailable(const ApiDeps& deps, const Respond& respond) {
  if (deps.privacy) return false;
  respond(Problem(Error::Unavailable("privacy governance is not configured")));
  return true;
}

// Reads the unmasked field after its field_unmasked event committed, off the writer thread.
void ReadUnmasked(const ApiDeps& deps, std::string tenant, Json result, Respond respond) {
  auto work = [&deps, tenant = std::move(tenant), result = std::move(result),
               respond = std::move(respond)]() mutable {
    WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
      OPSBOX_ASSIGN_OR_RETURN(
          auto opened,
          deps.privacy->ReadField(c, tenant, result.at("record_type").get<std::string>(),
                                  result.at("record_id").get<std::string>(),
                                  result.at("field").get<std::string>()));
      Json out = result;
      out["erased"] = opened.erased;
      out["value"] = opened.erased ? Json(std::string(privacy::kErasedMarker)) : opened.value;
      return out;
    });
  };
  auto shared = std::make_shared<decltype(work)>(std::move(work));
  if (deps.interactive == nullptr || !deps.interactive->Post([shared] { (*shared)(); })) (*shared)();
}

void AddUnmask(Router& router, const ApiDeps& deps) {
  AddAuthed(router, deps, "POST", kBase + "/privacy/unmask", "pii.unmask",
            "Unmask one field of one record: records field_unmasked (who, when, why), then "
            "returns the value",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              if (Unavailable(deps, respond)) return;
              auto body = ParseBody(req);
              if (!body.ok()) return respond(Problem(body.error(), req.path));
              auto key = IdempotencyKey(req);
              if (!key.ok()) return respond(Problem(key.error(), req.path));
              ledger::Command cmd{who.tenant_id, std::move(*key),
                                  std::string(privacy::kUnmaskField), who.actor_id,
                                  std::move(*body)};
              deps.writer->Submit(std::move(cmd),
                                  [&deps, tenant = who.tenant_id, path = req.path,
                                   respond = std::move(respond)](Result<ledger::CommandOutcome> r) {
                                    if (!r.ok()) return respond(Problem(r.error(), path));
                                    Respond no_store = [respond](HttpResponse resp) {
                                      resp.headers.emplace_back("Cache-Control", "no-store");
                                      respond(std::move(resp));
                                    };
                                    ReadUnmasked(deps, tenant, r->result, std::move(no_store));
                                  });
            });
}

void AddBreakGlass(Router& router, const ApiDeps& deps) {
  AddAuthed(router, deps, "POST", kBase + "/privacy/break-glass", "privacy.break_glass",
            "Start emergency access (clear values for duration_min minutes; reviewed later)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto body = ParseBody(req);
              if (!body.ok()) return respond(Problem(body.error(), req.path));
              SubmitCommand(deps, req, who, std::string(privacy::kStartBreakGlass),
                            std::move(*body), std::move(respond));
            });
  AddAuthed(router, deps, "GET", kBase + "/privacy/break-glass", "privacy.review",
            "Break-glass grants awaiting review (?include_reviewed=true for all)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              const bool all = req.QueryParam("include_reviewed").value_or("") == "true";
              const Instant now = deps.clock->Now();
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(Json out, privacy::detail::BreakGlassGrants(
                                                      c, who.tenant_id, now, all, *limit));
                for (auto& g : out["grants"]) g["can_review"] = g["grantee"] != who.actor_id;
                return out;
              });
            });
  AddAuthed(router, deps, "POST", kBase + "/privacy/break-glass/{grant_id}/review",
            "privacy.review", "Review a break-glass grant (not by its grantee)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto body = ParseBody(req);
              if (!body.ok()) return respond(Problem(body.error(), req.path));
              (*body)["grant_id"] = req.path_params["grant_id"];
              SubmitCommand(deps, req, who, std::string(privacy::kReviewBreakGlass),
                            std::move(*body), std::move(respond), 200);
            });
}

void AddConsent(Router& router, const ApiDeps& deps) {
  const std::string c = kBase + "/customers/{customer_id}/consents";
  auto change = [&deps](std::string_view type) {
    return [&deps, type = std::string(type)](HttpRequest& req, const identity::Principal& who,
                                             Respond respond) {
      auto body = ParseBody(req);
      if (!body.ok()) return respond(Problem(body.error(), req.path));
      (*body)["customer_id"] = req.path_params["customer_id"];
      SubmitCommand(deps, req, who, type, std::move(*body), std::move(respond));
    };
  };
  AddAuthed(router, deps, "POST", c, "consent.write", "Record consent for a purpose and channel",
            change(privacy::kRecordConsent));
  AddAuthed(router, deps, "POST", c + "/withdraw", "consent.write",
            "Withdraw consent for a purpose and channel (same shape as giving it)",
            change(privacy::kWithdrawConsent));
  AddAuthed(router, deps, "GET", c, "consent.read", "Current consents and their history",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              const std::string id = req.path_params["customer_id"];
              WithReader(deps, respond, [&](store::Connection& conn) {
                return privacy::detail::CustomerConsents(conn, who.tenant_id, id, *limit);
              });
            });
  AddAuthed(router, deps, "GET", kBase + "/consent/check", "consent.read",
            "Whether consent allows contact (?customer_id&purpose&channel[&at])",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              if (Unavailable(deps, respond)) return;
              const std::string customer = req.QueryParam("customer_id").value_or("");
              const std::string purpose = req.QueryParam("purpose").value_or("");
              const std::string channel = req.QueryParam("channel").value_or("");
              Error bad;
              if (customer.empty() || customer.size() > privacy::detail::kCustomerIdBytesMax) {
                bad = Error::Invalid("customer_id", "required",
                                     "customer_id is required (<= 64 bytes)");
              } else if (!privacy::detail::PurposeIndex(purpose)) {
                bad = Error::Invalid("purpose", "enum",
                                     "purpose must be service, collections or marketing");
              } else if (!privacy::detail::ChannelIndex(channel)) {
                bad = Error::Invalid("channel", "enum",
                                     "channel must be voice, sms, whatsapp, email or chat");
              }
              if (!bad.field.empty()) return respond(Problem(bad, req.path));
              Instant at = deps.clock->Now();
              if (auto a = req.QueryParam("at")) {
                auto parsed = ParseRfc3339(*a, "at");
                if (!parsed.ok()) return respond(Problem(parsed.error(), req.path));
                at = *parsed;
              }
              const bool allowed =
                  deps.privacy->ConsentAllows(who.tenant_id, customer, purpose, channel, at);
              respond(Ok(Json{{"customer_id", customer},
                              {"purpose", purpose},
                              {"channel", channel},
                              {"at", FormatRfc3339(at)},
                              {"allowed", allowed}}));
            });
}

void AddRetention(Router& router, const ApiDeps& deps) {
  AddAuthed(router, deps, "PUT", kBase + "/privacy/retention-policies/{record_type}",
            "retention.manage", "Set the retention policy of a record type",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto body = ParseBody(req);
              if (!body.ok()) return respond(Problem(body.error(), req.path));
              (*body)["record_type"] = req.path_params["record_type"];
              SubmitCommand(deps, req, who, std::string(privacy::kSetRetentionPolicy),
                            std::move(*body), std::move(respond), 200);
            });
  AddAuthed(router, deps, "GET", kBase + "/privacy/retention-policies", "privacy.read",
            "Retention policies and the record types that can be retained",
            [&deps](HttpRequest&, const identity::Principal& who, Respond respond) {
              if (Unavailable(deps, respond)) return;
              WithReader(deps, respond, [&](store::Connection& c) {
                return deps.privacy->ListRetentionPolicies(c, who.tenant_id);
              });
            });
  AddAuthed(router, deps, "POST", kBase + "/privacy/retention-runs", "retention.manage",
            "Run retention now ({dry_run: true} reports what would happen)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto body = ParseBody(req);
              if (!body.ok()) return respond(Problem(body.error(), req.path));
              SubmitCommand(deps, req, who, std::string(privacy::kRunRetention), std::move(*body),
                            std::move(respond));
            });
  for (const char* path : {"/privacy/retention-runs", "/privacy/reports/retention-runs"}) {
    AddAuthed(router, deps, "GET", kBase + path, "privacy.read", "Retention runs, newest first",
              [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
                auto limit = PageLimit(req);
                if (!limit.ok()) return respond(Problem(limit.error(), req.path));
                WithReader(deps, respond, [&](store::Connection& c) {
                  return privacy::detail::ListRetentionRuns(c, who.tenant_id, *limit);
                });
              });
  }
}

Result<Instant> TimeParam(const HttpRequest& req, std::string_view name, Instant fallback) {
  auto v = req.QueryParam(name);
  if (!v) return fallback;
  return ParseRfc3339(*v, name);
}

void AddReports(Router& router, const ApiDeps& deps) {
  const std::string r = kBase + "/privacy/reports";
  AddAuthed(router, deps, "GET", r + "/access-review", "privacy.read",
            "Who holds which role, last use, and grants unused for 90 days",
            [&deps](HttpRequest&, const identity::Principal& who, Respond respond) {
              const Instant now = deps.clock->Now();
              WithReader(deps, respond, [&](store::Connection& c) {
                return privacy::detail::AccessReview(c, who.tenant_id, now, limits::kPageSizeMax);
              });
            });
  AddAuthed(router, deps, "GET", r + "/unmasks", "privacy.read",
            "Unmask log, newest first (?before_seq&limit)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              int64_t before = 0;
              if (auto b = req.QueryParam("before_seq")) {
                if (b->empty() || b->size() > 18 ||
                    b->find_first_not_of("0123456789") != std::string::npos) {
                  return respond(Problem(Error::Invalid("before_seq", "format",
                                                        "before_seq must be a positive integer"),
                                         req.path));
                }
                before = std::stoll(*b);
              }
              WithReader(deps, respond, [&](store::Connection& c) {
                return privacy::detail::UnmaskReport(c, who.tenant_id, before, *limit);
              });
            });
  AddAuthed(router, deps, "GET", r + "/sensitive-data-exceptions", "privacy.read",
            "Sensitive data exceptions by channel and by agent (?from&to, RFC 3339)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              auto from = TimeParam(req, "from", Instant{0});
              if (!from.ok()) return respond(Problem(from.error(), req.path));
              auto to = TimeParam(req, "to", deps.clock->Now() + Duration::Seconds(1));
              if (!to.ok()) return respond(Problem(to.error(), req.path));
              WithReader(deps, respond, [&](store::Connection& c) {
                return privacy::detail::SensitiveDataExceptionReport(c, who.tenant_id, *from, *to,
                                                                     *limit);
              });
            });
  AddAuthed(router, deps, "GET", r + "/erasures", "privacy.read",
            "Erasures executed (subject_erased), newest first",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              WithReader(deps, respond, [&](store::Connection& c) {
                return privacy::detail::ErasureReport(c, who.tenant_id, *limit);
              });
            });
}

}  // namespace

void AddPrivacyRoutes(Router& router, const ApiDeps& deps) {
  AddUnmask(router, deps);
  AddBreakGlass(router, deps);
  AddConsent(router, deps);
  AddRetention(router, deps);
  AddReports(router, deps);
}

}  // namespace opsbox::api::detail
