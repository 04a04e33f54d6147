#include "intake/outbound.hpp"

#include <nlohmann/json.hpp>

namespace opsbox::intake {
namespace {

// Columns 0-1 are the key, 2-3 attempts and next_attempt_at_us (LeasedOutbox's layout).
constexpr std::string_view kClaimQuery =
    "SELECT o.tenant_id, o.message_id, o.attempts, o.next_attempt_at_us, m.text, c.wa_id "
    "FROM intake_outbound o "
    "JOIN intake_messages m ON m.tenant_id = o.tenant_id AND m.message_id = o.message_id "
    "JOIN intake_customers c ON c.tenant_id = m.tenant_id AND c.customer_id = m.customer_id "
    "WHERE o.status = 'pending' AND o.next_attempt_at_us <= ? "
    "ORDER BY o.next_attempt_at_us LIMIT ?";

// A provider's id is kept as printable ASCII, at most as long as a last_error.
std::string Printable(std::string_view s) {
  std::string out(s.substr(0, integrations::kLastErrorBytesMax));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
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

const std::vector<std::string>& WhatsAppReplyDelivery::key_columns() const {
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

}  // namespace opsbox::intake
