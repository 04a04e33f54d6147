// Goal: checkpoints are signed over exactly the documented message, appear only when due, cover
// every stored event with the RFC 6962 root, survive a restart of the signer (rebuilt from the
// store), and are refused when the stored history no longer extends the latest checkpoint. The
// signing key file is created safely and a malformed one is reported with its path. Database
// tests run on SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/proofs_dbtest_util.hpp"
#include "ledger/reader.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::ledger {
namespace {

using testing::InsertEvents;
using testing::LeavesOf;
using testing::MakeChain;
using testing::MustExec;

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "opsbox-ckpt-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(CheckpointKey, IsCreatedOwnerOnlyWithParentsAndReloadedUnchanged) {
  InitCrypto();
  TempDir dir;
  std::string path = dir.path() + "/keys/nested/checkpoint.key";
  auto created = LoadOrCreateSigningKey(path);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.size(), 64u);

  auto loaded = LoadOrCreateSigningKey(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ(loaded->public_key, created->public_key);
  EXPECT_EQ(loaded->secret, created->secret);
}

TEST(CheckpointKey, MalformedFileIsAnErrorNamingThePath) {
  InitCrypto();
  TempDir dir;
  for (std::string content : {std::string("not a key\n"), std::string(64, 'z') + "\n",
                              std::string(62, 'a') + "\n", std::string(1000, 'a')}) {
    std::string path = dir.path() + "/bad.key";
    std::ofstream(path, std::ios::trunc) << content;
    auto r = LoadOrCreateSigningKey(path);
    ASSERT_FALSE(r.ok()) << content;
    EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
  }
}

TEST(CheckpointMessage, HasTheDocumentedLayoutAndTheJsonCarriesIt) {
  Checkpoint c;
  c.tenant_id = "acme";
  c.tree_size = 42;
  c.root_hash = std::string(64, 'a');
  c.signed_at = Instant{1790000000123456};
  EXPECT_EQ(CheckpointMessage(c),
            "opsbox-checkpoint-v1\nacme\n42\n" + std::string(64, 'a') + "\n1790000000123456\n");
  Json j = c.ToJson();
  EXPECT_EQ(j["signed_message"], CheckpointMessage(c));
  EXPECT_EQ(j["tree_size"], 42);
  EXPECT_EQ(j["signed_at"], FormatRfc3339(c.signed_at));
}

class CheckpointerTest : public store::DbTest {
 protected:
  void SetUp() override {
    InitCrypto();
    store::DbTest::SetUp();
    if (HasFatalFailure()) return;
    auto c = db_->Connect();
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    conn_ = std::move(c).value();
    key_ = GenerateSigningKey();
  }

  Result<std::optional<Checkpoint>> Run(Checkpointer& cp, bool force = false) {
    return cp.CheckpointTenant(*conn_, "acme", force);
  }

  SigningKey key_;
  ManualClock clock_{Instant{testing::kTestEpochUs}};
  std::unique_ptr<store::Connection> conn_;
};

TEST_P(CheckpointerTest, SignsOnlyWhenIntervalEventsAreNewOrWhenForced) {
  Checkpointer signer(*db_, key_, clock_, 5);
  auto events = MakeChain("acme", 13);
  auto none = Run(signer, true);
  ASSERT_TRUE(none.ok()) << none.error().ToString();
  EXPECT_FALSE(none->has_value()) << "no events: nothing to sign";

  InsertEvents(*conn_, {events.begin(), events.begin() + 3});
  auto r = Run(signer);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value()) << "3 < 5 new events";
  r = Run(signer, true);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->tree_size, 3);
  r = Run(signer, true);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value()) << "forced but nothing new";

  InsertEvents(*conn_, {events.begin() + 3, events.begin() + 7});
  r = Run(signer);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value()) << "4 < 5 new events";
  InsertEvents(*conn_, {events.begin() + 7, events.end()});
  clock_.Advance(Duration::Seconds(30));
  r = Run(signer);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_TRUE(r->has_value());
  const Checkpoint& c = **r;
  EXPECT_EQ(c.tenant_id, "acme");
  EXPECT_EQ(c.tree_size, 13);
  EXPECT_EQ(c.root_hash, HexEncode(RootOf(LeavesOf(events))));
  EXPECT_EQ(c.signed_at, clock_.Now());
  EXPECT_EQ(c.public_key, HexEncode(key_.public_key));
  EXPECT_EQ(c.key_id, CheckpointKeyId(key_.public_key));
  EXPECT_EQ(c.key_id.size(), 16u);
  EXPECT_TRUE(CheckpointSignatureValid(c));

  auto latest = LatestCheckpoint(*conn_, "acme");
  ASSERT_TRUE(latest.ok());
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->signature, c.signature);
  EXPECT_EQ((*latest)->root_hash, c.root_hash);
  EXPECT_EQ((*latest)->signed_at, c.signed_at);
}

TEST_P(CheckpointerTest, TamperedSignatureOrMessageDoesNotVerify) {
  Checkpointer signer(*db_, key_, clock_, 1);
  InsertEvents(*conn_, MakeChain("acme", 4));
  auto r = Run(signer);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  Checkpoint c = **r;
  EXPECT_TRUE(CheckpointSignatureValid(c));
  Checkpoint other_size = c;
  other_size.tree_size = 3;
  EXPECT_FALSE(CheckpointSignatureValid(other_size));
  Checkpoint other_key_id = c;
  other_key_id.key_id = "0000000000000000";
  EXPECT_FALSE(CheckpointSignatureValid(other_key_id));
  Checkpoint bad_hex = c;
  bad_hex.signature = "zz";
  EXPECT_FALSE(CheckpointSignatureValid(bad_hex));
}

TEST_P(CheckpointerTest, RestartedSignerRebuildsFromStoredEventsAndExtends) {
  auto events = MakeChain("acme", 40);
  InsertEvents(*conn_, {events.begin(), events.begin() + 17});
  {
    Checkpointer first(*db_, key_, clock_, 1);
    ASSERT_TRUE(Run(first).ok());
  }
  InsertEvents(*conn_, {events.begin() + 17, events.end()});
  Checkpointer second(*db_, key_, clock_, 1);
  auto r = Run(second);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->tree_size, 40);
  EXPECT_EQ((*r)->root_hash, HexEncode(RootOf(LeavesOf(events))));
}

TEST_P(CheckpointerTest, RefusesToSignARewrittenHistory) {
  auto events = MakeChain("acme", 10);
  InsertEvents(*conn_, events);
  {
    Checkpointer first(*db_, key_, clock_, 1);
    ASSERT_TRUE(Run(first).ok());
  }
  auto rewritten = testing::RewriteHistoryFrom(*conn_, events, 4);
  InsertEvents(*conn_, MakeChain("acme", 3, 11, rewritten.back().hash));
  Checkpointer restarted(*db_, key_, clock_, 1);
  auto r = Run(restarted);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().rule, "ledger_inconsistent");
  EXPECT_NE(r.error().message.find("events 1..10"), std::string::npos) << r.error().message;
}

TEST_P(CheckpointerTest, RefusesToSignWhenEventsWereRemoved) {
  auto events = MakeChain("acme", 10);
  InsertEvents(*conn_, events);
  Checkpointer signer(*db_, key_, clock_, 1);
  ASSERT_TRUE(Run(signer).ok());

  MustExec(*conn_, "DELETE FROM ledger_events WHERE tenant_id = 'acme' AND seq = 10");
  Checkpointer restarted(*db_, key_, clock_, 1);
  auto truncated = Run(restarted, true);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().rule, "ledger_inconsistent");

  InsertEvents(*conn_, {events.back()});
  InsertEvents(*conn_, MakeChain("acme", 3, 12, std::string(64, 'e')));
  auto gap = Run(signer, true);
  ASSERT_FALSE(gap.ok());
  EXPECT_NE(gap.error().message.find("event 11 is missing"), std::string::npos)
      << gap.error().message;
}

TEST_P(CheckpointerTest, CheckpointAllCoversEveryTenantWithNewEvents) {
  InsertEvents(*conn_, MakeChain("acme", 3));
  InsertEvents(*conn_, MakeChain("globex", 5));
  Checkpointer signer(*db_, key_, clock_, 1);
  auto st = signer.CheckpointAll();
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  for (auto [tenant, size] : {std::pair<std::string, int64_t>{"acme", 3}, {"globex", 5}}) {
    auto latest = LatestCheckpoint(*conn_, tenant);
    ASSERT_TRUE(latest.ok());
    ASSERT_TRUE(latest->has_value()) << tenant;
    EXPECT_EQ((*latest)->tree_size, size);
  }
}

INSTANTIATE_TEST_SUITE_P(All, CheckpointerTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::ledger
