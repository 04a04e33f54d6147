#include "store/testing/faulty_store.hpp"

namespace opsbox::store {
namespace {

class FaultyTx final : public Tx {
 public:
  FaultyTx(std::unique_ptr<Tx> inner, FaultyDatabase& db) : inner_(std::move(inner)), db_(db) {}
  Result<int64_t> Exec(std::string_view sql, std::span<const Value> params) override {
    return inner_->Exec(sql, params);
  }
  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    return inner_->Query(sql, params);
  }
  Status ExecBatch(std::string_view sql, std::span<const std::vector<Value>> rows) override {
    return inner_->ExecBatch(sql, rows);
  }
  Status Commit() override {
    if (db_.NextCommitFails()) {
      inner_->Rollback();
      return Error::Unavailable("injected commit failure (FaultyDatabase)");
    }
    return inner_->Commit();
  }
  void Rollback() override { inner_->Rollback(); }

 private:
  std::unique_ptr<Tx> inner_;
  FaultyDatabase& db_;
};

class FaultyConnection final : public Connection {
 public:
  FaultyConnection(std::unique_ptr<Connection> inner, FaultyDatabase& db)
      : inner_(std::move(inner)), db_(db) {}
  Result<std::unique_ptr<Tx>> Begin() override {
    OPSBOX_ASSIGN_OR_RETURN(auto tx, inner_->Begin());
    return std::unique_ptr<Tx>(std::make_unique<FaultyTx>(std::move(tx), db_));
  }
  Result<int64_t> Exec(std::string_view sql, std::span<const Value> params) override {
    return inner_->Exec(sql, params);
  }
  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    return inner_->Query(sql, params);
  }
  Dialect dialect() const override { return inner_->dialect(); }

 private:
  std::unique_ptr<Connection> inner_;
  FaultyDatabase& db_;
};

}  // namespace

FaultyDatabase::FaultyDatabase(std::unique_ptr<Database> inner) : inner_(std::move(inner)) {}

void FaultyDatabase::FailNthCommit(int64_t n) { fail_at_commit_.store(commits_.load() + n); }

void FaultyDatabase::SetFailCommits(bool fail) { fail_all_.store(fail); }

bool FaultyDatabase::NextCommitFails() {
  const int64_t number = commits_.fetch_add(1) + 1;
  const bool fail = fail_all_.load() || number == fail_at_commit_.load();
  if (fail) commits_failed_.fetch_add(1);
  return fail;
}

Result<std::unique_ptr<Connection>> FaultyDatabase::Connect() {
  OPSBOX_ASSIGN_OR_RETURN(auto conn, inner_->Connect());
  return std::unique_ptr<Connection>(std::make_unique<FaultyConnection>(std::move(conn), *this));
}

}  // namespace opsbox::store
