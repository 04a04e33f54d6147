// Goal: the live hub delivers each publication to exactly the subscribers of its tenant and
// topic, snapshot first, in order, stops delivering after Unsubscribe, and refuses invalid
// names and subscriptions past its limit.
#include "live/hub.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

namespace opsbox::live {
namespace {

struct Collector {
  std::vector<std::string> texts;
  Hub::Sink Sink() {
    return [this](std::shared_ptr<const std::string> text) { texts.push_back(*text); };
  }
};

TEST(Hub, DeliversOnlyToSubscribersOfTheSameTenantAndTopic) {
  Hub hub;
  Collector a, b, other_tenant;
  hub.Subscribe("t1", "queue_stats", a.Sink());
  hub.Subscribe("t1", "agent_activities", b.Sink());
  hub.Subscribe("t2", "queue_stats", other_tenant.Sink());
  hub.Publish("t1", "queue_stats", Json{{"type", "queue_stats"}});
  ASSERT_EQ(a.texts.size(), 1u);
  EXPECT_EQ(a.texts[0], R"({"type":"queue_stats"})");
  EXPECT_TRUE(b.texts.empty());
  EXPECT_TRUE(other_tenant.texts.empty());
}

TEST(Hub, SharesOneSerialisedTextBetweenSubscribers) {
  Hub hub;
  std::vector<const std::string*> seen;
  auto sink = [&](std::shared_ptr<const std::string> text) { seen.push_back(text.get()); };
  hub.Subscribe("t1", "queue_stats", sink);
  hub.Subscribe("t1", "queue_stats", sink);
  hub.Publish("t1", "queue_stats", Json{{"n", 1}});
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], seen[1]);
}

TEST(Hub, SendsTheSnapshotOfTheLongestPrefixBeforeUpdates) {
  Hub hub;
  hub.SetSnapshot("reservations/", [](std::string_view tenant, std::string_view topic) {
    return std::optional<Json>(Json{{"tenant", tenant}, {"topic", topic}});
  });
  hub.SetSnapshot("reservations/usr_special", [](std::string_view, std::string_view) {
    return std::optional<Json>(Json{{"special", true}});
  });
  Collector plain, special;
  hub.Subscribe("t1", "reservations/usr_1", plain.Sink());
  hub.Subscribe("t1", "reservations/usr_special", special.Sink());
  hub.Publish("t1", "reservations/usr_1", Json{{"update", 1}});
  ASSERT_EQ(plain.texts.size(), 2u);
  EXPECT_EQ(plain.texts[0], R"({"tenant":"t1","topic":"reservations/usr_1"})");
  EXPECT_EQ(plain.texts[1], R"({"update":1})");
  ASSERT_EQ(special.texts.size(), 1u);
  EXPECT_EQ(special.texts[0], R"({"special":true})");
}

TEST(Hub, SendsNothingFirstWhenTheSnapshotHasNoValue) {
  Hub hub;
  hub.SetSnapshot("queue_stats",
                  [](std::string_view, std::string_view) { return std::optional<Json>(); });
  Collector c;
  hub.Subscribe("t1", "queue_stats", c.Sink());
  EXPECT_TRUE(c.texts.empty());
}

TEST(Hub, StopsDeliveringAfterUnsubscribe) {
  Hub hub;
  Collector c;
  uint64_t id = hub.Subscribe("t1", "queue_stats", c.Sink());
  EXPECT_TRUE(hub.HasSubscribers("t1", "queue_stats"));
  hub.Unsubscribe(id);
  hub.Unsubscribe(id);  // twice is harmless
  hub.Unsubscribe(0);
  EXPECT_FALSE(hub.HasSubscribers("t1", "queue_stats"));
  hub.Publish("t1", "queue_stats", Json{{"n", 1}});
  EXPECT_TRUE(c.texts.empty());
  EXPECT_EQ(hub.SubscriptionCount(), 0u);
}

TEST(Hub, LetsASinkUnsubscribeItself) {
  Hub hub;
  int calls = 0;
  uint64_t id = 0;
  id = hub.Subscribe("t1", "queue_stats", [&](std::shared_ptr<const std::string>) {
    ++calls;
    hub.Unsubscribe(id);
  });
  hub.Publish("t1", "queue_stats", Json{{"n", 1}});
  hub.Publish("t1", "queue_stats", Json{{"n", 2}});
  EXPECT_EQ(calls, 1);
}

TEST(Hub, RefusesEmptyOrOverlongNames) {
  Hub hub;
  Collector c;
  EXPECT_EQ(hub.Subscribe("", "queue_stats", c.Sink()), 0u);
  EXPECT_EQ(hub.Subscribe("t1", "", c.Sink()), 0u);
  EXPECT_EQ(hub.Subscribe("t1", std::string(kTopicBytesMax + 1, 'x'), c.Sink()), 0u);
  EXPECT_NE(hub.Subscribe("t1", std::string(kTopicBytesMax, 'x'), c.Sink()), 0u);
  EXPECT_EQ(hub.Subscribe("t1\nq", "x", c.Sink()), 0u);
}

TEST(Hub, RefusesSubscriptionsPastItsLimit) {
  Hub hub;
  auto sink = [](std::shared_ptr<const std::string>) {};
  for (size_t i = 0; i < kHubSubscriptionsMax; ++i) {
    ASSERT_NE(hub.Subscribe("t1", "queue_stats", sink), 0u);
  }
  EXPECT_EQ(hub.Subscribe("t1", "queue_stats", sink), 0u);
  EXPECT_EQ(hub.SubscriptionCount(), kHubSubscriptionsMax);
}

TEST(Hub, ReplacesInvalidUtf8InsteadOfFailing) {
  Hub hub;
  Collector c;
  hub.Subscribe("t1", "queue_stats", c.Sink());
  hub.Publish("t1", "queue_stats", Json{{"name", std::string("a\xff")}});
  ASSERT_EQ(c.texts.size(), 1u);
  EXPECT_EQ(c.texts[0], "{\"name\":\"a\xEF\xBF\xBD\"}");
}

// Publications from several threads reach each subscriber exactly once.
TEST(Hub, DeliversConcurrentPublicationsExactlyOnce) {
  Hub hub;
  std::atomic<int> received{0};
  for (int i = 0; i < 4; ++i) {
    hub.Subscribe("t1", "agent_activities",
                  [&](std::shared_ptr<const std::string>) { received.fetch_add(1); });
  }
  constexpr int kPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) hub.Publish("t1", "agent_activities", Json{{"i", i}});
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(received.load(), 4 * 3 * kPerThread);
}

TEST(Hub, NeverOverlapsCallsToOneSink) {
  Hub hub;
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  int received = 0;  // only touched inside the sink, which never overlaps itself
  hub.Subscribe("t1", "agent_activities", [&](std::shared_ptr<const std::string>) {
    if (inside.fetch_add(1) != 0) overlapped = true;
    ++received;
    inside.fetch_sub(1);
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) hub.Publish("t1", "agent_activities", Json{{"i", i}});
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(overlapped.load());
  EXPECT_EQ(received, 1500);
}

}  // namespace
}  // namespace opsbox::live
