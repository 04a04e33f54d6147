// Routes of the ledger: events by cursor, one event, its inclusion proof, the latest signed
// checkpoint, and verification of the tenant's chain.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "core/worker_pool.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/reader.hpp"
#include "ledger/verify.hpp"
#include "store/store.hpp"

namespace opsbox::api::detail {
namespace {

Result<int64_t> ParseSeq(std::string_view text, std::string_view field) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != text.npos) {
    return Error::Invalid(std::string(field), "format",
                          std::string(field) + " must be a non-negative integer");
  }
  return std::stoll(std::string(text));
}

void ListEvents(const ApiDeps& deps, HttpRequest& req, const identity::Principal& who,
                Respond respond) {
  auto limit = PageLimit(req);
  if (!limit.ok()) return respond(Problem(limit.error(), req.path));
  int64_t after = 0;
  if (auto a = req.QueryParam("after")) {
    auto parsed = ParseSeq(*a, "after");
    if (!parsed.ok()) return respond(Problem(parsed.error(), req.path));
    after = *parsed;
  }
  std::string type = req.QueryParam("type").value_or("");
  WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
    OPSBOX_ASSIGN_OR_RETURN(auto events, ledger::ReadEvents(c, who.tenant_id, after, *limit, type));
    Json items = Json::array();
    for (const auto& e : events) items.push_back(e.ToOutboundJson());
    Json next = events.size() == *limit ? Json(std::to_string(events.back().seq)) : Json(nullptr);
    return Json{{"items", std::move(items)}, {"next_cursor", next}};
  });
}

void Verify(const ApiDeps& deps, HttpRequest& req, const identity::Principal& who,
            Respond respond) {
  auto work = [&deps, tenant = who.tenant_id, path = req.path, respond] {
    WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
      OPSBOX_ASSIGN_OR_RETURN(auto report,
                              ledger::VerifyTenant(c, tenant, deps.trusted_public_keys_hex));
      return Json{{"tenant_id", report.tenant_id},
                  {"ok", report.ok},
                  {"events_checked", report.events_checked},
                  {"checkpoints_checked", report.checkpoints_checked},
                  {"first_bad_seq", report.ok ? Json(nullptr) : Json(report.first_bad_seq)},
                  {"reason", report.reason}};
    });
  };
  if (!deps.compute->Post(std::move(work))) {
    respond(Problem(Error::Unavailable("too many verifications in progress"), req.path));
  }
}

}  // namespace

void AddLedgerRoutes(Router& router, const ApiDeps& deps) {
  const std::string t = "/api/v1/tenants/{tenant}";
  AddAuthed(router, deps, "GET", t + "/events", "ledger.read",
            "Ledger events after a cursor (?after=SEQ&limit=N&type=T)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              ListEvents(deps, req, who, std::move(respond));
            });
  AddAuthed(router, deps, "GET", t + "/events/{seq}", "ledger.read", "One ledger event",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto seq = ParseSeq(req.path_params["seq"], "seq");
              if (!seq.ok()) return respond(Problem(seq.error(), req.path));
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(auto e, ledger::ReadEvent(c, who.tenant_id, *seq));
                return e.ToOutboundJson();
              });
            });
  AddAuthed(router, deps, "GET", t + "/events/{seq}/proof", "ledger.read",
            "Inclusion proof of one event against the latest signed checkpoint (RFC 6962)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto seq = ParseSeq(req.path_params["seq"], "seq");
              if (!seq.ok()) return respond(Problem(seq.error(), req.path));
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(auto p, ledger::ProveInclusion(c, who.tenant_id, *seq));
                return p.ToJson();
              });
            });
  AddAuthed(router, deps, "GET", t + "/ledger/checkpoint", "ledger.read",
            "The latest signed checkpoint (Ed25519 over the Merkle root)",
            [&deps](HttpRequest&, const identity::Principal& who, Respond respond) {
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(auto cp, ledger::LatestCheckpoint(c, who.tenant_id));
                if (!cp) return Error::NotFound("no checkpoint has been signed for this tenant yet");
                return cp->ToJson();
              });
            });
  AddAuthed(router, deps, "POST", t + "/ledger/verify", "ledger.verify",
            "Verify the tenant's hash chain and signed checkpoints",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              Verify(deps, req, who, std::move(respond));
            });
}

}  // namespace opsbox::api::detail
