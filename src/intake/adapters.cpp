// WhatsApp Cloud API, Twilio voice and SMS, and generic chat adapters (pure).
#include "intake/adapters.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/limits.hpp"
#include "intake/intake.hpp"

namespace opsbox::intake {
namespace {

std::string At(std::string_view prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
}
std::string Index(std::string_view prefix, size_t i) {
  return std::string(prefix) + "[" + std::to_string(i) + "]";
}

// A required string member of `obj` of at most `bytes_max` bytes; the field is `path.key`.
Result<std::string> Str(const Json& obj, std::string_view key, std::string_view path,
                        size_t bytes_max, bool required = true) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) {
    if (!required) return std::string();
    return Error::Invalid(At(path, key), "required", At(path, key) + " is required");
  }
  if (!it->is_string()) {
    return Error::Invalid(At(path, key), "type", At(path, key) + " must be a string");
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > bytes_max) {
    return Error::Invalid(
        At(path, key), "max_bytes",
        At(path, key) + " is longer than " + std::to_string(bytes_max) + " bytes");
  }
  if (required && s.empty()) {
    return Error::Invalid(At(path, key), "required", At(path, key) + " must not be empty");
  }
  return s;
}

Result<const Json*> Array(const Json& obj, std::string_view key, std::string_view path,
                          bool required) {
  static const Json kEmpty = Json::array();
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) {
    if (!required) return &kEmpty;
    return Error::Invalid(At(path, key), "required", At(path, key) + " is required");
  }
  if (!it->is_array()) {
    return Error::Invalid(At(path, key), "type", At(path, key) + " must be an array");
  }
  return &*it;
}

Result<const Json*> Object(const Json& obj, std::string_view key, std::string_view path) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || !it->is_object()) {
    return Error::Invalid(At(path, key), it == obj.end() ? "required" : "type",
                          At(path, key) + " must be an object");
  }
  return &*it;
}

// Unix seconds as a decimal string (WhatsApp "timestamp").
Result<int64_t> UnixSecondsUs(const Json& obj, std::string_view path) {
  OPSBOX_ASSIGN_OR_RETURN(auto s, Str(obj, "timestamp", path, 12));
  if (s.find_first_not_of("0123456789") != std::string::npos) {
    return Error::Invalid(At(path, "timestamp"), "format",
                          At(path, "timestamp") + " must be Unix seconds in decimal");
  }
  return std::stoll(s) * 1000000;
}

constexpr std::string_view kMediaTypes[] = {"image", "audio", "video", "document", "sticker"};

// Text and content of one WhatsApp message by its type.
Status FillWhatsAppContent(const Json& m, const std::string& type, const std::string& path,
                           Json& item) {
  Json content{{"type", type}};
  std::string text;
  if (type == "text") {
    OPSBOX_ASSIGN_OR_RETURN(auto t, Object(m, "text", path));
    OPSBOX_ASSIGN_OR_RETURN(text, Str(*t, "body", At(path, "text"), kTextBytesMax));
  } else if (std::find(std::begin(kMediaTypes), std::end(kMediaTypes), type) !=
             std::end(kMediaTypes)) {
    OPSBOX_ASSIGN_OR_RETURN(auto media, Object(m, type, path));
    const std::string mp = At(path, type);
    OPSBOX_ASSIGN_OR_RETURN(auto id, Str(*media, "id", mp, kProviderIdBytesMax));
    OPSBOX_ASSIGN_OR_RETURN(auto mime, Str(*media, "mime_type", mp, 200, false));
    OPSBOX_ASSIGN_OR_RETURN(auto filename, Str(*media, "filename", mp, 1024, false));
    OPSBOX_ASSIGN_OR_RETURN(text, Str(*media, "caption", mp, kTextBytesMax, false));
    content["media_id"] = id;
    content["mime_type"] = mime;
    if (!filename.empty()) content["filename"] = filename;
  } else if (type == "interactive") {
    OPSBOX_ASSIGN_OR_RETURN(auto in, Object(m, "interactive", path));
    const std::string ip = At(path, "interactive");
    OPSBOX_ASSIGN_OR_RETURN(auto reply_type, Str(*in, "type", ip, 64));
    OPSBOX_ASSIGN_OR_RETURN(auto reply, Object(*in, reply_type, ip));
    OPSBOX_ASSIGN_OR_RETURN(auto reply_id, Str(*reply, "id", At(ip, reply_type), 1024));
    OPSBOX_ASSIGN_OR_RETURN(text, Str(*reply, "title", At(ip, reply_type), kTextBytesMax));
    content["reply_type"] = reply_type;
    content["reply_id"] = reply_id;
  } else if (type == "button") {
    OPSBOX_ASSIGN_OR_RETURN(auto b, Object(m, "button", path));
    OPSBOX_ASSIGN_OR_RETURN(text, Str(*b, "text", At(path, "button"), kTextBytesMax));
    OPSBOX_ASSIGN_OR_RETURN(auto payload, Str(*b, "payload", At(path, "button"), 1024, false));
    content["payload"] = payload;
  }
  if (auto ctx = m.find("context"); ctx != m.end() && ctx->is_object()) {
    Json c = Json::object();
    if (auto id = ctx->find("id"); id != ctx->end() && id->is_string()) c["id"] = *id;
    if (auto f = ctx->find("forwarded"); f != ctx->end() && f->is_boolean()) c["forwarded"] = *f;
    content["context"] = std::move(c);
  }
  item["text"] = std::move(text);
  item["content"] = std::move(content);
  return Ok();
}

Result<Json> WhatsAppMessage(const Json& m, const std::string& path, const Json& contacts) {
  if (!m.is_object()) return Error::Invalid(path, "type", path + " must be an object");
  OPSBOX_ASSIGN_OR_RETURN(auto id, Str(m, "id", path, kProviderIdBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto from, Str(m, "from", path, 32));
  if (from.find_first_not_of("0123456789") != std::string::npos) {
    return Error::Invalid(At(path, "from"), "format",
                          At(path, "from") + " must be a wa_id (digits)");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto type, Str(m, "type", path, 64));
  OPSBOX_ASSIGN_OR_RETURN(auto at_us, UnixSecondsUs(m, path));
  Json sender{{"wa_id", from}, {"phone", "+" + from}};
  for (const auto& c : contacts) {
    if (c.is_object() && c.value("wa_id", Json()) == Json(from)) {
      auto profile = c.find("profile");
      if (profile != c.end() && profile->is_object() && profile->contains("name") &&
          (*profile)["name"].is_string()) {
        sender["name"] = (*profile)["name"].get<std::string>().substr(0, limits::kNameBytesMax);
      }
    }
  }
  Json item{{"kind", "message"},
            {"provider_message_id", id},
            {"from", std::move(sender)},
            {"sent_at_us", at_us}};
  OPSBOX_TRY(FillWhatsAppContent(m, type, path, item));
  return item;
}

Result<Json> WhatsAppStatus(const Json& s, const std::string& path) {
  if (!s.is_object()) return Error::Invalid(path, "type", path + " must be an object");
  OPSBOX_ASSIGN_OR_RETURN(auto id, Str(s, "id", path, kProviderIdBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto status, Str(s, "status", path, 32));
  OPSBOX_ASSIGN_OR_RETURN(auto at_us, UnixSecondsUs(s, path));
  Json item{{"kind", "status"}, {"provider_message_id", id}, {"status", status}, {"at_us", at_us}};
  if (auto errs = s.find("errors"); errs != s.end() && errs->is_array()) {
    Json out = Json::array();
    for (const auto& e : *errs) {
      if (out.size() >= 10 || !e.is_object()) break;
      out.push_back(Json{{"code", e.value("code", Json())}, {"title", e.value("title", Json())}});
    }
    item["errors"] = std::move(out);
  }
  return item;
}

Status AddWhatsAppValue(const Json& value, const std::string& vp, Json& items,
                        std::string& phone_number_id) {
  if (auto md = value.find("metadata"); md != value.end() && md->is_object()) {
    if (auto pn = md->find("phone_number_id"); pn != md->end() && pn->is_string()) {
      phone_number_id = pn->get<std::string>();
    }
  }
  OPSBOX_ASSIGN_OR_RETURN(auto contacts, Array(value, "contacts", vp, false));
  OPSBOX_ASSIGN_OR_RETURN(auto messages, Array(value, "messages", vp, false));
  OPSBOX_ASSIGN_OR_RETURN(auto statuses, Array(value, "statuses", vp, false));
  if (items.size() + messages->size() + statuses->size() > kItemsPerCommandMax) {
    return Error::Invalid(At(vp, "messages"), "max_items",
                          "one delivery carries at most " + std::to_string(kItemsPerCommandMax) +
                              " messages and statuses");
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    OPSBOX_ASSIGN_OR_RETURN(
        auto item, WhatsAppMessage((*messages)[i], Index(At(vp, "messages"), i), *contacts));
    items.push_back(std::move(item));
  }
  for (size_t i = 0; i < statuses->size(); ++i) {
    OPSBOX_ASSIGN_OR_RETURN(auto item,
                            WhatsAppStatus((*statuses)[i], Index(At(vp, "statuses"), i)));
    items.push_back(std::move(item));
  }
  return Ok();
}

std::string HmacSha1Base64(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &mac_len);
  unsigned char out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(out, mac, static_cast<int>(mac_len));
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: '+' is a space, %XX a byte.
bool FormDecode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexDigit(in[i + 1]), lo = HexDigit(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return true;
}

std::string FormValue(const FormFields& fields, std::string_view key) {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return "";
}

Result<std::string> RequiredForm(const FormFields& fields, std::string_view key) {
  std::string v = FormValue(fields, key);
  if (v.empty())
    return Error::Invalid(std::string(key), "required", std::string(key) + " is required");
  if (v.size() > kProviderIdBytesMax) {
    return Error::Invalid(std::string(key), "max_bytes", std::string(key) + " is too long");
  }
  return v;
}

Status CheckFormUtf8(const FormFields& fields) {
  for (const auto& [k, v] : fields) {
    if (!IsUtf8(k)) return Error::Invalid("body", "utf8", "a form field name is not valid UTF-8");
    if (!IsUtf8(v)) return Error::Invalid(k, "utf8", k + " is not valid UTF-8");
  }
  return Ok();
}

// Length of the UTF-8 sequence starting at s[i] when well-formed, else 0.
size_t Utf8SequenceBytes(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

}  // namespace

bool IsUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceBytes(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

Status CheckUtf8(const Json& value, std::string_view path) {
  std::vector<std::pair<const Json*, std::string>> todo{{&value, std::string(path)}};
  size_t visited = 0;
  while (!todo.empty()) {
    auto [v, at] = std::move(todo.back());
    todo.pop_back();
    if (++visited > kUtf8CheckNodesMax) {
      return Error::Invalid(std::string(path), "max_items", "too many values to check");
    }
    if (v->is_string() && !IsUtf8(v->get_ref<const std::string&>())) {
      return Error::Invalid(at, "utf8", (at.empty() ? "a value" : at) + " is not valid UTF-8");
    }
    if (v->is_object()) {
      for (auto it = v->begin(); it != v->end(); ++it) {
        if (!IsUtf8(it.key())) {
          return Error::Invalid(at.empty() ? "body" : at, "utf8", "a key is not valid UTF-8");
        }
        todo.emplace_back(&it.value(), At(at, it.key()));
      }
    } else if (v->is_array()) {
      for (size_t i = 0; i < v->size(); ++i) todo.emplace_back(&(*v)[i], Index(at, i));
    }
  }
  return Ok();
}

Result<Json> ParseWhatsAppWebhook(std::string_view body) {
  if (body.size() > kWebhookBodyBytesMax) {
    return Error::Invalid("body", "max_bytes", "the body is larger than 1 MiB");
  }
  OPSBOX_ASSIGN_OR_RETURN(Json root, ParseJson(body, "body"));
  if (!root.is_object()) return Error::Invalid("body", "type", "the body must be a JSON object");
  OPSBOX_ASSIGN_OR_RETURN(auto object, Str(root, "object", "", 64));
  if (object != "whatsapp_business_account") {
    return Error::Invalid("object", "enum", "object must be \"whatsapp_business_account\"");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto entries, Array(root, "entry", "", true));
  Json items = Json::array();
  std::string phone_number_id;
  for (size_t e = 0; e < entries->size(); ++e) {
    const std::string ep = Index("entry", e);
    const Json& entry = (*entries)[e];
    if (!entry.is_object()) return Error::Invalid(ep, "type", ep + " must be an object");
    OPSBOX_ASSIGN_OR_RETURN(auto changes, Array(entry, "changes", ep, true));
    for (size_t c = 0; c < changes->size(); ++c) {
      const std::string cp = Index(At(ep, "changes"), c);
      const Json& change = (*changes)[c];
      if (!change.is_object()) return Error::Invalid(cp, "type", cp + " must be an object");
      if (change.value("field", Json("messages")) != Json("messages")) continue;
      OPSBOX_ASSIGN_OR_RETURN(auto value, Object(change, "value", cp));
      OPSBOX_TRY(AddWhatsAppValue(*value, At(cp, "value"), items, phone_number_id));
    }
  }
  return Json{{"items", std::move(items)}, {"phone_number_id", phone_number_id}};
}

std::string WhatsAppSignature(std::string_view app_secret, std::string_view body) {
  return "sha256=" + HexEncode(HmacSha256(app_secret, body));
}

bool VerifyWhatsAppSignature(std::string_view app_secret, std::string_view header,
                             std::string_view body) {
  if (app_secret.empty() || header.size() != 7 + 64) return false;
  std::string lower(header);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return ConstantTimeEqual(lower, WhatsAppSignature(app_secret, body));
}

Result<FormFields> ParseForm(std::string_view body) {
  if (body.size() > kWebhookBodyBytesMax) {
    return Error::Invalid("body", "max_bytes", "the body is larger than 1 MiB");
  }
  FormFields out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t amp = body.find('&', pos);
    if (amp == std::string_view::npos) amp = body.size();
    std::string_view pair = body.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    if (out.size() >= kFormFieldsMax) {
      return Error::Invalid("body", "max_items",
                            "at most " + std::to_string(kFormFieldsMax) + " form fields");
    }
    const size_t eq = pair.find('=');
    std::string key, value;
    if (!FormDecode(pair.substr(0, eq), key) ||
        !FormDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), value)) {
      return Error::Invalid("body", "format", "malformed percent-encoding in the form body");
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

std::string TwilioSignature(std::string_view auth_token, std::string_view url,
                            const FormFields& fields) {
  FormFields sorted = fields;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string data(url);
  for (const auto& [k, v] : sorted) data += k + v;
  return HmacSha1Base64(auth_token, data);
}

bool VerifyTwilioSignature(std::string_view auth_token, std::string_view header,
                           std::string_view url, const FormFields& fields) {
  if (auth_token.empty() || header.empty() || header.size() > 128) return false;
  return ConstantTimeEqual(header, TwilioSignature(auth_token, url, fields));
}

Result<Json> ParseTwilioIncomingCall(const FormFields& fields) {
  OPSBOX_TRY(CheckFormUtf8(fields));
  OPSBOX_ASSIGN_OR_RETURN(auto sid, RequiredForm(fields, "CallSid"));
  OPSBOX_ASSIGN_OR_RETURN(auto from, RequiredForm(fields, "From"));
  OPSBOX_ASSIGN_OR_RETURN(auto to, RequiredForm(fields, "To"));
  std::string status = FormValue(fields, "CallStatus");
  return Json{{"kind", "message"},
              {"provider_message_id", sid},
              {"from", Json{{"phone", from}}},
              {"text", ""},
              {"content", Json{{"type", "call"},
                               {"call_status", status.empty() ? "ringing" : status},
                               {"direction", FormValue(fields, "Direction")},
                               {"to", to}}}};
}

bool IsTerminalCallStatus(std::string_view s) {
  return s == "completed" || s == "busy" || s == "no-answer" || s == "failed" || s == "canceled";
}

Result<Json> ParseTwilioStatusCallback(const FormFields& fields) {
  OPSBOX_TRY(CheckFormUtf8(fields));
  OPSBOX_ASSIGN_OR_RETURN(auto sid, RequiredForm(fields, "CallSid"));
  OPSBOX_ASSIGN_OR_RETURN(auto status, RequiredForm(fields, "CallStatus"));
  Json item{{"kind", "status"}, {"provider_message_id", sid}, {"status", status}};
  std::string seq = FormValue(fields, "SequenceNumber");
  if (!seq.empty()) {
    if (seq.size() > 9 || seq.find_first_not_of("0123456789") != std::string::npos) {
      return Error::Invalid("SequenceNumber", "format", "SequenceNumber must be an integer");
    }
    item["sequence"] = std::stoll(seq);
  }
  std::string duration = FormValue(fields, "CallDuration");
  if (!duration.empty() && duration.size() <= 9 &&
      duration.find_first_not_of("0123456789") == std::string::npos) {
    item["duration_s"] = std::stoll(duration);
  }
  return item;
}

namespace {
// An SMS's id: MessageSid, or SmsSid (its older name, still sent).
Result<std::string> MessageSid(const FormFields& fields) {
  std::string sid = FormValue(fields, "MessageSid");
  if (sid.empty()) sid = FormValue(fields, "SmsSid");
  if (sid.empty()) return Error::Invalid("MessageSid", "required", "MessageSid is required");
  if (sid.size() > kProviderIdBytesMax) {
    return Error::Invalid("MessageSid", "max_bytes", "MessageSid is too long");
  }
  return sid;
}
}  // namespace

Result<Json> ParseTwilioSms(const FormFields& fields) {
  OPSBOX_TRY(CheckFormUtf8(fields));
  OPSBOX_ASSIGN_OR_RETURN(auto sid, MessageSid(fields));
  OPSBOX_ASSIGN_OR_RETURN(auto from, RequiredForm(fields, "From"));
  OPSBOX_ASSIGN_OR_RETURN(auto to, RequiredForm(fields, "To"));
  const std::string body = FormValue(fields, "Body");
  if (body.size() > kTextBytesMax) {
    return Error::Invalid("Body", "max_bytes", "Body is longer than 16 KiB");
  }
  Json content{{"type", "sms"}, {"to", to}};
  const std::string media = FormValue(fields, "NumMedia");
  if (!media.empty() && media.size() <= 3 &&
      media.find_first_not_of("0123456789") == std::string::npos) {
    content["num_media"] = std::stoll(media);
  }
  return Json{{"kind", "message"},
              {"provider_message_id", sid},
              {"from", Json{{"phone", from}}},
              {"text", body},
              {"content", std::move(content)}};
}

Result<Json> ParseTwilioSmsStatus(const FormFields& fields) {
  OPSBOX_TRY(CheckFormUtf8(fields));
  OPSBOX_ASSIGN_OR_RETURN(auto sid, MessageSid(fields));
  std::string status = FormValue(fields, "MessageStatus");
  if (status.empty()) status = FormValue(fields, "SmsStatus");
  static constexpr std::string_view kKnown[] = {"accepted", "scheduled", "queued", "sending",
                                                "sent",     "delivered", "undelivered",
                                                "failed",   "read",      "canceled"};
  if (std::find(std::begin(kKnown), std::end(kKnown), status) == std::end(kKnown)) {
    return Error::Invalid("MessageStatus", "enum",
                          "MessageStatus must be one of Twilio's message statuses");
  }
  // Both of Twilio's failures are "failed" on the message; which one is kept as the reason.
  Json item{{"kind", "status"},
            {"provider_message_id", sid},
            {"status", status == "undelivered" ? "failed" : status}};
  const std::string code = FormValue(fields, "ErrorCode");
  if (status == "undelivered" || status == "failed") {
    if (code.size() > 16 || code.find_first_not_of("0123456789") != std::string::npos) {
      return Error::Invalid("ErrorCode", "format", "ErrorCode must be a Twilio error number");
    }
    item["errors"] = Json::array(
        {Json{{"code", code.empty() ? Json() : Json(code)}, {"title", status}}});
  }
  return item;
}

std::string IncomingCallTwiml(std::string_view greeting) {
  std::string escaped;
  for (char c : greeting) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      default:
        escaped += c;
    }
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>" + escaped +
         "</Say><Enqueue>opsbox</Enqueue></Response>";
}

Result<Json> ParseChatMessage(const Json& body, Instant now) {
  OPSBOX_TRY(CheckObjectKeys(body, {"provider_message_id", "from", "text", "sent_at", "language"}));
  OPSBOX_ASSIGN_OR_RETURN(auto id, Str(body, "provider_message_id", "", kProviderIdBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto from, Object(body, "from", ""));
  OPSBOX_TRY(CheckObjectKeys(*from, {"external_id", "phone", "email", "name"}, "from"));
  Json sender = Json::object();
  for (const char* k : {"external_id", "phone", "email", "name"}) {
    OPSBOX_ASSIGN_OR_RETURN(auto v, Str(*from, k, "from", limits::kExternalIdBytesMax, false));
    if (!v.empty()) sender[k] = v;
  }
  if (!sender.contains("external_id") && !sender.contains("phone") && !sender.contains("email")) {
    return Error::Invalid("from", "required", "from needs external_id, phone or email");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto text, Str(body, "text", "", kTextBytesMax));
  Json item{{"kind", "message"},
            {"provider_message_id", id},
            {"from", std::move(sender)},
            {"text", text},
            {"content", Json{{"type", "text"}}}};
  // Without sent_at the ledger time stands in (a retry must carry the same payload).
  if (body.contains("sent_at")) {
    OPSBOX_ASSIGN_OR_RETURN(auto s, Str(body, "sent_at", "", 64));
    OPSBOX_ASSIGN_OR_RETURN(Instant sent_at, ParseRfc3339(s, "sent_at"));
    if (sent_at > now + Duration::Minutes(5)) {
      return Error::Invalid("sent_at", "future", "sent_at lies more than 5 minutes ahead");
    }
    item["sent_at_us"] = sent_at.us;
  }
  if (body.contains("language")) {
    OPSBOX_ASSIGN_OR_RETURN(auto lang, Str(body, "language", "", 35));
    item["language"] = lang;
  }
  return item;
}

}  // namespace opsbox::intake
