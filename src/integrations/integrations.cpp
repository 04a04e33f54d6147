#include "integrations/integrations.hpp"

namespace opsbox::integrations {

void RegisterIntegrations(ledger::Registry& registry, SubscriptionCache& cache,
                          LeasedOutbox* outbox, OutboundPolicy policy) {
  registry.AddCommand(std::string(kRecordExternalEvent), HandleRecordExternalEvent,
                      RebuildExternalEventResult);
  registry.AddCommand(std::string(kCreateWebhookSubscription),
                      [policy = std::move(policy)](store::Tx& tx, const ledger::Command& cmd,
                                                   Instant now, Random& random) {
                        return HandleCreateSubscription(tx, cmd, now, random, policy);
                      });
  registry.AddCommand(std::string(kDeleteWebhookSubscription), HandleDeleteSubscription);
  registry.AddCommand(std::string(kReplayWebhookDelivery), HandleReplayDelivery);

  registry.AddProjector(std::string(kExternalEventRecorded), ProjectExternalEventRecorded);
  registry.AddProjector(std::string(kWebhookSubscriptionCreated),
                        [&cache](store::Tx& tx, const ledger::Event& e) {
                          return ProjectSubscriptionCreated(tx, e, cache);
                        });
  registry.AddProjector(std::string(kWebhookSubscriptionDeleted),
                        [&cache](store::Tx& tx, const ledger::Event& e) {
                          return ProjectSubscriptionDeleted(tx, e, cache);
                        });
  registry.AddProjector(std::string(kWebhookDeliveryReplayed),
                        [&cache](store::Tx& tx, const ledger::Event& e) {
                          return ProjectDeliveryReplayed(tx, e, cache);
                        });
  registry.AddProjector("*", [&cache](store::Tx& tx, const ledger::Event& e) {
    return EnqueueWebhookDeliveries(tx, e, cache);
  });

  // What projectors taught the cache inside a rolled-back batch may be false: start over.
  registry.AddRollbackListener([&cache] { cache.Clear(); });
  if (outbox == nullptr) return;
  registry.AddCommittedListener([&cache, outbox](const std::vector<ledger::Event>& events) {
    for (const auto& e : events) {
      if (e.type == kWebhookDeliveryReplayed || cache.MayMatch(e.tenant_id, e.type)) {
        outbox->Wake();
        return;
      }
    }
  });
}

}  // namespace opsbox::integrations
