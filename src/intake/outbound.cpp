#include "intake/outbound.hpp"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "intake/internal/state.hpp"

namespace opsbox::intake {
namespace {

// Columns 0-1 are the key, 2-3 attempts and next_attempt_at_us (LeasedOutbox's layout).
constexpr std::string_view kClaimQuery =
    "SELECT o.tenant_id, o.message_id, o.attempts, o.next_attempt_at_us, m.text, c.wa_id "
    "FROM intake_outbound o "
    "JOIN intake_messages m ON m.tenant_id = o.tenant_id AND m.message_id = o.message_id "
    "JOIN intake_customers c ON c.tenant_id = m.tenant_id AND c.customer_id = m.customer_id "
    "WHERE o.status = 'pending' AND o.channel = 'whatsapp' AND o.next_attempt_at_us <= ? "
    "ORDER BY o.next_attempt_at_us LIMIT ?";

// The same for SMS replies: the customer's (sealed) phone number instead of the wa_id.
constexpr std::string_view kSmsClaimQuery =
    "SELECT o.tenant_id, o.message_id, o.attempts, o.next_attempt_at_us, m.text, c.phone, "
    "m.customer_id "
    "FROM intake_outbound o "
    "JOIN intake_messages m ON m.tenant_id = o.tenant_id AND m.message_id = o.message_id "
    "JOIN intake_customers c ON c.tenant_id = m.tenant_id AND c.customer_id = m.customer_id "
    "WHERE o.status = 'pending' AND o.channel = 'sms' AND o.next_attempt_at_us <= ? "
    "ORDER BY o.next_attempt_at_us LIMIT ?";

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// application/x-www-form-urlencoded (WHATWG URL: unreserved bytes kept, space as '+').
std::string FormEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '*') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A provider's id is kept as printable ASCII, at most as long as a last_error.
std::string Printable(std::string_view s) {
  std::string out(s.substr(0, integrations::kLastErrorBytesMax));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

std::string TwilioSid(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("sid") || !j["sid"].is_string()) return "";
  return Printable(j["sid"].get<std::string>());
}

std::string ProviderId(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("messages") || !j["messages"].is_array() ||
      j["messages"].empty() || !j["messages"][0].is_object()) {
    return "";
  }
  const Json& id = j["messages"][0].value("id", Json());
  return id.is_string() ? Printable(id.get<std::string>()) : "";
}

Json Sealed(const store::Row& r, size_t i) {
  return r.IsNull(i) ? Json() : Json::parse(r.Text(i), nullptr, false);
}

}  // namespace

integrations::OutboundRequest WhatsAppSendRequest(std::string_view api_base_url,
                                                  std::string_view phone_number_id,
                                                  std::string_view access_token,
                                                  std::string_view to_wa_id, std::string_view text,
                                                  int timeout_ms) {
  std::string base(api_base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  integrations::OutboundRequest r;
  r.method = "POST";
  r.url = base + "/" + std::string(phone_number_id) + "/messages";
  r.timeout_ms = timeout_ms;
  r.headers = {{"Content-Type", "application/json"},
               {"Authorization", "Bearer " + std::string(access_token)}};
  r.body = Json{{"messaging_product", "whatsapp"},
                {"recipient_type", "individual"},
                {"to", std::string(to_wa_id)},
                {"type", "text"},
                {"text", Json{{"preview_url", false}, {"body", std::string(text)}}}}
               .dump();
  return r;
}

const std::vector<std::string>& ReplyDelivery::key_columns() const {
  static const std::vector<std::string> kKeys = {"tenant_id", "message_id"};
  return kKeys;
}

std::string_view WhatsAppReplyDelivery::claim_query() const { return kClaimQuery; }

Result<integrations::Delivery> WhatsAppReplyDelivery::Prepare(store::Connection& conn,
                                                              const integrations::OutboxRow& row,
                                                              Instant) {
  const std::string& tenant = row.row.Text(0);
  OPSBOX_ASSIGN_OR_RETURN(auto config, intake_.ChannelConfig(conn, tenant, kWhatsApp));
  const auto& open = intake_.hooks().open;
  std::optional<Json> text = Sealed(row.row, 4), to = Sealed(row.row, 5);
  if (open) {
    OPSBOX_ASSIGN_OR_RETURN(text, open(conn, tenant, *text));
    OPSBOX_ASSIGN_OR_RETURN(to, open(conn, tenant, *to));
  }
  integrations::Delivery d;
  if (!config) d.fatal = "the whatsapp channel is not configured";
  if (!text || !text->is_string() || !to || !to->is_string()) {
    d.fatal = "the text or the recipient was erased";
  }
  if (!d.fatal.empty()) return d;
  const Json& settings = (*config)["settings"];
  const std::string base =
      settings.value("api_base_url", intake_.options().whatsapp_api_base_url_default);
  d.request = WhatsAppSendRequest(
      base, settings.value("phone_number_id", ""), (*config)["secrets"].value("access_token", ""),
      to->get<std::string>(), text->get<std::string>(), retry_.timeout_ms);
  return d;
}

std::vector<std::pair<std::string, store::Value>> WhatsAppReplyDelivery::Delivered(
    const integrations::OutboxRow&, const integrations::OutboundResponse& response) {
  return {{"provider_message_id", ProviderId(response.body)}};
}

void ReplyDelivery::Recorded(const integrations::OutboxRow& row,
                             const integrations::DeliveryOutcome& outcome) {
  if (!report_ || outcome.status == "pending") return;
  const std::string tenant = row.row.Text(0), message_id = row.row.Text(1);
  Json p{{"message_id", message_id},
         {"outcome", outcome.status == "delivered" ? "sent" : "dead"},
         {"attempts", outcome.attempt}};
  if (outcome.status == "delivered") {
    for (const auto& [column, value] : outcome.columns) {
      if (column == "provider_message_id" && std::holds_alternative<std::string>(value)) {
        p["provider_message_id"] = std::get<std::string>(value);
      }
    }
  } else {
    p["reason"] = outcome.last_error.empty() ? std::string("the delivery failed")
                                             : outcome.last_error;
  }
  report_(ledger::Command{tenant,
                          "delivery:" + message_id + ":" + std::to_string(row.lease_at_us) + ":" +
                              std::to_string(outcome.attempt) + ":" + outcome.status,
                          std::string(kRecordDelivery), "system:outbox", std::move(p)});
}

bool ReplyDelivery::Permanent(const integrations::OutboundResponse& response) const {
  return response.status >= 400 && response.status < 500 && response.status != 408 &&
         response.status != 429;
}

std::string ReplyDelivery::Describe(const integrations::OutboundResponse& response) const {
  Json j = Json::parse(response.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) j = j["error"];
  if (!j.is_object() || !j.contains("message") || !j["message"].is_string()) {
    return integrations::ResponseExcerpt(response);
  }
  std::string out = "HTTP " + std::to_string(response.status) + ": ";
  const Json code = j.value("code", Json());
  if (code.is_number_integer() || code.is_string()) {
    out += (code.is_string() ? code.get<std::string>() : code.dump()) + " ";
  }
  out += j["message"].get<std::string>().substr(0, integrations::kResponseExcerptBytesMax);
  return Printable(out);
}

integrations::OutboundRequest TwilioSendRequest(std::string_view api_base_url,
                                                std::string_view account_sid,
                                                std::string_view auth_token, std::string_view to,
                                                std::string_view from, std::string_view body,
                                                int timeout_ms) {
  std::string base(api_base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  integrations::OutboundRequest r;
  r.method = "POST";
  r.url = base + "/2010-04-01/Accounts/" + FormEncode(account_sid) + "/Messages.json";
  r.timeout_ms = timeout_ms;
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
               {"Authorization",
                "Basic " + Base64(std::string(account_sid) + ":" + std::string(auth_token))}};
  r.body = "To=" + FormEncode(to) + "&From=" + FormEncode(from) + "&Body=" + FormEncode(body);
  return r;
}

std::string_view SmsReplyDelivery::claim_query() const { return kSmsClaimQuery; }

Result<integrations::Delivery> SmsReplyDelivery::Prepare(store::Connection& conn,
                                                         const integrations::OutboxRow& row,
                                                         Instant) {
  const std::string& tenant = row.row.Text(0);
  OPSBOX_ASSIGN_OR_RETURN(auto config, intake_.ChannelConfig(conn, tenant, kSms));
  const auto& hooks = intake_.hooks();
  std::optional<Json> text = Sealed(row.row, 4), to = Sealed(row.row, 5);
  if (hooks.open) {
    OPSBOX_ASSIGN_OR_RETURN(text, hooks.open(conn, tenant, *text));
    OPSBOX_ASSIGN_OR_RETURN(to, hooks.open(conn, tenant, *to));
  }
  integrations::Delivery d;
  if (!config) d.fatal = "the sms channel is not configured";
  if (!text || !text->is_string() || !to || !to->is_string() || to->get<std::string>().empty()) {
    d.fatal = "the text or the recipient's phone number was erased";
  }
  if (d.fatal.empty() && hooks.opted_out) {
    OPSBOX_ASSIGN_OR_RETURN(auto tx, conn.Begin());
    OPSBOX_ASSIGN_OR_RETURN(bool out, hooks.opted_out(*tx, tenant, row.row.Text(6), kSms));
    if (out) d.fatal = "the customer opted out of SMS (STOP) after the reply was queued";
  }
  if (!d.fatal.empty()) return d;
  const Json& settings = (*config)["settings"];
  d.request = TwilioSendRequest(settings.value("api_base_url", "https://api.twilio.com"),
                                settings.value("account_sid", ""),
                                (*config)["secrets"].value("auth_token", ""),
                                to->get<std::string>(), settings.value("from_number", ""),
                                text->get<std::string>(), retry_.timeout_ms);
  return d;
}

std::vector<std::pair<std::string, store::Value>> SmsReplyDelivery::Delivered(
    const integrations::OutboxRow&, const integrations::OutboundResponse& response) {
  return {{"provider_message_id", TwilioSid(response.body)}};
}

}  // namespace opsbox::intake
