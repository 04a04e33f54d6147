// What the case decisions need of an existing case, loaded from the projection by the command
// handlers (projection.cpp) and decided on purely (decide.cpp). Internal to src/cases/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cases/case_ledger.hpp"
#include "ledger/registry.hpp"

namespace opsbox::cases::detail {

struct CaseState {
  std::string case_id;
  CaseType type = CaseType::kComplaint;
  std::string category;
  Priority priority = Priority::kNormal;
  CaseStatus status = CaseStatus::kNew;
  std::string data_subject;  // found by the handler (Hooks::open), never stored in clear
  Instant received_at;
  std::optional<Instant> resolved_at;
  std::vector<StatusChange> changes;  // every status change after opening, oldest first
  bool business_time = true;
  int64_t at_risk_share_bp = 8000;
  Duration fr_target, res_target;
  std::optional<Instant> fr_met;
  int64_t fr_due_us = 0, fr_at_risk_us = 0, res_due_us = 0, res_at_risk_us = 0;
  int64_t fr_at_risk_fired_us = 0, fr_breached_fired_us = 0;
  int64_t res_at_risk_fired_us = 0, res_breached_fired_us = 0;
};

// The SLA fields of a case at this state (flat, UTC microseconds, 0 for none):
// {paused, fr_due_at_us, fr_at_risk_at_us, fr_met_at_us, res_due_at_us, res_at_risk_at_us,
//  res_met_at_us}. Every case event carries it; the projection copies it.
Result<Json> ComputeSla(const CaseState& c, const BusinessCalendar& calendar);

// Validated open_case input (the handler adds the customer's blind index).
struct OpenCaseInput {
  CaseType type = CaseType::kComplaint;
  std::string category;
  Priority priority = Priority::kNormal;
  std::string subject, description, customer_id, channel;
  std::optional<Instant> received_at;
};
Result<OpenCaseInput> ParseOpenCase(const Json& payload);

Result<ledger::Decision> DecideOpenCase(const OpenCaseInput& in, const CaseSettings& settings,
                                        const std::vector<PriorCase>& prior,
                                        const std::string& customer_index, Instant now,
                                        Random& random);
Result<ledger::Decision> DecideTransition(const CaseState& c, const Json& payload,
                                          const CaseSettings& settings, Instant now);
Result<ledger::Decision> DecideAddNote(const CaseState& c, const Json& payload,
                                       const CaseSettings& settings, Instant now, Random& random);
Result<ledger::Decision> DecideRecordSla(const CaseState& c, const Json& payload, Instant now);
Result<ledger::Decision> DecideConfigure(const Json& payload, const ZoneLoader& load_zone);

}  // namespace opsbox::cases::detail
