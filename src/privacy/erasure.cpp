// Data-subject requests, legal holds and erasure (see erasure.hpp). Handlers load state through
// the transaction, then pure Decide* functions turn (state, command, now) into events.
#include "privacy/erasure.hpp"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <optional>
#include <vector>

#include "core/assert.hpp"
#include "core/ids.hpp"
#include "core/limits.hpp"
#include "core/random.hpp"

namespace opsbox::privacy {
namespace {

using ledger::Decision;
using ledger::NewEvent;

struct RequestRow {
  std::string request_id;
  std::string subject_id;
  std::string kind;
  std::string status;
  std::string opened_by;
  int64_t received_at_us = 0;
  int64_t extended_months = 0;
};

struct HoldRow {
  std::string hold_id;
  std::string subject_id;
  std::string case_ref;
  bool active = false;
};

bool InScope(std::string_view subject, std::string_view parent) {
  return subject == parent || (subject.size() > parent.size() && subject.starts_with(parent) &&
                               subject[parent.size()] == '/');
}

std::string LikeChildren(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "/%";
}

Status CheckSubject(const std::string& subject) {
  // Same rules as the keyring: sealing a value under this subject id must be possible.
  if (subject.empty() || subject.size() > kSubjectIdBytesMax ||
      subject.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./") !=
          std::string::npos ||
      subject.front() == '/' || subject.back() == '/' || subject.find("//") != std::string::npos) {
    return Error::Invalid("subject_id", "format",
                          "subject_id must hold 1..200 letters, digits, _ - . and single /");
  }
  // The tenant's own secrets (channel secrets, credentials; decision 0010) are sealed under
  // these subjects: erasing them would shred the tenant's configuration, not a person's data.
  if (subject == ledger::kCredentialsSubject || subject == "tenant" ||
      subject.starts_with(std::string(ledger::kCredentialsSubject) + "/") ||
      subject.starts_with("tenant/")) {
    return Error::Invalid("subject_id", "reserved",
                          "subject " + subject + " holds the tenant's secrets, not a person's data");
  }
  return Ok();
}

Result<int> RequireMonths(const Json& p) {
  auto it = p.find("extension_months");
  if (it == p.end() || !it->is_number_integer()) {
    return Error::Invalid("extension_months", "required", "extension_months must be an integer");
  }
  const int64_t m = it->get<int64_t>();
  if (m < 1 || m > kExtensionMonthsMax) {
    return Error::Invalid("extension_months", "range", "extension_months must be 1 or 2");
  }
  return static_cast<int>(m);
}

// ---- pure decisions ----

Result<NewEvent> DecideOpen(const Json& p, Instant now, std::string request_id) {
  OPSBOX_TRY(CheckObjectKeys(p, {"subject_id", "kind", "received_at", "reason"}));
  OPSBOX_ASSIGN_OR_RETURN(std::string subject, RequireString(p, "subject_id", kSubjectIdBytesMax));
  OPSBOX_TRY(CheckSubject(subject));
  OPSBOX_ASSIGN_OR_RETURN(std::string kind, RequireString(p, "kind", 32));
  if (kind != "erasure" && kind != "access" && kind != "rectification") {
    return Error::Invalid("kind", "enum", "kind must be erasure, access or rectification");
  }
  OPSBOX_ASSIGN_OR_RETURN(std::string reason, RequireString(p, "reason", kSubjectRequestReasonBytesMax));
  Instant received = now;
  if (p.contains("received_at")) {
    OPSBOX_ASSIGN_OR_RETURN(std::string text, RequireString(p, "received_at", 64));
    OPSBOX_ASSIGN_OR_RETURN(received, ParseRfc3339(text, "received_at"));
    if (received > now) {
      return Error::Invalid("received_at", "not_future", "received_at cannot be in the future");
    }
  }
  return NewEvent{"subject_request_opened",
                  {{"request_id", std::move(request_id)},
                   {"subject_id", subject},
                   {"kind", kind},
                   {"reason", reason},
                   {"received_at_us", received.us},
                   {"due_at_us", AddCalendarMonths(received, kResponseMonths).us}}};
}

Error NoRequest(const std::string& id) {
  return Error::NotFound("no subject request " + id + " in this tenant");
}

Status CheckOpen(const RequestRow& r) {
  if (r.status != "open") {
    return Error{ErrorCode::kConflict, "request_id", "state",
                 "subject request " + r.request_id + " is " + r.status + ", not open"};
  }
  return Ok();
}

Result<NewEvent> DecideExtend(const std::optional<RequestRow>& r, const Json& p) {
  OPSBOX_TRY(CheckObjectKeys(p, {"request_id", "extension_months", "reason"}));
  OPSBOX_ASSIGN_OR_RETURN(int months, RequireMonths(p));
  OPSBOX_ASSIGN_OR_RETURN(std::string reason, RequireString(p, "reason", kSubjectRequestReasonBytesMax));
  if (!r) return NoRequest(p.value("request_id", ""));
  OPSBOX_TRY(CheckOpen(*r));
  const int64_t total = r->extended_months + months;
  if (total > kExtensionMonthsMax) {
    return Error::Invalid("extension_months", "extension_max",
                          "a request may be extended by at most 2 further months in total "
                          "(GDPR Art. 12(3)); already extended by " +
                              std::to_string(r->extended_months));
  }
  const Instant due =
      AddCalendarMonths(Instant{r->received_at_us}, kResponseMonths + static_cast<int>(total));
  return NewEvent{"subject_request_extended",
                  {{"request_id", r->request_id},
                   {"extension_months", months},
                   {"extended_months", total},
                   {"due_at_us", due.us},
                   {"reason", reason}}};
}

Result<NewEvent> DecideApprove(const std::optional<RequestRow>& r, const Json& p,
                               const std::string& actor, const std::vector<HoldRow>& holds) {
  OPSBOX_TRY(CheckObjectKeys(p, {"request_id"}));
  if (!r) return NoRequest(p.value("request_id", ""));
  if (r->kind != "erasure") {
    return Error::Invalid("request_id", "kind",
                          "subject request " + r->request_id + " asks for " + r->kind +
                              ", not erasure; complete it instead");
  }
  OPSBOX_TRY(CheckOpen(*r));
  if (actor.empty() || actor == r->opened_by) {
    return Error{ErrorCode::kPermissionDenied, "actor", "maker_checker",
                 "maker-checker: " + r->opened_by +
                     " opened this request and cannot approve it; another user holding "
                     "privacy.erase must approve"};
  }
  for (const auto& h : holds) {
    if (!h.active) continue;
    return Error{ErrorCode::kConflict, "subject_id", "legal_hold",
                 "subject " + r->subject_id + " is under legal hold " + h.hold_id + " (case " +
                     h.case_ref + ", on " + h.subject_id +
                     "); release the hold before erasing"};
  }
  return NewEvent{"subject_erased", {{"subject_id", r->subject_id}, {"request_id", r->request_id}}};
}

Result<NewEvent> DecideComplete(const std::optional<RequestRow>& r, const Json& p) {
  OPSBOX_TRY(CheckObjectKeys(p, {"request_id", "note"}));
  OPSBOX_ASSIGN_OR_RETURN(std::string note, OptionalString(p, "note", kSubjectRequestReasonBytesMax, ""));
  if (!r) return NoRequest(p.value("request_id", ""));
  if (r->kind == "erasure") {
    return Error::Invalid("request_id", "kind",
                          "an erasure request completes by approve_erasure, by another user");
  }
  OPSBOX_TRY(CheckOpen(*r));
  return NewEvent{"subject_request_completed", {{"request_id", r->request_id}, {"note", note}}};
}

Result<NewEvent> DecidePlaceHold(const Json& p, std::string hold_id) {
  OPSBOX_TRY(CheckObjectKeys(p, {"subject_id", "reason", "case_ref"}));
  OPSBOX_ASSIGN_OR_RETURN(std::string subject, RequireString(p, "subject_id", kSubjectIdBytesMax));
  OPSBOX_TRY(CheckSubject(subject));
  OPSBOX_ASSIGN_OR_RETURN(std::string reason, RequireString(p, "reason", kSubjectRequestReasonBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(std::string case_ref, RequireString(p, "case_ref", kLegalHoldCaseRefBytesMax));
  return NewEvent{"legal_hold_placed", {{"hold_id", std::move(hold_id)},
                                        {"subject_id", subject},
                                        {"reason", reason},
                                        {"case_ref", case_ref}}};
}

Result<NewEvent> DecideReleaseHold(const std::optional<HoldRow>& h, const Json& p) {
  OPSBOX_TRY(CheckObjectKeys(p, {"hold_id", "reason"}));
  OPSBOX_ASSIGN_OR_RETURN(std::string reason, RequireString(p, "reason", kSubjectRequestReasonBytesMax));
  if (!h) return Error::NotFound("no legal hold " + p.value("hold_id", "") + " in this tenant");
  if (!h->active) {
    return Error{ErrorCode::kConflict, "hold_id", "state",
                 "legal hold " + h->hold_id + " is already released"};
  }
  return NewEvent{"legal_hold_released", {{"hold_id", h->hold_id}, {"reason", reason}}};
}

// ---- loading state ----

Result<std::optional<RequestRow>> LoadRequest(store::Tx& tx, const std::string& tenant,
                                              const Json& p) {
  if (!p.is_object() || !p.contains("request_id") || !p["request_id"].is_string()) {
    return Error::Invalid("request_id", "required", "request_id must be a string");
  }
  store::Value v[] = {tenant, p["request_id"].get<std::string>()};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT request_id, subject_id, kind, status, opened_by, "
                          "received_at_us, extended_months FROM privacy_subject_requests "
                          "WHERE tenant_id = ? AND request_id = ?",
                          v));
  if (rows.empty()) return std::optional<RequestRow>();
  const auto& r = rows[0];
  return std::optional<RequestRow>(RequestRow{r.Text(0), r.Text(1), r.Text(2), r.Text(3),
                                              r.Text(4), r.Int(5), r.Int(6)});
}

// Active holds on the subject, on one of its scopes, or on a parent of it.
Result<std::vector<HoldRow>> LoadCoveringHolds(store::Tx& tx, const std::string& tenant,
                                               const std::string& subject) {
  std::vector<store::Value> v = {tenant, subject, LikeChildren(subject)};
  std::string sql =
      "SELECT hold_id, subject_id, case_ref FROM privacy_legal_holds WHERE tenant_id = ? AND "
      "released_at_us IS NULL AND (subject_id = ? OR subject_id LIKE ? ESCAPE '\\'";
  for (size_t slash = subject.find('/'); slash != std::string::npos;
       slash = subject.find('/', slash + 1)) {
    sql += " OR subject_id = ?";
    v.emplace_back(subject.substr(0, slash));
  }
  sql += ") ORDER BY hold_id LIMIT " + std::to_string(kLegalHoldsPerSubjectMax);
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, v));
  std::vector<HoldRow> out;
  for (const auto& r : rows) {
    if (InScope(r.Text(1), subject) || InScope(subject, r.Text(1))) {
      out.push_back(HoldRow{r.Text(0), r.Text(1), r.Text(2), true});
    }
  }
  return out;
}

Result<std::optional<HoldRow>> LoadHold(store::Tx& tx, const std::string& tenant, const Json& p) {
  if (!p.is_object() || !p.contains("hold_id") || !p["hold_id"].is_string()) {
    return Error::Invalid("hold_id", "required", "hold_id must be a string");
  }
  store::Value v[] = {tenant, p["hold_id"].get<std::string>()};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT hold_id, subject_id, case_ref, "
                                              "released_at_us FROM privacy_legal_holds WHERE "
                                              "tenant_id = ? AND hold_id = ?",
                                              v));
  if (rows.empty()) return std::optional<HoldRow>();
  const auto& r = rows[0];
  return std::optional<HoldRow>(HoldRow{r.Text(0), r.Text(1), r.Text(2), r.IsNull(3)});
}

Result<Decision> One(Result<NewEvent> event, Json result) {
  if (!event.ok()) return std::move(event).error();
  Decision d;
  d.events.push_back(std::move(*event));
  d.result = std::move(result);
  return d;
}

void RegisterCommands(ledger::Registry& r) {
  using ledger::Command;
  r.AddCommand("open_subject_request",
               [](store::Tx&, const Command& c, Instant now, Random& rnd) -> Result<Decision> {
                 std::string id = NewId("dsr", now, rnd);
                 auto e = DecideOpen(c.payload, now, id);
                 Json result = {{"request_id", id}};
                 if (e.ok()) result["due_at"] = FormatRfc3339(Instant{e->payload["due_at_us"].get<int64_t>()});
                 return One(std::move(e), std::move(result));
               });
  r.AddCommand("extend_subject_request",
               [](store::Tx& tx, const Command& c, Instant, Random&) -> Result<Decision> {
                 OPSBOX_ASSIGN_OR_RETURN(auto req, LoadRequest(tx, c.tenant_id, c.payload));
                 auto e = DecideExtend(req, c.payload);
                 Json result = Json::object();
                 if (e.ok()) {
                   result = {{"request_id", req->request_id},
                             {"due_at", FormatRfc3339(Instant{e->payload["due_at_us"].get<int64_t>()})}};
                 }
                 return One(std::move(e), std::move(result));
               });
  r.AddCommand("approve_erasure",
               [](store::Tx& tx, const Command& c, Instant, Random&) -> Result<Decision> {
                 OPSBOX_ASSIGN_OR_RETURN(auto req, LoadRequest(tx, c.tenant_id, c.payload));
                 std::vector<HoldRow> holds;
                 if (req) {
                   OPSBOX_ASSIGN_OR_RETURN(holds,
                                           LoadCoveringHolds(tx, c.tenant_id, req->subject_id));
                 }
                 auto e = DecideApprove(req, c.payload, c.actor, holds);
                 Json result = Json::object();
                 if (e.ok()) result = {{"request_id", req->request_id}, {"status", "done"}};
                 return One(std::move(e), std::move(result));
               });
  r.AddCommand("complete_subject_request",
               [](store::Tx& tx, const Command& c, Instant, Random&) -> Result<Decision> {
                 OPSBOX_ASSIGN_OR_RETURN(auto req, LoadRequest(tx, c.tenant_id, c.payload));
                 auto e = DecideComplete(req, c.payload);
                 Json result = Json::object();
                 if (e.ok()) result = {{"request_id", req->request_id}, {"status", "done"}};
                 return One(std::move(e), std::move(result));
               });
  r.AddCommand("place_legal_hold",
               [](store::Tx&, const Command& c, Instant now, Random& rnd) -> Result<Decision> {
                 std::string id = NewId("hold", now, rnd);
                 return One(DecidePlaceHold(c.payload, id), {{"hold_id", id}});
               });
  r.AddCommand("release_legal_hold",
               [](store::Tx& tx, const Command& c, Instant, Random&) -> Result<Decision> {
                 OPSBOX_ASSIGN_OR_RETURN(auto hold, LoadHold(tx, c.tenant_id, c.payload));
                 auto e = DecideReleaseHold(hold, c.payload);
                 Json result = Json::object();
                 if (e.ok()) result = {{"hold_id", hold->hold_id}, {"active", false}};
                 return One(std::move(e), std::move(result));
               });
}

// ---- projections ----

Result<const Json*> Payload(const ledger::Event& e, Json& storage) {
  return ledger::PayloadJson(e, storage);
}

Status Exec(store::Tx& tx, std::string_view sql, std::vector<store::Value> v) {
  OPSBOX_TRY(tx.Exec(sql, v));
  return Ok();
}

void RegisterProjectors(ledger::Registry& r, Keyring& keyring) {
  using ledger::Event;
  r.AddProjector("subject_request_opened", [](store::Tx& tx, const Event& e) -> Status {
    Json s;
    OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, s));
    return Exec(tx,
                "INSERT INTO privacy_subject_requests (tenant_id, request_id, subject_id, kind, "
                "status, reason, received_at_us, due_at_us, extended_months, extension_reason, "
                "opened_by, opened_at_us, approved_by, completed_at_us, keys_destroyed) VALUES "
                "(?, ?, ?, ?, 'open', ?, ?, ?, 0, '', ?, ?, '', NULL, 0)",
                {e.tenant_id, (*p)["request_id"].get<std::string>(),
                 (*p)["subject_id"].get<std::string>(), (*p)["kind"].get<std::string>(),
                 (*p)["reason"].get<std::string>(), (*p)["received_at_us"].get<int64_t>(),
                 (*p)["due_at_us"].get<int64_t>(), e.actor, e.recorded_at.us});
  });
  r.AddProjector("subject_request_extended", [](store::Tx& tx, const Event& e) -> Status {
    Json s;
    OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, s));
    return Exec(tx,
                "UPDATE privacy_subject_requests SET due_at_us = ?, extended_months = ?, "
                "extension_reason = ? WHERE tenant_id = ? AND request_id = ?",
                {(*p)["due_at_us"].get<int64_t>(), (*p)["extended_months"].get<int64_t>(),
                 (*p)["reason"].get<std::string>(), e.tenant_id,
                 (*p)["request_id"].get<std::string>()});
  });
  r.AddProjector("subject_erased", [&keyring](store::Tx& tx, const Event& e) -> Status {
    Json s;
    OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, s));
    OPSBOX_ASSIGN_OR_RETURN(int64_t destroyed,
                            keyring.EraseSubject(tx, e.tenant_id,
                                                 (*p)["subject_id"].get<std::string>(),
                                                 e.recorded_at));
    return Exec(tx,
                "UPDATE privacy_subject_requests SET status = 'done', approved_by = ?, "
                "completed_at_us = ?, keys_destroyed = ? WHERE tenant_id = ? AND request_id = ?",
                {e.actor, e.recorded_at.us, destroyed, e.tenant_id,
                 p->value("request_id", std::string())});
  });
  r.AddProjector("subject_request_completed", [](store::Tx& tx, const Event& e) -> Status {
    Json s;
    OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, s));
    return Exec(tx,
                "UPDATE privacy_subject_requests SET status = 'done', approved_by = ?, "
                "completed_at_us = ? WHERE tenant_id = ? AND request_id = ?",
                {e.actor, e.recorded_at.us, e.tenant_id, (*p)["request_id"].get<std::string>()});
  });
  r.AddProjector("legal_hold_placed", [](store::Tx& tx, const Event& e) -> Status {
    Json s;
    OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, s));
    return Exec(tx,
                "INSERT INTO privacy_legal_holds (tenant_id, hold_id, subject_id, reason, "
                "case_ref, placed_by, placed_at_us, released_by, released_at_us, "
                "release_reason) VALUES (?, ?, ?, ?, ?, ?, ?, '', NULL, '')",
                {e.tenant_id, (*p)["hold_id"].get<std::string>(),
                 (*p)["subject_id"].get<std::string>(), (*p)["reason"].get<std::string>(),
                 (*p)["case_ref"].get<std::string>(), e.actor, e.recorded_at.us});
  });
  r.AddProjector("legal_hold_released", [](store::Tx& tx, const Event& e) -> Status {
    Json s;
    OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, s));
    return Exec(tx,
                "UPDATE privacy_legal_holds SET released_by = ?, released_at_us = ?, "
                "release_reason = ? WHERE tenant_id = ? AND hold_id = ?",
                {e.actor, e.recorded_at.us, (*p)["reason"].get<std::string>(), e.tenant_id,
                 (*p)["hold_id"].get<std::string>()});
  });
}

// ---- read side ----

Json RequestJson(const store::Row& r, Instant now) {
  Json j = {{"request_id", r.Text(0)},
            {"subject_id", r.Text(1)},
            {"kind", r.Text(2)},
            {"status", r.Text(3)},
            {"reason", r.Text(4)},
            {"received_at", FormatRfc3339(Instant{r.Int(5)})},
            {"due_at", FormatRfc3339(Instant{r.Int(6)})},
            {"overdue", r.Text(3) == "open" && now.us > r.Int(6)},
            {"extended_months", r.Int(7)},
            {"extension_reason", r.Text(8)},
            {"opened_by", r.Text(9)},
            {"opened_at", FormatRfc3339(Instant{r.Int(10)})},
            {"keys_destroyed", r.Int(13)}};
  if (!r.Text(11).empty()) j["approved_by"] = r.Text(11);
  if (!r.IsNull(12)) j["completed_at"] = FormatRfc3339(Instant{r.Int(12)});
  return j;
}

constexpr std::string_view kRequestColumns =
    "SELECT request_id, subject_id, kind, status, reason, received_at_us, due_at_us, "
    "extended_months, extension_reason, opened_by, opened_at_us, approved_by, completed_at_us, "
    "keys_destroyed FROM privacy_subject_requests ";

}  // namespace

Instant AddCalendarMonths(Instant t, int months) {
  OPSBOX_ASSERT(months >= 0);
  constexpr int64_t kDayUs = 86400LL * 1000000;
  int64_t days = t.us / kDayUs;
  int64_t time_of_day = t.us % kDayUs;
  if (time_of_day < 0) {
    time_of_day += kDayUs;
    --days;
  }
  int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(days, year, month, day);
  int64_t index = year * 12 + (month - 1) + months;
  const int64_t new_year = index / 12;
  const unsigned new_month = static_cast<unsigned>(index % 12) + 1;
  // The last day of the target month: the day before the first of the next month.
  const int64_t next_first = new_month == 12 ? DaysFromCivil(new_year + 1, 1, 1)
                                             : DaysFromCivil(new_year, new_month + 1, 1);
  const unsigned last_day =
      static_cast<unsigned>(next_first - DaysFromCivil(new_year, new_month, 1));
  const int64_t new_days = DaysFromCivil(new_year, new_month, std::min(day, last_day));
  return Instant{new_days * kDayUs + time_of_day};
}

void RegisterErasure(ledger::Registry& registry, Keyring& keyring) {
  RegisterCommands(registry);
  RegisterProjectors(registry, keyring);
}

Result<Json> ListSubjectRequests(store::Connection& conn, std::string_view tenant, Instant now,
                                 std::string_view status, std::string_view subject_id,
                                 std::string_view after, size_t limit) {
  if (!status.empty() && status != "open" && status != "done") {
    return Error::Invalid("status", "enum", "status must be open or done");
  }
  limit = std::clamp<size_t>(limit, 1, limits::kPageSizeMax);
  std::string sql = std::string(kRequestColumns) + "WHERE tenant_id = ? AND request_id > ?";
  std::vector<store::Value> v = {std::string(tenant), std::string(after)};
  if (!status.empty()) {
    sql += " AND status = ?";
    v.emplace_back(std::string(status));
  }
  if (!subject_id.empty()) {
    sql += " AND subject_id = ?";
    v.emplace_back(std::string(subject_id));
  }
  sql += " ORDER BY request_id LIMIT " + std::to_string(limit + 1);
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, v));
  Json items = Json::array();
  for (size_t i = 0; i < rows.size() && i < limit; ++i) items.push_back(RequestJson(rows[i], now));
  Json out = {{"items", items}};
  if (rows.size() > limit) out["next_after"] = rows[limit - 1].Text(0);
  return out;
}

Result<Json> GetSubjectRequest(store::Connection& conn, std::string_view tenant,
                               std::string_view request_id, Instant now) {
  store::Value v[] = {std::string(tenant), std::string(request_id)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows,
      conn.Query(std::string(kRequestColumns) + "WHERE tenant_id = ? AND request_id = ?", v));
  if (rows.empty()) return NoRequest(std::string(request_id));
  return RequestJson(rows[0], now);
}

Result<Json> ListLegalHolds(store::Connection& conn, std::string_view tenant, bool active_only,
                            std::string_view subject_id, std::string_view after, size_t limit) {
  limit = std::clamp<size_t>(limit, 1, limits::kPageSizeMax);
  std::string sql =
      "SELECT hold_id, subject_id, reason, case_ref, placed_by, placed_at_us, released_by, "
      "released_at_us, release_reason FROM privacy_legal_holds WHERE tenant_id = ? AND "
      "hold_id > ?";
  std::vector<store::Value> v = {std::string(tenant), std::string(after)};
  if (active_only) sql += " AND released_at_us IS NULL";
  if (!subject_id.empty()) {
    sql += " AND subject_id = ?";
    v.emplace_back(std::string(subject_id));
  }
  sql += " ORDER BY hold_id LIMIT " + std::to_string(limit + 1);
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, v));
  Json items = Json::array();
  for (size_t i = 0; i < rows.size() && i < limit; ++i) {
    const auto& r = rows[i];
    Json h = {{"hold_id", r.Text(0)},   {"subject_id", r.Text(1)}, {"reason", r.Text(2)},
              {"case_ref", r.Text(3)},  {"active", r.IsNull(7)},   {"placed_by", r.Text(4)},
              {"placed_at", FormatRfc3339(Instant{r.Int(5)})}};
    if (!r.IsNull(7)) {
      h["released_by"] = r.Text(6);
      h["released_at"] = FormatRfc3339(Instant{r.Int(7)});
      h["release_reason"] = r.Text(8);
    }
    items.push_back(std::move(h));
  }
  Json out = {{"items", items}};
  if (rows.size() > limit) out["next_after"] = rows[limit - 1].Text(0);
  return out;
}

}  // namespace opsbox::privacy
