// Goal: the can-contact CLI's files (account, history, policy) parse strictly: every mistake is an
// error naming the field and the rule, and every limit holds at the limit and fails one past it.
#include "collections/contact_files.hpp"

#include <gtest/gtest.h>

#include <string>

namespace opsbox::collections {
namespace {

TEST(ContactFiles, AccountFileReadsEveryField) {
  auto a = ParseAccountFile(R"({"account_id": "acct_1", "zone": "America/Chicago",
    "phone": "+12015550123", "consents": {"sms": true, "whatsapp": false},
    "flags": ["dispute", "vulnerable"], "agent_particulars_sent_at": "2026-03-01T00:00:00Z"})");
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(a->account_id, "acct_1");
  EXPECT_EQ(*a->zone, "America/Chicago");
  EXPECT_EQ(a->consent_given, 1 << static_cast<int>(Channel::kSms));
  EXPECT_EQ(a->consent_refused, 1 << static_cast<int>(Channel::kWhatsapp));
  EXPECT_EQ(a->flags, kFlagDispute | kFlagVulnerable);
  EXPECT_TRUE(a->agent_particulars_sent_at);
}

TEST(ContactFiles, AccountFileMistakesNameTheFieldAndRule) {
  struct Case {
    const char* json;
    const char* field;
    const char* rule;
  };
  for (const Case& c : {
           Case{R"({"phone": "+12015550123"})", "account_id", "required"},
           Case{R"({"account_id": "a", "phone": "+12015550123", "colour": 1})", "colour",
                "unknown_field"},
           Case{R"({"account_id": "a", "phone": "2015550123"})", "phone", "e164"},
           Case{R"({"account_id": "a"})", "phone", "required"},
           Case{R"({"account_id": "a", "phone": "+12015550123", "flags": ["vip"]})", "flags[0]",
                "one_of"},
           Case{R"({"account_id": "a", "phone": "+12015550123", "consents": {"fax": true}})",
                "consents.fax", "unknown_field"},
           Case{R"({"account_id": "a", "phone": "+12015550123", "consents": {"sms": "yes"}})",
                "consents.sms", "type"},
       }) {
    auto a = ParseAccountFile(c.json);
    ASSERT_FALSE(a.ok()) << c.json;
    EXPECT_EQ(a.error().field, c.field) << c.json;
    EXPECT_EQ(a.error().rule, c.rule) << c.json;
  }
}

TEST(ContactFiles, HistoryIsSortedAndStrict) {
  auto h = ParseHistoryFile(R"([
    {"at": "2026-03-05T10:00:00Z", "channel": "sms", "direction": "outbound", "outcome": "no_answer"},
    {"at": "2026-03-04T10:00:00+05:30", "channel": "voice", "direction": "inbound",
     "outcome": "promise_to_pay"}])");
  ASSERT_TRUE(h.ok()) << h.error().ToString();
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].channel, Channel::kVoice);
  EXPECT_EQ((*h)[0].direction, Direction::kInbound);
  EXPECT_EQ((*h)[0].outcome, Outcome::kPromiseToPay);
  auto bad = ParseHistoryFile(R"([{"at": "2026-03-05T10:00:00Z", "channel": "sms",
    "direction": "outbound", "outcome": "no_answer"}, {"at": "2026-03-05T10:00:00Z",
    "channel": "sms", "direction": "outbound", "outcome": "hung_up"}])");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "history[1].outcome");
  EXPECT_EQ(bad.error().rule, "one_of");
  EXPECT_EQ(ParseHistoryFile(R"([{"at": "yesterday", "channel": "sms", "direction": "outbound",
    "outcome": "busy"}])").error().field, "history[0].at");
  EXPECT_EQ(ParseHistoryFile("{}").error().rule, "type");
}

std::string HistoryOf(size_t n) {
  std::string s = "[";
  for (size_t i = 0; i < n; ++i) {
    s += i ? "," : "";
    s += R"({"at":"2026-03-05T10:00:00Z","channel":"sms","direction":"outbound","outcome":"busy"})";
  }
  return s + "]";
}

TEST(ContactFiles, HistoryHoldsItsEntryLimitAndRefusesOneMore) {
  EXPECT_TRUE(ParseHistoryFile(HistoryOf(kHistoryEntriesMax)).ok());
  auto over = ParseHistoryFile(HistoryOf(kHistoryEntriesMax + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().rule, "max_items");
}

TEST(ContactFiles, FileLargerThanTheByteLimitIsRefused) {
  const std::string big(kContactFileBytesMax + 1, ' ');
  EXPECT_EQ(ParseAccountFile(big).error().rule, "max_bytes");
}

TEST(ContactFiles, PolicyFileAdjustsThePreset) {
  auto p = ParsePolicyFile(R"({"calling_window": {"start": "09:00", "end": "20:30"},
    "frequency_caps": [{"channel": "sms", "attempts_max": 3, "window_hours": 168}],
    "holidays": ["2026-12-25", "2026-01-26", "2026-12-25"], "agent_particulars": false})",
                           *PresetPolicy("rbi"));
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->window_start_s, 9 * 3600);
  EXPECT_EQ(p->window_end_s, 20 * 3600 + 1800);
  ASSERT_EQ(p->frequency_caps.size(), 1u);
  EXPECT_EQ(p->frequency_caps[0].window, Duration::Hours(168));
  EXPECT_EQ(p->holidays, (std::vector<int64_t>{DaysFromCivil(2026, 1, 26), DaysFromCivil(2026, 12, 25)}));
  EXPECT_FALSE(p->agent_particulars);
  EXPECT_FALSE(p->reg_f);
}

TEST(ContactFiles, PolicyFileMistakesNameTheFieldAndRule) {
  const auto base = *PresetPolicy("reg_f");
  struct Case {
    const char* json;
    const char* field;
    const char* rule;
  };
  for (const Case& c : {
           Case{R"({"calling_window": {"start": "8am"}})", "calling_window.start", "time_of_day"},
           Case{R"({"calling_window": {"start": "22:00"}})", "calling_window", "range"},
           Case{R"({"holidays": ["25/12/2026"]})", "holidays[0]", "date"},
           Case{R"({"frequency_caps": [{"channel": "fax", "attempts_max": 1, "window_hours": 1}]})",
                "frequency_caps[0].channel", "one_of"},
           Case{R"({"frequency_caps": [{"channel": "sms", "attempts_max": 0, "window_hours": 1}]})",
                "frequency_caps[0].attempts_max", "range"},
           Case{R"({"frequency_caps": [{"channel": "sms", "attempts_max": 1}]})",
                "frequency_caps[0].window_hours", "integer"},
           Case{R"({"reg_f": "yes"})", "reg_f", "type"},
           Case{R"({"tcpa": true})", "tcpa", "unknown_field"},
       }) {
    auto p = ParsePolicyFile(c.json, base);
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(p.error().field, c.field) << c.json;
    EXPECT_EQ(p.error().rule, c.rule) << c.json;
  }
}

TEST(ContactFiles, AccountWithoutZoneUsesItsPhoneCountry) {
  auto zones = *ZoneCatalog::Load();
  auto a = *ParseAccountFile(R"({"account_id": "a", "phone": "+919876543210"})");
  const uint32_t set = *ResolveZoneSet(a, zones);
  ASSERT_EQ(zones.Set(set).zones.size(), 1u);
  EXPECT_EQ(zones.Zone(zones.Set(set).zones[0]).name(), "Asia/Kolkata");
  a.zone = "Mars/Olympus_Mons";
  EXPECT_EQ(ResolveZoneSet(a, zones).error().rule, "known_zone");
}

}  // namespace
}  // namespace opsbox::collections
