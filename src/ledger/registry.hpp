// Registry: which module decides which command and which projections an event updates.
// Filled once by the composition root before the writer starts; read-only afterwards, so it is
// safe to share between threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/random.hpp"
#include "core/result.hpp"
#include "ledger/event.hpp"
#include "store/store.hpp"

namespace opsbox::ledger {

// What a command decided: the events it causes and the result returned to the caller.
// No events is allowed (a no-op command records nothing and is not idempotency-recorded).
struct Decision {
  std::vector<NewEvent> events;
  Json result = Json::object();  // recorded; a retried command gets it back
  // Merged into the first answer only and never stored: secrets shown once (API keys).
  Json once = Json::object();
};

// Loads the state the decision needs through `tx` (it sees earlier commands of the same
// batch), then calls the module's pure decide function. Must not write.
using CommandHandler =
    std::function<Result<Decision>(store::Tx& tx, const Command& cmd, Instant now, Random& rnd)>;

// Rebuilds a command's result from the events it appended (issue #20 item 5: a recorded result
// refers to its events instead of copying them). Registered beside a handler whose result is a
// pure function of its events; the writer then stores an empty result and calls this when the
// command is retried. `events` are as stored (sealed fields sealed, payload_json null).
using ResultRebuilder = std::function<Result<Json>(const std::vector<Event>& events)>;

// Updates projection tables for one appended event, in the same transaction as the append.
using Projector = std::function<Status(store::Tx& tx, const Event& event)>;

// Runs after a batch is durable, on the writer thread; must be quick and must not throw
// (caches, live subscribers, waking the outbox).
using CommittedListener = std::function<void(const std::vector<Event>& events)>;

// Seals NewEvent::personal_fields of `payload` in place for (tenant, subject_id), inside the
// append transaction (it may create the subject's key there). Called by the writer before
// hashing, only for events with personal fields; absent or null fields are left alone.
using Sealer = std::function<Status(store::Tx& tx, const std::string& tenant,
                                    const std::string& subject_id, Json& payload,
                                    const std::vector<std::string>& fields)>;

// Opens a value the Sealer sealed (in the tenant's transaction); a value that is not sealed is
// returned as it is. Errors when the value cannot be opened (its key destroyed or unknown).
using Opener =
    std::function<Result<Json>(store::Tx& tx, const std::string& tenant, const Json& value)>;

class Registry {
 public:
  void AddCommand(std::string type, CommandHandler handler);
  // As above, for a command whose result the writer need not store: `rebuild` recomputes it
  // from the command's events on a retry. The result of a decision with no events is stored
  // as usual.
  void AddCommand(std::string type, CommandHandler handler, ResultRebuilder rebuild);
  // event_type "*" projects every event.
  void AddProjector(std::string event_type, Projector projector);
  void AddCommittedListener(CommittedListener listener);
  // Runs on the writer thread after a batch was rolled back, so caches that projectors filled
  // ahead of the commit can drop what they learned.
  void AddRollbackListener(std::function<void()> listener);
  // At most one sealer (privacy::Keyring). Without one, an event with personal or secret
  // fields fails to append (rule "no_sealer") rather than storing them in clear.
  void SetSealer(Sealer sealer);
  // At most one opener (privacy::Keyring), for OpenSecrets.
  void SetOpener(Opener opener);
  // Event types the module emits that have no projector (a type with a projector is known
  // already). The writer refuses an event of a type the registry does not know (rule
  // "undeclared_event"), so EventTypes() lists every type the code can emit.
  void DeclareEvents(std::initializer_list<std::string_view> event_types);

  // Every call into module code below goes through one exception boundary (issue #9): an
  // exception thrown by a handler, projector, sealer or listener becomes an Error with code
  // kInternal and rule "module_exception" naming the command or event type, for that command
  // only; the writer keeps serving. Listeners cannot fail a committed batch: their exceptions
  // are logged and counted (ModuleExceptions()).
  bool HasCommand(const std::string& type) const;
  // Whether results of `type` are rebuilt from events rather than stored.
  bool RebuildsResult(const std::string& type) const;
  // Runs the rebuilder of `type` (through the exception boundary); kInternal "no_rebuilder"
  // when none is registered.
  Result<Json> RebuildResult(const std::string& type, const std::vector<Event>& events) const;
  // Runs the handler registered for cmd.type; kInvalidArgument "unknown_command" when none.
  Result<Decision> Decide(store::Tx& tx, const Command& cmd, Instant now, Random& rnd) const;
  // Runs the projectors registered for e.type and for "*".
  Status Project(store::Tx& tx, const Event& e) const;
  void NotifyCommitted(const std::vector<Event>& events) const;
  void NotifyRolledBack() const;
  // Seals e.personal_fields (subject e.subject_id), e.items_personal_fields (each item's own
  // subject) and e.secret_fields (subject kCredentialsSubject) of e.payload for the tenant; ok and a no-op when there are none.
  // When e has secret fields, *clear receives the payload with only the personal fields
  // sealed: what projectors see (Event::payload_json).
  Status Seal(store::Tx& tx, const std::string& tenant, NewEvent& e, Json* clear) const;
  // Opens, in place, every top-level field of `payload` named in kSecretPayloadFields that
  // Seal sealed: a projection rebuild replays stored events through this before projecting.
  Status OpenSecrets(store::Tx& tx, const std::string& tenant, Json& payload) const;
  std::vector<std::string> CommandTypes() const;
  // Exceptions caught at the boundary since start (all kinds), for metrics.
  uint64_t ModuleExceptions() const { return module_exceptions_->load(); }
  // Every event type the code can emit, sorted: projected types (not "*") and declared ones.
  std::vector<std::string> EventTypes() const;
  bool KnowsEvent(const std::string& type) const;

 private:
  // The items_personal_fields part of Seal.
  Status SealItems(store::Tx& tx, const std::string& tenant, NewEvent& e) const;
  std::map<std::string, CommandHandler> commands_;
  std::map<std::string, ResultRebuilder> rebuilders_;
  std::map<std::string, std::vector<Projector>> projectors_;
  std::vector<CommittedListener> listeners_;
  std::vector<std::function<void()>> rollback_listeners_;
  std::set<std::string, std::less<>> declared_events_;
  Sealer sealer_;
  // Behind a pointer so the registry stays movable (tests build one and return it).
  std::shared_ptr<std::atomic<uint64_t>> module_exceptions_ =
      std::make_shared<std::atomic<uint64_t>>(0);
  Opener opener_;
};

}  // namespace opsbox::ledger
