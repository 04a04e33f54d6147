// The composition root: the only place that names concrete backends (SQLite or PostgreSQL,
// the Beast HTTP server and client) and wires modules together (STYLE.md "Layout").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "core/json.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace opsbox::ledger {
class Writer;
}  // namespace opsbox::ledger

namespace opsbox::app {

inline constexpr std::string_view kVersion = "0.1.0";

// Opens the database a URL names: "sqlite:PATH" or "postgresql://…" / "postgres://…".
Result<std::unique_ptr<store::Database>> OpenDatabase(const std::string& url,
                                                      const Config& config);

// A running server: database, ledger writer, checkpointer, outbox worker, HTTP server.
class Server {
 public:
  explicit Server(Config config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens and migrates the database, starts every component and binds the listener.
  Status Start();
  uint16_t port() const;
  // Graceful: stop accepting, finish in-flight requests and commands, checkpoint what the
  // writer appended, stop the outbox. Idempotent.
  void Stop();

 private:
  struct Parts;
  Config config_;
  std::unique_ptr<Parts> parts_;
};

// A writer-backed session for CLI commands (admin, migrate): opens the database, registers
// every module and starts a writer. Submits commands as actor "cli:<os user>".
class Offline {
 public:
  static Result<std::unique_ptr<Offline>> Open(const std::string& db_url, const Config& config);
  ~Offline();
  Result<Json> Submit(const std::string& tenant, const std::string& type, Json payload);
  store::Database& db();
  // Signs a checkpoint for the tenant's new events (so CLI changes are covered too).
  Status Checkpoint(const std::string& tenant);
  // Every event type the registered modules can emit (ledger::Registry::EventTypes).
  std::vector<std::string> EventTypes() const;
  // For CLI commands that submit many commands of their own (collections import): the
  // writer, and the actor commands are submitted as.
  ledger::Writer& writer();
  const std::string& actor() const;

 private:
  Offline();
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace opsbox::app
