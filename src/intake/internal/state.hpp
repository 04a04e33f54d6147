// Internal to src/intake: the decision helpers shared by decide.cpp and projection.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "intake/intake.hpp"
#include "ledger/event.hpp"
#include "store/store.hpp"

namespace opsbox::intake::detail {

// Channel settings the decisions use (the non-secret part of channel_configured).
struct ChannelSettings {
  std::string region;
  int64_t reopen_window_s = kReopenWindowSecondsDefault;
  bool configured = false;
  std::vector<std::string> opt_out_keywords;  // SMS: the tenant's own, upper-cased
};

struct ConversationState {
  std::string conversation_id;
  std::string customer_id;
  std::string channel;
  std::string status;  // "open" | "closed"
  int64_t last_activity_at_us = 0;
  int64_t closed_at_us = 0;
  std::string provider_ref;
};

// What to do with a customer's latest conversation on a channel when a message arrives
// (pure): "append" to it, "reopen" it, or "new" (after closing it when still open: "close_new").
enum class ConversationAction { kAppend, kReopen, kNew, kCloseAndNew };
ConversationAction ChooseConversation(const std::optional<ConversationState>& latest,
                                      int64_t window_s, Instant now);

// "[CARD]"/"[CVV]" in place of card numbers and CVVs (PCI DSS 3.3.1); other hits stay.
std::string RedactNeverStore(std::string_view text, const std::vector<PiiHit>& hits);
bool IsNeverStored(std::string_view type);

Result<ChannelSettings> LoadSettings(store::Tx& tx, std::string_view tenant,
                                     std::string_view channel, const IntakeOptions& options);
Result<std::optional<ConversationState>> LoadConversation(store::Tx& tx, std::string_view tenant,
                                                          std::string_view conversation_id);
Result<std::optional<ConversationState>> LatestConversation(store::Tx& tx, std::string_view tenant,
                                                            std::string_view customer_id,
                                                            std::string_view channel);

// An event whose `fields` are sealed for `subject` ("cus_X" or Scope()).
ledger::NewEvent Personal(std::string_view type, Json payload, std::string subject,
                          std::vector<std::string> fields);
// The sealing scope of one conversation's texts: "cus_X/conv_Y".
std::string Scope(const std::string& customer_id, const std::string& conversation_id);

// 409 rule "opted_out" when `channel` is SMS and the customer opted out (Hooks::opted_out).
Status CheckNotOptedOut(store::Tx& tx, std::string_view tenant, std::string_view channel,
                        std::string_view customer_id, const Hooks& hooks);

// Text of a JSON payload's string member, "" when absent.
std::string Text(const Json& j, std::string_view key);

}  // namespace opsbox::intake::detail
