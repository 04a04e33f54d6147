// Goal: through a real ledger writer, on SQLite and PostgreSQL, intake resolves one customer
// across channels (the same phone on WhatsApp and voice), creates nothing for duplicate
// deliveries, reopens conversations inside the window and opens new ones after it, threads
// e-mails by In-Reply-To/References, never stores card numbers (not in events, not in
// projections) and records a sensitive data exception, seals personal fields, delivers WhatsApp
// replies through the reply outbox with retries and maps later receipts to them, and scrubs a
// customer on erasure; issue #14: failed replies are visible and retried, SMS replies respect
// opt-out and count segments. The privacy hooks are fakes: a reversible "sealer", an HMAC blind index
// and a scanner that finds 16-digit runs (card) and e-mail-like words.
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "intake/intake.hpp"
#include "intake/outbound.hpp"
#include "ledger/writer.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::intake {
namespace {

using store::Dialect;

const Instant kStart{1795342530000000};  // 2026-11-22T10:15:30Z
constexpr std::string_view kSealPrefix = "pii:v1:test:";

std::vector<PiiHit> FakeScan(std::string_view text) {
  std::vector<PiiHit> hits;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j - i == 16) hits.push_back({i, j, "card"});
    if (j == i) {
      size_t k = i;
      while (k < text.size() && text[k] != ' ') ++k;
      if (text.substr(i, k - i).find('@') != std::string_view::npos) hits.push_back({i, k, "email"});
      j = k;
    }
    i = j + 1;
  }
  return hits;
}

Hooks FakeHooks() {
  Hooks h;
  h.blind_index = [](std::string_view tenant, std::string_view kind, std::string_view v) {
    return HexEncode(HmacSha256("index-key", std::string(tenant) + "\n" + std::string(kind) +
                                                 "\n" + std::string(v)));
  };
  h.scan = FakeScan;
  h.open = [](store::Connection&, std::string_view, const Json& v) -> Result<std::optional<Json>> {
    if (!v.is_string() || v.get<std::string>().rfind(kSealPrefix, 0) != 0) {
      return std::optional<Json>(v);
    }
    OPSBOX_ASSIGN_OR_RETURN(auto text, HexDecode(v.get<std::string>().substr(kSealPrefix.size()), "v"));
    return std::optional<Json>(Json::parse(text));
  };
  return h;
}

class ScriptedHttp final : public integrations::HttpClient {
 public:
  Result<integrations::OutboundResponse> Send(const integrations::OutboundRequest& r) override {
    if (on_send) on_send();
    std::lock_guard lock(mu_);
    requests.push_back(r);
    if (fail_next > 0) {
      --fail_next;
      return integrations::OutboundResponse{503, "busy"};
    }
    return integrations::OutboundResponse{200, R"({"messages":[{"id":"wamid.out1"}]})"};
  }
  std::mutex mu_;
  std::vector<integrations::OutboundRequest> requests;
  int fail_next = 0;
  std::function<void()> on_send;  // runs inside Send, before it answers
};

class IntakeDbTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    InitCrypto();
    auto db = store::NewTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    registry_.SetSealer([](store::Tx&, const std::string&, const std::string& subject, Json& p,
                           const std::vector<std::string>& fields) -> Status {
      if (subject.empty()) return Error::Internal("no subject");
      for (const auto& f : fields) {
        if (p.contains(f) && !p[f].is_null()) {
          p[f] = std::string(kSealPrefix) + HexEncode(CanonicalJson(p[f]));
        }
      }
      return Ok();
    });
    intake_.Register(registry_);
    writer_ = std::make_unique<ledger::Writer>(*db_, registry_, clock_, random_,
                                               ledger::WriterOptions{});
    ASSERT_TRUE(writer_->Start().ok());
  }
  void TearDown() override {
    if (writer_) writer_->Stop();
  }

  Json Submit(std::string type, Json payload, std::string command_id = "") {
    auto r = writer_->SubmitAndWait(
        ledger::Command{"acme", std::move(command_id), std::move(type), "usr_agent", std::move(payload)});
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? r->result : Json();
  }
  Json Inbound(std::string channel, Json item, std::string command_id = "") {
    return Submit(std::string(kReceiveInbound),
                  Json{{"channel", std::move(channel)}, {"items", Json::array({std::move(item)})}},
                  std::move(command_id));
  }
  static Json Message(std::string id, Json from, std::string text, Json extra = Json::object()) {
    Json m{{"kind", "message"}, {"provider_message_id", std::move(id)}, {"from", std::move(from)},
           {"text", std::move(text)}, {"content", Json{{"type", "text"}}}};
    for (auto& [k, v] : extra.items()) m[k] = v;
    return m;
  }
  int64_t Count(const std::string& sql) {
    auto rows = conn_->Query(sql);
    EXPECT_TRUE(rows.ok());
    return rows.ok() && !rows->empty() ? (*rows)[0].Int(0) : -1;
  }
  std::string AllStoredText() {
    std::string all;
    for (const char* q : {"SELECT payload FROM ledger_events",
                          "SELECT COALESCE(text, '') || COALESCE(content, '') || "
                          "COALESCE(findings, '') FROM intake_messages"}) {
      auto rows = conn_->Query(q);
      EXPECT_TRUE(rows.ok());
      for (const auto& r : *rows) all += r.Text(0) + "\n";
    }
    return all;
  }
  std::string Opened(const std::string& sql) {
    auto rows = conn_->Query(sql);
    EXPECT_TRUE(rows.ok() && !rows->empty());
    auto v = intake_.hooks().open(*conn_, "acme", Json::parse(rows->at(0).Text(0)));
    return v.ok() && *v ? (*v)->dump() : "";
  }

  ManualClock clock_{kStart};
  SeededRandom random_{7};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Connection> conn_;
  ledger::Registry registry_;
  // The test configuration's policy: the WhatsApp fake is a plain-http loopback receiver.
  bool opted_out_ = false;  // what Hooks::opted_out answers (the privacy bridge in production)
  Hooks HooksWithOptOut() {
    Hooks h = FakeHooks();
    h.opted_out = [this](store::Tx&, std::string_view, std::string_view,
                         std::string_view) -> Result<bool> { return opted_out_; };
    return h;
  }
  Intake intake_{HooksWithOptOut(),
                 IntakeOptions{.outbound_policy = integrations::OutboundPolicy(
                                   integrations::OutboundPolicyOptions{.allow_http = true,
                                                                       .allow_loopback = true})}};
  std::unique_ptr<ledger::Writer> writer_;
};

TEST_P(IntakeDbTest, SamePhoneOnWhatsAppAndVoiceIsOneCustomer) {
  Json wa = Inbound("whatsapp", Message("wamid.1", {{"wa_id", "919800000000"},
                                                    {"phone", "+919800000000"},
                                                    {"name", "Asha"}}, "hello"));
  Json call = Inbound("voice", Message("CA1", {{"phone", "098000 00000"}}, "",
                                       {{"content", {{"type", "call"}}}}));
  const std::string customer = wa["items"][0]["customer_id"];
  EXPECT_EQ(call["items"][0]["customer_id"], customer);
  Json chat = Inbound("chat", Message("c1", {{"phone", "+91 98000 00000"}, {"email", "A@X.IN"}},
                                      "hi"));
  EXPECT_EQ(chat["items"][0]["customer_id"], customer);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM intake_customers"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM intake_identities"), 3);  // whatsapp, phone, email
  EXPECT_EQ(Count("SELECT COUNT(*) FROM intake_conversations"), 3);
  EXPECT_EQ(Opened("SELECT email FROM intake_customers"), "\"A@x.in\"");
  EXPECT_EQ(Opened("SELECT name FROM intake_customers"), "\"Asha\"");
  EXPECT_EQ(AllStoredText().find("Asha"), std::string::npos) << "names are stored sealed";
  auto found = intake_.FindCustomer(*conn_, "acme", "phone", "+919800000000");
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ(**found, customer);
}

TEST_P(IntakeDbTest, DuplicateDeliveriesCreateNothing) {
  Json item = Message("wamid.dup", {{"wa_id", "919800000001"}}, "once");
  Inbound("whatsapp", item, "cmd-1");
  const int64_t events = Count("SELECT COUNT(*) FROM ledger_events");
  Json again = Inbound("whatsapp", item, "cmd-1");
  Json other = Inbound("whatsapp", item, "cmd-2");
  EXPECT_EQ(other["items"][0]["duplicate"], true);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), events);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM intake_messages"), 1);
  Json two = Submit(std::string(kReceiveInbound),
                    Json{{"channel", "whatsapp"},
                         {"items", Json::array({Message("wamid.x", {{"wa_id", "1"}}, "a"),
                                                Message("wamid.x", {{"wa_id", "1"}}, "a")})}});
  EXPECT_EQ(two["items"][1]["duplicate"], true);
}

TEST_P(IntakeDbTest, ReopensInsideTheWindowAndOpensNewAfterIt) {
  Json first = Inbound("chat", Message("c1", {{"external_id", "crm-1"}}, "one"));
  const std::string conv = first["items"][0]["conversation_id"];
  Submit(std::string(kCloseConversation), Json{{"conversation_id", conv}});
  clock_.Advance(Duration::Hours(23));
  Json second = Inbound("chat", Message("c2", {{"external_id", "crm-1"}}, "two"));
  EXPECT_EQ(second["items"][0]["conversation_id"], conv);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events WHERE type = 'conversation_opened' AND "
                  "payload LIKE '%\"reopened\":true%'"),
            1);
  Submit(std::string(kCloseConversation), Json{{"conversation_id", conv}});
  clock_.Advance(Duration::Hours(25));
  Json third = Inbound("chat", Message("c3", {{"external_id", "crm-1"}}, "three"));
  EXPECT_NE(third["items"][0]["conversation_id"], conv);
}

TEST_P(IntakeDbTest, ThreadsEmailsByInReplyToAndReferences) {
  auto email = [](std::string id, std::string reply_to, Json refs) {
    return Message(id, {{"email", "asha@example.com"}}, "text",
                   {{"thread", {{"message_id", id}, {"in_reply_to", reply_to}, {"references", refs}}}});
  };
  Json a = Inbound("email", email("m1@x", "", Json::array()));
  Json b = Inbound("email", email("m2@x", "m1@x", Json::array({"m1@x"})));
  Json c = Inbound("email", email("m3@x", "", Json::array({"m1@x", "m2@x"})));
  Json d = Inbound("email", email("m4@x", "", Json::array()));
  const std::string conv = a["items"][0]["conversation_id"];
  EXPECT_EQ(b["items"][0]["conversation_id"], conv);
  EXPECT_EQ(c["items"][0]["conversation_id"], conv);
  EXPECT_NE(d["items"][0]["conversation_id"], conv);
  EXPECT_EQ(AllStoredText().find("m1@x"), std::string::npos) << "Message-IDs are indexed, not kept";
}

TEST_P(IntakeDbTest, CardNumbersAreNeverStoredAndRaiseAnException) {
  Json r = Inbound("chat", Message("c1", {{"external_id", "crm-2"}},
                                   "my card 4111111111111111 mail me at a@b.co"));
  const std::string all = AllStoredText();
  EXPECT_EQ(all.find("4111111111111111"), std::string::npos);
  EXPECT_EQ(all.find(HexEncode(std::string("4111111111111111"))), std::string::npos);
  EXPECT_EQ(Opened("SELECT text FROM intake_messages"), "\"my card [CARD] mail me at a@b.co\"");
  EXPECT_EQ(Opened("SELECT findings FROM intake_messages"),
            R"([{"end":32,"start":26,"type":"email"}])");
  auto rows = conn_->Query("SELECT payload FROM ledger_events WHERE type = "
                           "'sensitive_data_exception_recorded'");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  Json ex = Json::parse((*rows)[0].Text(0));
  EXPECT_EQ(ex["types"], Json::array({"card", "email"}));
  EXPECT_EQ(ex["count"], 2);
  EXPECT_EQ(ex["sender_kind"], "customer");
  EXPECT_EQ(ex["message_id"], r["items"][0]["message_id"]);
}

TEST_P(IntakeDbTest, DeliversWhatsAppRepliesWithRetriesAndMapsReceipts) {
  Submit(std::string(kConfigureChannel),
         Json{{"channel", "whatsapp"},
              {"settings", {{"phone_number_id", "1122"}, {"api_base_url", "http://127.0.0.1:9/v1"}}},
              {"secrets", {{"access_token", "tok-1"}, {"app_secret", "s"}}}});
  EXPECT_EQ(AllStoredText().find("tok-1"), std::string::npos) << "secrets are sealed";
  Json in = Inbound("whatsapp", Message("wamid.in", {{"wa_id", "919800000002"}}, "help"));
  Json sent = Submit(std::string(kSendMessage),
                     Json{{"conversation_id", in["items"][0]["conversation_id"]},
                          {"text", "We are on it"}});
  ScriptedHttp http;
  http.fail_next = 1;
  integrations::OutboxOptions o;
  o.retry_delay_ms_initial = 1000;
  WhatsAppReplyDelivery replies(intake_, o);
  integrations::LeasedOutbox worker(*db_, http, clock_, random_, {&replies}, o);
  ASSERT_EQ(*worker.RunOnce(clock_.Now()), 1);
  EXPECT_EQ(Count("SELECT attempts FROM intake_outbound"), 1);
  EXPECT_EQ(*worker.RunOnce(clock_.Now()), 0) << "not due before the retry delay";
  clock_.Advance(Duration::Seconds(2));
  ASSERT_EQ(*worker.RunOnce(clock_.Now()), 1);
  ASSERT_EQ(http.requests.size(), 2u);
  EXPECT_EQ(http.requests[1].url, "http://127.0.0.1:9/v1/1122/messages");
  Json body = Json::parse(http.requests[1].body);
  EXPECT_EQ(body["to"], "919800000002");
  EXPECT_EQ(body["text"]["body"], "We are on it");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM intake_outbound WHERE status = 'delivered' AND "
                  "provider_message_id = 'wamid.out1'"),
            1);
  Submit(std::string(kReceiveInbound),
         Json{{"channel", "whatsapp"},
              {"items", Json::array({Json{{"kind", "status"}, {"provider_message_id", "wamid.out1"},
                                          {"status", "read"}, {"at_us", kStart.us}},
                                     Json{{"kind", "status"}, {"provider_message_id", "wamid.out1"},
                                          {"status", "delivered"}, {"at_us", kStart.us}}})}});
  auto st = conn_->Query("SELECT status FROM intake_messages WHERE message_id = '" +
                         sent["message_id"].get<std::string>() + "'");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ((*st)[0].Text(0), "read") << "a late 'delivered' does not move the status back";
  // Issue #14: the provider's failure (whatsapp_status_failed.json's errors) is the reason.
  Submit(std::string(kReceiveInbound),
         Json{{"channel", "whatsapp"},
              {"items", Json::array({Json{{"kind", "status"}, {"provider_message_id", "wamid.out1"},
                                          {"status", "failed"}, {"at_us", kStart.us},
                                          {"errors", Json::array({Json{
                                              {"code", 130472},
                                              {"title", "User's number is part of an "
                                                        "experiment"}}})}}})}});
  auto failed = GetMessage(*conn_, "acme", sent["message_id"].get<std::string>());
  ASSERT_TRUE(failed.ok() && failed->has_value());
  EXPECT_EQ((*failed)->status, "failed");
  EXPECT_EQ((*failed)->status_reason, "130472: User's number is part of an experiment");
  EXPECT_FALSE((*failed)->dead_letter);
  EXPECT_TRUE((*failed)->retryable());
}

// Issue #14: a reply the provider refuses is a dead letter at once (a 4xx is permanent); the
// outcome reaches the ledger (record_delivery, reported by the kind), the message shows
// "failed" with the sealed reason; retry_message puts it back to queued and the next delivery
// makes it "sent" with the provider's id. Retrying what is not failed conflicts.
TEST_P(IntakeDbTest, ARefusedReplyIsAFailedMessageUntilItIsRetriedAndSent) {
  Submit(std::string(kConfigureChannel),
         Json{{"channel", "whatsapp"},
              {"settings", {{"phone_number_id", "1122"}, {"api_base_url", "http://127.0.0.1:9/v1"}}},
              {"secrets", {{"access_token", "tok-1"}}}});
  Json in = Inbound("whatsapp", Message("wamid.dead", {{"wa_id", "919800000009"}}, "help"));
  const std::string conv = in["items"][0]["conversation_id"];
  const std::string mid =
      Submit(std::string(kSendMessage), Json{{"conversation_id", conv}, {"text", "Hello"}})
          ["message_id"];
  struct Refusing final : integrations::HttpClient {
    int refuse = 1;
    Result<integrations::OutboundResponse> Send(const integrations::OutboundRequest&) override {
      if (refuse-- > 0) return integrations::OutboundResponse{400, R"({"error":"bad number"})"};
      return integrations::OutboundResponse{200, R"({"messages":[{"id":"wamid.ok"}]})"};
    }
  } http;
  WhatsAppReplyDelivery replies(intake_);
  replies.SetReport([this](ledger::Command cmd) {
    auto r = writer_->SubmitAndWait(std::move(cmd));
    EXPECT_TRUE(r.ok()) << r.error().ToString();
  });
  integrations::LeasedOutbox worker(*db_, http, clock_, random_, {&replies}, {});
  ASSERT_EQ(*worker.RunOnce(clock_.Now()), 1);
  const std::string where = " FROM intake_messages WHERE message_id = '" + mid + "'";
  EXPECT_EQ(Count("SELECT dead_letter" + where), 1);
  EXPECT_EQ(Count("SELECT COUNT(*)" + where + " AND status = 'failed'"), 1);
  EXPECT_NE(Opened("SELECT status_reason" + where).find("bad number"), std::string::npos);
  EXPECT_EQ(AllStoredText().find("bad number"), std::string::npos) << "the reason is sealed";
  auto retried = writer_->SubmitAndWait(ledger::Command{
      "acme", "", std::string(kRetryMessage), "usr_agent",
      Json{{"conversation_id", conv}, {"message_id", mid}}});
  ASSERT_TRUE(retried.ok()) << retried.error().ToString();
  EXPECT_EQ(retried->result["status"], "queued");
  EXPECT_EQ(Count("SELECT COUNT(*)" + where + " AND status = 'queued' AND dead_letter = 0"), 1);
  ASSERT_EQ(*worker.RunOnce(clock_.Now()), 1);
  EXPECT_EQ(Count("SELECT COUNT(*)" + where + " AND status = 'sent'"), 1);
  auto again = writer_->SubmitAndWait(ledger::Command{
      "acme", "", std::string(kRetryMessage), "usr_agent",
      Json{{"conversation_id", conv}, {"message_id", mid}}});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().rule, "not_failed");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events WHERE type = 'message_status_updated'"), 2);
}

// Issue #14: an SMS reply is refused while the customer is opted out (Hooks::opted_out) and
// carries its segments otherwise.
TEST_P(IntakeDbTest, SmsRepliesAreRefusedToAnOptedOutNumberAndCountSegments) {
  Submit(std::string(kConfigureChannel),
         Json{{"channel", "sms"},
              {"settings", {{"account_sid", "AC1"}, {"from_number", "+15005550006"},
                            {"api_base_url", "http://127.0.0.1:9"}}},
              {"secrets", {{"auth_token", "tok-sms"}}}});
  Json in = Inbound("sms", Message("SM1", {{"phone", "+14155550100"}}, "hi"));
  const std::string conv = in["items"][0]["conversation_id"];
  Json sent = Submit(std::string(kSendMessage),
                     Json{{"conversation_id", conv}, {"text", std::string(161, 'a')}});
  EXPECT_EQ(Count("SELECT segments FROM intake_messages WHERE message_id = '" +
                  sent["message_id"].get<std::string>() + "'"),
            2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM intake_outbound WHERE channel = 'sms'"), 1);
  opted_out_ = true;
  auto refused = writer_->SubmitAndWait(ledger::Command{
      "acme", "", std::string(kSendMessage), "usr_agent",
      Json{{"conversation_id", conv}, {"text", "hello?"}}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().rule, "opted_out");
  // The reply queued before the opt-out is never sent: a dead letter saying why.
  ScriptedHttp http;
  SmsReplyDelivery replies(intake_);
  integrations::LeasedOutbox worker(*db_, http, clock_, random_, {&replies}, {});
  ASSERT_EQ(*worker.RunOnce(clock_.Now()), 1);
  EXPECT_TRUE(http.requests.empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM intake_outbound WHERE status = 'dead' AND last_error "
                  "LIKE '%opted out%'"),
            1);
  opted_out_ = false;
  Submit(std::string(kSendMessage), Json{{"conversation_id", conv}, {"text", "Welcome back"}});
  ASSERT_EQ(*worker.RunOnce(clock_.Now()), 1);
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].url, "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json");
  EXPECT_EQ(http.requests[0].body, "To=%2B14155550100&From=%2B15005550006&Body=Welcome+back");
}

// Regression (issue #9): intake's own outbound worker kept claimed replies leased on stop, so
// another node waited out the lease. Replies now leave through the leased outbox, which hands
// every claimed row it has not sent back at once.
TEST_P(IntakeDbTest, StopReleasesClaimedRepliesThatWereNotSent) {
  Submit(std::string(kConfigureChannel),
         Json{{"channel", "whatsapp"},
              {"settings", {{"phone_number_id", "1122"}, {"api_base_url", "http://127.0.0.1:9/v1"}}},
              {"secrets", {{"access_token", "tok-1"}, {"app_secret", "s"}}}});
  Json in = Inbound("whatsapp", Message("wamid.in2", {{"wa_id", "919800000003"}}, "hi"));
  for (const char* text : {"first reply", "second reply"}) {
    Submit(std::string(kSendMessage),
           Json{{"conversation_id", in["items"][0]["conversation_id"]}, {"text", text}});
  }
  const int64_t now_us = clock_.Now().us;
  ASSERT_EQ(Count("SELECT COUNT(*) FROM intake_outbound WHERE status = 'pending'"), 2);
  ScriptedHttp http;
  WhatsAppReplyDelivery replies(intake_);
  integrations::LeasedOutbox outbox(*db_, http, clock_, random_, {&replies},
                                    integrations::OutboxOptions{});
  bool stopped = false;
  http.on_send = [&] {
    if (stopped) return;
    stopped = true;
    outbox.Stop();  // while the first claimed reply is in flight
  };
  ASSERT_EQ(*outbox.RunOnce(clock_.Now()), 1) << "the second claimed reply is not sent";
  EXPECT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM intake_outbound WHERE status = 'delivered'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM intake_outbound WHERE status = 'pending' AND "
                  "attempts = 0 AND next_attempt_at_us <= " + std::to_string(now_us)),
            1)
      << "the unsent reply is handed back, due at once rather than after the lease";
  integrations::LeasedOutbox next(*db_, http, clock_, random_, {&replies},
                                  integrations::OutboxOptions{});
  ASSERT_EQ(*next.RunOnce(clock_.Now()), 1);
  EXPECT_EQ(http.requests.size(), 2u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM intake_outbound WHERE status = 'delivered'"), 2);
}

TEST_P(IntakeDbTest, ChannelSettingsRefuseAnApiBaseUrlThatIsAForbiddenLiteralAddress) {
  Intake strict{FakeHooks(), IntakeOptions{}};
  ledger::Registry registry;
  strict.Register(registry);
  for (const char* url : {"https://169.254.169.254/latest", "https://10.0.0.8/v1",
                          "https://[::ffff:127.0.0.1]:9/v1", "https://localhost/v1"}) {
    const ledger::Command cmd{"acme", "", std::string(kConfigureChannel), "usr_admin",
                              Json{{"channel", "whatsapp"}, {"settings", {{"api_base_url", url}}}}};
    auto tx = conn_->Begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(registry.HasCommand(cmd.type));
    auto d = registry.Decide(**tx, cmd, clock_.Now(), random_);
    ASSERT_FALSE(d.ok()) << url;
    EXPECT_EQ(d.error().field, "settings.api_base_url") << url;
    EXPECT_EQ(d.error().rule, "forbidden_destination") << url;
  }
}

TEST_P(IntakeDbTest, TerminalCallStatusClosesTheVoiceConversation) {
  Json call = Inbound("voice", Message("CA9", {{"phone", "+14155552671"}}, "",
                                       {{"content", {{"type", "call"}}}}));
  Inbound("voice", Json{{"kind", "status"}, {"provider_message_id", "CA9"}, {"status", "completed"}});
  auto rows = conn_->Query("SELECT status FROM intake_conversations");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Text(0), "closed");
}

TEST_P(IntakeDbTest, ErasureScrubDropsIndexesAndSealedCopies) {
  Json r = Inbound("chat", Message("c1", {{"phone", "+14155552671"}}, "secret text"));
  const std::string customer = r["items"][0]["customer_id"];
  auto tx = conn_->Begin();
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(intake_.ScrubSubject(**tx, "acme", customer).ok());
  ASSERT_TRUE((*tx)->Commit().ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM intake_identities"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM intake_messages WHERE text IS NOT NULL"), 0);
  EXPECT_EQ(Count("SELECT erased FROM intake_customers"), 1);
}

INSTANTIATE_TEST_SUITE_P(All, IntakeDbTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::intake
