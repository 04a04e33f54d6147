// Projectors of the identity events onto tenants, users, role_grants, api_keys and sessions.
// Internal to src/identity/.
#pragma once

#include "ledger/registry.hpp"

namespace opsbox::identity::detail {

void RegisterProjections(ledger::Registry& registry);

}  // namespace opsbox::identity::detail
