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
  // projectors need not parse `payload` again. Null otherwise (reads, replays, listeners).
  const Json* payload_json = nullptr;

  Json ToJson() const;        // the wire form (payload inlined as JSON)
  // The wire form for readers: payload fields that hold secrets or their hashes
  // (kSecretPayloadFields) read "[redacted]". The stored event, and so its hash, keeps them:
  // projections are rebuilt from it. Issue #3 encrypts them per data subject.
  Json ToRedactedJson() const;
};

inline constexpr std::string_view kSecretPayloadFields[] = {
    "secret", "password_hash", "token_hash", "csrf_hash", "secret_hash"};

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The canonical encoding the chain covers: a version tag, then every field except `hash`,
// each as an 8-byte big-endian length followed by its bytes (integers in decimal).
std::string CanonicalEventBytes(const Event& e);
// The payload as JSON: e.payload_json when set, else `payload` parsed into `storage`.
Result<const Json*> PayloadJson(const Event& e, Json& storage);

// SHA-256 of CanonicalEventBytes; hex.
std::string ComputeEventHash(const Event& e);

}  // namespace opsbox::ledger
