// Intake's projection tables (migration 7): what each event writes, in the writer's
// transaction. Personal values arrive sealed and are stored as they arrive.
#include <nlohmann/json.hpp>

#include "intake/intake.hpp"
#include "intake/internal/state.hpp"

namespace opsbox::intake::detail {
namespace {

// A sealed (or null) payload member as stored: the JSON text of the value, NULL when absent.
store::Value Sealed(const Json& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return store::Null();
  return CanonicalJson(*it);
}

Result<const Json*> Payload(const ledger::Event& e, Json& storage) {
  auto p = ledger::PayloadJson(e, storage);
  if (!p.ok() || !(*p)->is_object()) return Error::Internal(e.type + " payload is not an object");
  return *p;
}

// Why a message has its status: the outbox's sealed reason, else the provider's errors as
// "code: title; …" (WhatsApp errors[], Twilio ErrorCode), else NULL.
store::Value StatusReason(const Json& p) {
  if (p.contains("reason") && !p["reason"].is_null()) return Sealed(p, "reason");
  auto errs = p.find("errors");
  if (errs == p.end() || !errs->is_array() || errs->empty()) return store::Null();
  std::string out;
  for (const auto& e : *errs) {
    if (!e.is_object()) continue;
    const Json code = e.value("code", Json()), title = e.value("title", Json());
    if (!out.empty()) out += "; ";
    out += code.is_string() ? code.get<std::string>() : code.is_number() ? code.dump() : "";
    if (title.is_string()) out += (out.empty() ? "" : ": ") + title.get<std::string>();
  }
  return CanonicalJson(Json(out));
}

constexpr std::string_view kConversationColumns =
    "conversation_id, customer_id, channel, status, language, opened_at_us, last_activity_at_us, "
    "closed_at_us, messages, scrubbed, provider_ref";

ConversationState StateFromRow(const store::Row& r) {
  return ConversationState{r.Text(0), r.Text(1), r.Text(2), r.Text(3),
                           r.Int(6),  r.Int(7),  r.Text(10)};
}

}  // namespace

Status ProjectChannelConfigured(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, storage));
  store::Value v[] = {e.tenant_id, Text(*p, "channel"), CanonicalJson(*p), e.recorded_at.us, e.seq};
  OPSBOX_TRY(tx.Exec("INSERT INTO intake_channel_configs (tenant_id, channel, config, "
                     "updated_at_us, seq) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, channel) "
                     "DO UPDATE SET config = excluded.config, updated_at_us = "
                     "excluded.updated_at_us, seq = excluded.seq",
                     v));
  return Ok();
}

Status ProjectCustomerCreated(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, storage));
  const std::string id = Text(*p, "customer_id");
  store::Value v[] = {e.tenant_id,         id,
                      Sealed(*p, "name"),  Sealed(*p, "phone"),
                      Sealed(*p, "email"), Sealed(*p, "wa_id"),
                      Sealed(*p, "external_id"), e.recorded_at.us,
                      e.recorded_at.us};
  OPSBOX_TRY(tx.Exec("INSERT INTO intake_customers (tenant_id, customer_id, name, phone, email, "
                     "wa_id, external_id, erased, created_at_us, updated_at_us) VALUES (?, ?, ?, "
                     "?, ?, ?, ?, 0, ?, ?)",
                     v));
  for (const auto& ident : p->value("identities", Json::array())) {
    store::Value iv[] = {e.tenant_id, Text(ident, "kind"), Text(ident, "index"), id,
                         e.recorded_at.us};
    OPSBOX_TRY(tx.Exec("INSERT INTO intake_identities (tenant_id, kind, blind_index, customer_id, "
                       "created_at_us) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                       iv));
  }
  return Ok();
}

Status ProjectIdentityLinked(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, storage));
  const std::string kind = Text(*p, "kind"), id = Text(*p, "customer_id");
  store::Value iv[] = {e.tenant_id, kind, Text(*p, "index"), id, e.recorded_at.us};
  OPSBOX_TRY(tx.Exec("INSERT INTO intake_identities (tenant_id, kind, blind_index, customer_id, "
                     "created_at_us) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                     iv));
  const std::string column = kind == "whatsapp"   ? "wa_id"
                             : kind == "external" ? "external_id"
                             : kind == "phone"    ? "phone"
                                                  : "email";
  store::Value uv[] = {Sealed(*p, "value"), e.recorded_at.us, e.tenant_id, id};
  OPSBOX_TRY(tx.Exec("UPDATE intake_customers SET " + column + " = COALESCE(" + column +
                         ", ?), updated_at_us = ? WHERE tenant_id = ? AND customer_id = ?",
                     uv));
  return Ok();
}

Status ProjectConversationOpened(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, storage));
  const std::string id = Text(*p, "conversation_id");
  if (p->value("reopened", false)) {
    store::Value v[] = {e.recorded_at.us, e.tenant_id, id};
    OPSBOX_TRY(tx.Exec("UPDATE intake_conversations SET status = 'open', closed_at_us = 0, "
                       "last_activity_at_us = ? WHERE tenant_id = ? AND conversation_id = ?",
                       v));
    return Ok();
  }
  store::Value v[] = {e.tenant_id,         id, Text(*p, "customer_id"), Text(*p, "channel"),
                      Text(*p, "language"), e.recorded_at.us, e.recorded_at.us};
  OPSBOX_TRY(tx.Exec("INSERT INTO intake_conversations (tenant_id, conversation_id, customer_id, "
                     "channel, status, language, provider_ref, opened_at_us, "
                     "last_activity_at_us, closed_at_us, messages, scrubbed) VALUES (?, ?, ?, ?, "
                     "'open', ?, '', ?, ?, 0, 0, 0)",
                     v));
  return Ok();
}

Status ProjectConversationClosed(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, storage));
  store::Value v[] = {e.recorded_at.us, e.tenant_id, Text(*p, "conversation_id")};
  OPSBOX_TRY(tx.Exec("UPDATE intake_conversations SET status = 'closed', closed_at_us = ? WHERE "
                     "tenant_id = ? AND conversation_id = ?",
                     v));
  return Ok();
}

// message_received and message_sent.
Status ProjectMessage(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, storage));
  const bool inbound = e.type == kMessageReceived;
  const std::string message_id = Text(*p, "message_id"), conv = Text(*p, "conversation_id");
  const std::string delivery = Text(*p, "delivery");
  const std::string provider_id = inbound ? Text(*p, "provider_message_id") : "out:" + message_id;
  const std::string status = inbound ? "received" : delivery == "none" ? "recorded" : "queued";
  store::Value v[] = {e.tenant_id,
                      message_id,
                      inbound ? "" : delivery,
                      p->value("segments", int64_t{0}),
                      Text(*p, "encoding"),
                      conv,
                      Text(*p, "customer_id"),
                      Text(*p, "channel"),
                      inbound ? "inbound" : "outbound",
                      provider_id,
                      inbound ? Text(*p, "customer_id") : Text(*p, "sender_id"),
                      Sealed(*p, "text"),
                      Sealed(*p, "content"),
                      Sealed(*p, "findings"),
                      status,
                      p->value("sent_at_us", e.recorded_at.us),
                      e.recorded_at.us,
                      e.seq};
  OPSBOX_TRY(tx.Exec("INSERT INTO intake_messages (tenant_id, message_id, delivery, segments, "
                     "encoding, conversation_id, customer_id, channel, direction, "
                     "provider_message_id, sender_id, text, content, findings, status, sent_at_us, "
                     "recorded_at_us, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                     "?, ?)",
                     v));
  store::Value cv[] = {e.recorded_at.us, Text(*p, "provider_ref"), e.tenant_id, conv};
  OPSBOX_TRY(tx.Exec("UPDATE intake_conversations SET last_activity_at_us = ?, messages = "
                     "messages + 1, provider_ref = CASE WHEN ? = '' THEN provider_ref ELSE ? END "
                     "WHERE tenant_id = ? AND conversation_id = ?",
                     std::vector<store::Value>{cv[0], cv[1], cv[1], cv[2], cv[3]}));
  if (!Text(*p, "thread_key").empty()) {
    store::Value tv[] = {e.tenant_id, Text(*p, "thread_key"), conv};
    OPSBOX_TRY(tx.Exec("INSERT INTO intake_email_threads (tenant_id, message_key, "
                       "conversation_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       tv));
  }
  if (!inbound && (delivery == "whatsapp_cloud" || delivery == "twilio_sms")) {
    store::Value ov[] = {e.tenant_id, message_id, Text(*p, "channel"), e.recorded_at.us,
                         e.recorded_at.us, e.recorded_at.us};
    OPSBOX_TRY(tx.Exec("INSERT INTO intake_outbound (tenant_id, message_id, channel, status, "
                       "attempts, next_attempt_at_us, last_status, last_error, "
                       "provider_message_id, created_at_us, updated_at_us) VALUES (?, ?, ?, "
                       "'pending', 0, ?, 0, '', '', ?, ?)",
                       ov));
  }
  return Ok();
}

Status ProjectStatusUpdated(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, storage));
  const std::string status = Text(*p, "status");
  store::Value v[] = {e.tenant_id, Text(*p, "channel"), Text(*p, "provider_message_id"), status,
                      p->value("at_us", e.recorded_at.us), e.seq};
  OPSBOX_TRY(tx.Exec("INSERT INTO intake_statuses (tenant_id, channel, provider_message_id, "
                     "status, at_us, seq) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                     v));
  const std::string message_id = Text(*p, "message_id");
  if (message_id.empty()) return Ok();
  // Receipts arrive out of order ("delivered" after "read"): the status only moves forward.
  auto rank = [](std::string_view s) {
    return s == "failed" ? 4 : s == "read" ? 3 : s == "delivered" ? 2 : s == "sent" ? 1 : 0;
  };
  store::Value q[] = {e.tenant_id, message_id};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT status FROM intake_messages WHERE "
                                              "tenant_id = ? AND message_id = ?",
                                              q));
  if (rows.empty() || rank(rows[0].Text(0)) >= rank(status)) return Ok();
  store::Value u[] = {status,
                      StatusReason(*p),
                      p->value("at_us", e.recorded_at.us),
                      p->value("dead_letter", false) ? int64_t{1} : int64_t{0},
                      e.tenant_id,
                      message_id};
  OPSBOX_TRY(tx.Exec("UPDATE intake_messages SET status = ?, status_reason = ?, status_at_us = ?, "
                     "dead_letter = ? WHERE tenant_id = ? AND message_id = ?",
                     u));
  return Ok();
}

Status ScrubConversation(store::Tx& tx, const std::string& tenant, const std::string& conv) {
  store::Value v[] = {tenant, conv};
  OPSBOX_TRY(tx.Exec("UPDATE intake_messages SET text = NULL, content = NULL, findings = NULL "
                     "WHERE tenant_id = ? AND conversation_id = ?",
                     v));
  OPSBOX_TRY(tx.Exec("UPDATE intake_conversations SET scrubbed = 1 WHERE tenant_id = ? AND "
                     "conversation_id = ?",
                     v));
  OPSBOX_TRY(tx.Exec("UPDATE intake_outbound SET status = 'cancelled' WHERE status = 'pending' "
                     "AND tenant_id = ? AND message_id IN (SELECT message_id FROM intake_messages "
                     "WHERE tenant_id = intake_outbound.tenant_id AND conversation_id = ?)",
                     v));
  return Ok();
}

Status ProjectRetentionApplied(store::Tx& tx, const ledger::Event& e, const Hooks& hooks) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, Payload(e, storage));
  if (Text(*p, "record_type") != "conversation") return Ok();
  for (const auto& id : p->value("record_ids", Json::array())) {
    if (!id.is_string()) continue;
    OPSBOX_ASSIGN_OR_RETURN(auto conv, LoadConversation(tx, e.tenant_id, id.get<std::string>()));
    if (!conv) continue;
    if (hooks.shred) {
      OPSBOX_TRY(hooks.shred(tx, e.tenant_id, conv->customer_id + "/" + conv->conversation_id,
                             e.recorded_at));
    }
    OPSBOX_TRY(ScrubConversation(tx, e.tenant_id, conv->conversation_id));
  }
  return Ok();
}

Result<std::optional<ConversationState>> LoadConversation(store::Tx& tx, std::string_view tenant,
                                                          std::string_view conversation_id) {
  store::Value p[] = {std::string(tenant), std::string(conversation_id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " + std::string(kConversationColumns) +
                                                  " FROM intake_conversations WHERE tenant_id = "
                                                  "? AND conversation_id = ?",
                                              p));
  if (rows.empty()) return std::optional<ConversationState>();
  return std::optional<ConversationState>(StateFromRow(rows[0]));
}

Result<std::optional<ConversationState>> LatestConversation(store::Tx& tx, std::string_view tenant,
                                                            std::string_view customer_id,
                                                            std::string_view channel) {
  store::Value p[] = {std::string(tenant), std::string(customer_id), std::string(channel)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT " + std::string(kConversationColumns) +
                              " FROM intake_conversations WHERE tenant_id = ? AND customer_id = ? "
                              "AND channel = ? ORDER BY opened_at_us DESC, conversation_id DESC "
                              "LIMIT 1",
                          p));
  if (rows.empty()) return std::optional<ConversationState>();
  return std::optional<ConversationState>(StateFromRow(rows[0]));
}

}  // namespace opsbox::intake::detail
