// Goal: every contact policy rule holds at the boundaries issue #11 names — 07:59/08:00, 19:00
// and 21:00 local, the 7th and 8th call, a conversation 6 and 8 days ago, DST days, a customer
// in another zone, no zone — and every refusal names its rule and the next allowed instant.
// Zones come from the machine's tzdata (/usr/share/zoneinfo), as in production.
#include "collections/contact_policy.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace opsbox::collections {
namespace {

Instant At(const char* text) {
  auto t = ParseRfc3339(text, "at");
  EXPECT_TRUE(t.ok()) << text;
  return *t;
}

ZoneCatalog& Zones() {
  static ZoneCatalog zones = [] {
    auto z = ZoneCatalog::Load();
    EXPECT_TRUE(z.ok()) << z.error().ToString();
    return std::move(z).value();
  }();
  return zones;
}

ContactPolicy Preset(const char* name) { return *PresetPolicy(name); }

ContactAccount InZone(const char* zone) {
  ContactAccount a;
  auto set = Zones().ResolveZone(zone);
  EXPECT_TRUE(set.ok()) << zone;
  a.zone_set = *set;
  return a;
}

ContactAccount InCountry(const char* country) {
  ContactAccount a;
  a.zone_set = *Zones().ResolveCountry(country);
  return a;
}

std::vector<Rule> Rules(const ContactDecision& d) {
  std::vector<Rule> out;
  for (const Reason& r : d.Reasons()) out.push_back(r.rule);
  return out;
}

ContactDecision Check(const ContactPolicy& p, const ContactAccount& a, Channel c, const char* at,
                      Purpose purpose = Purpose::kCollection) {
  return CanContact(p, Zones(), a, c, purpose, At(at));
}

Attempt Call(const char* at, Outcome outcome = Outcome::kNoAnswer,
             Direction direction = Direction::kOutbound, Channel channel = Channel::kVoice) {
  return Attempt{At(at), channel, direction, outcome};
}

// --- calling window -------------------------------------------------------------------------

TEST(ContactPolicy, RegFRefusesAt0759LocalAndAllowsAt0800) {
  const auto p = Preset("reg_f");
  const auto a = InZone("America/New_York");  // EST, UTC-5 on 2026-03-04
  const auto early = Check(p, a, Channel::kVoice, "2026-03-04T12:59:00Z");
  EXPECT_FALSE(early.allowed);
  EXPECT_EQ(Rules(early), std::vector<Rule>{Rule::kCallingWindow});
  ASSERT_TRUE(early.next_allowed_at);
  EXPECT_EQ(FormatRfc3339(*early.next_allowed_at), "2026-03-04T13:00:00.000000Z");
  EXPECT_EQ(DescribeReason(early.reasons[0], p, Zones()),
            "local time 07:59 in America/New_York is outside the calling window 08:00–21:00");
  const auto on_time = Check(p, a, Channel::kVoice, "2026-03-04T13:00:00Z");
  EXPECT_TRUE(on_time.allowed);
  EXPECT_EQ(on_time.reason_count, 0);
  EXPECT_EQ(*on_time.next_allowed_at, At("2026-03-04T13:00:00Z"));
}

TEST(ContactPolicy, RegFAllowsAt2059LocalAndRefusesAt2100UntilNextMorning) {
  const auto p = Preset("reg_f");
  const auto a = InZone("America/New_York");
  EXPECT_TRUE(Check(p, a, Channel::kVoice, "2026-03-05T01:59:59Z").allowed);  // 20:59:59
  const auto late = Check(p, a, Channel::kVoice, "2026-03-05T02:00:00Z");     // 21:00
  EXPECT_EQ(Rules(late), std::vector<Rule>{Rule::kCallingWindow});
  EXPECT_EQ(*late.next_allowed_at, At("2026-03-05T13:00:00Z"));
}

TEST(ContactPolicy, RbiAllowsAt1859AndRefusesAt1900IndiaTime) {
  const auto p = Preset("rbi");
  auto a = InZone("Asia/Kolkata");  // UTC+05:30
  a.agent_particulars_sent_at = At("2026-03-01T00:00:00Z");
  EXPECT_TRUE(Check(p, a, Channel::kVoice, "2026-03-04T13:29:00Z").allowed);  // 18:59
  const auto seven_pm = Check(p, a, Channel::kVoice, "2026-03-04T13:30:00Z");
  EXPECT_EQ(Rules(seven_pm), std::vector<Rule>{Rule::kCallingWindow});
  EXPECT_EQ(*seven_pm.next_allowed_at, At("2026-03-05T02:30:00Z"));  // 08:00 IST
  EXPECT_FALSE(Check(p, a, Channel::kVoice, "2026-03-05T02:29:00Z").allowed);  // 07:59
  EXPECT_TRUE(Check(p, a, Channel::kVoice, "2026-03-05T02:30:00Z").allowed);   // 08:00
}

TEST(ContactPolicy, SpringForwardDayOpensAt0800DaylightTime) {
  const auto p = Preset("reg_f");
  const auto a = InZone("America/New_York");  // 2026-03-08 02:00 EST -> 03:00 EDT
  const auto night = Check(p, a, Channel::kVoice, "2026-03-08T03:00:00Z");  // 22:00 EST, Mar 7
  EXPECT_EQ(*night.next_allowed_at, At("2026-03-08T12:00:00Z"));           // 08:00 EDT
  EXPECT_FALSE(Check(p, a, Channel::kVoice, "2026-03-08T11:59:59Z").allowed);
  EXPECT_TRUE(Check(p, a, Channel::kVoice, "2026-03-08T12:00:00Z").allowed);
}

TEST(ContactPolicy, FallBackDayOpensAt0800StandardTime) {
  const auto p = Preset("reg_f");
  const auto a = InZone("America/New_York");  // 2026-11-01 02:00 EDT -> 01:00 EST
  EXPECT_FALSE(Check(p, a, Channel::kVoice, "2026-11-01T12:59:59Z").allowed);  // 07:59:59 EST
  EXPECT_TRUE(Check(p, a, Channel::kVoice, "2026-11-01T13:00:00Z").allowed);
  const auto late = Check(p, a, Channel::kVoice, "2026-11-01T02:00:00Z");  // 22:00 EDT Oct 31
  EXPECT_EQ(*late.next_allowed_at, At("2026-11-01T13:00:00Z"));
}

TEST(ContactPolicy, CustomerInAnotherZoneIsCheckedInTheirZone) {
  const auto p = Preset("reg_f");
  const auto la = InZone("America/Los_Angeles");
  const auto d = Check(p, la, Channel::kVoice, "2026-03-04T15:30:00Z");  // 10:30 New York
  EXPECT_EQ(Rules(d), std::vector<Rule>{Rule::kCallingWindow});
  EXPECT_EQ(*d.next_allowed_at, At("2026-03-04T16:00:00Z"));
  EXPECT_NE(DescribeReason(d.reasons[0], p, Zones()).find("America/Los_Angeles"),
            std::string::npos);
}

TEST(ContactPolicy, WithoutZoneTheWindowMustHoldInEveryZoneOfTheCountry) {
  const auto p = Preset("reg_f");
  const auto us = InCountry("US");
  const auto morning = Check(p, us, Channel::kVoice, "2026-03-04T14:00:00Z");  // 09:00 New York
  ASSERT_EQ(Rules(morning), std::vector<Rule>{Rule::kCallingWindow});
  EXPECT_EQ(*morning.next_allowed_at, At("2026-03-04T18:00:00Z"));  // 08:00 Honolulu and Adak
  EXPECT_TRUE(Check(p, us, Channel::kVoice, "2026-03-04T18:00:00Z").allowed);
  EXPECT_TRUE(Check(p, us, Channel::kVoice, "2026-03-05T01:59:00Z").allowed);   // 20:59 New York
  EXPECT_FALSE(Check(p, us, Channel::kVoice, "2026-03-05T02:00:00Z").allowed);  // 21:00 New York
}

TEST(ContactPolicy, PhoneCountryComesFromTheNumber) {
  EXPECT_EQ(*PhoneCountry("+12015550123", "phone"), "US");
  EXPECT_EQ(*PhoneCountry("+919876543210", "phone"), "IN");
  EXPECT_EQ(PhoneCountry("12015550123", "phone").error().rule, "e164");
  EXPECT_EQ(PhoneCountry("+80012345678", "phone").error().rule, "country");
}

TEST(ContactPolicy, UnknownZoneIsRefusedWithoutANextInstant) {
  const auto d = Check(Preset("reg_f"), ContactAccount{}, Channel::kVoice, "2026-03-04T18:00:00Z");
  EXPECT_EQ(Rules(d), std::vector<Rule>{Rule::kCallingWindow});
  EXPECT_FALSE(d.next_allowed_at);
  EXPECT_NE(DescribeReason(d.reasons[0], Preset("reg_f"), Zones()).find("no time zone"),
            std::string::npos);
}

TEST(ContactPolicy, ZoneTableGivesACountryEveryZoneItIsListedIn) {
  auto z = ZoneCatalog::FromZoneTab("# comment\nUS\t+1\tAmerica/New_York\tEastern\n"
                                    "US,CA\t+2\tAmerica/Phoenix\nCA\t+3\tAmerica/Toronto\n");
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->CountryZones("US"), (std::vector<std::string>{"America/New_York", "America/Phoenix"}));
  EXPECT_EQ(z->CountryZones("CA"), (std::vector<std::string>{"America/Phoenix", "America/Toronto"}));
  EXPECT_TRUE(z->CountryZones("FR").empty());
  EXPECT_EQ(*z->ResolveCountry("FR"), kUnknownZoneSet);
  EXPECT_EQ(ZoneCatalog::FromZoneTab("USA\t+1\tAmerica/New_York\n").error().rule, "format");
  EXPECT_EQ(ZoneCatalog::FromZoneTab("US\t+1\n").error().rule, "format");
}

// --- Regulation F call frequency -------------------------------------------------------------

std::vector<Attempt> CallsOnDays(int first_day, int count, Outcome outcome = Outcome::kNoAnswer) {
  std::vector<Attempt> h;
  for (int i = 0; i < count; ++i) {
    char at[40];
    std::snprintf(at, sizeof at, "2026-03-%02dT15:00:00Z", first_day + i);
    h.push_back(Call(at, outcome));
  }
  return h;
}

TEST(ContactPolicy, SeventhCallInSevenDaysIsAllowed) {
  auto a = InZone("America/New_York");
  const auto h = CallsOnDays(5, 6);  // Mar 5..10
  a.history = h;
  EXPECT_TRUE(Check(Preset("reg_f"), a, Channel::kVoice, "2026-03-11T14:00:00Z").allowed);
}

TEST(ContactPolicy, EighthCallInSevenDaysIsRefusedUntilTheOldestLapses) {
  auto a = InZone("America/New_York");
  auto h = CallsOnDays(5, 6);
  h.push_back(Call("2026-03-11T13:00:00Z"));  // 7 calls Mar 5..11
  a.history = h;
  const auto p = Preset("reg_f");
  const auto d = Check(p, a, Channel::kVoice, "2026-03-11T14:00:00Z");
  EXPECT_EQ(Rules(d), std::vector<Rule>{Rule::kRegF7In7});
  EXPECT_EQ(*d.next_allowed_at, At("2026-03-12T15:00:00Z"));  // Mar 5 15:00 + 7 days
  EXPECT_NE(DescribeReason(d.reasons[0], p, Zones()).find("1006.14(b)(2)(i)(A)"),
            std::string::npos);
  EXPECT_FALSE(Check(p, a, Channel::kVoice, "2026-03-12T14:59:59Z").allowed);
  EXPECT_TRUE(Check(p, a, Channel::kVoice, "2026-03-12T15:00:00Z").allowed);
  // Other channels and the rbi preset do not count calls.
  a.consent_given = 1 << static_cast<int>(Channel::kSms);
  EXPECT_TRUE(Check(p, a, Channel::kSms, "2026-03-11T14:00:00Z").allowed);
}

TEST(ContactPolicy, InboundCallsAndCallsThatDidNotConnectAreNotCounted) {
  auto a = InZone("America/New_York");
  auto h = CallsOnDays(5, 6);
  h.push_back(Call("2026-03-11T12:00:00Z", Outcome::kNoAnswer, Direction::kInbound));
  h.push_back(Call("2026-03-11T13:00:00Z", Outcome::kBusy));
  a.history = h;
  EXPECT_TRUE(Check(Preset("reg_f"), a, Channel::kVoice, "2026-03-11T14:00:00Z").allowed);
}

TEST(ContactPolicy, ConversationSixDaysAgoRefusesACallUntilSevenDaysAfterIt) {
  auto a = InZone("America/New_York");
  const std::vector<Attempt> h = {Call("2026-03-04T15:00:00Z", Outcome::kRightPartyContact)};
  a.history = h;
  const auto p = Preset("reg_f");
  const auto d = Check(p, a, Channel::kVoice, "2026-03-10T15:00:00Z");
  EXPECT_EQ(Rules(d), std::vector<Rule>{Rule::kRegFAfterConversation});
  EXPECT_EQ(*d.next_allowed_at, At("2026-03-11T15:00:00Z"));
  EXPECT_EQ(DescribeReason(d.reasons[0], p, Zones()),
            "telephone conversation at 2026-03-04T15:00:00.000000Z; 12 CFR 1006.14(b)(2)(i)(B) "
            "refuses a call within 7 days after it");
  EXPECT_TRUE(Check(p, a, Channel::kVoice, "2026-03-11T15:00:00Z").allowed);  // 7 days after
  EXPECT_TRUE(Check(p, a, Channel::kVoice, "2026-03-12T15:00:00Z").allowed);  // 8 days after
}

TEST(ContactPolicy, InboundConversationAndNonConversationOutcomesStartNoPeriod) {
  auto a = InZone("America/New_York");
  const std::vector<Attempt> h = {
      Call("2026-03-08T15:00:00Z", Outcome::kRightPartyContact, Direction::kInbound),
      Call("2026-03-09T15:00:00Z", Outcome::kWrongParty),
      Call("2026-03-09T16:00:00Z", Outcome::kVoicemail)};
  a.history = h;
  EXPECT_TRUE(Check(Preset("reg_f"), a, Channel::kVoice, "2026-03-10T15:00:00Z").allowed);
}

TEST(ContactPolicy, AttemptsAfterTheDecisionInstantAreIgnored) {
  auto a = InZone("America/New_York");
  const std::vector<Attempt> h = {Call("2026-03-12T15:00:00Z", Outcome::kPromiseToPay)};
  a.history = h;
  EXPECT_TRUE(Check(Preset("reg_f"), a, Channel::kVoice, "2026-03-10T15:00:00Z").allowed);
}

TEST(ContactPolicy, RegFLapseAtNightMovesTheNextInstantToTheMorning) {
  auto a = InZone("America/New_York");
  const std::vector<Attempt> h = {Call("2026-03-04T02:30:00Z", Outcome::kRightPartyContact)};
  a.history = h;  // conversation at 21:30 EST the evening before (made in error), lapses at night
  const auto d = Check(Preset("reg_f"), a, Channel::kVoice, "2026-03-10T15:00:00Z");
  EXPECT_EQ(Rules(d), std::vector<Rule>{Rule::kRegFAfterConversation});
  EXPECT_EQ(*d.next_allowed_at, At("2026-03-11T12:00:00Z"));  // 08:00 EDT after the DST change
}

// --- consent, flags, holds ----------------------------------------------------------------

TEST(ContactPolicy, SmsAndWhatsappNeedOptInAndEmailOnlyAnOptOutBlocks) {
  const auto p = Preset("reg_f");
  auto a = InZone("America/New_York");
  const char* noon = "2026-03-04T17:00:00Z";
  for (Channel c : {Channel::kSms, Channel::kWhatsapp}) {
    const auto d = Check(p, a, c, noon);
    EXPECT_EQ(Rules(d), std::vector<Rule>{Rule::kConsent}) << ChannelName(c);
    EXPECT_FALSE(d.next_allowed_at);
  }
  EXPECT_EQ(DescribeReason(Check(p, a, Channel::kSms, noon).reasons[0], p, Zones()),
            "sms needs the customer's opt-in, and there is none");
  EXPECT_TRUE(Check(p, a, Channel::kEmail, noon).allowed);
  a.consent_given = (1 << static_cast<int>(Channel::kSms)) | (1 << static_cast<int>(Channel::kWhatsapp));
  EXPECT_TRUE(Check(p, a, Channel::kSms, noon).allowed);
  EXPECT_TRUE(Check(p, a, Channel::kWhatsapp, noon).allowed);
  a.consent_refused = 1 << static_cast<int>(Channel::kEmail);
  const auto email = Check(p, a, Channel::kEmail, noon);
  EXPECT_EQ(Rules(email), std::vector<Rule>{Rule::kConsent});
  EXPECT_EQ(DescribeReason(email.reasons[0], p, Zones()), "the customer opted out of email");
}

TEST(ContactPolicy, CeaseCommunicationAndDisputeBlockAllButRequiredNotices) {
  const auto p = Preset("reg_f");
  auto a = InZone("America/New_York");
  a.flags = kFlagCeaseCommunication | kFlagDispute;
  const auto d = Check(p, a, Channel::kEmail, "2026-03-04T17:00:00Z");
  EXPECT_EQ(Rules(d), (std::vector<Rule>{Rule::kCeaseCommunication, Rule::kDisputeHold}));
  EXPECT_FALSE(d.next_allowed_at);
  EXPECT_TRUE(
      Check(p, a, Channel::kEmail, "2026-03-04T17:00:00Z", Purpose::kRequiredNotice).allowed);
}

TEST(ContactPolicy, VulnerableCustomerOnlyThroughTheSpecialistQueue) {
  const auto p = Preset("reg_f");
  auto a = InZone("America/New_York");
  a.flags = kFlagVulnerable;
  EXPECT_EQ(Rules(Check(p, a, Channel::kVoice, "2026-03-04T17:00:00Z")),
            std::vector<Rule>{Rule::kVulnerable});
  EXPECT_TRUE(Check(p, a, Channel::kVoice, "2026-03-04T17:00:00Z", Purpose::kSpecialist).allowed);
}

TEST(ContactPolicy, LegalHoldBankruptcyAndDeceasedBlockEvenNotices) {
  const auto p = Preset("reg_f");
  auto a = InZone("America/New_York");
  a.flags = kFlagBankruptcy | kFlagDeceased;
  const auto d = Check(p, a, Channel::kEmail, "2026-03-04T17:00:00Z", Purpose::kRequiredNotice);
  EXPECT_EQ(Rules(d), std::vector<Rule>{Rule::kLegalHold});
  EXPECT_EQ(DescribeReason(d.reasons[0], p, Zones()),
            "the account is under bankruptcy, deceased: no collection contact");
  a.flags = kFlagLegalHold;
  EXPECT_EQ(Rules(Check(p, a, Channel::kVoice, "2026-03-04T17:00:00Z")),
            std::vector<Rule>{Rule::kLegalHold});
}

TEST(ContactPolicy, DoNotCallBlocksVoiceOnly) {
  const auto p = Preset("reg_f");
  auto a = InZone("America/New_York");
  a.flags = kFlagDoNotCall;
  EXPECT_EQ(Rules(Check(p, a, Channel::kVoice, "2026-03-04T17:00:00Z")),
            std::vector<Rule>{Rule::kDoNotCall});
  EXPECT_TRUE(Check(p, a, Channel::kEmail, "2026-03-04T17:00:00Z").allowed);
}

TEST(ContactPolicy, EveryBlockingRuleIsReportedInRuleOrder) {
  const auto p = Preset("reg_f");
  auto a = InZone("America/New_York");
  a.flags = kFlagDispute | kFlagVulnerable;
  const std::vector<Attempt> h = {Call("2026-03-03T15:00:00Z", Outcome::kRefused)};
  a.history = h;
  const auto d = Check(p, a, Channel::kSms, "2026-03-04T05:00:00Z");
  EXPECT_EQ(Rules(d), (std::vector<Rule>{Rule::kCallingWindow, Rule::kConsent,
                                         Rule::kDisputeHold, Rule::kVulnerable}));
  EXPECT_FALSE(d.next_allowed_at);
}

TEST(ContactPolicy, RbiNeedsTheAgentParticularsBeforeFirstContact) {
  const auto p = Preset("rbi");
  auto a = InZone("Asia/Kolkata");
  const char* at = "2026-03-04T06:00:00Z";  // 11:30 IST
  const auto d = Check(p, a, Channel::kVoice, at);
  EXPECT_EQ(Rules(d), std::vector<Rule>{Rule::kAgentParticulars});
  EXPECT_FALSE(d.next_allowed_at);
  EXPECT_TRUE(Check(p, a, Channel::kSms, at, Purpose::kRequiredNotice).reason_count == 1);
  a.consent_given = 1 << static_cast<int>(Channel::kSms);
  EXPECT_TRUE(Check(p, a, Channel::kSms, at, Purpose::kRequiredNotice).allowed);
  a.agent_particulars_sent_at = At("2026-03-04T06:00:01Z");
  EXPECT_FALSE(Check(p, a, Channel::kVoice, at).allowed);  // sent after the attempt
  a.agent_particulars_sent_at = At("2026-03-04T05:59:00Z");
  EXPECT_TRUE(Check(p, a, Channel::kVoice, at).allowed);
}

// --- holidays and frequency caps -------------------------------------------------------------

TEST(ContactPolicy, TenantHolidayBlocksTheLocalDateUntilTheNextWindow) {
  auto p = Preset("reg_f");
  p.holidays = {DaysFromCivil(2026, 12, 25)};
  const auto a = InZone("America/New_York");
  const auto d = Check(p, a, Channel::kVoice, "2026-12-25T15:00:00Z");
  EXPECT_EQ(Rules(d), std::vector<Rule>{Rule::kHoliday});
  EXPECT_EQ(*d.next_allowed_at, At("2026-12-26T13:00:00Z"));
  EXPECT_EQ(DescribeReason(d.reasons[0], p, Zones()), "2026-12-25 is a holiday in America/New_York");
  EXPECT_TRUE(Check(p, a, Channel::kVoice, "2026-12-25T04:59:59Z").reason_count == 1);  // 23:59 Dec 24: window
  EXPECT_TRUE(Check(p, a, Channel::kVoice, "2026-12-24T20:00:00Z").allowed);
}

TEST(ContactPolicy, FrequencyCapAllowsTheLastAttemptInTheWindowAndRefusesOneMore) {
  auto p = Preset("rbi");
  p.frequency_caps = {FrequencyCap{Channel::kSms, 3, Duration::Hours(24)}};
  auto a = InZone("Asia/Kolkata");
  a.agent_particulars_sent_at = At("2026-03-01T00:00:00Z");
  a.consent_given = 1 << static_cast<int>(Channel::kSms);
  std::vector<Attempt> h = {
      Call("2026-03-04T04:00:00Z", Outcome::kNoAnswer, Direction::kOutbound, Channel::kSms),
      Call("2026-03-04T05:00:00Z", Outcome::kNoAnswer, Direction::kOutbound, Channel::kSms)};
  a.history = h;
  EXPECT_TRUE(Check(p, a, Channel::kSms, "2026-03-04T06:00:00Z").allowed);  // the 3rd
  h.push_back(Call("2026-03-04T06:00:00Z", Outcome::kNoAnswer, Direction::kOutbound, Channel::kSms));
  a.history = h;
  const auto d = Check(p, a, Channel::kSms, "2026-03-04T07:00:00Z");  // a 4th
  EXPECT_EQ(Rules(d), std::vector<Rule>{Rule::kFrequencyCap});
  EXPECT_EQ(*d.next_allowed_at, At("2026-03-05T04:00:00Z"));
  EXPECT_EQ(DescribeReason(d.reasons[0], p, Zones()),
            "3 outbound sms attempts in the last 24 hours reach the cap of 3");
  EXPECT_TRUE(Check(p, a, Channel::kVoice, "2026-03-04T07:00:00Z").allowed);
}

TEST(ContactPolicy, CapLapsingAfterTheWindowClosesWaitsForTheNextWindow) {
  auto p = Preset("rbi");
  p.agent_particulars = false;
  p.frequency_caps = {FrequencyCap{Channel::kVoice, 1, Duration::Hours(34)}};
  auto a = InZone("Asia/Kolkata");
  const std::vector<Attempt> h = {Call("2026-03-04T04:30:00Z")};  // 10:00 IST
  a.history = h;
  const auto d = Check(p, a, Channel::kVoice, "2026-03-05T03:00:00Z");  // 08:30 IST
  EXPECT_EQ(Rules(d), std::vector<Rule>{Rule::kFrequencyCap});
  // The cap lapses at 20:00 IST, after the window closed: the window reopens at 08:00.
  EXPECT_EQ(*d.next_allowed_at, At("2026-03-06T02:30:00Z"));
}

TEST(ContactPolicy, PresetsAreRegFAndRbiOnly) {
  EXPECT_TRUE(PresetPolicy("reg_f")->reg_f);
  EXPECT_EQ(PresetPolicy("rbi")->window_end_s, 19 * 3600);
  EXPECT_EQ(PresetPolicy("tcpa").error().rule, "one_of");
}

TEST(ContactPolicy, PolicyLimitsHoldAtTheLimitAndFailOnePast) {
  auto p = Preset("reg_f");
  p.frequency_caps.assign(kFrequencyCapsMax, FrequencyCap{Channel::kSms, kFrequencyCapAttemptsMax,
                                                          kFrequencyCapWindowMax});
  EXPECT_TRUE(ValidatePolicy(p).ok());
  p.frequency_caps.push_back(p.frequency_caps.back());
  EXPECT_EQ(ValidatePolicy(p).error().rule, "max_items");
  p.frequency_caps.pop_back();
  p.frequency_caps[1].attempts_max = kFrequencyCapAttemptsMax + 1;
  EXPECT_EQ(ValidatePolicy(p).error().field, "frequency_caps[1].attempts_max");
  p.frequency_caps[1].attempts_max = 1;
  p.frequency_caps[2].window = kFrequencyCapWindowMax + Duration::Hours(1);
  EXPECT_EQ(ValidatePolicy(p).error().field, "frequency_caps[2].window_hours");
  p.frequency_caps.clear();
  for (size_t i = 0; i < kHolidaysMax; ++i) p.holidays.push_back(static_cast<int64_t>(i));
  EXPECT_TRUE(ValidatePolicy(p).ok());
  p.holidays.push_back(static_cast<int64_t>(kHolidaysMax));
  EXPECT_EQ(ValidatePolicy(p).error().rule, "max_items");
  p.holidays = {2, 1};
  EXPECT_EQ(ValidatePolicy(p).error().rule, "ascending_unique");
  p.holidays.clear();
  p.window_start_s = p.window_end_s;
  EXPECT_EQ(ValidatePolicy(p).error().field, "calling_window");
}

TEST(ContactPolicy, WireNamesRoundTrip) {
  for (uint8_t i = 0; i < kRuleCount; ++i) EXPECT_FALSE(RuleName(static_cast<Rule>(i)).empty());
  EXPECT_EQ(RuleName(Rule::kRegF7In7), "reg_f_7_in_7");
  EXPECT_EQ(*ParseOutcome("callback_requested", "o"), Outcome::kCallbackRequested);
  EXPECT_EQ(*ParseFlag("legal_hold", "f"), kFlagLegalHold);
  EXPECT_EQ(ParseChannel("fax", "channel").error().field, "channel");
}

}  // namespace
}  // namespace opsbox::collections
