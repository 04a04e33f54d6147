// PostgreSQL backend of store.hpp, through libpq.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "store/store.hpp"

namespace opsbox::store {

struct PostgresOptions {
  std::string url;          // postgresql://user@host:port/db
  int writer_shards = 4;    // ledger shards committing in parallel
};

Result<std::unique_ptr<Database>> OpenPostgres(const PostgresOptions& options);

class Listener;
// A new session on `url` that LISTENs on `channel` ([a-z_]+); see store/cluster.hpp.
Result<std::unique_ptr<Listener>> OpenPostgresListener(const std::string& url,
                                                       std::string_view channel);

}  // namespace opsbox::store
