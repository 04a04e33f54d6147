// Goal: VerifyTenant tells an auditor exactly what was done to a tenant's ledger. Events are
// written with a correct chain straight through SQL, checkpoints are signed, then the database
// is tampered with directly (altered payload, removed middle/first/last rows, reordered rows,
// forged rows, rewritten history, corrupted or untrusted checkpoint signatures); each test
// asserts the first bad seq and the operator-facing reason. Runs on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/proofs_dbtest_util.hpp"
#include "ledger/verify.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::ledger {
namespace {

using testing::InsertEvents;
using testing::MakeChain;
using testing::MakeEvent;
using testing::MustExec;

SigningKey KeyFromByte(uint8_t b) {
  std::array<uint8_t, 32> seed;
  seed.fill(b);
  return *SigningKeyFromSeed(seed);
}

class VerifyTest : public store::DbTest {
 protected:
  void SetUp() override {
    InitCrypto();
    store::DbTest::SetUp();
    if (HasFatalFailure()) return;
    auto c = db_->Connect();
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    conn_ = std::move(c).value();
    checkpointer_ = std::make_unique<Checkpointer>(*db_, key_, clock_, 10);
  }

  void SignCheckpoint(const std::string& tenant) {
    auto cp = checkpointer_->CheckpointTenant(*conn_, tenant, /*force=*/true);
    ASSERT_TRUE(cp.ok()) << cp.error().ToString();
    ASSERT_TRUE(cp->has_value());
  }

  // 20 events; checkpoints at tree sizes 10 and 20.
  void BuildLedger(const std::string& tenant = "acme") {
    events_ = MakeChain(tenant, 20);
    InsertEvents(*conn_, {events_.begin(), events_.begin() + 10});
    SignCheckpoint(tenant);
    InsertEvents(*conn_, {events_.begin() + 10, events_.end()});
    SignCheckpoint(tenant);
  }

  VerifyReport Verify(const std::string& tenant = "acme",
                      const std::vector<std::string>& trusted = {}) {
    auto r = VerifyTenant(*conn_, tenant, trusted);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  void ExpectFailure(const VerifyReport& r, int64_t first_bad_seq, const std::string& reason) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad_seq, first_bad_seq);
    EXPECT_EQ(r.reason, reason);
  }

  SigningKey key_ = KeyFromByte(0x42);
  ManualClock clock_{Instant{testing::kTestEpochUs}};
  std::unique_ptr<store::Connection> conn_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::vector<Event> events_;
};

TEST_P(VerifyTest, UntamperedLedgerVerifiesWithEveryCheckpoint) {
  BuildLedger();
  auto r = Verify("acme", {checkpointer_->public_key_hex()});
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.tenant_id, "acme");
  EXPECT_EQ(r.events_checked, 20);
  EXPECT_EQ(r.checkpoints_checked, 2);
  EXPECT_EQ(r.first_bad_seq, 0);
  EXPECT_EQ(r.reason, "");
}

TEST_P(VerifyTest, EmptyTenantVerifies) {
  auto r = Verify("nobody");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.events_checked, 0);
}

TEST_P(VerifyTest, AlteredPayloadIsReportedAsAltered) {
  BuildLedger();
  MustExec(*conn_, "UPDATE ledger_events SET payload = ? WHERE tenant_id = ? AND seq = ?",
           {std::string(R"({"n":17,"amount_minor":1})"), std::string("acme"), int64_t{17}});
  auto r = Verify();
  ExpectFailure(r, 17, "event 17: stored hash does not match its contents (altered)");
  EXPECT_EQ(r.events_checked, 16);
  EXPECT_EQ(r.checkpoints_checked, 1);
}

TEST_P(VerifyTest, RemovedMiddleEventIsReportedAsMissing) {
  BuildLedger();
  MustExec(*conn_, "DELETE FROM ledger_events WHERE tenant_id = 'acme' AND seq = 9");
  ExpectFailure(Verify(), 9, "event 9 missing: seq jumps from 8 to 10 (removed)");
}

TEST_P(VerifyTest, RemovedFirstEventIsReportedAsMissing) {
  BuildLedger();
  MustExec(*conn_, "DELETE FROM ledger_events WHERE tenant_id = 'acme' AND seq = 1");
  ExpectFailure(Verify(), 1, "event 1 missing: the ledger starts at event 2 (removed)");
}

TEST_P(VerifyTest, RemovedLastEventAfterCheckpointIsReportedAsTruncation) {
  BuildLedger();
  MustExec(*conn_, "DELETE FROM ledger_events WHERE tenant_id = 'acme' AND seq = 20");
  auto r = Verify();
  ExpectFailure(r, 20,
                "event 20 missing: the checkpoint at tree size 20 covers 20 events but the "
                "ledger ends at event 19 (removed)");
  EXPECT_EQ(r.events_checked, 19);
}

TEST_P(VerifyTest, RemovedEveryEventIsCaughtThroughTheCheckpoints) {
  BuildLedger();
  MustExec(*conn_, "DELETE FROM ledger_events WHERE tenant_id = 'acme'");
  auto tenants = ListTenants(*conn_);
  ASSERT_TRUE(tenants.ok());
  EXPECT_EQ(*tenants, std::vector<std::string>{"acme"});
  ExpectFailure(Verify(), 1,
                "event 1 missing: the checkpoint at tree size 10 covers 10 events but the "
                "ledger has no events (removed)");
}

TEST_P(VerifyTest, SwappedRowsAreReportedAsReordered) {
  BuildLedger();
  Event a = events_[11], b = events_[12];  // seq 12 and 13
  std::swap(a.seq, b.seq);
  testing::UpdateEventRow(*conn_, a);  // row 13 now holds event 12's contents
  testing::UpdateEventRow(*conn_, b);  // row 12 now holds event 13's contents
  ExpectFailure(Verify(), 12,
                "event 12: prev_hash does not link to event 11 (inserted or reordered)");
}

TEST_P(VerifyTest, ForgedRowAfterTheLastEventIsReportedAsInserted) {
  BuildLedger();
  Event forged = MakeEvent("acme", 21, std::string(64, 'f'));
  InsertEvents(*conn_, {forged});
  auto r = Verify();
  ExpectFailure(r, 21, "event 21: prev_hash does not link to event 20 (inserted or reordered)");
  EXPECT_EQ(r.checkpoints_checked, 2);
}

TEST_P(VerifyTest, ForgedRowAtSeqZeroIsReportedAsUnexpected) {
  BuildLedger();
  InsertEvents(*conn_, {MakeEvent("acme", 0, std::string(kGenesisHash))});
  ExpectFailure(Verify(), 0, "event 0: unexpected seq, the next event should be 1 (inserted)");
}

TEST_P(VerifyTest, RewrittenHistoryWithARelinkedChainFailsTheCheckpointRoot) {
  BuildLedger();
  testing::RewriteHistoryFrom(*conn_, events_, 15);
  auto r = Verify();
  ExpectFailure(r, 11,
                "checkpoint at tree size 20: events 1..20 do not hash to its signed root (events "
                "11..20 were rewritten)");
  EXPECT_EQ(r.events_checked, 20);
  EXPECT_EQ(r.checkpoints_checked, 1);
}

TEST_P(VerifyTest, CorruptedCheckpointSignatureFailsVerification) {
  BuildLedger();
  auto rows = conn_->Query(
      "SELECT signature FROM ledger_checkpoints WHERE tenant_id = 'acme' AND tree_size = 20");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  std::string sig = rows->front().Text(0);
  sig[10] = sig[10] == '0' ? '1' : '0';
  MustExec(*conn_,
           "UPDATE ledger_checkpoints SET signature = ? WHERE tenant_id = 'acme' AND "
           "tree_size = 20",
           {sig});
  ExpectFailure(Verify(), 11,
                "checkpoint at tree size 20: signature does not verify against its recorded "
                "public key (altered or forged)");
}

TEST_P(VerifyTest, CheckpointRootAlteredAfterSigningFailsTheSignature) {
  BuildLedger();
  MustExec(*conn_,
           "UPDATE ledger_checkpoints SET root_hash = ? WHERE tenant_id = 'acme' AND "
           "tree_size = 10",
           {std::string(64, '0')});
  auto r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 1);
  EXPECT_NE(r.reason.find("checkpoint at tree size 10: signature does not verify"),
            std::string::npos);
}

TEST_P(VerifyTest, ForgedTailWithForgersCheckpointFailsOnlyAgainstTrustedKeys) {
  BuildLedger();
  InsertEvents(*conn_, MakeChain("acme", 5, 21, events_.back().hash));
  ManualClock forger_clock{Instant{testing::kTestEpochUs}};
  Checkpointer forger(*db_, KeyFromByte(0x66), forger_clock, 1);
  auto cp = forger.CheckpointTenant(*conn_, "acme", true);
  ASSERT_TRUE(cp.ok()) << cp.error().ToString();
  ASSERT_TRUE(cp->has_value());

  EXPECT_TRUE(Verify("acme", {}).ok);
  auto r = Verify("acme", {checkpointer_->public_key_hex()});
  ExpectFailure(r, 21,
                "checkpoint at tree size 25: signed by key " + forger.key_id() +
                    ", which is not a trusted key (forged)");
  EXPECT_EQ(r.checkpoints_checked, 2);
}

TEST_P(VerifyTest, TamperingOneTenantLeavesOthersVerified) {
  BuildLedger("acme");
  auto other = MakeChain("globex", 12);
  InsertEvents(*conn_, other);
  SignCheckpoint("globex");
  MustExec(*conn_, "DELETE FROM ledger_events WHERE tenant_id = 'globex' AND seq = 3");
  auto tenants = ListTenants(*conn_);
  ASSERT_TRUE(tenants.ok());
  EXPECT_EQ(*tenants, (std::vector<std::string>{"acme", "globex"}));
  EXPECT_TRUE(Verify("acme").ok);
  ExpectFailure(Verify("globex"), 3, "event 3 missing: seq jumps from 2 to 4 (removed)");
}

TEST_P(VerifyTest, StreamsAcrossPagesAndChecksCheckpointsMidStream) {
  auto events = MakeChain("big", 2 * static_cast<int64_t>(kVerifyPageRows) + 150);
  InsertEvents(*conn_, {events.begin(), events.begin() + 1500});
  SignCheckpoint("big");
  InsertEvents(*conn_, {events.begin() + 1500, events.end()});
  SignCheckpoint("big");
  auto r = Verify("big");
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.events_checked, static_cast<int64_t>(events.size()));
  EXPECT_EQ(r.checkpoints_checked, 2);

  MustExec(*conn_, "DELETE FROM ledger_events WHERE tenant_id = 'big' AND seq = 2001");
  ExpectFailure(Verify("big"), 2001, "event 2001 missing: seq jumps from 2000 to 2002 (removed)");
}

INSTANTIATE_TEST_SUITE_P(All, VerifyTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::ledger
