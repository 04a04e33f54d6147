// The HTTP API: every route of /api/v1 plus health, metrics, the OpenAPI document and the web
// page. Handlers are thin: authenticate, parse, call a module, map the result. Only the
// composition root (app/) constructs ApiDeps.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <atomic>

#include "api/http.hpp"
#include "core/clock_fwd.hpp"
#include "core/rate_limiter.hpp"
#include "core/json.hpp"

namespace opsbox {
class WorkerPool;
namespace ledger {
class Writer;
}
namespace store {
class Pool;
}
namespace identity {
class Authenticator;
class LoginService;
}  // namespace identity
namespace pii {
class Scanner;
}
namespace privacy {
class Keyring;
class Governance;
}  // namespace privacy
namespace intake {
class Intake;
}
namespace routing {
class Service;
}
namespace live {
class Hub;
}
namespace automation {
class Automation;
}
namespace intents {
class TenantModels;
}
namespace collections {
class Collections;
}
}  // namespace opsbox

namespace opsbox::api {

// Request budgets (issue #9), owned by the composition root. Authenticated requests spend the
// bucket of their API key or session; unauthenticated ones (sign-in, failed credentials, public
// pages) spend their client address's; provider webhooks (WhatsApp, voice, e-mail) spend a
// budget of their own per address. Past a budget: 429 with Retry-After and a problem.
struct RateLimits {
  RateLimits(RateLimit api_key_limit, RateLimit session_limit, RateLimit address_limit,
             RateLimit provider_limit)
      : api_key(api_key_limit),
        session(session_limit),
        address(address_limit),
        provider(provider_limit) {}
  RateLimiter api_key;
  RateLimiter session;
  RateLimiter address;
  RateLimiter provider;
  // Forged provider webhooks: at most one channel_signature_rejected event per tenant, channel
  // and address and minute, carrying the count; the rest only count here and in /metrics.
  CountingThrottle rejected_signatures{kSignatureRejectionWindow};
  std::atomic<uint64_t> signatures_rejected{0};
  std::atomic<uint64_t> requests_limited{0};
  static constexpr Duration kSignatureRejectionWindow = Duration::Minutes(1);
};

struct ApiDeps {
  ledger::Writer* writer = nullptr;
  store::Pool* pool = nullptr;
  identity::Authenticator* auth = nullptr;
  identity::LoginService* login = nullptr;
  Clock* clock = nullptr;
  Random* random = nullptr;
  // Blocking work never runs on I/O threads. Two bounded pools, so long work cannot starve
  // short work: `interactive` for password hashing and other sub-second work, `compute` for
  // schedule solves, forecasts, simulations and ledger verification. A full queue answers 503.
  WorkerPool* interactive = nullptr;
  WorkerPool* compute = nullptr;
  RateLimits* rate_limits = nullptr;  // null: no budgets (unit tests)
  std::vector<std::string> trusted_public_keys_hex;  // ledger checkpoint keys
  std::function<std::string()> render_metrics;
  std::function<bool()> ready;  // /readyz: writer running, database reachable
  std::string version;
  int64_t session_ttl_s = 28800;
  bool tls = false;  // the listener speaks HTTPS: cookies are marked Secure
  // Several nodes (ledger/cluster.hpp): the shared secret that signs forwarded commands;
  // empty when clustering is off (the internal route then answers 404).
  std::string cluster_secret{};
  pii::Scanner* pii = nullptr;
  privacy::Keyring* keyring = nullptr;
  privacy::Governance* privacy = nullptr;
  intake::Intake* intake = nullptr;
  routing::Service* routing = nullptr;
  live::Hub* hub = nullptr;
  // Issue #18: scheduled backups' state (backup::ScheduleStatus::ToJson); null when not wired.
  std::function<Json()> backup_status = nullptr;
  // Issue #9: when not empty, GET /metrics requires "Authorization: Bearer <this>".
  std::string metrics_bearer_token{};
  // Issue #12: the tenants' intent models; null or empty: the classify route answers 409.
  const intents::TenantModels* intents = nullptr;
  // Issue #11: imported accounts, the contact policy and attempts; null: the routes answer 503.
  const collections::Collections* collections = nullptr;
  const automation::Automation* automation = nullptr;  // issue #12: boundary and handoff
};

// Adds every route. `deps` must outlive the router.
void AddRoutes(Router& router, const ApiDeps& deps);
// Records on the ledger the forged provider requests counted but not yet recorded, for every
// tenant, channel and address whose minute has ended (`all`: every one, at shutdown). The
// composition root calls it from a timer (a few times a minute) and once when stopping.
void RecordRejectedSignatures(const ApiDeps& deps, bool all = false);

// The served OpenAPI 3.1 document (api/openapi.json, embedded at build time).
const std::string& OpenApiDocument();

}  // namespace opsbox::api
