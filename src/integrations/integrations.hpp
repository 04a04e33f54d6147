// The integrations module's public header: external events in, webhooks out through the outbox.
// Other modules and the composition root include this file only.
#pragma once

#include "integrations/external_events.hpp"
#include "integrations/http_client.hpp"
#include "integrations/outbound_policy.hpp"
#include "integrations/leased_outbox.hpp"
#include "integrations/outbox_worker.hpp"
#include "integrations/webhook_signature.hpp"
#include "integrations/webhooks.hpp"
#include "ledger/registry.hpp"

namespace opsbox::integrations {

// Registers the commands record_external_event, create_webhook_subscription,
// delete_webhook_subscription and replay_webhook_delivery, their projectors, the outbox enqueue
// projector ("*"), a rollback listener that clears `cache`, and a committed listener that wakes
// `outbox` (may be null) when a committed batch may have enqueued deliveries. `cache` and `outbox`
// must outlive every writer using `registry`. `policy` (kept by copy) checks subscription URLs
// when they are saved. Call once, before the writer starts.
void RegisterIntegrations(ledger::Registry& registry, SubscriptionCache& cache,
                          LeasedOutbox* outbox, OutboundPolicy policy);

}  // namespace opsbox::integrations
