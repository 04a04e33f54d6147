// SQLite backend: one sqlite3 handle per Connection (SQLITE_OPEN_NOMUTEX: a connection is used by
// one thread at a time), WAL journal, prepared statements cached per connection.
#include "store/sqlite/sqlite_store.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <filesystem>
#include <string>
#include <unordered_map>

#include "core/assert.hpp"

namespace opsbox::store {
namespace {

// Prepared statements kept per connection; past this the cache is emptied and refilled.
constexpr size_t kStatementCacheMax = 256;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

Error SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: {
      const int ext = db ? sqlite3_extended_errcode(db) : rc;
      const bool unique = ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY;
      return Error::Conflict(unique ? "unique" : "constraint", std::move(msg));
    }
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error::Unavailable(std::move(msg));
    default:
      return Error::Internal(std::move(msg));
  }
}

class SqliteConnection;

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(SqliteConnection& conn) : conn_(conn) {}
  ~SqliteTx() override { Rollback(); }
  Result<int64_t> Exec(std::string_view sql, std::span<const Value> params) override;
  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override;
  Status ExecBatch(std::string_view sql, std::span<const std::vector<Value>> rows) override;
  Status QueryEach(std::string_view sql, std::span<const Value> params,
                   const std::function<Status(const Row&)>& fn) override;
  Status Commit() override;
  void Rollback() override;

 private:
  Status CheckOpen() const {
    if (done_) return Error::Internal("transaction already committed or rolled back");
    return Ok();
  }
  SqliteConnection& conn_;
  bool done_ = false;
};

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    ClearCache();
    sqlite3_close_v2(db_);
  }

  Result<std::unique_ptr<Tx>> Begin() override {
    OPSBOX_TRY(Exec("BEGIN IMMEDIATE", {}));
    return std::unique_ptr<Tx>(std::make_unique<SqliteTx>(*this));
  }

  // A deferred transaction takes its WAL snapshot at its first read: read at once, so the
  // snapshot is the state at this call, not at the caller's first query.
  Result<std::unique_ptr<Tx>> BeginSnapshot() override {
    OPSBOX_TRY(Exec("BEGIN DEFERRED", {}));
    auto tx = std::make_unique<SqliteTx>(*this);
    OPSBOX_TRY(tx->Query("SELECT COUNT(*) FROM sqlite_master", {}));
    return std::unique_ptr<Tx>(std::move(tx));
  }

  Result<int64_t> Exec(std::string_view sql, std::span<const Value> params) override {
    OPSBOX_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    OPSBOX_TRY(Bind(stmt, params));
    OPSBOX_TRY(StepToDone(stmt));
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    OPSBOX_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    OPSBOX_TRY(Bind(stmt, params));
    Rows rows;
    const int ncol = sqlite3_column_count(stmt);
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Fail(stmt, rc, "query");
      Row& row = rows.emplace_back();
      row.values.reserve(static_cast<size_t>(ncol));
      for (int c = 0; c < ncol; ++c) row.values.push_back(ReadColumn(stmt, c));
    }
    sqlite3_reset(stmt);
    return rows;
  }

  Status QueryEach(std::string_view sql, std::span<const Value> params,
                   const std::function<Status(const Row&)>& fn) {
    OPSBOX_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    OPSBOX_TRY(Bind(stmt, params));
    const int ncol = sqlite3_column_count(stmt);
    Row row;
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Fail(stmt, rc, "query");
      row.values.clear();
      for (int c = 0; c < ncol; ++c) row.values.push_back(ReadColumn(stmt, c));
      if (Status st = fn(row); !st.ok()) {
        sqlite3_reset(stmt);
        return st;
      }
    }
    sqlite3_reset(stmt);
    return Ok();
  }

  Status ExecBatch(std::string_view sql, std::span<const std::vector<Value>> rows) {
    OPSBOX_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    for (const std::vector<Value>& row : rows) {
      OPSBOX_TRY(Bind(stmt, row));
      OPSBOX_TRY(StepToDone(stmt));
    }
    return Ok();
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  sqlite3* handle() const { return db_; }

 private:
  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
    if (sql.size() > INT_MAX) return Error::Invalid("sql", "max_bytes", "statement too long");
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare");
    if (stmt == nullptr) return Error::Invalid("sql", "required", "empty SQL statement");
    std::string_view rest(tail, static_cast<size_t>(sql.data() + sql.size() - tail));
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_finalize(stmt);
      return Error::Invalid("sql", "single_statement", "one statement per call");
    }
    if (cache_.size() >= kStatementCacheMax) ClearCache();
    cache_.emplace(std::string(sql), stmt);
    return stmt;
  }

  void ClearCache() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    cache_.clear();
  }

  // Text is bound SQLITE_STATIC: every execution runs to completion and resets within the call
  // that owns `params`, and each call rebinds every parameter.
  Status Bind(sqlite3_stmt* stmt, std::span<const Value> params) {
    if (static_cast<size_t>(sqlite3_bind_parameter_count(stmt)) != params.size()) {
      return Error::Invalid("sql", "param_count",
                            "statement takes " + std::to_string(sqlite3_bind_parameter_count(stmt)) +
                                " parameters, got " + std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int idx = static_cast<int>(i) + 1;
      const Value& v = params[i];
      int rc;
      if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *n);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(stmt, idx, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(stmt, idx);
      }
      if (rc != SQLITE_OK) return SqliteError(db_, rc, "bind");
    }
    return Ok();
  }

  Status StepToDone(sqlite3_stmt* stmt) {
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return Fail(stmt, rc, "exec");
    sqlite3_reset(stmt);
    return Ok();
  }

  Error Fail(sqlite3_stmt* stmt, int rc, std::string_view what) {
    Error e = SqliteError(db_, rc, what);
    sqlite3_reset(stmt);
    return e;
  }

  static Value ReadColumn(sqlite3_stmt* stmt, int c) {
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_INTEGER:
        return static_cast<int64_t>(sqlite3_column_int64(stmt, c));
      case SQLITE_NULL:
        return std::monostate{};
      default: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        const int n = sqlite3_column_bytes(stmt, c);
        return std::string(p ? p : "", static_cast<size_t>(n));
      }
    }
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> cache_;
};

Result<int64_t> SqliteTx::Exec(std::string_view sql, std::span<const Value> params) {
  OPSBOX_TRY(CheckOpen());
  return conn_.Exec(sql, params);
}

Result<Rows> SqliteTx::Query(std::string_view sql, std::span<const Value> params) {
  OPSBOX_TRY(CheckOpen());
  return conn_.Query(sql, params);
}

Status SqliteTx::ExecBatch(std::string_view sql, std::span<const std::vector<Value>> rows) {
  OPSBOX_TRY(CheckOpen());
  return conn_.ExecBatch(sql, rows);
}

Status SqliteTx::QueryEach(std::string_view sql, std::span<const Value> params,
                           const std::function<Status(const Row&)>& fn) {
  OPSBOX_TRY(CheckOpen());
  return conn_.QueryEach(sql, params, fn);
}

Status SqliteTx::Commit() {
  OPSBOX_TRY(CheckOpen());
  auto r = conn_.Exec("COMMIT", {});
  if (!r.ok()) {
    // A failed COMMIT can leave the transaction open (SQLITE_BUSY): end it here.
    Rollback();
    return std::move(r).error();
  }
  done_ = true;
  return Ok();
}

void SqliteTx::Rollback() {
  if (done_) return;
  done_ = true;
  if (!sqlite3_get_autocommit(conn_.handle())) (void)conn_.Exec("ROLLBACK", {});
}

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(SqliteOptions options) : options_(std::move(options)) {}
  ~SqliteDatabase() override {
    {
      std::lock_guard lock(checkpoint_mu_);
      checkpoint_stop_ = true;
    }
    checkpoint_cv_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
  }

  // Starts the background checkpointer (see SqliteOptions::checkpoint_interval_ms).
  Status StartCheckpointer() {
    if (options_.checkpoint_interval_ms <= 0) return Ok();
    OPSBOX_ASSIGN_OR_RETURN(auto conn, Connect());
    checkpointer_ = std::thread([this, c = std::move(conn)]() mutable {
      auto& sc = static_cast<SqliteConnection&>(*c);
      std::unique_lock lock(checkpoint_mu_);
      while (!checkpoint_stop_) {
        checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(options_.checkpoint_interval_ms),
                                [&] { return checkpoint_stop_; });
        lock.unlock();
        // PASSIVE: copies what it can without waiting for readers or the writer.
        sqlite3_wal_checkpoint_v2(sc.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr);
        lock.lock();
      }
    });
    return Ok();
  }

  Result<std::unique_ptr<Connection>> Connect() override {
    sqlite3* db = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(options_.path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
      Error e = SqliteError(db, rc, "open " + options_.path);
      sqlite3_close_v2(db);
      return e;
    }
    auto conn = std::make_unique<SqliteConnection>(db);
    sqlite3_busy_timeout(db, options_.busy_timeout_ms);
    // PRAGMA text comes from a validated enum, not from user input.
    const std::string pragmas[] = {
        "PRAGMA journal_mode=WAL", "PRAGMA synchronous=" + options_.synchronous,
        "PRAGMA foreign_keys=ON",
        options_.checkpoint_interval_ms > 0 ? "PRAGMA wal_autocheckpoint=0"
                                            : "PRAGMA wal_autocheckpoint=1000"};
    for (const std::string& p : pragmas) {
      char* err = nullptr;
      if (sqlite3_exec(db, p.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = p + ": " + (err ? err : "failed");
        sqlite3_free(err);
        return Error::Internal(std::move(msg));
      }
    }
    return std::unique_ptr<Connection>(std::move(conn));
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  int WriterShardsMax() const override { return 1; }

 private:
  SqliteOptions options_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_stop_ = false;
  std::thread checkpointer_;
};

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const SqliteOptions& options) {
  SqliteOptions o = options;
  if (o.path.empty()) return Error::Invalid("sqlite.path", "required", "database file path");
  o.synchronous = Upper(o.synchronous);
  if (o.synchronous != "FULL" && o.synchronous != "NORMAL") {
    return Error::Invalid("sqlite.synchronous", "enum",
                          "must be FULL or NORMAL, got '" + options.synchronous + "'");
  }
  if (o.busy_timeout_ms < 0) {
    return Error::Invalid("sqlite.busy_timeout_ms", "min", "must be >= 0");
  }
  const std::filesystem::path parent = std::filesystem::path(o.path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Error::Invalid("sqlite.path", "directory",
                            "cannot create " + parent.string() + ": " + ec.message());
    }
  }
  auto db = std::make_unique<SqliteDatabase>(std::move(o));
  // Open once now so a bad path fails at startup, and WAL mode is set on the file.
  OPSBOX_TRY(db->Connect());
  OPSBOX_TRY(db->StartCheckpointer());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace opsbox::store
