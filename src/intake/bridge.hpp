// The bridge from intake to pii and privacy (contracts §1–§3): the Hooks bound to
// pii::Scanner and privacy::Keyring, and intake's registrations with privacy::Governance and the
// keyring's erasure. Used by the composition root only.
#pragma once

#include "intake/intake.hpp"
#include "pii/pii.hpp"
#include "privacy/governance.hpp"
#include "privacy/keyring.hpp"

namespace opsbox::intake {

// `scanner` and `keyring` must outlive the hooks.
Hooks MakeHooks(const pii::Scanner& scanner, privacy::Keyring& keyring);

// Record types "customer" (name, phone, email) and "message" (text) for unmasking, the
// retention target "conversation" (crypto_shred) and the erasure scrubber. Call before the
// writer starts; `intake`, `keyring` and `governance` must outlive the writer.
void RegisterWithPrivacy(const Intake& intake, privacy::Keyring& keyring,
                         privacy::Governance& governance);

// The opened form of a stored personal value, for Governance::Present.
Result<privacy::Opened> OpenStored(privacy::Keyring& keyring, store::Connection& conn,
                                   std::string_view tenant, const Json& stored);

}  // namespace opsbox::intake
