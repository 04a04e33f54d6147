// Intake (issue #4, contracts.md §6): customers and identity resolution, conversations, inbound
// messages from the channel adapters, outbound replies and their delivery. The only header
// other modules include from src/intake/ (adapters.hpp holds the pure provider parsers the API
// layer uses).
//
// Everything is a ledger command. Personal data never enters an event in clear: customer
// fields are sealed with subject "cus_…", message text, content and findings with
// "cus_…/conv_…", channel secrets with "tenant" (NewEvent::personal_fields, contracts §2). Look-ups
// of sealed identifiers go through keyed blind indexes (Hooks::blind_index), so projections hold
// only sealed values and pseudonymous indexes. Raw card numbers and CVVs are redacted to
// "[CARD]"/"[CVV]" before sealing (PCI DSS 3.3.1): they are never stored at all.
//
// Commands (wire names; payloads are built by the API layer from the adapters' output):
//   configure_channel {channel, settings:{…}, secrets:{…}} -> channel_configured
//       {channel, settings, <secret names>…} with the secrets as sealed top-level fields.
//   receive_inbound {channel, items:[InboundItem JSON]} -> customer_created,
//       customer_identity_linked, conversation_closed, conversation_opened, message_received,
//       sensitive_data_exception_recorded, message_status_updated. Items whose provider
//       message id is already recorded create nothing (duplicates). Result {items:[{kind,
//       provider_message_id, duplicate, customer_id?, conversation_id?, message_id?}]}.
//   send_message {conversation_id, text} -> message_sent (+ sensitive_data_exception_recorded);
//       WhatsApp replies are then delivered by the leased outbox (WhatsAppReplyDelivery).
//       Result {message_id, conversation_id, status}.
//   close_conversation {conversation_id, reason} -> conversation_closed.
//   record_delivery {message_id, outcome:"sent"|"dead", provider_message_id?, reason?,
//       attempts} (actor system:outbox, issued by the reply outbox's kinds after recording an
//       outcome) -> message_status_updated {message_id, conversation_id, channel,
//       provider_message_id, status:"sent"|"failed", at_us, source:"outbox", attempts,
//       dead_letter, reason?} with reason sealed for the conversation (a provider's answer may
//       name the customer). Nothing when the message is unknown or was retried meanwhile.
//   retry_message {conversation_id, message_id} -> message_retry_requested {message_id,
//       conversation_id, customer_id, channel, delivery}: a failed outbound message goes back
//       to the reply outbox (status "queued", attempts from zero). Errors: 404 unknown message,
//       409 rule "not_failed" (only failed messages), "conversation_closed",
//       "channel_not_replyable" (a message no provider delivers), "opted_out" (SMS).
//   record_channel_signature_rejected {channel, reason, remote_address, count?}
//       -> channel_signature_rejected {…, count} (a security event standing for `count`
//       rejected requests: the API records at most one per source, channel and minute).
// Event payloads are listed in docs of each Decide* function in decide.cpp and in
// src/api/openapi/intake.json.
//
// Thread safety: Intake is immutable after construction; its methods may be called from any
// thread. Queries use the caller's connection.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "integrations/outbound_policy.hpp"
#include "ledger/event.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox::intake {

// Channels.
inline constexpr std::string_view kWhatsApp = "whatsapp";
inline constexpr std::string_view kVoice = "voice";
inline constexpr std::string_view kEmail = "email";
inline constexpr std::string_view kChat = "chat";
inline constexpr std::string_view kSms = "sms";
bool IsChannel(std::string_view channel);

// Commands.
inline constexpr std::string_view kConfigureChannel = "configure_channel";
inline constexpr std::string_view kReceiveInbound = "receive_inbound";
inline constexpr std::string_view kSendMessage = "send_message";
inline constexpr std::string_view kCloseConversation = "close_conversation";
inline constexpr std::string_view kRecordSignatureRejected = "record_channel_signature_rejected";
// Issue #14: the reply outbox's outcome of one delivery, and an agent's retry of a failed one.
inline constexpr std::string_view kRecordDelivery = "record_delivery";
inline constexpr std::string_view kRetryMessage = "retry_message";

// Events.
inline constexpr std::string_view kChannelConfigured = "channel_configured";
inline constexpr std::string_view kChannelSignatureRejected = "channel_signature_rejected";
inline constexpr int64_t kSignatureRejectionCountMax = 1'000'000'000;
inline constexpr std::string_view kCustomerCreated = "customer_created";
inline constexpr std::string_view kCustomerIdentityLinked = "customer_identity_linked";
inline constexpr std::string_view kConversationOpened = "conversation_opened";
inline constexpr std::string_view kConversationClosed = "conversation_closed";
inline constexpr std::string_view kMessageReceived = "message_received";
inline constexpr std::string_view kMessageSent = "message_sent";
inline constexpr std::string_view kMessageStatusUpdated = "message_status_updated";
inline constexpr std::string_view kMessageRetryRequested = "message_retry_requested";
inline constexpr std::string_view kSensitiveDataExceptionRecorded =
    "sensitive_data_exception_recorded";
// Projected (not appended) by intake: privacy-governance's retention run and privacy-keys' erasure.
inline constexpr std::string_view kRetentionApplied = "retention_applied";

// Limits (STYLE.md house rule 4).
inline constexpr size_t kTextBytesMax = 16 * 1024;           // one message's text
inline constexpr size_t kItemsPerCommandMax = 100;           // inbound items per command
inline constexpr size_t kProviderIdBytesMax = 256;           // provider message / call ids
inline constexpr size_t kConfigValueBytesMax = 2048;         // one setting or secret
inline constexpr size_t kAttachmentsMax = 50;                // per e-mail (metadata only)
inline constexpr size_t kEmailReferencesMax = 50;            // References ids used for threading
inline constexpr size_t kTimelineItemsMax = 200;             // messages in one timeline page
inline constexpr int64_t kReopenWindowSecondsDefault = 86400;  // 24 h

// What intake needs from privacy and pii (contracts §1, §2), as functions so the pure and
// database logic tests without them; src/intake/bridge.cpp binds them to privacy::Keyring and
// pii::Scanner. Every member must be thread-safe.
struct PiiHit {
  size_t start = 0;  // byte offsets, end exclusive
  size_t end = 0;
  std::string type;  // pii::TypeName: "card", "cvv", "phone", …
};
struct IntentHit {
  std::string intent;
  int64_t confidence_bp = 0;  // 0..10000
};
struct BoundaryHit {
  std::string boundary;        // "self_serve" | "human_review" | "off_limits"
  int64_t policy_version = 0;  // the policy version that decided it
};
struct Hooks {
  // Keyring::BlindIndex: HMAC hex of a normalised identifier per tenant and kind ("phone",
  // "email", "whatsapp", "external").
  std::function<std::string(std::string_view tenant, std::string_view kind,
                            std::string_view normalized)>
      blind_index;
  // pii::Scanner::Scan: sorted, non-overlapping findings.
  std::function<std::vector<PiiHit>(std::string_view text)> scan;
  // Keyring::Open: the clear JSON value, nullopt when its key was destroyed (erased). A value
  // that is not sealed is returned as it is.
  std::function<Result<std::optional<Json>>(store::Connection&, std::string_view tenant,
                                            const Json& value)>
      open;
  // Destroys the data key of one scope ("cus_X/conv_Y") inside `tx` (retention's crypto-shred;
  // Keyring::EraseSubject, which also runs the erasure scrubbers for the scope).
  std::function<Status(store::Tx&, const std::string& tenant, const std::string& scope,
                       Instant now)>
      shred;
  // Issue #12: the tenant's intent classifier (intents::TenantModels, bound by the composition
  // root); empty, or nullopt for a tenant without a model: no intent. When it answers, the
  // conversation_opened event of a text message carries "intent" (an intent or "unknown") and
  // "intent_confidence_bp" (calibrated confidence, basis points 0..10000), and routing copies
  // both into the task's attributes.
  std::function<std::optional<IntentHit>(std::string_view tenant, std::string_view text)>
      classify;
  // Issue #12, "The boundary, declared": the automation boundary of a classified intent on the
  // conversation's channel under the tenant's policy in force at `now`, read through the
  // writer's transaction (automation::Automation::DecideInTx, bound by the composition root).
  // When set and an intent was classified, conversation_opened also carries
  // "automation_boundary" (self_serve | human_review | off_limits) and
  // "automation_policy_version" (0: the built-in policy), and routing copies both into the
  // task's attributes.
  std::function<Result<BoundaryHit>(store::Tx& tx, std::string_view tenant,
                                    std::string_view intent, std::string_view channel,
                                    Instant now)>
      boundary;
  // Issue #14, SMS opt-out: true when the customer withdrew consent for purpose "service" on
  // `channel` (privacy's consent registry, read through the writer's transaction so a STOP
  // earlier in the same batch counts). Empty: nobody is opted out.
  std::function<Result<bool>(store::Tx& tx, std::string_view tenant,
                             std::string_view customer_id, std::string_view channel)>
      opted_out;
  // The consent registry's decision (privacy::detail::DecideConsent): the consent_recorded or
  // consent_withdrawn events for {customer_id, purpose, channel, source, notice_version,
  // evidence?}. Empty: opt-out keywords are kept as messages only.
  std::function<Result<std::vector<ledger::NewEvent>>(const Json& payload, bool granted,
                                                      Instant now)>
      consent;
};

struct IntakeOptions {
  int64_t reopen_window_s_default = kReopenWindowSecondsDefault;
  std::string default_region = "IN";  // phone numbers without a country code
  std::string whatsapp_api_base_url_default = "https://graph.facebook.com/v20.0";
  // Checks settings.api_base_url when a channel is configured (422, rule
  // "forbidden_destination" for a literal forbidden address); the HTTP client enforces the
  // same policy at delivery.
  integrations::OutboundPolicy outbound_policy;
};

// One normalised inbound item, produced by the adapters (adapters.hpp) and carried in the
// receive_inbound command. kind "message" | "status" | "call".
struct Sender {
  std::string phone;        // as received; normalised to E.164 by the command handler
  std::string email;
  std::string wa_id;
  std::string external_id;  // CRM/account reference or chat user id
  std::string name;
};

class Intake {
 public:
  Intake(Hooks hooks, IntakeOptions options);
  ~Intake();
  Intake(const Intake&) = delete;
  Intake& operator=(const Intake&) = delete;

  // Adds the command handlers and projectors (including retention_applied for record type
  // "conversation"). Call once, before the writer starts.
  void Register(ledger::Registry& registry) const;

  const Hooks& hooks() const { return hooks_; }
  const IntakeOptions& options() const { return options_; }

  // A channel's configuration with secrets opened: {channel, settings:{…}, secrets:{…}};
  // nullopt when the channel is not configured. Secrets whose key is gone read as "".
  Result<std::optional<Json>> ChannelConfig(store::Connection& conn, std::string_view tenant,
                                            std::string_view channel) const;

  // The customer a normalised identifier belongs to (kind "phone" | "email" | "whatsapp" |
  // "external"); nullopt when unknown. `raw` is normalised first (field `kind`, rule "format").
  Result<std::optional<std::string>> FindCustomer(store::Connection& conn, std::string_view tenant,
                                                  std::string_view kind,
                                                  std::string_view raw) const;

  // Erasure scrubber (contracts §2): drops the subject's blind index rows and clears the
  // sealed copies in intake's projections, for "cus_X" (everything of the customer) or
  // "cus_X/conv_Y" (one conversation's texts).
  Status ScrubSubject(store::Tx& tx, const std::string& tenant,
                      const std::string& subject_id) const;

  // Retention finder: closed conversations whose closed_at is before `before`, not yet
  // scrubbed, oldest first, at most `limit`.
  Result<std::vector<std::string>> ExpiredConversations(store::Tx& tx, std::string_view tenant,
                                                        Instant before, size_t limit) const;

 private:
  Hooks hooks_;
  IntakeOptions options_;
};

// --- Normalisation (pure, thread-safe) ---

// E.164 ("+919876543210") with libphonenumber; `region` (ISO 3166 alpha-2) applies to
// numbers without a country code. Accepts "whatsapp:+…" and "tel:" prefixes. Errors: field
// `field`, rule "format".
Result<std::string> NormalizePhone(std::string_view raw, std::string_view region,
                                   std::string_view field);
// Lower-cases the domain, keeps the local part; requires exactly one '@' with both sides
// non-empty and no spaces (rule "format").
Result<std::string> NormalizeEmail(std::string_view raw, std::string_view field);

// --- Queries for the API (reader connection). Values of personal fields are as stored (sealed
// JSON strings); the API layer opens and presents them (Governance::Present). ---

struct CustomerRecord {
  std::string customer_id;
  Json name, phone, email, wa_id, external_id;  // sealed values or null
  bool erased = false;
  Instant created_at, updated_at;
};
struct ConversationRecord {
  std::string conversation_id, customer_id, channel, status, language;
  Instant opened_at, last_activity_at, closed_at;  // closed_at 0 while open
  int64_t messages = 0;
  bool scrubbed = false;
};
struct MessageRecord {
  std::string message_id, conversation_id, customer_id, channel, direction, provider_message_id,
      sender_id, status;
  Json text, content, findings;  // sealed values or null (scrubbed)
  Instant sent_at, recorded_at;
  int64_t seq = 0;
  // Issue #14: delivery status of outbound messages.
  Json status_reason;       // the last status's reason: sealed value, a clear string, or null
  Instant status_at;        // when the status last changed (0: never since it was recorded)
  bool dead_letter = false; // the reply outbox gave up (status "failed")
  std::string delivery;     // "whatsapp_cloud" | "twilio_sms" | "none" | "" (inbound)
  int64_t segments = 0;     // SMS segments of an outbound SMS (0 otherwise)
  std::string encoding;     // "gsm7" | "ucs2" for an outbound SMS
  // A failed outbound message a provider delivers: retry_message accepts it.
  bool retryable() const {
    return direction == "outbound" && status == "failed" && !delivery.empty() &&
           delivery != "none";
  }
};

Result<std::optional<CustomerRecord>> GetCustomer(store::Connection& conn,
                                                  std::string_view tenant,
                                                  std::string_view customer_id);
Result<std::optional<ConversationRecord>> GetConversation(store::Connection& conn,
                                                          std::string_view tenant,
                                                          std::string_view conversation_id);
Result<std::vector<ConversationRecord>> ListConversations(store::Connection& conn,
                                                          std::string_view tenant,
                                                          std::string_view customer_id,
                                                          size_t limit);
// Messages after `after_seq` in ledger order, at most `limit`.
Result<std::vector<MessageRecord>> ListMessages(store::Connection& conn, std::string_view tenant,
                                                std::string_view conversation_id,
                                                int64_t after_seq, size_t limit);
// One customer's messages across every channel, in ledger order (the timeline).
Result<std::vector<MessageRecord>> CustomerTimeline(store::Connection& conn,
                                                    std::string_view tenant,
                                                    std::string_view customer_id,
                                                    int64_t after_seq, size_t limit);
// Failed outbound messages of the tenant, newest first, at most `limit` (clamped to the page
// size): the supervisor's list of deliveries to look at.
Result<std::vector<MessageRecord>> ListFailedMessages(store::Connection& conn,
                                                      std::string_view tenant, size_t limit);
// One message by id (the "message" record type of Governance).
Result<std::optional<MessageRecord>> GetMessage(store::Connection& conn, std::string_view tenant,
                                                std::string_view message_id);

}  // namespace opsbox::intake
