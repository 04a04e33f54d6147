// Goal: `opsbox collections can-contact` prints the issue's JSON shape exactly — allowed, every
// reason with its rule and detail, the next allowed instant or null — and refuses bad input with
// status 2 and a message naming the file, the field and the rule.
#include "app/collections_cli.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace opsbox::app {
namespace {

class CanContactCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("opsbox_cc_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  int Run(CanContactOptions o) {
    out_.str("");
    err_.str("");
    return RunCanContact(o, out_, err_);
  }
  std::filesystem::path dir_;
  std::ostringstream out_, err_;
};

TEST_F(CanContactCli, PrintsTheIssueJsonForARefusedCall) {
  CanContactOptions o;
  o.preset = "reg_f";
  o.account_file = Write("account.json", R"({"account_id": "acct_1", "zone": "America/New_York",
      "phone": "+12015550123", "consents": {"sms": false}, "flags": []})");
  o.history_file = Write("history.json", R"([{"at": "2026-03-04T15:00:00Z", "channel": "voice",
      "direction": "outbound", "outcome": "right_party_contact"}])");
  o.channel = "voice";
  o.at = "2026-03-10T15:00:00Z";
  o.json = true;
  ASSERT_EQ(Run(o), 0) << err_.str();
  const auto j = nlohmann::json::parse(out_.str());
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j["allowed"], false);
  ASSERT_EQ(j["reasons"].size(), 1u);
  EXPECT_EQ(j["reasons"][0]["rule"], "reg_f_after_conversation");
  EXPECT_EQ(j["next_allowed_at"], "2026-03-11T15:00:00.000000Z");
}

TEST_F(CanContactCli, AllowedContactHasNoReasonsAndNextAllowedIsNow) {
  CanContactOptions o;
  o.preset = "reg_f";
  o.account_file = Write("account.json", R"({"account_id": "a", "phone": "+12015550123"})");
  o.channel = "email";
  o.at = "2026-03-04T19:00:00Z";
  o.json = true;
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "{\"allowed\":true,\"reasons\":[],\"next_allowed_at\":\"2026-03-04T19:00:00.000000Z\"}\n");
}

TEST_F(CanContactCli, PermanentBlockHasNullNextInstantAndPolicyFileApplies) {
  CanContactOptions o;
  o.preset = "rbi";
  o.policy_file = Write("policy.json", R"({"agent_particulars": false,
      "holidays": ["2026-03-04"]})");
  o.account_file = Write("account.json", R"({"account_id": "a", "phone": "+919876543210",
      "flags": ["cease_communication"]})");
  o.channel = "whatsapp";
  o.at = "2026-03-04T06:00:00Z";
  o.json = true;
  ASSERT_EQ(Run(o), 0) << err_.str();
  const auto j = nlohmann::json::parse(out_.str());
  std::vector<std::string> rules;
  for (const auto& r : j["reasons"]) rules.push_back(r["rule"]);
  EXPECT_EQ(rules, (std::vector<std::string>{"consent", "cease_communication", "holiday"}));
  EXPECT_TRUE(j["next_allowed_at"].is_null());
}

TEST_F(CanContactCli, BadInputExitsTwoNamingTheFieldAndRule) {
  CanContactOptions o;
  o.preset = "reg_f";
  o.account_file = Write("account.json", R"({"account_id": "a", "phone": "+12015550123"})");
  o.history_file = Write("history.json", R"([{"at": "2026-03-04T15:00:00Z", "channel": "pigeon",
      "direction": "outbound", "outcome": "busy"}])");
  o.channel = "voice";
  o.at = "2026-03-04T15:00:00Z";
  EXPECT_EQ(Run(o), 2);
  EXPECT_NE(err_.str().find("field history[0].channel, rule one_of"), std::string::npos)
      << err_.str();
  o.history_file.clear();
  o.at = "tomorrow";
  EXPECT_EQ(Run(o), 2);
  EXPECT_NE(err_.str().find("--at"), std::string::npos) << err_.str();
  o.at = "2026-03-04T15:00:00Z";
  o.preset = "tcpa";
  EXPECT_EQ(Run(o), 2);
  EXPECT_NE(err_.str().find("rule one_of"), std::string::npos) << err_.str();
}

TEST_F(CanContactCli, TextOutputListsEachReason) {
  CanContactOptions o;
  o.preset = "reg_f";
  o.account_file = Write("account.json", R"({"account_id": "a", "zone": "America/New_York",
      "flags": ["dispute"]})");
  o.channel = "voice";
  o.at = "2026-03-04T12:59:00Z";
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "refused\n"
            "  calling_window: local time 07:59 in America/New_York is outside the calling "
            "window 08:00–21:00\n"
            "  dispute_hold: the debt is disputed; collection is on hold until the dispute is "
            "resolved\n"
            "next allowed: never (a rule must change)\n");
}

}  // namespace
}  // namespace opsbox::app
