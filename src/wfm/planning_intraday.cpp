// Intraday: today's actuals per interval against the latest saved forecast, a re-forecast of the
// rest of the day, and the staffing gap against the latest saved schedule.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "wfm/internal/planning_json.hpp"
#include "wfm/planning.hpp"

namespace opsbox::wfm {
namespace {

using detail::OptionalJson;

const char* PhaseName(IntervalPhase p) {
  switch (p) {
    case IntervalPhase::kComplete:
      return "complete";
    case IntervalPhase::kCurrent:
      return "current";
    case IntervalPhase::kFuture:
      return "future";
  }
  return "future";
}

Status CheckIntradayInput(const IntradayInput& in, size_t n) {
  if (in.interval_min != 15 && in.interval_min != 30 && in.interval_min != 60) {
    return Error::Invalid("interval_min", "one_of", "must be 15, 30 or 60");
  }
  if (in.day_start_local_s % 86400 != 0) {
    return Error::Invalid("day_start_local_s", "midnight", "the day starts at local midnight");
  }
  for (auto* v : {&in.forecast_volume, &in.plan_volume, &in.forecast_aht_s}) {
    if (!v->empty() && v->size() != n) {
      return Error::Invalid("forecast", "length", "one value per interval of the day");
    }
  }
  if (!in.scheduled_agents.empty() && in.scheduled_agents.size() != n) {
    return Error::Invalid("scheduled_agents", "length", "one value per interval of the day");
  }
  return Ok();
}

void Aggregate(const IntradayInput& in, std::vector<IntradayInterval>& out,
               std::vector<double>& handle_total_s) {
  const int64_t interval_s = in.interval_min * 60;
  for (const auto& c : in.contacts) {
    const int64_t offset = c.arrival_local_s - in.day_start_local_s;
    if (offset < 0) continue;
    const size_t i = static_cast<size_t>(offset / interval_s);
    if (i >= out.size()) continue;
    auto& row = out[i];
    switch (c.kind) {
      case ContactKind::kOffered:
        ++row.offered;
        break;
      case ContactKind::kAnswered:
        ++row.answered;
        handle_total_s[i] += c.handle_s;
        if (c.wait_s <= in.targets.staffing.target_answer_s) ++row.answered_within_target;
        break;
      case ContactKind::kAbandoned:
        ++row.abandoned;
        break;
    }
  }
}

// Actual / forecast volume over the complete intervals that have a forecast, bounded. The
// volume to staff for is the re-forecast, or the plan volume (an upper bound) scaled alike.
void Reforecast(const IntradayInput& in, IntradayReport& r) {
  for (const auto& row : r.intervals) {
    if (row.phase != IntervalPhase::kComplete || !row.forecast_volume) continue;
    ++r.complete_intervals;
    r.actual_volume_complete += static_cast<double>(row.offered);
    r.forecast_volume_complete += *row.forecast_volume;
  }
  if (r.forecast_volume_complete >= kReforecastVolumeMin) {
    r.reforecast_ratio = std::clamp(r.actual_volume_complete / r.forecast_volume_complete,
                                    kReforecastRatioMin, kReforecastRatioMax);
  }
  for (auto& row : r.intervals) {
    if (row.phase == IntervalPhase::kComplete) {
      row.reforecast_volume = static_cast<double>(row.offered);
    } else if (row.forecast_volume) {
      row.reforecast_volume = *row.forecast_volume * r.reforecast_ratio;
    }
    row.staffing_volume = row.reforecast_volume;
  }
  if (in.plan_volume.empty()) return;
  for (size_t i = 0; i < r.intervals.size(); ++i) {
    auto& row = r.intervals[i];
    if (row.phase != IntervalPhase::kComplete && in.plan_volume[i]) {
      row.staffing_volume = *in.plan_volume[i] * r.reforecast_ratio;
    }
  }
}

void Staff(const IntradayInput& in, IntradayReport& r) {
  const double interval_s = in.interval_min * 60.0;
  for (size_t i = 0; i < r.intervals.size(); ++i) {
    auto& row = r.intervals[i];
    row.staffing_aht_s = in.forecast_aht_s.empty() ? std::nullopt : in.forecast_aht_s[i];
    if (!row.staffing_aht_s) row.staffing_aht_s = r.aht_s;
    if (!in.scheduled_agents.empty()) row.scheduled_agents = in.scheduled_agents[i];
    if (!row.staffing_volume) {
      row.staffing_error = "no forecast for this interval";
      continue;
    }
    if (!row.staffing_aht_s) {
      row.staffing_error = "no handle time: the forecast has none and no call was answered today";
      continue;
    }
    const Traffic t{*row.staffing_volume, interval_s, *row.staffing_aht_s};
    auto s = in.targets.patience_s ? StaffErlangA(t, *in.targets.patience_s, in.targets.staffing)
                                   : StaffErlangC(t, in.targets.staffing);
    if (!s.ok()) {
      row.staffing_error = s.error().field + " (" + s.error().rule + "): " + s.error().message;
      continue;
    }
    row.required_agents = s->figures.agents;
    row.required_scheduled_agents = s->scheduled_agents;
    if (row.scheduled_agents) row.gap = *row.scheduled_agents - s->scheduled_agents;
  }
}

}  // namespace

Result<IntradayReport> ComputeIntraday(const IntradayInput& in) {
  const size_t n = in.interval_min > 0 ? static_cast<size_t>(1440 / in.interval_min) : 0;
  OPSBOX_TRY(CheckIntradayInput(in, n));
  const int64_t interval_s = in.interval_min * 60;
  IntradayReport r;
  r.intervals.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto& row = r.intervals[i];
    row.start_local_s = in.day_start_local_s + static_cast<int64_t>(i) * interval_s;
    if (row.start_local_s + interval_s <= in.now_local_s) {
      row.phase = IntervalPhase::kComplete;
    } else if (row.start_local_s <= in.now_local_s) {
      row.phase = IntervalPhase::kCurrent;
    }
    if (!in.forecast_volume.empty()) row.forecast_volume = in.forecast_volume[i];
  }
  std::vector<double> handle_total_s(n, 0);
  Aggregate(in, r.intervals, handle_total_s);
  double handle_all_s = 0;
  for (size_t i = 0; i < n; ++i) {
    auto& row = r.intervals[i];
    if (row.answered > 0) row.aht_s = handle_total_s[i] / static_cast<double>(row.answered);
    if (row.offered > 0) {
      row.service_level =
          static_cast<double>(row.answered_within_target) / static_cast<double>(row.offered);
    }
    r.offered += row.offered;
    r.answered += row.answered;
    r.abandoned += row.abandoned;
    r.answered_within_target += row.answered_within_target;
    handle_all_s += handle_total_s[i];
  }
  if (r.answered > 0) r.aht_s = handle_all_s / static_cast<double>(r.answered);
  if (r.offered > 0) {
    r.service_level =
        static_cast<double>(r.answered_within_target) / static_cast<double>(r.offered);
  }
  Reforecast(in, r);
  Staff(in, r);
  return r;
}

Json IntradayReportToJson(const IntradayReport& r, const IntradayInput& in) {
  Json rows = Json::array();
  for (const auto& row : r.intervals) {
    Json j = {{"start_local", FormatLocal(row.start_local_s)},
              {"phase", PhaseName(row.phase)},
              {"offered", row.offered},
              {"answered", row.answered},
              {"abandoned", row.abandoned},
              {"answered_within_target", row.answered_within_target},
              {"aht_s", OptionalJson(row.aht_s)},
              {"service_level", OptionalJson(row.service_level)},
              {"forecast_volume", OptionalJson(row.forecast_volume)},
              {"reforecast_volume", OptionalJson(row.reforecast_volume)},
              {"staffing_volume", OptionalJson(row.staffing_volume)},
              {"staffing_aht_s", OptionalJson(row.staffing_aht_s)},
              {"required_agents", OptionalJson(row.required_agents)},
              {"required_scheduled_agents", OptionalJson(row.required_scheduled_agents)},
              {"scheduled_agents", OptionalJson(row.scheduled_agents)},
              {"gap", OptionalJson(row.gap)}};
    if (!row.staffing_error.empty()) j["staffing_error"] = row.staffing_error;
    rows.push_back(std::move(j));
  }
  return Json{{"interval_min", in.interval_min},
              {"now_local", FormatLocal(in.now_local_s)},
              {"totals",
               {{"offered", r.offered},
                {"answered", r.answered},
                {"abandoned", r.abandoned},
                {"answered_within_target", r.answered_within_target},
                {"aht_s", OptionalJson(r.aht_s)},
                {"service_level", OptionalJson(r.service_level)}}},
              {"reforecast",
               {{"ratio", r.reforecast_ratio},
                {"complete_intervals", r.complete_intervals},
                {"actual_volume_complete", r.actual_volume_complete},
                {"forecast_volume_complete", r.forecast_volume_complete},
                {"rule",
                 "remaining forecast x (actual / forecast of the complete "
                 "intervals), bounded to [0.5, 2]; 1 until the complete intervals "
                 "were forecast at least 20 calls"}}},
              {"targets", QueueTargetsToJson(in.targets)},
              {"intervals", std::move(rows)}};
}

// ---- loading
// -------------------------------------------------------------------------------------
namespace {

struct Loaded {
  Json forecast;  // null when none covers the day
  Json schedule;  // null when none covers the day
  std::string zone_of_latest_forecast;
};

// The newest of the queue's recent forecasts whose grid covers `day` (local days).
Status LoadForecast(store::Connection& conn, std::string_view tenant, std::string_view queue,
                    int64_t day, Loaded& out) {
  store::Value params[] = {std::string(tenant), std::string(queue)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT body FROM wfm_forecasts WHERE tenant_id "
                                                "= ? AND queue = ? ORDER BY seq DESC LIMIT 10",
                                                params));
  for (const auto& row : rows) {
    Json body = Json::parse(row.Text(0), nullptr, false);
    if (!body.is_object()) continue;
    if (out.zone_of_latest_forecast.empty()) out.zone_of_latest_forecast = body.value("zone", "");
    auto first = ParseLocalTime(body.value("first_start_local", ""), "first_start_local");
    const int interval_min = body.value("interval_min", 0);
    if (!first.ok() || interval_min <= 0 || !body["volume"].is_array()) continue;
    const int64_t days = static_cast<int64_t>(body["volume"].size()) * interval_min / 1440;
    const int64_t first_day = *first / 86400;
    if (day >= first_day && day < first_day + days) {
      out.forecast = std::move(body);
      return Ok();
    }
  }
  return Ok();
}

Status LoadSchedule(store::Connection& conn, std::string_view tenant, std::string_view queue,
                    std::string_view date, int64_t day, Loaded& out) {
  store::Value params[] = {std::string(tenant), std::string(queue), std::string(date)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT body FROM wfm_schedules WHERE tenant_id = ? AND queue = ? AND "
                            "start_date <= ? ORDER BY seq DESC LIMIT 10",
                            params));
  for (const auto& row : rows) {
    Json body = Json::parse(row.Text(0), nullptr, false);
    if (!body.is_object()) continue;
    auto start = ParseLocalDate(body.value("start_date", ""), "start_date");
    if (start.ok() && day < *start + body.value("days", 0)) {
      out.schedule = std::move(body);
      return Ok();
    }
  }
  return Ok();
}

// The forecast volumes to staff for: the point forecast, or the upper bound the targets ask for
// when the saved forecast has prediction intervals. Returns the bound used.
ForecastBound FillForecast(const Json& f, int64_t day, IntradayInput& in) {
  const size_t n = static_cast<size_t>(1440 / in.interval_min);
  auto first = ParseLocalTime(f.value("first_start_local", ""), "first_start_local");
  const size_t offset = static_cast<size_t>(day - *first / 86400) * n;
  const Json& volume = f["volume"];
  ForecastBound used = ForecastBound::kPoint;
  const Json pi = f.value("prediction_intervals", Json(nullptr));
  if (in.targets.plan_for != ForecastBound::kPoint && pi.is_object()) {
    const char* key = in.targets.plan_for == ForecastBound::kUpper80 ? "upper_80" : "upper_95";
    auto it = pi.find(key);
    if (it != pi.end() && it->is_array() && it->size() == volume.size()) {
      for (size_t i = 0; i < n; ++i) in.plan_volume.push_back((*it)[offset + i].get<double>());
      used = in.targets.plan_for;
    }
  }
  const Json aht = f.value("aht_s", Json(nullptr));
  for (size_t i = 0; i < n; ++i) {
    in.forecast_volume.push_back(volume[offset + i].get<double>());
    const bool has = aht.is_array() && aht.size() > offset + i && aht[offset + i].is_number();
    in.forecast_aht_s.push_back(has ? std::optional<double>(aht[offset + i].get<double>())
                                    : std::nullopt);
  }
  return used;
}

// Scheduled agents per intraday interval: the fewest working in the schedule's intervals that
// overlap it (the schedule may use another interval length).
void FillSchedule(const Json& s, int64_t day, IntradayInput& in) {
  const int si = s.value("interval_min", 0);
  auto start = ParseLocalDate(s.value("start_date", ""), "start_date");
  const Json scheduled = s.value("coverage", Json::object()).value("scheduled", Json());
  if (si <= 0 || !start.ok() || !scheduled.is_array()) return;
  const int64_t per_day = 1440 / si;
  const int64_t base = (day - *start) * per_day;
  for (int m = 0; m < 1440; m += in.interval_min) {
    std::optional<int> fewest;
    for (int k = m / si; k * si < m + in.interval_min; ++k) {
      const size_t idx = static_cast<size_t>(base + k);
      if (idx >= scheduled.size() || !scheduled[idx].is_number()) continue;
      const int v = static_cast<int>(std::lround(scheduled[idx].get<double>()));
      fewest = fewest ? std::min(*fewest, v) : v;
    }
    in.scheduled_agents.push_back(fewest.value_or(0));
  }
}

int64_t LocalToUtcS(const ZoneRules& zone, int64_t local_s) {
  auto t = LocalToInstant(zone, local_s);
  if (t) return t->us / 1'000'000;
  return local_s - zone.OffsetAtUtcS(local_s);  // inside a gap: the offset before it
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}

Status LoadContacts(store::Connection& conn, std::string_view tenant, std::string_view queue,
                    const ZoneRules& zone, int64_t day, IntradayInput& in) {
  const int64_t from_s = LocalToUtcS(zone, day * 86400);
  const int64_t to_s = LocalToUtcS(zone, (day + 1) * 86400);
  store::Value params[] = {std::string(tenant), std::string(queue), from_s * 1'000'000,
                           to_s * 1'000'000, static_cast<int64_t>(kIntradayContactsMax + 1)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT kind, arrival_at_us, wait_ms, handle_ms FROM wfm_contacts "
                            "WHERE tenant_id = ? AND queue = ? AND arrival_at_us >= ? AND "
                            "arrival_at_us < ? LIMIT ?",
                            params));
  if (rows.size() > kIntradayContactsMax) {
    return Error::Invalid("date", "contacts_max",
                          "the day has more than " + std::to_string(kIntradayContactsMax) +
                              " contact events in this queue");
  }
  for (const auto& row : rows) {
    ContactObservation c;
    const std::string& kind = row.Text(0);
    c.kind = kind == "answered"    ? ContactKind::kAnswered
             : kind == "abandoned" ? ContactKind::kAbandoned
                                   : ContactKind::kOffered;
    const int64_t utc_s = FloorDiv(row.Int(1), 1'000'000);
    c.arrival_local_s = utc_s + zone.OffsetAtUtcS(utc_s);
    c.wait_s = static_cast<double>(row.Int(2)) / 1000;
    c.handle_s = static_cast<double>(row.Int(3)) / 1000;
    in.contacts.push_back(c);
  }
  return Ok();
}

Result<std::string> LoadTargets(store::Connection& conn, std::string_view tenant,
                                std::string_view queue, QueueTargets& out) {
  auto saved = GetStaffingTargets(conn, tenant, queue);
  if (!saved.ok()) {
    if (saved.error().code != ErrorCode::kNotFound) return saved.error();
    out = DefaultQueueTargets();
    return std::string("default");
  }
  auto parsed = ParseQueueTargets((*saved)["targets"], "targets");
  if (!parsed.ok())
    return Error::Internal("stored targets do not parse: " + parsed.error().message);
  out = *parsed;
  return std::string("saved");
}

}  // namespace

Result<Json> Intraday(store::Connection& conn, std::string_view tenant, std::string_view queue,
                      std::string_view date, const std::optional<std::string>& zone_param,
                      Instant now, const ZoneLoader& load_zone) {
  OPSBOX_TRY(CheckQueueName(queue, "queue"));
  OPSBOX_ASSIGN_OR_RETURN(int64_t day, ParseLocalDate(date, "date"));
  Loaded loaded;
  OPSBOX_TRY(LoadForecast(conn, tenant, queue, day, loaded));
  OPSBOX_TRY(LoadSchedule(conn, tenant, queue, date, day, loaded));
  std::string zone_name = zone_param.value_or(
      loaded.zone_of_latest_forecast.empty() ? "UTC" : loaded.zone_of_latest_forecast);
  if (zone_name.size() > kZoneNameBytesMax) {
    return Error::Invalid("zone", "length", "an IANA zone name is at most 64 bytes");
  }
  auto zone = load_zone(zone_name);
  if (!zone.ok()) {
    Error e = zone.error();
    e.field = "zone";
    return e;
  }
  IntradayInput in;
  in.day_start_local_s = day * 86400;
  in.interval_min = loaded.forecast.is_object() ? loaded.forecast.value("interval_min", 15) : 15;
  const int64_t now_s = FloorDiv(now.us, 1'000'000);
  in.now_local_s = now_s + zone->OffsetAtUtcS(now_s);
  // Targets first: they say which forecast bound to staff for.
  OPSBOX_ASSIGN_OR_RETURN(auto targets_source, LoadTargets(conn, tenant, queue, in.targets));
  ForecastBound bound = ForecastBound::kPoint;
  if (loaded.forecast.is_object()) bound = FillForecast(loaded.forecast, day, in);
  if (loaded.schedule.is_object()) FillSchedule(loaded.schedule, day, in);
  OPSBOX_TRY(LoadContacts(conn, tenant, queue, *zone, day, in));
  OPSBOX_ASSIGN_OR_RETURN(auto report, ComputeIntraday(in));
  Json out = IntradayReportToJson(report, in);
  out["queue"] = std::string(queue);
  out["date"] = std::string(date);
  out["zone"] = zone_name;
  out["forecast_id"] =
      loaded.forecast.is_object() ? loaded.forecast.value("forecast_id", Json()) : Json(nullptr);
  out["schedule_id"] =
      loaded.schedule.is_object() ? loaded.schedule.value("schedule_id", Json()) : Json(nullptr);
  out["targets_source"] = targets_source;
  out["forecast_bound"] = ForecastBoundName(bound);
  return out;
}

}  // namespace opsbox::wfm
