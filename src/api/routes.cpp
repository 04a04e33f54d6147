// AddRoutes: every route of the server, by module.
#include <nlohmann/json.hpp>

#include "api/common.hpp"

namespace opsbox::api {
namespace detail {
void AddSystemRoutes(Router& router, const ApiDeps& deps);
void AddIdentityRoutes(Router& router, const ApiDeps& deps);
void AddLedgerRoutes(Router& router, const ApiDeps& deps);
void AddIntegrationsRoutes(Router& router, const ApiDeps& deps);
void AddWfmRoutes(Router& router, const ApiDeps& deps);
}  // namespace detail

void AddRoutes(Router& router, const ApiDeps& deps) {
  detail::AddSystemRoutes(router, deps);
  detail::AddIdentityRoutes(router, deps);
  detail::AddLedgerRoutes(router, deps);
  detail::AddIntegrationsRoutes(router, deps);
  detail::AddWfmRoutes(router, deps);
}

}  // namespace opsbox::api
