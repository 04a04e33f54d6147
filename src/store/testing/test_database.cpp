#include "store/testing/test_database.hpp"

#include <stdlib.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "core/random.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace opsbox::store {
namespace {

// What to remove at process exit: SQLite temp dirs and PostgreSQL test databases.
class Cleanup {
 public:
  static Cleanup& Get() {
    static Cleanup c;
    return c;
  }
  void AddDir(std::string dir) {
    std::lock_guard lock(mu_);
    dirs_.push_back(std::move(dir));
  }
  void AddPgDatabase(std::string admin_url, std::string name) {
    std::lock_guard lock(mu_);
    pg_.emplace_back(std::move(admin_url), std::move(name));
  }
  ~Cleanup() {
    for (const std::string& d : dirs_) {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
    for (const auto& [url, name] : pg_) {
      auto admin = OpenPostgres(PostgresOptions{.url = url});
      if (!admin.ok()) continue;
      auto conn = (*admin)->Connect();
      if (conn.ok()) (void)(*conn)->Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }
  }

 private:
  std::mutex mu_;
  std::vector<std::string> dirs_;
  std::vector<std::pair<std::string, std::string>> pg_;
};

std::string RandomHex(size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::array<uint8_t, 16> buf{};
  SystemRandom().Fill(std::span(buf.data(), bytes));
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    out.push_back(kHex[buf[i] >> 4]);
    out.push_back(kHex[buf[i] & 15]);
  }
  return out;
}

Result<std::unique_ptr<Database>> NewSqlite() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "opsbox-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return Error::Internal("mkdtemp failed for " + tmpl);
  Cleanup::Get().AddDir(tmpl);
  return OpenSqlite(SqliteOptions{.path = tmpl + "/opsbox.db"});
}

Result<std::string> ReadPgUrl() {
  const char* file = std::getenv("OPSBOX_PG_URL_FILE");
  if (file == nullptr || *file == '\0') {
    return Error::Unavailable(
        "PostgreSQL tests need a server: run them under ctest (the pg_start fixture starts "
        "one), or run `scripts/pg-tmp start DIR` and set OPSBOX_PG_URL_FILE=DIR/url");
  }
  std::ifstream in(file);
  std::string url;
  if (!in || !std::getline(in, url) || url.empty()) {
    return Error::Unavailable(std::string("cannot read a PostgreSQL URL from OPSBOX_PG_URL_FILE=") +
                              file + " (is the pg_start fixture / scripts/pg-tmp running?)");
  }
  return url;
}

// postgresql://user@host:port/db?opts -> the same URL naming database `name`.
Result<std::string> WithDatabase(const std::string& url, const std::string& name) {
  const size_t scheme = url.find("://");
  const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme == std::string::npos || slash == std::string::npos) {
    return Error::Invalid("OPSBOX_PG_URL_FILE", "format",
                          "expected postgresql://user@host:port/db, got " + url);
  }
  const size_t query = url.find('?', slash);
  return url.substr(0, slash + 1) + name + (query == std::string::npos ? "" : url.substr(query));
}

Result<std::unique_ptr<Database>> NewPostgres() {
  OPSBOX_ASSIGN_OR_RETURN(std::string url, ReadPgUrl());
  const std::string name = "opsbox_t_" + RandomHex(8);
  OPSBOX_ASSIGN_OR_RETURN(std::string db_url, WithDatabase(url, name));
  {
    OPSBOX_ASSIGN_OR_RETURN(auto admin, OpenPostgres(PostgresOptions{.url = url}));
    OPSBOX_ASSIGN_OR_RETURN(auto conn, admin->Connect());
    OPSBOX_TRY(conn->Exec("CREATE DATABASE " + name));
  }
  Cleanup::Get().AddPgDatabase(url, name);
  return OpenPostgres(PostgresOptions{.url = db_url});
}

}  // namespace

std::vector<Dialect> TestDialects() { return {Dialect::kSqlite, Dialect::kPostgres}; }

Result<std::unique_ptr<Database>> NewTestDatabase(Dialect dialect) {
  Cleanup::Get();  // constructed before any database, so destroyed after them
  OPSBOX_ASSIGN_OR_RETURN(auto db, dialect == Dialect::kSqlite ? NewSqlite() : NewPostgres());
  OPSBOX_TRY(db->Migrate());
  return db;
}

const char* DialectName(Dialect dialect) {
  return dialect == Dialect::kSqlite ? "Sqlite" : "Postgres";
}

void PrintTo(Dialect dialect, std::ostream* os) { *os << DialectName(dialect); }

}  // namespace opsbox::store
