// Outbound replies: delivers message_sent events of WhatsApp and SMS conversations to the WhatsApp
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

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "intake/intake.hpp"
#include "integrations/leased_outbox.hpp"
#include "ledger/event.hpp"
#include "store/store.hpp"

namespace opsbox::intake {

// Pure: the WhatsApp Cloud API send-message request.
integrations::OutboundRequest WhatsAppSendRequest(std::string_view api_base_url,
                                                  std::string_view phone_number_id,
                                                  std::string_view access_token,
                                                  std::string_view to_wa_id, std::string_view text,
                                                  int timeout_ms);

// What the reply kinds share: the intake_outbound table (one channel each), and reporting each
// recorded outcome on the ledger — a 2xx as record_delivery {outcome:"sent"} with the
// provider's id, a dead letter as {outcome:"dead", reason: last_error} — through `report`
// (set by the composition root to the writer's Submit before the outbox starts; command id
// "delivery:<message_id>:<lease>:<attempt>:<outcome>", so a resubmission is answered once).
// A crash between the outbox's update and the append loses that status event; the row itself
// stays right.
class ReplyDelivery : public integrations::DeliveryKind {
 public:
  using Report = std::function<void(ledger::Command)>;
  void SetReport(Report report) { report_ = std::move(report); }
  std::string_view table() const override { return "intake_outbound"; }
  const std::vector<std::string>& key_columns() const override;
  void Recorded(const integrations::OutboxRow& row,
                const integrations::DeliveryOutcome& outcome) override;
  // A 4xx other than 408 and 429 is the provider refusing this message (an invalid or
  // unreachable number, a template or window rule): sending it again cannot help.
  bool Permanent(const integrations::OutboundResponse& response) const override;
  // "HTTP <status>: <code> <message>" from Twilio's {code, message} or the Cloud API's
  // {error:{code, message}} (at most kResponseExcerptBytesMax bytes of the message), else the
  // outbox's excerpt.
  std::string Describe(const integrations::OutboundResponse& response) const override;

 private:
  Report report_;
};

class WhatsAppReplyDelivery final : public ReplyDelivery {
 public:
  explicit WhatsAppReplyDelivery(const Intake& intake, integrations::RetryOptions retry = {})
      : intake_(intake), retry_(retry) {}

  std::string_view name() const override { return "whatsapp_reply"; }
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

// Pure: Twilio's Messages resource request, POST {api_base_url}/2010-04-01/Accounts/{sid}/
// Messages.json with HTTP Basic auth (account_sid:auth_token) and the form body To, From, Body.
integrations::OutboundRequest TwilioSendRequest(std::string_view api_base_url,
                                                std::string_view account_sid,
                                                std::string_view auth_token, std::string_view to,
                                                std::string_view from, std::string_view body,
                                                int timeout_ms);

// SMS replies (issue #14) through a Twilio-style API; settings account_sid, from_number,
// api_base_url and secret auth_token from the tenant's sms channel configuration; the customer's
// phone number opened at delivery. A 2xx keeps the answer's "sid" (status callbacks name it).
// A message to a number that opted out meanwhile (STOP after the reply was queued) is dead at
// once with that reason, never sent.
class SmsReplyDelivery final : public ReplyDelivery {
 public:
  explicit SmsReplyDelivery(const Intake& intake, integrations::RetryOptions retry = {})
      : intake_(intake), retry_(retry) {}

  std::string_view name() const override { return "sms_reply"; }
  std::string_view claim_query() const override;
  const integrations::RetryOptions& retry() const override { return retry_; }
  Result<integrations::Delivery> Prepare(store::Connection& conn,
                                         const integrations::OutboxRow& row,
                                         Instant sent_at) override;
  std::vector<std::pair<std::string, store::Value>> Delivered(
      const integrations::OutboxRow& row, const integrations::OutboundResponse& response) override;

 private:
  const Intake& intake_;
  integrations::RetryOptions retry_;
};

}  // namespace opsbox::intake
