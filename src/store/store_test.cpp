// Goal: the store's pure parts behave without a database server: the PostgreSQL placeholder
// rewriter, Row accessors, and option validation of both backends.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "store/postgres/placeholders.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

namespace opsbox::store {
namespace {

using detail::RewritePlaceholders;

TEST(RewritePlaceholders, NumbersPlaceholdersInOrder) {
  auto r = RewritePlaceholders("INSERT INTO t (a, b, c) VALUES (?, ?,?)");
  EXPECT_EQ(r.sql, "INSERT INTO t (a, b, c) VALUES ($1, $2,$3)");
  EXPECT_EQ(r.param_count, 3);
}

TEST(RewritePlaceholders, LeavesQuestionMarksInsideStringLiteralsAlone) {
  auto r = RewritePlaceholders("SELECT 'why?', ? WHERE x = 'it''s ? here' AND y = ?");
  EXPECT_EQ(r.sql, "SELECT 'why?', $1 WHERE x = 'it''s ? here' AND y = $2");
  EXPECT_EQ(r.param_count, 2);
}

TEST(RewritePlaceholders, LeavesQuotedIdentifiersAndCommentsAlone) {
  auto r = RewritePlaceholders("SELECT \"a?\" -- what?\n, ? /* x? /* nested? */ y? */ , ?");
  EXPECT_EQ(r.sql, "SELECT \"a?\" -- what?\n, $1 /* x? /* nested? */ y? */ , $2");
  EXPECT_EQ(r.param_count, 2);
}

TEST(RewritePlaceholders, CopiesUnterminatedLiteralVerbatim) {
  auto r = RewritePlaceholders("SELECT ?, 'open ?");
  EXPECT_EQ(r.sql, "SELECT $1, 'open ?");
  EXPECT_EQ(r.param_count, 1);
}

TEST(RewritePlaceholders, NumbersBeyondNineWithoutSeparatorsConfusion) {
  std::string sql;
  for (int i = 0; i < 12; ++i) sql += "?";
  auto r = RewritePlaceholders(sql);
  EXPECT_EQ(r.sql, "$1$2$3$4$5$6$7$8$9$10$11$12");
  EXPECT_EQ(r.param_count, 12);
}

TEST(RewritePlaceholders, KeepsSqlWithoutPlaceholdersUnchanged) {
  auto r = RewritePlaceholders("SELECT 1");
  EXPECT_EQ(r.sql, "SELECT 1");
  EXPECT_EQ(r.param_count, 0);
}

TEST(ParseMultiRowInsert, AcceptsPlainAndDoNothingInserts) {
  auto plain = detail::ParseMultiRowInsert("INSERT INTO t (a, b) VALUES (?, ?)");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->columns, 2);
  EXPECT_EQ(detail::BuildMultiRowInsert(*plain, 2),
            "INSERT INTO t (a, b) VALUES ($1,$2), ($3,$4)");
  auto nothing =
      detail::ParseMultiRowInsert("insert into t (a) values (?) ON CONFLICT (a) DO NOTHING");
  ASSERT_TRUE(nothing.has_value());
  EXPECT_EQ(detail::BuildMultiRowInsert(*nothing, 1),
            "insert into t (a) values ($1) ON CONFLICT (a) DO NOTHING");
}

TEST(ParseMultiRowInsert, RefusesStatementsWhoseRowsCouldInteract) {
  EXPECT_FALSE(detail::ParseMultiRowInsert(
      "INSERT INTO t (a) VALUES (?) ON CONFLICT (a) DO UPDATE SET a = excluded.a"));
  EXPECT_FALSE(detail::ParseMultiRowInsert("UPDATE t SET a = ? WHERE b = ?"));
  EXPECT_FALSE(detail::ParseMultiRowInsert("INSERT INTO t (a, b) VALUES (?, 'x')"));
  EXPECT_FALSE(detail::ParseMultiRowInsert("INSERT INTO t (a, b) VALUES (?, ?,)"));
  EXPECT_FALSE(detail::ParseMultiRowInsert("INSERT INTO t (a) VALUES (?) -- why?"));
  EXPECT_FALSE(detail::ParseMultiRowInsert("INSERT INTO t (my_values) VALUES (?)"));
}

TEST(Row, ReadsNullAsZeroAndEmptyText) {
  Row row{{Null(), int64_t{7}, std::string("x")}};
  EXPECT_TRUE(row.IsNull(0));
  EXPECT_EQ(row.Int(0), 0);
  EXPECT_EQ(row.Text(0), "");
  EXPECT_EQ(row.Int(1), 7);
  EXPECT_EQ(row.Text(2), "x");
}

TEST(Row, ReadsDecimalTextAsInteger) {
  Row row{{std::string("-9223372036854775808")}};
  EXPECT_EQ(row.Int(0), std::numeric_limits<int64_t>::min());
}

TEST(OpenSqlite, RejectsUnknownSynchronousMode) {
  auto db = OpenSqlite(SqliteOptions{.path = "/nonexistent/x.db", .synchronous = "OFF"});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(db.error().field, "sqlite.synchronous");
  EXPECT_EQ(db.error().rule, "enum");
}

TEST(OpenSqlite, RejectsEmptyPath) {
  auto db = OpenSqlite(SqliteOptions{});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().field, "sqlite.path");
}

TEST(OpenPostgres, RejectsEmptyUrlAndShardsOutOfRange) {
  auto no_url = OpenPostgres(PostgresOptions{});
  ASSERT_FALSE(no_url.ok());
  EXPECT_EQ(no_url.error().field, "postgres.url");
  auto shards = OpenPostgres(PostgresOptions{.url = "postgresql://x@127.0.0.1:1/x",
                                             .writer_shards = 0});
  ASSERT_FALSE(shards.ok());
  EXPECT_EQ(shards.error().field, "postgres.writer_shards");
}

TEST(OpenPostgres, ReportsUnreachableServerAsUnavailable) {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  auto db = OpenPostgres(PostgresOptions{.url = "postgresql://x@127.0.0.1:1/x"});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace opsbox::store
