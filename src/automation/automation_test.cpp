// Goal: the automation boundary's pure parts decide as the policy says: exclusions first (off
// limits on every channel, the issue's categories and `unknown` by default), then a rule for
// the intent and channel, then for the intent on any channel, then the default; the version in
// force at an instant; policy bodies refused naming the field and rule, at and past each limit;
// session events applied to state; a handoff refused naming the first field its intent needs;
// free text masked before it reaches an event; reviews once per handoff.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "automation/automation.hpp"
#include "automation/internal/decide.hpp"

namespace opsbox::automation {
namespace {

const Instant kNow{1795342530000000};  // 2026-11-22T10:15:30Z

Policy Parsed(const Json& body) {
  auto p = ParsePolicy(body);
  EXPECT_TRUE(p.ok()) << p.error().ToString();
  return p.ok() ? *p : Policy{};
}

// Replaces every digit with '#': stands in for the PII module (the real scanner is used by the
// database tests and the integration test).
Hooks DigitMask() {
  Hooks h;
  h.mask = [](std::string_view text) {
    std::string out(text);
    for (char& c : out) {
      if (c >= '0' && c <= '9') c = '#';
    }
    return out;
  };
  return h;
}

TEST(AutomationPolicy, DefaultPolicyPutsTheIssuesCategoriesAndUnknownOffLimitsOnEveryChannel) {
  const Policy p = DefaultPolicy();
  for (auto intent : {"complaint", "dispute", "fraud", "hardship", "vulnerable_customer",
                      "bereavement", "unknown", "lost_or_stolen_card", "transaction_charged_twice",
                      "compromised_card"}) {
    for (auto channel : {"chat", "voice", "whatsapp"}) {
      const auto d = Decide(p, intent, channel);
      EXPECT_EQ(d.boundary, Boundary::kOffLimits) << intent << " " << channel;
      EXPECT_EQ(d.basis, "exclusion");
      EXPECT_EQ(d.policy_version, 0);
    }
  }
  EXPECT_EQ(Decide(p, "card_arrival", "chat").boundary, Boundary::kHumanReview);
  EXPECT_EQ(Decide(p, "", "chat").boundary, Boundary::kOffLimits);  // no intent reads as unknown
}

TEST(AutomationPolicy, ChannelRuleBeatsAnyChannelRuleWhichBeatsTheDefault) {
  Policy p = Parsed(Json::parse(R"({"default_boundary": "human_review", "rules": [
      {"intent": "card_arrival", "boundary": "self_serve"},
      {"intent": "card_arrival", "channel": "voice", "boundary": "human_review"}]})"));
  EXPECT_EQ(Decide(p, "card_arrival", "chat").boundary, Boundary::kSelfServe);
  EXPECT_EQ(Decide(p, "card_arrival", "chat").basis, "rule_any_channel");
  EXPECT_EQ(Decide(p, "card_arrival", "voice").boundary, Boundary::kHumanReview);
  EXPECT_EQ(Decide(p, "card_arrival", "voice").basis, "rule");
  EXPECT_EQ(Decide(p, "exchange_rate", "voice").basis, "default");
}

TEST(AutomationPolicy, AnExclusionWinsOverARuleThatWouldLetAutomationFinish) {
  Policy p = Parsed(Json::parse(R"({"rules": [{"intent": "fraud", "boundary": "self_serve",
      "required_slots": ["card_last4"]}]})"));
  const auto d = Decide(p, "fraud", "chat");
  EXPECT_EQ(d.boundary, Boundary::kOffLimits);
  ASSERT_NE(d.rule, nullptr);  // its required slots still apply to the handoff
  EXPECT_EQ(d.rule->required_slots, std::vector<std::string>{"card_last4"});
}

TEST(AutomationPolicy, TheVersionInForceIsTheLatestEffectiveNotAfterTheInstant) {
  std::vector<Policy> versions(3, DefaultPolicy());
  versions[0].version = 1;
  versions[0].effective_at = Instant{100};
  versions[1].version = 2;
  versions[1].effective_at = Instant{300};
  versions[2].version = 3;
  versions[2].effective_at = Instant{200};
  EXPECT_EQ(InForce(versions, Instant{50})->version, 0);
  EXPECT_EQ(InForce(versions, Instant{100})->version, 1);
  EXPECT_EQ(InForce(versions, Instant{250})->version, 3);
  EXPECT_EQ(InForce(versions, Instant{300})->version, 2);
  versions[2].effective_at = Instant{300};  // a tie goes to the higher version
  EXPECT_EQ(InForce(versions, Instant{300})->version, 3);
}

TEST(AutomationPolicy, BadPolicyBodiesAreRefusedNamingTheFieldAndRule) {
  struct Case {
    const char* body;
    const char* field;
    const char* rule;
  } cases[] = {
      {R"({})", "rules", "required"},
      {R"({"rules": {}})", "rules", "type"},
      {R"({"rules": [{"boundary": "self_serve"}]})", "rules[0].intent", "required"},
      {R"({"rules": [{"intent": "a", "boundary": "maybe"}]})", "rules[0].boundary", "enum"},
      {R"({"rules": [{"intent": "a", "boundary": "self_serve", "x": 1}]})", "rules[0].x",
       "unknown_field"},
      {R"({"rules": [{"intent": "a", "boundary": "self_serve"},
                     {"intent": "a", "channel": "*", "boundary": "off_limits"}]})",
       "rules[1]", "duplicate"},
      {R"({"rules": [], "default_boundary": "sometimes"})", "default_boundary", "enum"},
      {R"({"rules": [], "exclusion_intents": [""]})", "exclusion_intents[0]", "required"},
  };
  for (const auto& c : cases) {
    auto p = ParsePolicy(Json::parse(c.body));
    ASSERT_FALSE(p.ok()) << c.body;
    EXPECT_EQ(p.error().field, c.field) << c.body;
    EXPECT_EQ(p.error().rule, c.rule) << c.body;
  }
}

TEST(AutomationPolicy, RulesAreAcceptedAtTheLimitAndRefusedOnePast) {
  Json rules = Json::array();
  for (size_t i = 0; i < kRulesMax; ++i) {
    rules.push_back(Json{{"intent", "intent_" + std::to_string(i)}, {"boundary", "self_serve"}});
  }
  EXPECT_TRUE(ParsePolicy(Json{{"rules", rules}}).ok());
  rules.push_back(Json{{"intent", "one_more"}, {"boundary", "self_serve"}});
  auto p = ParsePolicy(Json{{"rules", rules}});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().rule, "max_items");
  const std::string at_limit(kIntentBytesMax, 'a');
  EXPECT_TRUE(ParsePolicy(Json{{"rules", Json::array({Json{{"intent", at_limit},
                                                          {"boundary", "self_serve"}}})}}).ok());
  auto long_intent = ParsePolicy(Json{{"rules", Json::array({Json{{"intent", at_limit + "a"},
                                                                  {"boundary", "self_serve"}}})}});
  ASSERT_FALSE(long_intent.ok());
  EXPECT_EQ(long_intent.error().field, "rules[0].intent");
  EXPECT_EQ(long_intent.error().rule, "max_bytes");
}

TEST(AutomationPolicy, APolicyChangeTakesTheNextVersionAndNeverTakesEffectInThePast) {
  std::vector<Policy> existing(1, DefaultPolicy());
  existing[0].version = 4;
  auto d = detail::DecideSetPolicy(existing, Json{{"rules", Json::array()}, {"reason", "pilot"}},
                                   kNow);
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_EQ(d->events[0].type, kPolicyChanged);
  EXPECT_EQ(d->events[0].payload["version"], 5);
  EXPECT_EQ(d->events[0].payload["effective_at_us"], kNow.us);
  EXPECT_EQ(d->events[0].payload["approval"], "pending_maker_checker");
  auto past = detail::DecideSetPolicy(existing, Json{{"rules", Json::array()}, {"reason", "x"},
                                                     {"effective_at", "2026-11-22T10:15:29Z"}},
                                      kNow);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().field, "effective_at");
  EXPECT_EQ(past.error().rule, "not_in_past");
  auto no_reason = detail::DecideSetPolicy(existing, Json{{"rules", Json::array()}}, kNow);
  ASSERT_FALSE(no_reason.ok());
  EXPECT_EQ(no_reason.error().field, "reason");
}

// ---- sessions ----

Session Started(std::string channel = "chat") {
  Session s;
  Apply(s, kSessionStarted,
        Json{{"session_id", "auto_01JBX"}, {"platform", "bot"}, {"channel", channel}}, kNow.us);
  return s;
}

Result<ledger::Decision> Record(const Session& s, const std::vector<Policy>& policies, Json event) {
  return detail::DecideRecordEvent(s, policies, Json{{"session_id", s.session_id},
                                                     {"event", std::move(event)}},
                                   kNow, DigitMask());
}

void ApplyAll(Session& s, const ledger::Decision& d) {
  for (const auto& e : d.events) Apply(s, e.type, e.payload, kNow.us);
}

TEST(AutomationSession, AnIntentIsRecordedWithTheBoundaryAndThePolicyVersionThatDecidedIt) {
  Session s = Started();
  Policy v1 = Parsed(Json::parse(R"({"rules": [{"intent": "card_arrival",
                                                "boundary": "self_serve"}]})"));
  v1.version = 1;
  v1.effective_at = Instant{kNow.us - 1};
  auto d = Record(s, {v1}, Json{{"type", "intent"}, {"intent", "card_arrival"},
                                {"confidence", 0.91}});
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_EQ(d->events[0].payload["boundary"], "self_serve");
  EXPECT_EQ(d->events[0].payload["policy_version"], 1);
  EXPECT_EQ(d->events[0].payload["confidence_bp"], 9100);
  EXPECT_EQ(d->result["boundary"], "self_serve");
  ApplyAll(s, *d);
  EXPECT_EQ(s.intent, "card_arrival");
  EXPECT_EQ(s.policy_version, 1);
}

TEST(AutomationSession, TranscriptSlotsAndReasonsAreMaskedBeforeTheyReachAnEvent) {
  Session s = Started();
  auto u = Record(s, {}, Json{{"type", "utterance"}, {"speaker", "customer"},
                              {"text", "my card 4111 1111 1111 1111 was taken"}});
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->events[0].payload["text"], "my card #### #### #### #### was taken");
  auto slot = Record(s, {}, Json{{"type", "slot"}, {"name", "account"}, {"value", "12345678"}});
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(slot->events[0].payload["value"], "########");
  Hooks none;
  auto refused = detail::DecideRecordEvent(
      s, {}, Json{{"session_id", s.session_id},
                  {"event", Json{{"type", "utterance"}, {"speaker", "customer"}, {"text", "hi"}}}},
      kNow, none);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().rule, "no_masking");
}

TEST(AutomationSession, AHandoffMissingAFieldItsIntentRequiresIsRefusedNamingTheField) {
  Session s = Started();
  Policy v1 = Parsed(Json::parse(R"({"rules": [{"intent": "card_arrival", "boundary":
      "human_review", "required_slots": ["card_last4"]}]})"));
  v1.version = 1;
  const std::vector<Policy> policies{v1};
  const Json partial{{"type", "outcome"}, {"outcome", "partial"}, {"reason", "card not found"}};
  auto first = Record(s, policies, partial);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().field, "intent");
  EXPECT_EQ(first.error().rule, "required_for_handoff");
  ApplyAll(s, *Record(s, policies, Json{{"type", "intent"}, {"intent", "card_arrival"},
                                        {"confidence", 0.8}}));
  EXPECT_EQ(Record(s, policies, partial).error().field, "authentication_status");
  ApplyAll(s, *Record(s, policies, Json{{"type", "authentication"}, {"status", "verified"}}));
  EXPECT_EQ(Record(s, policies, partial).error().field, "slots.card_last4");
  auto no_reason = Record(s, policies, Json{{"type", "outcome"}, {"outcome", "failed"}});
  EXPECT_EQ(no_reason.error().field, "reason");
  ApplyAll(s, *Record(s, policies, Json{{"type", "slot"}, {"name", "card_last4"},
                                        {"value", "last four 4242"}}));
  auto handoff = Record(s, policies, partial);
  ASSERT_TRUE(handoff.ok()) << handoff.error().ToString();
  ASSERT_EQ(handoff->events.size(), 2u);
  EXPECT_EQ(handoff->events[0].type, kSessionEnded);
  EXPECT_EQ(handoff->events[1].type, kHandedOff);
  EXPECT_EQ(handoff->events[1].payload["task_id"], "task_01JBX");
  EXPECT_EQ(handoff->events[1].payload["boundary"], "human_review");
  ApplyAll(s, *handoff);
  EXPECT_EQ(s.status, "handed_off");
  EXPECT_EQ(s.task_id, "task_01JBX");
  auto after = Record(s, policies, Json{{"type", "sentiment"}, {"score", 0.1}});
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().rule, "session_ended");
}

TEST(AutomationSession, ACompletedSessionEndsWithoutAHandoff) {
  Session s = Started();
  auto d = Record(s, {}, Json{{"type", "outcome"}, {"outcome", "completed"}});
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->events.size(), 1u);
  ApplyAll(s, *d);
  EXPECT_EQ(s.status, "completed");
}

TEST(AutomationSession, TranscriptLinesAreAcceptedAtTheLimitAndRefusedOnePast) {
  Session s = Started();
  const std::string at_limit(kUtteranceBytesMax, 'a');
  EXPECT_TRUE(Record(s, {}, Json{{"type", "utterance"}, {"speaker", "customer"},
                                 {"text", at_limit}}).ok());
  auto long_text = Record(s, {}, Json{{"type", "utterance"}, {"speaker", "customer"},
                                      {"text", at_limit + "a"}});
  ASSERT_FALSE(long_text.ok());
  EXPECT_EQ(long_text.error().field, "text");
  for (size_t i = 0; i + 1 < kUtterancesMax; ++i) s.transcript.push_back({"customer", "x", 0});
  EXPECT_TRUE(Record(s, {}, Json{{"type", "utterance"}, {"speaker", "customer"},
                                 {"text", "x"}}).ok());
  s.transcript.push_back({"customer", "x", 0});
  auto over = Record(s, {}, Json{{"type", "utterance"}, {"speaker", "customer"}, {"text", "x"}});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().rule, "max_items");
}

TEST(AutomationSession, BadSessionEventsAreRefusedNamingTheFieldAndRule) {
  Session s = Started();
  EXPECT_EQ(Record(s, {}, Json{{"type", "mood"}}).error().field, "type");
  EXPECT_EQ(Record(s, {}, Json{{"type", "intent"}, {"intent", "a"}, {"confidence", 1.5}})
                .error().rule, "range");
  EXPECT_EQ(Record(s, {}, Json{{"type", "authentication"}, {"status", "maybe"}}).error().rule,
            "enum");
  EXPECT_EQ(Record(s, {}, Json{{"type", "slot"}, {"name", "Card No"}, {"value", "x"}})
                .error().rule, "format");
  EXPECT_EQ(Record(s, {}, Json{{"type", "sentiment"}, {"score", -1.01}}).error().rule, "range");
  auto unknown = detail::DecideRecordEvent(std::nullopt, {}, Json{{"session_id", "auto_x"},
                                                                  {"event", Json::object()}},
                                           kNow, DigitMask());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST(AutomationSession, AnAgentReviewsAHandoffOnceAndANotUsefulReviewNamesWhatWasMissing) {
  Session s = Started();
  s.status = "handed_off";
  s.intent = "card_arrival";
  auto bare = detail::DecideReview(s, Json{{"session_id", s.session_id}, {"useful", false}},
                                   "usr_a", DigitMask());
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.error().field, "missing");
  auto d = detail::DecideReview(s, Json{{"session_id", s.session_id}, {"useful", false},
                                        {"missing", {"slots.card_last4"}}},
                                "usr_a", DigitMask());
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  ApplyAll(s, *d);
  EXPECT_EQ(s.review, "not_useful");
  EXPECT_EQ(s.reviewed_by, "usr_a");
  auto again = detail::DecideReview(s, Json{{"session_id", s.session_id}, {"useful", true}},
                                    "usr_a", DigitMask());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().rule, "already_reviewed");
  Session open = Started();
  EXPECT_EQ(detail::DecideReview(open, Json{{"session_id", "x"}, {"useful", true}}, "usr_a",
                                 DigitMask()).error().rule, "not_handed_off");
}

TEST(AutomationSession, StoredSessionStateRoundTrips) {
  Session s = Started("voice");
  s.intent = "card_arrival";
  s.confidence_bp = 9000;
  s.slots["card_last4"] = "####";
  s.steps.push_back({"lookup", "failed"});
  s.transcript.push_back({"customer", "hello", 42});
  s.sentiment_bp = -2500;
  const Session back = SessionFromJson(SessionToJson(s));
  EXPECT_EQ(SessionToJson(back), SessionToJson(s));
  EXPECT_EQ(PacketJson(back)["transcript"][0]["text"], "hello");
  EXPECT_EQ(PacketJson(back)["sentiment"], -0.25);
}

}  // namespace
}  // namespace opsbox::automation
