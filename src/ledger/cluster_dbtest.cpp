// Goal: the pieces that let several nodes share one PostgreSQL (ledger/cluster.hpp) behave as
// documented: the shard function is FNV-1a 64 modulo the shard count; advisory locks are
// exclusive and die with their session; NOTIFY reaches a listener only when its transaction
// commits; two clustered writers on one database split the shards, forward commands of the
// other's shards, and one takes every shard over (with the other's events delivered by its
// follower) when the other stops. SQLite refuses clustering.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "core/crypto.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "ledger/cluster.hpp"
#include "ledger/writer.hpp"
#include "store/cluster.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::ledger {
namespace {

using store::Dialect;

// Polls `done` every 10 ms for at most 20 s (a bound for a shared machine, not a timing
// assertion: the documented behaviour is "eventually", measured in bench/).
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

TEST(ShardOf, IsFnv1a64OfTheTenantIdModuloTheShardCount) {
  // Reference values computed independently (tests/integration/test_cluster.py shard_of).
  EXPECT_EQ(ShardOf("acme", 4), 514768821131075087ull % 4);
  EXPECT_EQ(ShardOf("acme", 64), 15);
  EXPECT_EQ(ShardOf("t0", 4), 1);
  EXPECT_EQ(ShardOf("t1", 4), 2);
  EXPECT_EQ(ShardOf("tenant-x", 64), 0);
  EXPECT_EQ(ShardOf("", 64), 37);
  EXPECT_EQ(ShardOf("anything", 1), 0);
}

Registry NoteRegistry() {
  Registry r;
  r.DeclareEvents({"noted"});
  r.AddCommand("note", [](store::Tx&, const Command& c, Instant, Random&) -> Result<Decision> {
    Decision d;
    d.events.push_back({"noted", c.payload});
    d.result = c.payload;
    return d;
  });
  return r;
}

class ClusterTest : public store::DbTest {
 protected:
  void SetUp() override {
    InitCrypto();
    store::DbTest::SetUp();
  }

  // The URL of this test's PostgreSQL database (the test server's URL, other database name).
  std::string DatabaseUrl() {
    const char* file = std::getenv("OPSBOX_PG_URL_FILE");
    EXPECT_NE(file, nullptr);
    std::ifstream in(file != nullptr ? file : "");
    std::string admin;
    std::getline(in, admin);
    auto conn = db_->Connect();
    EXPECT_TRUE(conn.ok());
    auto rows = (*conn)->Query("SELECT current_database()");
    EXPECT_TRUE(rows.ok());
    return admin.substr(0, admin.rfind('/') + 1) + (*rows)[0].Text(0);
  }

  SystemClock clock_;
  SystemRandom random_;
};

TEST_P(ClusterTest, AdvisoryLocksAreExclusiveAndEndWithTheirSession) {
  auto a = db_->Connect();
  auto b = db_->Connect();
  ASSERT_TRUE(a.ok() && b.ok());
  if (GetParam() == Dialect::kSqlite) {
    auto r = store::TryLock(**a, kShardLockSpace, 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().rule, "unsupported");
    return;
  }
  EXPECT_TRUE(*store::TryLock(**a, kShardLockSpace, 1));
  EXPECT_FALSE(*store::TryLock(**b, kShardLockSpace, 1));
  EXPECT_TRUE(*store::TryLock(**b, kShardLockSpace, 2));
  EXPECT_EQ(*store::LockedKeys(**b, kShardLockSpace), (std::vector<int32_t>{1, 2}));
  EXPECT_TRUE(store::LockedKeys(**b, kNodeLockSpace)->empty());
  a->reset();  // the session ends (its server process exits a moment later): its lock goes
  EXPECT_TRUE(Eventually([&] { return *store::TryLock(**b, kShardLockSpace, 1); }));
  ASSERT_TRUE(store::Unlock(**b, kShardLockSpace, 2).ok());
  EXPECT_EQ(*store::LockedKeys(**b, kShardLockSpace), (std::vector<int32_t>{1}));
}

TEST_P(ClusterTest, ANotificationArrivesOnlyWhenItsTransactionCommits) {
  if (GetParam() == Dialect::kSqlite) GTEST_SKIP() << "LISTEN needs PostgreSQL";
  auto listener = store::OpenPostgresListener(DatabaseUrl(), kLedgerChannel);
  ASSERT_TRUE(listener.ok()) << listener.error().ToString();
  auto conn = db_->Connect();
  ASSERT_TRUE(conn.ok());
  {
    auto tx = (*conn)->Begin();
    ASSERT_TRUE(store::Notify(**tx, Dialect::kPostgres, kLedgerChannel, "rolled 1").ok());
    (*tx)->Rollback();
  }
  {
    auto tx = (*conn)->Begin();
    ASSERT_TRUE(store::Notify(**tx, Dialect::kPostgres, kLedgerChannel, "acme 7").ok());
    std::string too_big(store::kNotifyPayloadBytesMax + 1, 'x');
    EXPECT_EQ(store::Notify(**tx, Dialect::kPostgres, kLedgerChannel, too_big).error().rule,
              "size");
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  std::vector<store::Notification> got;
  ASSERT_TRUE(Eventually([&] {
    auto n = (*listener)->Wait(50);
    EXPECT_TRUE(n.ok());
    if (n.ok()) got.insert(got.end(), n->begin(), n->end());
    return !got.empty();
  }));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].channel, kLedgerChannel);
  EXPECT_EQ(got[0].payload, "acme 7");
}

// Hands a command straight to the other writer's SubmitLocal (the HTTP hop is covered by
// tests/integration/test_cluster.py).
class DirectForwarder final : public Forwarder {
 public:
  Writer* to = nullptr;
  std::atomic<int> forwarded{0};
  void Forward(int, Command c, std::function<void(Result<CommandOutcome>)> done) override {
    forwarded.fetch_add(1);
    to->SubmitLocal(std::move(c), std::move(done));
  }
};

TEST_P(ClusterTest, TwoWritersSplitTheShardsForwardAndTheSurvivorTakesAllOver) {
  Registry registry = NoteRegistry();
  WriterOptions o;
  o.shards = 4;
  o.cluster.enabled = true;
  o.cluster.rebalance_interval_ms = 100;
  if (GetParam() == Dialect::kSqlite) {
    Writer w(*db_, registry, clock_, random_, o);
    auto st = w.Start();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().field, "cluster.advertise_url");
    EXPECT_EQ(st.error().rule, "postgres_only");
    return;
  }
  std::vector<Event> seen_by_b;
  std::mutex seen_mu;
  Registry registry_b = NoteRegistry();
  registry_b.AddCommittedListener([&](const std::vector<Event>& events) {
    std::lock_guard lock(seen_mu);
    seen_by_b.insert(seen_by_b.end(), events.begin(), events.end());
  });
  DirectForwarder to_b, to_a;
  WriterOptions oa = o, ob = o;
  oa.cluster.node_id = "a";
  oa.cluster.advertise_url = "http://a";
  oa.cluster.forwarder = &to_b;
  ob.cluster.node_id = "b";
  ob.cluster.advertise_url = "http://b";
  ob.cluster.forwarder = &to_a;
  auto a = std::make_unique<Writer>(*db_, registry, clock_, random_, oa);
  Writer b(*db_, registry_b, clock_, random_, ob);
  Follower follower_b(
      *db_, registry_b, [&] { return store::OpenPostgresListener(DatabaseUrl(), kLedgerChannel); },
      [&](std::string_view t) { return b.OwnsTenant(t); }, FollowerOptions{});
  to_b.to = &b;
  to_a.to = a.get();
  ASSERT_TRUE(a->Start().ok());
  EXPECT_EQ(a->stats().shards_owned.load(), 4u);  // alone: every shard
  ASSERT_TRUE(follower_b.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  ASSERT_TRUE(Eventually([&] {
    return a->stats().shards_owned.load() == 2 && b.stats().shards_owned.load() == 2;
  })) << a->stats().shards_owned.load() << " " << b.stats().shards_owned.load();

  // "t0" is on shard 1 and "t1" on shard 2: a gave its highest shards (2, 3) back.
  EXPECT_TRUE(a->OwnsTenant("t0"));
  EXPECT_TRUE(b.OwnsTenant("t1"));
  for (const char* tenant : {"t0", "t1"}) {
    for (Writer* w : {a.get(), &b}) {
      auto r = w->SubmitAndWait(Command{tenant, "", "note", "usr_t", Json{{"n", 1}}});
      ASSERT_TRUE(r.ok()) << r.error().ToString();
    }
  }
  EXPECT_EQ(to_b.forwarded.load(), 1);  // a sent t1's command to b
  EXPECT_EQ(to_a.forwarded.load(), 1);  // b sent t0's command to a
  auto forwarded_here = b.SubmitAndWait(Command{"t1", "", "note", "usr_t", Json::object()});
  EXPECT_TRUE(forwarded_here.ok());
  Result<CommandOutcome> refused = Error::Internal("not answered");
  std::promise<void> answered;
  b.SubmitLocal(Command{"t0", "", "note", "usr_t", Json::object()},
                [&](Result<CommandOutcome> r) {
                  refused = std::move(r);
                  answered.set_value();
                });
  answered.get_future().wait();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().rule, "not_shard_owner");

  // b's follower delivered a's appends of t0 (b does not own t0).
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(seen_mu);
    return std::count_if(seen_by_b.begin(), seen_by_b.end(),
                         [](const Event& e) { return e.tenant_id == "t0"; }) == 2;
  }));

  a->Stop();
  a.reset();
  ASSERT_TRUE(Eventually([&] { return b.stats().shards_owned.load() == 4; }));
  auto after = b.SubmitAndWait(Command{"t0", "", "note", "usr_t", Json{{"n", 3}}});
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  EXPECT_EQ(after->first_seq, 3);  // the chain head was read again from the database
  follower_b.Stop();
  b.Stop();
}

INSTANTIATE_TEST_SUITE_P(Backends, ClusterTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::ledger
