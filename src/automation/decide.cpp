// Decisions of the automation commands: pure functions of the loaded state, the payload, `now`
// and the masking hook (deterministic), plus the handlers that load that state through the
// writer's transaction.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "automation/automation.hpp"
#include "automation/internal/decide.hpp"
#include "core/ids.hpp"

namespace opsbox::automation::detail {
namespace {

using ledger::Decision;
using ledger::NewEvent;

Status Check(bool ok, std::string field, std::string rule, std::string message) {
  if (ok) return Ok();
  return Error::Invalid(std::move(field), std::move(rule), std::move(message));
}

// A lower-case token ([a-z0-9_], 1..bytes_max): channels, slot and step names.
Result<std::string> Token(const Json& p, std::string_view key, size_t bytes_max) {
  OPSBOX_ASSIGN_OR_RETURN(auto v, RequireString(p, key, bytes_max));
  const bool ok = std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  OPSBOX_TRY(Check(ok, std::string(key), "format",
                   std::string(key) + " may hold only a-z, 0-9 and _"));
  return v;
}

Result<std::string> OneOf(const Json& p, std::string_view key,
                          std::initializer_list<std::string_view> allowed) {
  OPSBOX_ASSIGN_OR_RETURN(auto v, RequireString(p, key, 32));
  for (auto a : allowed) {
    if (v == a) return v;
  }
  std::string names;
  for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
  return Error::Invalid(std::string(key), "enum", std::string(key) + " must be one of " + names);
}

// A number in [lo, hi] as basis points of one (×10,000, rounded).
Result<int64_t> BasisPoints(const Json& p, std::string_view key, double lo, double hi) {
  auto it = p.find(key);
  OPSBOX_TRY(Check(it != p.end(), std::string(key), "required", std::string(key) + " is required"));
  OPSBOX_TRY(Check(it->is_number(), std::string(key), "type", std::string(key) + " must be a number"));
  const double v = it->get<double>();
  OPSBOX_TRY(Check(std::isfinite(v) && v >= lo && v <= hi, std::string(key), "range",
                   std::string(key) + " must be from " + std::to_string(lo) + " to " +
                       std::to_string(hi)));
  return static_cast<int64_t>(std::llround(v * 10000));
}

Result<std::string> Masked(const Hooks& hooks, std::string_view text, std::string_view field) {
  if (!hooks.mask) {
    return Error::Invalid(std::string(field), "no_masking",
                          "free text cannot be accepted: no PII masking is wired");
  }
  return hooks.mask(text);
}

Decision Events(std::vector<NewEvent> events, Json result) {
  Decision d;
  d.events = std::move(events);
  d.result = std::move(result);
  return d;
}

Result<NewEvent> SessionEvent(const Session& s, const Json& e, const std::vector<Policy>& policies,
                              Instant now, const Hooks& hooks, Json& result) {
  const std::string type = e.value("type", "");
  Json p{{"session_id", s.session_id}};
  if (type == "intent") {
    OPSBOX_TRY(CheckObjectKeys(e, {"type", "intent", "confidence"}));
    OPSBOX_ASSIGN_OR_RETURN(auto intent, RequireString(e, "intent", kIntentBytesMax));
    OPSBOX_ASSIGN_OR_RETURN(auto bp, BasisPoints(e, "confidence", 0, 1));
    const BoundaryDecision d = Decide(*InForce(policies, now), intent, s.channel);
    p.update(Json{{"intent", intent}, {"confidence_bp", bp}, {"boundary", BoundaryName(d.boundary)},
                  {"policy_version", d.policy_version}, {"basis", d.basis}});
    result = Json{{"boundary", BoundaryName(d.boundary)}, {"policy_version", d.policy_version}};
    return NewEvent{std::string(kIntentRecognised), std::move(p)};
  }
  if (type == "authentication") {
    OPSBOX_TRY(CheckObjectKeys(e, {"type", "status", "method"}));
    OPSBOX_ASSIGN_OR_RETURN(auto status, OneOf(e, "status", {"none", "partial", "verified", "failed"}));
    OPSBOX_ASSIGN_OR_RETURN(auto method, OptionalString(e, "method", 64, ""));
    p.update(Json{{"status", status}, {"method", method}});
    return NewEvent{std::string(kAuthenticationRecorded), std::move(p)};
  }
  if (type == "slot") {
    OPSBOX_TRY(CheckObjectKeys(e, {"type", "name", "value"}));
    OPSBOX_ASSIGN_OR_RETURN(auto name, Token(e, "name", kSlotNameBytesMax));
    OPSBOX_ASSIGN_OR_RETURN(auto value, RequireString(e, "value", kSlotValueBytesMax));
    OPSBOX_TRY(Check(s.slots.contains(name) || s.slots.size() < kSlotsMax, "name", "max_items",
                     "a session holds at most " + std::to_string(kSlotsMax) + " slots"));
    OPSBOX_ASSIGN_OR_RETURN(auto masked, Masked(hooks, value, "value"));
    p.update(Json{{"name", name}, {"value", masked}});
    return NewEvent{std::string(kSlotCollected), std::move(p)};
  }
  if (type == "step") {
    OPSBOX_TRY(CheckObjectKeys(e, {"type", "name", "result"}));
    OPSBOX_ASSIGN_OR_RETURN(auto name, Token(e, "name", kSlotNameBytesMax));
    OPSBOX_ASSIGN_OR_RETURN(auto res, OneOf(e, "result", {"succeeded", "failed", "skipped"}));
    OPSBOX_TRY(Check(s.steps.size() < kStepsMax, "name", "max_items",
                     "a session records at most " + std::to_string(kStepsMax) + " steps"));
    p.update(Json{{"name", name}, {"result", res}});
    return NewEvent{std::string(kStepAttempted), std::move(p)};
  }
  if (type == "sentiment") {
    OPSBOX_TRY(CheckObjectKeys(e, {"type", "score"}));
    OPSBOX_ASSIGN_OR_RETURN(auto bp, BasisPoints(e, "score", -1, 1));
    p["sentiment_bp"] = bp;
    return NewEvent{std::string(kSentimentRecorded), std::move(p)};
  }
  if (type == "utterance") {
    OPSBOX_TRY(CheckObjectKeys(e, {"type", "speaker", "text"}));
    OPSBOX_ASSIGN_OR_RETURN(auto speaker, OneOf(e, "speaker", {"customer", "automation"}));
    OPSBOX_ASSIGN_OR_RETURN(auto text, RequireString(e, "text", kUtteranceBytesMax));
    OPSBOX_TRY(Check(s.transcript.size() < kUtterancesMax, "text", "max_items",
                     "a transcript holds at most " + std::to_string(kUtterancesMax) + " lines"));
    OPSBOX_ASSIGN_OR_RETURN(auto masked, Masked(hooks, text, "text"));
    p.update(Json{{"speaker", speaker}, {"text", masked}});
    return NewEvent{std::string(kUtteranceRecorded), std::move(p)};
  }
  return Error::Invalid("type", "enum",
                        "type must be one of intent, authentication, slot, step, sentiment, "
                        "utterance, outcome");
}

// outcome: the session ends; partial and failed hand off to a human with a complete packet.
Result<Decision> DecideOutcome(Session s, const Json& e, const std::vector<Policy>& policies,
                               Instant now, const Hooks& hooks) {
  OPSBOX_TRY(CheckObjectKeys(e, {"type", "outcome", "reason"}));
  OPSBOX_ASSIGN_OR_RETURN(auto outcome, OneOf(e, "outcome", {"completed", "partial", "failed"}));
  OPSBOX_ASSIGN_OR_RETURN(auto reason_raw, OptionalString(e, "reason", kReasonBytesMax, ""));
  std::string reason;
  if (!reason_raw.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(reason, Masked(hooks, reason_raw, "reason"));
  }
  std::vector<NewEvent> events;
  events.push_back(NewEvent{std::string(kSessionEnded),
                            Json{{"session_id", s.session_id}, {"outcome", outcome},
                                 {"reason", reason}}});
  if (outcome == "completed") {
    return Events(std::move(events), Json{{"session_id", s.session_id}, {"status", "completed"}});
  }
  s.reason = reason;
  const BoundaryDecision d = Decide(*InForce(policies, now), s.intent, s.channel);
  const auto missing = MissingForHandoff(s, d.rule);
  if (!missing.empty()) {
    return Error::Invalid(missing.front(), "required_for_handoff",
                          "a handoff of intent " + (s.intent.empty() ? "(none)" : s.intent) +
                              " needs " + missing.front() + " in its packet");
  }
  const std::string task_id = "task_" + s.session_id.substr(s.session_id.find('_') + 1);
  // The routed task's attributes: the packet's summary (the transcript is read by session id).
  Json summary{{"session_id", s.session_id},
               {"task_id", task_id},
               {"channel", s.channel},
               {"intent", s.intent},
               {"confidence_bp", s.confidence_bp},
               {"boundary", BoundaryName(d.boundary)},
               {"policy_version", d.policy_version},
               {"authentication_status", s.authentication_status},
               {"outcome", outcome},
               {"reason", reason},
               {"customer_id", s.customer_id},
               {"conversation_id", s.conversation_id}};
  events.push_back(NewEvent{std::string(kHandedOff), std::move(summary)});
  return Events(std::move(events), Json{{"session_id", s.session_id},
                                        {"status", "handed_off"},
                                        {"task_id", task_id}});
}

}  // namespace

Result<Decision> DecideSetPolicy(const std::vector<Policy>& existing, const Json& payload,
                                 Instant now) {
  OPSBOX_TRY(Check(payload.is_object(), "", "type", "the body must be an object"));
  OPSBOX_TRY(CheckObjectKeys(payload, {"default_boundary", "rules", "exclusion_intents",
                                       "effective_at", "reason"}));
  OPSBOX_ASSIGN_OR_RETURN(auto reason, RequireString(payload, "reason", kReasonBytesMax));
  Instant effective_at = now;
  if (payload.contains("effective_at")) {
    OPSBOX_TRY(Check(payload["effective_at"].is_string(), "effective_at", "type",
                     "effective_at must be an RFC 3339 string"));
    OPSBOX_ASSIGN_OR_RETURN(effective_at,
                            ParseRfc3339(payload["effective_at"].get<std::string>(), "effective_at"));
    OPSBOX_TRY(Check(effective_at.us >= now.us, "effective_at", "not_in_past",
                     "a policy takes effect now or later, never retroactively"));
  }
  Json body = payload;
  body.erase("effective_at");
  body.erase("reason");
  OPSBOX_ASSIGN_OR_RETURN(Policy policy, ParsePolicy(body));
  int64_t version = 0;
  for (const auto& p : existing) version = std::max(version, p.version);
  policy.version = version + 1;
  policy.effective_at = effective_at;
  Json e{{"version", policy.version},
         {"effective_at_us", effective_at.us},
         {"policy", PolicyJson(policy)},
         {"reason", reason},
         // TODO(#12): maker-checker through the approvals module once it exists.
         {"approval", "pending_maker_checker"}};
  return Events({NewEvent{std::string(kPolicyChanged), std::move(e)}},
                Json{{"version", policy.version},
                     {"effective_at", FormatRfc3339(effective_at)}});
}

Result<Decision> DecideStartSession(const Json& payload, const std::string& session_id) {
  OPSBOX_TRY(Check(payload.is_object(), "", "type", "the body must be an object"));
  OPSBOX_TRY(CheckObjectKeys(payload, {"platform", "channel", "customer_id", "conversation_id",
                                       "language"}));
  OPSBOX_ASSIGN_OR_RETURN(auto platform, RequireString(payload, "platform", kPlatformBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto channel, Token(payload, "channel", kChannelBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto customer, OptionalString(payload, "customer_id", kIdBytesMax, ""));
  OPSBOX_ASSIGN_OR_RETURN(auto conversation,
                          OptionalString(payload, "conversation_id", kIdBytesMax, ""));
  OPSBOX_ASSIGN_OR_RETURN(auto language, OptionalString(payload, "language", 35, ""));
  Json e{{"session_id", session_id}, {"platform", platform},        {"channel", channel},
         {"customer_id", customer},  {"conversation_id", conversation}, {"language", language}};
  return Events({NewEvent{std::string(kSessionStarted), std::move(e)}},
                Json{{"session_id", session_id}, {"status", "open"}});
}

Result<Decision> DecideRecordEvent(const std::optional<Session>& session,
                                   const std::vector<Policy>& policies, const Json& payload,
                                   Instant now, const Hooks& hooks) {
  OPSBOX_TRY(Check(payload.is_object(), "", "type", "the body must be an object"));
  OPSBOX_TRY(CheckObjectKeys(payload, {"session_id", "event"}));
  if (!session) return Error::NotFound("no automation session " + payload.value("session_id", ""));
  if (session->status != "open") {
    return Error::Conflict("session_ended", "the session has ended (" + session->status + ")");
  }
  OPSBOX_TRY(Check(payload.contains("event") && payload["event"].is_object(), "event", "required",
                   "event must be an object with a type"));
  const Json& e = payload["event"];
  OPSBOX_TRY(Check(e.contains("type") && e["type"].is_string(), "event.type", "required",
                   "event.type is required"));
  if (e["type"] == "outcome") return DecideOutcome(*session, e, policies, now, hooks);
  Json result;
  OPSBOX_ASSIGN_OR_RETURN(auto event, SessionEvent(*session, e, policies, now, hooks, result));
  Json r{{"session_id", session->session_id}, {"status", "open"}};
  if (result.is_object()) r.update(result);
  return Events({std::move(event)}, std::move(r));
}

Result<Decision> DecideReview(const std::optional<Session>& session, const Json& payload,
                              const std::string& actor, const Hooks& hooks) {
  OPSBOX_TRY(Check(payload.is_object(), "", "type", "the body must be an object"));
  OPSBOX_TRY(CheckObjectKeys(payload, {"session_id", "useful", "missing", "note"}));
  if (!session) return Error::NotFound("no automation session " + payload.value("session_id", ""));
  if (session->status != "handed_off") {
    return Error::Conflict("not_handed_off", "only a handed-off session's packet is reviewed");
  }
  if (!session->review.empty()) {
    return Error::Conflict("already_reviewed", "this handoff packet was reviewed already");
  }
  OPSBOX_TRY(Check(payload.contains("useful") && payload["useful"].is_boolean(), "useful",
                   "required", "useful (true or false) is required"));
  const bool useful = payload["useful"].get<bool>();
  std::vector<std::string> missing;
  if (payload.contains("missing")) {
    const Json& m = payload["missing"];
    OPSBOX_TRY(Check(m.is_array(), "missing", "type", "missing must be an array of field names"));
    OPSBOX_TRY(Check(m.size() <= kMissingMax, "missing", "max_items",
                     "at most " + std::to_string(kMissingMax) + " missing fields"));
    for (size_t i = 0; i < m.size(); ++i) {
      const std::string f = "missing[" + std::to_string(i) + "]";
      OPSBOX_TRY(Check(m[i].is_string() && !m[i].get_ref<const std::string&>().empty() &&
                           m[i].get_ref<const std::string&>().size() <= kIntentBytesMax,
                       f, "format", f + " must be a field name of 1 to 100 bytes"));
      missing.push_back(m[i].get<std::string>());
    }
  }
  OPSBOX_TRY(Check(useful || !missing.empty(), "missing", "required",
                   "a packet that was not useful names what was missing"));
  OPSBOX_ASSIGN_OR_RETURN(auto note_raw, OptionalString(payload, "note", kNoteBytesMax, ""));
  std::string note;
  if (!note_raw.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(note, Masked(hooks, note_raw, "note"));
  }
  Json e{{"session_id", session->session_id}, {"intent", session->intent}, {"useful", useful},
         {"missing", missing}, {"note", note}, {"reviewed_by", actor}};
  return Events({NewEvent{std::string(kHandoffReviewed), std::move(e)}},
                Json{{"session_id", session->session_id}, {"useful", useful}});
}

// ---- handlers: load, then decide ----

Result<std::optional<Session>> LoadSession(store::Tx& tx, std::string_view tenant,
                                           std::string_view session_id) {
  store::Value p[] = {std::string(tenant), std::string(session_id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT state FROM automation_sessions WHERE "
                                              "tenant_id = ? AND session_id = ?",
                                              p));
  if (rows.empty()) return std::optional<Session>();
  return std::optional<Session>(SessionFromJson(Json::parse(rows[0].Text(0), nullptr, false)));
}

Result<Decision> HandleSetPolicy(store::Tx& tx, const ledger::Command& cmd, Instant now,
                                 Random&) {
  OPSBOX_ASSIGN_OR_RETURN(auto policies, LoadPolicies(tx, cmd.tenant_id));
  return DecideSetPolicy(policies, cmd.payload, now);
}

Result<Decision> HandleStartSession(store::Tx&, const ledger::Command& cmd, Instant now,
                                    Random& rnd) {
  return DecideStartSession(cmd.payload, NewId("auto", now, rnd));
}

Result<Decision> HandleRecordEvent(store::Tx& tx, const ledger::Command& cmd, Instant now, Random&,
                                   const Hooks& hooks) {
  OPSBOX_ASSIGN_OR_RETURN(auto id, RequireString(cmd.payload, "session_id", kIdBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto session, LoadSession(tx, cmd.tenant_id, id));
  OPSBOX_ASSIGN_OR_RETURN(auto policies, LoadPolicies(tx, cmd.tenant_id));
  return DecideRecordEvent(session, policies, cmd.payload, now, hooks);
}

Result<Decision> HandleReview(store::Tx& tx, const ledger::Command& cmd, Instant, Random&,
                              const Hooks& hooks) {
  OPSBOX_ASSIGN_OR_RETURN(auto id, RequireString(cmd.payload, "session_id", kIdBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto session, LoadSession(tx, cmd.tenant_id, id));
  return DecideReview(session, cmd.payload, cmd.actor, hooks);
}

}  // namespace opsbox::automation::detail
