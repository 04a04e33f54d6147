// Fresh databases for tests, on every backend (STYLE.md house rule 7: one conformance suite, two
// backends). Used by every *_dbtest through opsbox_dbtest() in the top-level CMakeLists.
//
// PostgreSQL: the URL of a running server is read from the file named by the environment
// variable OPSBOX_PG_URL_FILE (CTest sets it; the pg_start fixture writes the file with
// scripts/pg-tmp). Without it the PostgreSQL case fails with an error saying so: it never skips.
//
// Thread safety: NewTestDatabase may be called from any thread. Databases and their temp
// files/databases are removed at process exit.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace opsbox::store {

// Every dialect the conformance suite runs on: SQLite and PostgreSQL.
std::vector<Dialect> TestDialects();

// A new, empty, migrated database: SQLite in a new file under a fresh temp dir; PostgreSQL as
// a new database `opsbox_t_<random hex>` on the test server. The caller owns it.
Result<std::unique_ptr<Database>> NewTestDatabase(Dialect dialect);

// "Sqlite" / "Postgres".
const char* DialectName(Dialect dialect);

// For gtest: lets testing::PrintToStringParamName name parameterised tests Sqlite/Postgres.
void PrintTo(Dialect dialect, std::ostream* os);

// A value-parameterised fixture whose db_ is a fresh migrated database of GetParam().
// Use with INSTANTIATE_TEST_SUITE_P(All, MyTest, testing::ValuesIn(TestDialects()),
//                                   testing::PrintToStringParamName());
class DbTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    auto db = NewTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(db).value();
  }
  std::unique_ptr<Database> db_;
};

}  // namespace opsbox::store
