// Goal: through a real ledger writer, on SQLite and PostgreSQL, the wfm commands land in their
// projections in the same transaction (forecasts listed newest first and read back whole,
// targets upserted one row per queue, schedules read back), and telephony external events feed
// intraday while other sources and malformed payloads are recorded but ignored.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/random.hpp"
#include "integrations/integrations.hpp"
#include "ledger/writer.hpp"
#include "store/testing/test_database.hpp"
#include "wfm/planning.hpp"

namespace opsbox::wfm {
namespace {

using store::Dialect;

constexpr uint64_t kSeed = 9090;
const Instant kNow{1795342530000000};  // 2026-11-22T10:15:30Z

class PlanningDbTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    InitCrypto();
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    auto db = store::NewTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.error().ToString();
    conn_ = std::move(*conn);
    integrations::RegisterIntegrations(registry_, cache_, nullptr, {});
    RegisterWfm(registry_);
    writer_ =
        std::make_unique<ledger::Writer>(*db_, registry_, clock_, random_, ledger::WriterOptions{});
    ASSERT_TRUE(writer_->Start().ok());
  }
  void TearDown() override {
    if (writer_) writer_->Stop();
  }

  Result<ledger::CommandOutcome> Submit(std::string_view type, Json payload) {
    return writer_->SubmitAndWait(
        ledger::Command{"acme", "", std::string(type), "usr_test", std::move(payload)});
  }

  Json SaveForecast(const std::string& queue, double volume) {
    Json p = {{"queue", queue},
              {"zone", "UTC"},
              {"interval_min", 60},
              {"first_start_local", "2026-11-22T00:00:00"},
              {"volume", std::vector<double>(24, volume)},
              {"aht_s", std::vector<double>(24, 180)}};
    auto r = Submit(kSaveForecast, p);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? r->result : Json();
  }

  Status Telephony(const std::string& id, const std::string& type, Json payload,
                   const std::string& source = "telephony") {
    auto r =
        Submit(integrations::kRecordExternalEvent, Json{{"source", source},
                                                        {"type", type},
                                                        {"external_id", id},
                                                        {"occurred_at", "2026-11-22T09:20:00Z"},
                                                        {"payload", std::move(payload)}});
    if (!r.ok()) return r.error();
    return Ok();
  }

  ManualClock clock_{kNow};
  SeededRandom random_{kSeed};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Connection> conn_;
  ledger::Registry registry_;
  integrations::SubscriptionCache cache_;
  std::unique_ptr<ledger::Writer> writer_;
};

TEST_P(PlanningDbTest, SavedForecastsAreListedNewestFirstAndReadBackWhole) {
  const Json first = SaveForecast("cards", 10);
  const Json second = SaveForecast("cards", 20);
  SaveForecast("loans", 5);
  auto list = ListForecasts(*conn_, "acme", std::string("cards"), "", 1);
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  ASSERT_EQ((*list)["items"].size(), 1u);
  EXPECT_EQ((*list)["items"][0]["forecast_id"], second["forecast_id"]);
  auto next = ListForecasts(*conn_, "acme", std::string("cards"),
                            (*list)["next_cursor"].get<std::string>(), 10);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ((*next)["items"].size(), 1u);
  EXPECT_EQ((*next)["items"][0]["forecast_id"], first["forecast_id"]);
  EXPECT_TRUE((*next)["next_cursor"].is_null());
  auto all = ListForecasts(*conn_, "acme", std::nullopt, "", 10);
  EXPECT_EQ((*all)["items"].size(), 3u);
  auto body = GetForecast(*conn_, "acme", second["forecast_id"].get<std::string>());
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["volume"][0], 20);
  EXPECT_EQ((*body)["created_at"], FormatRfc3339(kNow));
  auto other_tenant = GetForecast(*conn_, "other", second["forecast_id"].get<std::string>());
  ASSERT_FALSE(other_tenant.ok());
  EXPECT_EQ(other_tenant.error().code, ErrorCode::kNotFound);
}

TEST_P(PlanningDbTest, TargetsAreUpsertedOneRowPerQueue) {
  ASSERT_TRUE(
      Submit(kSetStaffingTargets, Json{{"queue", "cards"}, {"targets", {{"service_level", 0.8}}}})
          .ok());
  ASSERT_TRUE(
      Submit(kSetStaffingTargets, Json{{"queue", "cards"}, {"targets", {{"service_level", 0.9}}}})
          .ok());
  auto t = GetStaffingTargets(*conn_, "acme", "cards");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_EQ((*t)["targets"]["service_level"], 0.9);
  auto missing = GetStaffingTargets(*conn_, "acme", "loans");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto bad =
      Submit(kSetStaffingTargets, Json{{"queue", "cards"}, {"targets", {{"service_level", 2}}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "targets.service_level");
}

TEST_P(PlanningDbTest, SavedScheduleIsReadBackAndFeedsIntraday) {
  std::vector<double> scheduled(24, 0);
  for (int h = 8; h < 16; ++h) scheduled[h] = 3;
  Json p = {{"queue", "cards"},
            {"start_date", "2026-11-22"},
            {"skill", "default"},
            {"interval_min", 60},
            {"days", 1},
            {"coverage", {{"required", scheduled}, {"scheduled", scheduled}}},
            {"schedule", {{"shifts", Json::array()}}}};
  auto r = Submit(kSaveSchedule, p);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const std::string id = r->result["schedule_id"];
  auto back = GetSchedule(*conn_, "acme", id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)["coverage"]["scheduled"][9], 3);
  SaveForecast("cards", 10);
  ZoneLoader utc = [](std::string_view) -> Result<ZoneRules> { return ZoneRules::Utc(); };
  auto day = Intraday(*conn_, "acme", "cards", "2026-11-22", std::nullopt, kNow, utc);
  ASSERT_TRUE(day.ok()) << day.error().ToString();
  EXPECT_EQ((*day)["schedule_id"], id);
  EXPECT_EQ((*day)["intervals"][12]["scheduled_agents"], 3);
  EXPECT_EQ((*day)["targets_source"], "default");
  EXPECT_FALSE((*day)["intervals"][12]["gap"].is_null());
}

TEST_P(PlanningDbTest, TelephonyEventsFeedIntradayAndOthersAreRecordedButIgnored) {
  ASSERT_TRUE(Telephony("c1-o", "contact.offered", {{"queue", "cards"}}).ok());
  ASSERT_TRUE(
      Telephony("c1-a", "contact.answered", {{"queue", "cards"}, {"wait_s", 12}, {"handle_s", 300}})
          .ok());
  ASSERT_TRUE(Telephony("c2-o", "contact.offered", {{"queue", "cards"}}).ok());
  ASSERT_TRUE(Telephony("c2-x", "contact.abandoned", {{"queue", "cards"}, {"wait_s", 45}}).ok());
  // Recorded, not counted: another source, a missing queue, a negative wait.
  ASSERT_TRUE(Telephony("x1", "contact.offered", {{"queue", "cards"}}, "crm").ok());
  ASSERT_TRUE(Telephony("x2", "contact.offered", {{"line", 3}}).ok());
  ASSERT_TRUE(Telephony("x3", "contact.abandoned", {{"queue", "cards"}, {"wait_s", -4}}).ok());
  ZoneLoader utc = [](std::string_view) -> Result<ZoneRules> { return ZoneRules::Utc(); };
  auto day = Intraday(*conn_, "acme", "cards", "2026-11-22", std::string("UTC"), kNow, utc);
  ASSERT_TRUE(day.ok()) << day.error().ToString();
  EXPECT_EQ((*day)["totals"]["offered"], 2);
  EXPECT_EQ((*day)["totals"]["answered"], 1);
  EXPECT_EQ((*day)["totals"]["abandoned"], 1);
  // The answered call arrived at 09:19:48 and the abandoned one at 09:19:15: the 09:15 interval.
  const Json& row = (*day)["intervals"][9 * 4 + 1];
  EXPECT_EQ(row["start_local"], "2026-11-22T09:15:00");
  EXPECT_EQ(row["answered"], 1);
  EXPECT_EQ(row["abandoned"], 1);
  EXPECT_EQ(row["aht_s"], 300);
  EXPECT_EQ((*day)["forecast_id"], nullptr);
}

INSTANTIATE_TEST_SUITE_P(All, PlanningDbTest, ::testing::ValuesIn(store::TestDialects()),
                         ::testing::PrintToStringParamName());

}  // namespace
}  // namespace opsbox::wfm
