// Internal to src/automation: the pure decisions (decide.cpp) and the handlers that load their
// state, shared by automation.cpp (registration) and the unit tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "automation/automation.hpp"
#include "core/random.hpp"

namespace opsbox::automation::detail {

Result<ledger::Decision> DecideSetPolicy(const std::vector<Policy>& existing, const Json& payload,
                                         Instant now);
Result<ledger::Decision> DecideStartSession(const Json& payload, const std::string& session_id);
Result<ledger::Decision> DecideRecordEvent(const std::optional<Session>& session,
                                           const std::vector<Policy>& policies,
                                           const Json& payload, Instant now, const Hooks& hooks);
Result<ledger::Decision> DecideReview(const std::optional<Session>& session, const Json& payload,
                                      const std::string& actor, const Hooks& hooks);

Result<std::optional<Session>> LoadSession(store::Tx& tx, std::string_view tenant,
                                           std::string_view session_id);
Result<ledger::Decision> HandleSetPolicy(store::Tx&, const ledger::Command&, Instant, Random&);
Result<ledger::Decision> HandleStartSession(store::Tx&, const ledger::Command&, Instant, Random&);
Result<ledger::Decision> HandleRecordEvent(store::Tx&, const ledger::Command&, Instant, Random&,
                                           const Hooks&);
Result<ledger::Decision> HandleReview(store::Tx&, const ledger::Command&, Instant, Random&,
                                      const Hooks&);

Status ProjectPolicyChanged(store::Tx& tx, const ledger::Event& e);
Status ProjectSessionEvent(store::Tx& tx, const ledger::Event& e);

}  // namespace opsbox::automation::detail
