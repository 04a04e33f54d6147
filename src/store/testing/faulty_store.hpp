// A Database wrapper that makes commits fail on demand, to test what callers do when the store
// is unavailable (e.g. the ledger writer must answer no command of a failed batch).
//
// A failed Commit rolls the inner transaction back and returns ErrorCode::kUnavailable, as if
// the server had gone away before the commit was durable. Everything else is forwarded.
//
// Thread safety: the fault controls may be called from any thread while connections of this
// database are used on others.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "store/store.hpp"

namespace opsbox::store {

class FaultyDatabase final : public Database {
 public:
  explicit FaultyDatabase(std::unique_ptr<Database> inner);

  // The n-th commit from now (n >= 1; 1 = the next) fails, through any connection.
  void FailNthCommit(int64_t n);
  // While set, every commit fails.
  void SetFailCommits(bool fail);
  // Commits attempted through this database so far (failed ones included).
  int64_t commits() const { return commits_.load(); }
  int64_t commits_failed() const { return commits_failed_.load(); }

  Result<std::unique_ptr<Connection>> Connect() override;
  Dialect dialect() const override { return inner_->dialect(); }
  int WriterShardsMax() const override { return inner_->WriterShardsMax(); }

  // Decides for one commit whether it fails; called by this database's transactions.
  bool NextCommitFails();

 private:
  std::unique_ptr<Database> inner_;
  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> commits_failed_{0};
  std::atomic<int64_t> fail_at_commit_{0};  // 1-based commit number to fail; 0 = none
  std::atomic<bool> fail_all_{false};
};

}  // namespace opsbox::store
