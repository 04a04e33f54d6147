// Pure decisions of the case commands (case_ledger.hpp): validation, the SLA instants of a case
// at a given state, and the events each command appends. No I/O; `now` and ids are inputs.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "cases/internal/case_state.hpp"
#include "core/ids.hpp"

namespace opsbox::cases {

BusinessCalendar DefaultCaseCalendar() {
  BusinessCalendar c;
  for (size_t day = 0; day < 5; ++day) c.hours[day] = {WorkingPeriod{9 * 3600, 18 * 3600}};
  return c;
}

SlaPolicy PolicyFor(const CaseSettings& settings, CaseType type, std::string_view category,
                    Priority priority) {
  // Most specific wins: an exact category beats its parent beats any; then a priority beats any.
  const CaseSettings::PolicyRule* best = nullptr;
  int best_score = -1;
  for (const auto& r : settings.rules) {
    if (r.type != type) continue;
    int score = 0;
    if (!r.category.empty()) {
      if (r.category == category) {
        score += 4;
      } else if (category.starts_with(r.category + ".")) {
        score += 2;
      } else {
        continue;
      }
    }
    if (r.priority) {
      if (*r.priority != priority) continue;
      score += 1;
    }
    if (score > best_score) best = &r, best_score = score;
  }
  return best != nullptr ? best->policy : DefaultSlaPolicy(type, priority);
}

namespace {

bool KnownCategory(std::string_view code) {
  for (const auto& c : DefaultCategories()) {
    if (c.code == code) return true;
  }
  return false;
}

Result<int64_t> Seconds(const Json& o, std::string_view key, std::string_view prefix,
                        bool required) {
  auto it = o.find(std::string(key));
  const std::string field = std::string(prefix) + std::string(key);
  if (it == o.end() || it->is_null()) {
    if (required) return Error::Invalid(field, "required", field + " is required");
    return int64_t{0};
  }
  if (!it->is_number_integer()) return Error::Invalid(field, "type", field + " must be an integer");
  const int64_t v = it->get<int64_t>();
  if (v < 0 || v > kSlaTargetSecondsMax) {
    return Error::Invalid(field, "range", field + " must be 0.." +
                                              std::to_string(kSlaTargetSecondsMax) + " seconds");
  }
  return v;
}

Result<CaseSettings::PolicyRule> ParsePolicyRule(const Json& r, const std::string& prefix) {
  if (!r.is_object()) return Error::Invalid(prefix, "type", prefix + " must be an object");
  OPSBOX_TRY(CheckObjectKeys(r,
                             {"type", "category", "priority", "first_response_s",
                              "next_response_s", "resolution_s", "business_time", "at_risk_share"},
                             prefix + "."));
  CaseSettings::PolicyRule rule;
  OPSBOX_ASSIGN_OR_RETURN(auto type, RequireString(r, "type", 64, prefix + "."));
  auto t = ParseCaseType(type);
  if (!t) return Error::Invalid(prefix + ".type", "enum", "unknown case type " + type);
  rule.type = *t;
  OPSBOX_ASSIGN_OR_RETURN(rule.category, OptionalString(r, "category", 128, "", prefix + "."));
  if (!rule.category.empty() && !KnownCategory(rule.category)) {
    return Error::Invalid(prefix + ".category", "unknown_category",
                          "unknown category " + rule.category);
  }
  OPSBOX_ASSIGN_OR_RETURN(auto priority, OptionalString(r, "priority", 16, "", prefix + "."));
  if (!priority.empty()) {
    rule.priority = ParsePriority(priority);
    if (!rule.priority) return Error::Invalid(prefix + ".priority", "enum", "unknown priority");
  }
  const std::string p = prefix + ".";
  OPSBOX_ASSIGN_OR_RETURN(auto fr, Seconds(r, "first_response_s", p, true));
  OPSBOX_ASSIGN_OR_RETURN(auto nr, Seconds(r, "next_response_s", p, false));
  OPSBOX_ASSIGN_OR_RETURN(auto res, Seconds(r, "resolution_s", p, true));
  rule.policy.first_response = Duration::Seconds(fr);
  rule.policy.next_response = Duration::Seconds(nr);
  rule.policy.resolution = Duration::Seconds(res);
  if (r.contains("business_time")) {
    if (!r["business_time"].is_boolean()) {
      return Error::Invalid(p + "business_time", "type", "business_time must be a boolean");
    }
    rule.policy.business_time = r["business_time"].get<bool>();
  }
  if (r.contains("at_risk_share")) {
    const Json& s = r["at_risk_share"];
    if (!s.is_number() || !(s.get<double>() > 0 && s.get<double>() < 1)) {
      return Error::Invalid(p + "at_risk_share", "range", "at_risk_share must be in (0, 1)");
    }
    rule.policy.at_risk_share = s.get<double>();
  }
  return rule;
}

Json PolicyRuleToJson(const CaseSettings::PolicyRule& r) {
  Json j{{"type", Name(r.type)},
         {"first_response_s", r.policy.first_response.us / 1'000'000},
         {"next_response_s", r.policy.next_response.us / 1'000'000},
         {"resolution_s", r.policy.resolution.us / 1'000'000},
         {"business_time", r.policy.business_time},
         {"at_risk_share", r.policy.at_risk_share}};
  if (!r.category.empty()) j["category"] = r.category;
  if (r.priority) j["priority"] = Name(*r.priority);
  return j;
}

int64_t Us(const std::optional<Instant>& t) { return t ? t->us : 0; }
std::optional<Instant> AtOf(int64_t us) {
  if (us == 0) return std::nullopt;
  return Instant{us};
}

// The due and at-risk instants of one target (0 for none) on `calendar`.
Result<std::pair<int64_t, int64_t>> TargetInstants(const BusinessCalendar& calendar,
                                                   Instant started_at, Duration target,
                                                   int64_t at_risk_share_bp,
                                                   const std::vector<StatusChange>& changes) {
  if (target.us <= 0) return std::pair<int64_t, int64_t>{0, 0};
  OPSBOX_ASSIGN_OR_RETURN(SlaClock clock, ClockFromStatusChanges(started_at, target, changes));
  OPSBOX_ASSIGN_OR_RETURN(auto due, SlaDueAt(calendar, clock));
  clock.target = Duration::Micros(target.us / 10000 * at_risk_share_bp +
                                  target.us % 10000 * at_risk_share_bp / 10000);
  OPSBOX_ASSIGN_OR_RETURN(auto at_risk, SlaDueAt(calendar, clock));
  return std::pair<int64_t, int64_t>{Us(due), Us(at_risk)};
}

Status CheckText(const std::string& text, std::string_view field, size_t bytes_max,
                 bool multiline) {
  if (text.size() > bytes_max) {
    return Error::Invalid(std::string(field), "max_bytes",
                          std::string(field) + " holds at most " + std::to_string(bytes_max) +
                              " bytes");
  }
  for (unsigned char ch : text) {
    if (ch < 0x20 && !(multiline && (ch == '\n' || ch == '\r' || ch == '\t'))) {
      return Error::Invalid(std::string(field), "control_chars",
                            std::string(field) + " holds control characters");
    }
  }
  return Ok();
}

Status CheckCustomerId(const std::string& id) {
  bool ok = id.size() > 4 && id.size() <= kCustomerIdBytesMax && id.starts_with("cus_");
  for (size_t i = 4; ok && i < id.size(); ++i) {
    const char c = id[i];
    ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
  }
  if (!ok) {
    return Error::Invalid("customer_id", "format",
                          "customer_id is a customer id: cus_ then letters, digits, _ or -");
  }
  return Ok();
}

Status CheckName(const std::string& v, std::string_view field, size_t bytes_max) {
  bool ok = !v.empty() && v.size() <= bytes_max;
  for (char c : v) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok) {
    return Error::Invalid(std::string(field), "format",
                          std::string(field) + " is 1.." + std::to_string(bytes_max) +
                              " of a-z, 0-9 and _");
  }
  return Ok();
}

}  // namespace

Result<CaseSettings> ParseCaseSettings(const Json& doc, const ZoneLoader& load_zone) {
  if (!doc.is_object()) return Error::Invalid("settings", "type", "settings must be an object");
  OPSBOX_TRY(CheckObjectKeys(doc, {"calendar", "sla_policies", "repeat_window_days"}));
  CaseSettings s;
  s.calendar = DefaultCaseCalendar();
  if (doc.contains("calendar")) {
    auto cal = ParseBusinessCalendar(doc["calendar"], load_zone);
    if (!cal.ok()) {
      Error e = cal.error();
      e.field = "calendar" + (e.field.empty() ? "" : "." + e.field);
      return e;
    }
    s.calendar = std::move(*cal);
  }
  if (doc.contains("repeat_window_days")) {
    const Json& w = doc["repeat_window_days"];
    if (!w.is_number_integer() || w.get<int64_t>() < 0 || w.get<int64_t>() > kRepeatWindowDaysMax) {
      return Error::Invalid("repeat_window_days", "range",
                            "repeat_window_days must be 0.." + std::to_string(kRepeatWindowDaysMax));
    }
    s.repeat_window_days = w.get<int64_t>();
  }
  if (doc.contains("sla_policies")) {
    const Json& ps = doc["sla_policies"];
    if (!ps.is_array()) return Error::Invalid("sla_policies", "type", "sla_policies is an array");
    if (ps.size() > kSlaPoliciesMax) {
      return Error::Invalid("sla_policies", "max_items",
                            "at most " + std::to_string(kSlaPoliciesMax) + " policies");
    }
    for (size_t i = 0; i < ps.size(); ++i) {
      OPSBOX_ASSIGN_OR_RETURN(auto rule,
                              ParsePolicyRule(ps[i], "sla_policies[" + std::to_string(i) + "]"));
      s.rules.push_back(std::move(rule));
    }
  }
  return s;
}

Json CaseSettingsToJson(const CaseSettings& settings) {
  Json policies = Json::array();
  for (const auto& r : settings.rules) policies.push_back(PolicyRuleToJson(r));
  return Json{{"calendar", BusinessCalendarToJson(settings.calendar)},
              {"repeat_window_days", settings.repeat_window_days},
              {"sla_policies", std::move(policies)}};
}

namespace detail {

Result<Json> ComputeSla(const CaseState& c, const BusinessCalendar& calendar) {
  static const BusinessCalendar kAlwaysOpen = BusinessCalendar::AlwaysOpen();
  const BusinessCalendar& cal = c.business_time ? calendar : kAlwaysOpen;
  Json sla{{"paused", c.status == CaseStatus::kPendingCustomer},
           {"fr_due_at_us", 0},
           {"fr_at_risk_at_us", 0},
           {"fr_met_at_us", Us(c.fr_met)},
           {"res_due_at_us", 0},
           {"res_at_risk_at_us", 0},
           {"res_met_at_us", 0}};
  if (!c.fr_met) {
    OPSBOX_ASSIGN_OR_RETURN(auto fr, TargetInstants(cal, c.received_at, c.fr_target,
                                                    c.at_risk_share_bp, c.changes));
    sla["fr_due_at_us"] = fr.first;
    sla["fr_at_risk_at_us"] = fr.second;
  }
  const bool done = c.status == CaseStatus::kResolved || c.status == CaseStatus::kClosed;
  if (done) {
    sla["res_met_at_us"] = Us(c.resolved_at);
  } else {
    // The resolution clock also stops while resolved or closed (it runs again on reopen).
    std::vector<StatusChange> changes = c.changes;
    for (auto& ch : changes) {
      if (ch.to == CaseStatus::kResolved || ch.to == CaseStatus::kClosed) {
        ch.to = CaseStatus::kPendingCustomer;
      }
    }
    OPSBOX_ASSIGN_OR_RETURN(auto res, TargetInstants(cal, c.received_at, c.res_target,
                                                     c.at_risk_share_bp, changes));
    sla["res_due_at_us"] = res.first;
    sla["res_at_risk_at_us"] = res.second;
  }
  return sla;
}

Result<OpenCaseInput> ParseOpenCase(const Json& p) {
  if (!p.is_object()) return Error::Invalid("body", "type", "the body must be an object");
  OPSBOX_TRY(CheckObjectKeys(p, {"type", "category", "priority", "subject", "description",
                                 "customer_id", "channel", "received_at"}));
  OpenCaseInput in;
  OPSBOX_ASSIGN_OR_RETURN(auto type, RequireString(p, "type", 64));
  auto t = ParseCaseType(type);
  if (!t) {
    return Error::Invalid("type", "enum",
                          "type is one of service_request, complaint, grievance, dispute, "
                          "fraud_report, information_request");
  }
  in.type = *t;
  OPSBOX_ASSIGN_OR_RETURN(in.category, RequireString(p, "category", 128));
  if (!KnownCategory(in.category)) {
    return Error::Invalid("category", "unknown_category",
                          "unknown category " + in.category + " (e.g. cards.disputed_transaction)");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto priority, OptionalString(p, "priority", 16, "normal"));
  auto pr = ParsePriority(priority);
  if (!pr) return Error::Invalid("priority", "enum", "priority is low, normal, high or urgent");
  in.priority = *pr;
  OPSBOX_ASSIGN_OR_RETURN(in.subject, RequireString(p, "subject", kSubjectBytesMax));
  OPSBOX_TRY(CheckText(in.subject, "subject", kSubjectBytesMax, false));
  if (in.subject.empty()) return Error::Invalid("subject", "required", "subject is required");
  OPSBOX_ASSIGN_OR_RETURN(in.description,
                          OptionalString(p, "description", kDescriptionBytesMax, ""));
  OPSBOX_TRY(CheckText(in.description, "description", kDescriptionBytesMax, true));
  OPSBOX_ASSIGN_OR_RETURN(in.customer_id, OptionalString(p, "customer_id", kCustomerIdBytesMax, ""));
  if (!in.customer_id.empty()) OPSBOX_TRY(CheckCustomerId(in.customer_id));
  OPSBOX_ASSIGN_OR_RETURN(in.channel, OptionalString(p, "channel", kChannelBytesMax, ""));
  if (!in.channel.empty()) OPSBOX_TRY(CheckName(in.channel, "channel", kChannelBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto received, OptionalString(p, "received_at", 64, ""));
  if (!received.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(auto at, ParseRfc3339(received, "received_at"));
    in.received_at = at;
  }
  return in;
}

Result<ledger::Decision> DecideOpenCase(const OpenCaseInput& in, const CaseSettings& settings,
                                        const std::vector<PriorCase>& prior,
                                        const std::string& customer_index, Instant now,
                                        Random& random) {
  const Instant received = in.received_at.value_or(now);
  if (received > now) {
    return Error::Invalid("received_at", "future", "received_at lies in the future");
  }
  if (now - received > Duration::Hours(24 * kReceivedAtPastDaysMax)) {
    return Error::Invalid("received_at", "range",
                          "received_at lies more than " + std::to_string(kReceivedAtPastDaysMax) +
                              " days in the past");
  }
  const SlaPolicy policy = PolicyFor(settings, in.type, in.category, in.priority);
  CaseState c;
  c.case_id = NewId("case", now, random);
  c.type = in.type;
  c.category = in.category;
  c.priority = in.priority;
  c.received_at = received;
  c.business_time = policy.business_time;
  c.at_risk_share_bp = std::clamp<int64_t>(std::llround(policy.at_risk_share * 10000), 1, 9999);
  c.fr_target = policy.first_response;
  c.res_target = policy.resolution;
  OPSBOX_ASSIGN_OR_RETURN(Json sla, ComputeSla(c, settings.calendar));
  const RepeatLink repeats =
      customer_index.empty()
          ? RepeatLink{}
          : FindRepeats(prior, in.type, in.category, received, settings.repeat_window_days);
  const std::string subject =
      in.customer_id.empty() ? c.case_id : in.customer_id + "/" + c.case_id;
  Json payload{{"case_id", c.case_id},
               {"type", Name(in.type)},
               {"category", in.category},
               {"priority", Name(in.priority)},
               {"status", Name(CaseStatus::kNew)},
               {"subject", in.subject},
               {"description", in.description.empty() ? Json() : Json(in.description)},
               {"customer_id", in.customer_id.empty() ? Json() : Json(in.customer_id)},
               {"customer_index", customer_index},
               {"channel", in.channel},
               {"received_at_us", received.us},
               {"repeat_of", repeats.linked_case_ids},
               {"repeat_count", repeats.repeat_count},
               {"business_time", policy.business_time},
               {"at_risk_share_bp", c.at_risk_share_bp},
               {"fr_target_us", policy.first_response.us},
               {"res_target_us", policy.resolution.us},
               {"sla", sla}};
  ledger::Decision d;
  ledger::NewEvent e{std::string(kCaseOpened), std::move(payload)};
  e.subject_id = subject;
  e.personal_fields = {"description", "customer_id"};
  d.events.push_back(std::move(e));
  CaseRecord view;
  view.business_time = policy.business_time;
  view.first_response.target = policy.first_response;
  view.first_response.due_at = AtOf(sla["fr_due_at_us"].get<int64_t>());
  view.first_response.at_risk_at = AtOf(sla["fr_at_risk_at_us"].get<int64_t>());
  view.resolution.target = policy.resolution;
  view.resolution.due_at = AtOf(sla["res_due_at_us"].get<int64_t>());
  view.resolution.at_risk_at = AtOf(sla["res_at_risk_at_us"].get<int64_t>());
  d.result = Json{{"case_id", c.case_id},
                  {"status", Name(CaseStatus::kNew)},
                  {"repeat_of", repeats.linked_case_ids},
                  {"repeat_count", repeats.repeat_count},
                  {"sla", SlaToJson(view, now)}};
  return d;
}

Result<ledger::Decision> DecideTransition(const CaseState& c, const Json& p,
                                          const CaseSettings& settings, Instant now) {
  OPSBOX_TRY(CheckObjectKeys(p, {"case_id", "to", "reason", "granted"}));
  OPSBOX_ASSIGN_OR_RETURN(auto to_name, RequireString(p, "to", 32));
  auto to = ParseCaseStatus(to_name);
  if (!to) {
    return Error::Invalid("to", "enum",
                          "to is new, open, pending_customer, pending_internal, resolved or closed");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto reason, OptionalString(p, "reason", kReasonBytesMax, ""));
  OPSBOX_TRY(CheckText(reason, "reason", kReasonBytesMax, true));
  std::vector<std::string> granted;
  if (p.contains("granted") && p["granted"].is_array()) {
    for (const auto& g : p["granted"]) {
      if (g.is_string()) granted.push_back(g.get<std::string>());
    }
  }
  auto allows = [&granted](std::string_view perm) {
    return std::find(granted.begin(), granted.end(), perm) != granted.end();
  };
  OPSBOX_TRY(CheckTransition(DefaultLifecycle(c.type), c.status, *to, allows, now, c.resolved_at));
  if (c.changes.size() >= kStatusChangesMax) {
    return Error::Conflict("max_items", "a case keeps at most " +
                                            std::to_string(kStatusChangesMax) + " status changes");
  }
  CaseState next = c;
  next.status = *to;
  next.changes.push_back({*to, now});
  if (*to == CaseStatus::kResolved) next.resolved_at = now;
  OPSBOX_ASSIGN_OR_RETURN(Json sla, ComputeSla(next, settings.calendar));
  Json payload{{"case_id", c.case_id},
               {"from", Name(c.status)},
               {"to", Name(*to)},
               {"reason", reason.empty() ? Json() : Json(reason)},
               {"at_us", now.us},
               {"sla", sla}};
  ledger::Decision d;
  ledger::NewEvent e{std::string(kCaseTransitioned), std::move(payload)};
  e.subject_id = c.data_subject;
  e.personal_fields = {"reason"};
  d.events.push_back(std::move(e));
  d.result = Json{{"case_id", c.case_id}, {"status", Name(*to)}, {"from", Name(c.status)}};
  return d;
}

Result<ledger::Decision> DecideAddNote(const CaseState& c, const Json& p,
                                       const CaseSettings& settings, Instant now, Random& random) {
  OPSBOX_TRY(CheckObjectKeys(p, {"case_id", "text", "visibility"}));
  OPSBOX_ASSIGN_OR_RETURN(auto text, RequireString(p, "text", kNoteBytesMax));
  OPSBOX_TRY(CheckText(text, "text", kNoteBytesMax, true));
  if (text.empty()) return Error::Invalid("text", "required", "text is required");
  OPSBOX_ASSIGN_OR_RETURN(auto vis, OptionalString(p, "visibility", 32, "internal"));
  if (vis != "internal" && vis != "customer_visible") {
    return Error::Invalid("visibility", "enum", "visibility is internal or customer_visible");
  }
  const NoteVisibility visibility =
      vis == "internal" ? NoteVisibility::kInternal : NoteVisibility::kCustomerVisible;
  const bool response = CountsAsResponse(NoteSide::kTenant, visibility);
  CaseState next = c;
  if (response && !next.fr_met) next.fr_met = now;
  OPSBOX_ASSIGN_OR_RETURN(Json sla, ComputeSla(next, settings.calendar));
  const std::string note_id = NewId("note", now, random);
  Json payload{{"case_id", c.case_id}, {"note_id", note_id}, {"text", text},
               {"visibility", vis},    {"side", "tenant"},   {"response", response},
               {"at_us", now.us},      {"sla", sla}};
  ledger::Decision d;
  ledger::NewEvent e{std::string(kCaseNoteAdded), std::move(payload)};
  e.subject_id = c.data_subject;
  e.personal_fields = {"text"};
  d.events.push_back(std::move(e));
  d.result = Json{{"case_id", c.case_id}, {"note_id", note_id}, {"response", response}};
  return d;
}

Result<ledger::Decision> DecideRecordSla(const CaseState& c, const Json& p, Instant now) {
  OPSBOX_TRY(CheckObjectKeys(p, {"case_id", "target", "kind"}));
  OPSBOX_ASSIGN_OR_RETURN(auto target, RequireString(p, "target", 32));
  OPSBOX_ASSIGN_OR_RETURN(auto kind, RequireString(p, "kind", 32));
  const bool fr = target == "first_response";
  if (!fr && target != "resolution") {
    return Error::Invalid("target", "enum", "target is first_response or resolution");
  }
  const bool breach = kind == "breached";
  if (!breach && kind != "at_risk") return Error::Invalid("kind", "enum", "kind is at_risk or breached");
  const int64_t due = fr ? (breach ? c.fr_due_us : c.fr_at_risk_us)
                         : (breach ? c.res_due_us : c.res_at_risk_us);
  const int64_t fired = fr ? (breach ? c.fr_breached_fired_us : c.fr_at_risk_fired_us)
                           : (breach ? c.res_breached_fired_us : c.res_at_risk_fired_us);
  ledger::Decision d;
  // Met, paused, moved later or already recorded: a stale timer records nothing.
  if (due == 0 || due > now.us || fired != 0) {
    d.result = Json{{"case_id", c.case_id}, {"recorded", false}};
    return d;
  }
  d.events.push_back(ledger::NewEvent{
      std::string(breach ? kCaseSlaBreached : kCaseSlaAtRisk),
      Json{{"case_id", c.case_id}, {"target", target}, {"due_at_us", due}, {"at_us", now.us}}});
  d.result = Json{{"case_id", c.case_id}, {"recorded", true}};
  return d;
}

Result<ledger::Decision> DecideConfigure(const Json& payload, const ZoneLoader& load_zone) {
  OPSBOX_ASSIGN_OR_RETURN(CaseSettings s, ParseCaseSettings(payload, load_zone));
  Json body = CaseSettingsToJson(s);
  ledger::Decision d;
  d.events.push_back(ledger::NewEvent{std::string(kCasesConfigured), body});
  d.result = std::move(body);
  return d;
}

}  // namespace detail
}  // namespace opsbox::cases
