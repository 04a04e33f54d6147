// Goal: both backends honour the store.hpp contract identically — migrations, value round trips,
// placeholders, upserts, conflicts, transaction visibility and rollback, batches, the reader
// pool and the fault-injecting wrapper — so that code above store/ never sees a dialect.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <thread>

#include "store/store.hpp"
#include "store/testing/faulty_store.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::store {
namespace {

constexpr std::string_view kCreateKv =
    "CREATE TABLE kv (k TEXT PRIMARY KEY, n BIGINT, t TEXT)";
constexpr std::string_view kInsertKv = "INSERT INTO kv (k, n, t) VALUES (?, ?, ?)";
constexpr std::string_view kCountKv = "SELECT COUNT(*) FROM kv";

class ConformanceTest : public DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (HasFatalFailure()) return;
    conn_ = Connect();
    ASSERT_TRUE(conn_->Exec(kCreateKv).ok());
  }

  std::unique_ptr<Connection> Connect() {
    auto c = db_->Connect();
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  static int64_t Count(Connection& c) {
    auto rows = c.Query(kCountKv);
    EXPECT_TRUE(rows.ok()) << rows.error().ToString();
    return rows.ok() && !rows->empty() ? (*rows)[0].Int(0) : -1;
  }

  static std::unique_ptr<Tx> Begin(Connection& c) {
    auto tx = c.Begin();
    EXPECT_TRUE(tx.ok()) << tx.error().ToString();
    return tx.ok() ? std::move(tx).value() : nullptr;
  }

  std::unique_ptr<Connection> conn_;
};

TEST_P(ConformanceTest, MigrationsReapplyIdempotentlyAndReportTheLatestVersion) {
  auto version = db_->SchemaVersion();
  ASSERT_TRUE(version.ok()) << version.error().ToString();
  EXPECT_EQ(*version, Migrations().back().version);
  ASSERT_TRUE(db_->Migrate().ok());
  ASSERT_TRUE(db_->Migrate().ok());
  auto rows = conn_->Query("SELECT COUNT(*), MAX(version) FROM schema_migrations");
  ASSERT_TRUE(rows.ok()) << rows.error().ToString();
  EXPECT_EQ((*rows)[0].Int(0), static_cast<int64_t>(Migrations().size()));
  EXPECT_EQ((*rows)[0].Int(1), Migrations().back().version);
}

TEST_P(ConformanceTest, ConcurrentMigratorsBothSucceed) {
  Status a, b;
  std::thread other([&] { a = db_->Migrate(); });
  b = db_->Migrate();
  other.join();
  EXPECT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ(*db_->SchemaVersion(), Migrations().back().version);
}

TEST_P(ConformanceTest, RoundTripsNullIntegerExtremesEmptyAndUnicodeText) {
  const std::string unicode = "h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82";
  const std::vector<Value> rows[] = {
      {std::string("a"), Null(), Null()},
      {std::string("b"), std::numeric_limits<int64_t>::min(), std::string()},
      {std::string("c"), std::numeric_limits<int64_t>::max(), unicode},
  };
  for (const auto& row : rows) ASSERT_TRUE(conn_->Exec(kInsertKv, row).ok());
  auto got = conn_->Query("SELECT k, n, t FROM kv ORDER BY k");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  ASSERT_EQ(got->size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*got)[i].values, rows[i]) << "row " << i;
  const Value key = std::string("c");
  auto one = conn_->Query("SELECT t FROM kv WHERE k = ?", std::span(&key, 1));
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].Text(0), unicode);
}

TEST_P(ConformanceTest, QuestionMarkInsideQuotedLiteralIsNotAPlaceholder) {
  const Value n = int64_t{42};
  auto ins = conn_->Exec("INSERT INTO kv (k, n, t) VALUES ('why?', ?, 'it''s ? here')",
                         std::span(&n, 1));
  ASSERT_TRUE(ins.ok()) << ins.error().ToString();
  auto got = conn_->Query("SELECT k, n, t FROM kv WHERE t = 'it''s ? here' AND n = ?",
                          std::span(&n, 1));
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].Text(0), "why?");
  EXPECT_EQ((*got)[0].Int(1), 42);
}

TEST_P(ConformanceTest, UpsertDoUpdateReplacesAndDoNothingKeeps) {
  const std::vector<Value> first = {std::string("k"), int64_t{1}, std::string("one")};
  const std::vector<Value> second = {std::string("k"), int64_t{2}, std::string("two")};
  const std::vector<Value> third = {std::string("k"), int64_t{3}, std::string("three")};
  ASSERT_TRUE(conn_->Exec(kInsertKv, first).ok());
  auto updated = conn_->Exec(
      "INSERT INTO kv (k, n, t) VALUES (?, ?, ?) ON CONFLICT (k) DO UPDATE SET n = excluded.n, "
      "t = excluded.t",
      second);
  ASSERT_TRUE(updated.ok()) << updated.error().ToString();
  EXPECT_EQ(*updated, 1);
  auto kept = conn_->Exec("INSERT INTO kv (k, n, t) VALUES (?, ?, ?) ON CONFLICT (k) DO NOTHING",
                          third);
  ASSERT_TRUE(kept.ok()) << kept.error().ToString();
  EXPECT_EQ(*kept, 0);
  auto got = conn_->Query("SELECT n, t FROM kv");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].Int(0), 2);
  EXPECT_EQ((*got)[0].Text(1), "two");
}

TEST_P(ConformanceTest, UniqueViolationIsAConflict) {
  const std::vector<Value> row = {std::string("dup"), int64_t{1}, std::string("x")};
  ASSERT_TRUE(conn_->Exec(kInsertKv, row).ok());
  auto again = conn_->Exec(kInsertKv, row);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(again.error().rule, "unique");
  EXPECT_EQ(Count(*conn_), 1);
}

TEST_P(ConformanceTest, WrongParameterCountIsInvalidArgument) {
  const Value one = std::string("x");
  auto r = conn_->Exec(kInsertKv, std::span(&one, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(ConformanceTest, ExecReturnsChangedRowCountAndAggregatesReadAsIntegers) {
  for (int64_t i = 1; i <= 3; ++i) {
    ASSERT_TRUE(conn_->Exec(kInsertKv, std::vector<Value>{std::to_string(i), i, Null()}).ok());
  }
  const Value min = int64_t{2};
  auto changed = conn_->Exec("UPDATE kv SET t = 'big' WHERE n >= ?", std::span(&min, 1));
  ASSERT_TRUE(changed.ok()) << changed.error().ToString();
  EXPECT_EQ(*changed, 2);
  auto sum = conn_->Query("SELECT SUM(n), COUNT(*) FROM kv");
  ASSERT_TRUE(sum.ok()) << sum.error().ToString();
  EXPECT_EQ((*sum)[0].Int(0), 6);
  EXPECT_EQ((*sum)[0].Int(1), 3);
}

TEST_P(ConformanceTest, DestroyedUncommittedTxRollsBack) {
  {
    auto tx = Begin(*conn_);
    ASSERT_NE(tx, nullptr);
    ASSERT_TRUE(tx->Exec(kInsertKv, std::vector<Value>{std::string("a"), Null(), Null()}).ok());
  }
  EXPECT_EQ(Count(*conn_), 0);
  auto tx = Begin(*conn_);
  ASSERT_NE(tx, nullptr);
  ASSERT_TRUE(tx->Exec(kInsertKv, std::vector<Value>{std::string("b"), Null(), Null()}).ok());
  tx->Rollback();
  EXPECT_FALSE(tx->Commit().ok());
  EXPECT_EQ(Count(*conn_), 0);
}

TEST_P(ConformanceTest, CommittedDataIsVisibleFromAnotherConnection) {
  auto tx = Begin(*conn_);
  ASSERT_NE(tx, nullptr);
  ASSERT_TRUE(tx->Exec(kInsertKv, std::vector<Value>{std::string("a"), int64_t{1}, Null()}).ok());
  ASSERT_TRUE(tx->Commit().ok());
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(Count(*other), 1);
}

TEST_P(ConformanceTest, ReaderOnAnotherConnectionNeitherBlocksNorSeesUncommittedRows) {
  auto tx = Begin(*conn_);
  ASSERT_NE(tx, nullptr);
  ASSERT_TRUE(tx->Exec(kInsertKv, std::vector<Value>{std::string("a"), int64_t{1}, Null()}).ok());
  auto reader = Connect();
  ASSERT_NE(reader, nullptr);
  // Returns while the writer's transaction is open (a blocked reader would hang or be BUSY).
  EXPECT_EQ(Count(*reader), 0);
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_EQ(Count(*reader), 1);
}

std::vector<std::vector<Value>> BatchRows(int64_t n) {
  std::vector<std::vector<Value>> rows;
  for (int64_t i = 0; i < n; ++i) {
    rows.push_back({"key" + std::to_string(i), i, "text " + std::to_string(i)});
  }
  return rows;
}

TEST_P(ConformanceTest, ExecBatchInsertsAllRowsInOneTx) {
  const auto rows = BatchRows(1200);  // more than one PostgreSQL pipeline chunk
  auto reader = Connect();
  ASSERT_NE(reader, nullptr);
  {
    auto tx = Begin(*conn_);
    ASSERT_NE(tx, nullptr);
    ASSERT_TRUE(tx->ExecBatch(kInsertKv, rows).ok());
    EXPECT_EQ(Count(*reader), 0);
  }
  EXPECT_EQ(Count(*reader), 0);
  auto tx = Begin(*conn_);
  ASSERT_NE(tx, nullptr);
  auto batch = tx->ExecBatch(kInsertKv, rows);
  ASSERT_TRUE(batch.ok()) << batch.error().ToString();
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_EQ(Count(*reader), 1200);
  auto last = reader->Query("SELECT n, t FROM kv WHERE k = 'key1199'");
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 1u);
  EXPECT_EQ((*last)[0].Int(0), 1199);
  EXPECT_EQ((*last)[0].Text(1), "text 1199");
}

TEST_P(ConformanceTest, ExecBatchWithADuplicateRowIsAConflictAndCommitsNothing) {
  auto rows = BatchRows(600);
  rows.push_back(rows[3]);
  {
    auto tx = Begin(*conn_);
    ASSERT_NE(tx, nullptr);
    auto batch = tx->ExecBatch(kInsertKv, rows);
    ASSERT_FALSE(batch.ok());
    EXPECT_EQ(batch.error().code, ErrorCode::kConflict);
  }
  EXPECT_EQ(Count(*conn_), 0);
  // The connection is usable after the failed batch.
  auto tx = Begin(*conn_);
  ASSERT_NE(tx, nullptr);
  ASSERT_TRUE(tx->ExecBatch(kInsertKv, std::span(rows).first(10)).ok());
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_EQ(Count(*conn_), 10);
}

TEST_P(ConformanceTest, ExecBatchAppliesUpsertsAndUpdatesInRowOrder) {
  const std::vector<std::vector<Value>> upserts = {
      {std::string("a"), int64_t{1}, std::string("first")},
      {std::string("b"), int64_t{2}, std::string("b")},
      {std::string("a"), int64_t{3}, std::string("second")},
  };
  auto tx = Begin(*conn_);
  ASSERT_NE(tx, nullptr);
  auto up = tx->ExecBatch(
      "INSERT INTO kv (k, n, t) VALUES (?, ?, ?) ON CONFLICT (k) DO UPDATE SET n = excluded.n, "
      "t = excluded.t",
      upserts);
  ASSERT_TRUE(up.ok()) << up.error().ToString();
  const std::vector<std::vector<Value>> updates = {{int64_t{10}, std::string("b")},
                                                   {int64_t{20}, std::string("b")}};
  auto upd = tx->ExecBatch("UPDATE kv SET n = n + ? WHERE k = ?", updates);
  ASSERT_TRUE(upd.ok()) << upd.error().ToString();
  ASSERT_TRUE(tx->Commit().ok());
  auto got = conn_->Query("SELECT k, n, t FROM kv ORDER BY k");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].Int(1), 3);
  EXPECT_EQ((*got)[0].Text(2), "second");
  EXPECT_EQ((*got)[1].Int(1), 32);
}

TEST_P(ConformanceTest, ExecBatchInsertDoNothingSkipsDuplicatesWithinTheBatch) {
  auto rows = BatchRows(5);
  rows.push_back({std::string("key2"), int64_t{99}, std::string("dup")});
  auto tx = Begin(*conn_);
  ASSERT_NE(tx, nullptr);
  auto r = tx->ExecBatch("INSERT INTO kv (k, n, t) VALUES (?, ?, ?) ON CONFLICT (k) DO NOTHING",
                         rows);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_EQ(Count(*conn_), 5);
  auto two = conn_->Query("SELECT n FROM kv WHERE k = 'key2'");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ((*two)[0].Int(0), 2);
}

TEST_P(ConformanceTest, PoolLimitsConnectionsAndHandsThemBack) {
  Pool pool(*db_, 2, /*acquire_timeout_ms=*/600'000);
  auto a = pool.Acquire();
  auto b = pool.Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  Connection* first = &**a;
  EXPECT_NE(first, &**b);
  std::atomic<bool> got_third{false};
  Connection* third = nullptr;
  std::thread waiter([&] {
    auto c = pool.Acquire();
    ASSERT_TRUE(c.ok());
    third = &**c;
    got_third = true;
    EXPECT_EQ(Count(**c), 0);
  });
  // Both connections are leased, so the waiter cannot have one yet.
  EXPECT_FALSE(got_third.load());
  { Pool::Lease returned = std::move(a).value(); }
  waiter.join();
  EXPECT_TRUE(got_third.load());
  EXPECT_EQ(third, first);  // the returned connection was handed to the waiter
}

TEST_P(ConformanceTest, PoolAcquireGivesUpAfterItsTimeoutNamingTheRule) {
  Pool pool(*db_, 1, /*acquire_timeout_ms=*/50);
  auto held = pool.Acquire();
  ASSERT_TRUE(held.ok());
  auto refused = pool.Acquire();  // every connection stays leased: waits 50 ms, then gives up
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(refused.error().rule, "pool_exhausted");
  { Pool::Lease returned = std::move(held).value(); }
  auto again = pool.Acquire();
  ASSERT_TRUE(again.ok()) << again.error().ToString();
}

TEST_P(ConformanceTest, PoolReplacesADiscardedConnection) {
  Pool pool(*db_, 1);
  {
    auto a = pool.Acquire();
    ASSERT_TRUE(a.ok());
    Pool::Lease moved = std::move(a).value();  // the moved-from lease must not free a slot
    moved.Discard();
  }
  auto b = pool.Acquire();
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ(Count(**b), 0);
}

TEST_P(ConformanceTest, FaultyDatabaseFailsTheChosenCommitsAndKeepsNothingOfThem) {
  auto inner = NewTestDatabase(GetParam());
  ASSERT_TRUE(inner.ok()) << inner.error().ToString();
  FaultyDatabase db(std::move(inner).value());
  auto conn = db.Connect();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Exec(kCreateKv).ok());
  auto insert = [&](const std::string& k) -> Status {
    OPSBOX_ASSIGN_OR_RETURN(auto tx, (*conn)->Begin());
    OPSBOX_TRY(tx->Exec(kInsertKv, std::vector<Value>{k, Null(), Null()}));
    return tx->Commit();
  };
  db.FailNthCommit(2);
  EXPECT_TRUE(insert("a").ok());
  Status failed = insert("b");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(insert("c").ok());
  db.SetFailCommits(true);
  EXPECT_FALSE(insert("d").ok());
  db.SetFailCommits(false);
  EXPECT_TRUE(insert("e").ok());
  EXPECT_EQ(db.commits_failed(), 2);
  auto keys = (*conn)->Query("SELECT k FROM kv ORDER BY k");
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].Text(0), "a");
  EXPECT_EQ((*keys)[1].Text(0), "c");
  EXPECT_EQ((*keys)[2].Text(0), "e");
}

TEST_P(ConformanceTest, WriterShardsMaxIsOneOnSqliteAndAtLeastOneElsewhere) {
  if (GetParam() == Dialect::kSqlite) {
    EXPECT_EQ(db_->WriterShardsMax(), 1);
  } else {
    EXPECT_GE(db_->WriterShardsMax(), 1);
  }
}

TEST_P(ConformanceTest, QueryEachStreamsEveryRowInOrderAndStopsAtTheFirstError) {
  auto tx = Begin(*conn_);
  std::vector<std::vector<Value>> rows;
  for (int i = 0; i < 2500; ++i) rows.push_back({"k" + std::to_string(10000 + i), int64_t{i}, Null()});
  ASSERT_TRUE(tx->ExecBatch(kInsertKv, rows).ok());
  int64_t seen = 0;
  int64_t sum = 0;
  auto st = tx->QueryEach("SELECT n, t FROM kv ORDER BY k", {}, [&](const Row& r) -> Status {
    EXPECT_EQ(r.Int(0), seen);
    EXPECT_TRUE(r.IsNull(1));
    ++seen;
    sum += r.Int(0);
    return Ok();
  });
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(seen, 2500);
  EXPECT_EQ(sum, 2499 * 2500 / 2);
  int64_t before_stop = 0;
  auto stopped = tx->QueryEach("SELECT n FROM kv ORDER BY k", {}, [&](const Row&) -> Status {
    if (++before_stop == 10) return Error::Internal("enough");
    return Ok();
  });
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().message, "enough");
  EXPECT_EQ(before_stop, 10);
  // The connection is still usable after a stopped stream.
  auto n = tx->Query("SELECT COUNT(*) FROM kv");
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ((*n)[0].Int(0), 2500);
  ASSERT_TRUE(tx->Commit().ok());
}

TEST_P(ConformanceTest, SnapshotSeesOneStateWhileAnotherConnectionCommits) {
  const Value row1[] = {std::string("a"), int64_t{1}, Null()};
  ASSERT_TRUE(conn_->Exec(kInsertKv, row1).ok());
  auto reader = Connect();
  auto snap = reader->BeginSnapshot();
  ASSERT_TRUE(snap.ok()) << snap.error().ToString();
  // The writer is not blocked by the open snapshot.
  const Value row2[] = {std::string("b"), int64_t{2}, Null()};
  ASSERT_TRUE(conn_->Exec(kInsertKv, row2).ok());
  auto in_snapshot = (*snap)->Query(kCountKv);
  ASSERT_TRUE(in_snapshot.ok()) << in_snapshot.error().ToString();
  EXPECT_EQ((*in_snapshot)[0].Int(0), 1);
  ASSERT_TRUE((*snap)->Commit().ok());
  EXPECT_EQ(Count(*reader), 2);
}

TEST_P(ConformanceTest, ListsApplicationTablesAndTheirColumnsInDeclarationOrder) {
  auto tx = Begin(*conn_);
  auto tables = ListTables(*tx, GetParam());
  ASSERT_TRUE(tables.ok()) << tables.error().ToString();
  EXPECT_TRUE(std::is_sorted(tables->begin(), tables->end()));
  EXPECT_NE(std::find(tables->begin(), tables->end(), "kv"), tables->end());
  EXPECT_NE(std::find(tables->begin(), tables->end(), "ledger_events"), tables->end());
  EXPECT_EQ(std::find(tables->begin(), tables->end(), "schema_migrations"), tables->end());
  auto cols = ListColumns(*tx, GetParam(), "kv");
  ASSERT_TRUE(cols.ok()) << cols.error().ToString();
  EXPECT_EQ(*cols, (std::vector<std::string>{"k", "n", "t"}));
  auto missing = ListColumns(*tx, GetParam(), "no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(ConformanceTest, AFailedMigrationLeavesTheDatabaseAsItWas) {
  std::vector<Migration> list = Migrations();
  const int64_t latest = list.back().version;
  list.push_back(Migration{latest + 1, "good", "CREATE TABLE mig_good (a BIGINT)",
                           "CREATE TABLE mig_good (a BIGINT)"});
  list.push_back(Migration{latest + 2, "bad", "CREATE TABLE mig_bad (a BIGINT);\nNOT SQL AT ALL",
                           "CREATE TABLE mig_bad (a BIGINT);\nNOT SQL AT ALL"});
  auto st = db_->MigrateWith(list, std::numeric_limits<int64_t>::max());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("migration " + std::to_string(latest + 2)), std::string::npos);
  auto version = db_->SchemaVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, latest);
  EXPECT_FALSE(conn_->Query("SELECT COUNT(*) FROM mig_good").ok());
  // Up to a bound, the good one applies alone.
  ASSERT_TRUE(db_->MigrateWith(list, latest + 1).ok());
  EXPECT_EQ(*db_->SchemaVersion(), latest + 1);
  EXPECT_TRUE(conn_->Query("SELECT COUNT(*) FROM mig_good").ok());
}

TEST_P(ConformanceTest, MigrationsRefuseADatabaseNewerThanTheBinary) {
  const int64_t latest = Migrations().back().version;
  const Value row[] = {latest + 1, std::string("from_a_later_release"), int64_t{0}};
  ASSERT_TRUE(conn_->Exec("INSERT INTO schema_migrations (version, name, applied_at_us) VALUES "
                          "(?, ?, ?)", row).ok());
  auto st = db_->Migrate();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().rule, "schema_newer");
  EXPECT_EQ(*db_->SchemaVersion(), latest + 1);
}

INSTANTIATE_TEST_SUITE_P(conformance, ConformanceTest, testing::ValuesIn(TestDialects()),
                         testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::store
