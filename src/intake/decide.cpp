// Command handlers of intake: load what a decision needs through the writer's transaction,
// then decide. The decisions themselves are pure given the loaded state, `now` and the hooks
// (blind index and PII scan are deterministic functions of their inputs).
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/ids.hpp"
#include "core/limits.hpp"
#include "intake/adapters.hpp"
#include "intake/intake.hpp"
#include "intake/internal/state.hpp"

namespace opsbox::intake::detail {

ledger::NewEvent Personal(std::string_view type, Json payload, std::string subject,
                          std::vector<std::string> fields) {
  ledger::NewEvent e{std::string(type), std::move(payload)};
  e.subject_id = std::move(subject);
  e.personal_fields = std::move(fields);
  return e;
}

std::string Scope(const std::string& customer_id, const std::string& conversation_id) {
  return customer_id + "/" + conversation_id;
}

namespace {

// One receive_inbound command in progress: what it has decided so far, so that later items of
// the same command see earlier ones (the projections only see them after the command).
struct Inbound {
  store::Tx& tx;
  const ledger::Command& cmd;
  Instant now;
  Random& random;
  const Hooks& hooks;
  std::string channel;
  ChannelSettings settings;
  ledger::Decision d;
  std::map<std::string, std::string> identities;  // kind + "\n" + index -> customer id
  std::map<std::string, ConversationState> conversations;        // by conversation id
  std::map<std::string, std::string> latest;       // customer id -> conversation id (channel)
  std::map<std::string, std::string> threads;      // e-mail message key -> conversation id
  std::set<std::string> seen;                      // provider ids (and status keys) decided
  Json results = Json::array();
};

struct Identifier {
  std::string kind, normalized, field, index;
};

Result<std::vector<Identifier>> Identifiers(Inbound& in, const Json& from) {
  std::vector<Identifier> ids;
  const std::string wa = Text(from, "wa_id"), phone = Text(from, "phone"),
                    email = Text(from, "email"), ext = Text(from, "external_id");
  if (!wa.empty()) ids.push_back({"whatsapp", wa, "from.wa_id", ""});
  if (!phone.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(auto e164, NormalizePhone(phone, in.settings.region, "from.phone"));
    ids.push_back({"phone", e164, "from.phone", ""});
  }
  if (!email.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(auto norm, NormalizeEmail(email, "from.email"));
    ids.push_back({"email", norm, "from.email", ""});
  }
  if (!ext.empty()) ids.push_back({"external", ext, "from.external_id", ""});
  if (ids.empty()) return Error::Invalid("from", "required", "the sender has no identifier");
  for (auto& id : ids) id.index = in.hooks.blind_index(in.cmd.tenant_id, id.kind, id.normalized);
  return ids;
}

Result<std::optional<std::string>> LookUp(Inbound& in, const Identifier& id) {
  if (auto it = in.identities.find(id.kind + "\n" + id.index); it != in.identities.end()) {
    return std::optional<std::string>(it->second);
  }
  store::Value p[] = {in.cmd.tenant_id, id.kind, id.index};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, in.tx.Query("SELECT customer_id FROM intake_identities WHERE "
                                                 "tenant_id = ? AND kind = ? AND blind_index = ?",
                                                 p));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].Text(0));
}

const char* ColumnOf(std::string_view kind) {
  if (kind == "whatsapp") return "wa_id";
  if (kind == "external") return "external_id";
  return kind == "phone" ? "phone" : "email";
}

// Finds the sender's customer by any identifier, creating it or linking new identifiers.
Result<std::string> ResolveCustomer(Inbound& in, const Json& from) {
  OPSBOX_ASSIGN_OR_RETURN(auto ids, Identifiers(in, from));
  std::string customer_id;
  std::vector<const Identifier*> unknown;
  for (const auto& id : ids) {
    OPSBOX_ASSIGN_OR_RETURN(auto found, LookUp(in, id));
    if (!found) {
      unknown.push_back(&id);
    } else if (customer_id.empty()) {
      customer_id = *found;
    }
  }
  if (customer_id.empty()) {
    customer_id = NewId("cus", in.now, in.random);
    Json p{{"customer_id", customer_id}, {"identities", Json::array()}};
    const std::string name = Text(from, "name");
    if (!name.empty()) p["name"] = name;
    for (const auto& id : ids) {
      p[ColumnOf(id.kind)] = id.normalized;
      p["identities"].push_back(Json{{"kind", id.kind}, {"index", id.index}});
      in.identities[id.kind + "\n" + id.index] = customer_id;
    }
    in.d.events.push_back(Personal(kCustomerCreated, std::move(p), customer_id,
                                   {"name", "phone", "email", "wa_id", "external_id"}));
    return customer_id;
  }
  for (const Identifier* id : unknown) {
    in.identities[id->kind + "\n" + id->index] = customer_id;
    in.d.events.push_back(Personal(kCustomerIdentityLinked,
                                   Json{{"customer_id", customer_id},
                                        {"kind", id->kind},
                                        {"index", id->index},
                                        {"value", id->normalized}},
                                   customer_id, {"value"}));
  }
  return customer_id;
}

Result<std::optional<ConversationState>> Conversation(Inbound& in, const std::string& id) {
  if (auto it = in.conversations.find(id); it != in.conversations.end()) {
    return std::optional<ConversationState>(it->second);
  }
  return LoadConversation(in.tx, in.cmd.tenant_id, id);
}

// The e-mail conversation an In-Reply-To or References id points at, if any.
Result<std::optional<std::string>> EmailThread(Inbound& in, const Json& thread) {
  std::vector<std::string> ids;
  if (!Text(thread, "in_reply_to").empty()) ids.push_back(Text(thread, "in_reply_to"));
  if (auto refs = thread.find("references"); refs != thread.end() && refs->is_array()) {
    for (auto it = refs->rbegin(); it != refs->rend(); ++it) {
      if (it->is_string()) ids.push_back(it->get<std::string>());
    }
  }
  for (const auto& mid : ids) {
    const std::string key = in.hooks.blind_index(in.cmd.tenant_id, "email_message", mid);
    if (auto it = in.threads.find(key); it != in.threads.end()) {
      return std::optional<std::string>(it->second);
    }
    store::Value p[] = {in.cmd.tenant_id, key};
    OPSBOX_ASSIGN_OR_RETURN(auto rows, in.tx.Query("SELECT conversation_id FROM intake_email_threads "
                                                   "WHERE tenant_id = ? AND message_key = ?",
                                                   p));
    if (!rows.empty()) return std::optional<std::string>(rows[0].Text(0));
  }
  return std::optional<std::string>();
}

Status OpenConversation(Inbound& in, ConversationState& c, bool reopened, const Json& item) {
  Json p{{"conversation_id", c.conversation_id},
         {"customer_id", c.customer_id},
         {"channel", c.channel},
         {"reopened", reopened}};
  if (!Text(item, "language").empty()) p["language"] = Text(item, "language");
  if (in.hooks.classify && !Text(item, "text").empty()) {
    if (auto hit = in.hooks.classify(in.cmd.tenant_id, Text(item, "text"))) {
      p["intent"] = hit->intent;
      p["intent_confidence_bp"] = std::clamp<int64_t>(hit->confidence_bp, 0, 10000);
      // The automation boundary of the intent on this channel, with the policy version that
      // decided it (automation::Automation::DecideInTx).
      if (in.hooks.boundary) {
        OPSBOX_ASSIGN_OR_RETURN(auto b, in.hooks.boundary(in.tx, in.cmd.tenant_id, hit->intent,
                                                          c.channel, in.now));
        p["automation_boundary"] = b.boundary;
        p["automation_policy_version"] = b.policy_version;
      }
    }
  }
  in.d.events.push_back(ledger::NewEvent{std::string(kConversationOpened), std::move(p)});
  c.status = "open";
  c.closed_at_us = 0;
  return Ok();
}

void CloseConversation(Inbound& in, ConversationState& c, std::string reason) {
  in.d.events.push_back(ledger::NewEvent{
      std::string(kConversationClosed),
      Json{{"conversation_id", c.conversation_id}, {"customer_id", c.customer_id},
           {"channel", c.channel}, {"reason", std::move(reason)}}});
  c.status = "closed";
  c.closed_at_us = in.now.us;
}

Result<std::optional<ConversationState>> Latest(Inbound& in, const std::string& customer_id,
                                                const Json& item) {
  if (in.channel == kEmail) {
    // An e-mail belongs to the thread it answers; one that answers nothing starts a thread.
    OPSBOX_ASSIGN_OR_RETURN(auto id, EmailThread(in, item.value("thread", Json::object())));
    if (!id) return std::optional<ConversationState>();
    return Conversation(in, *id);
  }
  if (auto it = in.latest.find(customer_id); it != in.latest.end()) {
    return std::optional<ConversationState>(in.conversations.at(it->second));
  }
  return LatestConversation(in.tx, in.cmd.tenant_id, customer_id, in.channel);
}

Result<ConversationState> PickConversation(Inbound& in, const std::string& customer_id,
                                           const Json& item) {
  OPSBOX_ASSIGN_OR_RETURN(auto latest, Latest(in, customer_id, item));
  auto action = ChooseConversation(latest, in.settings.reopen_window_s, in.now);
  if (in.channel == kEmail && latest) {
    action = latest->status == "open" ? ConversationAction::kAppend : ConversationAction::kReopen;
  }
  ConversationState c;
  if (action == ConversationAction::kAppend || action == ConversationAction::kReopen) {
    c = *latest;
    if (action == ConversationAction::kReopen) OPSBOX_TRY(OpenConversation(in, c, true, item));
  } else {
    if (action == ConversationAction::kCloseAndNew) {
      ConversationState old = *latest;
      CloseConversation(in, old, "inactive");
      in.conversations[old.conversation_id] = old;
    }
    c.conversation_id = NewId("conv", in.now, in.random);
    c.customer_id = customer_id;
    c.channel = in.channel;
    OPSBOX_TRY(OpenConversation(in, c, false, item));
  }
  c.last_activity_at_us = in.now.us;
  in.conversations[c.conversation_id] = c;
  in.latest[customer_id] = c.conversation_id;
  return c;
}

// Scans, redacts what must never be stored, and returns (stored text, stored findings, types of
// every finding, count).
struct Scanned {
  std::string text;
  Json findings = Json::array();
  Json types = Json::array();
  size_t count = 0;
};
Scanned ScanText(const Hooks& hooks, std::string_view text) {
  Scanned s;
  if (text.empty() || !hooks.scan) {
    s.text = std::string(text);
    return s;
  }
  const auto hits = hooks.scan(text);
  s.count = hits.size();
  std::set<std::string> types;
  for (const auto& h : hits) types.insert(h.type);
  for (const auto& t : types) s.types.push_back(t);
  s.text = RedactNeverStore(text, hits);
  const auto stored = s.text.size() == text.size() && s.text == text ? hits : hooks.scan(s.text);
  for (const auto& h : stored) {
    if (IsNeverStored(h.type)) continue;
    s.findings.push_back(Json{{"type", h.type}, {"start", h.start}, {"end", h.end}});
  }
  return s;
}

void SensitiveDataException(ledger::Decision& d, const Scanned& s, const std::string& channel,
                            const std::string& conversation_id, const std::string& message_id,
                            std::string sender_kind, std::string sender_id) {
  if (s.count == 0) return;
  d.events.push_back(ledger::NewEvent{std::string(kSensitiveDataExceptionRecorded),
                                      Json{{"channel", channel},
                                           {"conversation_id", conversation_id},
                                           {"message_id", message_id},
                                           {"sender_kind", std::move(sender_kind)},
                                           {"sender_id", std::move(sender_id)},
                                           {"types", s.types},
                                           {"count", s.count}}});
}

Result<bool> MessageExists(Inbound& in, const std::string& provider_id) {
  if (!in.seen.insert("m\n" + provider_id).second) return true;
  store::Value p[] = {in.cmd.tenant_id, in.channel, provider_id};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, in.tx.Query("SELECT 1 FROM intake_messages WHERE tenant_id = ? "
                                                 "AND channel = ? AND provider_message_id = ?",
                                                 p));
  return !rows.empty();
}

// STOP, UNSUBSCRIBE or the tenant's own keyword withdraws SMS consent for every purpose; START
// grants it again for "service" only (marketing and collections need their own consent). Both
// are privacy's events (Hooks::consent), appended with the message that asked.
Status DecideKeyword(Inbound& in, const std::string& text, const std::string& customer_id,
                     const std::string& message_id) {
  const std::string keyword = SmsKeyword(text, in.settings.opt_out_keywords);
  if (keyword.empty() || !in.hooks.consent) return Ok();
  const bool granted = keyword == "start";
  std::vector<std::string_view> purposes = {"service"};
  if (!granted) purposes = {"service", "collections", "marketing"};
  for (auto purpose : purposes) {
    Json p{{"customer_id", customer_id},
           {"purpose", std::string(purpose)},
           {"channel", std::string(kSms)},
           {"source", "sms_keyword"},
           {"notice_version", "sms-keywords-1"},
           {"evidence", "inbound SMS " + message_id + ": " + (granted ? "START" : "STOP")}};
    OPSBOX_ASSIGN_OR_RETURN(auto events, in.hooks.consent(p, granted, in.now));
    for (auto& e : events) in.d.events.push_back(std::move(e));
  }
  return Ok();
}

Status DecideMessage(Inbound& in, const Json& item, const std::string& path) {
  std::string provider_id = Text(item, "provider_message_id");
  std::string thread_key;
  if (in.channel == kEmail) {
    // Message-IDs name hosts and sometimes people: only their keyed index is stored.
    thread_key = in.hooks.blind_index(in.cmd.tenant_id, "email_message", provider_id);
    provider_id = "mid:" + thread_key;
  }
  OPSBOX_ASSIGN_OR_RETURN(bool dup, MessageExists(in, provider_id));
  if (dup) {
    in.results.push_back(Json{{"kind", "message"}, {"provider_message_id", provider_id},
                              {"duplicate", true}});
    return Ok();
  }
  auto from = item.find("from");
  if (from == item.end() || !from->is_object()) {
    return Error::Invalid(path + ".from", "required", "the sender is required");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto customer_id, ResolveCustomer(in, *from));
  OPSBOX_ASSIGN_OR_RETURN(auto conv, PickConversation(in, customer_id, item));
  if (!thread_key.empty()) in.threads[thread_key] = conv.conversation_id;
  const std::string message_id = NewId("msg", in.now, in.random);
  Scanned s = ScanText(in.hooks, Text(item, "text"));
  Json content = item.value("content", Json::object());
  if (content.contains("subject") && content["subject"].is_string() && in.hooks.scan) {
    const std::string subject = content["subject"].get<std::string>();
    content["subject"] = RedactNeverStore(subject, in.hooks.scan(subject));
  }
  Json p{{"message_id", message_id},           {"conversation_id", conv.conversation_id},
         {"customer_id", customer_id},         {"channel", in.channel},
         {"provider_message_id", provider_id}, {"sent_at_us", item.value("sent_at_us", in.now.us)},
         {"text", s.text},                     {"content", std::move(content)},
         {"findings", s.findings}};
  if (!thread_key.empty()) p["thread_key"] = thread_key;
  if (in.channel == kVoice) p["provider_ref"] = Text(item, "provider_message_id");
  in.d.events.push_back(Personal(kMessageReceived, std::move(p),
                                 Scope(customer_id, conv.conversation_id),
                                 {"text", "content", "findings"}));
  SensitiveDataException(in.d, s, in.channel, conv.conversation_id, message_id, "customer",
                         customer_id);
  if (in.channel == kSms) OPSBOX_TRY(DecideKeyword(in, Text(item, "text"), customer_id, message_id));
  in.results.push_back(Json{{"kind", "message"}, {"provider_message_id", provider_id},
                            {"duplicate", false}, {"customer_id", customer_id},
                            {"conversation_id", conv.conversation_id}, {"message_id", message_id}});
  return Ok();
}

// The message (outbound first) or, for voice, the conversation a status refers to.
Result<Json> StatusTarget(Inbound& in, const std::string& provider_id) {
  store::Value p[] = {in.cmd.tenant_id, provider_id};
  OPSBOX_ASSIGN_OR_RETURN(auto out, in.tx.Query("SELECT o.message_id, m.conversation_id FROM "
                                                "intake_outbound o JOIN intake_messages m ON "
                                                "m.tenant_id = o.tenant_id AND m.message_id = "
                                                "o.message_id WHERE o.tenant_id = ? AND "
                                                "o.provider_message_id = ?",
                                                p));
  if (!out.empty()) return Json{{"message_id", out[0].Text(0)}, {"conversation_id", out[0].Text(1)}};
  if (in.channel != kVoice) return Json::object();
  OPSBOX_ASSIGN_OR_RETURN(auto conv, in.tx.Query("SELECT conversation_id FROM intake_conversations "
                                                 "WHERE tenant_id = ? AND provider_ref = ?",
                                                 p));
  if (conv.empty()) return Json::object();
  return Json{{"conversation_id", conv[0].Text(0)}};
}

Status DecideStatus(Inbound& in, const Json& item) {
  const std::string provider_id = Text(item, "provider_message_id");
  const std::string status = Text(item, "status");
  const std::string key = "s\n" + provider_id + "\n" + status;
  store::Value p[] = {in.cmd.tenant_id, in.channel, provider_id, status};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, in.tx.Query("SELECT 1 FROM intake_statuses WHERE tenant_id = ? "
                                                 "AND channel = ? AND provider_message_id = ? AND "
                                                 "status = ?",
                                                 p));
  if (!rows.empty() || !in.seen.insert(key).second) {
    in.results.push_back(Json{{"kind", "status"}, {"provider_message_id", provider_id},
                              {"duplicate", true}});
    return Ok();
  }
  OPSBOX_ASSIGN_OR_RETURN(Json ev, StatusTarget(in, provider_id));
  ev["channel"] = in.channel;
  ev["provider_message_id"] = provider_id;
  ev["status"] = status;
  ev["at_us"] = item.value("at_us", in.now.us);
  for (const char* k : {"sequence", "errors", "duration_s"}) {
    if (item.contains(k)) ev[k] = item[k];
  }
  const std::string conversation_id = Text(ev, "conversation_id");
  in.d.events.push_back(ledger::NewEvent{std::string(kMessageStatusUpdated), ev});
  if (in.channel == kVoice && IsTerminalCallStatus(status) && !conversation_id.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(auto conv, Conversation(in, conversation_id));
    if (conv && conv->status == "open") {
      CloseConversation(in, *conv, "call_" + status);
      in.conversations[conv->conversation_id] = *conv;
    }
  }
  in.results.push_back(Json{{"kind", "status"}, {"provider_message_id", provider_id},
                            {"duplicate", false}});
  return Ok();
}

Status CheckItem(const Json& item, const std::string& path) {
  if (!item.is_object()) return Error::Invalid(path, "type", path + " must be an object");
  const std::string kind = Text(item, "kind");
  if (kind != "message" && kind != "status") {
    return Error::Invalid(path + ".kind", "enum", "kind must be message or status");
  }
  const std::string id = Text(item, "provider_message_id");
  if (id.empty() || id.size() > kProviderIdBytesMax) {
    return Error::Invalid(path + ".provider_message_id", "required",
                          "provider_message_id is required (at most 256 bytes)");
  }
  if (kind == "message" && Text(item, "text").size() > kTextBytesMax) {
    return Error::Invalid(path + ".text", "max_bytes", "text is longer than 16 KiB");
  }
  if (kind == "status" && (Text(item, "status").empty() || Text(item, "status").size() > 32)) {
    return Error::Invalid(path + ".status", "required", "status is required");
  }
  return Ok();
}

}  // namespace

Result<ledger::Decision> HandleReceiveInbound(store::Tx& tx, const ledger::Command& cmd,
                                              Instant now, Random& random, const Intake& intake) {
  const Json& body = cmd.payload;
  if (!body.is_object()) return Error::Invalid("body", "type", "the payload must be an object");
  const std::string channel = Text(body, "channel");
  if (!IsChannel(channel)) return Error::Invalid("channel", "enum", "unknown channel");
  auto items = body.find("items");
  if (items == body.end() || !items->is_array() || items->size() > kItemsPerCommandMax) {
    return Error::Invalid("items", "max_items", "items must be an array of at most 100");
  }
  Inbound in{tx, cmd, now, random, intake.hooks(), channel, {}, {}, {}, {}, {}, {}, {}};
  OPSBOX_ASSIGN_OR_RETURN(in.settings, LoadSettings(tx, cmd.tenant_id, channel, intake.options()));
  for (size_t i = 0; i < items->size(); ++i) {
    const Json& item = (*items)[i];
    const std::string path = "items[" + std::to_string(i) + "]";
    OPSBOX_TRY(CheckItem(item, path));
    if (Text(item, "kind") == "message") {
      OPSBOX_TRY(DecideMessage(in, item, path));
    } else {
      OPSBOX_TRY(DecideStatus(in, item));
    }
  }
  in.d.result = Json{{"channel", channel}, {"items", std::move(in.results)}};
  return std::move(in.d);
}

Result<ledger::Decision> HandleSendMessage(store::Tx& tx, const ledger::Command& cmd, Instant now,
                                           Random& random, const Intake& intake) {
  OPSBOX_TRY(CheckObjectKeys(cmd.payload, {"conversation_id", "text"}));
  OPSBOX_ASSIGN_OR_RETURN(auto conversation_id, RequireString(cmd.payload, "conversation_id", 64));
  OPSBOX_ASSIGN_OR_RETURN(auto text, RequireString(cmd.payload, "text", kTextBytesMax));
  if (text.empty()) return Error::Invalid("text", "required", "text must not be empty");
  OPSBOX_ASSIGN_OR_RETURN(auto conv, LoadConversation(tx, cmd.tenant_id, conversation_id));
  if (!conv) return Error::NotFound("no conversation " + conversation_id);
  if (conv->status != "open") {
    return Error::Conflict("conversation_closed", "the conversation is closed");
  }
  if (conv->channel == kVoice) {
    return Error::Conflict("channel_not_replyable", "voice conversations take no text replies");
  }
  const std::string message_id = NewId("msg", now, random);
  Scanned s = ScanText(intake.hooks(), text);
  const std::string delivery = conv->channel == kWhatsApp ? "whatsapp_cloud"
                               : conv->channel == kSms    ? "twilio_sms"
                                                          : "none";
  // An opted-out number gets nothing (issue #14): refused before anything is recorded.
  OPSBOX_TRY(CheckNotOptedOut(tx, cmd.tenant_id, conv->channel, conv->customer_id,
                              intake.hooks()));
  Json payload{{"message_id", message_id},
               {"conversation_id", conv->conversation_id},
               {"customer_id", conv->customer_id},
               {"channel", conv->channel},
               {"sender_id", cmd.actor},
               {"delivery", delivery},
               {"text", s.text},
               {"findings", s.findings}};
  if (conv->channel == kSms) {
    const SmsSegments seg = CountSmsSegments(s.text);
    payload["segments"] = seg.segments;
    payload["encoding"] = seg.encoding;
  }
  ledger::Decision d;
  d.events.push_back(Personal(kMessageSent, std::move(payload),
                              Scope(conv->customer_id, conv->conversation_id),
                              {"text", "findings"}));
  SensitiveDataException(d, s, conv->channel, conv->conversation_id, message_id, "agent",
                         cmd.actor);
  d.result = Json{{"message_id", message_id},
                  {"conversation_id", conv->conversation_id},
                  {"status", delivery == "none" ? "recorded" : "queued"}};
  return d;
}

Result<ledger::Decision> HandleCloseConversation(store::Tx& tx, const ledger::Command& cmd,
                                                 Instant, Random&) {
  OPSBOX_TRY(CheckObjectKeys(cmd.payload, {"conversation_id", "reason"}));
  OPSBOX_ASSIGN_OR_RETURN(auto conversation_id, RequireString(cmd.payload, "conversation_id", 64));
  OPSBOX_ASSIGN_OR_RETURN(auto reason, OptionalString(cmd.payload, "reason", 200, "closed"));
  OPSBOX_ASSIGN_OR_RETURN(auto conv, LoadConversation(tx, cmd.tenant_id, conversation_id));
  if (!conv) return Error::NotFound("no conversation " + conversation_id);
  ledger::Decision d;
  d.result = Json{{"conversation_id", conversation_id}, {"status", "closed"}};
  if (conv->status != "open") return d;
  d.events.push_back(ledger::NewEvent{
      std::string(kConversationClosed),
      Json{{"conversation_id", conversation_id}, {"customer_id", conv->customer_id},
           {"channel", conv->channel}, {"reason", reason}}});
  return d;
}

Result<ledger::Decision> HandleSignatureRejected(store::Tx&, const ledger::Command& cmd, Instant,
                                                 Random&) {
  OPSBOX_TRY(CheckObjectKeys(cmd.payload, {"channel", "reason", "remote_address", "count"}));
  OPSBOX_ASSIGN_OR_RETURN(auto channel, RequireString(cmd.payload, "channel", 16));
  OPSBOX_ASSIGN_OR_RETURN(auto reason, RequireString(cmd.payload, "reason", 200));
  OPSBOX_ASSIGN_OR_RETURN(auto remote, OptionalString(cmd.payload, "remote_address", 64, ""));
  // How many rejected requests this event stands for (one per source and minute is recorded).
  int64_t count = 1;
  if (auto it = cmd.payload.find("count"); it != cmd.payload.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 ||
        it->get<int64_t>() > kSignatureRejectionCountMax) {
      return Error::Invalid("count", "range",
                            "count must be an integer from 1 to " +
                                std::to_string(kSignatureRejectionCountMax));
    }
    count = it->get<int64_t>();
  }
  ledger::Decision d;
  d.events.push_back(ledger::NewEvent{std::string(kChannelSignatureRejected),
                                      Json{{"channel", channel},
                                           {"reason", reason},
                                           {"remote_address", remote},
                                           {"count", count}}});
  return d;
}

}  // namespace opsbox::intake::detail
