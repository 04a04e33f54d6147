// Outbound replies: delivers message_sent events of WhatsApp conversations to the WhatsApp
// Cloud API, at least once, from the intake_outbound table (the reply outbox; the projector of
// message_sent fills it in the event's transaction).
//
// Request: POST {api_base_url}/{phone_number_id}/messages, Authorization: Bearer
// {access_token}, body {"messaging_product":"whatsapp","recipient_type":"individual",
// "to":<wa_id>,"type":"text","text":{"preview_url":false,"body":<text>}} — settings and
// secrets from the tenant's whatsapp channel configuration, wa_id and text opened through
// Hooks::open at delivery time (never copied out of their sealed form into the table).
// A 2xx answer marks the row 'delivered' and keeps messages[0].id as its provider message id
// (statuses webhooks refer to it). A row whose text or recipient was erased, or whose channel is
// not configured, is 'dead' at once. Claims, retries, dead letters and stop are the leased
// outbox's (integrations/leased_outbox.hpp): one loop serves webhooks and replies.
//
// Thread safety: Prepare may run on several threads at once. `intake` must outlive the kind.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "intake/intake.hpp"
#include "integrations/leased_outbox.hpp"
#include "store/store.hpp"

namespace opsbox::intake {

// Pure: the WhatsApp Cloud API send-message request.
integrations::OutboundRequest WhatsAppSendRequest(std::string_view api_base_url,
                                                  std::string_view phone_number_id,
                                                  std::string_view access_token,
                                                  std::string_view to_wa_id, std::string_view text,
                                                  int timeout_ms);

class WhatsAppReplyDelivery final : public integrations::DeliveryKind {
 public:
  explicit WhatsAppReplyDelivery(const Intake& intake, integrations::RetryOptions retry = {})
      : intake_(intake), retry_(retry) {}

  std::string_view name() const override { return "whatsapp_reply"; }
  std::string_view table() const override { return "intake_outbound"; }
  const std::vector<std::string>& key_columns() const override;
  std::string_view claim_query() const override;
  const integrations::RetryOptions& retry() const override { return retry_; }
  Result<integrations::Delivery> Prepare(store::Connection& conn,
                                         const integrations::OutboxRow& row,
                                         Instant sent_at) override;
  // Keeps the provider's message id (messages[0].id) in provider_message_id.
  std::vector<std::pair<std::string, store::Value>> Delivered(
      const integrations::OutboxRow& row, const integrations::OutboundResponse& response) override;

 private:
  const Intake& intake_;
  integrations::RetryOptions retry_;
};

}  // namespace opsbox::intake
