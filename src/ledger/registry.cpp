#include "ledger/registry.hpp"

#include <spdlog/spdlog.h>

#include <exception>

#include "core/assert.hpp"

namespace opsbox::ledger {
namespace {

// The one exception boundary between the writer and module code. `what_ran` names the command
// or event for the operator reading the log and the error.
template <class F>
auto Guard(std::atomic<uint64_t>& counter, std::string_view what_ran, F&& f) -> decltype(f()) {
  std::string why;
  try {
    return f();
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "unknown exception";
  }
  counter.fetch_add(1);
  spdlog::error("ledger: {} threw: {}", what_ran, why);
  return Error{ErrorCode::kInternal, "", "module_exception",
               std::string(what_ran) + " failed with an internal error: " + why};
}

}  // namespace

void Registry::AddCommand(std::string type, CommandHandler handler) {
  OPSBOX_ASSERT_MSG(!commands_.contains(type), "command registered twice");
  commands_.emplace(std::move(type), std::move(handler));
}

void Registry::AddCommand(std::string type, CommandHandler handler, ResultRebuilder rebuild) {
  OPSBOX_ASSERT(rebuild != nullptr);
  rebuilders_.emplace(type, std::move(rebuild));
  AddCommand(std::move(type), std::move(handler));
}

bool Registry::RebuildsResult(const std::string& type) const {
  return rebuilders_.contains(type);
}

Result<Json> Registry::RebuildResult(const std::string& type,
                                     const std::vector<Event>& events) const {
  auto it = rebuilders_.find(type);
  if (it == rebuilders_.end()) {
    return Error{ErrorCode::kInternal, "result", "no_rebuilder",
                 "command " + type + " has no recorded result and no rebuilder"};
  }
  return Guard(*module_exceptions_, "rebuilding the result of " + type,
               [&]() -> Result<Json> { return it->second(events); });
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

void Registry::SetOpener(Opener opener) {
  OPSBOX_ASSERT_MSG(!opener_, "opener set twice");
  opener_ = std::move(opener);
}

void Registry::DeclareEvents(std::initializer_list<std::string_view> event_types) {
  for (auto t : event_types) declared_events_.emplace(t);
}

Status Registry::SealItems(store::Tx& tx, const std::string& tenant, NewEvent& e) const {
  auto items = e.payload.find(e.items_field);
  if (items == e.payload.end() || !items->is_array()) {
    return Error{ErrorCode::kInternal, e.items_field, "array",
                 "event " + e.type + " seals items of " + e.items_field + ", which is no array"};
  }
  for (Json& item : *items) {
    auto subject = item.is_object() ? item.find(e.items_subject_key) : item.end();
    if (subject == item.end() || !subject->is_string() || subject->get_ref<const std::string&>().empty()) {
      return Error{ErrorCode::kInternal, e.items_subject_key, "required",
                   "an item of event " + e.type + " has no subject id"};
    }
    const std::string subject_id = subject->get<std::string>();
    OPSBOX_TRY(Guard(*module_exceptions_, "sealing items of event " + e.type, [&]() -> Status {
      return sealer_(tx, tenant, subject_id, item, e.items_personal_fields);
    }));
  }
  return Ok();
}

Status Registry::Seal(store::Tx& tx, const std::string& tenant, NewEvent& e, Json* clear) const {
  if (e.personal_fields.empty() && e.secret_fields.empty() && e.items_personal_fields.empty()) {
    return Ok();
  }
  if (!sealer_) {
    return Error{ErrorCode::kInternal, "personal_fields", "no_sealer",
                 "event " + e.type + " carries personal or secret fields but no sealer is "
                 "registered"};
  }
  if (!e.personal_fields.empty()) {
    if (e.subject_id.empty()) {
      return Error{ErrorCode::kInternal, "subject_id", "required",
                   "event " + e.type + " carries personal fields without a subject id"};
    }
    OPSBOX_TRY(Guard(*module_exceptions_, "sealing event " + e.type, [&]() -> Status {
      return sealer_(tx, tenant, e.subject_id, e.payload, e.personal_fields);
    }));
  }
  if (!e.items_personal_fields.empty()) OPSBOX_TRY(SealItems(tx, tenant, e));
  if (e.secret_fields.empty()) return Ok();
  for (const auto& f : e.secret_fields) {
    // A field outside the list would escape the outbound view's redaction.
    OPSBOX_ASSERT_MSG(IsSecretPayloadField(f), "secret field not in kSecretPayloadFields");
  }
  OPSBOX_ASSERT(clear != nullptr);
  *clear = e.payload;
  return Guard(*module_exceptions_, "sealing the credentials of event " + e.type,
               [&]() -> Status {
                 return sealer_(tx, tenant, std::string(kCredentialsSubject), e.payload,
                                e.secret_fields);
               });
}

Status Registry::OpenSecrets(store::Tx& tx, const std::string& tenant, Json& payload) const {
  if (!payload.is_object()) return Ok();
  for (auto field : kSecretPayloadFields) {
    auto it = payload.find(field);
    if (it == payload.end() || !it->is_string()) continue;
    if (!opener_) {
      return Error{ErrorCode::kInternal, std::string(field), "no_opener",
                   "no opener is registered to open sealed secrets"};
    }
    OPSBOX_ASSIGN_OR_RETURN(*it, opener_(tx, tenant, *it));
  }
  return Ok();
}

bool Registry::HasCommand(const std::string& type) const { return commands_.contains(type); }

Result<Decision> Registry::Decide(store::Tx& tx, const Command& cmd, Instant now,
                                  Random& rnd) const {
  auto it = commands_.find(cmd.type);
  if (it == commands_.end()) {
    return Error::Invalid("type", "unknown_command", "no command named " + cmd.type);
  }
  return Guard(*module_exceptions_, "command " + cmd.type, [&]() -> Result<Decision> {
    return it->second(tx, cmd, now, rnd);
  });
}

Status Registry::Project(store::Tx& tx, const Event& e) const {
  auto run = [&](const std::vector<Projector>& list) -> Status {
    for (const auto& p : list) {
      OPSBOX_TRY(Guard(*module_exceptions_, "projection of event " + e.type,
                       [&]() -> Status { return p(tx, e); }));
    }
    return Ok();
  };
  if (auto it = projectors_.find(e.type); it != projectors_.end()) OPSBOX_TRY(run(it->second));
  if (auto it = projectors_.find("*"); it != projectors_.end()) OPSBOX_TRY(run(it->second));
  return Ok();
}

void Registry::NotifyCommitted(const std::vector<Event>& events) const {
  for (const auto& l : listeners_) {
    // The batch is durable: a failing listener is logged and counted, never fatal.
    (void)Guard(*module_exceptions_, "a committed-events listener", [&]() -> Status {
      l(events);
      return Ok();
    });
  }
}

void Registry::NotifyRolledBack() const {
  for (const auto& l : rollback_listeners_) {
    (void)Guard(*module_exceptions_, "a rollback listener", [&]() -> Status {
      l();
      return Ok();
    });
  }
}

std::vector<std::string> Registry::EventTypes() const {
  std::set<std::string> all(declared_events_.begin(), declared_events_.end());
  for (const auto& [k, _] : projectors_) {
    if (k != "*") all.insert(k);
  }
  return {all.begin(), all.end()};
}

bool Registry::KnowsEvent(const std::string& type) const {
  return type != "*" && (declared_events_.contains(type) || projectors_.contains(type));
}

std::vector<std::string> Registry::CommandTypes() const {
  std::vector<std::string> out;
  for (const auto& [k, _] : commands_) out.push_back(k);
  return out;
}

}  // namespace opsbox::ledger
