// Live hub (issue #4, contracts §4): fans out JSON messages published by domain modules
// (routing statistics, agent activities, reservations) to the subscribers of a (tenant, topic),
// typically WebSocket connections. It knows neither HTTP nor sockets: a subscriber is a Sink.
//
// Topics: "queue_stats", "agent_activities", "reservations/<worker_id>" (see contracts.md §4).
// Messages are serialised once per Publish and shared by every subscriber.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.hpp"

namespace opsbox::live {

// Subscriptions across all tenants that one Hub accepts; Subscribe returns 0 past it.
inline constexpr size_t kHubSubscriptionsMax = 100'000;
// Longest tenant or topic name accepted by Subscribe and Publish.
inline constexpr size_t kTopicBytesMax = 200;

// The topic on which the composition root announces that a credential (an API key "key_…" or a
// browser session "ses_…") was revoked, once the revocation is durable. Every live connection
// opened with that credential subscribes to it and closes with kCredentialRevokedCloseCode.
std::string RevokedCredentialTopic(std::string_view credential_id);
// WebSocket close code (RFC 6455 private range) for "your credential was revoked".
inline constexpr uint16_t kCredentialRevokedCloseCode = 4001;

class Hub {  // thread-safe: every member may be called from any thread
 public:
  // Receives the serialised JSON text of each message. Called on the publisher's thread
  // (or, for the snapshot, on the subscriber's thread inside Subscribe); must not block:
  // queue the text on the connection. Calls to one subscription never overlap and arrive in
  // publication order; a Sink may call Unsubscribe on its own subscription.
  using Sink = std::function<void(std::shared_ptr<const std::string> json_text)>;

  Hub();
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Registers `sink` for (tenant, topic) and returns its id (> 0). If a Snapshot is set for a
  // prefix of `topic` (longest prefix wins) and returns a value, that value is delivered to
  // `sink` before any later Publish. Returns 0 (nothing registered) when the tenant or topic is
  // empty or longer than kTopicBytesMax, or when kHubSubscriptionsMax is reached.
  uint64_t Subscribe(std::string tenant, std::string topic, Sink sink);

  // Removes a subscription; unknown or 0 ids are ignored. When it returns (from another thread
  // than the sink's delivery), the sink is no longer running and will not be called again.
  void Unsubscribe(uint64_t id);

  // Serialises `message` once and delivers it to every subscriber of (tenant, topic), on the
  // caller's thread. Cheap when nobody subscribes (no serialisation).
  void Publish(std::string_view tenant, std::string_view topic, const Json& message);

  bool HasSubscribers(std::string_view tenant, std::string_view topic) const;

  // Number of live subscriptions (all tenants), for metrics and tests.
  size_t SubscriptionCount() const;

  // The current state sent to a new subscriber first (e.g. queue statistics), by topic prefix:
  // "queue_stats" matches the topic "queue_stats", "reservations/" matches every worker's
  // reservations topic. Setting a prefix again replaces it. The function runs on the
  // subscriber's thread and must not call back into this Hub.
  using Snapshot =
      std::function<std::optional<Json>(std::string_view tenant, std::string_view topic)>;
  void SetSnapshot(std::string topic_prefix, Snapshot snapshot);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace opsbox::live
