// Goal: through a real ledger writer, on SQLite and PostgreSQL, a portfolio file imports as
// chunk commands: every valid row lands once, bad rows are reported (line, field, rule)
// without stopping the import, the same file twice appends nothing, a changed snapshot
// upserts only what changed and records roll-forward / roll-back, contacts are sealed per
// customer, and an import interrupted after some chunks resumes on the next run. The sealer
// is a fake that wraps values in a marker naming the subject (the keyring has its own tests).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "collections/collections.hpp"
#include "collections/import.hpp"
#include "core/crypto.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "ledger/writer.hpp"
#include "store/testing/test_database.hpp"

namespace opsbox::collections {
namespace {

using store::Dialect;

const Instant kStart{1795342530000000};  // 2026-11-22T10:15:30Z
constexpr std::string_view kSealPrefix = "sealed:";

constexpr std::string_view kHeader =
    "account_id,customer_id,product,currency,outstanding,days_past_due,phones,email,name\n";

std::string Row(int i, int dpd, std::string_view phone = "+919800000001") {
  return "A" + std::to_string(i) + ",C" + std::to_string(i) + ",card,INR,1000.50," +
         std::to_string(dpd) + "," + std::string(phone) + ",c" + std::to_string(i) +
         "@example.com,Name " + std::to_string(i) + "\n";
}

// Opens what the fake sealer sealed ("sealed:<subject>:<hex of canonical JSON>").
Result<std::optional<Json>> FakeOpen(const Json& v) {
  if (!v.is_string() || v.get<std::string>().rfind(kSealPrefix, 0) != 0) return std::optional<Json>(v);
  const std::string s = v.get<std::string>();
  OPSBOX_ASSIGN_OR_RETURN(auto text, HexDecode(s.substr(s.rfind(':') + 1), "value"));
  return std::optional<Json>(Json::parse(text));
}

Hooks FakeHooks() {
  Hooks h;
  h.blind_index = [](std::string_view t, std::string_view k, std::string_view v) {
    return HexEncode(HmacSha256("index-key", std::string(t) + "\n" + std::string(k) + "\n" +
                                                 std::string(v)));
  };
  h.open_tx = [](store::Tx&, std::string_view, const Json& v) { return FakeOpen(v); };
  h.open = [](store::Connection&, std::string_view, const Json& v) { return FakeOpen(v); };
  return h;
}

class CollectionsDbTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    InitCrypto();
    auto db = store::NewTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    registry_.SetSealer([](store::Tx&, const std::string&, const std::string& subject, Json& p,
                           const std::vector<std::string>& fields) -> Status {
      for (const auto& f : fields) {
        if (p.contains(f) && !p[f].is_null()) {
          p[f] = std::string(kSealPrefix) + subject + ":" + HexEncode(CanonicalJson(p[f]));
        }
      }
      return Ok();
    });
    auto zones = ZoneCatalog::Load();
    ASSERT_TRUE(zones.ok()) << zones.error().ToString();
    auto policy = PresetPolicy("reg_f");
    ASSERT_TRUE(policy.ok());
    collections_ = std::make_unique<Collections>(FakeHooks(), std::move(*policy), std::move(*zones));
    collections_->Register(registry_);
    writer_ = std::make_unique<ledger::Writer>(*db_, registry_, clock_, random_,
                                               ledger::WriterOptions{});
    ASSERT_TRUE(writer_->Start().ok());
    dir_ = std::filesystem::temp_directory_path() /
           ("opsbox-coll-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (writer_) writer_->Stop();
    std::filesystem::remove_all(dir_);
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  ChunkSubmitter Submitter() {
    return [this](ledger::Command c, ledger::CommandCallback done) {
      writer_->Submit(std::move(c), std::move(done));
    };
  }
  Result<ImportReport> Import(const std::string& path, size_t chunk_rows = 2,
                              ChunkSubmitter submit = nullptr) {
    ImportOptions o;
    o.tenant = "acme";
    o.file_path = path;
    o.chunk_rows = chunk_rows;
    o.chunks_in_flight_max = 3;
    return RunImport(*db_, submit ? submit : Submitter(), o, clock_);
  }
  int64_t Count(const std::string& sql) {
    auto rows = conn_->Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.error().ToString();
    return rows.ok() && !rows->empty() ? (*rows)[0].Int(0) : -1;
  }
  // Every account item in every portfolio_accounts_upserted event, by account id.
  std::map<std::string, int> UpsertedItems() {
    std::map<std::string, int> out;
    auto rows = conn_->Query(
        "SELECT payload FROM ledger_events WHERE type = 'portfolio_accounts_upserted'");
    EXPECT_TRUE(rows.ok());
    for (const auto& r : *rows) {
      const Json payload = Json::parse(r.Text(0));
      for (const auto& a : payload["accounts"]) ++out[a["account_id"].get<std::string>()];
    }
    return out;
  }

  static inline int counter_ = 0;
  ManualClock clock_{kStart};
  SeededRandom random_{11};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Connection> conn_;
  ledger::Registry registry_;
  std::unique_ptr<Collections> collections_;
  std::unique_ptr<ledger::Writer> writer_;
  std::filesystem::path dir_;
};

TEST_P(CollectionsDbTest, ImportsEveryValidRowAndReportsBadRowsWithoutStopping) {
  const auto path = WriteFile("day1.csv", std::string(kHeader) + Row(1, 0) + Row(2, 45) +
                                              "A3,C3,card,INR,abc,10,,,\n" + Row(4, 100) +
                                              "A5,C 5,card,INR,1.00,10,,,\n");
  auto r = Import(path);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->rows_read, 5);
  EXPECT_EQ(r->rows_rejected, 2);
  EXPECT_EQ(r->accounts_changed, 3);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM collections_accounts WHERE tenant_id = 'acme'"), 3);
  auto errors = ImportErrors(*conn_, "acme", r->import_id, 0, 10);
  ASSERT_TRUE(errors.ok());
  ASSERT_EQ(errors->size(), 2u);
  EXPECT_EQ((*errors)[0].line, 4u);
  EXPECT_EQ((*errors)[0].field, "outstanding");
  EXPECT_EQ((*errors)[0].rule, "decimal");
  EXPECT_EQ((*errors)[1].line, 6u);
  EXPECT_EQ((*errors)[1].field, "customer_id");
  EXPECT_EQ((*errors)[1].rule, "identifier");
  auto a2 = GetAccount(*conn_, "acme", "A2");
  ASSERT_TRUE(a2.ok() && a2->has_value());
  EXPECT_EQ((*a2)->bucket, "dpd_31_60");
  EXPECT_EQ((*a2)->outstanding_minor, 100050);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM collections_imports WHERE status = 'completed'"), 1);
}

TEST_P(CollectionsDbTest, TheSameFileTwiceAppendsNothing) {
  const auto path = WriteFile("day1.csv", std::string(kHeader) + Row(1, 0) + Row(2, 45) + Row(3, 9));
  ASSERT_TRUE(Import(path).ok());
  const int64_t events = Count("SELECT COUNT(*) FROM ledger_events");
  auto again = Import(path);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_FALSE(again->resumed);
  EXPECT_EQ(again->accounts_changed, 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events"), events);
}

TEST_P(CollectionsDbTest, AChangedSnapshotUpsertsOnlyChangesAndRecordsRollForwardAndBack) {
  ASSERT_TRUE(Import(WriteFile("day1.csv", std::string(kHeader) + Row(1, 0) + Row(2, 45) +
                                               Row(3, 9) + Row(4, 70)))
                  .ok());
  // A1 rolls forward (current -> dpd_1_30), A2 rolls back (dpd_31_60 -> current), A3 keeps its
  // bucket with other days, A4 changes only its phone, A5 is new.
  auto r = Import(WriteFile("day2.csv", std::string(kHeader) + Row(1, 3) + Row(2, 0) + Row(3, 12) +
                                            Row(4, 70, "+919800000009") + Row(5, 0)));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->accounts_changed, 5);
  EXPECT_EQ(r->roll_forward, 1);
  EXPECT_EQ(r->roll_back, 1);
  auto rows = conn_->Query("SELECT account_id, from_bucket, to_bucket, movement FROM "
                           "collections_bucket_movements ORDER BY account_id");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Text(0), "A1");
  EXPECT_EQ((*rows)[0].Text(3), "roll_forward");
  EXPECT_EQ((*rows)[0].Text(2), "dpd_1_30");
  EXPECT_EQ((*rows)[1].Text(0), "A2");
  EXPECT_EQ((*rows)[1].Text(3), "roll_back");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger_events WHERE type = 'portfolio_buckets_moved'"), 1);
  // Unchanged day-2 file: nothing more.
  auto same = Import(WriteFile("day2b.csv", std::string(kHeader) + Row(1, 3) + Row(2, 0) +
                                                Row(3, 12) + Row(4, 70, "+919800000009") + Row(5, 0)));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->accounts_changed, 0);
}

TEST_P(CollectionsDbTest, ContactsAreSealedUnderEachCustomersOwnSubject) {
  ASSERT_TRUE(Import(WriteFile("day1.csv", std::string(kHeader) + Row(1, 0) + Row(2, 45))).ok());
  auto rows = conn_->Query("SELECT payload FROM ledger_events");
  ASSERT_TRUE(rows.ok());
  std::string all;
  for (const auto& r : *rows) all += r.Text(0);
  EXPECT_EQ(all.find("+919800000001"), std::string::npos);
  EXPECT_EQ(all.find("c1@example.com"), std::string::npos);
  EXPECT_EQ(all.find("Name 1"), std::string::npos);
  auto a1 = GetAccount(*conn_, "acme", "A1");
  auto a2 = GetAccount(*conn_, "acme", "A2");
  ASSERT_TRUE(a1.ok() && a1->has_value() && a2.ok() && a2->has_value());
  EXPECT_EQ((*a1)->contact.rfind("sealed:colcus_C1:", 0), 0u) << (*a1)->contact;
  EXPECT_EQ((*a2)->contact.rfind("sealed:colcus_C2:", 0), 0u) << (*a2)->contact;
  // Erasure scrubs the projection's copy of one customer only.
  auto tx = conn_->Begin();
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(ScrubSubject(**tx, "acme", "colcus_C1").ok());
  ASSERT_TRUE((*tx)->Commit().ok());
  EXPECT_EQ((*GetAccount(*conn_, "acme", "A1"))->contact, "");
  EXPECT_NE((*GetAccount(*conn_, "acme", "A2"))->contact, "");
}

TEST_P(CollectionsDbTest, AnInterruptedImportResumesAndEveryRowLandsOnce) {
  std::string text(kHeader);
  for (int i = 1; i <= 23; ++i) text += Row(i, i * 7);
  const auto path = WriteFile("big.csv", text);
  // The first run dies after three chunks: later chunks never reach the writer.
  std::atomic<int> submitted{0};
  auto dying = [&](ledger::Command c, ledger::CommandCallback done) {
    if (submitted++ < 3) {
      writer_->Submit(std::move(c), std::move(done));
    } else {
      done(Error::Unavailable("killed"));
    }
  };
  auto first = Import(path, 2, dying);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM collections_imports WHERE status = 'running'"), 1);
  auto second = Import(path, 2);
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_TRUE(second->resumed);
  EXPECT_EQ(second->chunks, 12);
  EXPECT_EQ(second->chunks_replayed, 3);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM collections_accounts"), 23);
  const auto items = UpsertedItems();
  EXPECT_EQ(items.size(), 23u);
  for (const auto& [account, n] : items) EXPECT_EQ(n, 1) << account;
}

TEST_P(CollectionsDbTest, AChunkTakesAtMostTheRowLimit) {
  PortfolioRow row;
  row.account_id = "A";
  row.customer_id = "C";
  row.product = "card";
  row.currency = "INR";
  row.bucket = "current";
  auto chunk = [&](size_t n, std::string id) {
    Json rows = Json::array();
    for (size_t i = 0; i < n; ++i) {
      row.account_id = "A" + std::to_string(i);
      rows.push_back(ChunkRowToJson(row));
    }
    return writer_->SubmitAndWait(ledger::Command{
        "acme", id, std::string(kImportPortfolioChunk), "system",
        Json{{"import_id", "imp_x"}, {"chunk_index", 0}, {"rows", std::move(rows)}}});
  };
  auto at_limit = chunk(kImportChunkRowsMax, "c1");
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().ToString();
  EXPECT_EQ(at_limit->result["changed"], static_cast<int64_t>(kImportChunkRowsMax));
  auto past = chunk(kImportChunkRowsMax + 1, "c2");
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().field, "rows");
  EXPECT_EQ(past.error().rule, "max_items");
}

// Rows of long fields: a chunk is cut when its text reaches kImportChunkBytesMax, before the
// row limit, so the command stays within the writer's limits and every row still lands.
TEST_P(CollectionsDbTest, AChunkOfLongRowsIsCutAtItsByteLimit) {
  const std::string long_text(kImportFieldBytesMax, 'x');
  std::string text = "account_id,customer_id,product,currency,outstanding,days_past_due,branch,"
                     "region,zone,address,name,email\n";
  constexpr int kRows = 1000;
  for (int i = 0; i < kRows; ++i) {
    std::string id = std::to_string(i);
    text += long_text.substr(id.size()) + id + "," + std::string(kCustomerIdBytesMax - id.size(), 'c') +
            id + "," + long_text + ",INR,1.00,0," + long_text + "," + long_text + "," + long_text +
            "," + long_text + "," + long_text + "," + long_text.substr(12) + "@example.com\n";
  }
  auto r = Import(WriteFile("long.csv", text), kImportChunkRowsMax);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->rows_rejected, 0);
  EXPECT_EQ(r->chunks, 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM collections_accounts"), kRows);
}

TEST_P(CollectionsDbTest, AChunkRowWithABadFieldIsRefusedNamingIt) {
  PortfolioRow bad;
  bad.account_id = "A";
  bad.customer_id = "C/1";
  bad.product = "p";
  bad.currency = "INR";
  bad.bucket = "current";
  Json row = ChunkRowToJson(bad);
  auto r = writer_->SubmitAndWait(ledger::Command{
      "acme", "", std::string(kImportPortfolioChunk), "system",
      Json{{"import_id", "imp_x"}, {"chunk_index", 0}, {"rows", Json::array({row})}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "rows[0].customer_id");
  EXPECT_EQ(r.error().rule, "identifier");
}

// Attempts feed the history the policy counts: seven outbound calls within the last hours, then
// the eighth is refused under Regulation F naming its rule, and nothing is recorded; an inbound
// call is recorded all the same. The account is in Asia/Kolkata, where kStart is 15:45.
TEST_P(CollectionsDbTest, RecordedAttemptsFeedThePolicyAndTheEighthCallIsRefused) {
  ASSERT_TRUE(Import(WriteFile("d.csv", "account_id,customer_id,product,currency,outstanding,"
                                        "days_past_due,zone\nA1,C1,card,INR,10.00,5,Asia/Kolkata\n"))
                  .ok());
  auto attempt = [&](std::string direction, int minutes_ago) {
    return writer_->SubmitAndWait(ledger::Command{
        "acme", "", std::string(kRecordContactAttempt), "usr_agent",
        Json{{"account_id", "A1"}, {"channel", "voice"}, {"direction", direction},
             {"outcome", "no_answer"}, {"note", "left no message"},
             {"at", FormatRfc3339(Instant{kStart.us - int64_t{minutes_ago} * 60'000'000})}}});
  };
  for (int i = 0; i < 7; ++i) {
    auto r = attempt("outbound", 180 - 20 * i);
    ASSERT_TRUE(r.ok()) << i << ": " << r.error().ToString();
  }
  auto eighth = attempt("outbound", 0);
  ASSERT_FALSE(eighth.ok());
  EXPECT_EQ(eighth.error().code, ErrorCode::kConflict);
  EXPECT_EQ(eighth.error().rule, "contact_policy");
  EXPECT_NE(eighth.error().message.find("reg_f_7_in_7"), std::string::npos) << eighth.error().message;
  EXPECT_TRUE(attempt("inbound", 0).ok());
  auto history = collections_->Attempts(*conn_, "acme", "A1", 100);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 8u);
  EXPECT_EQ(history->front().direction, "inbound");
  EXPECT_EQ(history->front().note.rfind("sealed:colcus_C1:", 0), 0u);
  auto check = collections_->Check(*conn_, "acme", "A1", Channel::kVoice, Purpose::kCollection, kStart);
  ASSERT_TRUE(check.ok() && check->has_value());
  EXPECT_FALSE((*check)->allowed);
  ASSERT_EQ((*check)->reasons.size(), 1u);
  EXPECT_EQ((*check)->reasons[0].rule, "reg_f_7_in_7");
  // An account of no import is not found; the worklist shows the refusal and its reason.
  auto none = writer_->SubmitAndWait(ledger::Command{
      "acme", "", std::string(kRecordContactAttempt), "usr_agent",
      Json{{"account_id", "A9"}, {"channel", "voice"}, {"direction", "inbound"}, {"outcome", "busy"}}});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  auto page = collections_->Worklist(*conn_, "acme", Channel::kVoice, kStart, "", 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_FALSE(page->items[0].check.allowed);
}

INSTANTIATE_TEST_SUITE_P(All, CollectionsDbTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::collections
