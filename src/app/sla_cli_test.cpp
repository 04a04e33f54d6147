// Goal: `opsbox sla due` prints the due instant the cases module computes, as {"due_at":"…Z"}
// with --json, and refuses a bad calendar file, start or target naming the flag, field and rule.
#include "app/sla_cli.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "cases/business_calendar.hpp"

namespace opsbox::app {
namespace {

class SlaDueCli : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "sla_cli_test_calendar.json";
    Write(R"({"zone": "Asia/Kolkata",
      "hours": {"mon": [["09:30","13:00"],["14:00","18:00"]], "tue": [["09:30","13:00"],["14:00","18:00"]],
                "wed": [], "thu": [], "fri": [["09:30","13:00"],["14:00","18:00"]], "sat": [], "sun": []},
      "holidays": ["2026-01-26"]})");
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void Write(const std::string& text) { std::ofstream(path_) << text; }
  int Run(const std::string& start, int64_t minutes, bool json) {
    out_.str(""), err_.str("");
    return RunSlaDue({path_, start, minutes, json}, out_, err_);
  }
  std::string path_;
  std::ostringstream out_, err_;
};

TEST_F(SlaDueCli, PrintsTheDueInstantAsJsonAcrossAWeekendAndAHoliday) {
  // Friday 23 Jan 17:00 IST + 120 business minutes: 60 on Friday, Monday is a holiday, Tuesday
  // 09:30 + 60 = 10:30 IST.
  ASSERT_EQ(Run("2026-01-23T17:00:00+05:30", 120, true), 0) << err_.str();
  EXPECT_EQ(out_.str(), "{\"due_at\":\"2026-01-27T05:00:00.000000Z\"}\n");
  ASSERT_EQ(Run("2026-01-23T11:30:00Z", 120, false), 0) << err_.str();
  EXPECT_EQ(out_.str(), "2026-01-27T05:00:00.000000Z\n");
}

TEST_F(SlaDueCli, NamesTheCalendarFieldAndRuleOfAMistake) {
  Write(R"({"zone": "Asia/Kolkata", "hours": {"mon": [["09:30","25:00"]]}})");
  EXPECT_EQ(Run("2026-01-23T11:30:00Z", 1, true), 2);
  EXPECT_NE(err_.str().find("hours.mon[0][1] (rule clock)"), std::string::npos) << err_.str();
  EXPECT_EQ(out_.str(), "");
}

TEST_F(SlaDueCli, RefusesABadStartAndATargetOnePastTheLimit) {
  EXPECT_EQ(Run("2026-01-23 11:30", 1, true), 2);
  EXPECT_NE(err_.str().find("--start (rule rfc3339)"), std::string::npos) << err_.str();
  EXPECT_EQ(Run("2026-01-23T11:30:00Z", cases::kSlaTargetMinutesMax + 1, true), 2);
  EXPECT_NE(err_.str().find("--business-minutes (rule range)"), std::string::npos) << err_.str();
  EXPECT_EQ(Run("2026-01-23T11:30:00Z", -1, true), 2);
}

TEST_F(SlaDueCli, RefusesAMissingCalendarFile) {
  std::remove(path_.c_str());
  EXPECT_EQ(Run("2026-01-23T11:30:00Z", 1, true), 2);
  EXPECT_NE(err_.str().find("--calendar (rule readable)"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace opsbox::app
