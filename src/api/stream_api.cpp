// The live stream (issue #4, contracts §4): GET /api/v1/tenants/{tenant}/stream upgrades to a
// WebSocket whose client subscribes to topics of the live Hub:
//   client → {"subscribe": ["queue_stats", "agent_activities", "my_reservations"]}
//            {"unsubscribe": [...]}
//   server → {"type":"subscribed","topics":[...]}, then each topic's snapshot, then updates;
//            {"type":"unsubscribed","topics":[...]};
//            {"type":"error","field","rule","message"} for a request it refuses (nothing of
//            that request is applied).
// Credentials as on every route (Authorization: Bearer, the session cookie), plus
// ?access_token= because browsers cannot set headers on a WebSocket. With the session cookie
// the Origin must be this server's, since any page may open a WebSocket with the user's cookies.
// When the credential the stream was opened with is revoked (api_key_revoked, session_revoked),
// the server closes it with code 4001 (live::kCredentialRevokedCloseCode) and the reason
// "credential revoked", as soon as the revocation commits (issue #9).
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "live/hub.hpp"

namespace opsbox::api::detail {
namespace {

constexpr size_t kRequestBytesMax = 4096;        // one client message
constexpr size_t kTopicsPerRequestMax = 8;       // names in one subscribe/unsubscribe
constexpr size_t kSubscriptionsPerConnectionMax = 8;
constexpr int kRefusedRequestsMax = 20;          // then the connection is closed (1008)

struct TopicRule {
  std::string_view name;        // as the client names it
  std::string_view permission;  // needed to subscribe
};
constexpr TopicRule kTopics[] = {{"queue_stats", "routing.read"},
                                 {"agent_activities", "routing.read"},
                                 {"my_reservations", "routing.work"}};

const TopicRule* FindTopic(std::string_view name) {
  for (const auto& rule : kTopics) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

std::shared_ptr<const std::string> Text(const Json& message) {
  return std::make_shared<const std::string>(message.dump());
}

// One client's subscriptions. The server calls OnMessage and OnClose on the connection's strand,
// one at a time; the mutex keeps that assumption out of this class's correctness.
class StreamClient {
 public:
  StreamClient(live::Hub& hub, identity::Principal who,
               std::shared_ptr<WebSocketSession> session)
      : hub_(hub), who_(std::move(who)), session_(std::move(session)) {}

  // Watches the hub for the revocation of the credential the stream was opened with, then
  // authenticates `in` again, so a revocation that committed between the upgrade's
  // authentication and the watch still closes the stream. Call once, before OnMessage.
  void Start(const ApiDeps& deps, const identity::AuthInput& in);
  void OnMessage(std::string_view text);
  void OnClose();

 private:
  // The hub topic of a client topic name: my_reservations is this principal's.
  std::string HubTopic(std::string_view name) const {
    if (name == "my_reservations") return "reservations/" + who_.actor_id;
    return std::string(name);
  }
  Result<std::vector<std::string>> ParseTopics(const Json& request, std::string_view key) const;
  void Subscribe(const std::vector<std::string>& topics);
  void Unsubscribe(const std::vector<std::string>& topics);
  void Refuse(const Error& error);

  live::Hub& hub_;
  const identity::Principal who_;
  std::shared_ptr<WebSocketSession> session_;  // dropped in OnClose
  std::mutex mutex_;
  std::map<std::string, uint64_t> subscriptions_;  // client topic name -> hub id
  uint64_t revocation_watch_ = 0;                   // hub id of the credential's topic
  int refused_ = 0;
};

constexpr std::string_view kCredentialRevokedReason = "credential revoked";

void StreamClient::Start(const ApiDeps& deps, const identity::AuthInput& in) {
  std::weak_ptr<WebSocketSession> weak;
  {
    std::lock_guard lock(mutex_);
    if (!session_) return;
    weak = session_;
    revocation_watch_ = hub_.Subscribe(
        who_.tenant_id, live::RevokedCredentialTopic(identity::CredentialId(who_)),
        [weak](std::shared_ptr<const std::string>) {
          if (auto session = weak.lock()) {
            session->Close(live::kCredentialRevokedCloseCode,
                           std::string(kCredentialRevokedReason));
          }
        });
  }
  // The committed listener that publishes revocations runs after the authenticator dropped
  // its cache entry, so this sees every revocation the watch may have missed.
  auto again = deps.auth->Authenticate(in, who_.tenant_id, deps.clock->Now());
  if (!again.ok() || revocation_watch_ == 0) {
    if (auto session = weak.lock()) {
      session->Close(live::kCredentialRevokedCloseCode, std::string(kCredentialRevokedReason));
    }
  }
}

Result<std::vector<std::string>> StreamClient::ParseTopics(const Json& request,
                                                          std::string_view key) const {
  const Json& list = request[std::string(key)];
  if (!list.is_array()) {
    return Error::Invalid(std::string(key), "type", "must be an array of topic names");
  }
  if (list.size() > kTopicsPerRequestMax) {
    return Error::Invalid(std::string(key), "max_items",
                          "at most " + std::to_string(kTopicsPerRequestMax) + " topics");
  }
  std::vector<std::string> topics;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string field = std::string(key) + "[" + std::to_string(i) + "]";
    const TopicRule* rule = list[i].is_string() ? FindTopic(list[i].get<std::string>()) : nullptr;
    if (rule == nullptr) {
      return Error::Invalid(field, "topic",
                            "unknown topic; known: queue_stats, agent_activities, "
                            "my_reservations");
    }
    if (!who_.Allows(rule->permission)) {
      return Error{ErrorCode::kPermissionDenied, field, "permission",
                   "the topic " + std::string(rule->name) + " needs the permission " +
                       std::string(rule->permission)};
    }
    if (std::find(topics.begin(), topics.end(), rule->name) == topics.end()) {
      topics.emplace_back(rule->name);
    }
  }
  return topics;
}

void StreamClient::OnMessage(std::string_view text) {
  if (text.size() > kRequestBytesMax) {
    return Refuse(Error::Invalid("message", "max_bytes",
                                 "a message is at most " + std::to_string(kRequestBytesMax) +
                                     " bytes"));
  }
  auto request = ParseJson(text, "message");
  if (!request.ok()) return Refuse(request.error());
  if (!request->is_object()) {
    return Refuse(Error::Invalid("message", "type", "a message is a JSON object"));
  }
  if (auto keys = CheckObjectKeys(*request, {"subscribe", "unsubscribe"}); !keys.ok()) {
    return Refuse(keys.error());
  }
  if (request->contains("subscribe")) {
    auto topics = ParseTopics(*request, "subscribe");
    if (!topics.ok()) return Refuse(topics.error());
    Subscribe(*topics);
  }
  if (request->contains("unsubscribe")) {
    auto topics = ParseTopics(*request, "unsubscribe");
    if (!topics.ok()) return Refuse(topics.error());
    Unsubscribe(*topics);
  }
}

void StreamClient::Subscribe(const std::vector<std::string>& topics) {
  std::lock_guard lock(mutex_);
  if (!session_) return;
  size_t fresh = 0;
  for (const auto& topic : topics) fresh += subscriptions_.contains(topic) ? 0 : 1;
  if (subscriptions_.size() + fresh > kSubscriptionsPerConnectionMax) {
    return Refuse(Error::Invalid("subscribe", "max_items",
                                 "at most " + std::to_string(kSubscriptionsPerConnectionMax) +
                                     " subscriptions per connection"));
  }
  // The acknowledgement goes first; each snapshot follows from Hub::Subscribe.
  session_->Send(Text(Json{{"type", "subscribed"}, {"topics", topics}}));
  std::weak_ptr<WebSocketSession> weak = session_;
  for (const auto& topic : topics) {
    if (subscriptions_.contains(topic)) continue;
    uint64_t id = hub_.Subscribe(who_.tenant_id, HubTopic(topic),
                                 [weak](std::shared_ptr<const std::string> text) {
                                   if (auto session = weak.lock()) session->Send(std::move(text));
                                 });
    if (id == 0) {
      session_->Send(Text(Json{{"type", "error"}, {"field", "subscribe"}, {"rule", "capacity"},
                               {"message", "the server has no room for more subscriptions"}}));
      continue;
    }
    subscriptions_.emplace(topic, id);
  }
}

void StreamClient::Unsubscribe(const std::vector<std::string>& topics) {
  std::lock_guard lock(mutex_);
  if (!session_) return;
  for (const auto& topic : topics) {
    auto it = subscriptions_.find(topic);
    if (it == subscriptions_.end()) continue;
    hub_.Unsubscribe(it->second);
    subscriptions_.erase(it);
  }
  session_->Send(Text(Json{{"type", "unsubscribed"}, {"topics", topics}}));
}

void StreamClient::Refuse(const Error& error) {
  if (!session_) return;
  session_->Send(Text(Json{{"type", "error"}, {"field", error.field}, {"rule", error.rule},
                           {"message", error.message}}));
  if (++refused_ >= kRefusedRequestsMax) session_->Close(1008, "too many refused requests");
}

void StreamClient::OnClose() {
  std::lock_guard lock(mutex_);
  for (const auto& [topic, id] : subscriptions_) hub_.Unsubscribe(id);
  subscriptions_.clear();
  hub_.Unsubscribe(revocation_watch_);
  revocation_watch_ = 0;
  session_.reset();
}

// "https://host:port" names the same server as the Host header "host:port".
bool SameOrigin(std::string_view origin, std::string_view host) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (origin.starts_with(scheme)) return !host.empty() && origin.substr(scheme.size()) == host;
  }
  return false;
}

Result<identity::Principal> AuthenticateUpgrade(const ApiDeps& deps, HttpRequest& req) {
  std::string authorization(req.Header("authorization"));
  if (auto token = req.QueryParam("access_token"); token && authorization.empty()) {
    authorization = "Bearer " + *token;
  }
  const std::string cookie = authorization.empty() ? req.Cookie("opsbox_session") : "";
  if (!cookie.empty() && !SameOrigin(req.Header("origin"), req.Header("host"))) {
    return Error{ErrorCode::kPermissionDenied, "Origin", "same_origin",
                 "with the session cookie, a WebSocket must be opened from this server's pages"};
  }
  identity::AuthInput in{authorization, cookie, req.Header("x-csrf-token"), req.method};
  OPSBOX_ASSIGN_OR_RETURN(identity::Principal who,
                          deps.auth->Authenticate(in, req.path_params["tenant"], deps.clock->Now()));
  if (!who.Allows("routing.read") && !who.Allows("routing.work")) {
    return Error{ErrorCode::kPermissionDenied, "", "permission",
                 "the stream needs the permission routing.read or routing.work"};
  }
  return who;
}

}  // namespace

void AddStreamRoutes(Router& router, const ApiDeps& deps) {
  router.AddWebSocket(
      "/api/v1/tenants/{tenant}/stream", "routing.read|routing.work",
      "Live updates over a WebSocket: queue statistics, agent activities, my reservations",
      [&deps](HttpRequest& req, WebSocketRespond respond) {
        if (deps.hub == nullptr) {
          return respond({nullptr, Problem(Error::Unavailable("the live stream is not running"),
                                           req.path)});
        }
        auto who = AuthenticateUpgrade(deps, req);
        if (!who.ok()) {
          HttpResponse refusal = Problem(who.error(), req.path);
          if (who.error().code == ErrorCode::kUnauthenticated) {
            refusal.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"opsbox\"");
          }
          return respond({nullptr, std::move(refusal)});
        }
        live::Hub& hub = *deps.hub;
        // The credentials again, for StreamClient::Start (the request is gone by then).
        struct Credentials {
          std::string authorization, cookie, method;
        };
        Credentials creds{std::string(req.Header("authorization")), "", req.method};
        if (auto token = req.QueryParam("access_token"); token && creds.authorization.empty()) {
          creds.authorization = "Bearer " + *token;
        }
        if (creds.authorization.empty()) creds.cookie = req.Cookie("opsbox_session");
        WebSocketOpen open = [&hub, &deps, who = std::move(*who), creds = std::move(creds)](
                                 std::shared_ptr<WebSocketSession> session) {
          auto client = std::make_shared<StreamClient>(hub, who, std::move(session));
          client->Start(deps, identity::AuthInput{creds.authorization, creds.cookie, "",
                                                  creds.method});
          return WebSocketCallbacks{
              [client](std::string_view text) { client->OnMessage(text); },
              [client] { client->OnClose(); }};
        };
        respond({std::move(open), HttpResponse{}});
      });
}

}  // namespace opsbox::api::detail
