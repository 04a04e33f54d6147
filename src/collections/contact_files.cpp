#include "collections/contact_files.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/json.hpp"

namespace opsbox::collections {
namespace {

constexpr size_t kZoneNameBytesMax = 64;
constexpr size_t kPhoneBytesMax = 32;
constexpr size_t kNameBytesMax = 32;

Result<Json> ParseFile(std::string_view text, std::string_view field) {
  if (text.size() > kContactFileBytesMax) {
    return Error::Invalid(std::string(field), "max_bytes",
                          std::string(field) + " is larger than " +
                              std::to_string(kContactFileBytesMax) + " bytes");
  }
  return ParseJson(text, field);
}

Result<bool> OptionalBool(const Json& o, std::string_view key, std::string_view path) {
  const auto it = o.find(key);
  if (!it->is_boolean()) {
    return Error::Invalid(std::string(path), "type", std::string(path) + " must be true or false");
  }
  return it->get<bool>();
}

Result<Instant> RequireInstant(const Json& o, std::string_view key, std::string_view prefix) {
  OPSBOX_ASSIGN_OR_RETURN(std::string text, RequireString(o, key, kNameBytesMax, prefix));
  const std::string path = prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
  return ParseRfc3339(text, path);
}

Status ParseConsents(const Json& consents, AccountFile& out) {
  if (!consents.is_object()) return Error::Invalid("consents", "type", "consents must be an object");
  OPSBOX_TRY(CheckObjectKeys(consents, {"voice", "sms", "whatsapp", "email"}, "consents"));
  for (const auto& [key, value] : consents.items()) {
    OPSBOX_ASSIGN_OR_RETURN(const Channel channel, ParseChannel(key, "consents"));
    const std::string path = "consents." + key;
    if (value.is_null()) continue;
    OPSBOX_ASSIGN_OR_RETURN(const bool given, OptionalBool(consents, key, path));
    const auto bit = static_cast<uint8_t>(1u << static_cast<unsigned>(channel));
    (given ? out.consent_given : out.consent_refused) |= bit;
  }
  return Ok();
}

Result<int32_t> LocalTimeOfDay(const Json& o, std::string_view key, int32_t fallback) {
  const auto it = o.find(key);
  if (it == o.end()) return fallback;
  const std::string path = "calling_window." + std::string(key);
  if (!it->is_string()) return Error::Invalid(path, "type", path + " must be \"HH:MM\"");
  const std::string text = it->get<std::string>();
  const auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4)) {
    return Error::Invalid(path, "time_of_day", path + " must be \"HH:MM\"");
  }
  const int32_t h = (text[0] - '0') * 10 + (text[1] - '0');
  const int32_t m = (text[3] - '0') * 10 + (text[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) {
    return Error::Invalid(path, "time_of_day", path + " must be 00:00..24:00");
  }
  return h * 3600 + m * 60;
}

Result<int64_t> ParseDay(const std::string& text, const std::string& path) {
  const auto day = ParseIsoDate(text);
  if (!day) return Error::Invalid(path, "date", path + " must be YYYY-MM-DD");
  return *day;
}

Status ParseCaps(const Json& caps, ContactPolicy& policy) {
  if (!caps.is_array()) return Error::Invalid("frequency_caps", "type", "frequency_caps must be an array");
  if (caps.size() > kFrequencyCapsMax) {
    return Error::Invalid("frequency_caps", "max_items",
                          "at most " + std::to_string(kFrequencyCapsMax) + " frequency caps");
  }
  policy.frequency_caps.clear();
  for (size_t i = 0; i < caps.size(); ++i) {
    const std::string prefix = "frequency_caps[" + std::to_string(i) + "]";
    const Json& c = caps[i];
    if (!c.is_object()) return Error::Invalid(prefix, "type", prefix + " must be an object");
    OPSBOX_TRY(CheckObjectKeys(c, {"channel", "attempts_max", "window_hours"}, prefix));
    OPSBOX_ASSIGN_OR_RETURN(std::string channel, RequireString(c, "channel", kNameBytesMax, prefix));
    FrequencyCap cap;
    OPSBOX_ASSIGN_OR_RETURN(cap.channel, ParseChannel(channel, prefix + ".channel"));
    for (const char* key : {"attempts_max", "window_hours"}) {
      const auto it = c.find(key);
      const std::string path = prefix + "." + key;
      if (it == c.end() || !it->is_number_integer()) {
        return Error::Invalid(path, "integer", path + " is required, a whole number");
      }
      const int64_t v = it->get<int64_t>();
      if (v < 1 || v > 1'000'000) return Error::Invalid(path, "range", path + " is out of range");
      if (std::string_view(key) == "attempts_max") {
        cap.attempts_max = static_cast<uint32_t>(v);
      } else {
        cap.window = Duration::Hours(v);
      }
    }
    policy.frequency_caps.push_back(cap);
  }
  return Ok();
}

}  // namespace

Result<AccountFile> ParseAccountFile(std::string_view text) {
  OPSBOX_ASSIGN_OR_RETURN(Json j, ParseFile(text, "account"));
  if (!j.is_object()) return Error::Invalid("account", "type", "the account file must be an object");
  OPSBOX_TRY(CheckObjectKeys(j, {"account_id", "zone", "phone", "consents", "flags",
                                 "agent_particulars_sent_at"}));
  AccountFile a;
  OPSBOX_ASSIGN_OR_RETURN(a.account_id, RequireString(j, "account_id", kAccountIdBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(std::string zone, OptionalString(j, "zone", kZoneNameBytesMax, ""));
  if (!zone.empty()) a.zone = zone;
  OPSBOX_ASSIGN_OR_RETURN(std::string phone, OptionalString(j, "phone", kPhoneBytesMax, ""));
  if (!phone.empty()) {
    OPSBOX_TRY(PhoneCountry(phone, "phone"));
    a.phone = phone;
  }
  if (!a.zone && !a.phone) {
    return Error::Invalid("phone", "required", "phone is required when the account has no zone");
  }
  if (j.contains("consents")) OPSBOX_TRY(ParseConsents(j["consents"], a));
  if (j.contains("flags")) {
    const Json& flags = j["flags"];
    if (!flags.is_array()) return Error::Invalid("flags", "type", "flags must be an array of names");
    for (size_t i = 0; i < flags.size(); ++i) {
      const std::string path = "flags[" + std::to_string(i) + "]";
      if (!flags[i].is_string()) return Error::Invalid(path, "type", path + " must be a string");
      OPSBOX_ASSIGN_OR_RETURN(const AccountFlag f, ParseFlag(flags[i].get<std::string>(), path));
      a.flags |= f;
    }
  }
  if (j.contains("agent_particulars_sent_at") && !j["agent_particulars_sent_at"].is_null()) {
    OPSBOX_ASSIGN_OR_RETURN(a.agent_particulars_sent_at,
                            RequireInstant(j, "agent_particulars_sent_at", ""));
  }
  return a;
}

Result<std::vector<Attempt>> ParseHistoryFile(std::string_view text) {
  OPSBOX_ASSIGN_OR_RETURN(Json j, ParseFile(text, "history"));
  if (!j.is_array()) return Error::Invalid("history", "type", "the history file must be an array");
  if (j.size() > kHistoryEntriesMax) {
    return Error::Invalid("history", "max_items",
                          "at most " + std::to_string(kHistoryEntriesMax) + " history entries");
  }
  std::vector<Attempt> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string prefix = "history[" + std::to_string(i) + "]";
    const Json& e = j[i];
    if (!e.is_object()) return Error::Invalid(prefix, "type", prefix + " must be an object");
    OPSBOX_TRY(CheckObjectKeys(e, {"at", "channel", "direction", "outcome"}, prefix));
    Attempt a;
    OPSBOX_ASSIGN_OR_RETURN(a.at, RequireInstant(e, "at", prefix));
    OPSBOX_ASSIGN_OR_RETURN(std::string ch, RequireString(e, "channel", kNameBytesMax, prefix));
    OPSBOX_ASSIGN_OR_RETURN(a.channel, ParseChannel(ch, prefix + ".channel"));
    OPSBOX_ASSIGN_OR_RETURN(std::string dir, RequireString(e, "direction", kNameBytesMax, prefix));
    OPSBOX_ASSIGN_OR_RETURN(a.direction, ParseDirection(dir, prefix + ".direction"));
    OPSBOX_ASSIGN_OR_RETURN(std::string oc, RequireString(e, "outcome", kNameBytesMax, prefix));
    OPSBOX_ASSIGN_OR_RETURN(a.outcome, ParseOutcome(oc, prefix + ".outcome"));
    out.push_back(a);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Attempt& x, const Attempt& y) { return x.at < y.at; });
  return out;
}

Result<ContactPolicy> ParsePolicyFile(std::string_view text, ContactPolicy policy) {
  OPSBOX_ASSIGN_OR_RETURN(Json j, ParseFile(text, "policy"));
  if (!j.is_object()) return Error::Invalid("policy", "type", "the policy file must be an object");
  OPSBOX_TRY(CheckObjectKeys(j, {"calling_window", "reg_f", "agent_particulars", "frequency_caps",
                                 "holidays"}));
  policy.preset += "+policy";
  if (j.contains("calling_window")) {
    const Json& w = j["calling_window"];
    if (!w.is_object()) {
      return Error::Invalid("calling_window", "type", "calling_window must be an object");
    }
    OPSBOX_TRY(CheckObjectKeys(w, {"start", "end"}, "calling_window"));
    OPSBOX_ASSIGN_OR_RETURN(policy.window_start_s, LocalTimeOfDay(w, "start", policy.window_start_s));
    OPSBOX_ASSIGN_OR_RETURN(policy.window_end_s, LocalTimeOfDay(w, "end", policy.window_end_s));
  }
  if (j.contains("reg_f")) {
    OPSBOX_ASSIGN_OR_RETURN(policy.reg_f, OptionalBool(j, "reg_f", "reg_f"));
  }
  if (j.contains("agent_particulars")) {
    OPSBOX_ASSIGN_OR_RETURN(policy.agent_particulars,
                            OptionalBool(j, "agent_particulars", "agent_particulars"));
  }
  if (j.contains("frequency_caps")) OPSBOX_TRY(ParseCaps(j["frequency_caps"], policy));
  if (j.contains("holidays")) {
    const Json& h = j["holidays"];
    if (!h.is_array()) return Error::Invalid("holidays", "type", "holidays must be an array of dates");
    if (h.size() > kHolidaysMax) {
      return Error::Invalid("holidays", "max_items",
                            "at most " + std::to_string(kHolidaysMax) + " holidays");
    }
    policy.holidays.clear();
    for (size_t i = 0; i < h.size(); ++i) {
      const std::string path = "holidays[" + std::to_string(i) + "]";
      if (!h[i].is_string()) return Error::Invalid(path, "date", path + " must be YYYY-MM-DD");
      OPSBOX_ASSIGN_OR_RETURN(const int64_t day, ParseDay(h[i].get<std::string>(), path));
      policy.holidays.push_back(day);
    }
    std::sort(policy.holidays.begin(), policy.holidays.end());
    policy.holidays.erase(std::unique(policy.holidays.begin(), policy.holidays.end()),
                          policy.holidays.end());
  }
  OPSBOX_TRY(ValidatePolicy(policy));
  return policy;
}

Result<uint32_t> ResolveZoneSet(const AccountFile& account, ZoneCatalog& zones) {
  if (account.zone) return zones.ResolveZone(*account.zone);
  if (!account.phone) return kUnknownZoneSet;
  OPSBOX_ASSIGN_OR_RETURN(const std::string country, PhoneCountry(*account.phone, "phone"));
  return zones.ResolveCountry(country);
}

}  // namespace opsbox::collections
