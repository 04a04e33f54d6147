// Planning on the ledger: the save_forecast, save_schedule and set_staffing_targets commands,
// their projections, the telephony contacts projection, and the queries over them.
#include "wfm/planning.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/ids.hpp"
#include "core/limits.hpp"
#include "integrations/external_events.hpp"
#include "wfm/internal/planning_json.hpp"
#include "wfm/schedule.hpp"

namespace opsbox::wfm {
namespace {

using detail::FieldPath;
using detail::ItemPath;
using detail::Member;

constexpr std::string_view kTelephonySource = "telephony";

bool IsQueueChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

// Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int64_t& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

Result<std::string> RequireText(const Json& j, std::string_view key, std::string_view prefix,
                                size_t bytes_max) {
  const Json* v = Member(j, key);
  if (v == nullptr) return Error::Invalid(FieldPath(prefix, key), "required", "is required");
  if (!v->is_string()) return Error::Invalid(FieldPath(prefix, key), "type", "must be a string");
  const auto& s = v->get_ref<const std::string&>();
  if (s.empty() || s.size() > bytes_max) {
    return Error::Invalid(FieldPath(prefix, key), "length",
                          "must be 1 to " + std::to_string(bytes_max) + " bytes");
  }
  return s;
}

// A per-interval array: `count` numbers (>= 0 when `positive` is false, > 0 otherwise); null
// items allowed when `nullable`.
Status CheckSeries(const Json& j, std::string_view prefix, std::string_view key, size_t count,
                   bool positive, bool nullable) {
  const std::string path = FieldPath(prefix, key);
  const Json* v = Member(j, key);
  if (v == nullptr) return Error::Invalid(path, "required", "is required");
  if (!v->is_array()) return Error::Invalid(path, "type", "must be an array");
  if (v->size() != count) {
    return Error::Invalid(path, "length",
                          "must hold " + std::to_string(count) + " values, one per interval");
  }
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& x = (*v)[i];
    if (x.is_null() && nullable) continue;
    if (!x.is_number()) return Error::Invalid(ItemPath(path, i), "type", "must be a number");
    const double d = x.get<double>();
    if (positive ? !(d > 0) : !(d >= 0)) {
      return Error::Invalid(ItemPath(path, i), positive ? "positive" : "non_negative",
                            positive ? "must be greater than 0" : "must be 0 or more");
    }
  }
  return Ok();
}

Status CheckPayloadBytes(const Json& payload, size_t bytes_max, std::string_view what) {
  std::string text;
  try {
    text = CanonicalJson(payload);
  } catch (const Json::exception&) {
    return Error::Invalid("body", "utf8", "strings must be valid UTF-8");
  }
  if (text.size() > bytes_max) {
    return Error{ErrorCode::kPayloadTooLarge, "body", "max_bytes",
                 std::string(what) + " is " + std::to_string(text.size()) +
                     " bytes in canonical JSON; at most " + std::to_string(bytes_max) +
                     " are allowed"};
  }
  return Ok();
}

Status CheckIntervalMin(int64_t interval_min) {
  if (interval_min != 15 && interval_min != 30 && interval_min != 60) {
    return Error::Invalid("interval_min", "one_of", "must be 15, 30 or 60");
  }
  return Ok();
}

Status Done(const Result<int64_t>& r) {
  if (!r.ok()) return r.error();
  return Ok();
}

// The event's payload object: the writer's parsed value when it handed one, else parsed into
// `storage`.
Result<const Json*> EventPayload(const ledger::Event& e, Json& storage) {
  auto p = ledger::PayloadJson(e, storage);
  if (!p.ok() || !(*p)->is_object()) return Error::Internal(e.type + " payload is not an object");
  return *p;
}

}  // namespace

// ---- dates
// ---------------------------------------------------------------------------------------

Result<int64_t> ParseLocalDate(std::string_view text, std::string_view field) {
  int64_t y = 0, m = 0, d = 0;
  const bool shape = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                     Digits(text, 0, 4, y) && Digits(text, 5, 2, m) && Digits(text, 8, 2, d);
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (!shape || y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > kDays[m - 1] ||
      (m == 2 && d == 29 && !leap)) {
    return Error::Invalid(std::string(field), "date", "must be a date YYYY-MM-DD");
  }
  return DaysFromCivil(y, m, d);
}

Result<int64_t> ParseLocalTime(std::string_view text, std::string_view field) {
  int64_t hh = 0, mm = 0, ss = 0;
  const bool shape = (text.size() == 16 || text.size() == 19) &&
                     (text[10] == 'T' || text[10] == ' ') && text[13] == ':' &&
                     Digits(text, 11, 2, hh) && Digits(text, 14, 2, mm) &&
                     (text.size() == 16 || (text[16] == ':' && Digits(text, 17, 2, ss)));
  auto day = shape ? ParseLocalDate(text.substr(0, 10), field) : Result<int64_t>(int64_t{0});
  if (!shape || !day.ok() || hh > 23 || mm > 59 || ss > 59) {
    return Error::Invalid(std::string(field), "local_time",
                          "must be a local time YYYY-MM-DDTHH:MM:SS");
  }
  return *day * 86400 + hh * 3600 + mm * 60 + ss;
}

Status CheckQueueName(std::string_view queue, std::string_view field) {
  bool ok = !queue.empty() && queue.size() <= kQueueBytesMax && queue[0] != '_' &&
            queue[0] != '.' && queue[0] != '-';
  for (char c : queue) ok = ok && IsQueueChar(c);
  if (!ok) {
    return Error::Invalid(std::string(field), "format",
                          "a queue name matches [a-z0-9][a-z0-9_.-]{0,63}");
  }
  return Ok();
}

// ---- targets
// -------------------------------------------------------------------------------------

const char* ForecastBoundName(ForecastBound b) {
  switch (b) {
    case ForecastBound::kPoint: return "point";
    case ForecastBound::kUpper80: return "upper_80";
    case ForecastBound::kUpper95: return "upper_95";
  }
  return "?";
}

Result<QueueTargets> ParseQueueTargets(const Json& j, std::string_view prefix) {
  OPSBOX_TRY(CheckObjectKeys(j,
                             {"service_level", "target_answer_s", "asa_s_max", "abandon_max",
                              "occupancy_max", "shrinkage", "patience_s", "plan_for"},
                             prefix));
  QueueTargets t;
  if (const Json* plan_for = Member(j, "plan_for"); plan_for != nullptr) {
    bool known = false;
    for (auto b : {ForecastBound::kPoint, ForecastBound::kUpper80, ForecastBound::kUpper95}) {
      if (plan_for->is_string() && plan_for->get<std::string>() == ForecastBoundName(b)) {
        t.plan_for = b, known = true;
      }
    }
    if (!known) {
      return Error::Invalid(FieldPath(prefix, "plan_for"), "one_of",
                            "must be point, upper_80 or upper_95");
    }
  }
  OPSBOX_ASSIGN_OR_RETURN(t.staffing.service_level,
                          detail::OptionalNumber(j, "service_level", prefix));
  OPSBOX_ASSIGN_OR_RETURN(t.staffing.target_answer_s,
                          detail::NumberOr(j, "target_answer_s", prefix, 20));
  OPSBOX_ASSIGN_OR_RETURN(t.staffing.asa_s_max, detail::OptionalNumber(j, "asa_s_max", prefix));
  OPSBOX_ASSIGN_OR_RETURN(t.staffing.abandon_max, detail::OptionalNumber(j, "abandon_max", prefix));
  OPSBOX_ASSIGN_OR_RETURN(t.staffing.occupancy_max,
                          detail::OptionalNumber(j, "occupancy_max", prefix));
  OPSBOX_ASSIGN_OR_RETURN(t.staffing.shrinkage, detail::NumberOr(j, "shrinkage", prefix, 0));
  OPSBOX_ASSIGN_OR_RETURN(t.patience_s, detail::OptionalNumber(j, "patience_s", prefix));
  if (t.patience_s && !(*t.patience_s > 0 && *t.patience_s <= kAhtSMax)) {
    return Error::Invalid(FieldPath(prefix, "patience_s"), "range",
                          "the mean patience must be above 0 and at most a day (seconds)");
  }
  if (auto st = ValidateTargets(t.staffing, t.patience_s.has_value()); !st.ok()) {
    Error e = st.error();
    e.field = FieldPath(prefix, e.field);
    return e;
  }
  return t;
}

Json QueueTargetsToJson(const QueueTargets& t) {
  return Json{{"service_level", detail::OptionalJson(t.staffing.service_level)},
              {"target_answer_s", t.staffing.target_answer_s},
              {"asa_s_max", detail::OptionalJson(t.staffing.asa_s_max)},
              {"abandon_max", detail::OptionalJson(t.staffing.abandon_max)},
              {"occupancy_max", detail::OptionalJson(t.staffing.occupancy_max)},
              {"shrinkage", t.staffing.shrinkage},
              {"patience_s", detail::OptionalJson(t.patience_s)},
              {"plan_for", ForecastBoundName(t.plan_for)}};
}

QueueTargets DefaultQueueTargets() {
  QueueTargets t;
  t.staffing.service_level = 0.8;
  t.staffing.target_answer_s = 20;
  return t;
}

// ---- decisions
// -----------------------------------------------------------------------------------

Result<ledger::Decision> DecideSaveForecast(const Json& p, Instant now, Random& random) {
  OPSBOX_TRY(CheckObjectKeys(
      p, {"queue", "zone", "interval_min", "first_start_local", "horizon_days", "method", "season",
          "params", "holdout", "candidates", "history", "volume", "aht_s",
          "prediction_intervals"}));
  OPSBOX_ASSIGN_OR_RETURN(auto queue, RequireText(p, "queue", "", kQueueBytesMax));
  OPSBOX_TRY(CheckQueueName(queue, "queue"));
  OPSBOX_ASSIGN_OR_RETURN(auto zone, RequireText(p, "zone", "", kZoneNameBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto interval_min, detail::IntOr(p, "interval_min", "", 0, 0, 60));
  OPSBOX_TRY(CheckIntervalMin(interval_min));
  OPSBOX_ASSIGN_OR_RETURN(auto first, RequireText(p, "first_start_local", "", 32));
  OPSBOX_ASSIGN_OR_RETURN(auto first_s, ParseLocalTime(first, "first_start_local"));
  if (first_s % 86400 != 0) {
    return Error::Invalid("first_start_local", "midnight", "a forecast starts at local midnight");
  }
  OPSBOX_ASSIGN_OR_RETURN(const Json* volume,
                          detail::OptionalArray(p, "volume", "", kSavedForecastIntervalsMax));
  const size_t per_day = static_cast<size_t>(1440 / interval_min);
  if (volume == nullptr || volume->empty() || volume->size() % per_day != 0) {
    return Error::Invalid("volume", "whole_days",
                          "must hold whole days of intervals (" + std::to_string(per_day) +
                              " per day), at most " + std::to_string(kSavedForecastIntervalsMax));
  }
  OPSBOX_TRY(CheckSeries(p, "", "volume", volume->size(), false, false));
  if (Member(p, "aht_s") != nullptr)
    OPSBOX_TRY(CheckSeries(p, "", "aht_s", volume->size(), true, true));
  if (const Json* pi = Member(p, "prediction_intervals"); pi != nullptr) {
    OPSBOX_TRY(CheckObjectKeys(*pi, {"source", "scale_80", "scale_95", "lower_80", "upper_80",
                                     "lower_95", "upper_95"},
                               "prediction_intervals"));
    for (const char* key : {"lower_80", "upper_80", "lower_95", "upper_95"}) {
      OPSBOX_TRY(CheckSeries(*pi, "prediction_intervals", key, volume->size(), false, false));
    }
  }
  OPSBOX_TRY(CheckPayloadBytes(p, kSavedForecastPayloadBytesMax, "the forecast"));
  const std::string id = NewId("fct", now, random);
  Json event = p;
  event["forecast_id"] = id;
  ledger::Decision d;
  d.events.push_back(ledger::NewEvent{std::string(kForecastSaved), std::move(event)});
  d.result = Json{{"forecast_id", id}, {"queue", queue}, {"created_at", FormatRfc3339(now)}};
  return d;
}

Result<ledger::Decision> DecideSaveSchedule(const Json& p, Instant now, Random& random) {
  OPSBOX_TRY(CheckObjectKeys(
      p, {"queue", "start_date", "skill", "interval_min", "days", "coverage", "schedule"}));
  OPSBOX_ASSIGN_OR_RETURN(auto queue, RequireText(p, "queue", "", kQueueBytesMax));
  OPSBOX_TRY(CheckQueueName(queue, "queue"));
  OPSBOX_ASSIGN_OR_RETURN(auto date, RequireText(p, "start_date", "", 10));
  OPSBOX_TRY(ParseLocalDate(date, "start_date"));
  OPSBOX_TRY(RequireText(p, "skill", "", kScheduleIdBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto interval_min, detail::IntOr(p, "interval_min", "", 0, 0, 60));
  OPSBOX_TRY(CheckIntervalMin(interval_min));
  OPSBOX_ASSIGN_OR_RETURN(auto days, detail::IntOr(p, "days", "", 0, 1, kScheduleDaysMax));
  const Json* coverage = Member(p, "coverage");
  if (coverage == nullptr || !coverage->is_object()) {
    return Error::Invalid("coverage", "type", "must be an object {required, scheduled}");
  }
  OPSBOX_TRY(CheckObjectKeys(*coverage, {"required", "scheduled"}, "coverage"));
  const size_t n = static_cast<size_t>(days * (1440 / interval_min));
  OPSBOX_TRY(CheckSeries(*coverage, "coverage", "required", n, false, false));
  OPSBOX_TRY(CheckSeries(*coverage, "coverage", "scheduled", n, false, false));
  const Json* schedule = Member(p, "schedule");
  if (schedule == nullptr || !schedule->is_object()) {
    return Error::Invalid("schedule", "type", "must be an object (the solved schedule)");
  }
  OPSBOX_TRY(CheckPayloadBytes(p, kSavedSchedulePayloadBytesMax, "the schedule"));
  const std::string id = NewId("sch", now, random);
  Json event = p;
  event["schedule_id"] = id;
  ledger::Decision d;
  d.events.push_back(ledger::NewEvent{std::string(kScheduleSaved), std::move(event)});
  d.result = Json{{"schedule_id", id}, {"queue", queue}, {"created_at", FormatRfc3339(now)}};
  return d;
}

Result<ledger::Decision> DecideSetStaffingTargets(const Json& p, Instant now) {
  OPSBOX_TRY(CheckObjectKeys(p, {"queue", "targets"}));
  OPSBOX_ASSIGN_OR_RETURN(auto queue, RequireText(p, "queue", "", kQueueBytesMax));
  OPSBOX_TRY(CheckQueueName(queue, "queue"));
  const Json* targets = Member(p, "targets");
  if (targets == nullptr) return Error::Invalid("targets", "required", "is required");
  OPSBOX_ASSIGN_OR_RETURN(auto parsed, ParseQueueTargets(*targets, "targets"));
  Json normalized = QueueTargetsToJson(parsed);
  ledger::Decision d;
  d.events.push_back(ledger::NewEvent{std::string(kStaffingTargetsSet),
                                      Json{{"queue", queue}, {"targets", normalized}}});
  d.result = Json{{"queue", queue}, {"targets", normalized}, {"updated_at", FormatRfc3339(now)}};
  return d;
}

// ---- projections
// ---------------------------------------------------------------------------------
namespace {

Json ForecastSummary(const Json& body, Instant created_at) {
  const size_t n = body.contains("volume") ? body["volume"].size() : 0;
  return Json{{"forecast_id", body.value("forecast_id", "")},
              {"queue", body.value("queue", "")},
              {"zone", body.value("zone", "UTC")},
              {"interval_min", body.value("interval_min", 0)},
              {"first_start_local", body.value("first_start_local", "")},
              {"intervals", n},
              {"method", body.value("method", Json(nullptr))},
              {"season", body.value("season", Json(nullptr))},
              {"holdout", body.value("holdout", Json(nullptr))},
              {"created_at", FormatRfc3339(created_at)}};
}

Json ScheduleSummary(const Json& body, Instant created_at) {
  const Json sched = body.value("schedule", Json::object());
  return Json{{"schedule_id", body.value("schedule_id", "")},
              {"queue", body.value("queue", "")},
              {"start_date", body.value("start_date", "")},
              {"skill", body.value("skill", "")},
              {"interval_min", body.value("interval_min", 0)},
              {"days", body.value("days", 0)},
              {"solver", sched.value("solver", Json(nullptr))},
              {"shift_cost", sched.value("shift_cost", Json(nullptr))},
              {"created_at", FormatRfc3339(created_at)}};
}

Status ProjectForecastSaved(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* parsed, EventPayload(e, storage));
  const Json& body = *parsed;
  store::Value params[] = {e.tenant_id,
                           body.value("forecast_id", ""),
                           body.value("queue", ""),
                           e.recorded_at.us,
                           e.seq,
                           CanonicalJson(ForecastSummary(body, e.recorded_at)),
                           e.payload};
  return Done(
      tx.Exec("INSERT INTO wfm_forecasts (tenant_id, forecast_id, queue, created_at_us, seq, "
              "summary, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
              params));
}

Status ProjectScheduleSaved(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* parsed, EventPayload(e, storage));
  const Json& body = *parsed;
  store::Value params[] = {e.tenant_id,
                           body.value("schedule_id", ""),
                           body.value("queue", ""),
                           body.value("start_date", ""),
                           e.recorded_at.us,
                           e.seq,
                           CanonicalJson(ScheduleSummary(body, e.recorded_at)),
                           e.payload};
  return Done(
      tx.Exec("INSERT INTO wfm_schedules (tenant_id, schedule_id, queue, start_date, "
              "created_at_us, seq, summary, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              params));
}

Status ProjectStaffingTargetsSet(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* parsed, EventPayload(e, storage));
  const Json& body = *parsed;
  store::Value params[] = {e.tenant_id, body.value("queue", ""), e.recorded_at.us, e.seq,
                           CanonicalJson(body.value("targets", Json::object()))};
  return Done(
      tx.Exec("INSERT INTO wfm_targets (tenant_id, queue, updated_at_us, seq, body) "
              "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, queue) DO UPDATE SET "
              "updated_at_us = excluded.updated_at_us, seq = excluded.seq, body = excluded.body",
              params));
}

// A seconds figure from a telephony payload as whole milliseconds, or nullopt when it is absent,
// not a number, negative or above a day (such events are ignored, not refused).
std::optional<int64_t> Millis(const Json& payload, std::string_view key, bool required) {
  const Json* v = Member(payload, key);
  if (v == nullptr) return required ? std::nullopt : std::optional<int64_t>(0);
  if (!v->is_number()) return std::nullopt;
  const double s = v->get<double>();
  if (!(s >= 0 && s <= 86400)) return std::nullopt;
  return static_cast<int64_t>(std::llround(s * 1000));
}

// Copies telephony contact events into wfm_contacts; anything else is left alone.
Status ProjectTelephonyContact(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* parsed, EventPayload(e, storage));
  const Json& body = *parsed;
  if (body.value("source", "") != kTelephonySource) return Ok();
  const std::string type = body.value("type", "");
  std::string kind;
  if (type == "contact.offered") kind = "offered";
  if (type == "contact.answered") kind = "answered";
  if (type == "contact.abandoned") kind = "abandoned";
  const Json* inner = Member(body, "payload");
  if (kind.empty() || inner == nullptr || !inner->is_object()) return Ok();
  const Json& payload = *inner;
  const Json* q = Member(payload, "queue");
  if (q == nullptr || !q->is_string() || !CheckQueueName(q->get<std::string>(), "queue").ok()) {
    return Ok();
  }
  const bool waited = kind != "offered";
  const auto wait_ms = Millis(payload, "wait_s", waited);
  const auto handle_ms = Millis(payload, "handle_s", kind == "answered");
  if (!wait_ms || !handle_ms) return Ok();
  const int64_t occurred_us = body.value("occurred_at_us", int64_t{0});
  store::Value params[] = {e.tenant_id,
                           e.seq,
                           q->get<std::string>(),
                           kind,
                           occurred_us - *wait_ms * 1000,
                           occurred_us,
                           *wait_ms,
                           *handle_ms};
  return Done(
      tx.Exec("INSERT INTO wfm_contacts (tenant_id, seq, queue, kind, arrival_at_us, "
              "occurred_at_us, wait_ms, handle_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              params));
}

Result<ledger::Decision> HandleSaveForecast(store::Tx&, const ledger::Command& cmd, Instant now,
                                            Random& random) {
  return DecideSaveForecast(cmd.payload, now, random);
}
Result<ledger::Decision> HandleSaveSchedule(store::Tx&, const ledger::Command& cmd, Instant now,
                                            Random& random) {
  return DecideSaveSchedule(cmd.payload, now, random);
}
Result<ledger::Decision> HandleSetStaffingTargets(store::Tx&, const ledger::Command& cmd,
                                                  Instant now, Random&) {
  return DecideSetStaffingTargets(cmd.payload, now);
}

}  // namespace

void RegisterWfm(ledger::Registry& registry) {
  registry.AddCommand(std::string(kSaveForecast), HandleSaveForecast);
  registry.AddCommand(std::string(kSaveSchedule), HandleSaveSchedule);
  registry.AddCommand(std::string(kSetStaffingTargets), HandleSetStaffingTargets);
  registry.AddProjector(std::string(kForecastSaved), ProjectForecastSaved);
  registry.AddProjector(std::string(kScheduleSaved), ProjectScheduleSaved);
  registry.AddProjector(std::string(kStaffingTargetsSet), ProjectStaffingTargetsSet);
  registry.AddProjector(std::string(integrations::kExternalEventRecorded), ProjectTelephonyContact);
}

// ---- queries
// -------------------------------------------------------------------------------------
namespace {

Result<int64_t> ParseCursor(std::string_view after) {
  if (after.empty()) return INT64_MAX;
  int64_t seq = 0;
  if (after.size() > 18 || !Digits(after, 0, after.size(), seq)) {
    return Error::Invalid("after", "format", "after is not a cursor");
  }
  return seq;
}

// Summaries of `table` newest first, filtered by queue when given.
Result<Json> ListSummaries(store::Connection& conn, std::string_view table, std::string_view tenant,
                           const std::optional<std::string>& queue, std::string_view after,
                           size_t limit) {
  OPSBOX_ASSIGN_OR_RETURN(auto before_seq, ParseCursor(after));
  limit = std::clamp<size_t>(limit, 1, limits::kPageSizeMax);
  std::string sql =
      "SELECT summary, seq FROM " + std::string(table) + " WHERE tenant_id = ? AND seq < ?";
  std::vector<store::Value> params = {std::string(tenant), before_seq};
  if (queue) {
    sql += " AND queue = ?";
    params.emplace_back(*queue);
  }
  sql += " ORDER BY seq DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit + 1));
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, params));
  Json items = Json::array();
  for (size_t i = 0; i < rows.size() && i < limit; ++i) {
    items.push_back(Json::parse(rows[i].Text(0), nullptr, false));
  }
  Json next = rows.size() > limit ? Json(std::to_string(rows[limit - 1].Int(1))) : Json(nullptr);
  return Json{{"items", std::move(items)}, {"next_cursor", std::move(next)}};
}

Result<Json> GetBody(store::Connection& conn, std::string_view table, std::string_view id_column,
                     std::string_view tenant, std::string_view id, std::string_view what) {
  const std::string sql = "SELECT body, created_at_us FROM " + std::string(table) +
                          " WHERE tenant_id = ? AND " + std::string(id_column) + " = ?";
  store::Value params[] = {std::string(tenant), std::string(id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, params));
  if (rows.empty()) return Error::NotFound("no " + std::string(what) + " " + std::string(id));
  Json body = Json::parse(rows[0].Text(0), nullptr, false);
  body["created_at"] = FormatRfc3339(Instant{rows[0].Int(1)});
  return body;
}

}  // namespace

Result<Json> ListForecasts(store::Connection& conn, std::string_view tenant,
                           const std::optional<std::string>& queue, std::string_view after,
                           size_t limit) {
  return ListSummaries(conn, "wfm_forecasts", tenant, queue, after, limit);
}

Result<Json> GetForecast(store::Connection& conn, std::string_view tenant, std::string_view id) {
  return GetBody(conn, "wfm_forecasts", "forecast_id", tenant, id, "forecast");
}

Result<Json> ListSchedules(store::Connection& conn, std::string_view tenant,
                           const std::optional<std::string>& queue, std::string_view after,
                           size_t limit) {
  return ListSummaries(conn, "wfm_schedules", tenant, queue, after, limit);
}

Result<Json> GetSchedule(store::Connection& conn, std::string_view tenant, std::string_view id) {
  return GetBody(conn, "wfm_schedules", "schedule_id", tenant, id, "schedule");
}

Result<Json> GetStaffingTargets(store::Connection& conn, std::string_view tenant,
                                std::string_view queue) {
  store::Value params[] = {std::string(tenant), std::string(queue)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT body, updated_at_us FROM wfm_targets WHERE tenant_id = ? AND "
                            "queue = ?",
                            params));
  if (rows.empty()) {
    return Error::NotFound("no staffing targets are set for queue " + std::string(queue));
  }
  return Json{{"queue", std::string(queue)},
              {"targets", Json::parse(rows[0].Text(0), nullptr, false)},
              {"updated_at", FormatRfc3339(Instant{rows[0].Int(1)})}};
}

}  // namespace opsbox::wfm
