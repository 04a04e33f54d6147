// Routes of intake (contracts §6): channel configuration, the provider webhooks (public,
// verified by signature; a forgery answers 401 and is recorded as channel_signature_rejected),
// the chat API, and customer/conversation reads with personal fields opened and presented
// through Governance::Present.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "core/crypto.hpp"
#include "intake/adapters.hpp"
#include "intake/bridge.hpp"
#include "intake/intake.hpp"
#include "integrations/webhook_signature.hpp"
#include "privacy/governance.hpp"
#include "routing/service.hpp"

namespace opsbox::api::detail {
namespace {

using privacy::FieldClass;

const std::string kBase = "/api/v1/tenants/{tenant}";

// The principal public webhooks submit as: the channel adapter of the path's tenant.
identity::Principal Adapter(const HttpRequest& req, std::string_view channel) {
  identity::Principal p;
  p.tenant_id = req.path_params.at("tenant");
  p.actor_id = "system:channel:" + std::string(channel);
  p.kind = identity::Principal::kApiKey;
  p.name = p.actor_id;
  return p;
}

std::string RejectionKey(std::string_view tenant, std::string_view channel,
                         std::string_view address) {
  return std::string(tenant) + '\n' + std::string(channel) + '\n' + std::string(address);
}

std::string BodyCommandId(std::string_view channel, std::string_view body) {
  return "intake:" + std::string(channel) + ":" + HexEncode(Sha256(body));
}

// A forged or unsigned provider request: 401, counted, and recorded on the ledger at most once
// per tenant, channel and address and minute with the count (RateLimits::rejected_signatures);
// the counts of quieter minutes are recorded by SubmitRejectionCounts from a timer.
void Reject(const ApiDeps& deps, HttpRequest& req, std::string_view channel, std::string reason,
            Respond respond) {
  auto problem = Problem(Error{ErrorCode::kUnauthenticated, "signature", "signature", reason},
                         req.path);
  int64_t count = 1;
  if (deps.rate_limits != nullptr) {
    deps.rate_limits->signatures_rejected.fetch_add(1);
    count = deps.rate_limits->rejected_signatures.Record(
        RejectionKey(req.path_params.at("tenant"), channel, req.remote_address),
        deps.clock->Now());
  }
  if (count == 0) return respond(std::move(problem));
  auto who = Adapter(req, channel);
  ledger::Command cmd{who.tenant_id, "", std::string(intake::kRecordSignatureRejected),
                      who.actor_id,
                      Json{{"channel", std::string(channel)},
                           {"reason", reason},
                           {"remote_address", req.remote_address.substr(0, 64)},
                           {"count", count}}};
  deps.writer->Submit(std::move(cmd),
                      [respond = std::move(respond), problem = std::move(problem)](
                          Result<ledger::CommandOutcome>) mutable { respond(std::move(problem)); });
}

// The channel's configuration with opened secrets, or a problem (404 when not configured).
Result<Json> Config(const ApiDeps& deps, const HttpRequest& req, std::string_view channel) {
  auto lease = deps.pool->Acquire();
  if (!lease.ok()) return lease.error();
  OPSBOX_ASSIGN_OR_RETURN(
      auto config, deps.intake->ChannelConfig(**lease, req.path_params.at("tenant"), channel));
  if (!config) return Error::NotFound("the " + std::string(channel) + " channel is not configured");
  return *config;
}

// The adapters refuse provider bytes that are not UTF-8 naming the provider's field; this is
// the last guard before the command (an event that cannot be encoded would fail the batch).
void SubmitItems(const ApiDeps& deps, HttpRequest& req, std::string_view channel, Json items,
                 Respond respond) {
  if (auto st = intake::CheckUtf8(items, "items"); !st.ok()) {
    return respond(Problem(st.error(), req.path));
  }
  SubmitCommand(deps, req, Adapter(req, channel), std::string(intake::kReceiveInbound),
                Json{{"channel", std::string(channel)}, {"items", std::move(items)}},
                std::move(respond), 200, BodyCommandId(channel, req.body));
}

void WhatsAppVerify(const ApiDeps& deps, HttpRequest& req, Respond respond) {
  auto config = Config(deps, req, intake::kWhatsApp);
  if (!config.ok()) return respond(Problem(config.error(), req.path));
  const std::string token = (*config)["secrets"].value("verify_token", "");
  const auto mode = req.QueryParam("hub.mode"), given = req.QueryParam("hub.verify_token");
  const auto challenge = req.QueryParam("hub.challenge");
  if (!mode || *mode != "subscribe" || !challenge || challenge->size() > 256) {
    return respond(
        Problem(Error::Invalid(!mode || *mode != "subscribe" ? "hub.mode" : "hub.challenge",
                               "required", "hub.mode=subscribe and hub.challenge are required"),
                req.path));
  }
  if (token.empty() || !given || !ConstantTimeEqual(*given, token)) {
    return Reject(deps, req, intake::kWhatsApp, "hub.verify_token does not match",
                  std::move(respond));
  }
  HttpResponse r;
  r.content_type = "text/plain";
  r.body = *challenge;
  respond(std::move(r));
}

void WhatsAppWebhook(const ApiDeps& deps, HttpRequest& req, Respond respond) {
  auto config = Config(deps, req, intake::kWhatsApp);
  if (!config.ok()) return respond(Problem(config.error(), req.path));
  if (!intake::VerifyWhatsAppSignature((*config)["secrets"].value("app_secret", ""),
                                       req.Header("x-hub-signature-256"), req.body)) {
    return Reject(deps, req, intake::kWhatsApp, "X-Hub-Signature-256 does not verify",
                  std::move(respond));
  }
  auto parsed = intake::ParseWhatsAppWebhook(req.body);
  if (!parsed.ok()) return respond(Problem(parsed.error(), req.path));
  SubmitItems(deps, req, intake::kWhatsApp, std::move((*parsed)["items"]), std::move(respond));
}

// Twilio signs the URL it called: the configured public base URL + path + query.
void Voice(const ApiDeps& deps, HttpRequest& req, Respond respond, bool incoming) {
  auto config = Config(deps, req, intake::kVoice);
  if (!config.ok()) return respond(Problem(config.error(), req.path));
  auto form = intake::ParseForm(req.body);
  if (!form.ok()) return respond(Problem(form.error(), req.path));
  std::string base = (*config)["settings"].value("public_base_url", "");
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string url = base + req.path + (req.query.empty() ? "" : "?" + req.query);
  if (!intake::VerifyTwilioSignature((*config)["secrets"].value("auth_token", ""),
                                     req.Header("x-twilio-signature"), url, *form)) {
    return Reject(deps, req, intake::kVoice, "X-Twilio-Signature does not verify",
                  std::move(respond));
  }
  auto item =
      incoming ? intake::ParseTwilioIncomingCall(*form) : intake::ParseTwilioStatusCallback(*form);
  if (!item.ok()) return respond(Problem(item.error(), req.path));
  if (!incoming) {
    return SubmitItems(deps, req, intake::kVoice, Json::array({std::move(*item)}),
                       std::move(respond));
  }
  const std::string greeting = (*config)["settings"].value(
      "greeting", "Thank you for calling. Please hold while we connect you.");
  SubmitItems(deps, req, intake::kVoice, Json::array({std::move(*item)}),
              [respond = std::move(respond), greeting](HttpResponse r) {
                if (r.status != 200) return respond(std::move(r));
                HttpResponse twiml;
                twiml.content_type = "text/xml";
                twiml.body = intake::IncomingCallTwiml(greeting);
                respond(std::move(twiml));
              });
}

// Twilio Messaging webhooks (issue #14), signed like voice over the configured public base URL.
// A replay (the same signed body again, or a message or status already recorded) is refused
// with 409 rule "replayed": nothing is recorded twice, and the provider learns it was a replay.
void Sms(const ApiDeps& deps, HttpRequest& req, Respond respond, bool inbound) {
  auto config = Config(deps, req, intake::kSms);
  if (!config.ok()) return respond(Problem(config.error(), req.path));
  auto form = intake::ParseForm(req.body);
  if (!form.ok()) return respond(Problem(form.error(), req.path));
  std::string base = (*config)["settings"].value("public_base_url", "");
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string url = base + req.path + (req.query.empty() ? "" : "?" + req.query);
  if (!intake::VerifyTwilioSignature((*config)["secrets"].value("auth_token", ""),
                                     req.Header("x-twilio-signature"), url, *form)) {
    return Reject(deps, req, intake::kSms, "X-Twilio-Signature does not verify",
                  std::move(respond));
  }
  const std::string account = (*config)["settings"].value("account_sid", "");
  for (const auto& [k, v] : *form) {
    if (k == "AccountSid" && !account.empty() && !ConstantTimeEqual(v, account)) {
      return respond(Problem(Error::Invalid("AccountSid", "mismatch",
                                            "AccountSid is not the configured account"),
                             req.path));
    }
  }
  auto item = inbound ? intake::ParseTwilioSms(*form) : intake::ParseTwilioSmsStatus(*form);
  if (!item.ok()) return respond(Problem(item.error(), req.path));
  SubmitItems(deps, req, intake::kSms, Json::array({std::move(*item)}),
              [respond = std::move(respond), path = req.path](HttpResponse r) {
                bool replayed = false;
                for (const auto& [name, value] : r.headers) {
                  if (name == "Idempotent-Replayed") replayed = true;
                }
                if (r.status == 200) {
                  Json body = Json::parse(r.body, nullptr, false);
                  if (body.is_object() && body.contains("items") && body["items"].is_array() &&
                      !body["items"].empty() && body["items"][0].value("duplicate", false)) {
                    replayed = true;
                  }
                }
                if (!replayed) return respond(std::move(r));
                respond(Problem(Error::Conflict("replayed",
                                                "this request was already received and recorded"),
                                path));
              });
}

void EmailInbound(const ApiDeps& deps, HttpRequest& req, Respond respond) {
  auto config = Config(deps, req, intake::kEmail);
  if (!config.ok()) return respond(Problem(config.error(), req.path));
  if (!integrations::VerifyWebhookSignature((*config)["secrets"].value("signing_secret", ""),
                                            req.Header("x-opsbox-signature"), req.body,
                                            deps.clock->Now())) {
    return Reject(deps, req, intake::kEmail, "X-Opsbox-Signature does not verify",
                  std::move(respond));
  }
  auto item = intake::ParseEmail(req.body);
  if (!item.ok()) return respond(Problem(item.error(), req.path));
  SubmitItems(deps, req, intake::kEmail, Json::array({std::move(*item)}), std::move(respond));
}

// --- reads ---

Result<Json> Show(const ApiDeps& deps, store::Connection& c, const identity::Principal& who,
                  FieldClass cls, const Json& stored) {
  OPSBOX_ASSIGN_OR_RETURN(auto opened, intake::OpenStored(*deps.keyring, c, who.tenant_id, stored));
  if (stored.is_null() && !opened.erased) return Json();
  return deps.privacy->Present(who, cls, opened, deps.clock->Now());
}

Result<Json> CustomerJson(const ApiDeps& deps, store::Connection& c, const identity::Principal& who,
                          const intake::CustomerRecord& r) {
  Json j{{"customer_id", r.customer_id},
         {"erased", r.erased},
         {"created_at", FormatRfc3339(r.created_at)},
         {"updated_at", FormatRfc3339(r.updated_at)}};
  OPSBOX_ASSIGN_OR_RETURN(j["name"], Show(deps, c, who, FieldClass::kName, r.name));
  OPSBOX_ASSIGN_OR_RETURN(j["phone"], Show(deps, c, who, FieldClass::kPhone, r.phone));
  OPSBOX_ASSIGN_OR_RETURN(j["email"], Show(deps, c, who, FieldClass::kEmail, r.email));
  OPSBOX_ASSIGN_OR_RETURN(j["wa_id"], Show(deps, c, who, FieldClass::kPhone, r.wa_id));
  OPSBOX_ASSIGN_OR_RETURN(j["external_id"],
                          Show(deps, c, who, FieldClass::kIdentifier, r.external_id));
  return j;
}

Json ConversationJson(const intake::ConversationRecord& r) {
  return Json{{"conversation_id", r.conversation_id},
              {"customer_id", r.customer_id},
              {"channel", r.channel},
              {"status", r.status},
              {"language", r.language.empty() ? Json() : Json(r.language)},
              {"opened_at", FormatRfc3339(r.opened_at)},
              {"last_activity_at", FormatRfc3339(r.last_activity_at)},
              {"closed_at", r.closed_at.us == 0 ? Json() : Json(FormatRfc3339(r.closed_at))},
              {"messages", r.messages},
              {"scrubbed", r.scrubbed}};
}

Result<Json> MessagesJson(const ApiDeps& deps, store::Connection& c, const identity::Principal& who,
                          const std::vector<intake::MessageRecord>& rows) {
  Json items = Json::array();
  for (const auto& m : rows) {
    Json j{{"message_id", m.message_id},
           {"conversation_id", m.conversation_id},
           {"customer_id", m.customer_id},
           {"channel", m.channel},
           {"direction", m.direction},
           {"sender_id", m.sender_id},
           {"status", m.status},
           {"sent_at", FormatRfc3339(m.sent_at)},
           {"seq", m.seq}};
    OPSBOX_ASSIGN_OR_RETURN(j["text"], Show(deps, c, who, FieldClass::kFreeText, m.text));
    OPSBOX_ASSIGN_OR_RETURN(auto content,
                            intake::OpenStored(*deps.keyring, c, who.tenant_id, m.content));
    Json meta{{"type", content.value.is_object() ? content.value.value("type", Json()) : Json()}};
    if (content.value.is_object() && content.value.contains("attachments")) {
      meta["attachments"] = content.value["attachments"].size();
    }
    j["content"] = std::move(meta);
    OPSBOX_ASSIGN_OR_RETURN(auto findings,
                            intake::OpenStored(*deps.keyring, c, who.tenant_id, m.findings));
    j["findings"] = findings.value.is_array() ? findings.value : Json::array();
    OPSBOX_ASSIGN_OR_RETURN(j["status_reason"],
                            Show(deps, c, who, FieldClass::kFreeText, m.status_reason));
    j["status_at"] = m.status_at.us == 0 ? Json() : Json(FormatRfc3339(m.status_at));
    j["dead_letter"] = m.dead_letter;
    j["retryable"] = m.retryable();
    j["segments"] = m.segments == 0 ? Json() : Json(m.segments);
    j["encoding"] = m.encoding.empty() ? Json() : Json(m.encoding);
    items.push_back(std::move(j));
  }
  return Json{{"items", std::move(items)},
              {"next_cursor", rows.empty() ? Json() : Json(std::to_string(rows.back().seq))}};
}

Result<int64_t> After(const HttpRequest& req) {
  auto a = req.QueryParam("after");
  if (!a || a->empty()) return int64_t{0};
  if (a->size() > 18 || a->find_first_not_of("0123456789") != std::string::npos) {
    return Error::Invalid("after", "format", "after must be a cursor from a previous page");
  }
  return std::stoll(*a);
}

void AddReadRoutes(Router& router, const ApiDeps& deps) {
  AddAuthed(router, deps, "GET", kBase + "/customers", "customers.read",
            "Find a customer by phone, email or whatsapp id (?phone=|email=|whatsapp=)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              std::string kind, value;
              for (const char* k : {"phone", "email", "whatsapp", "external_id"}) {
                if (auto v = req.QueryParam(k)) {
                  kind = k == std::string("external_id") ? "external" : k;
                  value = *v;
                }
              }
              if (kind.empty()) {
                return respond(Problem(Error::Invalid("phone", "required",
                                                      "give phone, email, whatsapp or external_id"),
                                       req.path));
              }
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(auto id,
                                        deps.intake->FindCustomer(c, who.tenant_id, kind, value));
                Json items = Json::array();
                if (id) {
                  OPSBOX_ASSIGN_OR_RETURN(auto rec, intake::GetCustomer(c, who.tenant_id, *id));
                  if (rec) {
                    OPSBOX_ASSIGN_OR_RETURN(auto j, CustomerJson(deps, c, who, *rec));
                    items.push_back(std::move(j));
                  }
                }
                return Json{{"items", std::move(items)}};
              });
            });
  AddAuthed(router, deps, "GET", kBase + "/customers/{customer_id}", "customers.read",
            "One customer with personal fields masked by role, and their conversations",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                const std::string& id = req.path_params["customer_id"];
                OPSBOX_ASSIGN_OR_RETURN(auto rec, intake::GetCustomer(c, who.tenant_id, id));
                if (!rec) return Error::NotFound("no customer " + id);
                OPSBOX_ASSIGN_OR_RETURN(Json j, CustomerJson(deps, c, who, *rec));
                OPSBOX_ASSIGN_OR_RETURN(auto convs,
                                        intake::ListConversations(c, who.tenant_id, id, 0));
                j["conversations"] = Json::array();
                for (const auto& cv : convs) j["conversations"].push_back(ConversationJson(cv));
                return j;
              });
            });
  AddAuthed(router, deps, "GET", kBase + "/customers/{customer_id}/timeline", "customers.read",
            "The customer's messages across every channel, in order (?after=CURSOR&limit=N)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto after = After(req);
              auto limit = PageLimit(req);
              if (!after.ok()) return respond(Problem(after.error(), req.path));
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(
                    auto rows,
                    intake::CustomerTimeline(c, who.tenant_id, req.path_params["customer_id"],
                                             *after, *limit));
                return MessagesJson(deps, c, who, rows);
              });
            });
}

// Whether one of the principal's open routing tasks (GET /routing/me) is on the conversation.
Result<bool> HoldsConversation(const ApiDeps& deps, const identity::Principal& who,
                               std::string_view conversation_id) {
  if (deps.routing == nullptr) return false;
  auto lease = deps.pool->Acquire();
  if (!lease.ok()) return lease.error();
  auto me = deps.routing->Me(**lease, who.tenant_id, who.actor_id);
  if (!me.ok()) return me.error().code == ErrorCode::kNotFound ? Result<bool>(false) : me.error();
  for (const auto& task : me->value("tasks", Json::array())) {
    if (task.is_object() && task.value("conversation_id", "") == conversation_id) return true;
  }
  return false;
}

void AddConversationRoutes(Router& router, const ApiDeps& deps) {
  const std::string t = kBase + "/conversations/{conversation_id}";
  AddAuthed(router, deps, "GET", kBase + "/conversations/failed-messages", "conversations.read",
            "Outbound messages whose delivery failed, newest first (?limit=N)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(auto rows,
                                        intake::ListFailedMessages(c, who.tenant_id, *limit));
                OPSBOX_ASSIGN_OR_RETURN(Json page, MessagesJson(deps, c, who, rows));
                page["next_cursor"] = Json();
                return page;
              });
            });
  AddAuthed(router, deps, "GET", t, "conversations.read", "One conversation",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                const std::string& id = req.path_params["conversation_id"];
                OPSBOX_ASSIGN_OR_RETURN(auto rec, intake::GetConversation(c, who.tenant_id, id));
                if (!rec) return Error::NotFound("no conversation " + id);
                return ConversationJson(*rec);
              });
            });
  AddAuthed(router, deps, "GET", t + "/messages", "conversations.read",
            "The conversation's messages, texts masked by role (?after=CURSOR&limit=N)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto after = After(req);
              auto limit = PageLimit(req);
              if (!after.ok()) return respond(Problem(after.error(), req.path));
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(
                    auto rows,
                    intake::ListMessages(c, who.tenant_id, req.path_params["conversation_id"],
                                         *after, *limit));
                return MessagesJson(deps, c, who, rows);
              });
            });
  AddAuthed(router, deps, "POST", t + "/messages", "conversations.reply",
            "Reply to the customer (WhatsApp replies are delivered through the reply outbox)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto body = ParseBody(req);
              if (!body.ok()) return respond(Problem(body.error(), req.path));
              (*body)["conversation_id"] = req.path_params["conversation_id"];
              SubmitCommand(deps, req, who, std::string(intake::kSendMessage), std::move(*body),
                            std::move(respond));
            });
  AddAuthed(router, deps, "POST", t + "/messages/{message_id}/retry", "conversations.retry",
            "Send a failed reply again (agents: on the conversation of a task they hold)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              const std::string conversation = req.path_params["conversation_id"];
              if (!who.Allows("conversations.retry_any")) {
                auto own = HoldsConversation(deps, who, conversation);
                if (!own.ok()) return respond(Problem(own.error(), req.path));
                if (!*own) {
                  return respond(Problem(
                      Error{ErrorCode::kPermissionDenied, "conversation_id", "own_task",
                            "an agent retries messages of the conversations of their own tasks"},
                      req.path));
                }
              }
              SubmitCommand(deps, req, who, std::string(intake::kRetryMessage),
                            Json{{"conversation_id", conversation},
                                 {"message_id", req.path_params["message_id"]}},
                            std::move(respond), 200);
            });
  AddAuthed(router, deps, "POST", t + "/close", "conversations.reply", "Close the conversation",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              Json body = Json::object();
              if (!req.body.empty()) {
                auto parsed = ParseBody(req);
                if (!parsed.ok()) return respond(Problem(parsed.error(), req.path));
                body = std::move(*parsed);
              }
              body["conversation_id"] = req.path_params["conversation_id"];
              SubmitCommand(deps, req, who, std::string(intake::kCloseConversation),
                            std::move(body), std::move(respond), 200);
            });
}

}  // namespace

void SubmitRejectionCounts(const ApiDeps& deps, bool all) {
  if (deps.rate_limits == nullptr) return;
  Instant until = deps.clock->Now();
  if (all) until.us += RateLimits::kSignatureRejectionWindow.us;
  for (auto& [key, count] : deps.rate_limits->rejected_signatures.Drain(until)) {
    const size_t a = key.find('\n'), b = key.find('\n', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;  // the overflow key
    const std::string tenant = key.substr(0, a), channel = key.substr(a + 1, b - a - 1);
    ledger::Command cmd{tenant, "", std::string(intake::kRecordSignatureRejected),
                        "system:channel:" + channel,
                        Json{{"channel", channel},
                             {"reason", "further requests with a missing or wrong signature"},
                             {"remote_address", key.substr(b + 1, 64)},
                             {"count", count}}};
    deps.writer->Submit(std::move(cmd), [](Result<ledger::CommandOutcome>) {});
  }
}

void AddIntakeRoutes(Router& router, const ApiDeps& deps) {
  const std::string ch = kBase + "/channels";
  AddAuthed(router, deps, "PUT", ch + "/{channel}/config", "channels.manage",
            "Configure a channel: settings and secrets (secrets are stored sealed, never shown)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto body = ParseBody(req);
              if (!body.ok()) return respond(Problem(body.error(), req.path));
              (*body)["channel"] = req.path_params["channel"];
              SubmitCommand(deps, req, who, std::string(intake::kConfigureChannel),
                            std::move(*body), std::move(respond), 200);
            });
  AddPublic(router, deps, Budget::kProvider, "GET", ch + "/whatsapp/webhook", "WhatsApp webhook verification handshake",
            [&deps](HttpRequest& req, Respond respond) {
              WhatsAppVerify(deps, req, std::move(respond));
            });
  AddPublic(router, deps, Budget::kProvider, "POST", ch + "/whatsapp/webhook",
            "WhatsApp Cloud API webhook (X-Hub-Signature-256)",
            [&deps](HttpRequest& req, Respond respond) {
              WhatsAppWebhook(deps, req, std::move(respond));
            });
  AddPublic(
      router, deps, Budget::kProvider, "POST", ch + "/voice/incoming",
      "Twilio incoming call (X-Twilio-Signature); answers TwiML",
      [&deps](HttpRequest& req, Respond respond) { Voice(deps, req, std::move(respond), true); });
  AddPublic(
      router, deps, Budget::kProvider, "POST", ch + "/voice/status", "Twilio call status callback (X-Twilio-Signature)",
      [&deps](HttpRequest& req, Respond respond) { Voice(deps, req, std::move(respond), false); });
  AddPublic(router, deps, Budget::kProvider, "POST", ch + "/sms/inbound",
            "Twilio inbound SMS (X-Twilio-Signature); replays answer 409",
            [&deps](HttpRequest& req, Respond respond) { Sms(deps, req, std::move(respond), true); });
  AddPublic(router, deps, Budget::kProvider, "POST", ch + "/sms/status",
            "Twilio SMS status callback (X-Twilio-Signature); replays answer 409",
            [&deps](HttpRequest& req, Respond respond) { Sms(deps, req, std::move(respond), false); });
  AddPublic(
      router, deps, Budget::kProvider, "POST", ch + "/email/inbound", "Inbound raw RFC 5322 e-mail (X-Opsbox-Signature)",
      [&deps](HttpRequest& req, Respond respond) { EmailInbound(deps, req, std::move(respond)); });
  AddAuthed(router, deps, "POST", ch + "/chat/messages", "intake.write",
            "A chat message from the generic JSON API (idempotent by provider_message_id)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto body = ParseBody(req);
              if (!body.ok()) return respond(Problem(body.error(), req.path));
              auto item = intake::ParseChatMessage(*body, deps.clock->Now());
              if (!item.ok()) return respond(Problem(item.error(), req.path));
              SubmitCommand(deps, req, who, std::string(intake::kReceiveInbound),
                            Json{{"channel", "chat"}, {"items", Json::array({std::move(*item)})}},
                            std::move(respond), 200, BodyCommandId("chat", req.body));
            });
  AddReadRoutes(router, deps);
  AddConversationRoutes(router, deps);
}

}  // namespace opsbox::api::detail
