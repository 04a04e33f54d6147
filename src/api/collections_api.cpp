// Routes of collections (issue #11) under /api/v1/tenants/{tenant}/collections/: imported
// accounts (personal fields masked by the privacy policy), the contact policy check, contact
// attempts (refused with every reason when the policy blocks) and the ordered worklist.
// Thin: reads through collections::Collections, writes through record_contact_attempt.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "collections/collections.hpp"
#include "privacy/governance.hpp"
#include "privacy/keyring.hpp"
#include "store/store.hpp"

namespace opsbox::api::detail {
namespace {

using Who = const identity::Principal&;
using privacy::FieldClass;

bool Wired(const ApiDeps& deps, const HttpRequest& req, const Respond& respond) {
  if (deps.collections != nullptr) return true;
  respond(Problem(Error::Unavailable("collections is not enabled on this server"), req.path));
  return false;
}

Json Money(int64_t minor, const std::string& currency) {
  return Json{{"amount_minor", minor}, {"currency", currency}};
}

Json Flags(int64_t bits) {
  Json out = Json::array();
  for (auto f : {collections::kFlagDispute, collections::kFlagCeaseCommunication,
                 collections::kFlagVulnerable, collections::kFlagBankruptcy,
                 collections::kFlagDeceased, collections::kFlagLegalHold,
                 collections::kFlagDoNotCall}) {
    if ((bits & f) != 0) out.push_back(collections::FlagName(f));
  }
  return out;
}

Json Consents(int64_t given, int64_t refused) {
  Json out = Json::object();
  for (auto c : {collections::Channel::kVoice, collections::Channel::kSms,
                 collections::Channel::kWhatsapp, collections::Channel::kEmail}) {
    const int64_t bit = int64_t{1} << static_cast<unsigned>(c);
    out[std::string(collections::ChannelName(c))] =
        (given & bit) != 0 ? Json(true) : (refused & bit) != 0 ? Json(false) : Json();
  }
  return out;
}

// The contact's fields as the principal may see them (masked unless its roles see the class
// in clear); erased contacts show the erased marker.
Result<Json> Contact(const ApiDeps& deps, store::Connection& c, Who who, const std::string& sealed) {
  Json out{{"name", nullptr}, {"phones", Json::array()}, {"email", nullptr}, {"address", nullptr}};
  if (sealed.empty()) return out;
  OPSBOX_ASSIGN_OR_RETURN(auto opened, deps.keyring->Open(c, who.tenant_id, Json(sealed)));
  const Instant now = deps.clock->Now();
  if (opened.erased) {
    for (const char* k : {"name", "email", "address"}) {
      out[k] = deps.privacy->Present(who, FieldClass::kName, opened, now);
    }
    return out;
  }
  const Json& v = opened.value;
  auto present = [&](FieldClass cls, const Json& value) {
    return deps.privacy->Present(who, cls, privacy::Opened{false, value}, now);
  };
  if (v.contains("name")) out["name"] = present(FieldClass::kName, v["name"]);
  if (v.contains("email")) out["email"] = present(FieldClass::kEmail, v["email"]);
  if (v.contains("address")) out["address"] = present(FieldClass::kAddress, v["address"]);
  if (v.contains("phones")) {
    for (const auto& p : v["phones"]) out["phones"].push_back(present(FieldClass::kPhone, p));
  }
  return out;
}

Result<Json> AccountJson(const ApiDeps& deps, store::Connection& c, Who who,
                         const collections::AccountRecord& a) {
  Json j{{"account_id", a.account_id},
         {"customer_id", a.customer_id},
         {"product", a.product},
         {"principal", Money(a.principal_minor, a.currency)},
         {"outstanding", Money(a.outstanding_minor, a.currency)},
         {"overdue", Money(a.overdue_minor, a.currency)},
         {"instalment", Money(a.instalment_minor, a.currency)},
         {"days_past_due", a.days_past_due},
         {"bucket", a.bucket},
         {"due_date", a.due_day ? Json(FormatIsoDate(*a.due_day)) : Json()},
         {"next_due_date", a.next_due_day ? Json(FormatIsoDate(*a.next_due_day)) : Json()},
         {"branch", a.branch},
         {"region", a.region},
         {"zone", a.zone.empty() ? Json() : Json(a.zone)},
         {"consents", Consents(a.consent_given, a.consent_refused)},
         {"flags", Flags(a.flags)},
         {"updated_at", FormatRfc3339(a.updated_at)}};
  OPSBOX_ASSIGN_OR_RETURN(j["contact"], Contact(deps, c, who, a.contact));
  return j;
}

Json CheckJson(const collections::ContactCheck& check) {
  Json reasons = Json::array();
  for (const auto& r : check.reasons) reasons.push_back(Json{{"rule", r.rule}, {"detail", r.detail}});
  return Json{{"allowed", check.allowed},
              {"reasons", std::move(reasons)},
              {"next_allowed_at",
               check.next_allowed_at ? Json(FormatRfc3339(*check.next_allowed_at)) : Json()}};
}

Result<Instant> AtParam(const ApiDeps& deps, const HttpRequest& req) {
  auto at = req.QueryParam("at");
  if (!at) return deps.clock->Now();
  return ParseRfc3339(*at, "at");
}

Error NoAccount(const std::string& id) {
  return Error{ErrorCode::kNotFound, "account_id", "not_found", "no account " + id + " in this tenant"};
}

void ListAccounts(const ApiDeps& deps, HttpRequest& req, Who who, const Respond& respond) {
  auto limit = PageLimit(req);
  if (!limit.ok()) return respond(Problem(limit.error(), req.path));
  const std::string after = req.QueryParam("cursor").value_or("");
  WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
    OPSBOX_ASSIGN_OR_RETURN(auto rows, collections::ListAccounts(c, who.tenant_id, after, *limit));
    Json items = Json::array();
    for (const auto& a : rows) {
      OPSBOX_ASSIGN_OR_RETURN(auto j, AccountJson(deps, c, who, a));
      items.push_back(std::move(j));
    }
    const bool more = rows.size() == std::min(*limit, collections::kAccountsPageMax);
    return Json{{"items", std::move(items)},
                {"next_cursor", more && !rows.empty() ? Json(rows.back().account_id) : Json()}};
  });
}

void GetAccount(const ApiDeps& deps, HttpRequest& req, Who who, const Respond& respond) {
  const std::string id = req.path_params["account_id"];
  WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
    OPSBOX_ASSIGN_OR_RETURN(auto a, collections::GetAccount(c, who.tenant_id, id));
    if (!a) return NoAccount(id);
    OPSBOX_ASSIGN_OR_RETURN(auto j, AccountJson(deps, c, who, *a));
    OPSBOX_ASSIGN_OR_RETURN(auto attempts, deps.collections->Attempts(c, who.tenant_id, id, 50));
    Json list = Json::array();
    for (const auto& t : attempts) {
      list.push_back(Json{{"attempt_id", t.attempt_id}, {"channel", t.channel},
                          {"direction", t.direction}, {"outcome", t.outcome},
                          {"at", FormatRfc3339(t.at)}});
    }
    j["attempts"] = std::move(list);
    return j;
  });
}

void CheckContact(const ApiDeps& deps, HttpRequest& req, Who who, const Respond& respond) {
  const std::string id = req.path_params["account_id"];
  auto channel = collections::ParseChannel(req.QueryParam("channel").value_or(""), "channel");
  if (!channel.ok()) return respond(Problem(channel.error(), req.path));
  auto purpose = collections::ParsePurpose(req.QueryParam("purpose").value_or("collection"), "purpose");
  if (!purpose.ok()) return respond(Problem(purpose.error(), req.path));
  auto at = AtParam(deps, req);
  if (!at.ok()) return respond(Problem(at.error(), req.path));
  WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
    OPSBOX_ASSIGN_OR_RETURN(auto check, deps.collections->Check(c, who.tenant_id, id, *channel,
                                                                *purpose, *at));
    if (!check) return NoAccount(id);
    Json j = CheckJson(*check);
    j["account_id"] = id;
    j["channel"] = collections::ChannelName(*channel);
    j["at"] = FormatRfc3339(*at);
    return j;
  });
}

// The policy is checked here first so a refusal carries every reason; the command checks again
// under the writer (an attempt recorded meanwhile can still refuse it, naming the rules).
void RecordAttempt(const ApiDeps& deps, HttpRequest& req, Who who, Respond respond) {
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  Json payload = std::move(*body);
  payload["account_id"] = req.path_params["account_id"];
  if (payload.value("direction", "") == "outbound" && payload.contains("channel") &&
      payload["channel"].is_string()) {
    auto channel = collections::ParseChannel(payload["channel"].get<std::string>(), "channel");
    auto purpose = collections::ParsePurpose(payload.value("purpose", "collection"), "purpose");
    Result<Instant> at = deps.clock->Now();
    if (payload.contains("at") && payload["at"].is_string()) {
      at = ParseRfc3339(payload["at"].get<std::string>(), "at");
    }
    if (channel.ok() && purpose.ok() && at.ok()) {
      auto conn = deps.pool->Acquire();
      if (!conn.ok()) return respond(Problem(conn.error(), req.path));
      auto check = deps.collections->Check(**conn, who.tenant_id,
                                           payload["account_id"].get<std::string>(), *channel,
                                           *purpose, *at);
      if (!check.ok()) return respond(Problem(check.error(), req.path));
      if (*check && !(*check)->allowed) {
        HttpResponse r = Problem(Error{ErrorCode::kConflict, "account_id", "contact_policy",
                                       "the contact policy refuses this attempt"},
                                 req.path);
        Json problem = Json::parse(r.body);
        const Json refusal = CheckJson(**check);
        problem["reasons"] = refusal["reasons"];
        problem["next_allowed_at"] = refusal["next_allowed_at"];
        r.body = problem.dump();
        return respond(std::move(r));
      }
    }
  }
  SubmitCommand(deps, req, who, std::string(collections::kRecordContactAttempt),
                std::move(payload), std::move(respond), 201);
}

void ListAttempts(const ApiDeps& deps, HttpRequest& req, Who who, const Respond& respond) {
  const std::string id = req.path_params["account_id"];
  auto limit = PageLimit(req);
  if (!limit.ok()) return respond(Problem(limit.error(), req.path));
  WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
    OPSBOX_ASSIGN_OR_RETURN(auto a, collections::GetAccount(c, who.tenant_id, id));
    if (!a) return NoAccount(id);
    OPSBOX_ASSIGN_OR_RETURN(auto rows, deps.collections->Attempts(c, who.tenant_id, id, *limit));
    Json items = Json::array();
    for (const auto& t : rows) {
      Json note;
      if (!t.note.empty()) {
        OPSBOX_ASSIGN_OR_RETURN(auto opened, deps.keyring->Open(c, who.tenant_id, Json(t.note)));
        note = deps.privacy->Present(who, FieldClass::kFreeText, opened, deps.clock->Now());
      }
      items.push_back(Json{{"attempt_id", t.attempt_id}, {"account_id", t.account_id},
                           {"channel", t.channel}, {"direction", t.direction},
                           {"outcome", t.outcome}, {"at", FormatRfc3339(t.at)},
                           {"actor", t.actor}, {"note", note}});
    }
    return Json{{"items", std::move(items)}};
  });
}

void Worklist(const ApiDeps& deps, HttpRequest& req, Who who, const Respond& respond) {
  auto channel = collections::ParseChannel(req.QueryParam("channel").value_or("voice"), "channel");
  if (!channel.ok()) return respond(Problem(channel.error(), req.path));
  auto limit = PageLimit(req);
  if (!limit.ok()) return respond(Problem(limit.error(), req.path));
  auto at = AtParam(deps, req);
  if (!at.ok()) return respond(Problem(at.error(), req.path));
  const std::string cursor = req.QueryParam("cursor").value_or("");
  WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
    OPSBOX_ASSIGN_OR_RETURN(auto page, deps.collections->Worklist(c, who.tenant_id, *channel, *at,
                                                                  cursor, *limit));
    Json items = Json::array();
    for (const auto& item : page.items) {
      const auto& a = item.account;
      Json j{{"account_id", a.account_id},
             {"customer_id", a.customer_id},
             {"product", a.product},
             {"bucket", a.bucket},
             {"days_past_due", a.days_past_due},
             {"overdue", Money(a.overdue_minor, a.currency)},
             {"outstanding", Money(a.outstanding_minor, a.currency)},
             {"can_contact_now", item.check.allowed}};
      Json check = CheckJson(item.check);
      j["reasons"] = check["reasons"];
      j["next_allowed_at"] = check["next_allowed_at"];
      items.push_back(std::move(j));
    }
    return Json{{"channel", collections::ChannelName(*channel)},
                {"at", FormatRfc3339(*at)},
                {"items", std::move(items)},
                {"next_cursor", page.next_cursor.empty() ? Json() : Json(page.next_cursor)}};
  });
}

}  // namespace

void AddCollectionsRoutes(Router& router, const ApiDeps& deps) {
  const std::string base = "/api/v1/tenants/{tenant}/collections";
  auto read = [&](std::string pattern, std::string summary,
                  void (*fn)(const ApiDeps&, HttpRequest&, Who, const Respond&)) {
    AddAuthed(router, deps, "GET", base + pattern, "collections.read", std::move(summary),
              [&deps, fn](HttpRequest& req, Who who, Respond respond) {
                if (!Wired(deps, req, respond)) return;
                fn(deps, req, who, respond);
              });
  };
  read("/accounts", "List imported accounts (personal fields masked)", ListAccounts);
  read("/accounts/{account_id}", "One imported account with its latest attempts", GetAccount);
  read("/accounts/{account_id}/can-contact",
       "May this account be contacted now? Every blocking rule and the next allowed instant",
       CheckContact);
  read("/accounts/{account_id}/attempts", "The account's contact attempts, newest first",
       ListAttempts);
  read("/worklist", "Accounts in working order with whether each can be contacted now and why",
       Worklist);
  AddAuthed(router, deps, "POST", base + "/accounts/{account_id}/attempts",
            "collections.contact",
            "Record a contact attempt (an outbound one is refused when the contact policy blocks)",
            [&deps](HttpRequest& req, Who who, Respond respond) {
              if (!Wired(deps, req, respond)) return;
              RecordAttempt(deps, req, who, std::move(respond));
            });
}

}  // namespace opsbox::api::detail
