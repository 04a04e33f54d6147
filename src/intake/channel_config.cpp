// configure_channel: per-tenant channel settings and secrets (sealed with subject "tenant").
#include <nlohmann/json.hpp>

#include "core/assert.hpp"
#include "intake/adapters.hpp"
#include "intake/intake.hpp"
#include "intake/internal/state.hpp"

namespace opsbox::intake::detail {
namespace {

struct ChannelSchema {
  std::string_view channel;
  std::vector<std::string_view> settings;  // besides default_region and reopen_window_s
  std::vector<std::string_view> secrets;
};

const ChannelSchema* SchemaOf(std::string_view channel) {
  static const ChannelSchema kSchemas[] = {
      {kWhatsApp, {"phone_number_id", "api_base_url"}, {"verify_token", "app_secret", "access_token"}},
      {kVoice, {"public_base_url", "greeting"}, {"auth_token"}},
      {kEmail, {}, {"signing_secret"}},
      {kChat, {}, {}},
      // Issue #14. public_base_url: opsbox's address as Twilio calls it (signatures cover the
      // full URL); opt_out_keywords: the tenant's own, besides STOP and UNSUBSCRIBE.
      {kSms, {"account_sid", "from_number", "api_base_url", "public_base_url", "opt_out_keywords"},
       {"auth_token"}},
  };
  for (const auto& s : kSchemas) {
    if (s.channel == channel) return &s;
  }
  return nullptr;
}

// A JSON array of at most kSmsOptOutKeywordsMax distinct words of 1..kSmsKeywordBytesMax
// printable ASCII bytes without spaces, kept upper-cased.
Result<Json> CheckKeywords(const Json& value, const std::string& field) {
  if (!value.is_array() || value.size() > kSmsOptOutKeywordsMax) {
    return Error::Invalid(field, "max_items",
                          field + " must be an array of at most " +
                              std::to_string(kSmsOptOutKeywordsMax) + " words");
  }
  Json out = Json::array();
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    const Json& w = value[i];
    if (!w.is_string() || w.get_ref<const std::string&>().empty() ||
        w.get_ref<const std::string&>().size() > kSmsKeywordBytesMax) {
      return Error::Invalid(at, "type", at + " must be a word of 1 to 32 bytes");
    }
    std::string word = w.get<std::string>();
    for (char& c : word) {
      if (c <= 0x20 || c > 0x7e) return Error::Invalid(at, "format", at + " must be one word");
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (word == "START") return Error::Invalid(at, "reserved", "START opts back in");
    out.push_back(word);
  }
  return out;
}

Result<Json> CheckSettings(const Json& settings, const ChannelSchema& schema,
                           const integrations::OutboundPolicy& policy) {
  Json out = Json::object();
  for (const auto& [key, value] : settings.items()) {
    const std::string field = "settings." + key;
    if (key == "reopen_window_s") {
      if (!value.is_number_integer() || value.get<int64_t>() < 60 ||
          value.get<int64_t>() > 30 * 86400) {
        return Error::Invalid(field, "range", "reopen_window_s must be an integer from 60 to 2592000");
      }
      out[key] = value;
      continue;
    }
    if (key == "opt_out_keywords" && schema.channel == kSms) {
      OPSBOX_ASSIGN_OR_RETURN(out[key], CheckKeywords(value, field));
      continue;
    }
    const bool known = key == "default_region" ||
                       std::find(schema.settings.begin(), schema.settings.end(), key) !=
                           schema.settings.end();
    if (!known) return Error::Invalid(field, "unknown_field", "unknown setting " + key);
    if (!value.is_string() || value.get_ref<const std::string&>().size() > kConfigValueBytesMax) {
      return Error::Invalid(field, "type", field + " must be a string of at most 2048 bytes");
    }
    const std::string& s = value.get_ref<const std::string&>();
    if (key == "default_region" &&
        (s.size() != 2 || !std::isupper(static_cast<unsigned char>(s[0])) ||
         !std::isupper(static_cast<unsigned char>(s[1])))) {
      return Error::Invalid(field, "format", "default_region must be an ISO 3166 alpha-2 code");
    }
    // api_base_url is where the server sends requests: the outbound policy applies. The
    // public_base_url is opsbox's own address as the provider sees it (never requested).
    if (key == "api_base_url") OPSBOX_TRY(policy.CheckUrl(s, field));
    if (key == "public_base_url") OPSBOX_TRY(integrations::ParseOutboundUrl(s, field));
    out[key] = s;
  }
  return out;
}

}  // namespace

Result<ledger::Decision> HandleConfigureChannel(store::Tx&, const ledger::Command& cmd, Instant,
                                                Random&, const Intake& intake) {
  const Json& body = cmd.payload;
  OPSBOX_TRY(CheckObjectKeys(body, {"channel", "settings", "secrets"}));
  OPSBOX_ASSIGN_OR_RETURN(auto channel, RequireString(body, "channel", 16));
  const ChannelSchema* schema = SchemaOf(channel);
  if (schema == nullptr) return Error::Invalid("channel", "enum", "unknown channel " + channel);
  const Json settings = body.value("settings", Json::object());
  const Json secrets = body.value("secrets", Json::object());
  if (!settings.is_object()) return Error::Invalid("settings", "type", "settings must be an object");
  if (!secrets.is_object()) return Error::Invalid("secrets", "type", "secrets must be an object");
  OPSBOX_ASSIGN_OR_RETURN(Json clean, CheckSettings(settings, *schema, intake.options().outbound_policy));
  Json payload{{"channel", channel}, {"settings", std::move(clean)}, {"secret_names", Json::array()}};
  std::vector<std::string> sealed;
  for (const auto& [key, value] : secrets.items()) {
    const std::string field = "secrets." + key;
    if (std::find(schema->secrets.begin(), schema->secrets.end(), key) == schema->secrets.end()) {
      return Error::Invalid(field, "unknown_field", "unknown secret " + key);
    }
    if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
        value.get_ref<const std::string&>().size() > kConfigValueBytesMax) {
      return Error::Invalid(field, "type", field + " must be a non-empty string");
    }
    // The outbound view of events redacts only the names it knows (ledger/event.hpp).
    OPSBOX_ASSERT_MSG(ledger::IsSecretPayloadField(key), "channel secret not in kSecretPayloadFields");
    payload[key] = value;
    payload["secret_names"].push_back(key);
    sealed.push_back(key);
  }
  ledger::Decision d;
  ledger::NewEvent e{std::string(kChannelConfigured), std::move(payload)};
  e.subject_id = "tenant";
  e.personal_fields = std::move(sealed);
  d.result = Json{{"channel", channel}, {"settings", e.payload["settings"]},
                  {"secrets", e.payload["secret_names"]}};
  d.events.push_back(std::move(e));
  return d;
}

ConversationAction ChooseConversation(const std::optional<ConversationState>& latest,
                                      int64_t window_s, Instant now) {
  if (!latest) return ConversationAction::kNew;
  const int64_t window_us = window_s * 1000000;
  if (latest->status == "open") {
    return now.us - latest->last_activity_at_us <= window_us ? ConversationAction::kAppend
                                                             : ConversationAction::kCloseAndNew;
  }
  return now.us - latest->closed_at_us <= window_us ? ConversationAction::kReopen
                                                    : ConversationAction::kNew;
}

bool IsNeverStored(std::string_view type) { return type == "card" || type == "cvv"; }

std::string RedactNeverStore(std::string_view text, const std::vector<PiiHit>& hits) {
  std::string out;
  size_t pos = 0;
  for (const auto& h : hits) {
    if (!IsNeverStored(h.type) || h.start < pos || h.end > text.size() || h.end <= h.start) continue;
    out.append(text.substr(pos, h.start - pos));
    out += h.type == "card" ? "[CARD]" : "[CVV]";
    pos = h.end;
  }
  out.append(text.substr(pos));
  return out;
}

std::string Text(const Json& j, std::string_view key) {
  if (!j.is_object()) return "";
  auto it = j.find(std::string(key));
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

Result<ChannelSettings> LoadSettings(store::Tx& tx, std::string_view tenant,
                                     std::string_view channel, const IntakeOptions& options) {
  ChannelSettings s;
  s.region = options.default_region;
  s.reopen_window_s = options.reopen_window_s_default;
  store::Value p[] = {std::string(tenant), std::string(channel)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT config FROM intake_channel_configs WHERE "
                                              "tenant_id = ? AND channel = ?",
                                              p));
  if (rows.empty()) return s;
  Json config = Json::parse(rows[0].Text(0), nullptr, false);
  const Json settings = config.is_object() ? config.value("settings", Json::object()) : Json();
  if (!settings.is_object()) return Error::Internal("intake_channel_configs holds malformed JSON");
  s.configured = true;
  if (!Text(settings, "default_region").empty()) s.region = Text(settings, "default_region");
  if (settings.contains("reopen_window_s") && settings["reopen_window_s"].is_number_integer()) {
    s.reopen_window_s = settings["reopen_window_s"].get<int64_t>();
  }
  for (const auto& w : settings.value("opt_out_keywords", Json::array())) {
    if (w.is_string()) s.opt_out_keywords.push_back(w.get<std::string>());
  }
  return s;
}

}  // namespace opsbox::intake::detail
