// AddRoutes: every route of the server, by module.
#include <nlohmann/json.hpp>

#include "api/common.hpp"

namespace opsbox::api {
namespace detail {
void AddSystemRoutes(Router& router, const ApiDeps& deps);
void AddIdentityRoutes(Router& router, const ApiDeps& deps);
void AddLedgerRoutes(Router& router, const ApiDeps& deps);
void AddClusterRoutes(Router& router, const ApiDeps& deps);
void AddIntegrationsRoutes(Router& router, const ApiDeps& deps);
void AddWfmRoutes(Router& router, const ApiDeps& deps);
void AddPiiRoutes(Router& router, const ApiDeps& deps);
void AddPrivacyRoutes(Router& router, const ApiDeps& deps);
void AddPrivacyKeysRoutes(Router& router, const ApiDeps& deps);
void AddIntakeRoutes(Router& router, const ApiDeps& deps);
void AddRoutingRoutes(Router& router, const ApiDeps& deps);
void AddStreamRoutes(Router& router, const ApiDeps& deps);
}  // namespace detail

void AddRoutes(Router& router, const ApiDeps& deps) {
  detail::AddSystemRoutes(router, deps);
  detail::AddIdentityRoutes(router, deps);
  detail::AddLedgerRoutes(router, deps);
  detail::AddClusterRoutes(router, deps);
  detail::AddIntegrationsRoutes(router, deps);
  detail::AddWfmRoutes(router, deps);
#ifdef OPSBOX_WITH_PII_API
  detail::AddPiiRoutes(router, deps);
#endif
#ifdef OPSBOX_WITH_PRIVACY_API
  detail::AddPrivacyRoutes(router, deps);
#endif
#ifdef OPSBOX_WITH_PRIVACY_KEYS_API
  detail::AddPrivacyKeysRoutes(router, deps);
#endif
#ifdef OPSBOX_WITH_INTAKE_API
  detail::AddIntakeRoutes(router, deps);
#endif
#ifdef OPSBOX_WITH_ROUTING_API
  detail::AddRoutingRoutes(router, deps);
#endif
#ifdef OPSBOX_WITH_STREAM_API
  detail::AddStreamRoutes(router, deps);
#endif
}

}  // namespace opsbox::api
