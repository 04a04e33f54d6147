// Routes of the identity module: sessions (login/logout), the caller, tenant, users, roles,
// API keys.
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "core/limits.hpp"
#include "core/worker_pool.hpp"
#include "store/store.hpp"

namespace opsbox::api::detail {
namespace {

constexpr std::string_view kSessionCookie = "opsbox_session";

std::string SessionCookie(std::string_view token, int64_t max_age_s, bool secure) {
  return std::string(kSessionCookie) + "=" + std::string(token) +
         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s) +
         (secure ? "; Secure" : "");
}

// Password checks take ~80 ms (argon2id): they run on the blocking pool, never on I/O threads.
void Login(const ApiDeps& deps, HttpRequest& req, Respond respond) {
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  if (auto st = CheckObjectKeys(*body, {"username", "password"}); !st.ok()) {
    return respond(Problem(st.error(), req.path));
  }
  auto username = RequireString(*body, "username", limits::kUsernameBytesMax);
  auto password = RequireString(*body, "password", limits::kPasswordBytesMax);
  if (!username.ok()) return respond(Problem(username.error(), req.path));
  if (!password.ok()) return respond(Problem(password.error(), req.path));
  std::string tenant = req.path_params["tenant"];
  auto work = [&deps, tenant, user = *username, pass = *password, addr = req.remote_address,
               path = req.path, respond]() mutable {
    auto lease = deps.pool->Acquire();
    if (!lease.ok()) return respond(Problem(lease.error(), path));
    auto attempt = deps.login->PrepareLogin(**lease, tenant, user, pass, addr, deps.clock->Now());
    if (!attempt.ok()) {
      auto resp = Problem(attempt.error(), path);
      if (attempt.error().code == ErrorCode::kRateLimited) {
        resp.headers.emplace_back(
            "Retry-After",
            std::to_string(deps.login->RetryAfterSeconds(addr, deps.clock->Now())));
      }
      return respond(std::move(resp));
    }
    ledger::Command cmd{tenant, "", "record_login", "anonymous:" + addr, attempt->record_login};
    auto a = std::make_shared<identity::LoginAttempt>(std::move(*attempt));
    deps.writer->Submit(std::move(cmd), [&deps, a, path, respond](
                                            Result<ledger::CommandOutcome> r) {
      if (!r.ok()) return respond(Problem(r.error(), path));
      if (!a->succeeded || !r->result.value("succeeded", false)) {
        // One answer for every failure, so the response does not reveal which usernames
        // exist; the ledger records the real reason.
        return respond(Problem(Error{ErrorCode::kUnauthenticated, "password",
                                     "invalid_credentials",
                                     "the username or password is wrong, or the account is "
                                     "locked"},
                               path));
      }
      Json out = r->result;
      out["csrf_token"] = a->csrf_token;
      out["session_id"] = a->session_id;
      out["expires_at"] = FormatRfc3339(a->expires_at);
      auto resp = Ok(out, 201);
      resp.headers.emplace_back("Set-Cookie", SessionCookie(a->session_token, deps.session_ttl_s, deps.tls));
      respond(std::move(resp));
    });
  };
  if (!deps.interactive->Post(std::move(work))) {
    respond(Problem(Error::Unavailable("too many logins in progress; retry shortly"), req.path));
  }
}

void Logout(const ApiDeps& deps, HttpRequest& req, const identity::Principal& who,
            Respond respond) {
  if (who.kind != identity::Principal::kUser || who.session_id.empty()) {
    return respond(Problem(Error::Invalid("session", "session_required",
                                          "logout ends a browser session; revoke API keys "
                                          "instead"),
                           req.path));
  }
  Respond clear = [respond, secure = deps.tls](HttpResponse resp) {
    resp.headers.emplace_back("Set-Cookie", SessionCookie("", 0, secure));
    respond(std::move(resp));
  };
  SubmitCommand(deps, req, who, "logout", Json{{"session_id", who.session_id}}, std::move(clear),
                200);
}

void CreateUser(const ApiDeps& deps, HttpRequest& req, const identity::Principal& who,
                Respond respond) {
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  if (auto st = CheckObjectKeys(*body, {"username", "display_name", "password", "roles"});
      !st.ok()) {
    return respond(Problem(st.error(), req.path));
  }
  auto username = RequireString(*body, "username", limits::kUsernameBytesMax);
  auto display = OptionalString(*body, "display_name", limits::kNameBytesMax, "");
  auto password = RequireString(*body, "password", limits::kPasswordBytesMax);
  for (auto* r : {&username, &display, &password}) {
    if (!r->ok()) return respond(Problem(r->error(), req.path));
  }
  std::vector<std::string> roles;
  auto it = body->find("roles");
  if (it == body->end() || !it->is_array()) {
    return respond(Problem(Error::Invalid("roles", "type", "roles must be an array of role names"),
                           req.path));
  }
  for (const auto& r : *it) {
    if (!r.is_string()) {
      return respond(Problem(Error::Invalid("roles", "type", "roles must be strings"), req.path));
    }
    roles.push_back(r.get<std::string>());
  }
  auto work = [&deps, req, who, u = *username, d = display->empty() ? *username : *display,
               p = *password, roles, respond]() mutable {
    auto payload = identity::PrepareCreateUser(u, d, p, roles);
    if (!payload.ok()) return respond(Problem(payload.error(), req.path));
    SubmitCommand(deps, req, who, "create_user", std::move(*payload), respond);
  };
  if (!deps.interactive->Post(std::move(work))) {
    respond(Problem(Error::Unavailable("too many password operations in progress"), req.path));
  }
}

// {username, role} or {name, roles} commands whose payload is the body as given.
void BodyCommand(const ApiDeps& deps, HttpRequest& req, const identity::Principal& who,
                 std::string type, Json extra, Respond respond, int created_status = 201) {
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  for (auto& [k, v] : extra.items()) (*body)[k] = v;
  SubmitCommand(deps, req, who, std::move(type), std::move(*body), std::move(respond),
                created_status);
}

}  // namespace

void AddIdentityRoutes(Router& router, const ApiDeps& deps) {
  const std::string t = "/api/v1/tenants/{tenant}";
  AddPublic(router, deps, Budget::kAddress, "POST", t + "/sessions",
            "Log in with username and password; sets the session cookie and returns the CSRF "
            "token",
            [&deps](HttpRequest& req, Respond respond) { Login(deps, req, std::move(respond)); });
  AddAuthed(router, deps, "DELETE", t + "/sessions/current", "tenant.read",
            "Log out (revokes the session)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              Logout(deps, req, who, std::move(respond));
            });
  AddAuthed(router, deps, "GET", t + "/me", "tenant.read", "The caller: identity and roles",
            [](HttpRequest&, const identity::Principal& who, Respond respond) {
              // The permissions the roles give: the console shows what they allow.
              Json permissions = Json::array();
              for (const auto& p : identity::AllPermissions()) {
                if (who.Allows(p)) permissions.push_back(p);
              }
              Json out{{"tenant_id", who.tenant_id}, {"actor_id", who.actor_id},
                       {"kind", who.kind == identity::Principal::kUser ? "user" : "api_key"},
                       {"name", who.name}, {"roles", who.roles},
                       {"permissions", std::move(permissions)}};
              respond(Ok(out));
            });
  AddAuthed(router, deps, "GET", t, "tenant.read", "The tenant",
            [&deps](HttpRequest&, const identity::Principal& who, Respond respond) {
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(auto v, identity::GetTenant(c, who.tenant_id));
                return identity::ToJson(v);
              });
            });
  AddAuthed(router, deps, "GET", t + "/users", "users.read", "Users holding roles in the tenant",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              std::string after = req.QueryParam("after").value_or("");
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(auto users,
                                        identity::ListUsers(c, who.tenant_id, *limit, after));
                Json items = Json::array();
                for (const auto& u : users) items.push_back(identity::ToJson(u));
                Json next = users.size() == *limit ? Json(users.back().username) : Json(nullptr);
                return Json{{"items", items}, {"next_cursor", next}};
              });
            });
  AddAuthed(router, deps, "POST", t + "/users", "users.manage",
            "Create a user with roles in this tenant",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              CreateUser(deps, req, who, std::move(respond));
            });
  AddAuthed(router, deps, "POST", t + "/users/{username}/roles", "users.manage",
            "Grant a role in this tenant",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              BodyCommand(deps, req, who, "grant_role",
                          Json{{"username", req.path_params["username"]}}, std::move(respond));
            });
  AddAuthed(router, deps, "DELETE", t + "/users/{username}/roles/{role}", "users.manage",
            "Revoke a role in this tenant",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              SubmitCommand(deps, req, who, "revoke_role",
                            Json{{"username", req.path_params["username"]},
                                 {"role", req.path_params["role"]}},
                            std::move(respond), 200);
            });
  AddAuthed(router, deps, "GET", t + "/api-keys", "api_keys.manage", "API keys (never secrets)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              auto limit = PageLimit(req);
              if (!limit.ok()) return respond(Problem(limit.error(), req.path));
              std::string after = req.QueryParam("after").value_or("");
              WithReader(deps, respond, [&](store::Connection& c) -> Result<Json> {
                OPSBOX_ASSIGN_OR_RETURN(auto keys,
                                        identity::ListApiKeys(c, who.tenant_id, *limit, after));
                Json items = Json::array();
                for (const auto& k : keys) items.push_back(identity::ToJson(k));
                Json next = keys.size() == *limit ? Json(keys.back().key_id) : Json(nullptr);
                return Json{{"items", items}, {"next_cursor", next}};
              });
            });
  AddAuthed(router, deps, "POST", t + "/api-keys", "api_keys.manage",
            "Create an API key; the key is in this response only",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              BodyCommand(deps, req, who, "create_api_key", Json::object(), std::move(respond));
            });
  AddAuthed(router, deps, "DELETE", t + "/api-keys/{key_id}", "api_keys.manage",
            "Revoke an API key",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              SubmitCommand(deps, req, who, "revoke_api_key",
                            Json{{"key_id", req.path_params["key_id"]}}, std::move(respond), 200);
            });
}

}  // namespace opsbox::api::detail
