// Commands, events and the hash chain that binds a tenant's events together.
// (DESIGN.md "Architecture: commands, events, ledger").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/time.hpp"

namespace opsbox::store {
struct Row;
}  // namespace opsbox::store

namespace opsbox::ledger {

// Who issued a command: "usr_…" (a user), "key_…" (an API key), "system", "cli:<os user>".
using ActorId = std::string;

struct Command {
  std::string tenant_id;
  // Idempotency: a second command with the same id in the same tenant returns the first
  // outcome and appends nothing. Generated ("cmd_…") when the caller gives none.
  std::string command_id;
  std::string type;  // wire name, imperative: "record_external_event"
  ActorId actor;
  Json payload;      // validated by the command's handler
};

struct NewEvent {
  std::string type;  // wire name, past tense: "external_event_recorded"
  Json payload;
  // Personal data (issue #3, contracts.md §2): the data subject whose key seals the fields
  // ("cus_…", or a scope below it such as "cus_…/conv_…") and the top-level payload keys to
  // seal. When personal_fields is non-empty the writer calls the Registry's sealer before
  // hashing, so the stored event, its hash and the projectors see only sealed values
  // ("pii:v1:<key id>:<base64url nonce+ciphertext>"); absent or null fields are skipped.
  // (Default member initializers keep `NewEvent{type, payload}` free of
  // -Wmissing-field-initializers.)
  std::string subject_id{};
  std::vector<std::string> personal_fields{};
  // Credentials (issue #9, docs/decisions/0011-credentials-sealed-in-events.md): the top-level
  // payload keys that hold a secret or a hash that authenticates (password_hash, secret_hash,
  // token_hash, csrf_hash, a webhook signing secret). Each must be listed in
  // kSecretPayloadFields. The writer seals them under the tenant's "credentials" key
  // (kCredentialsSubject) before hashing, so the stored event never holds a usable value;
  // projectors alone see them in clear, through Event::payload_json, while the writer runs.
  std::vector<std::string> secret_fields{};
  // Personal data of many data subjects in one event (a portfolio import chunk carries up to
  // 1,000 customers; docs/decisions/0017-collections-import-chunked-commands.md). When
  // items_personal_fields is non-empty, every element of the top-level array
  // payload[items_field] must be an object whose string element[items_subject_key] names its
  // data subject; the writer seals the element's items_personal_fields under that subject, as
  // it seals personal_fields under subject_id.
  // Erasing one subject then makes only its elements unreadable.
  std::string items_field{};
  std::string items_subject_key{};
  std::vector<std::string> items_personal_fields{};
};

// An appended event, as stored.
struct Event {
  std::string tenant_id;
  int64_t seq = 0;            // 1, 2, 3, … per tenant, no gaps
  std::string event_id;       // "evt_…"
  Instant recorded_at;
  ActorId actor;
  std::string command_id;
  std::string type;
  std::string payload;        // CanonicalJson of the payload
  std::string prev_hash;      // hex SHA-256 of the previous event (64 zeros for seq 1)
  std::string hash;           // hex SHA-256 over prev_hash and the canonical encoding
  // While the writer runs projectors: the payload as the JSON value it was encoded from, so
  // projectors need not parse `payload` again, except that NewEvent::secret_fields hold their
  // clear values here (sealed in `payload`). Null otherwise (reads, replays, listeners).
  const Json* payload_json = nullptr;

  // The stored form, payload inlined as JSON (sealed values as stored). For the ledger's own
  // use (verification, tests); never for anything that leaves the server.
  Json ToStoredJson() const;
  // THE outbound view of an event: what ledger reads, `ledger export`, webhook bodies and every
  // other copy that leaves the server carry. The stored form with each top-level payload field
  // named in kSecretPayloadFields replaced by "[redacted]", sealed or not: ledgers written
  // before issue #9 hold such values in clear, and they still verify because the stored event
  // is unchanged.
  Json ToOutboundJson() const;
};

// Payload fields that hold credentials or their hashes, in any event type: the identity
// module's hashes, a webhook subscription's signing secret, the secret settings of intake
// channels (intake::ChannelSchema::secrets; a test keeps the two lists in step).
inline constexpr std::string_view kSecretPayloadFields[] = {
    "secret",     "password_hash", "token_hash",   "csrf_hash",      "secret_hash",
    "app_secret", "access_token",  "verify_token", "signing_secret", "auth_token"};

// Whether `field` is one of kSecretPayloadFields.
bool IsSecretPayloadField(std::string_view field);

// The data subject whose key (privacy keyring) seals NewEvent::secret_fields.
inline constexpr std::string_view kCredentialsSubject = "credentials";
inline constexpr std::string_view kRedactedValue = "[redacted]";

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The canonical encoding the chain covers: a version tag, then every field except `hash`,
// each as an 8-byte big-endian length followed by its bytes (integers in decimal).
std::string CanonicalEventBytes(const Event& e);
// The payload as JSON: e.payload_json when set, else `payload` parsed into `storage`.
Result<const Json*> PayloadJson(const Event& e, Json& storage);

// Rows of ledger_events in this column order; EventFromRow reads one.
inline constexpr std::string_view kEventColumns =
    "tenant_id, seq, event_id, recorded_at_us, actor, command_id, type, payload, prev_hash, hash";
Event EventFromRow(const store::Row& row);

// SHA-256 of CanonicalEventBytes; hex.
std::string ComputeEventHash(const Event& e);

}  // namespace opsbox::ledger
