#include "api/common.hpp"

#include <nlohmann/json.hpp>

#include "core/limits.hpp"
#include "core/time.hpp"
#include "store/store.hpp"

namespace opsbox::api::detail {

namespace {

// Spends one token of `limiter` for `key`. When the budget is spent, answers 429 with
// Retry-After and a problem naming it, and returns false.
bool WithinBudget(const ApiDeps& deps, RateLimiter RateLimits::*limiter, std::string_view key,
                  std::string_view what, const HttpRequest& req, Respond& respond) {
  if (deps.rate_limits == nullptr) return true;
  RateLimiter& bucket = deps.rate_limits->*limiter;
  const auto d = bucket.Take(key, deps.clock->Now());
  if (d.allowed) return true;
  deps.rate_limits->requests_limited.fetch_add(1);
  auto resp = Problem(Error{ErrorCode::kRateLimited, "", "rate_limit",
                           "too many requests for this " + std::string(what) + " (at most " +
                               std::to_string(bucket.limit().per_s) + " a second, bursts of " +
                               std::to_string(bucket.limit().burst) + "); retry after " +
                               std::to_string(d.retry_after_s) + " s"},
                      req.path);
  resp.headers.emplace_back("Retry-After", std::to_string(d.retry_after_s));
  respond(std::move(resp));
  return false;
}

}  // namespace

void AddPublic(Router& router, const ApiDeps& deps, Budget budget, std::string method,
               std::string pattern, std::string summary, Handler handler) {
  Handler wrapped = [&deps, budget, handler = std::move(handler)](HttpRequest& req,
                                                                   Respond respond) {
    if (budget == Budget::kAddress &&
        !WithinBudget(deps, &RateLimits::address, req.remote_address, "client address", req,
                      respond)) {
      return;
    }
    if (budget == Budget::kProvider &&
        !WithinBudget(deps, &RateLimits::provider, req.remote_address,
                      "provider webhook address", req, respond)) {
      return;
    }
    handler(req, std::move(respond));
  };
  router.Add(Route{std::move(method), std::move(pattern), "", Access::kPublic, std::move(summary),
                   std::move(wrapped)});
}

void AddAuthed(Router& router, const ApiDeps& deps, std::string method, std::string pattern,
               std::string permission, std::string summary, AuthedHandler handler) {
  Handler wrapped = [&deps, permission, handler = std::move(handler)](HttpRequest& req,
                                                                        Respond respond) {
    const std::string cookie = req.Cookie("opsbox_session");
    identity::AuthInput in{req.Header("authorization"), cookie, req.Header("x-csrf-token"),
                           req.method};
    auto who = deps.auth->Authenticate(in, req.path_params["tenant"], deps.clock->Now());
    if (!who.ok() && !WithinBudget(deps, &RateLimits::address, req.remote_address,
                                   "client address", req, respond)) {
      return;  // guessing credentials spends the address's budget
    }
    if (who.ok() && !(who->kind == identity::Principal::kApiKey
                          ? WithinBudget(deps, &RateLimits::api_key, who->actor_id, "API key",
                                         req, respond)
                          : WithinBudget(deps, &RateLimits::session, who->session_id,
                                         "session", req, respond))) {
      return;
    }
    if (!who.ok()) {
      auto resp = Problem(who.error(), req.path);
      if (who.error().code == ErrorCode::kUnauthenticated) {
        resp.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"opsbox\"");
      }
      respond(std::move(resp));
      return;
    }
    if (!who->Allows(permission)) {
      respond(Problem(Error{ErrorCode::kPermissionDenied, "", "permission",
                            "this route needs the permission " + permission +
                                ", which none of your roles in this tenant grants"},
                      req.path));
      return;
    }
    handler(req, *who, std::move(respond));
  };
  router.Add(Route{std::move(method), std::move(pattern), permission, Access::kAuthenticated,
                   std::move(summary), std::move(wrapped)});
}

Result<Json> ParseBody(const HttpRequest& req) {
  auto ct = req.Header("content-type");
  if (ct.substr(0, ct.find(';')) != "application/json") {
    return Error{ErrorCode::kUnsupportedMediaType, "Content-Type", "media_type",
                 "the body must be JSON with Content-Type: application/json"};
  }
  OPSBOX_ASSIGN_OR_RETURN(Json body, ParseJson(req.body, "body"));
  if (!body.is_object()) return Error::Invalid("body", "type", "the body must be a JSON object");
  return body;
}

Result<std::string> IdempotencyKey(const HttpRequest& req) {
  auto key = req.Header("idempotency-key");
  if (key.empty()) return std::string();
  if (key.size() > limits::kIdempotencyKeyBytesMax) {
    return Error::Invalid("Idempotency-Key", "max_bytes",
                          "Idempotency-Key is longer than " +
                              std::to_string(limits::kIdempotencyKeyBytesMax) + " bytes");
  }
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) {
      return Error::Invalid("Idempotency-Key", "format",
                            "Idempotency-Key must be printable ASCII without spaces");
    }
  }
  return "idem_" + std::string(key);
}

void SubmitCommand(const ApiDeps& deps, const HttpRequest& req, const identity::Principal& who,
                   std::string type, Json payload, Respond respond, int created_status,
                   std::string command_id) {
  if (command_id.empty()) {
    auto key = IdempotencyKey(req);
    if (!key.ok()) return respond(Problem(key.error(), req.path));
    command_id = std::move(*key);
  }
  ledger::Command cmd{who.tenant_id, std::move(command_id), std::move(type), who.actor_id,
                      std::move(payload)};
  deps.writer->Submit(std::move(cmd), [respond = std::move(respond), created_status,
                                       path = req.path](Result<ledger::CommandOutcome> r) {
    if (!r.ok()) return respond(Problem(r.error(), path));
    Json body = r->result;
    if (body.is_object() && r->once.is_object()) {
      for (auto& [k, v] : r->once.items()) body[k] = v;
    }
    const bool appended = r->first_seq > 0 && !r->replayed;
    auto resp = Ok(body, appended ? created_status : 200);
    resp.headers.emplace_back("Opsbox-Command-Id", r->command_id);
    if (r->last_seq > 0) resp.headers.emplace_back("Opsbox-Ledger-Seq", std::to_string(r->last_seq));
    if (r->replayed) resp.headers.emplace_back("Idempotent-Replayed", "true");
    respond(std::move(resp));
  });
}

Result<size_t> PageLimit(const HttpRequest& req) {
  auto v = req.QueryParam("limit");
  if (!v) return limits::kPageSizeDefault;
  size_t n = 0;
  if (v->empty() || v->size() > 6 || v->find_first_not_of("0123456789") != std::string::npos ||
      (n = std::stoul(*v)) < 1 || n > limits::kPageSizeMax) {
    return Error::Invalid("limit", "range",
                          "limit must be an integer from 1 to " +
                              std::to_string(limits::kPageSizeMax));
  }
  return n;
}

void WithReader(const ApiDeps& deps, const Respond& respond,
                const std::function<Result<Json>(store::Connection&)>& fn, int status) {
  auto lease = deps.pool->Acquire();
  if (!lease.ok()) return respond(Problem(lease.error()));
  auto r = fn(**lease);
  if (!r.ok()) {
    if (r.error().code == ErrorCode::kUnavailable || r.error().code == ErrorCode::kInternal) {
      lease->Discard();
    }
    return respond(Problem(r.error()));
  }
  respond(Ok(*r, status));
}

HttpResponse Ok(const Json& body, int status) { return JsonResponse(status, body.dump()); }

HttpResponse StaticAsset(std::string_view content_type, std::string_view body) {
  HttpResponse r;
  r.content_type = std::string(content_type);
  r.body = std::string(body);
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
  return r;
}

}  // namespace opsbox::api::detail
