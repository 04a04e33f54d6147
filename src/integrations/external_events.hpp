// External events in: facts that outside systems (telephony, CRM, payment gateway, core banking)
// report to opsbox, recorded once per (source, external_id) on the ledger.
//
// Command record_external_event, payload {source, type, external_id, occurred_at, payload}:
//   source       [a-z0-9][a-z0-9_.-]{0,63}                        (limits::kExternalSourceBytesMax)
//   type         printable ASCII without spaces, 1..128 bytes      (limits::kExternalTypeBytesMax)
//   external_id  1..200 bytes, no control characters               (limits::kExternalIdBytesMax)
//   occurred_at  RFC 3339, at most kExternalEventFutureSkew after `now` (rule "future")
//   payload      a JSON object whose canonical encoding is at most
//                limits::kExternalEventPayloadBytesMax bytes         (rule "max_bytes")
// Unknown top-level fields are rejected (rule "unknown_field").
//
// Idempotent by (source, external_id): when that pair is already recorded in the tenant the
// decision has no events and its result is the existing record (the HTTP layer answers 200
// instead of 201: CommandOutcome::first_seq == 0). Otherwise it appends
// external_event_recorded {external_event_id "xev_…", source, type, external_id,
// occurred_at_us, payload}, projected into the table external_events, and its result is the
// new record without "seq" (that is CommandOutcome::first_seq).
//
// Everything here is stateless and thread-safe; query functions use the caller's connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/random.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/event.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox::integrations {

inline constexpr std::string_view kRecordExternalEvent = "record_external_event";
inline constexpr std::string_view kExternalEventRecorded = "external_event_recorded";
// How far in the future of the server's clock occurred_at may lie (clock skew of the sender).
inline constexpr Duration kExternalEventFutureSkew = Duration::Minutes(5);

// A validated record_external_event payload.
struct ExternalEventInput {
  std::string source;
  std::string type;
  std::string external_id;
  Instant occurred_at;
  Json payload;  // an object
};

// Pure. Errors name the field and the rule ("required", "type", "format", "rfc3339", "max_bytes",
// "future", "unknown_field", "utf8").
Result<ExternalEventInput> ValidateExternalEvent(const Json& command_payload, Instant now);

// A stable command id for (source, external_id): "xevcmd_" + the first 128 bits of SHA-256 in
// base64url (22 characters; 64 hex digits before issue #20 item 5 — a retry of an event
// recorded under the old id is still caught by (source, external_id)). Giving
// it as the command id lets the writer's idempotency catch duplicates submitted concurrently.
// Note: a duplicate with a different body then answers kConflict "idempotency_key_reused"
// from the writer; callers treat that as "already recorded" (FindExternalEvent).
std::string ExternalEventCommandId(std::string_view source, std::string_view external_id);

// Pure decision. `existing` is the stored record (ExternalEventJson) for (source, external_id)
// if there is one. New ids come from `random`.
Result<ledger::Decision> DecideRecordExternalEvent(const ExternalEventInput& input,
                                                   const std::optional<Json>& existing, Instant now,
                                                   Random& random);

// The ledger CommandHandler for record_external_event (validates, loads, decides).
Result<ledger::Decision> HandleRecordExternalEvent(store::Tx& tx, const ledger::Command& cmd,
                                                   Instant now, Random& random);
// The projector for external_event_recorded: inserts the row (seq = the event's seq).
Status ProjectExternalEventRecorded(store::Tx& tx, const ledger::Event& event);

// The result of record_external_event rebuilt from its event (ledger::ResultRebuilder): the
// writer stores no copy of it (issue #20 item 5). received_at is the event's recorded_at.
Result<Json> RebuildExternalEventResult(const std::vector<ledger::Event>& events);

// Columns every query below selects, in this order, from kExternalEventFrom;
// ExternalEventJson reads a row of them. The projection keeps the columns it is queried by;
// the payload is read from the event itself (issue #20 item 5).
inline constexpr std::string_view kExternalEventColumns =
    "x.external_event_id, x.source, x.type, x.external_id, x.occurred_at_us, x.received_at_us, "
    "e.payload, x.seq";
inline constexpr std::string_view kExternalEventFrom =
    " FROM external_events x JOIN ledger_events e ON e.tenant_id = x.tenant_id AND e.seq = x.seq";
// {external_event_id, source, type, external_id, occurred_at, received_at (RFC 3339),
//  payload (object), seq}.
Json ExternalEventJson(const store::Row& row);

// A page of external events, oldest first: {"items": [...], "next_cursor": "<seq>" | null}.
// `after` is a cursor from a previous page ("" for the first); `limit` is clamped to
// 1..limits::kPageSizeMax; `source` filters when given. Errors: field "after" rule "format".
Result<Json> ListExternalEvents(store::Connection& conn, std::string_view tenant,
                                std::string_view after, size_t limit,
                                const std::optional<std::string>& source);
// One record by id; kNotFound when absent in this tenant.
Result<Json> GetExternalEvent(store::Connection& conn, std::string_view tenant,
                              std::string_view external_event_id);
// One record by (source, external_id); nullopt when absent.
Result<std::optional<Json>> FindExternalEvent(store::Connection& conn, std::string_view tenant,
                                              std::string_view source,
                                              std::string_view external_id);

}  // namespace opsbox::integrations
