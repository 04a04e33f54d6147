// Goal: the read API returns a tenant's events in seq order with paging, type filter and page
// limits; reports absent events and checkpoints clearly; and ProveInclusion yields RFC 6962 audit
// paths that verify against the latest signed checkpoint for every covered event, refuses events
// not yet covered, and notices a history that no longer matches its checkpoint. Runs on SQLite
// and PostgreSQL.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/limits.hpp"
#include "core/time.hpp"
#include "ledger/merkle.hpp"
#include "ledger/proofs_dbtest_util.hpp"
#include "ledger/reader.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::ledger {
namespace {

using testing::InsertEvents;
using testing::LeavesOf;
using testing::MakeChain;

class ReaderTest : public store::DbTest {
 protected:
  void SetUp() override {
    InitCrypto();
    store::DbTest::SetUp();
    if (HasFatalFailure()) return;
    auto c = db_->Connect();
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    conn_ = std::move(c).value();
    signer_ = std::make_unique<Checkpointer>(*db_, GenerateSigningKey(), clock_, 1);
  }

  void SignCheckpoint(const std::string& tenant) {
    auto cp = signer_->CheckpointTenant(*conn_, tenant, /*force=*/true);
    ASSERT_TRUE(cp.ok()) << cp.error().ToString();
    ASSERT_TRUE(cp->has_value());
  }

  ManualClock clock_{Instant{testing::kTestEpochUs}};
  std::unique_ptr<store::Connection> conn_;
  std::unique_ptr<Checkpointer> signer_;
};

TEST_P(ReaderTest, ReadsEventsInSeqOrderPageByPageWithinTheTenant) {
  auto events = MakeChain("acme", 12);
  InsertEvents(*conn_, events);
  InsertEvents(*conn_, MakeChain("globex", 4));
  int64_t after = 0;
  std::vector<Event> seen;
  while (true) {
    auto page = ReadEvents(*conn_, "acme", after, 5);
    ASSERT_TRUE(page.ok()) << page.error().ToString();
    if (page->empty()) break;
    EXPECT_LE(page->size(), 5u);
    for (const Event& e : *page) seen.push_back(e);
    after = page->back().seq;
  }
  ASSERT_EQ(seen.size(), events.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].seq, events[i].seq);
    EXPECT_EQ(seen[i].tenant_id, "acme");
    EXPECT_EQ(seen[i].event_id, events[i].event_id);
    EXPECT_EQ(seen[i].recorded_at, events[i].recorded_at);
    EXPECT_EQ(seen[i].actor, events[i].actor);
    EXPECT_EQ(seen[i].command_id, events[i].command_id);
    EXPECT_EQ(seen[i].type, events[i].type);
    EXPECT_EQ(seen[i].payload, events[i].payload);
    EXPECT_EQ(seen[i].prev_hash, events[i].prev_hash);
    EXPECT_EQ(seen[i].hash, events[i].hash);
  }
}

TEST_P(ReaderTest, FiltersByType) {
  InsertEvents(*conn_, MakeChain("acme", 12));
  auto notes = ReadEvents(*conn_, "acme", 0, 100, "note_added");
  ASSERT_TRUE(notes.ok());
  ASSERT_EQ(notes->size(), 4u);
  for (const Event& e : *notes) {
    EXPECT_EQ(e.type, "note_added");
    EXPECT_EQ(e.seq % 3, 0);
  }
}

TEST_P(ReaderTest, LimitIsCappedAtTheMaximumPageSizeAndZeroMeansDefault) {
  InsertEvents(*conn_, MakeChain("acme", static_cast<int64_t>(limits::kPageSizeMax) + 1));
  auto at_max = ReadEvents(*conn_, "acme", 0, limits::kPageSizeMax);
  ASSERT_TRUE(at_max.ok());
  EXPECT_EQ(at_max->size(), limits::kPageSizeMax);
  auto past_max = ReadEvents(*conn_, "acme", 0, limits::kPageSizeMax + 1);
  ASSERT_TRUE(past_max.ok());
  EXPECT_EQ(past_max->size(), limits::kPageSizeMax);
  auto by_default = ReadEvents(*conn_, "acme", 0, 0);
  ASSERT_TRUE(by_default.ok());
  EXPECT_EQ(by_default->size(), limits::kPageSizeDefault);
}

TEST_P(ReaderTest, ReadEventFindsOneAndReportsAnAbsentOneAsNotFound) {
  InsertEvents(*conn_, MakeChain("acme", 3));
  auto e = ReadEvent(*conn_, "acme", 2);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->seq, 2);
  auto absent = ReadEvent(*conn_, "acme", 4);
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code, ErrorCode::kNotFound);
  auto other_tenant = ReadEvent(*conn_, "globex", 2);
  ASSERT_FALSE(other_tenant.ok());
  EXPECT_EQ(other_tenant.error().code, ErrorCode::kNotFound);
}

TEST_P(ReaderTest, LatestCheckpointIsTheLargestTreeSize) {
  auto none = LatestCheckpoint(*conn_, "acme");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto events = MakeChain("acme", 9);
  InsertEvents(*conn_, {events.begin(), events.begin() + 4});
  SignCheckpoint("acme");
  InsertEvents(*conn_, {events.begin() + 4, events.end()});
  SignCheckpoint("acme");
  auto latest = LatestCheckpoint(*conn_, "acme");
  ASSERT_TRUE(latest.ok());
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->tree_size, 9);
  EXPECT_TRUE(CheckpointSignatureValid(**latest));
}

TEST_P(ReaderTest, EveryCoveredEventHasAnInclusionProofThatVerifies) {
  auto events = MakeChain("acme", 37);
  InsertEvents(*conn_, events);
  SignCheckpoint("acme");
  auto leaves = LeavesOf(events);
  for (int64_t seq = 1; seq <= 37; ++seq) {
    auto proof = ProveInclusion(*conn_, "acme", seq);
    ASSERT_TRUE(proof.ok()) << proof.error().ToString();
    EXPECT_EQ(proof->seq, seq);
    EXPECT_EQ(proof->tree_size, 37);
    EXPECT_EQ(proof->leaf_hash_hex, events[static_cast<size_t>(seq - 1)].hash);
    EXPECT_EQ(proof->root_hash, proof->checkpoint.root_hash);
    EXPECT_TRUE(CheckpointSignatureValid(proof->checkpoint));

    std::vector<Hash32> path;
    for (const std::string& h : proof->path_hex) path.push_back(*HashFromHex(h, "path"));
    EXPECT_EQ(path, InclusionProof(leaves, static_cast<uint64_t>(seq - 1))) << seq;
    EXPECT_TRUE(VerifyInclusion(*HashFromHex(proof->leaf_hash_hex, "leaf"),
                                static_cast<uint64_t>(seq - 1), 37, path,
                                *HashFromHex(proof->root_hash, "root")))
        << seq;
  }
}

TEST_P(ReaderTest, ProofJsonCarriesEverythingAVerifierNeeds) {
  InsertEvents(*conn_, MakeChain("acme", 5));
  SignCheckpoint("acme");
  auto proof = ProveInclusion(*conn_, "acme", 3);
  ASSERT_TRUE(proof.ok());
  Json j = proof->ToJson();
  EXPECT_EQ(j["seq"], 3);
  EXPECT_EQ(j["leaf_index"], 2);
  EXPECT_EQ(j["tree_size"], 5);
  EXPECT_EQ(j["algorithm"], "rfc6962-sha256");
  EXPECT_EQ(j["audit_path"].size(), proof->path_hex.size());
  EXPECT_EQ(j["checkpoint"]["signed_message"], CheckpointMessage(proof->checkpoint));
}

TEST_P(ReaderTest, EventNotYetCoveredByACheckpointHasNoProofYet) {
  auto events = MakeChain("acme", 8);
  auto before_any = ProveInclusion(*conn_, "acme", 1);
  ASSERT_FALSE(before_any.ok());
  EXPECT_EQ(before_any.error().code, ErrorCode::kNotFound);

  InsertEvents(*conn_, {events.begin(), events.begin() + 5});
  auto no_checkpoint = ProveInclusion(*conn_, "acme", 1);
  ASSERT_FALSE(no_checkpoint.ok());
  EXPECT_NE(no_checkpoint.error().message.find("no checkpoint yet"), std::string::npos);

  SignCheckpoint("acme");
  InsertEvents(*conn_, {events.begin() + 5, events.end()});
  auto uncovered = ProveInclusion(*conn_, "acme", 7);
  ASSERT_FALSE(uncovered.ok());
  EXPECT_EQ(uncovered.error().code, ErrorCode::kNotFound);
  EXPECT_NE(uncovered.error().message.find("event 7 is not yet covered by a signed checkpoint"),
            std::string::npos)
      << uncovered.error().message;
  EXPECT_NE(uncovered.error().message.find("covers events 1..5"), std::string::npos);
  EXPECT_TRUE(ProveInclusion(*conn_, "acme", 5).ok());
  EXPECT_EQ(ProveInclusion(*conn_, "acme", 0).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(ReaderTest, ProofRefusesAHistoryThatNoLongerMatchesItsCheckpoint) {
  auto events = MakeChain("acme", 12);
  InsertEvents(*conn_, events);
  SignCheckpoint("acme");
  testing::RewriteHistoryFrom(*conn_, events, 6);
  auto proof = ProveInclusion(*conn_, "acme", 2);
  ASSERT_FALSE(proof.ok());
  EXPECT_EQ(proof.error().code, ErrorCode::kConflict);
  EXPECT_EQ(proof.error().rule, "ledger_inconsistent");
}

INSTANTIATE_TEST_SUITE_P(All, ReaderTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::ledger
