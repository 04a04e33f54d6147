// The one storage interface (STYLE.md house rule 7). Two backends implement it: SQLite
// (store/sqlite) and PostgreSQL (store/postgres); one conformance suite (store/testing) runs
// against both. Dialect differences stay under store/.
//
// SQL given to this interface is a portable subset that both engines accept:
//   - placeholders are `?` (the PostgreSQL backend rewrites them to $1, $2, ... outside quotes);
//   - column types BIGINT and TEXT only (binary data travels hex-encoded in TEXT);
//   - upserts with INSERT ... ON CONFLICT (...) DO UPDATE/NOTHING; LIMIT n; no RETURNING.
// Values are NULL, 64-bit integers or UTF-8 text.
//
// Thread safety: a Connection and its Tx are used by one thread at a time. Database is
// thread-safe; Pool hands connections to concurrent readers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.hpp"

namespace opsbox::store {

using Value = std::variant<std::monostate, int64_t, std::string>;

inline Value Null() { return std::monostate{}; }

struct Row {
  std::vector<Value> values;

  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(values.at(i)); }
  // Integer column; NULL reads as 0.
  int64_t Int(size_t i) const;
  // Text column; NULL reads as "".
  const std::string& Text(size_t i) const;
};

using Rows = std::vector<Row>;

enum class Dialect { kSqlite, kPostgres };

// A transaction. Destroying an uncommitted Tx rolls it back.
class Tx {
 public:
  virtual ~Tx() = default;
  // Runs a statement; returns the number of rows it changed.
  virtual Result<int64_t> Exec(std::string_view sql, std::span<const Value> params = {}) = 0;
  virtual Result<Rows> Query(std::string_view sql, std::span<const Value> params = {}) = 0;
  // Runs the same statement once per parameter row (prepared once; batched where the engine
  // allows). Used by the ledger writer for event rows.
  virtual Status ExecBatch(std::string_view sql, std::span<const std::vector<Value>> rows) = 0;
  // Streams a query's rows to `fn` one at a time, so memory stays bounded by one row whatever
  // the result size (backups read whole tables this way); stops at the first error `fn`
  // returns and returns it. `fn` must not use this transaction. The default reads every row
  // with Query first; both backends override it with a streaming read.
  virtual Status QueryEach(std::string_view sql, std::span<const Value> params,
                           const std::function<Status(const Row&)>& fn);
  // Durable when it returns ok: on SQLite per the `synchronous` setting, on PostgreSQL per
  // synchronous_commit.
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
};

// One session with the database.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Result<std::unique_ptr<Tx>> Begin() = 0;
  // A read transaction over one consistent snapshot of the whole database that neither waits
  // for nor blocks the writer: on SQLite a WAL read transaction (BEGIN DEFERRED, snapshot taken
  // at once), on PostgreSQL BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY. Every query in it
  // sees the same committed state. The default (for wrappers) is Begin().
  virtual Result<std::unique_ptr<Tx>> BeginSnapshot() { return Begin(); }
  // Autocommit statements, outside any transaction.
  virtual Result<int64_t> Exec(std::string_view sql, std::span<const Value> params = {}) = 0;
  virtual Result<Rows> Query(std::string_view sql, std::span<const Value> params = {}) = 0;
  virtual Dialect dialect() const = 0;
};

struct Migration {
  int64_t version;
  std::string name;
  std::string sql_sqlite;    // statements separated by ";\n"
  std::string sql_postgres;  // usually identical to sql_sqlite
};

// All migrations in version order (store/migrations/migrations.cpp).
const std::vector<Migration>& Migrations();

// The application's tables in `tx`'s database, sorted by name: every table except
// schema_migrations and the engine's own (sqlite_*, PostgreSQL catalogs).
Result<std::vector<std::string>> ListTables(Tx& tx, Dialect dialect);
// A table's column names in declaration order; an unknown table is kNotFound.
Result<std::vector<std::string>> ListColumns(Tx& tx, Dialect dialect, const std::string& table);

class Database {
 public:
  virtual ~Database() = default;
  virtual Result<std::unique_ptr<Connection>> Connect() = 0;
  virtual Dialect dialect() const = 0;
  // How many ledger writer shards this backend supports committing in parallel (SQLite: 1,
  // because it has one write lock per file).
  virtual int WriterShardsMax() const = 0;
  // Applies every migration newer than the schema_migrations table records, all of them in
  // ONE transaction: a migration that fails leaves the database exactly as it was (schema and
  // recorded version). Refuses, changing nothing, a database whose recorded version is newer
  // than the newest migration this binary knows (kConflict, rule "schema_newer": it was made
  // by a later release). Safe to run on every start; concurrent starters serialise.
  Status Migrate();
  // Migrate with an explicit list (tests) and an upper bound: applies the pending migrations
  // of `migrations` whose version is <= version_max (restore builds the schema of a backup's
  // version, loads its rows, then migrates the rest).
  Status MigrateWith(std::span<const Migration> migrations, int64_t version_max);
  // The highest applied migration version (0 for an empty database).
  Result<int64_t> SchemaVersion();
};

// A bounded pool of connections for readers. Thread-safe.
class Pool {
 public:
  // size_max: connections kept open at most (further borrowers wait up to acquire_timeout_ms,
  // then get kUnavailable with rule "pool_exhausted", which the API answers 503 with
  // Retry-After: a reader never waits on an I/O thread without a bound).
  Pool(Database& db, size_t size_max, int64_t acquire_timeout_ms = kPoolAcquireTimeoutMsDefault);
  static constexpr int64_t kPoolAcquireTimeoutMsDefault = 2000;
  ~Pool();

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> c) : pool_(pool), conn_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }
    // Drops the connection instead of returning it (after an I/O error).
    void Discard() { conn_.reset(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  Result<Lease> Acquire();

 private:
  friend class Lease;
  void Release(std::unique_ptr<Connection> c);
  struct State;
  std::unique_ptr<State> state_;
  Database& db_;
};

}  // namespace opsbox::store
