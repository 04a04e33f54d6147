// Projections of webhook events into webhook_subscriptions and webhook_outbox, and the
// subscription cache that lets the enqueue projector skip tenants without subscriptions.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "integrations/webhooks.hpp"

namespace opsbox::integrations {
namespace {

Result<Json> EventPayload(const ledger::Event& e) {
  if (e.payload_json != nullptr && e.payload_json->is_object()) return *e.payload_json;
  auto p = ParseJson(e.payload, "payload");
  if (!p.ok()) return Error::Internal(e.type + " payload is not JSON");
  if (!p->is_object()) return Error::Internal(e.type + " payload is not an object");
  return p;
}

Result<std::string> PayloadString(const Json& j, const char* key, const std::string& type) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return Error::Internal(type + " payload lacks string field " + key);
  }
  return it->get<std::string>();
}

Result<std::vector<std::string>> ParseEventTypes(std::string_view text) {
  auto j = ParseJson(text, "event_types");
  if (!j.ok() || !j->is_array()) return Error::Internal("event_types column is not an array");
  std::vector<std::string> out;
  for (const auto& v : *j) {
    if (!v.is_string()) return Error::Internal("event_types column holds a non-string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> SubscriptionCache::Matching(store::Tx& tx,
                                                             const std::string& tenant,
                                                             std::string_view event_type) {
  std::vector<std::string> out;
  {
    std::lock_guard lock(mu_);
    if (auto it = tenants_.find(tenant); it != tenants_.end()) {
      for (const auto& e : it->second) {
        if (EventTypeMatches(e.event_types, event_type)) out.push_back(e.subscription_id);
      }
      return out;
    }
  }
  // Not loaded: read through the writer's transaction, which also sees this batch's changes.
  store::Value params[] = {tenant, kWebhookSubscriptionsActiveMax};
  OPSBOX_ASSIGN_OR_RETURN(auto rows,
                          tx.Query("SELECT subscription_id, event_types FROM "
                                   "webhook_subscriptions WHERE tenant_id = ? AND status = "
                                   "'active' ORDER BY subscription_id LIMIT ?",
                                   params));
  std::vector<Entry> entries;
  for (const auto& r : rows) {
    OPSBOX_ASSIGN_OR_RETURN(auto types, ParseEventTypes(r.Text(1)));
    entries.push_back(Entry{r.Text(0), std::move(types)});
  }
  for (const auto& e : entries) {
    if (EventTypeMatches(e.event_types, event_type)) out.push_back(e.subscription_id);
  }
  std::lock_guard lock(mu_);
  if (tenants_.size() >= kSubscriptionCacheTenantsMax) tenants_.clear();
  tenants_.emplace(tenant, std::move(entries));
  return out;
}

void SubscriptionCache::Added(const std::string& tenant, Entry entry) {
  std::lock_guard lock(mu_);
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) return;
  auto& v = it->second;
  v.erase(
      std::remove_if(v.begin(), v.end(),
                     [&](const Entry& e) { return e.subscription_id == entry.subscription_id; }),
      v.end());
  v.push_back(std::move(entry));
}

void SubscriptionCache::Removed(const std::string& tenant, const std::string& subscription_id) {
  std::lock_guard lock(mu_);
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) return;
  auto& v = it->second;
  v.erase(std::remove_if(v.begin(), v.end(),
                         [&](const Entry& e) { return e.subscription_id == subscription_id; }),
          v.end());
}

bool SubscriptionCache::MayMatch(const std::string& tenant, std::string_view event_type) {
  std::lock_guard lock(mu_);
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) return true;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const Entry& e) { return EventTypeMatches(e.event_types, event_type); });
}

void SubscriptionCache::Clear() {
  std::lock_guard lock(mu_);
  tenants_.clear();
}

Status ProjectSubscriptionCreated(store::Tx& tx, const ledger::Event& e, SubscriptionCache& cache) {
  OPSBOX_ASSIGN_OR_RETURN(auto j, EventPayload(e));
  OPSBOX_ASSIGN_OR_RETURN(auto id, PayloadString(j, "subscription_id", e.type));
  OPSBOX_ASSIGN_OR_RETURN(auto url, PayloadString(j, "url", e.type));
  OPSBOX_ASSIGN_OR_RETURN(auto secret, PayloadString(j, "secret", e.type));
  auto types_it = j.find("event_types");
  if (types_it == j.end()) return Error::Internal(e.type + " payload lacks event_types");
  const std::string types_text = CanonicalJson(*types_it);
  OPSBOX_ASSIGN_OR_RETURN(auto types, ParseEventTypes(types_text));
  store::Value params[] = {e.tenant_id, id, url, types_text, secret, e.recorded_at.us};
  OPSBOX_TRY(
      tx.Exec("INSERT INTO webhook_subscriptions (tenant_id, subscription_id, url, "
              "event_types, secret, status, created_at_us) VALUES (?, ?, ?, ?, ?, "
              "'active', ?)",
              params));
  cache.Added(e.tenant_id, SubscriptionCache::Entry{id, std::move(types)});
  return Ok();
}

Status ProjectSubscriptionDeleted(store::Tx& tx, const ledger::Event& e, SubscriptionCache& cache) {
  OPSBOX_ASSIGN_OR_RETURN(auto j, EventPayload(e));
  OPSBOX_ASSIGN_OR_RETURN(auto id, PayloadString(j, "subscription_id", e.type));
  store::Value sub_params[] = {e.tenant_id, id};
  OPSBOX_TRY(
      tx.Exec("UPDATE webhook_subscriptions SET status = 'deleted' WHERE tenant_id = ? "
              "AND subscription_id = ?",
              sub_params));
  store::Value outbox_params[] = {e.recorded_at.us, e.tenant_id, id};
  OPSBOX_TRY(
      tx.Exec("UPDATE webhook_outbox SET status = 'cancelled', updated_at_us = ? WHERE "
              "tenant_id = ? AND subscription_id = ? AND status = 'pending'",
              outbox_params));
  cache.Removed(e.tenant_id, id);
  return Ok();
}

Status ProjectDeliveryReplayed(store::Tx& tx, const ledger::Event& e, SubscriptionCache&) {
  OPSBOX_ASSIGN_OR_RETURN(auto j, EventPayload(e));
  OPSBOX_ASSIGN_OR_RETURN(auto id, PayloadString(j, "subscription_id", e.type));
  auto seq_it = j.find("event_seq");
  if (seq_it == j.end() || !seq_it->is_number_integer()) {
    return Error::Internal(e.type + " payload lacks event_seq");
  }
  store::Value params[] = {e.recorded_at.us, e.recorded_at.us, e.tenant_id, id,
                           seq_it->get<int64_t>()};
  OPSBOX_TRY(
      tx.Exec("UPDATE webhook_outbox SET status = 'pending', attempts = 0, "
              "next_attempt_at_us = ?, updated_at_us = ? WHERE tenant_id = ? AND "
              "subscription_id = ? AND event_seq = ? AND status = 'dead'",
              params));
  return Ok();
}

Status EnqueueWebhookDeliveries(store::Tx& tx, const ledger::Event& e, SubscriptionCache& cache) {
  OPSBOX_ASSIGN_OR_RETURN(auto subs, cache.Matching(tx, e.tenant_id, e.type));
  if (subs.empty()) return Ok();
  // A subscription covers events after its creation: never its own creation (or deletion),
  // whichever order the projectors of this event run in.
  if (e.type == kWebhookSubscriptionCreated || e.type == kWebhookSubscriptionDeleted) {
    OPSBOX_ASSIGN_OR_RETURN(auto j, EventPayload(e));
    OPSBOX_ASSIGN_OR_RETURN(auto self, PayloadString(j, "subscription_id", e.type));
    subs.erase(std::remove(subs.begin(), subs.end(), self), subs.end());
    if (subs.empty()) return Ok();
  }
  std::vector<std::vector<store::Value>> rows;
  rows.reserve(subs.size());
  for (auto& sub : subs) {
    rows.push_back({e.tenant_id, std::move(sub), e.seq, e.event_id, e.type, e.recorded_at.us,
                    e.recorded_at.us, e.recorded_at.us});
  }
  OPSBOX_TRY(tx.ExecBatch(
      "INSERT INTO webhook_outbox (tenant_id, subscription_id, event_seq, event_id, event_type, "
      "status, attempts, next_attempt_at_us, last_status, last_error, created_at_us, "
      "updated_at_us) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, 0, '', ?, ?) "
      "ON CONFLICT (tenant_id, subscription_id, event_seq) DO NOTHING",
      rows));
  return Ok();
}

}  // namespace opsbox::integrations
