// Backend-independent parts of store.hpp: Row accessors, migrations and the reader pool.
#include "store/store.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <chrono>
#include <condition_variable>

#include "core/assert.hpp"

namespace opsbox::store {

int64_t Row::Int(size_t i) const {
  const Value& v = values.at(i);
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (std::holds_alternative<std::monostate>(v)) return 0;
  // PostgreSQL returns numeric for SUM(bigint) and the like: accept decimal text.
  const std::string& s = std::get<std::string>(v);
  int64_t out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  OPSBOX_ASSERT_MSG(ec == std::errc() && end == s.data() + s.size(),
                    "Row::Int on a column that holds non-integer text");
  return out;
}

const std::string& Row::Text(size_t i) const {
  static const std::string kEmpty;
  const Value& v = values.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  OPSBOX_ASSERT_MSG(std::holds_alternative<std::monostate>(v), "Row::Text on an integer column");
  return kEmpty;
}

namespace {

// Key of the PostgreSQL advisory lock that serialises concurrent migrators ("opsbox:m").
constexpr int64_t kMigrationLockKey = 0x6f7073626f783a6d;

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT "
    "NULL, applied_at_us BIGINT NOT NULL)";

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Takes the migration lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock),
// makes sure schema_migrations exists and returns the highest applied version.
Result<int64_t> LockAndReadVersion(Tx& tx, Dialect dialect) {
  if (dialect == Dialect::kPostgres) {
    const Value key = kMigrationLockKey;
    OPSBOX_TRY(tx.Query("SELECT pg_advisory_xact_lock(?)", std::span(&key, 1)));
  }
  OPSBOX_TRY(tx.Exec(kCreateMigrationsTable));
  OPSBOX_ASSIGN_OR_RETURN(Rows rows,
                          tx.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return rows.empty() ? int64_t{0} : rows[0].Int(0);
}

Status ApplyStatements(Tx& tx, std::string_view sql, int64_t version) {
  constexpr std::string_view kSeparator = ";\n";
  size_t begin = 0;
  while (begin <= sql.size()) {
    size_t end = sql.find(kSeparator, begin);
    if (end == std::string_view::npos) end = sql.size();
    std::string_view stmt = sql.substr(begin, end - begin);
    if (stmt.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      auto r = tx.Exec(stmt);
      if (!r.ok()) {
        Error e = std::move(r).error();
        e.message = "migration " + std::to_string(version) + ": " + e.message;
        return e;
      }
    }
    begin = end + kSeparator.size();
  }
  return Ok();
}

}  // namespace

Status Database::Migrate() {
  return MigrateWith(Migrations(), std::numeric_limits<int64_t>::max());
}

Status Database::MigrateWith(std::span<const Migration> migrations, int64_t version_max) {
  OPSBOX_ASSIGN_OR_RETURN(auto conn, Connect());
  OPSBOX_ASSIGN_OR_RETURN(auto tx, conn->Begin());
  OPSBOX_ASSIGN_OR_RETURN(int64_t current, LockAndReadVersion(*tx, conn->dialect()));
  const int64_t known = migrations.empty() ? 0 : migrations.back().version;
  if (current > known) {
    return Error::Conflict("schema_newer",
                           "the database is at schema version " + std::to_string(current) +
                               ", newer than this binary's " + std::to_string(known) +
                               ": it was written by a later release; run that release (or "
                               "restore a backup made by this one)");
  }
  int64_t previous = 0;
  for (const Migration& m : migrations) {
    OPSBOX_ASSERT_MSG(m.version > previous, "migrations must be in increasing version order");
    previous = m.version;
    if (m.version <= current || m.version > version_max) continue;
    const std::string& sql = conn->dialect() == Dialect::kSqlite ? m.sql_sqlite : m.sql_postgres;
    OPSBOX_TRY(ApplyStatements(*tx, sql, m.version));
    const Value row[] = {m.version, m.name, NowUs()};
    OPSBOX_TRY(tx->Exec(
        "INSERT INTO schema_migrations (version, name, applied_at_us) VALUES (?, ?, ?)", row));
  }
  return tx->Commit();
}

Status Tx::QueryEach(std::string_view sql, std::span<const Value> params,
                     const std::function<Status(const Row&)>& fn) {
  OPSBOX_ASSIGN_OR_RETURN(Rows rows, Query(sql, params));
  for (const Row& r : rows) OPSBOX_TRY(fn(r));
  return Ok();
}

Result<std::vector<std::string>> ListTables(Tx& tx, Dialect dialect) {
  const char* sql =
      dialect == Dialect::kSqlite
          ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> 'schema_migrations' ORDER BY name"
          : "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' AND table_name <> "
            "'schema_migrations' ORDER BY table_name";
  OPSBOX_ASSIGN_OR_RETURN(Rows rows, tx.Query(sql));
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(r.Text(0));
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<std::string>> ListColumns(Tx& tx, Dialect dialect, const std::string& table) {
  const char* sql = dialect == Dialect::kSqlite
                        ? "SELECT name FROM pragma_table_info(?) ORDER BY cid"
                        : "SELECT column_name FROM information_schema.columns WHERE "
                          "table_schema = current_schema() AND table_name = ? ORDER BY "
                          "ordinal_position";
  const Value param = table;
  OPSBOX_ASSIGN_OR_RETURN(Rows rows, tx.Query(sql, std::span(&param, 1)));
  if (rows.empty()) return Error::NotFound("no table named " + table);
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(r.Text(0));
  return out;
}

Result<int64_t> Database::SchemaVersion() {
  OPSBOX_ASSIGN_OR_RETURN(auto conn, Connect());
  const char* exists_sql =
      dialect() == Dialect::kSqlite
          ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = "
            "'schema_migrations'"
          : "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_name = 'schema_migrations'";
  OPSBOX_ASSIGN_OR_RETURN(Rows exists, conn->Query(exists_sql));
  if (exists.empty() || exists[0].Int(0) == 0) return int64_t{0};
  OPSBOX_ASSIGN_OR_RETURN(Rows rows,
                          conn->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return rows.empty() ? int64_t{0} : rows[0].Int(0);
}

// ---- Pool ----
//
// Lease's defaulted move leaves the source with a null connection, exactly like Discard() does,
// so the pool cannot count open connections from Release() calls. Instead every pooled
// connection is wrapped in a PooledConnection whose destructor gives its slot back: a discarded
// connection frees its slot when it is destroyed, a moved-from lease releases nothing.

struct Pool::State {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<Connection>> idle;
  size_t open = 0;  // connections alive, idle or leased
  size_t size_max = 0;
  int64_t acquire_timeout_ms = 0;
};

namespace {

class PooledConnection final : public Connection {
 public:
  PooledConnection(std::unique_ptr<Connection> inner, std::mutex& mu,
                   std::condition_variable& cv, size_t& open)
      : inner_(std::move(inner)), mu_(mu), cv_(cv), open_(open) {}
  ~PooledConnection() override {
    inner_.reset();
    {
      std::lock_guard lock(mu_);
      --open_;
    }
    cv_.notify_one();
  }
  Result<std::unique_ptr<Tx>> Begin() override { return inner_->Begin(); }
  Result<int64_t> Exec(std::string_view sql, std::span<const Value> params) override {
    return inner_->Exec(sql, params);
  }
  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    return inner_->Query(sql, params);
  }
  Dialect dialect() const override { return inner_->dialect(); }

 private:
  std::unique_ptr<Connection> inner_;
  std::mutex& mu_;
  std::condition_variable& cv_;
  size_t& open_;
};

}  // namespace

Pool::Pool(Database& db, size_t size_max, int64_t acquire_timeout_ms)
    : state_(std::make_unique<State>()), db_(db) {
  OPSBOX_ASSERT(size_max > 0 && acquire_timeout_ms > 0);
  state_->size_max = size_max;
  state_->acquire_timeout_ms = acquire_timeout_ms;
}

Pool::~Pool() {
  std::vector<std::unique_ptr<Connection>> idle;
  {
    std::lock_guard lock(state_->mu);
    idle.swap(state_->idle);
    OPSBOX_ASSERT_MSG(state_->open == idle.size(), "Pool destroyed while a Lease is alive");
  }
  idle.clear();
}

Pool::Lease::~Lease() {
  if (conn_ != nullptr) pool_->Release(std::move(conn_));
}

Result<Pool::Lease> Pool::Acquire() {
  State& s = *state_;
  {
    std::unique_lock lock(s.mu);
    if (!s.cv.wait_for(lock, std::chrono::milliseconds(s.acquire_timeout_ms),
                       [&] { return !s.idle.empty() || s.open < s.size_max; })) {
      return Error{ErrorCode::kUnavailable, "", "pool_exhausted",
                   "every database connection (" + std::to_string(s.size_max) +
                       ") stayed busy for " + std::to_string(s.acquire_timeout_ms) +
                       " ms; retry shortly"};
    }
    if (!s.idle.empty()) {
      std::unique_ptr<Connection> c = std::move(s.idle.back());
      s.idle.pop_back();
      return Lease(this, std::move(c));
    }
    ++s.open;  // reserve the slot; connect outside the lock
  }
  auto c = db_.Connect();
  if (!c.ok()) {
    {
      std::lock_guard lock(s.mu);
      --s.open;
    }
    s.cv.notify_one();
    return std::move(c).error();
  }
  return Lease(this, std::make_unique<PooledConnection>(std::move(c).value(), s.mu, s.cv, s.open));
}

void Pool::Release(std::unique_ptr<Connection> c) {
  {
    std::lock_guard lock(state_->mu);
    state_->idle.push_back(std::move(c));
  }
  state_->cv.notify_one();
}

}  // namespace opsbox::store
