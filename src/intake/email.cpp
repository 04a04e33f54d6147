// E-mail adapter: RFC 5322 parsing with GMime 3, and HTML to text.
#include <gmime/gmime.h>

#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/limits.hpp"
#include "intake/adapters.hpp"
#include "intake/intake.hpp"

namespace opsbox::intake {
namespace {

void InitGMime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

// Owns one GObject reference.
template <class T>
struct GRef {
  T* p = nullptr;
  explicit GRef(T* ptr) : p(ptr) {}
  ~GRef() {
    if (p != nullptr) g_object_unref(p);
  }
  GRef(const GRef&) = delete;
  GRef& operator=(const GRef&) = delete;
};

std::string Bounded(const char* s, size_t bytes_max) {
  if (s == nullptr) return "";
  std::string out(s);
  if (out.size() > bytes_max) out.resize(bytes_max);
  return out;
}

// Message ids without angle brackets, as GMime returns them.
std::string HeaderMessageId(GMimeObject* obj, const char* name) {
  const char* v = g_mime_object_get_header(obj, name);
  if (v == nullptr) return "";
  char* id = g_mime_utils_decode_message_id(v);
  std::string out = Bounded(id, kProviderIdBytesMax);
  g_free(id);
  return out;
}

struct PartsState {
  std::string plain, html;
  Json attachments = Json::array();
  size_t parts = 0;
};

void VisitPart(GMimeObject* /*parent*/, GMimeObject* part, gpointer data) {
  auto& st = *static_cast<PartsState*>(data);
  if (++st.parts > kEmailPartsMax || !GMIME_IS_PART(part)) return;
  GMimePart* p = GMIME_PART(part);
  GMimeContentType* ct = g_mime_object_get_content_type(part);
  char* mime = ct != nullptr ? g_mime_content_type_get_mime_type(ct) : nullptr;
  const std::string mime_type = Bounded(mime, 200);
  g_free(mime);
  const char* filename = g_mime_part_get_filename(p);
  if (g_mime_part_is_attachment(p) || filename != nullptr) {
    if (st.attachments.size() >= kAttachmentsMax) return;
    int64_t size = 0;
    if (GMimeDataWrapper* content = g_mime_part_get_content(p); content != nullptr) {
      GRef<GMimeStream> sink(g_mime_stream_null_new());
      size = g_mime_data_wrapper_write_to_stream(content, sink.p);
    }
    st.attachments.push_back(Json{{"filename", Bounded(filename, 1024)},
                                  {"content_type", mime_type},
                                  {"size_bytes", size < 0 ? 0 : size}});
    return;
  }
  if (!GMIME_IS_TEXT_PART(part)) return;
  std::string* target = nullptr;
  if (mime_type == "text/plain" && st.plain.empty()) target = &st.plain;
  if (mime_type == "text/html" && st.html.empty()) target = &st.html;
  if (target == nullptr) return;
  char* text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
  *target = Bounded(text, kWebhookBodyBytesMax);
  g_free(text);
}

Result<Json> FromAddress(GMimeMessage* msg) {
  InternetAddressList* from = g_mime_message_get_from(msg);
  if (from == nullptr || internet_address_list_length(from) < 1) {
    return Error::Invalid("From", "required", "the message has no From address");
  }
  InternetAddress* a = internet_address_list_get_address(from, 0);
  if (!INTERNET_ADDRESS_IS_MAILBOX(a)) {
    return Error::Invalid("From", "format", "From must be a mailbox, not a group");
  }
  Json sender{{"email", Bounded(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)),
                                limits::kExternalIdBytesMax)}};
  std::string name = Bounded(internet_address_get_name(a), limits::kNameBytesMax);
  if (!name.empty()) sender["name"] = name;
  return sender;
}

Json References(GMimeObject* obj) {
  Json refs = Json::array();
  const char* v = g_mime_object_get_header(obj, "References");
  if (v == nullptr) return refs;
  GMimeReferences* list = g_mime_references_parse(nullptr, v);
  if (list == nullptr) return refs;
  const int n = g_mime_references_length(list);
  for (int i = 0; i < n && refs.size() < kEmailReferencesMax; ++i) {
    refs.push_back(Bounded(g_mime_references_get_message_id(list, i), kProviderIdBytesMax));
  }
  g_mime_references_free(list);
  return refs;
}

// Names the header (or part) a string that is not UTF-8 came from: an 8-bit header or a part
// whose bytes do not match its charset would otherwise make the event unencodable.
Status CheckEmailUtf8(const Json& item) {
  const Json& thread = item["thread"];
  const std::pair<const Json*, const char*> fields[] = {
      {&item["content"]["subject"], "Subject"},
      {&thread["message_id"], "Message-ID"},
      {&thread["in_reply_to"], "In-Reply-To"},
      {&thread["references"], "References"},
      {&item["text"], "text"},
      {&item["content"]["attachments"], "attachments"}};
  for (const auto& [value, field] : fields) {
    auto st = CheckUtf8(*value, field);
    if (!st.ok()) return st;
  }
  return CheckUtf8(item, "");
}

}  // namespace

Result<Json> ParseEmail(std::string_view raw) {
  if (raw.size() > kWebhookBodyBytesMax) {
    return Error::Invalid("body", "max_bytes", "the message is larger than 1 MiB");
  }
  InitGMime();
  GRef<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GRef<GMimeParser> parser(g_mime_parser_new_with_stream(stream.p));
  GRef<GMimeMessage> msg(g_mime_parser_construct_message(parser.p, nullptr));
  if (msg.p == nullptr) return Error::Invalid("body", "format", "not an RFC 5322 message");
  GMimeObject* obj = GMIME_OBJECT(msg.p);
  const std::string message_id = Bounded(g_mime_message_get_message_id(msg.p), kProviderIdBytesMax);
  if (message_id.empty()) {
    return Error::Invalid("Message-ID", "required", "the message has no Message-ID header");
  }
  OPSBOX_ASSIGN_OR_RETURN(Json sender, FromAddress(msg.p));
  if (!CheckUtf8(sender, "From").ok()) {
    return Error::Invalid("From", "utf8", "From is not valid UTF-8");
  }
  PartsState parts;
  g_mime_message_foreach(msg.p, VisitPart, &parts);
  std::string text = !parts.plain.empty() ? parts.plain : HtmlToText(parts.html);
  if (text.size() > kTextBytesMax) text.resize(kTextBytesMax);
  // A cut inside a UTF-8 sequence would make the event unencodable: drop the partial tail.
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
  Json item{{"kind", "message"},
            {"provider_message_id", message_id},
            {"from", std::move(sender)},
            {"text", std::move(text)},
            {"content", Json{{"type", "email"},
                             {"subject", Bounded(g_mime_message_get_subject(msg.p), 1000)},
                             {"attachments", std::move(parts.attachments)},
                             {"had_html", !parts.html.empty()}}},
            {"thread", Json{{"message_id", message_id},
                            {"in_reply_to", HeaderMessageId(obj, "In-Reply-To")},
                            {"references", References(obj)}}}};
  if (GDateTime* date = g_mime_message_get_date(msg.p); date != nullptr) {
    item["sent_at_us"] = static_cast<int64_t>(g_date_time_to_unix(date)) * 1000000;
  }
  OPSBOX_TRY(CheckEmailUtf8(item));
  return item;
}

namespace {

bool IsBlockTag(std::string_view name) {
  static constexpr std::string_view kBlocks[] = {"p",  "div", "br",         "li", "tr", "h1",
                                                 "h2", "h3",  "h4",         "h5", "h6", "table",
                                                 "ul", "ol",  "blockquote", "hr", "pre"};
  for (auto b : kBlocks) {
    if (name == b) return true;
  }
  return false;
}

void AppendCodepoint(std::string& out, uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the entity starting at html[i] == '&'; returns the bytes consumed (0: not an entity).
size_t DecodeEntity(std::string_view html, size_t i, std::string& out) {
  const size_t semi = html.find(';', i);
  if (semi == std::string_view::npos || semi - i > 10) return 0;
  std::string_view name = html.substr(i + 1, semi - i - 1);
  static constexpr std::pair<std::string_view, std::string_view> kNamed[] = {
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "}};
  for (const auto& [n, v] : kNamed) {
    if (name == n) {
      out += v;
      return semi - i + 1;
    }
  }
  if (name.size() >= 2 && name[0] == '#') {
    const bool hex = name[1] == 'x' || name[1] == 'X';
    std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    uint32_t cp = 0;
    for (char c : digits) {
      int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
              : hex && std::isxdigit(static_cast<unsigned char>(c))
                  ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                  : -1;
      if (d < 0) return 0;
      cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
      if (cp > 0x10FFFF) return 0;
    }
    AppendCodepoint(out, cp);
    return semi - i + 1;
  }
  return 0;
}

void AppendSpace(std::string& out, char c) {
  if (out.empty()) return;
  if (c == '\n') {
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n') return;
    out += '\n';
  } else if (out.back() != ' ' && out.back() != '\n') {
    out += ' ';
  }
}

}  // namespace

std::string HtmlToText(std::string_view html) {
  std::string out;
  std::string skip_until;  // "</script" or "</style" or "</head" while inside one
  size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (!skip_until.empty()) {
      const size_t end = html.find(skip_until, i);
      i = end == std::string_view::npos ? html.size() : end;
      skip_until.clear();
      continue;
    }
    if (c == '<') {
      const size_t close = html.find('>', i);
      if (close == std::string_view::npos) break;
      std::string_view tag = html.substr(i + 1, close - i - 1);
      const bool end_tag = !tag.empty() && tag[0] == '/';
      if (end_tag) tag.remove_prefix(1);
      std::string name;
      for (char t : tag) {
        if (!std::isalnum(static_cast<unsigned char>(t))) break;
        name += static_cast<char>(std::tolower(static_cast<unsigned char>(t)));
      }
      if (!end_tag && (name == "script" || name == "style" || name == "head")) {
        skip_until = "</" + name;
      }
      if (IsBlockTag(name)) AppendSpace(out, '\n');
      i = close + 1;
      continue;
    }
    if (c == '&') {
      if (size_t n = DecodeEntity(html, i, out); n > 0) {
        i += n;
        continue;
      }
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      AppendSpace(out, ' ');
    } else {
      out += c;
    }
    ++i;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
  return out;
}

}  // namespace opsbox::intake
