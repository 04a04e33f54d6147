// Registration, erasure and retention hooks, and the read queries of intake.
#include "intake/intake.hpp"

#include <nlohmann/json.hpp>

#include "core/limits.hpp"
#include "intake/internal/state.hpp"

namespace opsbox::intake {
namespace detail {
Result<ledger::Decision> HandleReceiveInbound(store::Tx&, const ledger::Command&, Instant, Random&,
                                              const Intake&);
Result<ledger::Decision> HandleSendMessage(store::Tx&, const ledger::Command&, Instant, Random&,
                                           const Intake&);
Result<ledger::Decision> HandleCloseConversation(store::Tx&, const ledger::Command&, Instant,
                                                 Random&);
Result<ledger::Decision> HandleSignatureRejected(store::Tx&, const ledger::Command&, Instant,
                                                 Random&);
Result<ledger::Decision> HandleConfigureChannel(store::Tx&, const ledger::Command&, Instant,
                                                Random&, const Intake&);
Result<ledger::Decision> HandleRecordDelivery(store::Tx&, const ledger::Command&, Instant, Random&);
Result<ledger::Decision> HandleRetryMessage(store::Tx&, const ledger::Command&, Instant, Random&,
                                            const Intake&);
Status ProjectRetryRequested(store::Tx&, const ledger::Event&);
Status ProjectChannelConfigured(store::Tx&, const ledger::Event&);
Status ProjectCustomerCreated(store::Tx&, const ledger::Event&);
Status ProjectIdentityLinked(store::Tx&, const ledger::Event&);
Status ProjectConversationOpened(store::Tx&, const ledger::Event&);
Status ProjectConversationClosed(store::Tx&, const ledger::Event&);
Status ProjectMessage(store::Tx&, const ledger::Event&);
Status ProjectStatusUpdated(store::Tx&, const ledger::Event&);
Status ProjectRetentionApplied(store::Tx&, const ledger::Event&, const Hooks&);
Status ScrubConversation(store::Tx&, const std::string& tenant, const std::string& conv);
}  // namespace detail

namespace {

constexpr std::string_view kMessageColumns =
    "message_id, conversation_id, customer_id, channel, direction, provider_message_id, "
    "sender_id, status, text, content, findings, sent_at_us, recorded_at_us, seq, status_reason, "
    "status_at_us, dead_letter, delivery, segments, encoding";

Json ParseStored(const store::Row& r, size_t i) {
  if (r.IsNull(i)) return Json();
  return Json::parse(r.Text(i), nullptr, false);
}

MessageRecord MessageFromRow(const store::Row& r) {
  MessageRecord m;
  m.message_id = r.Text(0);
  m.conversation_id = r.Text(1);
  m.customer_id = r.Text(2);
  m.channel = r.Text(3);
  m.direction = r.Text(4);
  m.provider_message_id = r.Text(5);
  m.sender_id = r.Text(6);
  m.status = r.Text(7);
  m.text = ParseStored(r, 8);
  m.content = ParseStored(r, 9);
  m.findings = ParseStored(r, 10);
  m.sent_at = Instant{r.Int(11)};
  m.recorded_at = Instant{r.Int(12)};
  m.seq = r.Int(13);
  m.status_reason = ParseStored(r, 14);
  m.status_at = Instant{r.Int(15)};
  m.dead_letter = r.Int(16) != 0;
  m.delivery = r.Text(17);
  m.segments = r.Int(18);
  m.encoding = r.Text(19);
  return m;
}

constexpr std::string_view kConversationColumns =
    "conversation_id, customer_id, channel, status, language, opened_at_us, last_activity_at_us, "
    "closed_at_us, messages, scrubbed";

ConversationRecord ConversationFromRow(const store::Row& r) {
  ConversationRecord c;
  c.conversation_id = r.Text(0);
  c.customer_id = r.Text(1);
  c.channel = r.Text(2);
  c.status = r.Text(3);
  c.language = r.Text(4);
  c.opened_at = Instant{r.Int(5)};
  c.last_activity_at = Instant{r.Int(6)};
  c.closed_at = Instant{r.Int(7)};
  c.messages = r.Int(8);
  c.scrubbed = r.Int(9) != 0;
  return c;
}

size_t Clamp(size_t limit) {
  return limit == 0 ? limits::kPageSizeDefault : std::min(limit, limits::kPageSizeMax);
}

}  // namespace

bool IsChannel(std::string_view c) {
  return c == kWhatsApp || c == kVoice || c == kEmail || c == kChat || c == kSms;
}

Intake::Intake(Hooks hooks, IntakeOptions options)
    : hooks_(std::move(hooks)), options_(std::move(options)) {}
Intake::~Intake() = default;

void Intake::Register(ledger::Registry& registry) const {
  auto with = [this](auto fn) {
    return [this, fn](store::Tx& tx, const ledger::Command& cmd, Instant now, Random& rnd) {
      return fn(tx, cmd, now, rnd, *this);
    };
  };
  registry.AddCommand(std::string(kConfigureChannel), with(detail::HandleConfigureChannel));
  registry.AddCommand(std::string(kReceiveInbound), with(detail::HandleReceiveInbound));
  registry.AddCommand(std::string(kSendMessage), with(detail::HandleSendMessage));
  registry.AddCommand(std::string(kCloseConversation), detail::HandleCloseConversation);
  registry.AddCommand(std::string(kRecordSignatureRejected), detail::HandleSignatureRejected);
  registry.AddCommand(std::string(kRecordDelivery), detail::HandleRecordDelivery);
  registry.AddCommand(std::string(kRetryMessage), with(detail::HandleRetryMessage));
  // Emitted here, projected elsewhere or nowhere (privacy::Governance projects the exceptions).
  registry.DeclareEvents({kChannelSignatureRejected, kSensitiveDataExceptionRecorded});
  registry.AddProjector(std::string(kChannelConfigured), detail::ProjectChannelConfigured);
  registry.AddProjector(std::string(kCustomerCreated), detail::ProjectCustomerCreated);
  registry.AddProjector(std::string(kCustomerIdentityLinked), detail::ProjectIdentityLinked);
  registry.AddProjector(std::string(kConversationOpened), detail::ProjectConversationOpened);
  registry.AddProjector(std::string(kConversationClosed), detail::ProjectConversationClosed);
  registry.AddProjector(std::string(kMessageReceived), detail::ProjectMessage);
  registry.AddProjector(std::string(kMessageSent), detail::ProjectMessage);
  registry.AddProjector(std::string(kMessageStatusUpdated), detail::ProjectStatusUpdated);
  registry.AddProjector(std::string(kMessageRetryRequested), detail::ProjectRetryRequested);
  registry.AddProjector(std::string(kRetentionApplied),
                        [this](store::Tx& tx, const ledger::Event& e) {
                          return detail::ProjectRetentionApplied(tx, e, hooks_);
                        });
}

Result<std::optional<Json>> Intake::ChannelConfig(store::Connection& conn, std::string_view tenant,
                                                  std::string_view channel) const {
  store::Value p[] = {std::string(tenant), std::string(channel)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT config FROM intake_channel_configs WHERE "
                                                "tenant_id = ? AND channel = ?",
                                                p));
  if (rows.empty()) return std::optional<Json>();
  Json stored = Json::parse(rows[0].Text(0), nullptr, false);
  if (!stored.is_object()) return Error::Internal("intake_channel_configs holds malformed JSON");
  Json out{{"channel", std::string(channel)},
           {"settings", stored.value("settings", Json::object())},
           {"secrets", Json::object()}};
  for (const auto& name : stored.value("secret_names", Json::array())) {
    if (!name.is_string() || !stored.contains(name.get<std::string>())) continue;
    const Json& sealed = stored[name.get<std::string>()];
    std::optional<Json> opened = sealed;
    if (hooks_.open) {
      OPSBOX_ASSIGN_OR_RETURN(opened, hooks_.open(conn, tenant, sealed));
    }
    out["secrets"][name.get<std::string>()] =
        opened && opened->is_string() ? opened->get<std::string>() : "";
  }
  return std::optional<Json>(std::move(out));
}

Result<std::optional<std::string>> Intake::FindCustomer(store::Connection& conn,
                                                        std::string_view tenant,
                                                        std::string_view kind,
                                                        std::string_view raw) const {
  std::string normalized(raw);
  if (kind == "phone") {
    OPSBOX_ASSIGN_OR_RETURN(normalized, NormalizePhone(raw, options_.default_region, "phone"));
  } else if (kind == "email") {
    OPSBOX_ASSIGN_OR_RETURN(normalized, NormalizeEmail(raw, "email"));
  } else if (kind != "whatsapp" && kind != "external") {
    return Error::Invalid("kind", "enum", "unknown identifier kind");
  }
  store::Value p[] = {std::string(tenant), std::string(kind),
                      hooks_.blind_index(tenant, kind, normalized)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT customer_id FROM intake_identities WHERE "
                                                "tenant_id = ? AND kind = ? AND blind_index = ?",
                                                p));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].Text(0));
}

Status Intake::ScrubSubject(store::Tx& tx, const std::string& tenant,
                            const std::string& subject_id) const {
  const size_t slash = subject_id.find('/');
  if (slash != std::string::npos) {
    return detail::ScrubConversation(tx, tenant, subject_id.substr(slash + 1));
  }
  if (subject_id.rfind("cus_", 0) != 0) return Ok();
  store::Value v[] = {tenant, subject_id};
  OPSBOX_TRY(tx.Exec("DELETE FROM intake_identities WHERE tenant_id = ? AND customer_id = ?", v));
  OPSBOX_TRY(tx.Exec("UPDATE intake_customers SET name = NULL, phone = NULL, email = NULL, "
                     "wa_id = NULL, external_id = NULL, erased = 1 WHERE tenant_id = ? AND "
                     "customer_id = ?",
                     v));
  OPSBOX_ASSIGN_OR_RETURN(auto convs, tx.Query("SELECT conversation_id FROM intake_conversations "
                                               "WHERE tenant_id = ? AND customer_id = ?",
                                               v));
  for (const auto& r : convs) OPSBOX_TRY(detail::ScrubConversation(tx, tenant, r.Text(0)));
  return Ok();
}

Result<std::vector<std::string>> Intake::ExpiredConversations(store::Tx& tx,
                                                              std::string_view tenant,
                                                              Instant before,
                                                              size_t limit) const {
  store::Value p[] = {std::string(tenant), before.us, static_cast<int64_t>(Clamp(limit))};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT conversation_id FROM intake_conversations "
                                              "WHERE tenant_id = ? AND status = 'closed' AND "
                                              "scrubbed = 0 AND closed_at_us < ? ORDER BY "
                                              "closed_at_us, conversation_id LIMIT ?",
                                              p));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.Text(0));
  return out;
}

Result<std::optional<CustomerRecord>> GetCustomer(store::Connection& conn, std::string_view tenant,
                                                  std::string_view customer_id) {
  store::Value p[] = {std::string(tenant), std::string(customer_id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT customer_id, name, phone, email, wa_id, "
                                                "external_id, erased, created_at_us, "
                                                "updated_at_us FROM intake_customers WHERE "
                                                "tenant_id = ? AND customer_id = ?",
                                                p));
  if (rows.empty()) return std::optional<CustomerRecord>();
  const auto& r = rows[0];
  CustomerRecord c{r.Text(0),        ParseStored(r, 1),    ParseStored(r, 2),
                   ParseStored(r, 3), ParseStored(r, 4),   ParseStored(r, 5),
                   r.Int(6) != 0,    Instant{r.Int(7)},    Instant{r.Int(8)}};
  return std::optional<CustomerRecord>(std::move(c));
}

Result<std::optional<ConversationRecord>> GetConversation(store::Connection& conn,
                                                          std::string_view tenant,
                                                          std::string_view conversation_id) {
  store::Value p[] = {std::string(tenant), std::string(conversation_id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT " + std::string(kConversationColumns) +
                                                    " FROM intake_conversations WHERE "
                                                    "tenant_id = ? AND conversation_id = ?",
                                                p));
  if (rows.empty()) return std::optional<ConversationRecord>();
  return std::optional<ConversationRecord>(ConversationFromRow(rows[0]));
}

Result<std::vector<ConversationRecord>> ListConversations(store::Connection& conn,
                                                          std::string_view tenant,
                                                          std::string_view customer_id,
                                                          size_t limit) {
  store::Value p[] = {std::string(tenant), std::string(customer_id),
                      static_cast<int64_t>(Clamp(limit))};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT " + std::string(kConversationColumns) +
                                                    " FROM intake_conversations WHERE "
                                                    "tenant_id = ? AND customer_id = ? ORDER BY "
                                                    "opened_at_us, conversation_id LIMIT ?",
                                                p));
  std::vector<ConversationRecord> out;
  for (const auto& r : rows) out.push_back(ConversationFromRow(r));
  return out;
}

namespace {
Result<std::vector<MessageRecord>> Messages(store::Connection& conn, std::string_view tenant,
                                            std::string_view column, std::string_view id,
                                            int64_t after_seq, size_t limit) {
  store::Value p[] = {std::string(tenant), std::string(id), after_seq,
                      static_cast<int64_t>(std::min(Clamp(limit), kTimelineItemsMax))};
  OPSBOX_ASSIGN_OR_RETURN(auto rows,
                          conn.Query("SELECT " + std::string(kMessageColumns) +
                                         " FROM intake_messages WHERE tenant_id = ? AND " +
                                         std::string(column) + " = ? AND seq > ? ORDER BY seq "
                                         "LIMIT ?",
                                     p));
  std::vector<MessageRecord> out;
  for (const auto& r : rows) out.push_back(MessageFromRow(r));
  return out;
}
}  // namespace

Result<std::vector<MessageRecord>> ListMessages(store::Connection& conn, std::string_view tenant,
                                                std::string_view conversation_id,
                                                int64_t after_seq, size_t limit) {
  return Messages(conn, tenant, "conversation_id", conversation_id, after_seq, limit);
}

Result<std::vector<MessageRecord>> CustomerTimeline(store::Connection& conn,
                                                    std::string_view tenant,
                                                    std::string_view customer_id,
                                                    int64_t after_seq, size_t limit) {
  return Messages(conn, tenant, "customer_id", customer_id, after_seq, limit);
}

Result<std::vector<MessageRecord>> ListFailedMessages(store::Connection& conn,
                                                      std::string_view tenant, size_t limit) {
  store::Value p[] = {std::string(tenant), static_cast<int64_t>(Clamp(limit))};
  OPSBOX_ASSIGN_OR_RETURN(auto rows,
                          conn.Query("SELECT " + std::string(kMessageColumns) +
                                         " FROM intake_messages WHERE tenant_id = ? AND status = "
                                         "'failed' AND direction = 'outbound' ORDER BY seq DESC "
                                         "LIMIT ?",
                                     p));
  std::vector<MessageRecord> out;
  for (const auto& r : rows) out.push_back(MessageFromRow(r));
  return out;
}

Result<std::optional<MessageRecord>> GetMessage(store::Connection& conn, std::string_view tenant,
                                                std::string_view message_id) {
  store::Value p[] = {std::string(tenant), std::string(message_id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT " + std::string(kMessageColumns) +
                                                    " FROM intake_messages WHERE tenant_id = ? "
                                                    "AND message_id = ?",
                                                p));
  if (rows.empty()) return std::optional<MessageRecord>();
  return std::optional<MessageRecord>(MessageFromRow(rows[0]));
}

}  // namespace opsbox::intake
