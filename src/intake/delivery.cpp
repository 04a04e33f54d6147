// Delivery status of outbound messages (issue #14): the reply outbox's outcomes as ledger events
// (record_delivery) and an agent's retry of a failed message (retry_message), with their
// projections onto intake_messages and intake_outbound.
#include <nlohmann/json.hpp>

#include "intake/intake.hpp"
#include "intake/internal/state.hpp"

namespace opsbox::intake::detail {
namespace {

constexpr size_t kReasonBytesMax = 500;  // a dead letter's reason (the outbox keeps as much)

struct OutboundMessage {
  std::string conversation_id, customer_id, channel, direction, status, delivery;
};

Result<std::optional<OutboundMessage>> LoadMessage(store::Tx& tx, std::string_view tenant,
                                                   std::string_view message_id) {
  store::Value p[] = {std::string(tenant), std::string(message_id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT conversation_id, customer_id, channel, "
                                              "direction, status, delivery FROM intake_messages "
                                              "WHERE tenant_id = ? AND message_id = ?",
                                              p));
  if (rows.empty()) return std::optional<OutboundMessage>();
  const auto& r = rows[0];
  return std::optional<OutboundMessage>(
      OutboundMessage{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5)});
}

Result<const Json*> Payload(const ledger::Event& e, Json& storage) {
  auto p = ledger::PayloadJson(e, storage);
  if (!p.ok() || !(*p)->is_object()) return Error::Internal(e.type + " payload is not an object");
  return *p;
}

}  // namespace

Result<ledger::Decision> HandleRecordDelivery(store::Tx& tx, const ledger::Command& cmd,
                                              Instant now, Random&) {
  const Json& body = cmd.payload;
  OPSBOX_TRY(CheckObjectKeys(
      body, {"message_id", "outcome", "provider_message_id", "reason", "attempts"}));
  OPSBOX_ASSIGN_OR_RETURN(auto message_id, RequireString(body, "message_id", 64));
  const Json outcome_value = body.value("outcome", Json());
  if (outcome_value != Json("sent") && outcome_value != Json("dead")) {
    return Error::Invalid("outcome", "enum", "outcome must be sent or dead");
  }
  const bool sent = outcome_value == Json("sent");
  OPSBOX_ASSIGN_OR_RETURN(auto provider_id,
                          OptionalString(body, "provider_message_id", kProviderIdBytesMax, ""));
  OPSBOX_ASSIGN_OR_RETURN(auto reason, OptionalString(body, "reason", kReasonBytesMax, ""));
  const int64_t attempts =
      body.value("attempts", Json(0)).is_number_integer() ? body.value("attempts", int64_t{0}) : 0;
  OPSBOX_ASSIGN_OR_RETURN(auto m, LoadMessage(tx, cmd.tenant_id, message_id));
  ledger::Decision d;
  d.result = Json{{"message_id", message_id}, {"recorded", false}};
  // A message erased meanwhile, or one an agent retried after this outcome was taken, keeps
  // its status: an outcome only ever describes a queued message.
  if (!m || m->direction != "outbound" || m->status == "failed") return d;
  if (!sent && m->status != "queued") return d;
  Json p{{"message_id", message_id},
         {"conversation_id", m->conversation_id},
         {"channel", m->channel},
         {"provider_message_id", provider_id.empty() ? "out:" + message_id : provider_id},
         {"status", sent ? "sent" : "failed"},
         {"at_us", now.us},
         {"source", "outbox"},
         {"attempts", attempts},
         {"dead_letter", !sent}};
  std::vector<std::string> sealed;
  if (!reason.empty()) {
    p["reason"] = reason;
    sealed.push_back("reason");
  }
  d.events.push_back(Personal(kMessageStatusUpdated, std::move(p),
                              Scope(m->customer_id, m->conversation_id), std::move(sealed)));
  d.result["recorded"] = true;
  return d;
}

Result<ledger::Decision> HandleRetryMessage(store::Tx& tx, const ledger::Command& cmd, Instant,
                                            Random&, const Intake& intake) {
  OPSBOX_TRY(CheckObjectKeys(cmd.payload, {"conversation_id", "message_id"}));
  OPSBOX_ASSIGN_OR_RETURN(auto conversation_id, RequireString(cmd.payload, "conversation_id", 64));
  OPSBOX_ASSIGN_OR_RETURN(auto message_id, RequireString(cmd.payload, "message_id", 64));
  OPSBOX_ASSIGN_OR_RETURN(auto m, LoadMessage(tx, cmd.tenant_id, message_id));
  if (!m || m->conversation_id != conversation_id) {
    return Error::NotFound("no message " + message_id + " in conversation " + conversation_id);
  }
  MessageRecord probe;
  probe.direction = m->direction;
  probe.status = m->status;
  probe.delivery = m->delivery;
  if (m->direction != "outbound" || m->delivery.empty() || m->delivery == "none") {
    return Error::Conflict("channel_not_replyable",
                           "no provider delivers this message: there is nothing to retry");
  }
  if (!probe.retryable()) {
    return Error::Conflict("not_failed",
                           "only a failed message can be retried; this one is " + m->status);
  }
  OPSBOX_ASSIGN_OR_RETURN(auto conv, LoadConversation(tx, cmd.tenant_id, conversation_id));
  if (!conv || conv->status != "open") {
    return Error::Conflict("conversation_closed", "the conversation is closed");
  }
  OPSBOX_TRY(CheckNotOptedOut(tx, cmd.tenant_id, m->channel, m->customer_id, intake.hooks()));
  ledger::Decision d;
  d.events.push_back(ledger::NewEvent{std::string(kMessageRetryRequested),
                                      Json{{"message_id", message_id},
                                           {"conversation_id", conversation_id},
                                           {"customer_id", m->customer_id},
                                           {"channel", m->channel},
                                           {"delivery", m->delivery}}});
  d.result =
      Json{{"message_id", message_id}, {"conversation_id", conversation_id}, {"status", "queued"}};
  return d;
}

Status CheckNotOptedOut(store::Tx& tx, std::string_view tenant, std::string_view channel,
                        std::string_view customer_id, const Hooks& hooks) {
  if (channel != kSms || !hooks.opted_out) return Ok();
  OPSBOX_ASSIGN_OR_RETURN(bool out, hooks.opted_out(tx, tenant, customer_id, channel));
  if (out) {
    return Error::Conflict("opted_out",
                           "the customer opted out of SMS (STOP); nothing is sent until they "
                           "text START");
  }
  return Ok();
}

Status ProjectRetryRequested(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, storage));
  const std::string message_id = Text(*p, "message_id");
  store::Value m[] = {e.recorded_at.us, e.tenant_id, message_id};
  OPSBOX_TRY(
      tx.Exec("UPDATE intake_messages SET status = 'queued', status_reason = NULL, "
              "status_at_us = ?, dead_letter = 0 WHERE tenant_id = ? AND message_id = ?",
              m));
  store::Value o[] = {e.tenant_id,      message_id,       Text(*p, "channel"),
                      e.recorded_at.us, e.recorded_at.us, e.recorded_at.us};
  OPSBOX_TRY(
      tx.Exec("INSERT INTO intake_outbound (tenant_id, message_id, channel, status, "
              "attempts, next_attempt_at_us, last_status, last_error, "
              "provider_message_id, created_at_us, updated_at_us) VALUES (?, ?, ?, "
              "'pending', 0, ?, 0, '', '', ?, ?) ON CONFLICT (tenant_id, message_id) DO "
              "UPDATE SET status = 'pending', attempts = 0, next_attempt_at_us = "
              "excluded.next_attempt_at_us, last_status = 0, last_error = '', "
              "provider_message_id = '', updated_at_us = excluded.updated_at_us",
              o));
  return Ok();
}

}  // namespace opsbox::intake::detail
