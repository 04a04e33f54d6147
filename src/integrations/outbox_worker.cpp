#include "integrations/outbox_worker.hpp"

#include <nlohmann/json.hpp>

#include "integrations/webhooks.hpp"
#include "ledger/event.hpp"

namespace opsbox::integrations {
namespace {

// Columns 0-2 are the key, 3-4 attempts and next_attempt_at_us (LeasedOutbox's layout).
constexpr std::string_view kClaimQuery =
    "SELECT o.tenant_id, o.subscription_id, o.event_seq, o.attempts, o.next_attempt_at_us, "
    "s.url, s.secret, e.event_id, e.recorded_at_us, e.actor, e.command_id, e.type, e.payload, "
    "e.prev_hash, e.hash "
    "FROM webhook_outbox o "
    "JOIN webhook_subscriptions s ON s.tenant_id = o.tenant_id AND "
    "s.subscription_id = o.subscription_id "
    "JOIN ledger_events e ON e.tenant_id = o.tenant_id AND e.seq = o.event_seq "
    "WHERE o.status = 'pending' AND o.next_attempt_at_us <= ? AND s.status = 'active' "
    "ORDER BY o.next_attempt_at_us LIMIT ?";

// The delivered body: the event's outbound view, the same that ledger reads and exports give
// (no credential, signing secret or their hashes, sealed or not).
std::string DeliveryBody(const ledger::Event& e) { return CanonicalJson(e.ToOutboundJson()); }

}  // namespace

const std::vector<std::string>& WebhookDelivery::key_columns() const {
  static const std::vector<std::string> kKeys = {"tenant_id", "subscription_id", "event_seq"};
  return kKeys;
}

std::string_view WebhookDelivery::claim_query() const { return kClaimQuery; }

Result<Delivery> WebhookDelivery::Prepare(store::Connection&, const OutboxRow& row,
                                          Instant sent_at) {
  const store::Row& r = row.row;
  const ledger::Event event{r.Text(0),  r.Int(2),   r.Text(7),  Instant{r.Int(8)}, r.Text(9),
                            r.Text(10), r.Text(11), r.Text(12), r.Text(13),        r.Text(14)};
  Delivery d;
  d.request.method = "POST";
  d.request.url = r.Text(5);
  d.request.body = DeliveryBody(event);
  d.request.headers = {
      {"Content-Type", "application/json"},
      {"Opsbox-Event-Id", event.event_id},
      {"Opsbox-Delivery-Attempt", std::to_string(row.attempts + 1)},
      {std::string(kSignatureHeader), SignWebhook(r.Text(6), sent_at, d.request.body)}};
  return d;
}

}  // namespace opsbox::integrations
