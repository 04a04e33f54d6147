// Helpers shared by the API handler files (internal to api/).
#pragma once

#include <string>
#include <string_view>

#include "api/api.hpp"
#include "api/http.hpp"
#include "api/problem.hpp"
#include "core/json.hpp"
#include "identity/identity.hpp"
#include "ledger/writer.hpp"

namespace opsbox::api::detail {

using AuthedHandler =
    std::function<void(HttpRequest& req, const identity::Principal& who, Respond respond)>;

// Registers a route that authenticates for the path's {tenant} and checks `permission`.
void AddAuthed(Router& router, const ApiDeps& deps, std::string method, std::string pattern,
               std::string permission, std::string summary, AuthedHandler handler);
// Which request budget (ApiDeps::rate_limits) a public route spends: the client address's,
// the provider webhooks' (per address), or none (liveness and readiness probes).
enum class Budget { kAddress, kProvider, kNone };
void AddPublic(Router& router, const ApiDeps& deps, Budget budget, std::string method,
               std::string pattern, std::string summary, Handler handler);

// Parses a JSON object body: 415 unless Content-Type is application/json, 400 naming the
// field for malformed JSON, bad UTF-8, depth, duplicate keys, or a non-object.
Result<Json> ParseBody(const HttpRequest& req);

// The command id from Idempotency-Key (validated) or "" to let the writer generate one.
Result<std::string> IdempotencyKey(const HttpRequest& req);

// Submits a command for the principal's tenant and answers with its result: `created_status`
// when it appended events, 200 when it appended nothing or was a replay (header
// Idempotent-Replayed: true). Problem details on error.
void SubmitCommand(const ApiDeps& deps, const HttpRequest& req, const identity::Principal& who,
                   std::string type, Json payload, Respond respond, int created_status = 201,
                   std::string command_id = "");

// "limit" query parameter: default limits::kPageSizeDefault, 1..limits::kPageSizeMax.
Result<size_t> PageLimit(const HttpRequest& req);

// Runs `fn(connection)` with a pooled reader connection and answers its JSON (or problem).
void WithReader(const ApiDeps& deps, const Respond& respond,
                const std::function<Result<Json>(store::Connection&)>& fn, int status = 200);

HttpResponse Ok(const Json& body, int status = 200);

// A web page asset with the Content-Security-Policy every page carries.
HttpResponse StaticAsset(std::string_view content_type, std::string_view body);

void AddWebhookRoutes(Router& router, const ApiDeps& deps);

}  // namespace opsbox::api::detail
