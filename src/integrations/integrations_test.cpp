// Goal: the pure parts of integrations follow their contracts: every field of external events
// and subscriptions is validated with the field and rule named (limits tested at the limit and
// one past it), decisions are idempotent and show secrets once, the retry schedule grows
// exponentially with jitter inside [0.5, 1.0], and webhook signatures verify only untampered,
// fresh bodies.
#include "integrations/integrations.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/limits.hpp"

namespace opsbox::integrations {
namespace {

const Instant kNow{1795342530000000};  // 2026-11-22T10:15:30Z

Json ValidEvent() {
  return Json{{"source", "genesys.cloud"},
              {"type", "call.ended"},
              {"external_id", "conv-123/leg 1"},
              {"occurred_at", "2026-11-22T10:15:00Z"},
              {"payload", Json{{"duration_s", 42}}}};
}

void ExpectInvalid(const Json& body, const std::string& field, const std::string& rule) {
  auto r = ValidateExternalEvent(body, kNow);
  ASSERT_FALSE(r.ok()) << body.dump();
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << body.dump();
  EXPECT_EQ(r.error().field, field) << body.dump() << " " << r.error().ToString();
  EXPECT_EQ(r.error().rule, rule) << body.dump() << " " << r.error().ToString();
}

Json With(Json body, const std::string& key, Json value) {
  body[key] = std::move(value);
  return body;
}

Json Without(Json body, const std::string& key) {
  body.erase(key);
  return body;
}

TEST(ExternalEventValidation, AcceptsAWellFormedEvent) {
  auto r = ValidateExternalEvent(ValidEvent(), kNow);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->source, "genesys.cloud");
  EXPECT_EQ(r->type, "call.ended");
  EXPECT_EQ(r->external_id, "conv-123/leg 1");
  EXPECT_EQ(r->occurred_at.us, kNow.us - 30000000);
  EXPECT_EQ(r->payload, (Json{{"duration_s", 42}}));
}

TEST(ExternalEventValidation, NamesFieldAndRuleForEverySourceProblem) {
  ExpectInvalid(Without(ValidEvent(), "source"), "source", "required");
  ExpectInvalid(With(ValidEvent(), "source", 7), "source", "type");
  ExpectInvalid(With(ValidEvent(), "source", ""), "source", "required");
  ExpectInvalid(With(ValidEvent(), "source", "Genesys"), "source", "format");
  ExpectInvalid(With(ValidEvent(), "source", "_crm"), "source", "format");
  ExpectInvalid(With(ValidEvent(), "source", "crm/x"), "source", "format");
  ExpectInvalid(With(ValidEvent(), "source", std::string(65, 'a')), "source", "max_bytes");
  EXPECT_TRUE(ValidateExternalEvent(With(ValidEvent(), "source", std::string(64, 'a')), kNow).ok());
  EXPECT_TRUE(ValidateExternalEvent(With(ValidEvent(), "source", "9_a.b-c"), kNow).ok());
}

TEST(ExternalEventValidation, NamesFieldAndRuleForEveryTypeProblem) {
  ExpectInvalid(Without(ValidEvent(), "type"), "type", "required");
  ExpectInvalid(With(ValidEvent(), "type", Json::array()), "type", "type");
  ExpectInvalid(With(ValidEvent(), "type", "call ended"), "type", "format");
  ExpectInvalid(With(ValidEvent(), "type", "call\tended"), "type", "format");
  ExpectInvalid(With(ValidEvent(), "type", "caf\xc3\xa9"), "type", "format");
  ExpectInvalid(With(ValidEvent(), "type", std::string(129, 't')), "type", "max_bytes");
  EXPECT_TRUE(ValidateExternalEvent(With(ValidEvent(), "type", std::string(128, 't')), kNow).ok());
}

TEST(ExternalEventValidation, NamesFieldAndRuleForEveryExternalIdProblem) {
  ExpectInvalid(Without(ValidEvent(), "external_id"), "external_id", "required");
  ExpectInvalid(With(ValidEvent(), "external_id", ""), "external_id", "required");
  ExpectInvalid(With(ValidEvent(), "external_id", "a\nb"), "external_id", "format");
  ExpectInvalid(With(ValidEvent(), "external_id", "a\x7f"), "external_id", "format");
  ExpectInvalid(With(ValidEvent(), "external_id", std::string(201, 'x')), "external_id",
                "max_bytes");
  EXPECT_TRUE(
      ValidateExternalEvent(With(ValidEvent(), "external_id", std::string(200, 'x')), kNow).ok());
}

TEST(ExternalEventValidation, RejectsOccurredAtMalformedOrTooFarInTheFuture) {
  ExpectInvalid(Without(ValidEvent(), "occurred_at"), "occurred_at", "required");
  ExpectInvalid(With(ValidEvent(), "occurred_at", "yesterday"), "occurred_at", "rfc3339");
  const Instant limit = kNow + kExternalEventFutureSkew;
  EXPECT_TRUE(
      ValidateExternalEvent(With(ValidEvent(), "occurred_at", FormatRfc3339(limit)), kNow).ok());
  ExpectInvalid(With(ValidEvent(), "occurred_at", FormatRfc3339(limit + Duration::Micros(1))),
                "occurred_at", "future");
}

TEST(ExternalEventValidation, RejectsPayloadsThatAreNotObjects) {
  ExpectInvalid(Without(ValidEvent(), "payload"), "payload", "required");
  ExpectInvalid(With(ValidEvent(), "payload", Json::array({1, 2})), "payload", "type");
  ExpectInvalid(With(ValidEvent(), "payload", "text"), "payload", "type");
}

TEST(ExternalEventValidation, AcceptsPayloadExactlyAtTheLimitAndRejectsOneByteMore) {
  // {"k":"<n bytes>"} is n + 8 bytes in canonical form.
  const size_t n = limits::kExternalEventPayloadBytesMax - 8;
  Json at_limit{{"k", std::string(n, 'x')}};
  ASSERT_EQ(CanonicalJson(at_limit).size(), limits::kExternalEventPayloadBytesMax);
  EXPECT_TRUE(ValidateExternalEvent(With(ValidEvent(), "payload", at_limit), kNow).ok());
  Json over{{"k", std::string(n + 1, 'x')}};
  ExpectInvalid(With(ValidEvent(), "payload", over), "payload", "max_bytes");
}

TEST(ExternalEventValidation, RejectsUnknownTopLevelFieldsAndNonObjects) {
  ExpectInvalid(With(ValidEvent(), "tenant", "other"), "tenant", "unknown_field");
  ExpectInvalid(Json::array(), "body", "type");
}

TEST(ExternalEventValidation, RejectsInvalidUtf8BeforeItReachesTheLedger) {
  ExpectInvalid(With(ValidEvent(), "payload", Json{{"k", "\xff\xfe"}}), "body", "utf8");
}

TEST(ExternalEventCommandIds, AreStableAndDistinctPerSourceAndExternalId) {
  const auto a = ExternalEventCommandId("crm", "42");
  EXPECT_EQ(a, ExternalEventCommandId("crm", "42"));
  EXPECT_NE(a, ExternalEventCommandId("crm", "43"));
  EXPECT_NE(a, ExternalEventCommandId("crm2", "42"));
  EXPECT_NE(ExternalEventCommandId("a", "b\nc"), ExternalEventCommandId("a\nb", "c"));
  EXPECT_TRUE(std::regex_match(a, std::regex("xevcmd_[A-Za-z0-9_-]{22}")));  // 128 bits
  EXPECT_LE(a.size(), limits::kIdempotencyKeyBytesMax);
}

TEST(RecordExternalEventDecision, AppendsOneEventWithANewId) {
  SeededRandom rnd(1);
  auto in = ValidateExternalEvent(ValidEvent(), kNow);
  ASSERT_TRUE(in.ok());
  auto d = DecideRecordExternalEvent(*in, std::nullopt, kNow, rnd);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->events.size(), 1u);
  const auto& e = d->events[0];
  EXPECT_EQ(e.type, kExternalEventRecorded);
  EXPECT_TRUE(IsId(e.payload.at("external_event_id").get<std::string>(), "xev"));
  EXPECT_EQ(e.payload.at("occurred_at_us"), in->occurred_at.us);
  EXPECT_EQ(e.payload.at("payload"), in->payload);
  EXPECT_EQ(d->result.at("external_event_id"), e.payload.at("external_event_id"));
  EXPECT_EQ(d->result.at("occurred_at"), "2026-11-22T10:15:00.000000Z");
}

TEST(RecordExternalEventDecision, ReturnsTheExistingRecordWithoutEventsForADuplicate) {
  SeededRandom rnd(1);
  auto in = ValidateExternalEvent(ValidEvent(), kNow);
  ASSERT_TRUE(in.ok());
  Json existing{{"external_event_id", "xev_first"}, {"seq", 7}};
  auto d = DecideRecordExternalEvent(*in, existing, kNow, rnd);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->events.empty());
  EXPECT_EQ(d->result, existing);
}

Json ValidSubscription() {
  return Json{{"url", "https://crm.example.com:8443/hooks/opsbox?x=1"},
              {"event_types", Json::array({"case_opened", "external_event_recorded"})},
              {"description", "CRM sync"}};
}

// The test configuration's policy: plain http and loopback receivers allowed.
OutboundPolicy TestPolicy() {
  OutboundPolicyOptions o;
  o.allow_http = true;
  o.allow_loopback = true;
  return OutboundPolicy(o);
}

void ExpectSubscriptionInvalid(const Json& body, const std::string& field,
                               const std::string& rule, const OutboundPolicy& policy = TestPolicy()) {
  auto r = ValidateCreateSubscription(body, policy);
  ASSERT_FALSE(r.ok()) << body.dump();
  EXPECT_EQ(r.error().field, field) << body.dump() << " " << r.error().ToString();
  EXPECT_EQ(r.error().rule, rule) << body.dump() << " " << r.error().ToString();
}

TEST(SubscriptionValidation, AcceptsAWellFormedSubscription) {
  auto r = ValidateCreateSubscription(ValidSubscription());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->event_types.size(), 2u);
  EXPECT_EQ(r->description, "CRM sync");
  EXPECT_TRUE(ValidateCreateSubscription(Without(ValidSubscription(), "description")).ok());
}

TEST(SubscriptionValidation, AcceptsOnlyHttpUrlsWithAHost) {
  for (const char* ok :
       {"http://127.0.0.1:8080/x", "https://a", "http://[::1]:9/p", "https://h.example/p#frag"}) {
    EXPECT_TRUE(ValidateWebhookUrl(ok, TestPolicy()).ok()) << ok;
  }
  ExpectSubscriptionInvalid(Without(ValidSubscription(), "url"), "url", "required");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "url", "ftp://h/x"), "url", "format");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "url", "HTTP://h/x"), "url", "format");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "url", "http:///x"), "url", "host_required");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "url", "https://:80/x"), "url",
                            "host_required");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "url", "http://h:0/"), "url", "format");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "url", "http://h:99999/"), "url", "format");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "url", "http://h:/"), "url", "format");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "url", "http://u:p@h/"), "url", "format");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "url", "http://h/a b"), "url", "format");
}

TEST(SubscriptionValidation, DefaultPolicyRefusesLoopbackPrivateAndMetadataTargetsAndPlainHttp) {
  const OutboundPolicy defaults;
  for (const char* url : {"https://127.0.0.1:9/x", "https://[::1]/", "https://10.0.0.5/",
                          "https://169.254.169.254/latest/meta-data/", "https://localhost/",
                          "https://[::ffff:192.168.1.1]/", "https://100.64.0.1/"}) {
    ExpectSubscriptionInvalid(With(ValidSubscription(), "url", url), "url",
                              "forbidden_destination", defaults);
  }
  ExpectSubscriptionInvalid(With(ValidSubscription(), "url", "http://crm.example.com/"), "url",
                            "https_required", defaults);
  EXPECT_TRUE(ValidateCreateSubscription(ValidSubscription(), defaults).ok());
}

TEST(SubscriptionValidation, AcceptsUrlExactlyAtTheLimitAndRejectsOneByteMore) {
  const std::string prefix = "https://h.example/";
  const std::string at_limit =
      prefix + std::string(limits::kWebhookUrlBytesMax - prefix.size(), 'p');
  EXPECT_TRUE(ValidateCreateSubscription(With(ValidSubscription(), "url", at_limit)).ok());
  ExpectSubscriptionInvalid(With(ValidSubscription(), "url", at_limit + "p"), "url", "max_bytes");
}

TEST(SubscriptionValidation, NamesTheEventTypeEntryAtFault) {
  ExpectSubscriptionInvalid(Without(ValidSubscription(), "event_types"), "event_types", "required");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "event_types", "*"), "event_types", "type");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "event_types", Json::array()), "event_types",
                            "min_items");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "event_types", Json::array({"a", "B"})),
                            "event_types[1]", "format");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "event_types", Json::array({"a", 1})),
                            "event_types[1]", "type");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "event_types", Json::array({"a", "a"})),
                            "event_types[1]", "duplicate");
  ExpectSubscriptionInvalid(
      With(ValidSubscription(), "event_types", Json::array({std::string(65, 'a')})),
      "event_types[0]", "format");
  EXPECT_TRUE(ValidateCreateSubscription(
                  With(ValidSubscription(), "event_types", Json::array({std::string(64, 'a')})))
                  .ok());
  EXPECT_TRUE(
      ValidateCreateSubscription(With(ValidSubscription(), "event_types", Json::array({"*"})))
          .ok());
}

TEST(SubscriptionValidation, AcceptsEventTypesAtTheCountLimitAndRejectsOneMore) {
  Json types = Json::array();
  for (size_t i = 0; i < limits::kWebhookEventTypesMax; ++i) {
    types.push_back("t_" + std::string(i / 26 + 1, static_cast<char>('a' + i % 26)));
  }
  EXPECT_TRUE(ValidateCreateSubscription(With(ValidSubscription(), "event_types", types)).ok());
  types.push_back("one_more");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "event_types", types), "event_types",
                            "max_items");
}

TEST(SubscriptionValidation, RejectsLongDescriptionsAndUnknownFields) {
  ExpectSubscriptionInvalid(
      With(ValidSubscription(), "description", std::string(kWebhookDescriptionBytesMax + 1, 'd')),
      "description", "max_bytes");
  ExpectSubscriptionInvalid(With(ValidSubscription(), "secret", "mine"), "secret", "unknown_field");
}

TEST(EventTypeMatching, MatchesListedTypesAndTheWildcard) {
  EXPECT_TRUE(EventTypeMatches({"a", "b"}, "b"));
  EXPECT_FALSE(EventTypeMatches({"a", "b"}, "c"));
  EXPECT_TRUE(EventTypeMatches({"*"}, "anything"));
}

TEST(CreateSubscriptionDecision, ShowsTheSecretOnceAndNeverInTheRecordedResult) {
  SeededRandom rnd(2);
  auto in = ValidateCreateSubscription(ValidSubscription());
  ASSERT_TRUE(in.ok());
  auto d = DecideCreateSubscription(*in, 0, "whsec_abc", kNow, rnd);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_EQ(d->events[0].type, kWebhookSubscriptionCreated);
  EXPECT_EQ(d->events[0].payload.at("secret"), "whsec_abc");
  EXPECT_TRUE(IsId(d->events[0].payload.at("subscription_id").get<std::string>(), "whs"));
  EXPECT_EQ(d->once, (Json{{"secret", "whsec_abc"}}));
  EXPECT_EQ(d->result.dump().find("whsec_"), std::string::npos);
  EXPECT_EQ(d->result.at("status"), "active");
}

TEST(CreateSubscriptionDecision, RefusesPastTheActiveSubscriptionLimit) {
  SeededRandom rnd(3);
  auto in = ValidateCreateSubscription(ValidSubscription());
  ASSERT_TRUE(in.ok());
  EXPECT_TRUE(
      DecideCreateSubscription(*in, kWebhookSubscriptionsActiveMax - 1, "s", kNow, rnd).ok());
  auto r = DecideCreateSubscription(*in, kWebhookSubscriptionsActiveMax, "s", kNow, rnd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().rule, "subscriptions_max");
}

TEST(DeleteSubscriptionDecision, IsNotFoundUnlessTheSubscriptionIsActive) {
  EXPECT_EQ(DecideDeleteSubscription("whs_x", std::nullopt).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(DecideDeleteSubscription("whs_x", "deleted").error().code, ErrorCode::kNotFound);
  auto d = DecideDeleteSubscription("whs_x", "active");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_EQ(d->events[0].type, kWebhookSubscriptionDeleted);
}

TEST(ReplayDeliveryDecision, ReplaysOnlyDeadLetteredDeliveriesOfActiveSubscriptions) {
  EXPECT_EQ(DecideReplayDelivery("whs_x", 3, std::nullopt, "").error().code, ErrorCode::kNotFound);
  auto pending = DecideReplayDelivery("whs_x", 3, "pending", "active");
  ASSERT_FALSE(pending.ok());
  EXPECT_EQ(pending.error().code, ErrorCode::kConflict);
  EXPECT_EQ(pending.error().rule, "not_dead_lettered");
  EXPECT_EQ(DecideReplayDelivery("whs_x", 3, "delivered", "active").error().rule,
            "not_dead_lettered");
  EXPECT_EQ(DecideReplayDelivery("whs_x", 3, "dead", "deleted").error().rule,
            "subscription_deleted");
  auto d = DecideReplayDelivery("whs_x", 3, "dead", "active");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_EQ(d->events[0].payload, (Json{{"subscription_id", "whs_x"}, {"event_seq", 3}}));
}

TEST(RetryDelay, DoublesFromTheInitialDelayUpToTheCapWithJitterInHalfToWhole) {
  const uint64_t seed = 20261122;
  SCOPED_TRACE("seed " + std::to_string(seed));
  SeededRandom rnd(seed);
  OutboxOptions o;
  o.retry_delay_ms_initial = 1000;
  o.retry_delay_ms_max = 300000;
  const int64_t expected_base_ms[] = {1000,  2000,   4000,   8000,   16000, 32000,
                                      64000, 128000, 256000, 300000, 300000};
  for (int attempts = 1; attempts <= 11; ++attempts) {
    const int64_t base_us = expected_base_ms[attempts - 1] * 1000;
    for (int i = 0; i < 200; ++i) {
      const Duration d = RetryDelay(attempts, o, rnd);
      ASSERT_GE(d.us * 2, base_us) << "attempts " << attempts;
      ASSERT_LE(d.us, base_us) << "attempts " << attempts;
    }
  }
}

TEST(RetryDelay, SpreadsAcrossTheWholeJitterRange) {
  const uint64_t seed = 7;
  SCOPED_TRACE("seed " + std::to_string(seed));
  SeededRandom rnd(seed);
  OutboxOptions o;
  int64_t lo = INT64_MAX, hi = 0;
  for (int i = 0; i < 2000; ++i) {
    const int64_t us = RetryDelay(1, o, rnd).us;
    lo = std::min(lo, us);
    hi = std::max(hi, us);
  }
  EXPECT_LT(lo, 550000);
  EXPECT_GT(hi, 950000);
}

TEST(RetryDelay, DoesNotOverflowForManyAttempts) {
  SeededRandom rnd(9);
  OutboxOptions o;
  const Duration d = RetryDelay(1000, o, rnd);
  EXPECT_LE(d.us, int64_t{o.retry_delay_ms_max} * 1000);
  EXPECT_GE(d.us * 2, int64_t{o.retry_delay_ms_max} * 1000);
}

class Signatures : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { InitCrypto(); }
};

TEST_F(Signatures, HaveTheDocumentedFormat) {
  const std::string body = R"({"seq":1})";
  const std::string h = SignWebhook("whsec_k", kNow, body);
  EXPECT_TRUE(std::regex_match(h, std::regex("t=1795342530,v1=[0-9a-f]{64}")));
  EXPECT_EQ(h, "t=1795342530,v1=" + HexEncode(HmacSha256("whsec_k", "1795342530." + body)));
}

TEST_F(Signatures, VerifyForTheUntamperedBodyWithinTolerance) {
  const std::string body = R"({"seq":1})";
  const std::string h = SignWebhook("whsec_k", kNow, body);
  EXPECT_TRUE(VerifyWebhookSignature("whsec_k", h, body, kNow));
  EXPECT_TRUE(VerifyWebhookSignature("whsec_k", h, body, kNow + Duration::Seconds(300), 300));
  EXPECT_TRUE(VerifyWebhookSignature("whsec_k", h, body, kNow - Duration::Seconds(300), 300));
}

TEST_F(Signatures, FailForATamperedBodyAWrongSecretOrAnOldTimestamp) {
  const std::string body = R"({"seq":1})";
  const std::string h = SignWebhook("whsec_k", kNow, body);
  EXPECT_FALSE(VerifyWebhookSignature("whsec_k", h, R"({"seq":2})", kNow));
  EXPECT_FALSE(VerifyWebhookSignature("whsec_other", h, body, kNow));
  EXPECT_FALSE(VerifyWebhookSignature("whsec_k", h, body, kNow + Duration::Seconds(301), 300));
  EXPECT_FALSE(VerifyWebhookSignature("whsec_k", h, body, kNow - Duration::Seconds(301), 300));
}

TEST_F(Signatures, FailForMalformedHeaders) {
  const std::string body = "{}";
  const std::string h = SignWebhook("s", kNow, body);
  const std::string mac = h.substr(h.find("v1=") + 3);
  EXPECT_FALSE(VerifyWebhookSignature("s", "", body, kNow));
  EXPECT_FALSE(VerifyWebhookSignature("s", "v1=" + mac, body, kNow));
  EXPECT_FALSE(VerifyWebhookSignature("s", "t=1795342530", body, kNow));
  EXPECT_FALSE(VerifyWebhookSignature("s", "t=-1795342530,v1=" + mac, body, kNow));
  EXPECT_FALSE(VerifyWebhookSignature("s", "t=1795342530,t=1795342530,v1=" + mac, body, kNow));
  EXPECT_FALSE(VerifyWebhookSignature("s", h + "," + std::string(2000, 'x'), body, kNow));
}

TEST_F(Signatures, AcceptAnyMatchingV1AmongSeveralForSecretRotation) {
  const std::string body = "{}";
  const std::string h = SignWebhook("s", kNow, body);
  const std::string mac = h.substr(h.find("v1=") + 3);
  EXPECT_TRUE(VerifyWebhookSignature("s", "t=1795342530,v1=" + std::string(64, '0') + ", v1=" + mac,
                                     body, kNow));
}

}  // namespace
}  // namespace opsbox::integrations
