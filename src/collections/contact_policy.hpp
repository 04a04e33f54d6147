// The collections contact policy engine (issue #11, "Contact policy engine"): may this account be
// contacted on this channel, for this purpose, at this instant? The answer names every rule that
// blocks, with its detail, and the next instant at which the same contact would be allowed.
//
// Pure: CanContact reads only its arguments (the policy, the zone catalogue, the account with its
// attempt history, the channel, the purpose and `at`); no clock, no I/O, no allocation unless a
// reason's detail is described. Loading zones (ZoneCatalog::Resolve*) and reading files
// (contact_files.hpp) happen before, on the caller's side.
//
// Rules (wire ids in RuleName; sources in docs/collections.md):
//   calling_window            local time of day in [window_start, window_end) in the account's
//                             IANA zone; without a zone, in every zone of the phone number's
//                             country (tzdata zone1970.tab); neither known: refused.
//   reg_f_7_in_7              voice: refused when kRegFCallsMax outbound calls were placed in the
//                             7 days before `at` (12 CFR 1006.14(b)(2)(i)(A)); inbound calls and
//                             calls that did not connect (outcome busy) are not counted.
//   reg_f_after_conversation  voice: refused within 7 days after an outbound telephone
//                             conversation with the person (12 CFR 1006.14(b)(2)(i)(B)); a
//                             conversation is a voice attempt with outcome right_party_contact,
//                             promise_to_pay, refused, dispute_raised or callback_requested.
//   consent                   sms and whatsapp need opt-in (consent true); email is refused only
//                             after an opt-out (consent false); voice needs none.
//   do_not_call               voice refused for an account flagged do_not_call.
//   cease_communication       every channel refused (except purpose required_notice).
//   dispute_hold              every channel refused while the debt is disputed (except
//                             required_notice).
//   vulnerable                only the specialist queue (purpose specialist) or a required notice.
//   legal_hold                legal_hold, bankruptcy or deceased: every contact refused.
//   holiday                   the local date (in any zone that applies) is a tenant holiday.
//   frequency_cap             per channel: at most N outbound attempts in a rolling window.
//   agent_particulars         RBI: no recovery contact before the agent's particulars were sent.
// The 7-day periods are rolling 168-hour windows ending at `at`; this is never looser than the
// calendar-day reading of Reg F (the rolling window contains the calendar one).
//
// Next allowed instant: null when a blocking rule does not lapse with time (consent, flags,
// particulars, unknown zone); otherwise the earliest instant at or after `at` at which every
// time-driven rule passes, assuming no further attempts, found by at most kNextAllowedStepsMax
// steps and within kNextAllowedHorizon (beyond it: null).
//
// Speed: an account is a flat record with a span over its attempts (ascending time); a check
// scans back only over the widest window in force. bench/collections measures it.
// Threads: ContactPolicy and a ZoneCatalog that is no longer being resolved into are immutable;
// CanContact may run on any number of threads at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "core/zone.hpp"

namespace opsbox::collections {

enum class Channel : uint8_t { kVoice, kSms, kWhatsapp, kEmail };
inline constexpr size_t kChannelCount = 4;
enum class Direction : uint8_t { kOutbound, kInbound };
enum class Outcome : uint8_t {
  kRightPartyContact,
  kWrongParty,
  kNoAnswer,
  kBusy,
  kVoicemail,
  kPromiseToPay,
  kRefused,
  kDisputeRaised,
  kCallbackRequested,
};
// collection: an ordinary recovery contact; specialist: by the specialist (vulnerable customers)
// queue; required_notice: a communication the law requires (exempt from cease_communication,
// dispute_hold, agent_particulars and the frequency rules, not from the others).
enum class Purpose : uint8_t { kCollection, kSpecialist, kRequiredNotice };

enum class Rule : uint8_t {
  kCallingWindow,
  kRegF7In7,
  kRegFAfterConversation,
  kConsent,
  kDoNotCall,
  kCeaseCommunication,
  kDisputeHold,
  kVulnerable,
  kLegalHold,
  kHoliday,
  kFrequencyCap,
  kAgentParticulars,
};
inline constexpr size_t kRuleCount = 12;

std::string_view ChannelName(Channel c);
std::string_view DirectionName(Direction d);
std::string_view OutcomeName(Outcome o);
std::string_view PurposeName(Purpose p);
std::string_view RuleName(Rule r);
// Parse the wire names; errors name `field` with rule "one_of".
Result<Channel> ParseChannel(std::string_view text, std::string_view field);
Result<Direction> ParseDirection(std::string_view text, std::string_view field);
Result<Outcome> ParseOutcome(std::string_view text, std::string_view field);
Result<Purpose> ParsePurpose(std::string_view text, std::string_view field);

// Account flags (bits of ContactAccount::flags); wire names in FlagName / ParseFlag.
enum AccountFlag : uint8_t {
  kFlagDispute = 1 << 0,
  kFlagCeaseCommunication = 1 << 1,
  kFlagVulnerable = 1 << 2,
  kFlagBankruptcy = 1 << 3,
  kFlagDeceased = 1 << 4,
  kFlagLegalHold = 1 << 5,
  kFlagDoNotCall = 1 << 6,
};
std::string_view FlagName(AccountFlag f);
Result<AccountFlag> ParseFlag(std::string_view text, std::string_view field);

// One past contact attempt (16 bytes). Outbound attempts count toward the frequency rules.
struct Attempt {
  Instant at;
  Channel channel = Channel::kVoice;
  Direction direction = Direction::kOutbound;
  Outcome outcome = Outcome::kNoAnswer;
};
bool IsConversation(Outcome o);

// Zone sets an account's calling window is checked in: one IANA zone, or every zone of a
// country. Built before checks (loads tzdata files); read-only afterwards.
inline constexpr uint32_t kUnknownZoneSet = UINT32_MAX;
inline constexpr std::string_view kZone1970TabPath = "/usr/share/zoneinfo/zone1970.tab";
inline constexpr size_t kZoneTabBytesMax = 1024 * 1024;
inline constexpr size_t kZonesMax = 1024;

// The offsets of a set of zones over time: between consecutive transitions of any of its zones,
// the smallest and largest UTC offset and the zones that have them. A window holds in every zone
// of the set when it holds in the zone furthest behind and the zone furthest ahead, so a check
// costs one binary search whatever the number of zones (the US has 29).
struct ZoneSpan {
  int32_t min_offset_s = 0;
  int32_t max_offset_s = 0;
  uint16_t min_zone = 0;
  uint16_t max_zone = 0;
};
struct ZoneSet {
  std::vector<uint16_t> zones;       // indexes into the catalogue
  std::vector<int64_t> starts_utc_s;  // ascending; spans[i + 1] applies from starts_utc_s[i]
  std::vector<ZoneSpan> spans;        // starts_utc_s.size() + 1 entries
  const ZoneSpan& At(int64_t utc_s) const;
};

class ZoneCatalog {
 public:
  // Parses zone1970.tab text (country codes, coordinates, zone name[, comment] per line; '#'
  // comments). Errors: field "zone1970.tab", rule "format".
  static Result<ZoneCatalog> FromZoneTab(std::string_view text);
  // Reads kZone1970TabPath (at most kZoneTabBytesMax).
  static Result<ZoneCatalog> Load();

  // The set holding just `zone` (an IANA name); loads /usr/share/zoneinfo/<zone> once.
  // Errors: field "zone", rules of ZoneRules::Load; "zones_max" past kZonesMax zones.
  Result<uint32_t> ResolveZone(std::string_view zone);
  // The set of every zone1970.tab zone of an ISO 3166 alpha-2 country; kUnknownZoneSet when the
  // table lists none. Errors as ResolveZone.
  Result<uint32_t> ResolveCountry(std::string_view country);

  const ZoneSet& Set(uint32_t set) const { return sets_[set]; }
  const ZoneRules& Zone(uint16_t zone) const { return zones_[zone]; }
  // The country's zone names from the table (empty when none), in table order.
  std::vector<std::string> CountryZones(std::string_view country) const;

 private:
  Result<uint16_t> LoadZone(std::string_view name);
  uint32_t AddSet(std::vector<uint16_t> zones);

  std::unordered_map<std::string, std::vector<std::string>> country_zones_;
  std::vector<ZoneRules> zones_;
  std::unordered_map<std::string, uint16_t> zone_index_;
  std::vector<ZoneSet> sets_;
  std::unordered_map<std::string, uint32_t> zone_set_index_;     // by zone name
  std::unordered_map<std::string, uint32_t> country_set_index_;  // by country code
};

// ISO 3166 alpha-2 region of an E.164 number (libphonenumber); errors: field `field`, rule
// "e164" (not a possible number) or "country" (no single region, e.g. +800).
Result<std::string> PhoneCountry(std::string_view e164, std::string_view field);

// The account as the engine sees it. `history` is ascending by time and owned by the caller.
struct ContactAccount {
  uint32_t zone_set = kUnknownZoneSet;
  uint8_t flags = 0;               // AccountFlag bits
  uint8_t consent_given = 0;       // bit (1 << channel): consent true
  uint8_t consent_refused = 0;     // bit (1 << channel): consent false (opt-out)
  std::optional<Instant> agent_particulars_sent_at;
  std::span<const Attempt> history;
};

// Limits on a policy.
inline constexpr size_t kFrequencyCapsMax = 8;
inline constexpr uint32_t kFrequencyCapAttemptsMax = 1000;
inline constexpr Duration kFrequencyCapWindowMax = Duration::Hours(24 * 366);
inline constexpr size_t kHolidaysMax = 1000;
inline constexpr uint32_t kRegFCallsMax = 7;               // calls in 7 days before the 8th is refused
inline constexpr Duration kRegFPeriod = Duration::Hours(7 * 24);
inline constexpr size_t kNextAllowedStepsMax = 32;
inline constexpr Duration kNextAllowedHorizon = Duration::Hours(24 * 400);

struct FrequencyCap {
  Channel channel = Channel::kVoice;
  uint32_t attempts_max = 0;  // outbound attempts allowed in any window; 1..kFrequencyCapAttemptsMax
  Duration window;            // rolling; whole hours, 1 hour..kFrequencyCapWindowMax
};

struct ContactPolicy {
  std::string preset;              // "reg_f", "rbi" or "custom"
  int32_t window_start_s = 8 * 3600;   // local second of day, inclusive
  int32_t window_end_s = 21 * 3600;    // local second of day, exclusive; > window_start_s
  bool reg_f = false;              // reg_f_7_in_7 and reg_f_after_conversation
  bool agent_particulars = false;  // RBI: particulars sent before first contact
  std::vector<FrequencyCap> frequency_caps;  // at most kFrequencyCapsMax
  std::vector<int64_t> holidays;   // local days since 1970-01-01, ascending, unique
};

// "reg_f": 08:00–21:00, Reg F call frequency. "rbi": 08:00–19:00, agent particulars.
// Errors: field "preset", rule "one_of".
Result<ContactPolicy> PresetPolicy(std::string_view name);
// Checks a policy's limits; errors name the field ("frequency_caps[1].window_hours", …).
Status ValidatePolicy(const ContactPolicy& policy);

// No default member initializers: a decision's reason array is left uninitialised beyond
// reason_count (it is written on every check; zeroing it costs more than the check's rules).
struct Reason {
  Rule rule;
  int64_t a;  // rule-specific facts for DescribeReason (zone, counts, instants, days)
  int64_t b;
};

struct ContactDecision {
  bool allowed = true;
  uint8_t reason_count = 0;
  std::array<Reason, kRuleCount> reasons;  // the first reason_count, in Rule order
  std::optional<Instant> next_allowed_at;     // `at` when allowed
  std::span<const Reason> Reasons() const { return {reasons.data(), reason_count}; }
};

ContactDecision CanContact(const ContactPolicy& policy, const ZoneCatalog& zones,
                           const ContactAccount& account, Channel channel, Purpose purpose,
                           Instant at);

// The operator's sentence for a reason: "local time 07:59 in America/New_York is outside the
// calling window 08:00–21:00", "7 outbound calls since 2026-…Z; 12 CFR 1006.14(b)(2)(i)(A)
// refuses an 8th", …
std::string DescribeReason(const Reason& reason, const ContactPolicy& policy,
                           const ZoneCatalog& zones);

}  // namespace opsbox::collections
