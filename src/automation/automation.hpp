// The automation boundary (issue #12, "The boundary, declared" and "Handoff as a contract"):
// which intents automation (bots, IVR, voice AI) may finish on its own per channel, and the
// handoff packet automation gives a human when it cannot finish. The only header other modules
// include from src/automation/.
//
// The policy. Per intent and channel one of three boundaries: self_serve (automation may
// finish), human_review (automation may collect, a human decides) or off_limits (automation
// hands off at once). Precedence: an intent in `exclusion_intents` is off_limits on every
// channel; then a rule for (intent, channel); then a rule for (intent, "*"); then
// `default_boundary`. Version 0 is the built-in policy every tenant starts with
// (DefaultPolicy()): complaints, disputes, fraud, hardship, vulnerable customers, bereavement
// and `unknown` excluded (with the BANKING77 intents of those kinds), everything else
// human_review; nothing is self_serve until the tenant declares it. A tenant's policy changes
// by the command set_automation_policy, which appends automation_policy_changed with the next
// version and the instant it takes effect (never in the past). The policy in force at an
// instant is the version with the latest effective_at not after it (ties: the higher version).
// Maker-checker: the change is recorded as a command now; the second person's approval hook
// is pending (the approvals module of the cases issue); the event carries
// "approval": "pending_maker_checker" until then. TODO(#12): route through approvals.
//
// Every boundary decision names the policy version that made it: on an inbound message (intake
// asks through Automation::DecideInTx and records "automation_boundary" and
// "automation_policy_version" in conversation_opened), and on an automation session's intent
// (automation_intent_recognised).
//
// Sessions and handoff. Commands (wire names; payloads as in docs/api.md and
// src/api/openapi/automation.json):
//   set_automation_policy {default_boundary?, rules:[{intent, channel, boundary,
//       required_slots?}], exclusion_intents?, effective_at?, reason}
//       -> automation_policy_changed {version, effective_at_us, policy, reason, approval}
//   start_automation_session {platform, channel, customer_id?, conversation_id?, language?}
//       -> automation_session_started. Result {session_id}.
//   record_automation_event {session_id, event:{type, …}} -> one of
//       automation_intent_recognised {intent, confidence_bp, boundary, policy_version},
//       automation_authentication_recorded {status, method?},
//       automation_slot_collected {name, value (masked)},
//       automation_step_attempted {name, result},
//       automation_sentiment_recorded {sentiment_bp},
//       automation_utterance_recorded {speaker, text (masked)},
//       automation_session_ended {outcome, reason} and, for outcome partial|failed,
//       automation_handed_off {task_id, packet summary}: routing creates the task (routing
//       service, "automation_handed_off" hook) carrying the packet summary as attributes.
//       A handoff whose packet lacks a field its intent requires is refused (kInvalidArgument,
//       rule "required_for_handoff", field "intent", "authentication_status", "reason" or
//       "slots.<name>"; the API answers 422) and nothing is appended.
//   review_handoff {session_id, useful, missing?, note?} -> automation_handoff_reviewed: the
//       agent marks the packet useful or names what was missing; once per session.
// Free text (utterances, slot values, reasons, notes) is masked on arrival by Hooks::mask
// (pii::Scanner + pii::Redact tags): the clear text is in no event and no table.
//
// Thread safety: Automation is immutable after construction; methods may be called from any
// thread. Pure functions below have no I/O, no clock and no globals.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox::automation {

// Commands.
inline constexpr std::string_view kSetPolicy = "set_automation_policy";
inline constexpr std::string_view kStartSession = "start_automation_session";
inline constexpr std::string_view kRecordEvent = "record_automation_event";
inline constexpr std::string_view kReviewHandoff = "review_handoff";

// Events.
inline constexpr std::string_view kPolicyChanged = "automation_policy_changed";
inline constexpr std::string_view kSessionStarted = "automation_session_started";
inline constexpr std::string_view kIntentRecognised = "automation_intent_recognised";
inline constexpr std::string_view kAuthenticationRecorded = "automation_authentication_recorded";
inline constexpr std::string_view kSlotCollected = "automation_slot_collected";
inline constexpr std::string_view kStepAttempted = "automation_step_attempted";
inline constexpr std::string_view kSentimentRecorded = "automation_sentiment_recorded";
inline constexpr std::string_view kUtteranceRecorded = "automation_utterance_recorded";
inline constexpr std::string_view kSessionEnded = "automation_session_ended";
inline constexpr std::string_view kHandedOff = "automation_handed_off";
inline constexpr std::string_view kHandoffReviewed = "automation_handoff_reviewed";

// Limits (STYLE.md house rule 4).
inline constexpr size_t kIntentBytesMax = 100;        // one intent name
inline constexpr size_t kChannelBytesMax = 32;        // one channel name
inline constexpr size_t kRulesMax = 1000;             // rules in one policy
inline constexpr size_t kExclusionsMax = 200;         // exclusion intents in one policy
inline constexpr size_t kRequiredSlotsMax = 20;       // required slots of one rule
inline constexpr size_t kSlotNameBytesMax = 64;
inline constexpr size_t kSlotValueBytesMax = 512;
inline constexpr size_t kSlotsMax = 50;               // distinct slots in one session
inline constexpr size_t kStepsMax = 100;              // steps attempted in one session
inline constexpr size_t kUtterancesMax = 500;         // transcript lines in one session
inline constexpr size_t kUtteranceBytesMax = 4096;    // one transcript line
inline constexpr size_t kReasonBytesMax = 500;        // policy change reason, outcome reason
inline constexpr size_t kNoteBytesMax = 1000;         // a reviewer's note
inline constexpr size_t kMissingMax = 20;             // fields a review names as missing
inline constexpr size_t kPlatformBytesMax = 64;
inline constexpr size_t kIdBytesMax = 128;            // customer, conversation ids

// ---- The policy (pure) -------------------------------------------------------------------

enum class Boundary { kSelfServe, kHumanReview, kOffLimits };
std::string_view BoundaryName(Boundary b);  // "self_serve" | "human_review" | "off_limits"
std::optional<Boundary> BoundaryFromName(std::string_view name);

inline constexpr std::string_view kAnyChannel = "*";
inline constexpr std::string_view kUnknownIntent = "unknown";  // intents::kUnknownIntent

struct Rule {
  std::string intent;
  std::string channel;  // a channel name or kAnyChannel
  Boundary boundary = Boundary::kHumanReview;
  std::vector<std::string> required_slots;  // slots a handoff of this intent must carry
  bool operator==(const Rule&) const = default;
};

struct Policy {
  int64_t version = 0;  // 0: the built-in default
  Instant effective_at;
  Boundary default_boundary = Boundary::kHumanReview;
  std::vector<Rule> rules;
  std::vector<std::string> exclusion_intents;  // off_limits on every channel
};

// The built-in version 0 (see the file comment).
Policy DefaultPolicy();

// Parses and validates a policy body {default_boundary?, rules, exclusion_intents?}: fields
// named as "rules[3].boundary"; rules "required", "type", "enum", "max_bytes", "max_items",
// "duplicate" (the same intent and channel twice), "unknown_field". Exclusions default to
// DefaultPolicy()'s. version and effective_at are left for the caller.
Result<Policy> ParsePolicy(const Json& body);
Json PolicyJson(const Policy& p);  // {version, effective_at, default_boundary, rules, …}

struct BoundaryDecision {
  Boundary boundary = Boundary::kHumanReview;
  int64_t policy_version = 0;
  // Which part of the policy decided: "exclusion", "rule", "rule_any_channel" or "default".
  std::string_view basis;
  const Rule* rule = nullptr;  // the rule that decided (points into the policy), or null
};

// The boundary of `intent` on `channel` under `policy` (an empty intent reads as unknown).
BoundaryDecision Decide(const Policy& policy, std::string_view intent, std::string_view channel);

// The version in force at `at` among `versions` (any order): the latest effective_at not after
// `at`, ties to the higher version; DefaultPolicy() when none is.
const Policy* InForce(const std::vector<Policy>& versions, Instant at);

// ---- Sessions and the handoff packet (pure) ----------------------------------------------

struct Step {
  std::string name, result;  // result "succeeded" | "failed" | "skipped"
};
struct Utterance {
  std::string speaker, text;  // speaker "customer" | "automation"; text masked
  int64_t at_us = 0;
};

struct Session {
  std::string session_id, platform, channel, customer_id, conversation_id, language;
  std::string status = "open";  // "open" | "completed" | "handed_off" | "failed"
  std::string intent;
  int64_t confidence_bp = -1;   // -1: not given
  std::string boundary;         // BoundaryName of the intent's decision, "" before one
  int64_t policy_version = -1;  // the version that decided `boundary`
  std::string authentication_status;  // "" | "none" | "partial" | "verified" | "failed"
  std::string authentication_method;
  std::map<std::string, std::string> slots;  // name -> masked value
  std::vector<Step> steps;
  std::optional<int64_t> sentiment_bp;  // -10000..10000
  std::vector<Utterance> transcript;
  std::string outcome, reason;  // outcome "" | "completed" | "partial" | "failed"
  std::string task_id;          // the routed task of a handoff
  // The agent's review: "" (none) | "useful" | "not_useful"; missing names what was missing.
  std::string review;
  std::vector<std::string> review_missing;
  std::string review_note, reviewed_by;
  int64_t started_at_us = 0, ended_at_us = 0, reviewed_at_us = 0;
};

// Applies one automation session event (any type above except the policy's) to `s`: the one
// place that turns events into session state, used by projections and decisions alike.
void Apply(Session& s, std::string_view event_type, const Json& payload, int64_t at_us);

// The fields a handoff of `s` needs that it lacks, in a stable order: "intent",
// "authentication_status", "reason", then "slots.<name>" for each slot `rule` requires.
std::vector<std::string> MissingForHandoff(const Session& s, const Rule* rule);

// The packet shown to the agent: everything above as JSON, times in RFC 3339.
Json PacketJson(const Session& s);
// Session state as stored (projection) and back.
Json SessionToJson(const Session& s);
Session SessionFromJson(const Json& j);

// ---- The module --------------------------------------------------------------------------

struct Hooks {
  // Masks personal data in free text on arrival (pii::Scanner findings replaced by their tags,
  // "[CARD]", "[PHONE]", …). Thread-safe. Empty: text is refused (rule "no_masking"), never
  // stored in clear.
  std::function<std::string(std::string_view text)> mask;
};

class Automation {
 public:
  explicit Automation(Hooks hooks);

  // Adds the command handlers and projectors. Once, before the writer starts.
  void Register(ledger::Registry& registry) const;

  // The boundary of an inbound message's intent on its channel under the policy in force at
  // `now`, read through the writer's transaction `tx` (it sees earlier commands of the batch).
  // For intake's conversation_opened.
  Result<BoundaryDecision> DecideInTx(store::Tx& tx, std::string_view tenant,
                                      std::string_view intent, std::string_view channel,
                                      Instant now) const;

  // ---- reads (projections through `c`; thread-safe) ----
  // The policy in force at `at`, and the versions that take effect after it.
  Result<Json> PolicyAt(store::Connection& c, std::string_view tenant, Instant at) const;
  // {session:{…packet…}}; kNotFound when unknown.
  Result<Json> GetSession(store::Connection& c, std::string_view tenant,
                          std::string_view session_id) const;
  // Handoff acceptance per intent: {intents:[{intent, handoffs, reviewed, useful,
  // acceptance_rate (useful / reviewed, null when none reviewed), missing:{field: count}}]}.
  Result<Json> HandoffAcceptance(store::Connection& c, std::string_view tenant) const;

  const Hooks& hooks() const { return hooks_; }

 private:
  Hooks hooks_;
};

// Reads every policy version of a tenant (through a transaction or a connection).
Result<std::vector<Policy>> LoadPolicies(store::Connection& c, std::string_view tenant);
Result<std::vector<Policy>> LoadPolicies(store::Tx& tx, std::string_view tenant);

}  // namespace opsbox::automation
