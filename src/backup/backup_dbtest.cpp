// Goal: a bundle made from either backend restores into either backend with every row, ledger
// verify passing and each tenant's head and checkpoint equal to the manifest; restore refuses
// a non-empty target (unless told to replace it), a corrupted bundle and a wrong passphrase,
// and changes nothing when it refuses.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "backup/backup.hpp"
#include "core/crypto.hpp"
#include "core/time.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/proofs_dbtest_util.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::backup {
namespace {

using ledger::testing::InsertEvents;
using ledger::testing::MakeChain;

const std::string kPassphrase = "a long enough passphrase";

class BackupDbTest : public store::DbTest {
 protected:
  void SetUp() override {
    InitCrypto();
    store::DbTest::SetUp();
    if (HasFatalFailure()) return;
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("opsbox-backup-dbtest-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    InsertEvents(**conn, MakeChain("acme", 25));
    InsertEvents(**conn, MakeChain("globex", 7));
    ledger::Checkpointer cp(*db_, key_, clock_, 10);
    ASSERT_TRUE(cp.CheckpointTenant(**conn, "acme", true).ok());
    ASSERT_TRUE(cp.CheckpointTenant(**conn, "globex", true).ok());
    // Events after the latest checkpoint are in the backup too.
    InsertEvents(**conn, ledger::testing::MakeChain("acme", 3, 26, HeadHash(**conn, "acme")));
    std::ofstream(dir_ / "privacy-keys.json") << R"({"tenants":{"acme":"k1"}})";
    std::ofstream(dir_ / "ledger-signing.key") << std::string(64, '7') << "\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string HeadHash(store::Connection& c, const std::string& tenant) {
    const store::Value id = tenant;
    auto r = c.Query("SELECT hash FROM ledger_events WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1",
                     std::span(&id, 1));
    return r.ok() && !r->empty() ? (*r)[0].Text(0) : "";
  }

  static int64_t Count(store::Database& db, const std::string& table) {
    auto c = db.Connect();
    auto r = (*c)->Query("SELECT COUNT(*) FROM " + table);
    return r.ok() ? (*r)[0].Int(0) : -1;
  }

  std::vector<KeyFile> KeyFiles(const std::filesystem::path& dir) const {
    return {{"privacy-keys.json", (dir / "privacy-keys.json").string()},
            {"ledger-signing.key", (dir / "ledger-signing.key").string()}};
  }

  Result<BackupResult> Backup(const std::string& name, bool keys) {
    BackupOptions o;
    o.opsbox_version = "test";
    o.now_us = clock_.Now().us;
    o.key_files = KeyFiles(dir_);
    o.include_keys = keys;
    o.passphrase = keys ? kPassphrase : "";
    return CreateBackup(*db_, (dir_ / name).string(), o);
  }

  std::filesystem::path dir_;
  SigningKey key_ = GenerateSigningKey();
  ManualClock clock_{Instant{ledger::testing::kTestEpochUs}};
};

TEST_P(BackupDbTest, RestoresIntoEitherBackendWithEveryRowAndAVerifiedLedger) {
  auto made = Backup("b.obk", false);
  ASSERT_TRUE(made.ok()) << made.error().ToString();
  EXPECT_EQ(made->manifest.tenants.size(), 2u);
  EXPECT_EQ(made->manifest.tenants[0].head_seq, 28);
  EXPECT_EQ(made->manifest.tenants[0].checkpoint_tree_size, 25);
  EXPECT_FALSE(made->manifest.keys_included);
  EXPECT_NE(made->manifest.keys_note.find("NOT included"), std::string::npos);
  auto bundle = OpenBundle((dir_ / "b.obk").string());
  ASSERT_TRUE(bundle.ok()) << bundle.error().ToString();
  for (store::Dialect target_dialect : store::TestDialects()) {
    auto target = store::NewTestDatabase(target_dialect);
    ASSERT_TRUE(target.ok()) << target.error().ToString();
    auto report = Restore(*bundle, **target, {});
    ASSERT_TRUE(report.ok()) << report.error().ToString();
    EXPECT_TRUE(report->ok) << report->ToJson().dump();
    EXPECT_EQ(report->rows, made->rows);
    EXPECT_EQ(Count(**target, "ledger_events"), 35);
    EXPECT_EQ(Count(**target, "ledger_checkpoints"), 2);
    ASSERT_EQ(report->tenants.size(), 2u);
    EXPECT_EQ(report->tenants[0].events_checked, 28);
  }
}

TEST_P(BackupDbTest, RefusesANonEmptyTargetUnlessToldToReplaceIt) {
  ASSERT_TRUE(Backup("b.obk", false).ok());
  auto bundle = OpenBundle((dir_ / "b.obk").string());
  ASSERT_TRUE(bundle.ok());
  auto target = store::NewTestDatabase(GetParam());
  ASSERT_TRUE(target.ok());
  {
    auto c = (*target)->Connect();
    InsertEvents(**c, MakeChain("other", 4));
  }
  auto refused = Restore(*bundle, **target, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().rule, "target_not_empty");
  EXPECT_EQ(Count(**target, "ledger_events"), 4);
  RestoreOptions replace;
  replace.replace = true;
  auto replaced = Restore(*bundle, **target, replace);
  ASSERT_TRUE(replaced.ok()) << replaced.error().ToString();
  EXPECT_TRUE(replaced->ok);
  EXPECT_EQ(Count(**target, "ledger_events"), 35);
}

TEST_P(BackupDbTest, KeysComeBackOnlyWithTheRightPassphrase) {
  ASSERT_TRUE(Backup("k.obk", true).ok());
  auto bundle = OpenBundle((dir_ / "k.obk").string());
  ASSERT_TRUE(bundle.ok()) << bundle.error().ToString();
  EXPECT_TRUE(bundle->manifest.keys_included);
  const auto out = dir_ / "restored";
  auto target = store::NewTestDatabase(GetParam());
  ASSERT_TRUE(target.ok());
  RestoreOptions o;
  o.key_files = KeyFiles(out);
  o.passphrase = kPassphrase + "x";
  auto wrong = Restore(*bundle, **target, o);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().rule, "wrong_passphrase");
  EXPECT_EQ(Count(**target, "ledger_events"), 0);
  EXPECT_FALSE(std::filesystem::exists(out / "privacy-keys.json"));
  o.passphrase = kPassphrase;
  auto right = Restore(*bundle, **target, o);
  ASSERT_TRUE(right.ok()) << right.error().ToString();
  EXPECT_TRUE(right->ok);
  std::ifstream in(out / "privacy-keys.json");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, R"({"tenants":{"acme":"k1"}})");
  EXPECT_EQ(std::filesystem::status(out / "ledger-signing.key").permissions() &
                std::filesystem::perms::group_all,
            std::filesystem::perms::none);
}

TEST_P(BackupDbTest, ACorruptedEventsPartIsRefusedNamingIt) {
  ASSERT_TRUE(Backup("c.obk", false).ok());
  const std::string path = (dir_ / "c.obk").string();
  auto intact = OpenBundle(path);
  ASSERT_TRUE(intact.ok());
  for (const auto& p : intact->parts) {
    if (p.name != "table/ledger_events") continue;
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(p.offset + p.bytes / 2));
    f.put('#');
  }
  auto r = OpenBundle(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("table/ledger_events"), std::string::npos) << r.error().message;
}

TEST_P(BackupDbTest, ABackupNeverOverwritesAFile) {
  std::ofstream(dir_ / "exists.obk") << "x";
  auto r = Backup("exists.obk", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "exists");
}

TEST_P(BackupDbTest, ASchedulerRunWritesAVerifiableBundleAndKeepsOnlyTheNewest) {
  const auto folder = dir_ / "scheduled";
  std::filesystem::create_directories(folder);
  for (const char* old : {"opsbox-backup-20000101T000000Z.obk", "opsbox-backup-20000102T000000Z.obk"}) {
    std::ofstream(folder / old) << "old";
  }
  std::ofstream(folder / "notes.txt") << "not a bundle";
  BackupScheduler scheduler(*db_, ScheduleOptions{3600, folder.string(), 2, "test"});
  ASSERT_TRUE(scheduler.RunOnce().ok());
  const ScheduleStatus s = scheduler.status();
  EXPECT_EQ(s.successes, 1u);
  EXPECT_GT(s.last_bytes, 0u);
  EXPECT_EQ(s.State(s.last_success_at_us), "ok");
  EXPECT_FALSE(std::filesystem::exists(folder / "opsbox-backup-20000101T000000Z.obk"));
  EXPECT_TRUE(std::filesystem::exists(folder / "opsbox-backup-20000102T000000Z.obk"));
  EXPECT_TRUE(std::filesystem::exists(folder / "notes.txt"));
  auto bundle = OpenBundle(s.last_file);
  ASSERT_TRUE(bundle.ok()) << bundle.error().ToString();
  EXPECT_FALSE(bundle->manifest.keys_included);
}

TEST_P(BackupDbTest, OnlyTheNodeThatRunsScheduledBackupsWritesThemAndTheOthersStandBy) {
  const auto folder = dir_ / "cluster";
  bool here = false;
  ScheduleOptions options{3600, folder.string(), 2, "test"};
  options.runs_here = [&here] { return here; };
  BackupScheduler scheduler(*db_, options);
  ASSERT_TRUE(scheduler.RunIfHere().ok());
  ScheduleStatus s = scheduler.status();
  EXPECT_EQ(s.successes, 0u);
  EXPECT_TRUE(s.standby);
  EXPECT_FALSE(std::filesystem::exists(folder));
  here = true;  // this node took shard 0 over
  ASSERT_TRUE(scheduler.RunIfHere().ok());
  s = scheduler.status();
  EXPECT_EQ(s.successes, 1u);
  EXPECT_FALSE(s.standby);
  EXPECT_EQ(s.State(s.last_success_at_us), "ok");
}

TEST_P(BackupDbTest, AFailedSchedulerRunIsReportedAsFailing) {
  std::ofstream(dir_ / "a-file") << "x";
  BackupScheduler scheduler(*db_, ScheduleOptions{3600, (dir_ / "a-file").string(), 2, "test"});
  EXPECT_FALSE(scheduler.RunOnce().ok());
  const ScheduleStatus s = scheduler.status();
  EXPECT_EQ(s.failures, 1u);
  EXPECT_FALSE(s.last_error.empty());
  EXPECT_EQ(s.State(s.last_failure_at_us), "failing");
}

INSTANTIATE_TEST_SUITE_P(All, BackupDbTest, testing::ValuesIn(store::TestDialects()),
                         testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::backup
