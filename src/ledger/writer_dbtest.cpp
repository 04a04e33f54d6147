// Goal: the ledger writer appends commands' events durably with group commit, a correct hash
// chain and idempotency, on SQLite and on PostgreSQL, and never answers a command it did not
// commit.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <mutex>
#include <thread>

#include "core/crypto.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "ledger/verify.hpp"
#include "ledger/writer.hpp"
#include "store/testing/faulty_store.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::ledger {
namespace {

using store::Dialect;

// A test command: "note" {text} appends "noted" (and "noted_twice" when text starts with "2"),
// projected into test_notes; "fail" is rejected; "break_projection" fails in its projector.
Registry TestRegistry() {
  Registry r;
  r.AddCommand("note", [](store::Tx&, const Command& c, Instant, Random&) -> Result<Decision> {
    if (!c.payload.contains("text") || !c.payload["text"].is_string()) {
      return Error::Invalid("text", "required", "text is required");
    }
    Decision d;
    d.events.push_back({"noted", {{"text", c.payload["text"]}}});
    if (c.payload["text"].get<std::string>().starts_with("2")) {
      d.events.push_back({"noted_twice", {{"text", c.payload["text"]}}});
    }
    d.result = {{"text", c.payload["text"]}};
    return d;
  });
  // Emits an event whose payload holds bytes that are not UTF-8 (as a careless adapter might).
  r.AddCommand("bad_bytes", [](store::Tx&, const Command&, Instant, Random&) {
    Decision d;
    d.events.push_back({"noted", {{"text", std::string("caf\xe9")}}});
    return Result<Decision>(d);
  });
  r.AddCommand("break_projection", [](store::Tx&, const Command&, Instant, Random&) {
    Decision d;
    d.events.push_back({"broken", Json::object()});
    return Result<Decision>(d);
  });
  // Emits a type nobody declared (a module that forgot DeclareEvents).
  r.AddCommand("undeclared", [](store::Tx&, const Command&, Instant, Random&) {
    Decision d;
    d.events.push_back({"noted", Json::object()});
    d.events.push_back({"never_declared", Json::object()});
    return Result<Decision>(d);
  });
  // Issue #20 item 5: a command whose result the writer rebuilds from its events on a retry
  // instead of storing it: {"text", "seqs": [each event's seq]}.
  r.AddCommand(
      "rebuilt_note",
      [](store::Tx&, const Command& c, Instant, Random&) -> Result<Decision> {
        Decision d;
        d.events.push_back({"noted", {{"text", c.payload["text"]}}});
        d.events.push_back({"noted_twice", {{"text", c.payload["text"]}}});
        d.result = {{"text", c.payload["text"]}, {"events", 2}};
        return d;
      },
      [](const std::vector<Event>& events) -> Result<Json> {
        auto p = ParseJson(events.at(0).payload, "payload");
        if (!p.ok()) return std::move(p).error();
        return Json{{"text", (*p)["text"]}, {"events", events.size()}};
      });
  r.DeclareEvents({"noted_twice", "sized"});
  r.AddProjector("noted", [](store::Tx& tx, const Event& e) -> Status {
    store::Value p[] = {e.tenant_id, e.seq, e.payload};
    auto st = tx.Exec("INSERT INTO test_notes (tenant_id, seq, payload) VALUES (?, ?, ?)", p);
    if (!st.ok()) return std::move(st).error();
    return Ok();
  });
  r.AddProjector("broken", [](store::Tx&, const Event&) -> Status {
    return Error{ErrorCode::kConflict, "", "unique", "projection conflict"};
  });
  // Issue #9: module code that throws (as nlohmann's accessors do on a wrong type).
  r.AddCommand("throw_in_handler", [](store::Tx&, const Command& c, Instant,
                                      Random&) -> Result<Decision> {
    (void)c.payload.at("missing").get<std::string>();  // throws json::out_of_range
    return Decision{};
  });
  r.AddCommand("throw_in_projector", [](store::Tx&, const Command&, Instant, Random&) {
    Decision d;
    d.events.push_back({"noted", {{"text", 42}}});  // "noted" projects; see below
    d.events.push_back({"exploded", Json::object()});
    return Result<Decision>(d);
  });
  r.AddProjector("exploded", [](store::Tx&, const Event& e) -> Status {
    throw std::runtime_error("projector bug on event " + std::to_string(e.seq));
  });
  // Sized events for the limits: {"bytes": n} appends one event whose payload is about n bytes.
  r.AddCommand("sized", [](store::Tx&, const Command& c, Instant, Random&) {
    Decision d;
    const auto n = c.payload.value("bytes", 0);
    const auto events = c.payload.value("events", 1);
    for (int i = 0; i < events; ++i) {
      d.events.push_back({"sized", {{"fill", std::string(static_cast<size_t>(n), 'x')}}});
    }
    return Result<Decision>(d);
  });
  return r;
}

// The canonical payload of a "sized" event with `fill` bytes: {"fill":"…"}.
constexpr size_t kSizedEnvelopeBytes = 11;

class WriterTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    InitCrypto();
    auto db = store::NewTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    ASSERT_TRUE(conn_->Exec("CREATE TABLE test_notes (tenant_id TEXT NOT NULL, seq BIGINT NOT "
                            "NULL, payload TEXT NOT NULL, PRIMARY KEY (tenant_id, seq))")
                    .ok());
  }

  Command Note(std::string tenant, std::string text, std::string id = "") {
    return Command{std::move(tenant), std::move(id), "note", "usr_test", Json{{"text", text}}};
  }

  int64_t Count(std::string_view sql) {
    auto rows = conn_->Query(sql);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }

  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Connection> conn_;
  Registry registry_ = TestRegistry();
  SystemClock clock_;
  SystemRandom random_;
};

TEST_P(WriterTest, AppendsEventsWithContiguousSeqAndLinkedHashes) {
  Writer w(*db_, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  for (int i = 0; i < 5; ++i) {
    auto r = w.SubmitAndWait(Note("t1", i == 2 ? "2x" : "x"));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }
  w.Stop();
  auto rows = conn_->Query(
      "SELECT seq, prev_hash, hash, event_id, recorded_at_us, actor, command_id, type, payload "
      "FROM ledger_events WHERE tenant_id = 't1' ORDER BY seq");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 6u);
  std::string prev(kGenesisHash);
  for (size_t i = 0; i < rows->size(); ++i) {
    const auto& row = (*rows)[i];
    EXPECT_EQ(row.Int(0), static_cast<int64_t>(i + 1));
    EXPECT_EQ(row.Text(1), prev);
    Event e{"t1", row.Int(0), row.Text(3), Instant{row.Int(4)}, row.Text(5), row.Text(6),
            row.Text(7), row.Text(8), row.Text(1), ""};
    EXPECT_EQ(ComputeEventHash(e), row.Text(2));
    prev = row.Text(2);
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM test_notes"), 5);
}

TEST_P(WriterTest, AnUndeclaredEventTypeIsRefusedAndNothingOfItsCommandIsWritten) {
  EXPECT_EQ(registry_.EventTypes(),
            (std::vector<std::string>{"broken", "exploded", "noted", "noted_twice", "sized"}));
  EXPECT_FALSE(registry_.KnowsEvent("never_declared"));
  Writer w(*db_, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  auto r = w.SubmitAndWait(Command{"t1", "", "undeclared", "usr_test", Json::object()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "undeclared_event");
  EXPECT_TRUE(w.SubmitAndWait(Note("t1", "fine")).ok());
  w.Stop();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events WHERE tenant_id = 't1'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM test_notes"), 1);
}

TEST_P(WriterTest, TextThatIsNotUtf8IsRefusedNamingTheRuleAndFailsOnlyItsCommand) {
  Writer w(*db_, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  auto in_command = w.SubmitAndWait(Note("t1", std::string("\xff\xfe")));
  ASSERT_FALSE(in_command.ok());
  EXPECT_EQ(in_command.error().rule, "utf8");
  auto in_event = w.SubmitAndWait(Command{"t1", "", "bad_bytes", "usr_test", Json::object()});
  ASSERT_FALSE(in_event.ok());
  EXPECT_EQ(in_event.error().rule, "utf8");
  EXPECT_TRUE(w.SubmitAndWait(Note("t1", "fine")).ok());
  w.Stop();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), 1);
}

TEST_P(WriterTest, RetriedCommandReturnsTheFirstOutcomeAndAppendsNothing) {
  Writer w(*db_, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  auto first = w.SubmitAndWait(Note("t1", "hello", "cmd-1"));
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->replayed);
  auto again = w.SubmitAndWait(Note("t1", "hello", "cmd-1"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->first_seq, first->first_seq);
  EXPECT_EQ(again->result, first->result);
  auto reused = w.SubmitAndWait(Note("t1", "other", "cmd-1"));
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().rule, "idempotency_key_reused");
  // The same id in another tenant is another command.
  EXPECT_FALSE(w.SubmitAndWait(Note("t2", "other", "cmd-1"))->replayed);
  w.Stop();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), 2);
}

TEST_P(WriterTest, RetryAfterRestartStillReturnsTheFirstOutcome) {
  {
    Writer w(*db_, registry_, clock_, random_, {});
    ASSERT_TRUE(w.Start().ok());
    ASSERT_TRUE(w.SubmitAndWait(Note("t1", "a", "cmd-a")).ok());
  }
  Writer w(*db_, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  auto again = w.SubmitAndWait(Note("t1", "a", "cmd-a"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  auto next = w.SubmitAndWait(Note("t1", "b"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->first_seq, 2);  // the chain continues from the stored head
}

TEST_P(WriterTest, AResultRebuiltFromEventsIsNotStoredAndARetryGetsTheFirstAnswer) {
  Json first_result;
  {
    Writer w(*db_, registry_, clock_, random_, {});
    ASSERT_TRUE(w.Start().ok());
    ASSERT_TRUE(w.SubmitAndWait(Note("t1", "kept", "cmd-kept")).ok());
    auto first = w.SubmitAndWait(
        Command{"t1", "cmd-rebuilt", "rebuilt_note", "usr_test", Json{{"text", "hello"}}});
    ASSERT_TRUE(first.ok()) << first.error().ToString();
    first_result = first->result;
    // Retried in the same writer run: answered from the batch's memory or from the store.
    auto again = w.SubmitAndWait(
        Command{"t1", "cmd-rebuilt", "rebuilt_note", "usr_test", Json{{"text", "hello"}}});
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->replayed);
    EXPECT_EQ(again->result, first_result);
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_commands WHERE command_id = 'cmd-rebuilt' AND "
                  "result = ''"),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_commands WHERE command_id = 'cmd-kept' AND "
                  "result = '{\"text\":\"kept\"}'"),
            1);
  // After a restart the outcome can only come from the store: rebuilt from the two events.
  Writer w(*db_, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  auto again = w.SubmitAndWait(
      Command{"t1", "cmd-rebuilt", "rebuilt_note", "usr_test", Json{{"text", "hello"}}});
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->result, first_result);
  EXPECT_EQ(again->first_seq, 2);
  EXPECT_EQ(again->last_seq, 3);
  auto reused = w.SubmitAndWait(
      Command{"t1", "cmd-rebuilt", "rebuilt_note", "usr_test", Json{{"text", "other"}}});
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().rule, "idempotency_key_reused");
}

TEST_P(WriterTest, TheBatchedIdempotencyLookupSearchesThePrimaryKeyInsteadOfScanning) {
  // Regression (issue #20): a row-value IN list made SQLite scan the whole command log per batch.
  std::vector<store::Value> params = {std::string("t1")};
  for (int i = 0; i < 8; ++i) params.emplace_back("cmd-" + std::to_string(i));
  std::string plan;
  if (GetParam() == Dialect::kSqlite) {
    auto rows = conn_->Query("EXPLAIN QUERY PLAN " + FindCommandsSql(8), params);
    ASSERT_TRUE(rows.ok()) << rows.error().ToString();
    for (const auto& r : *rows) plan += r.Text(3) + "\n";
    EXPECT_EQ(plan.find("SCAN ledger_commands"), std::string::npos) << plan;
    EXPECT_NE(plan.find("SEARCH ledger_commands USING PRIMARY KEY (tenant_id=? AND command_id=?)"),
              std::string::npos)
        << plan;
  } else {
    // The test table is tiny, so forbid sequential scans: the plan must then use the key.
    auto tx = conn_->Begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->Exec("SET LOCAL enable_seqscan = off").ok());
    auto rows = (*tx)->Query("EXPLAIN " + FindCommandsSql(8), params);
    ASSERT_TRUE(rows.ok()) << rows.error().ToString();
    for (const auto& r : *rows) plan += r.Text(0) + "\n";
    EXPECT_NE(plan.find("Index"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << plan;
  }
}

TEST_P(WriterTest, ConcurrentSubmittersShareCommits) {
  Writer w(*db_, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  constexpr int kThreads = 16, kPerThread = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (w.SubmitAndWait(Note("t" + std::to_string(t % 3), "x")).ok()) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  w.Stop();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), kThreads * kPerThread);
  EXPECT_LT(w.stats().commits.load(), static_cast<uint64_t>(kThreads * kPerThread));
}

TEST_P(WriterTest, ARejectedCommandDoesNotFailItsBatchNeighbours) {
  Writer w(*db_, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  std::mutex mu;
  std::vector<Result<CommandOutcome>> results;
  std::atomic<int> done{0};
  auto collect = [&](Result<CommandOutcome> r) {
    std::lock_guard l(mu);
    results.push_back(std::move(r));
    done.fetch_add(1);
  };
  w.Submit(Note("t1", "a"), collect);
  w.Submit(Command{"t1", "", "note", "usr_test", Json::object()}, collect);  // no text
  w.Submit(Command{"t1", "", "break_projection", "usr_test", Json::object()}, collect);
  w.Submit(Command{"t1", "", "no_such_command", "usr_test", Json::object()}, collect);
  w.Submit(Note("t1", "b"), collect);
  w.Stop();
  ASSERT_EQ(done.load(), 5);
  int oks = 0;
  for (auto& r : results) oks += r.ok();
  EXPECT_EQ(oks, 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), 2);
  EXPECT_EQ(Count("SELECT MAX(seq) FROM ledger_events"), 2);
}

TEST_P(WriterTest, AFailedCommitAnswersNoCommandAsDone) {
  store::FaultyDatabase faulty(std::move(db_));
  faulty.SetFailCommits(true);
  Writer w(faulty, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  auto r = w.SubmitAndWait(Note("t1", "lost"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  faulty.SetFailCommits(false);
  auto r2 = w.SubmitAndWait(Note("t1", "kept"));
  ASSERT_TRUE(r2.ok()) << r2.error().ToString();
  EXPECT_EQ(r2->first_seq, 1);  // the failed batch left no hole in the chain
  w.Stop();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), 1);
}

TEST_P(WriterTest, StopAnswersEverythingQueuedThenRefusesNewCommands) {
  Writer w(*db_, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  std::atomic<int> ok{0};
  for (int i = 0; i < 200; ++i) {
    w.Submit(Note("t1", "x"), [&](Result<CommandOutcome> r) { ok.fetch_add(r.ok()); });
  }
  w.Stop();
  EXPECT_EQ(ok.load(), 200);
  auto late = w.SubmitAndWait(Note("t1", "late"));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), 200);
}

TEST_P(WriterTest, AThrowingHandlerFailsOnlyItsCommandAndTheWriterKeepsServing) {
  Writer w(*db_, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  std::atomic<int> done{0}, oks{0};
  std::string thrown_rule;
  std::mutex mu;
  auto collect = [&](Result<CommandOutcome> r) {
    if (r.ok()) oks.fetch_add(1);
    if (!r.ok()) {
      std::lock_guard l(mu);
      thrown_rule = r.error().rule;
    }
    done.fetch_add(1);
  };
  w.Submit(Note("t1", "before"), collect);
  w.Submit(Command{"t1", "", "throw_in_handler", "usr_test", Json::object()}, collect);
  w.Submit(Note("t1", "after"), collect);
  auto next = w.SubmitAndWait(Note("t1", "next"));
  ASSERT_TRUE(next.ok()) << next.error().ToString();
  w.Stop();
  EXPECT_EQ(done.load(), 3);
  EXPECT_EQ(oks.load(), 2);
  EXPECT_EQ(thrown_rule, "module_exception");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), 3);
  EXPECT_EQ(registry_.ModuleExceptions(), 2u);  // once in the batch, once in its own retry
}

TEST_P(WriterTest, AThrowingProjectorFailsOnlyItsCommandAndTheLedgerStillVerifies) {
  Writer w(*db_, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(w.SubmitAndWait(Note("t1", "a")).ok());
  auto bad = w.SubmitAndWait(Command{"t1", "", "throw_in_projector", "usr_test",
                                     Json::object()});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInternal);
  EXPECT_EQ(bad.error().rule, "module_exception");
  EXPECT_NE(bad.error().message.find("exploded"), std::string::npos) << bad.error().message;
  for (int i = 0; i < 3; ++i) {
    auto r = w.SubmitAndWait(Note("t1", "b" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->first_seq, i + 2);  // nothing of the failed command stayed in the chain
  }
  w.Stop();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM test_notes"), 4);
  auto report = VerifyTenant(*conn_, "t1", {});
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->ok) << report->reason;
  EXPECT_EQ(report->events_checked, 4);
}

TEST_P(WriterTest, ACommandCallbackThatThrowsDoesNotStopTheOtherAnswers) {
  Writer w(*db_, registry_, clock_, random_, {});
  ASSERT_TRUE(w.Start().ok());
  w.Submit(Note("t1", "a"), [](Result<CommandOutcome>) { throw std::runtime_error("caller"); });
  auto r = w.SubmitAndWait(Note("t1", "b"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  w.Stop();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), 2);
}

TEST_P(WriterTest, EventBytesAreLimitedAtTheEdgeNamingTheRule) {
  WriterOptions o;
  o.event_bytes_max = 1000;
  Writer w(*db_, registry_, clock_, random_, o);
  ASSERT_TRUE(w.Start().ok());
  auto at = w.SubmitAndWait(Command{"t1", "", "sized", "usr_test",
                                    Json{{"bytes", 1000 - kSizedEnvelopeBytes}}});
  ASSERT_TRUE(at.ok()) << at.error().ToString();
  auto past = w.SubmitAndWait(Command{"t1", "", "sized", "usr_test",
                                      Json{{"bytes", 1001 - kSizedEnvelopeBytes}}});
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(past.error().field, "payload");
  EXPECT_EQ(past.error().rule, "event_bytes_max");
  ASSERT_TRUE(w.SubmitAndWait(Note("t1", "after")).ok());
  w.Stop();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), 2);
  EXPECT_EQ(Count("SELECT MAX(LENGTH(payload)) FROM ledger_events"), 1000);
}

TEST_P(WriterTest, CommandBytesAreLimitedAtSubmitAtTheEdge) {
  WriterOptions o;
  o.command_bytes_max = 100;
  Writer w(*db_, registry_, clock_, random_, o);
  ASSERT_TRUE(w.Start().ok());
  // {"text":"…"} is 11 bytes around the text.
  auto at = w.SubmitAndWait(Note("t1", std::string(89, 'a')));
  ASSERT_TRUE(at.ok()) << at.error().ToString();
  auto past = w.SubmitAndWait(Note("t1", std::string(90, 'a')));
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().rule, "command_bytes_max");
  EXPECT_EQ(past.error().code, ErrorCode::kPayloadTooLarge);
  w.Stop();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), 1);
}

TEST_P(WriterTest, ACommandWhoseEventsExceedTheBatchBytesIsRefusedAndOthersSplitBatches) {
  WriterOptions o;
  o.event_bytes_max = 1000;
  o.batch_bytes_max = 3000;
  Writer w(*db_, registry_, clock_, random_, o);
  ASSERT_TRUE(w.Start().ok());
  const size_t fill = 1000 - kSizedEnvelopeBytes;
  auto at = w.SubmitAndWait(
      Command{"t1", "", "sized", "usr_test", Json{{"bytes", fill}, {"events", 3}}});
  ASSERT_TRUE(at.ok()) << at.error().ToString();
  auto past = w.SubmitAndWait(
      Command{"t1", "", "sized", "usr_test", Json{{"bytes", fill}, {"events", 4}}});
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().rule, "batch_bytes_max");
  // Many commands queued together: every one is answered and committed, in batches that stop
  // at the byte limit, with the chain intact.
  std::atomic<int> oks{0};
  for (int i = 0; i < 20; ++i) {
    w.Submit(Command{"t1", "", "sized", "usr_test", Json{{"bytes", fill}}},
             [&](Result<CommandOutcome> r) { oks.fetch_add(r.ok()); });
  }
  w.Stop();
  EXPECT_EQ(oks.load(), 20);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), 23);
  EXPECT_GE(w.stats().commits.load(), 20u / 3u);
  auto report = VerifyTenant(*conn_, "t1", {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->reason;
}

INSTANTIATE_TEST_SUITE_P(Backends, WriterTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::ledger
