// The HTTP API: every route of /api/v1 plus health, metrics, the OpenAPI document and the web
// page. Handlers are thin: authenticate, parse, call a module, map the result. Only the
// composition root (app/) constructs ApiDeps.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/http.hpp"
#include "core/clock_fwd.hpp"

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
}  // namespace opsbox

namespace opsbox::api {

struct ApiDeps {
  ledger::Writer* writer = nullptr;
  store::Pool* pool = nullptr;
  identity::Authenticator* auth = nullptr;
  identity::LoginService* login = nullptr;
  Clock* clock = nullptr;
  Random* random = nullptr;
  WorkerPool* blocking = nullptr;  // password hashing, ledger verification
  std::vector<std::string> trusted_public_keys_hex;  // ledger checkpoint keys
  std::function<std::string()> render_metrics;
  std::function<bool()> ready;  // /readyz: writer running, database reachable
  std::string version;
  int64_t session_ttl_s = 28800;
  // Several nodes (ledger/cluster.hpp): the shared secret that signs forwarded commands;
  // empty when clustering is off (the internal route then answers 404).
  std::string cluster_secret{};
  // Issues #3 and #4 (null until the composition root wires the module).
  pii::Scanner* pii = nullptr;
  privacy::Keyring* keyring = nullptr;
  privacy::Governance* privacy = nullptr;
  intake::Intake* intake = nullptr;
  routing::Service* routing = nullptr;
  live::Hub* hub = nullptr;
};

// Adds every route. `deps` must outlive the router.
void AddRoutes(Router& router, const ApiDeps& deps);

// The served OpenAPI 3.1 document (api/openapi.json, embedded at build time).
const std::string& OpenApiDocument();

}  // namespace opsbox::api
