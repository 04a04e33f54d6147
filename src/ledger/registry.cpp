#include "ledger/registry.hpp"

#include "core/assert.hpp"

namespace opsbox::ledger {

void Registry::AddCommand(std::string type, CommandHandler handler) {
  OPSBOX_ASSERT_MSG(!commands_.contains(type), "command registered twice");
  commands_.emplace(std::move(type), std::move(handler));
}

void Registry::AddProjector(std::string event_type, Projector projector) {
  projectors_[std::move(event_type)].push_back(std::move(projector));
}

void Registry::AddCommittedListener(CommittedListener listener) {
  listeners_.push_back(std::move(listener));
}

void Registry::AddRollbackListener(std::function<void()> listener) {
  rollback_listeners_.push_back(std::move(listener));
}

void Registry::SetSealer(Sealer sealer) {
  OPSBOX_ASSERT_MSG(!sealer_, "sealer set twice");
  sealer_ = std::move(sealer);
}

Status Registry::Seal(store::Tx& tx, const std::string& tenant, NewEvent& e) const {
  if (e.personal_fields.empty()) return Ok();
  if (!sealer_) {
    return Error{ErrorCode::kInternal, "personal_fields", "no_sealer",
                 "event " + e.type + " carries personal fields but no sealer is registered"};
  }
  if (e.subject_id.empty()) {
    return Error{ErrorCode::kInternal, "subject_id", "required",
                 "event " + e.type + " carries personal fields without a subject id"};
  }
  return sealer_(tx, tenant, e.subject_id, e.payload, e.personal_fields);
}

const CommandHandler* Registry::FindCommand(const std::string& type) const {
  auto it = commands_.find(type);
  return it == commands_.end() ? nullptr : &it->second;
}

Status Registry::Project(store::Tx& tx, const Event& e) const {
  if (auto it = projectors_.find(e.type); it != projectors_.end()) {
    for (const auto& p : it->second) OPSBOX_TRY(p(tx, e));
  }
  if (auto it = projectors_.find("*"); it != projectors_.end()) {
    for (const auto& p : it->second) OPSBOX_TRY(p(tx, e));
  }
  return Ok();
}

void Registry::NotifyCommitted(const std::vector<Event>& events) const {
  for (const auto& l : listeners_) l(events);
}

void Registry::NotifyRolledBack() const {
  for (const auto& l : rollback_listeners_) l();
}

std::vector<std::string> Registry::CommandTypes() const {
  std::vector<std::string> out;
  for (const auto& [k, _] : commands_) out.push_back(k);
  return out;
}

}  // namespace opsbox::ledger
