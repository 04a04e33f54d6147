#include "live/hub.hpp"

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "core/assert.hpp"

namespace opsbox::live {
namespace {

// One subscription. `delivery` serialises calls to the sink (snapshot, then publications);
// it is recursive so that a sink may unsubscribe itself.
struct Subscription {
  uint64_t id = 0;
  std::string key;
  Hub::Sink sink;
  std::recursive_mutex delivery;
  bool active = true;  // guarded by `delivery`
};

using SubscriptionPtr = std::shared_ptr<Subscription>;

std::string Key(std::string_view tenant, std::string_view topic) {
  std::string key;
  key.reserve(tenant.size() + 1 + topic.size());
  key.append(tenant).push_back('\n');  // '\n' never appears in a tenant id
  key.append(topic);
  return key;
}

bool ValidName(std::string_view name) {
  return !name.empty() && name.size() <= kTopicBytesMax &&
         name.find('\n') == std::string_view::npos;
}

void Deliver(Subscription& sub, const std::shared_ptr<const std::string>& text) {
  std::lock_guard lock(sub.delivery);
  if (sub.active) sub.sink(text);
}

}  // namespace

struct Hub::State {
  mutable std::shared_mutex mutex;  // guards everything below
  uint64_t next_id = 1;
  std::unordered_map<std::string, std::vector<SubscriptionPtr>> by_key;
  std::unordered_map<uint64_t, SubscriptionPtr> by_id;
  std::map<std::string, Snapshot, std::less<>> snapshots;

  // The snapshot function of the longest prefix of `topic`, or null.
  Snapshot FindSnapshot(std::string_view topic) const {
    Snapshot found;
    size_t found_length = 0;
    for (const auto& [prefix, fn] : snapshots) {
      if (topic.starts_with(prefix) && (!found || prefix.size() > found_length)) {
        found = fn;
        found_length = prefix.size();
      }
    }
    return found;
  }
};

Hub::Hub() : state_(std::make_unique<State>()) {}

Hub::~Hub() = default;

uint64_t Hub::Subscribe(std::string tenant, std::string topic, Sink sink) {
  OPSBOX_ASSERT_MSG(static_cast<bool>(sink), "Hub::Subscribe needs a sink");
  if (!ValidName(tenant) || !ValidName(topic)) return 0;
  auto sub = std::make_shared<Subscription>();
  sub->key = Key(tenant, topic);
  sub->sink = std::move(sink);
  // Holding the delivery lock from registration until the snapshot is delivered makes every
  // publication after registration arrive after the snapshot.
  std::lock_guard delivery(sub->delivery);
  Snapshot snapshot;
  {
    std::unique_lock lock(state_->mutex);
    if (state_->by_id.size() >= kHubSubscriptionsMax) return 0;
    sub->id = state_->next_id++;
    state_->by_key[sub->key].push_back(sub);
    state_->by_id.emplace(sub->id, sub);
    snapshot = state_->FindSnapshot(topic);
  }
  if (snapshot) {
    std::optional<Json> first = snapshot(tenant, topic);
    if (first && sub->active) sub->sink(std::make_shared<const std::string>(
          first->dump(-1, ' ', false, Json::error_handler_t::replace)));
  }
  return sub->id;
}

void Hub::Unsubscribe(uint64_t id) {
  SubscriptionPtr sub;
  {
    std::unique_lock lock(state_->mutex);
    auto it = state_->by_id.find(id);
    if (it == state_->by_id.end()) return;
    sub = std::move(it->second);
    state_->by_id.erase(it);
    auto list = state_->by_key.find(sub->key);
    OPSBOX_ASSERT(list != state_->by_key.end());
    std::erase(list->second, sub);
    if (list->second.empty()) state_->by_key.erase(list);
  }
  std::lock_guard delivery(sub->delivery);  // waits for a delivery in progress
  sub->active = false;
}

std::string RevokedCredentialTopic(std::string_view credential_id) {
  return "credential_revoked/" + std::string(credential_id);
}

void Hub::Publish(std::string_view tenant, std::string_view topic, const Json& message) {
  std::vector<SubscriptionPtr> targets;
  {
    std::shared_lock lock(state_->mutex);
    auto it = state_->by_key.find(Key(tenant, topic));
    if (it == state_->by_key.end()) return;
    targets = it->second;
  }
  auto text = std::make_shared<const std::string>(
      message.dump(-1, ' ', false, Json::error_handler_t::replace));
  for (const auto& sub : targets) Deliver(*sub, text);
}

bool Hub::HasSubscribers(std::string_view tenant, std::string_view topic) const {
  std::shared_lock lock(state_->mutex);
  return state_->by_key.contains(Key(tenant, topic));
}

size_t Hub::SubscriptionCount() const {
  std::shared_lock lock(state_->mutex);
  return state_->by_id.size();
}

void Hub::SetSnapshot(std::string topic_prefix, Snapshot snapshot) {
  std::unique_lock lock(state_->mutex);
  state_->snapshots[std::move(topic_prefix)] = std::move(snapshot);
}

}  // namespace opsbox::live
