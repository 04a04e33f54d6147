// Internal to the routing service: between the engine (engine.hpp) and the ledger — committed
// events applied to an engine, the engine's decisions turned into system commands, and an
// engine rebuilt from the projections.
#pragma once

#include <string>
#include <vector>

#include "ledger/event.hpp"
#include "routing/engine.hpp"
#include "routing/service_model.hpp"

namespace opsbox::routing::detail {

// Applies one committed routing event to the tenant's engine. Idempotent against the engine's
// own proposals: an event the engine already reflects (its reservation, timeout, wrap-up end,
// escalation) changes nothing. Returns false when the engine disagrees and must be rebuilt.
// `follow_up` receives commands the engine's view requires (a skipped workflow target).
bool ApplyEvent(Engine& engine, const ledger::Event& e, const Json& payload,
                std::vector<ledger::Command>& follow_up);

// The system commands for the engine's decisions at `now` (Tick and Dispatch).
void DecisionsToCommands(const std::string& tenant, const Decisions& d, Instant now,
                         std::vector<ledger::Command>& out);

// A new engine holding exactly the state of the projections in `snap`.
Result<Engine> BuildEngine(const Snapshot& snap);

// The engine's state as JSON (tasks and workers), for restart comparisons.
Json EngineJson(const Engine& engine);

// The engine names reservations "<task_id>/r<n>"; on the ledger and in URLs they are
// "<task_id>.r<n>" (a path segment). Only the last separator is swapped.
std::string PublicReservationId(std::string_view engine_id);
std::string EngineReservationId(std::string_view public_id);

WorkerSpec ToWorkerSpec(const Json& worker_upserted);
QueueSpec ToQueueSpec(const Json& task_queue_upserted);
WorkflowSpec ToWorkflowSpec(const Json& workflow_upserted);

}  // namespace opsbox::routing::detail
