// AddRoutes: every route of the server, by module.
#include <nlohmann/json.hpp>

#include "api/common.hpp"

namespace opsbox::api {
namespace detail {
void AddSystemRoutes(Router& router, const ApiDeps& deps);
void AddConsoleRoutes(Router& router, const ApiDeps& deps);
void AddIdentityRoutes(Router& router, const ApiDeps& deps);
void AddLedgerRoutes(Router& router, const ApiDeps& deps);
void AddClusterRoutes(Router& router, const ApiDeps& deps);
void AddIntegrationsRoutes(Router& router, const ApiDeps& deps);
void AddWfmRoutes(Router& router, const ApiDeps& deps);
void AddPrivacyRoutes(Router& router, const ApiDeps& deps);
void AddPrivacyKeysRoutes(Router& router, const ApiDeps& deps);
void AddIntakeRoutes(Router& router, const ApiDeps& deps);
void AddRoutingRoutes(Router& router, const ApiDeps& deps);
void AddStreamRoutes(Router& router, const ApiDeps& deps);
void SubmitRejectionCounts(const ApiDeps& deps, bool all);
void AddBackupRoutes(Router& router, const ApiDeps& deps);
void AddIntentsRoutes(Router& router, const ApiDeps& deps);
void AddCasesRoutes(Router& router, const ApiDeps& deps);
void AddApprovalsRoutes(Router& router, const ApiDeps& deps);
void AddCollectionsRoutes(Router& router, const ApiDeps& deps);
void AddAutomationRoutes(Router& router, const ApiDeps& deps);
void AddKpisRoutes(Router& router, const ApiDeps& deps);
void AddBillingRoutes(Router& router, const ApiDeps& deps);
}  // namespace detail

void RecordRejectedSignatures(const ApiDeps& deps, bool all) {
  detail::SubmitRejectionCounts(deps, all);
}

void AddRoutes(Router& router, const ApiDeps& deps) {
  detail::AddSystemRoutes(router, deps);
  detail::AddConsoleRoutes(router, deps);
  detail::AddIdentityRoutes(router, deps);
  detail::AddLedgerRoutes(router, deps);
  detail::AddClusterRoutes(router, deps);
  detail::AddIntegrationsRoutes(router, deps);
  detail::AddWfmRoutes(router, deps);
  detail::AddBackupRoutes(router, deps);
  detail::AddPrivacyRoutes(router, deps);
  detail::AddPrivacyKeysRoutes(router, deps);
  detail::AddIntakeRoutes(router, deps);
  detail::AddRoutingRoutes(router, deps);
  detail::AddStreamRoutes(router, deps);
  detail::AddIntentsRoutes(router, deps);
  detail::AddCasesRoutes(router, deps);
  detail::AddApprovalsRoutes(router, deps);
  detail::AddCollectionsRoutes(router, deps);
  detail::AddAutomationRoutes(router, deps);
  detail::AddKpisRoutes(router, deps);
  detail::AddBillingRoutes(router, deps);
}

}  // namespace opsbox::api
