#include "collections/contact_policy.hpp"

#include <algorithm>
#include <cstdio>

namespace opsbox::collections {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kMicrosPerSecond = 1000000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

template <class E, size_t N>
Result<E> ParseName(std::string_view text, std::string_view field,
                    const std::array<std::string_view, N>& names) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<E>(i);
  }
  std::string all;
  for (auto n : names) all += (all.empty() ? "" : ", ") + std::string(n);
  return Error::Invalid(std::string(field), "one_of",
                        std::string(field) + " must be one of " + all + " (got \"" +
                            std::string(text) + "\")");
}

constexpr std::array<std::string_view, 4> kChannelNames = {"voice", "sms", "whatsapp", "email"};
constexpr std::array<std::string_view, 2> kDirectionNames = {"outbound", "inbound"};
constexpr std::array<std::string_view, 9> kOutcomeNames = {
    "right_party_contact", "wrong_party", "no_answer",      "busy",
    "voicemail",           "promise_to_pay", "refused",     "dispute_raised",
    "callback_requested"};
constexpr std::array<std::string_view, 3> kPurposeNames = {"collection", "specialist",
                                                           "required_notice"};
constexpr std::array<std::string_view, kRuleCount> kRuleNames = {
    "calling_window", "reg_f_7_in_7", "reg_f_after_conversation", "consent",
    "do_not_call",    "cease_communication", "dispute_hold",      "vulnerable",
    "legal_hold",     "holiday",             "frequency_cap",     "agent_particulars"};
constexpr std::array<std::string_view, 7> kFlagNames = {
    "dispute", "cease_communication", "vulnerable", "bankruptcy", "deceased", "legal_hold",
    "do_not_call"};

std::string Hhmm(int64_t second_of_day) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(second_of_day / 3600),
                static_cast<long long>(second_of_day / 60 % 60));
  return buf;
}

// The instant a local wall-clock second starts in `zone` (the earlier one when repeated; a
// second skipped by a spring-forward gap maps to the end of the gap). No allocation: the offsets
// a day either side cover any single transition near this local time.
int64_t LocalToUtcS(const ZoneRules& zone, int64_t local_s) {
  const int64_t before = zone.OffsetAtUtcS(local_s - kSecondsPerDay);
  const int64_t after = zone.OffsetAtUtcS(local_s + kSecondsPerDay);
  const int64_t u1 = local_s - before;
  const int64_t u2 = local_s - after;
  const bool ok1 = zone.OffsetAtUtcS(u1) == before;
  const bool ok2 = zone.OffsetAtUtcS(u2) == after;
  if (ok1 && ok2) return std::min(u1, u2);
  if (ok1) return u1;
  if (ok2) return u2;
  return u1;  // in a gap: the offset before it gives the instant where the gap ends
}

// What CanContact collects, before reasons are chosen.
struct Evaluation {
  Reason* out = nullptr;  // where reasons go; null when only the verdict matters (later steps)
  uint8_t count = 0;
  bool permanent = false;         // a failing rule that does not lapse with time
  int64_t next_candidate_us = 0;  // latest lapse instant among the time-driven failures
  void Fail(Rule r, int64_t a, int64_t b) {
    if (out) out[count] = Reason{r, a, b};
    ++count;
  }
  void FailUntil(Rule r, int64_t a, int64_t b, int64_t lapse_us) {
    Fail(r, a, b);
    next_candidate_us = std::max(next_candidate_us, lapse_us);
  }
  void FailForever(Rule r, int64_t a, int64_t b) {
    Fail(r, a, b);
    permanent = true;
  }
};

// Rules that depend only on the account's standing facts.
void CheckStanding(const ContactPolicy& policy, const ContactAccount& account, Channel channel,
                   Purpose purpose, Instant at, Evaluation& ev) {
  const uint8_t bit = static_cast<uint8_t>(1u << static_cast<unsigned>(channel));
  const bool notice = purpose == Purpose::kRequiredNotice;
  if (channel == Channel::kSms || channel == Channel::kWhatsapp) {
    if (!(account.consent_given & bit)) {
      ev.FailForever(Rule::kConsent, static_cast<int64_t>(channel),
                     (account.consent_refused & bit) ? 1 : 0);
    }
  } else if (account.consent_refused & bit) {
    ev.FailForever(Rule::kConsent, static_cast<int64_t>(channel), 1);
  }
  if (channel == Channel::kVoice && (account.flags & kFlagDoNotCall)) {
    ev.FailForever(Rule::kDoNotCall, 0, 0);
  }
  if (!notice && (account.flags & kFlagCeaseCommunication)) {
    ev.FailForever(Rule::kCeaseCommunication, 0, 0);
  }
  if (!notice && (account.flags & kFlagDispute)) ev.FailForever(Rule::kDisputeHold, 0, 0);
  if (purpose == Purpose::kCollection && (account.flags & kFlagVulnerable)) {
    ev.FailForever(Rule::kVulnerable, 0, 0);
  }
  constexpr uint8_t kHolds = kFlagLegalHold | kFlagBankruptcy | kFlagDeceased;
  if (account.flags & kHolds) ev.FailForever(Rule::kLegalHold, account.flags & kHolds, 0);
  if (policy.agent_particulars && !notice &&
      (!account.agent_particulars_sent_at || *account.agent_particulars_sent_at > at)) {
    ev.FailForever(Rule::kAgentParticulars, 0, 0);
  }
}

// calling_window and holiday in every zone of the account's set, at `t`. The zones furthest
// behind (min offset) and ahead (max offset) decide: every other zone's local time lies between.
void CheckLocalTime(const ContactPolicy& policy, const ZoneCatalog& zones,
                    const ContactAccount& account, Instant t, Evaluation& ev) {
  if (account.zone_set == kUnknownZoneSet) {
    ev.FailForever(Rule::kCallingWindow, -1, 0);
    return;
  }
  const int64_t t_s = FloorDiv(t.us, kMicrosPerSecond);
  const ZoneSpan& span = zones.Set(account.zone_set).At(t_s);
  const int64_t behind_s = t_s + span.min_offset_s;
  const int64_t ahead_s = t_s + span.max_offset_s;
  const int64_t day = FloorDiv(behind_s, kSecondsPerDay);
  const int64_t sod = behind_s - day * kSecondsPerDay;
  const ZoneRules& behind_zone = zones.Zone(span.min_zone);
  if (!policy.holidays.empty()) {
    const int64_t ahead_day = FloorDiv(ahead_s, kSecondsPerDay);
    for (int64_t d = ahead_day; d >= day; --d) {
      if (!std::binary_search(policy.holidays.begin(), policy.holidays.end(), d)) continue;
      // The holiday is over everywhere once the zone furthest behind reaches the next midnight.
      const int64_t over_us = LocalToUtcS(behind_zone, (d + 1) * kSecondsPerDay) * kMicrosPerSecond;
      ev.FailUntil(Rule::kHoliday, d, d == ahead_day ? span.max_zone : span.min_zone, over_us);
      break;
    }
  }
  const int64_t ahead_sod = ahead_s - day * kSecondsPerDay;  // may pass 24:00 (next day)
  if (sod >= policy.window_start_s && ahead_sod < policy.window_end_s) return;
  // Reopens when the zone furthest behind reaches the window start (today or tomorrow); the
  // next step checks the zone furthest ahead again.
  const int64_t open_day = sod < policy.window_start_s ? day : day + 1;
  const int64_t open_us =
      LocalToUtcS(behind_zone, open_day * kSecondsPerDay + policy.window_start_s) * kMicrosPerSecond;
  const bool early = sod < policy.window_start_s;
  ev.FailUntil(Rule::kCallingWindow, early ? span.min_zone : span.max_zone,
               early ? sod : FloorMod(ahead_s, kSecondsPerDay),
               std::max(open_us, t.us + kMicrosPerSecond));
}

// The frequency rules at `t`, over attempts made up to `cutoff` (the decision's `at`).
void CheckFrequency(const ContactPolicy& policy, const ContactAccount& account, Channel channel,
                    Purpose purpose, Instant t, Instant cutoff, Evaluation& ev) {
  if (purpose == Purpose::kRequiredNotice) return;
  const bool reg_f = policy.reg_f && channel == Channel::kVoice;
  std::array<const FrequencyCap*, kFrequencyCapsMax> caps{};
  size_t cap_count = 0;
  int64_t widest_us = reg_f ? kRegFPeriod.us : 0;
  for (const FrequencyCap& cap : policy.frequency_caps) {
    if (cap.channel != channel) continue;
    caps[cap_count++] = &cap;
    widest_us = std::max(widest_us, cap.window.us);
  }
  if (widest_us == 0) return;
  uint32_t calls = 0;
  int64_t seventh_us = 0;
  int64_t conversation_us = INT64_MIN;
  std::array<uint32_t, kFrequencyCapsMax> counts{};
  std::array<int64_t, kFrequencyCapsMax> nth_us{};
  const auto& h = account.history;
  for (size_t i = h.size(); i-- > 0;) {
    const Attempt& a = h[i];
    if (a.at > cutoff || a.at > t) continue;
    const int64_t age_us = t.us - a.at.us;
    if (age_us >= widest_us) break;
    if (a.channel != channel || a.direction != Direction::kOutbound) continue;
    if (reg_f && age_us < kRegFPeriod.us) {
      if (a.outcome != Outcome::kBusy && ++calls == kRegFCallsMax) seventh_us = a.at.us;
      if (conversation_us == INT64_MIN && IsConversation(a.outcome)) conversation_us = a.at.us;
    }
    for (size_t c = 0; c < cap_count; ++c) {
      if (age_us < caps[c]->window.us && ++counts[c] == caps[c]->attempts_max) {
        nth_us[c] = a.at.us;
      }
    }
  }
  if (reg_f && calls >= kRegFCallsMax) {
    ev.FailUntil(Rule::kRegF7In7, calls, seventh_us, seventh_us + kRegFPeriod.us);
  }
  if (reg_f && conversation_us != INT64_MIN) {
    ev.FailUntil(Rule::kRegFAfterConversation, conversation_us, 0,
                 conversation_us + kRegFPeriod.us);
  }
  for (size_t c = 0; c < cap_count; ++c) {
    if (counts[c] < caps[c]->attempts_max) continue;
    const int64_t index = caps[c] - policy.frequency_caps.data();
    ev.FailUntil(Rule::kFrequencyCap, index, counts[c], nth_us[c] + caps[c]->window.us);
    break;  // one frequency_cap reason; the lapse of the others is found by the next step
  }
}

void Evaluate(const ContactPolicy& policy, const ZoneCatalog& zones,
              const ContactAccount& account, Channel channel, Purpose purpose, Instant t,
              Instant cutoff, Evaluation& ev) {
  CheckLocalTime(policy, zones, account, t, ev);
  CheckFrequency(policy, account, channel, purpose, t, cutoff, ev);
  CheckStanding(policy, account, channel, purpose, cutoff, ev);
}

}  // namespace

std::string_view ChannelName(Channel c) { return kChannelNames[static_cast<size_t>(c)]; }
std::string_view DirectionName(Direction d) { return kDirectionNames[static_cast<size_t>(d)]; }
std::string_view OutcomeName(Outcome o) { return kOutcomeNames[static_cast<size_t>(o)]; }
std::string_view PurposeName(Purpose p) { return kPurposeNames[static_cast<size_t>(p)]; }
std::string_view RuleName(Rule r) { return kRuleNames[static_cast<size_t>(r)]; }
Result<Channel> ParseChannel(std::string_view t, std::string_view f) {
  return ParseName<Channel>(t, f, kChannelNames);
}
Result<Direction> ParseDirection(std::string_view t, std::string_view f) {
  return ParseName<Direction>(t, f, kDirectionNames);
}
Result<Outcome> ParseOutcome(std::string_view t, std::string_view f) {
  return ParseName<Outcome>(t, f, kOutcomeNames);
}
Result<Purpose> ParsePurpose(std::string_view t, std::string_view f) {
  return ParseName<Purpose>(t, f, kPurposeNames);
}

std::string_view FlagName(AccountFlag f) {
  for (size_t i = 0; i < kFlagNames.size(); ++i) {
    if (f == (1u << i)) return kFlagNames[i];
  }
  return "unknown";
}

Result<AccountFlag> ParseFlag(std::string_view text, std::string_view field) {
  OPSBOX_ASSIGN_OR_RETURN(const uint8_t index, ParseName<uint8_t>(text, field, kFlagNames));
  return static_cast<AccountFlag>(1u << index);
}

bool IsConversation(Outcome o) {
  switch (o) {
    case Outcome::kRightPartyContact:
    case Outcome::kPromiseToPay:
    case Outcome::kRefused:
    case Outcome::kDisputeRaised:
    case Outcome::kCallbackRequested:
      return true;
    default:
      return false;
  }
}

Result<ContactPolicy> PresetPolicy(std::string_view name) {
  ContactPolicy p;
  p.preset = std::string(name);
  if (name == "reg_f") {
    p.window_start_s = 8 * 3600;
    p.window_end_s = 21 * 3600;
    p.reg_f = true;
    return p;
  }
  if (name == "rbi") {
    p.window_start_s = 8 * 3600;
    p.window_end_s = 19 * 3600;
    p.agent_particulars = true;
    return p;
  }
  return Error::Invalid("preset", "one_of", "preset must be reg_f or rbi");
}

Status ValidatePolicy(const ContactPolicy& p) {
  if (p.window_start_s < 0 || p.window_end_s > kSecondsPerDay ||
      p.window_start_s >= p.window_end_s) {
    return Error::Invalid("calling_window", "range",
                          "calling_window start must be before end, within one local day");
  }
  if (p.frequency_caps.size() > kFrequencyCapsMax) {
    return Error::Invalid("frequency_caps", "max_items",
                          "at most " + std::to_string(kFrequencyCapsMax) + " frequency caps");
  }
  for (size_t i = 0; i < p.frequency_caps.size(); ++i) {
    const auto& c = p.frequency_caps[i];
    const std::string f = "frequency_caps[" + std::to_string(i) + "].";
    if (c.attempts_max < 1 || c.attempts_max > kFrequencyCapAttemptsMax) {
      return Error::Invalid(f + "attempts_max", "range",
                            "attempts_max must be 1.." + std::to_string(kFrequencyCapAttemptsMax));
    }
    if (c.window < Duration::Hours(1) || c.window > kFrequencyCapWindowMax) {
      return Error::Invalid(f + "window_hours", "range",
                            "window_hours must be 1.." + std::to_string(kFrequencyCapWindowMax.us / 3600000000));
    }
  }
  if (p.holidays.size() > kHolidaysMax) {
    return Error::Invalid("holidays", "max_items",
                          "at most " + std::to_string(kHolidaysMax) + " holidays");
  }
  if (!std::is_sorted(p.holidays.begin(), p.holidays.end()) ||
      std::adjacent_find(p.holidays.begin(), p.holidays.end()) != p.holidays.end()) {
    return Error::Invalid("holidays", "ascending_unique", "holidays must be ascending and unique");
  }
  return Ok();
}

ContactDecision CanContact(const ContactPolicy& policy, const ZoneCatalog& zones,
                           const ContactAccount& account, Channel channel, Purpose purpose,
                           Instant at) {
  ContactDecision d;
  Evaluation ev;
  ev.out = d.reasons.data();
  Evaluate(policy, zones, account, channel, purpose, at, at, ev);
  if (ev.count > 1) {
    std::sort(d.reasons.begin(), d.reasons.begin() + ev.count,
              [](const Reason& x, const Reason& y) { return x.rule < y.rule; });
  }
  d.reason_count = ev.count;
  d.allowed = ev.count == 0;
  if (d.allowed) {
    d.next_allowed_at = at;
    return d;
  }
  if (ev.permanent) return d;
  // Step to the latest lapse among the failures; new failures there (the window closing while
  // a cap lapses) push further. Bounded in steps and in horizon.
  Instant t = at;
  for (size_t step = 0; step < kNextAllowedStepsMax; ++step) {
    if (ev.next_candidate_us <= t.us) return d;  // no progress: give up (null)
    t = Instant{ev.next_candidate_us};
    if (t - at > kNextAllowedHorizon) return d;
    ev = Evaluation{};
    Evaluate(policy, zones, account, channel, purpose, t, at, ev);
    if (ev.count == 0) {
      d.next_allowed_at = t;
      return d;
    }
    if (ev.permanent) return d;
  }
  return d;
}

std::string DescribeReason(const Reason& r, const ContactPolicy& policy,
                           const ZoneCatalog& zones) {
  const std::string window = Hhmm(policy.window_start_s) + "–" + Hhmm(policy.window_end_s);
  switch (r.rule) {
    case Rule::kCallingWindow:
      if (r.a < 0) {
        return "no time zone: the account has no zone and no zone is known for its phone "
               "number's country";
      }
      return "local time " + Hhmm(r.b) + " in " + zones.Zone(static_cast<uint16_t>(r.a)).name() +
             " is outside the calling window " + window;
    case Rule::kRegF7In7:
      return std::to_string(r.a) + " outbound calls in the 7 days before this one (the 7th at " +
             FormatRfc3339(Instant{r.b}) +
             "); 12 CFR 1006.14(b)(2)(i)(A) refuses another call within 7 days";
    case Rule::kRegFAfterConversation:
      return "telephone conversation at " + FormatRfc3339(Instant{r.a}) +
             "; 12 CFR 1006.14(b)(2)(i)(B) refuses a call within 7 days after it";
    case Rule::kConsent: {
      const std::string ch(ChannelName(static_cast<Channel>(r.a)));
      if (r.b == 1) return "the customer opted out of " + ch;
      return ch + " needs the customer's opt-in, and there is none";
    }
    case Rule::kDoNotCall:
      return "the account is on the do-not-call list";
    case Rule::kCeaseCommunication:
      return "the customer asked to cease communication; only required notices may be sent";
    case Rule::kDisputeHold:
      return "the debt is disputed; collection is on hold until the dispute is resolved";
    case Rule::kVulnerable:
      return "vulnerable customer: only the specialist queue may make contact, no automated "
             "outreach";
    case Rule::kLegalHold: {
      std::string flags;
      for (uint8_t f : {kFlagLegalHold, kFlagBankruptcy, kFlagDeceased}) {
        if (r.a & f) flags += (flags.empty() ? "" : ", ") + std::string(FlagName(AccountFlag(f)));
      }
      return "the account is under " + flags + ": no collection contact";
    }
    case Rule::kHoliday:
      return FormatIsoDate(r.a) + " is a holiday in " + zones.Zone(static_cast<uint16_t>(r.b)).name();
    case Rule::kFrequencyCap: {
      const auto& c = policy.frequency_caps[static_cast<size_t>(r.a)];
      return std::to_string(r.b) + " outbound " + std::string(ChannelName(c.channel)) +
             " attempts in the last " + std::to_string(c.window.us / 3600000000) +
             " hours reach the cap of " + std::to_string(c.attempts_max);
    }
    case Rule::kAgentParticulars:
      return "the recovery agent's particulars have not been sent to the customer before first "
             "contact (RBI)";
  }
  return "";
}

}  // namespace opsbox::collections
