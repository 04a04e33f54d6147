// The files `opsbox collections can-contact` reads (issue #11): the account file, the history
// file and the policy file, parsed strictly into typed records (unknown keys, wrong types and
// values outside a rule are errors naming the field and the rule).
//
// Account file: {"account_id": "…", "zone": "America/Chicago" (optional, null allowed),
//   "phone": "+1…" (E.164; needed when there is no zone), "consents": {"sms": bool,
//   "whatsapp": bool, "email": bool, "voice": bool} (each optional: absent = no answer),
//   "flags": ["dispute", "cease_communication", "vulnerable", "bankruptcy", "deceased",
//   "legal_hold", "do_not_call"], "agent_particulars_sent_at": RFC 3339 (optional, RBI)}.
// History file: [{"at": RFC 3339, "channel": "voice|sms|whatsapp|email",
//   "direction": "outbound|inbound", "outcome": "right_party_contact|wrong_party|no_answer|busy|
//   voicemail|promise_to_pay|refused|dispute_raised|callback_requested"}, …] in any order.
// Policy file (adjusts the preset; every key optional): {"calling_window": {"start": "08:00",
//   "end": "21:00"}, "reg_f": bool, "agent_particulars": bool, "frequency_caps": [{"channel":
//   "sms", "attempts_max": 3, "window_hours": 168}], "holidays": ["2026-12-25", …]}.
// Threads: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collections/contact_policy.hpp"
#include "core/result.hpp"

namespace opsbox::collections {

inline constexpr size_t kContactFileBytesMax = 16 * 1024 * 1024;
inline constexpr size_t kHistoryEntriesMax = 100'000;
inline constexpr size_t kAccountIdBytesMax = 128;

struct AccountFile {
  std::string account_id;
  std::optional<std::string> zone;
  std::optional<std::string> phone;  // E.164 as given
  uint8_t consent_given = 0;         // bits (1 << Channel)
  uint8_t consent_refused = 0;
  uint8_t flags = 0;                 // AccountFlag bits
  std::optional<Instant> agent_particulars_sent_at;
};

Result<AccountFile> ParseAccountFile(std::string_view json);
// Ascending by time (stable for equal instants). Errors name "history[3].outcome" and the rule.
Result<std::vector<Attempt>> ParseHistoryFile(std::string_view json);
// `base` (a preset) adjusted by the policy file, then validated.
Result<ContactPolicy> ParsePolicyFile(std::string_view json, ContactPolicy base);

// The account's zone set: its zone, else every zone of its phone number's country, else
// kUnknownZoneSet. Errors: an unknown zone name, a phone that is not E.164.
Result<uint32_t> ResolveZoneSet(const AccountFile& account, ZoneCatalog& zones);

}  // namespace opsbox::collections
