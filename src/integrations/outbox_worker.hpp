// Webhook deliveries: the kind of the leased outbox (leased_outbox.hpp) that delivers
// webhook_outbox rows to their subscriptions' URLs, at least once. The request is
//   POST <url>   body: the event's outbound view, ledger::Event::ToOutboundJson() (no
//                      credential, signing secret or their hashes, sealed or not)
//   Content-Type: application/json
//   Opsbox-Event-Id: <event_id>            receivers de-duplicate on it
//   Opsbox-Delivery-Attempt: <n>           1 for the first attempt
//   Opsbox-Signature: t=<unix s>,v1=<hex>  see webhook_signature.hpp
// Rows of subscriptions that are not active are not claimed. Claims, retries, dead letters and
// the outbound policy's refusals are the leased outbox's (one place for each policy).
//
// Thread safety: immutable after construction; Prepare may run on several threads at once.
#pragma once

#include <string>
#include <vector>

#include "integrations/leased_outbox.hpp"
#include "integrations/webhook_signature.hpp"

namespace opsbox::integrations {

class WebhookDelivery final : public DeliveryKind {
 public:
  explicit WebhookDelivery(RetryOptions retry = {}) : retry_(retry) {}

  std::string_view name() const override { return "webhook"; }
  std::string_view table() const override { return "webhook_outbox"; }
  const std::vector<std::string>& key_columns() const override;
  std::string_view claim_query() const override;
  const RetryOptions& retry() const override { return retry_; }
  Result<Delivery> Prepare(store::Connection& conn, const OutboxRow& row, Instant sent_at) override;

 private:
  RetryOptions retry_;
};

}  // namespace opsbox::integrations
