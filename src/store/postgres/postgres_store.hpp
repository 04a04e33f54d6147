// PostgreSQL backend of store.hpp, through libpq.
#pragma once

#include <memory>
#include <string>

#include "store/store.hpp"

namespace opsbox::store {

struct PostgresOptions {
  std::string url;          // postgresql://user@host:port/db
  int writer_shards = 4;    // ledger shards committing in parallel
};

Result<std::unique_ptr<Database>> OpenPostgres(const PostgresOptions& options);

}  // namespace opsbox::store
