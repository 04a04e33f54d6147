// Goal: through a real ledger writer, on SQLite and PostgreSQL, external events are recorded
// once per (source, external_id); subscriptions enqueue outbox rows only for matching events
// appended after them; the outbox worker delivers signed requests at least once, retries with
// growing delays, dead-letters after retry_max and delivers again after a replay; outbox state
// lives in the database, so a new worker picks it up; claims keep two workers from sending the
// same row while the lease lasts.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "core/crypto.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "integrations/integrations.hpp"
#include "integrations/testing/fake_http_client.hpp"
#include "ledger/writer.hpp"
#include "privacy/keyring.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::integrations {
namespace {

// The leased outbox with the webhook kind alone, wired as the composition root does.
class WebhookOutbox {
 public:
  WebhookOutbox(store::Database& db, HttpClient& http, Clock& clock, Random& random,
                const OutboxOptions& options)
      : kind_(options), outbox_(db, http, clock, random, {&kind_}, options) {}
  Result<int> RunOnce(Instant now) { return outbox_.RunOnce(now); }
  Status Start() { return outbox_.Start(); }
  void Stop() { outbox_.Stop(); }
  void Wake() { outbox_.Wake(); }
  size_t Backlog() { return outbox_.Backlog(); }

 private:
  WebhookDelivery kind_;
  LeasedOutbox outbox_;
};

using store::Dialect;

const Instant kStart{1795342530000000};  // 2026-11-22T10:15:30Z
constexpr uint64_t kSeed = 4242;

std::string HeaderOf(const OutboundRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

Json ExternalEvent(std::string external_id, Json payload = Json{{"n", 1}}) {
  return Json{{"source", "crm"},
              {"type", "ticket.closed"},
              {"external_id", std::move(external_id)},
              {"occurred_at", "2026-11-22T10:00:00Z"},
              {"payload", std::move(payload)}};
}

class IntegrationsDbTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    InitCrypto();
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    auto db = store::NewTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.error().ToString();
    conn_ = std::move(*conn);
    // The test configuration's policy: the subscriptions name plain-http loopback receivers.
    RegisterIntegrations(registry_, cache_, nullptr,
                         OutboundPolicy(OutboundPolicyOptions{.allow_http = true,
                                                              .allow_loopback = true}));
    auto keyring = privacy::Keyring::Create(privacy::NewMemoryKeyProvider(), clock_);
    ASSERT_TRUE(keyring.ok()) << keyring.error().ToString();
    keyring_ = std::move(*keyring);
    keyring_->Register(registry_);
    AddTestCommands();
    StartWriter();
    options_.retry_max = 3;
    options_.retry_delay_ms_initial = 1000;
    options_.retry_delay_ms_max = 4000;
  }

  void TearDown() override {
    if (writer_) writer_->Stop();
  }

  void StartWriter() {
    writer_ = std::make_unique<ledger::Writer>(*db_, registry_, clock_, writer_random_,
                                               ledger::WriterOptions{});
    ASSERT_TRUE(writer_->Start().ok());
  }

  // "hold" blocks the writer until `release_` is set; "explode" fails in its projector.
  void AddTestCommands() {
    registry_.AddCommand("hold", [this](store::Tx&, const ledger::Command&, Instant, Random&) {
      released_.wait();
      return Result<ledger::Decision>(ledger::Decision{});
    });
    registry_.AddCommand("explode", [](store::Tx&, const ledger::Command&, Instant, Random&) {
      ledger::Decision d;
      d.events.push_back({"exploded", Json::object()});
      return Result<ledger::Decision>(std::move(d));
    });
    registry_.AddProjector("exploded", [](store::Tx&, const ledger::Event&) -> Status {
      return Error::Conflict("test", "this projection always fails");
    });
  }

  Result<ledger::CommandOutcome> Submit(std::string type, Json payload, std::string id = "",
                                        std::string tenant = "acme") {
    return writer_->SubmitAndWait(ledger::Command{std::move(tenant), std::move(id), std::move(type),
                                                  "usr_test", std::move(payload)});
  }

  // Creates a subscription; returns {id, secret}.
  std::pair<std::string, std::string> Subscribe(Json event_types,
                                                std::string url = "http://127.0.0.1:9/hook") {
    auto r = Submit(std::string(kCreateWebhookSubscription),
                    Json{{"url", url}, {"event_types", std::move(event_types)}});
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    if (!r.ok()) return {};
    return {r->result.at("subscription_id").get<std::string>(),
            r->once.at("secret").get<std::string>()};
  }

  int64_t Count(const std::string& sql) {
    auto rows = conn_->Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.error().ToString();
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }

  // status, attempts, next_attempt_at_us of one outbox row.
  std::tuple<std::string, int64_t, int64_t> Row(const std::string& sub, int64_t seq) {
    store::Value p[] = {std::string("acme"), sub, seq};
    auto rows = conn_->Query(
        "SELECT status, attempts, next_attempt_at_us FROM webhook_outbox "
        "WHERE tenant_id = ? AND subscription_id = ? AND event_seq = ?",
        p);
    EXPECT_TRUE(rows.ok() && rows->size() == 1);
    if (!rows.ok() || rows->size() != 1) return {"", -1, -1};
    return {(*rows)[0].Text(0), (*rows)[0].Int(1), (*rows)[0].Int(2)};
  }

  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Connection> conn_;
  ledger::Registry registry_;
  SubscriptionCache cache_;
  ManualClock clock_{kStart};
  std::unique_ptr<privacy::Keyring> keyring_;  // seals subscription secrets in events
  SeededRandom writer_random_{kSeed};
  SeededRandom worker_random_{kSeed + 1};
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  std::unique_ptr<ledger::Writer> writer_;
  testing::FakeHttpClient http_;
  OutboxOptions options_;
};

TEST_P(IntegrationsDbTest, RecordsAnExternalEventOnceAndReturnsTheFirstRecordForDuplicates) {
  auto first = Submit(std::string(kRecordExternalEvent), ExternalEvent("T-1"), "cmd_a");
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->first_seq, 1);
  const auto id = first->result.at("external_event_id").get<std::string>();

  auto dup =
      Submit(std::string(kRecordExternalEvent), ExternalEvent("T-1", Json{{"n", 2}}), "cmd_b");
  ASSERT_TRUE(dup.ok()) << dup.error().ToString();
  EXPECT_EQ(dup->first_seq, 0);
  EXPECT_EQ(dup->result.at("external_event_id"), id);
  EXPECT_EQ(dup->result.at("payload"), (Json{{"n", 1}}));
  EXPECT_EQ(dup->result.at("seq"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), 1);
  // Issue #20 item 5: the result is not stored a second time; a retry rebuilds it from the
  // event, equal to the first answer.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_commands WHERE command_id = 'cmd_a' AND "
                  "result = ''"),
            1);
  auto retry = Submit(std::string(kRecordExternalEvent), ExternalEvent("T-1"), "cmd_a");
  ASSERT_TRUE(retry.ok()) << retry.error().ToString();
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->result, first->result);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM external_events"), 1);

  auto got = GetExternalEvent(*conn_, "acme", id);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->at("external_id"), "T-1");
  EXPECT_EQ(got->at("occurred_at"), "2026-11-22T10:00:00.000000Z");
  EXPECT_EQ(got->at("received_at"), FormatRfc3339(kStart));
  EXPECT_EQ(GetExternalEvent(*conn_, "other", id).error().code, ErrorCode::kNotFound);
  auto found = FindExternalEvent(*conn_, "acme", "crm", "T-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((**found).at("external_event_id"), id);
}

TEST_P(IntegrationsDbTest, ListsExternalEventsByCursorAndSource) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        Submit(std::string(kRecordExternalEvent), ExternalEvent("T-" + std::to_string(i))).ok());
  }
  Json other = ExternalEvent("X-1");
  other["source"] = "billing";
  ASSERT_TRUE(Submit(std::string(kRecordExternalEvent), other).ok());

  auto page1 = ListExternalEvents(*conn_, "acme", "", 2, std::string("crm"));
  ASSERT_TRUE(page1.ok()) << page1.error().ToString();
  ASSERT_EQ(page1->at("items").size(), 2u);
  EXPECT_EQ(page1->at("items")[0].at("external_id"), "T-0");
  ASSERT_TRUE(page1->at("next_cursor").is_string());
  auto page2 = ListExternalEvents(*conn_, "acme", page1->at("next_cursor").get<std::string>(), 10,
                                  std::string("crm"));
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->at("items").size(), 3u);
  EXPECT_EQ(page2->at("items")[2].at("external_id"), "T-4");
  EXPECT_TRUE(page2->at("next_cursor").is_null());
  auto all = ListExternalEvents(*conn_, "acme", "", 100, std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->at("items").size(), 6u);
  EXPECT_EQ(ListExternalEvents(*conn_, "acme", "x1", 10, std::nullopt).error().field, "after");
}

TEST_P(IntegrationsDbTest, RecordsConcurrentDuplicatesOnceWithTheDerivedCommandId) {
  std::promise<void> done_all;
  std::atomic<int> answered{0};
  std::vector<Result<ledger::CommandOutcome>> outcomes;
  std::mutex mu;
  const auto hold = [&] {
    writer_->Submit(ledger::Command{"acme", "", "hold", "usr_test", Json::object()},
                    [](Result<ledger::CommandOutcome>) {});
  };
  hold();  // the batch after it holds every duplicate below
  for (int i = 0; i < 4; ++i) {
    const bool same_id = i % 2 == 0;
    writer_->Submit(
        ledger::Command{"acme", same_id ? ExternalEventCommandId("crm", "T-9") : "",
                        std::string(kRecordExternalEvent), "usr_test", ExternalEvent("T-9")},
        [&](Result<ledger::CommandOutcome> r) {
          std::lock_guard lock(mu);
          outcomes.push_back(std::move(r));
          if (++answered == 4) done_all.set_value();
        });
  }
  release_.set_value();
  done_all.get_future().wait();
  std::set<std::string> ids;
  for (auto& o : outcomes) {
    ASSERT_TRUE(o.ok()) << o.error().ToString();
    ids.insert(o->result.at("external_event_id").get<std::string>());
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM external_events"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), 1);
}

TEST_P(IntegrationsDbTest, EnqueuesOnlyMatchingEventsAppendedAfterTheSubscription) {
  ASSERT_TRUE(Submit(std::string(kRecordExternalEvent), ExternalEvent("before")).ok());
  auto [narrow, s1] = Subscribe(Json::array({"external_event_recorded"}));
  auto [other, s2] = Subscribe(Json::array({"case_opened"}));
  auto [all, s3] = Subscribe(Json::array({"*"}));
  // Nobody received the old event; "*" did not receive its own creation.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_outbox"), 0);

  auto rec = Submit(std::string(kRecordExternalEvent), ExternalEvent("after"));
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(std::get<0>(Row(narrow, rec->first_seq)), "pending");
  EXPECT_EQ(std::get<0>(Row(all, rec->first_seq)), "pending");
  EXPECT_EQ(std::get<2>(Row(all, rec->first_seq)), kStart.us);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_outbox WHERE subscription_id = '" + other + "'"),
            0);

  auto del = Submit(std::string(kDeleteWebhookSubscription), Json{{"subscription_id", narrow}});
  ASSERT_TRUE(del.ok()) << del.error().ToString();
  EXPECT_EQ(std::get<0>(Row(narrow, rec->first_seq)), "cancelled");
  EXPECT_EQ(std::get<0>(Row(all, del->first_seq)), "pending");  // "*" sees the deletion
  EXPECT_EQ(Submit(std::string(kDeleteWebhookSubscription), Json{{"subscription_id", narrow}})
                .error()
                .code,
            ErrorCode::kNotFound);
  ASSERT_TRUE(Submit(std::string(kRecordExternalEvent), ExternalEvent("later")).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_outbox WHERE subscription_id = '" + narrow + "'"),
            1);

  auto subs = ListSubscriptions(*conn_, "acme");
  ASSERT_TRUE(subs.ok());
  EXPECT_EQ(subs->at("items").size(), 2u);
  EXPECT_EQ(subs->dump().find("whsec_"), std::string::npos);
}

TEST_P(IntegrationsDbTest, ForgetsSubscriptionsLearnedInARolledBackBatch) {
  auto [all, secret] = Subscribe(Json::array({"*"}));  // loads the tenant into the cache
  std::promise<void> both;
  std::atomic<int> answered{0};
  std::string created;
  writer_->Submit(ledger::Command{"acme", "", "hold", "usr_test", Json::object()},
                  [](Result<ledger::CommandOutcome>) {});
  writer_->Submit(ledger::Command{"acme", "", std::string(kCreateWebhookSubscription), "usr_test",
                                  Json{{"url", "http://h/x"}, {"event_types", Json::array({"*"})}}},
                  [&](Result<ledger::CommandOutcome> r) {
                    if (r.ok()) created = r->result.at("subscription_id").get<std::string>();
                    if (++answered == 2) both.set_value();
                  });
  writer_->Submit(ledger::Command{"acme", "", "explode", "usr_test", Json::object()},
                  [&](Result<ledger::CommandOutcome>) {
                    if (++answered == 2) both.set_value();
                  });
  release_.set_value();
  both.get_future().wait();
  ASSERT_FALSE(created.empty());
  ASSERT_TRUE(Submit(std::string(kRecordExternalEvent), ExternalEvent("x")).ok());
  // Every outbox row names a subscription that exists: none for the rolled-back id.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_outbox o WHERE NOT EXISTS (SELECT 1 FROM "
                  "webhook_subscriptions s WHERE s.tenant_id = o.tenant_id AND "
                  "s.subscription_id = o.subscription_id)"),
            0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_outbox WHERE subscription_id = '" + created +
                  "' AND event_type = 'external_event_recorded'"),
            1);
}

TEST_P(IntegrationsDbTest, DeliversASignedEventWithoutAnySubscriptionSecret) {
  auto [all, secret] = Subscribe(Json::array({"*"}));
  auto [late, late_secret] = Subscribe(Json::array({"case_opened"}));  // "*" receives this
  WebhookOutbox worker(*db_, http_, clock_, worker_random_, options_);
  auto n = worker.RunOnce(kStart);
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(*n, 1);
  ASSERT_EQ(http_.requests().size(), 1u);
  const auto req = http_.requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "http://127.0.0.1:9/hook");
  EXPECT_EQ(HeaderOf(req, "Content-Type"), "application/json");
  EXPECT_EQ(HeaderOf(req, "Opsbox-Delivery-Attempt"), "1");
  EXPECT_TRUE(VerifyWebhookSignature(secret, HeaderOf(req, "Opsbox-Signature"), req.body, kStart));
  EXPECT_FALSE(
      VerifyWebhookSignature(late_secret, HeaderOf(req, "Opsbox-Signature"), req.body, kStart));
  auto body = ParseJson(req.body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->at("type"), kWebhookSubscriptionCreated);
  EXPECT_EQ(body->at("seq"), 2);
  EXPECT_EQ(body->at("event_id"), HeaderOf(req, "Opsbox-Event-Id"));
  EXPECT_EQ(body->at("payload").at("subscription_id"), late);
  EXPECT_EQ(req.body.find("whsec_"), std::string::npos);
  EXPECT_EQ(std::get<0>(Row(all, 2)), "delivered");
  EXPECT_EQ(worker.Backlog(), 0u);
  EXPECT_EQ(*worker.RunOnce(kStart + Duration::Hours(1)), 0);  // delivered stays delivered
}

TEST_P(IntegrationsDbTest, RetriesWithGrowingDelaysThenDeadLettersAndDeliversAfterReplay) {
  auto [sub, secret] = Subscribe(Json::array({"external_event_recorded"}));
  auto rec = Submit(std::string(kRecordExternalEvent), ExternalEvent("T-1"));
  ASSERT_TRUE(rec.ok());
  const int64_t seq = rec->first_seq;
  http_.AnswerStatus(500);
  WebhookOutbox worker(*db_, http_, clock_, worker_random_, options_);
  Instant due = kStart;
  int64_t previous_delay_us = 0;
  for (int attempt = 1; attempt <= options_.retry_max; ++attempt) {
    if (attempt > 1) {
      EXPECT_EQ(*worker.RunOnce(due - Duration::Micros(1)), 0) << "not yet due";
    }
    auto n = worker.RunOnce(due);
    ASSERT_TRUE(n.ok()) << n.error().ToString();
    ASSERT_EQ(*n, 1) << "attempt " << attempt;
    EXPECT_EQ(HeaderOf(http_.requests().back(), "Opsbox-Delivery-Attempt"),
              std::to_string(attempt));
    auto [status, attempts, next_us] = Row(sub, seq);
    EXPECT_EQ(attempts, attempt);
    if (attempt < options_.retry_max) {
      EXPECT_EQ(status, "pending");
      const int64_t delay_us = next_us - due.us;
      const int64_t base_us = int64_t{1000000} << (attempt - 1);
      EXPECT_GE(delay_us * 2, base_us);
      EXPECT_LE(delay_us, base_us);
      EXPECT_GT(delay_us, previous_delay_us / 2);
      previous_delay_us = delay_us;
      due = Instant{next_us};
    } else {
      EXPECT_EQ(status, "dead");
    }
  }
  EXPECT_EQ(*worker.RunOnce(due + Duration::Hours(24)), 0);
  auto dead = ListDeliveries(*conn_, "acme", std::string("dead"), "", 10);
  ASSERT_TRUE(dead.ok()) << dead.error().ToString();
  ASSERT_EQ(dead->at("items").size(), 1u);
  EXPECT_EQ(dead->at("items")[0].at("last_status"), 500);
  EXPECT_EQ(dead->at("items")[0].at("attempts"), options_.retry_max);

  auto missing = Submit(std::string(kReplayWebhookDelivery),
                        Json{{"subscription_id", sub}, {"event_seq", seq + 100}});
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  clock_.Set(due + Duration::Hours(1));
  auto replay = Submit(std::string(kReplayWebhookDelivery),
                       Json{{"subscription_id", sub}, {"event_seq", seq}});
  ASSERT_TRUE(replay.ok()) << replay.error().ToString();
  EXPECT_EQ(Row(sub, seq), std::make_tuple(std::string("pending"), int64_t{0}, clock_.Now().us));
  EXPECT_EQ(Submit(std::string(kReplayWebhookDelivery),
                   Json{{"subscription_id", sub}, {"event_seq", seq}})
                .error()
                .rule,
            "not_dead_lettered");

  http_.AnswerStatus(204);
  ASSERT_EQ(*worker.RunOnce(clock_.Now()), 1);
  EXPECT_EQ(std::get<0>(Row(sub, seq)), "delivered");
  EXPECT_EQ(HeaderOf(http_.requests().back(), "Opsbox-Delivery-Attempt"), "1");
  EXPECT_TRUE(VerifyWebhookSignature(secret, HeaderOf(http_.requests().back(), "Opsbox-Signature"),
                                     http_.requests().back().body, clock_.Now()));
}

TEST_P(IntegrationsDbTest, CountsTransportFailuresAsFailedAttempts) {
  auto [sub, secret] = Subscribe(Json::array({"*"}));
  auto rec = Submit(std::string(kRecordExternalEvent), ExternalEvent("T-1"));
  ASSERT_TRUE(rec.ok());
  http_.FailTransport();
  WebhookOutbox worker(*db_, http_, clock_, worker_random_, options_);
  ASSERT_EQ(*worker.RunOnce(kStart), 1);
  auto list = ListDeliveries(*conn_, "acme", std::string("pending"), "", 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->at("items").size(), 1u);
  EXPECT_EQ(list->at("items")[0].at("attempts"), 1);
  EXPECT_EQ(list->at("items")[0].at("last_status"), 0);
  EXPECT_NE(list->at("items")[0].at("last_error").get<std::string>().find("refused"),
            std::string::npos);
  EXPECT_EQ(worker.Backlog(), 1u);
}

TEST_P(IntegrationsDbTest, ANewWorkerPicksUpOutboxStateAfterReopening) {
  auto [sub, secret] = Subscribe(Json::array({"*"}));
  auto rec = Submit(std::string(kRecordExternalEvent), ExternalEvent("T-1"));
  ASSERT_TRUE(rec.ok());
  {
    http_.AnswerStatus(503);
    WebhookOutbox first(*db_, http_, clock_, worker_random_, options_);
    ASSERT_EQ(*first.RunOnce(kStart), 1);
  }
  writer_->Stop();
  writer_.reset();
  conn_.reset();
  // Every connection of the first run is closed; a new one sees what was committed.
  auto conn = db_->Connect();
  ASSERT_TRUE(conn.ok());
  conn_ = std::move(*conn);
  http_.AnswerStatus(200);
  WebhookOutbox second(*db_, http_, clock_, worker_random_, options_);
  ASSERT_EQ(*second.RunOnce(kStart + Duration::Hours(1)), 1);
  EXPECT_EQ(HeaderOf(http_.requests().back(), "Opsbox-Delivery-Attempt"), "2");
  EXPECT_EQ(std::get<0>(Row(sub, rec->first_seq)), "delivered");
}

TEST_P(IntegrationsDbTest, AClaimedRowIsNotSentTwiceUntilItsLeaseRunsOut) {
  auto [sub, secret] = Subscribe(Json::array({"*"}));
  auto rec = Submit(std::string(kRecordExternalEvent), ExternalEvent("T-1"));
  ASSERT_TRUE(rec.ok());
  WebhookOutbox first(*db_, http_, clock_, worker_random_, options_);
  SeededRandom other_random(kSeed + 2);
  WebhookOutbox second(*db_, http_, clock_, other_random, options_);
  int during_lease = -1;
  int after_lease = -1;
  http_.OnNextSend([&](const OutboundRequest&) {
    // While the first worker's delivery is in flight.
    during_lease = *second.RunOnce(kStart + Duration::Millis(options_.lease_ms - 1));
    after_lease = *second.RunOnce(kStart + Duration::Millis(options_.lease_ms));
  });
  ASSERT_EQ(*first.RunOnce(kStart), 1);
  EXPECT_EQ(during_lease, 0);
  EXPECT_EQ(after_lease, 1);  // a crashed sender's row is sent again: at least once
  EXPECT_EQ(http_.requests().size(), 2u);
  EXPECT_EQ(std::get<0>(Row(sub, rec->first_seq)), "delivered");
}

TEST_P(IntegrationsDbTest, StartedWorkerDeliversAndStopFinishesTheDeliveryInFlight) {
  auto [sub, secret] = Subscribe(Json::array({"*"}));
  auto rec = Submit(std::string(kRecordExternalEvent), ExternalEvent("T-1"));
  ASSERT_TRUE(rec.ok());
  std::promise<void> sending;
  http_.OnNextSend([&](const OutboundRequest&) { sending.set_value(); });
  WebhookOutbox worker(*db_, http_, clock_, worker_random_, options_);
  ASSERT_TRUE(worker.Start().ok());
  worker.Wake();
  sending.get_future().wait();
  worker.Stop();
  EXPECT_EQ(std::get<0>(Row(sub, rec->first_seq)), "delivered");
  EXPECT_EQ(worker.Backlog(), 0u);
  EXPECT_EQ(http_.requests().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(All, IntegrationsDbTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::integrations
