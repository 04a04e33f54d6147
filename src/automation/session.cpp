// Automation sessions: events applied to state, handoff packet completeness, and the stored
// and wire forms of a session (pure).
#include <nlohmann/json.hpp>

#include "automation/automation.hpp"

namespace opsbox::automation {
namespace {

std::string Str(const Json& j, std::string_view key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const Json& j, std::string_view key, int64_t fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

std::string Rfc3339OrNull(int64_t us) { return us == 0 ? "" : FormatRfc3339(Instant{us}); }

}  // namespace

void Apply(Session& s, std::string_view type, const Json& p, int64_t at_us) {
  if (type == kSessionStarted) {
    s.session_id = Str(p, "session_id");
    s.platform = Str(p, "platform");
    s.channel = Str(p, "channel");
    s.customer_id = Str(p, "customer_id");
    s.conversation_id = Str(p, "conversation_id");
    s.language = Str(p, "language");
    s.status = "open";
    s.started_at_us = at_us;
  } else if (type == kIntentRecognised) {
    s.intent = Str(p, "intent");
    s.confidence_bp = Int(p, "confidence_bp", -1);
    s.boundary = Str(p, "boundary");
    s.policy_version = Int(p, "policy_version", -1);
  } else if (type == kAuthenticationRecorded) {
    s.authentication_status = Str(p, "status");
    s.authentication_method = Str(p, "method");
  } else if (type == kSlotCollected) {
    s.slots[Str(p, "name")] = Str(p, "value");
  } else if (type == kStepAttempted) {
    s.steps.push_back(Step{Str(p, "name"), Str(p, "result")});
  } else if (type == kSentimentRecorded) {
    s.sentiment_bp = Int(p, "sentiment_bp", 0);
  } else if (type == kUtteranceRecorded) {
    s.transcript.push_back(Utterance{Str(p, "speaker"), Str(p, "text"), at_us});
  } else if (type == kSessionEnded) {
    s.outcome = Str(p, "outcome");
    s.reason = Str(p, "reason");
    s.ended_at_us = at_us;
    s.status = s.outcome == "completed" ? "completed" : "failed";
  } else if (type == kHandedOff) {
    s.status = "handed_off";
    s.task_id = Str(p, "task_id");
  } else if (type == kHandoffReviewed) {
    s.review = p.value("useful", false) ? "useful" : "not_useful";
    s.review_missing = p.value("missing", std::vector<std::string>{});
    s.review_note = Str(p, "note");
    s.reviewed_by = Str(p, "reviewed_by");
    s.reviewed_at_us = at_us;
  }
}

std::vector<std::string> MissingForHandoff(const Session& s, const Rule* rule) {
  std::vector<std::string> missing;
  if (s.intent.empty()) missing.emplace_back("intent");
  if (s.authentication_status.empty()) missing.emplace_back("authentication_status");
  if (s.reason.empty()) missing.emplace_back("reason");
  if (rule != nullptr) {
    for (const auto& slot : rule->required_slots) {
      if (!s.slots.contains(slot)) missing.push_back("slots." + slot);
    }
  }
  return missing;
}

Json PacketJson(const Session& s) {
  Json steps = Json::array();
  for (const auto& st : s.steps) steps.push_back(Json{{"name", st.name}, {"result", st.result}});
  Json transcript = Json::array();
  for (const auto& u : s.transcript) {
    transcript.push_back(
        Json{{"speaker", u.speaker}, {"text", u.text}, {"at", FormatRfc3339(Instant{u.at_us})}});
  }
  Json slots = Json::object();
  for (const auto& [k, v] : s.slots) slots[k] = v;
  auto opt = [](const std::string& v) { return v.empty() ? Json() : Json(v); };
  Json review;
  if (!s.review.empty()) {
    review = Json{{"useful", s.review == "useful"},
                  {"missing", s.review_missing},
                  {"note", s.review_note},
                  {"reviewed_by", s.reviewed_by},
                  {"reviewed_at", Rfc3339OrNull(s.reviewed_at_us)}};
  }
  return Json{
      {"session_id", s.session_id},
      {"platform", s.platform},
      {"channel", s.channel},
      {"customer_id", opt(s.customer_id)},
      {"conversation_id", opt(s.conversation_id)},
      {"language", opt(s.language)},
      {"status", s.status},
      {"intent", opt(s.intent)},
      {"confidence", s.confidence_bp < 0 ? Json() : Json(s.confidence_bp / 10000.0)},
      {"boundary", opt(s.boundary)},
      {"policy_version", s.policy_version < 0 ? Json() : Json(s.policy_version)},
      {"authentication", Json{{"status", opt(s.authentication_status)},
                              {"method", opt(s.authentication_method)}}},
      {"slots", std::move(slots)},
      {"steps", std::move(steps)},
      {"sentiment", s.sentiment_bp ? Json(*s.sentiment_bp / 10000.0) : Json()},
      {"transcript", std::move(transcript)},
      {"outcome", opt(s.outcome)},
      {"reason", opt(s.reason)},
      {"task_id", opt(s.task_id)},
      {"review", std::move(review)},
      {"started_at", FormatRfc3339(Instant{s.started_at_us})},
      {"ended_at", s.ended_at_us == 0 ? Json() : Json(FormatRfc3339(Instant{s.ended_at_us}))}};
}

Json SessionToJson(const Session& s) {
  Json steps = Json::array();
  for (const auto& st : s.steps) steps.push_back(Json::array({st.name, st.result}));
  Json transcript = Json::array();
  for (const auto& u : s.transcript) transcript.push_back(Json::array({u.speaker, u.text, u.at_us}));
  return Json{{"session_id", s.session_id},
              {"platform", s.platform},
              {"channel", s.channel},
              {"customer_id", s.customer_id},
              {"conversation_id", s.conversation_id},
              {"language", s.language},
              {"status", s.status},
              {"intent", s.intent},
              {"confidence_bp", s.confidence_bp},
              {"boundary", s.boundary},
              {"policy_version", s.policy_version},
              {"authentication_status", s.authentication_status},
              {"authentication_method", s.authentication_method},
              {"slots", s.slots},
              {"steps", std::move(steps)},
              {"sentiment_bp", s.sentiment_bp ? Json(*s.sentiment_bp) : Json()},
              {"transcript", std::move(transcript)},
              {"outcome", s.outcome},
              {"reason", s.reason},
              {"task_id", s.task_id},
              {"review", s.review},
              {"review_missing", s.review_missing},
              {"review_note", s.review_note},
              {"reviewed_by", s.reviewed_by},
              {"started_at_us", s.started_at_us},
              {"ended_at_us", s.ended_at_us},
              {"reviewed_at_us", s.reviewed_at_us}};
}

Session SessionFromJson(const Json& j) {
  Session s;
  if (!j.is_object()) return s;
  s.session_id = Str(j, "session_id");
  s.platform = Str(j, "platform");
  s.channel = Str(j, "channel");
  s.customer_id = Str(j, "customer_id");
  s.conversation_id = Str(j, "conversation_id");
  s.language = Str(j, "language");
  s.status = Str(j, "status");
  s.intent = Str(j, "intent");
  s.confidence_bp = Int(j, "confidence_bp", -1);
  s.boundary = Str(j, "boundary");
  s.policy_version = Int(j, "policy_version", -1);
  s.authentication_status = Str(j, "authentication_status");
  s.authentication_method = Str(j, "authentication_method");
  s.slots = j.value("slots", std::map<std::string, std::string>{});
  for (const auto& st : j.value("steps", Json::array())) {
    s.steps.push_back(Step{st.at(0).get<std::string>(), st.at(1).get<std::string>()});
  }
  if (j.contains("sentiment_bp") && j["sentiment_bp"].is_number_integer()) {
    s.sentiment_bp = j["sentiment_bp"].get<int64_t>();
  }
  for (const auto& u : j.value("transcript", Json::array())) {
    s.transcript.push_back(
        Utterance{u.at(0).get<std::string>(), u.at(1).get<std::string>(), u.at(2).get<int64_t>()});
  }
  s.outcome = Str(j, "outcome");
  s.reason = Str(j, "reason");
  s.task_id = Str(j, "task_id");
  s.review = Str(j, "review");
  s.review_missing = j.value("review_missing", std::vector<std::string>{});
  s.review_note = Str(j, "review_note");
  s.reviewed_by = Str(j, "reviewed_by");
  s.started_at_us = Int(j, "started_at_us", 0);
  s.ended_at_us = Int(j, "ended_at_us", 0);
  s.reviewed_at_us = Int(j, "reviewed_at_us", 0);
  return s;
}

}  // namespace opsbox::automation
