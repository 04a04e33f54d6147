#include "integrations/external_events.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/limits.hpp"

namespace opsbox::integrations {
namespace {

bool IsSourceChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

Status CheckSource(const std::string& s) {
  const char first = s[0];
  bool ok = (first >= 'a' && first <= 'z') || (first >= '0' && first <= '9');
  for (char c : s) ok = ok && IsSourceChar(c);
  if (!ok) {
    return Error::Invalid("source", "format",
                          "source must match [a-z0-9][a-z0-9_.-]{0,63} (lower-case letters, "
                          "digits, '_', '.', '-')");
  }
  return Ok();
}

Status CheckType(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e) {
      return Error::Invalid("type", "format", "type must be printable ASCII without spaces");
    }
  }
  return Ok();
}

Status CheckExternalId(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      return Error::Invalid("external_id", "format",
                            "external_id must not contain control characters");
    }
  }
  return Ok();
}

Status CheckPayload(const Json& body) {
  auto it = body.find("payload");
  if (it == body.end() || it->is_null()) {
    return Error::Invalid("payload", "required", "payload is required");
  }
  if (!it->is_object()) return Error::Invalid("payload", "type", "payload must be a JSON object");
  const size_t bytes = CanonicalJson(*it).size();
  if (bytes > limits::kExternalEventPayloadBytesMax) {
    return Error::Invalid("payload", "max_bytes",
                          "payload is " + std::to_string(bytes) +
                              " bytes in canonical form; at "
                              "most " +
                              std::to_string(limits::kExternalEventPayloadBytesMax) +
                              " are allowed");
  }
  return Ok();
}

// Runs `sql` through a Tx or a Connection (both have the same Query signature).
template <class Q>
Result<std::optional<Json>> FindBySourceAndId(Q& q, std::string_view tenant,
                                              std::string_view source,
                                              std::string_view external_id) {
  const std::string sql = "SELECT " + std::string(kExternalEventColumns) +
                          std::string(kExternalEventFrom) +
                          " WHERE x.tenant_id = ? AND x.source = ? AND x.external_id = ?";
  store::Value params[] = {std::string(tenant), std::string(source), std::string(external_id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, q.Query(sql, params));
  if (rows.empty()) return std::optional<Json>();
  return std::optional<Json>(ExternalEventJson(rows[0]));
}

}  // namespace

Result<ExternalEventInput> ValidateExternalEvent(const Json& body, Instant now) {
  OPSBOX_TRY(CheckObjectKeys(body, {"source", "type", "external_id", "occurred_at", "payload"}));
  try {
    // The ledger encodes payloads strictly; invalid UTF-8 must fail here, not in the writer.
    (void)CanonicalJson(body);
  } catch (const Json::exception&) {
    return Error::Invalid("body", "utf8", "strings must be valid UTF-8");
  }
  ExternalEventInput in;
  OPSBOX_ASSIGN_OR_RETURN(in.source,
                          RequireString(body, "source", limits::kExternalSourceBytesMax));
  OPSBOX_TRY(CheckSource(in.source));
  OPSBOX_ASSIGN_OR_RETURN(in.type, RequireString(body, "type", limits::kExternalTypeBytesMax));
  OPSBOX_TRY(CheckType(in.type));
  OPSBOX_ASSIGN_OR_RETURN(in.external_id,
                          RequireString(body, "external_id", limits::kExternalIdBytesMax));
  OPSBOX_TRY(CheckExternalId(in.external_id));
  // RFC 3339 text is short; 64 bytes leaves room for nine fraction digits and an offset.
  OPSBOX_ASSIGN_OR_RETURN(auto occurred_text, RequireString(body, "occurred_at", 64));
  OPSBOX_ASSIGN_OR_RETURN(in.occurred_at, ParseRfc3339(occurred_text, "occurred_at"));
  if (in.occurred_at > now + kExternalEventFutureSkew) {
    return Error::Invalid("occurred_at", "future",
                          "occurred_at lies more than 5 minutes in the future (" + occurred_text +
                              ", server time " + FormatRfc3339(now) + ")");
  }
  OPSBOX_TRY(CheckPayload(body));
  in.payload = body.at("payload");
  return in;
}

std::string ExternalEventCommandId(std::string_view source, std::string_view external_id) {
  // Length-prefixed, so that no two pairs encode alike whatever bytes they hold.
  std::string key = "record_external_event\n" + std::to_string(source.size()) + ":";
  key.append(source).append(external_id);
  const auto digest = Sha256(key);
  return "xevcmd_" +
         Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), 16));
}

Result<ledger::Decision> DecideRecordExternalEvent(const ExternalEventInput& in,
                                                   const std::optional<Json>& existing, Instant now,
                                                   Random& random) {
  ledger::Decision d;
  if (existing.has_value()) {
    d.result = *existing;
    return d;
  }
  const std::string id = NewId("xev", now, random);
  d.events.push_back(ledger::NewEvent{std::string(kExternalEventRecorded),
                                      Json{{"external_event_id", id},
                                           {"source", in.source},
                                           {"type", in.type},
                                           {"external_id", in.external_id},
                                           {"occurred_at_us", in.occurred_at.us},
                                           {"payload", in.payload}}});
  d.result = Json{{"external_event_id", id},
                  {"source", in.source},
                  {"type", in.type},
                  {"external_id", in.external_id},
                  {"occurred_at", FormatRfc3339(in.occurred_at)},
                  {"received_at", FormatRfc3339(now)},
                  {"payload", in.payload}};
  return d;
}

Result<Json> RebuildExternalEventResult(const std::vector<ledger::Event>& events) {
  if (events.size() != 1 || events[0].type != kExternalEventRecorded) {
    return Error::Internal("record_external_event appended other than one " +
                           std::string(kExternalEventRecorded) + " event");
  }
  auto j = ParseJson(events[0].payload, "payload");
  if (!j.ok()) return Error::Internal("external_event_recorded payload is not JSON");
  try {
    return Json{{"external_event_id", j->at("external_event_id")},
                {"source", j->at("source")},
                {"type", j->at("type")},
                {"external_id", j->at("external_id")},
                {"occurred_at", FormatRfc3339(Instant{j->at("occurred_at_us").get<int64_t>()})},
                {"received_at", FormatRfc3339(events[0].recorded_at)},
                {"payload", j->at("payload")}};
  } catch (const Json::exception& e) {
    return Error::Internal(std::string("malformed external_event_recorded payload: ") + e.what());
  }
}

Result<ledger::Decision> HandleRecordExternalEvent(store::Tx& tx, const ledger::Command& cmd,
                                                   Instant now, Random& random) {
  OPSBOX_ASSIGN_OR_RETURN(auto input, ValidateExternalEvent(cmd.payload, now));
  OPSBOX_ASSIGN_OR_RETURN(auto existing,
                          FindBySourceAndId(tx, cmd.tenant_id, input.source, input.external_id));
  return DecideRecordExternalEvent(input, existing, now, random);
}

Status ProjectExternalEventRecorded(store::Tx& tx, const ledger::Event& event) {
  Json storage;
  auto p = ledger::PayloadJson(event, storage);
  if (!p.ok()) return Error::Internal("external_event_recorded payload is not JSON");
  std::vector<store::Value> params;
  try {
    const Json& j = **p;
    params = {event.tenant_id,
              j.at("external_event_id").get<std::string>(),
              j.at("source").get<std::string>(),
              j.at("type").get<std::string>(),
              j.at("external_id").get<std::string>(),
              j.at("occurred_at_us").get<int64_t>(),
              event.recorded_at.us,
              event.seq};
  } catch (const Json::exception& e) {
    return Error::Internal(std::string("malformed external_event_recorded payload: ") + e.what());
  }
  OPSBOX_TRY(
      tx.Exec("INSERT INTO external_events (tenant_id, external_event_id, source, type, "
              "external_id, occurred_at_us, received_at_us, seq) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              params));
  return Ok();
}

Json ExternalEventJson(const store::Row& row) {
  // Column 6 is the event's payload; the external event's own payload is its "payload".
  Json event = Json::parse(row.Text(6), nullptr, /*allow_exceptions=*/false);
  Json payload = event.is_object() && event.contains("payload") ? std::move(event["payload"])
                                                                 : Json();
  return Json{{"external_event_id", row.Text(0)},
              {"source", row.Text(1)},
              {"type", row.Text(2)},
              {"external_id", row.Text(3)},
              {"occurred_at", FormatRfc3339(Instant{row.Int(4)})},
              {"received_at", FormatRfc3339(Instant{row.Int(5)})},
              {"payload", std::move(payload)},
              {"seq", row.Int(7)}};
}

Result<Json> ListExternalEvents(store::Connection& conn, std::string_view tenant,
                                std::string_view after, size_t limit,
                                const std::optional<std::string>& source) {
  int64_t after_seq = 0;
  if (!after.empty()) {
    if (after.size() > 18) return Error::Invalid("after", "format", "after is not a cursor");
    for (char c : after) {
      if (c < '0' || c > '9') return Error::Invalid("after", "format", "after is not a cursor");
      after_seq = after_seq * 10 + (c - '0');
    }
  }
  limit = std::clamp<size_t>(limit, 1, limits::kPageSizeMax);
  std::string sql = "SELECT " + std::string(kExternalEventColumns) +
                    std::string(kExternalEventFrom) + " WHERE x.tenant_id = ? AND x.seq > ?";
  std::vector<store::Value> params = {std::string(tenant), after_seq};
  if (source.has_value()) {
    sql += " AND x.source = ?";
    params.emplace_back(*source);
  }
  sql += " ORDER BY x.seq LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit + 1));
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, params));
  Json items = Json::array();
  for (size_t i = 0; i < rows.size() && i < limit; ++i) items.push_back(ExternalEventJson(rows[i]));
  Json next = nullptr;
  if (rows.size() > limit) next = std::to_string(rows[limit - 1].Int(7));
  return Json{{"items", std::move(items)}, {"next_cursor", std::move(next)}};
}

Result<Json> GetExternalEvent(store::Connection& conn, std::string_view tenant,
                              std::string_view external_event_id) {
  const std::string sql = "SELECT " + std::string(kExternalEventColumns) +
                          std::string(kExternalEventFrom) +
                          " WHERE x.tenant_id = ? AND x.external_event_id = ?";
  store::Value params[] = {std::string(tenant), std::string(external_event_id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, params));
  if (rows.empty()) {
    return Error::NotFound("no external event " + std::string(external_event_id));
  }
  return ExternalEventJson(rows[0]);
}

Result<std::optional<Json>> FindExternalEvent(store::Connection& conn, std::string_view tenant,
                                              std::string_view source,
                                              std::string_view external_id) {
  return FindBySourceAndId(conn, tenant, source, external_id);
}

}  // namespace opsbox::integrations
