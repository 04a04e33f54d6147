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
};

Result<std::unique_ptr<Database>> OpenSqlite(const SqliteOptions& options);

}  // namespace opsbox::store
