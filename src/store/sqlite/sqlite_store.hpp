// SQLite backend of store.hpp: one database file in WAL mode.
#pragma once

#include <memory>
#include <string>

#include "store/store.hpp"

namespace opsbox::store {

struct SqliteOptions {
  std::string path;                       // file path; created when missing
  std::string synchronous = "FULL";       // FULL (default, durable) or NORMAL
  int busy_timeout_ms = 5000;
  // > 0: WAL checkpoints run on a background connection every this many ms (PASSIVE, so they
  // never block the writer) instead of inside whichever COMMIT crosses SQLite's 1000-page
  // threshold, which lengthened the ledger writer's commits (bench/profile-notes.md).
  // 0: SQLite's automatic checkpoints.
  int checkpoint_interval_ms = 100;
};

Result<std::unique_ptr<Database>> OpenSqlite(const SqliteOptions& options);

}  // namespace opsbox::store
