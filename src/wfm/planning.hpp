// Planning: how the WFM maths (erlang.hpp, forecast.hpp, history.hpp, schedule.hpp,
// simulate.hpp) meets the ledger and the HTTP API (issue #5, "Intraday" and the planning page).
//
// Commands (ledger; pure decisions, projections in the same transaction as the append):
//   save_forecast         {queue, zone, interval_min, first_start_local, horizon_days, method,
//                          season, params, holdout, candidates, history, volume[], aht_s[]?,
//                          prediction_intervals?}
//                          -> forecast_saved (payload + forecast_id), table wfm_forecasts.
//                          volume/aht_s hold one value per interval of whole local days, at most
//                          kSavedForecastIntervalsMax (8 weeks of 15-minute intervals).
//   save_schedule         {queue, start_date, skill, interval_min, days, coverage{required[],
//                          scheduled[]}, schedule (schedule.hpp ScheduleToJson)}
//                          -> schedule_saved (payload + schedule_id), table wfm_schedules.
//                          At most kSavedSchedulePayloadBytesMax bytes in canonical JSON.
//   set_staffing_targets  {queue, targets{service_level, target_answer_s, asa_s_max?,
//                          abandon_max?, occupancy_max?, shrinkage, patience_s?}}
//                          -> staffing_targets_set, table wfm_targets (one row per queue).
// Every decision validates its payload (errors name the field and the rule) and answers
// {<id>, queue, created_at}; the bodies live in the projections, read by the query functions.
//
// Contacts for intraday: until the routing module (#4) emits contact events, a projector on
// external_event_recorded copies telephony events into wfm_contacts:
//   source "telephony", type "contact.offered"   payload {queue}
//                       type "contact.answered"  payload {queue, wait_s, handle_s}
//                       type "contact.abandoned" payload {queue, wait_s}
// occurred_at is when the event happened; the call ARRIVED at occurred_at - wait_s, and every
// figure is attributed to the interval of arrival. Events of other sources or types, or with a
// payload that does not fit (no queue, negative or non-numeric times) are ignored, never
// refused: the external event itself stays recorded. See docs/wfm.md.
//
// Queues are named [a-z0-9][a-z0-9_.-]{0,63}. Times on the wire: local wall-clock text
// "YYYY-MM-DDTHH:MM:SS" in the queue's IANA zone for interval grids; RFC 3339 UTC for instants.
//
// Thread safety: every function is reentrant. Functions taking a store::Connection use it on the
// caller's thread. Compute* and Build* functions are pure except BuildSchedulePayload (CBC reads
// the monotonic clock for its time limit) and the zone loader the caller passes in.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/random.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"
#include "wfm/erlang.hpp"
#include "wfm/history.hpp"

namespace opsbox::wfm {

inline constexpr std::string_view kSaveForecast = "save_forecast";
inline constexpr std::string_view kForecastSaved = "forecast_saved";
inline constexpr std::string_view kSaveSchedule = "save_schedule";
inline constexpr std::string_view kScheduleSaved = "schedule_saved";
inline constexpr std::string_view kSetStaffingTargets = "set_staffing_targets";
inline constexpr std::string_view kStaffingTargetsSet = "staffing_targets_set";

// Limits (STYLE.md house rule 4).
inline constexpr size_t kQueueBytesMax = 64;
inline constexpr size_t kZoneNameBytesMax = 64;
inline constexpr int kSavedForecastDaysMax = 56;  // horizon of a saved forecast: 8 weeks
inline constexpr size_t kSavedForecastIntervalsMax = 56 * 96;  // 8 weeks of 15-minute intervals
inline constexpr size_t kSavedForecastPayloadBytesMax = 1 << 20;
inline constexpr size_t kSavedSchedulePayloadBytesMax = 4 << 20;
inline constexpr size_t kForecastHistoryRowsMax = 100'000;  // JSON rows or CSV lines per request
inline constexpr size_t kStaffingRequestIntervalsMax = 10'000;
// Expected simulated calls per request: sum of volumes times replications.
inline constexpr double kSimulationCallsPerRequestMax = 2'000'000;
inline constexpr double kScheduleRequestTimeLimitMaxS = 20;
inline constexpr size_t kIntradayContactsMax = 500'000;  // contact rows read for one day
// Re-forecast of the rest of the day: the forecast times actual/forecast volume of the completed
// intervals so far, bounded to [kReforecastRatioMin, kReforecastRatioMax]; the ratio stays 1 until
// the completed intervals were forecast at least kReforecastVolumeMin calls.
inline constexpr double kReforecastRatioMin = 0.5;
inline constexpr double kReforecastRatioMax = 2.0;
inline constexpr double kReforecastVolumeMin = 20.0;

// Loads an IANA zone by name ("UTC", "America/New_York"); ZoneRules::Load in production.
using ZoneLoader = std::function<Result<ZoneRules>(std::string_view name)>;

// Registers the three commands, their projectors and the contacts projector on
// external_event_recorded. Call once per registry, before the writer starts.
void RegisterWfm(ledger::Registry& registry);

// ---- targets -----------------------------------------------------------------------------------
// Which forecast volume planning staffs for (issue #15): the point forecast, or the upper bound
// of its 80% or 95% prediction interval (a saved forecast's prediction_intervals). Wire names
// "point", "upper_80", "upper_95". A forecast saved without intervals is staffed at its point.
enum class ForecastBound { kPoint, kUpper80, kUpper95 };
const char* ForecastBoundName(ForecastBound b);

// A queue's targets: erlang.hpp's StaffingTargets plus the mean patience (set: Erlang A) and the
// forecast bound that intraday staffing plans for.
struct QueueTargets {
  StaffingTargets staffing;
  std::optional<double> patience_s;
  ForecastBound plan_for = ForecastBound::kPoint;
};
// {service_level?, target_answer_s?, asa_s_max?, abandon_max?, occupancy_max?, shrinkage?,
//  patience_s?, plan_for?}; errors are prefixed with `prefix` ("targets.service_level").
Result<QueueTargets> ParseQueueTargets(const Json& json, std::string_view prefix);
Json QueueTargetsToJson(const QueueTargets& targets);
// Service level 80% within 20 s, no shrinkage, Erlang C: used when a queue has none saved.
QueueTargets DefaultQueueTargets();

// ---- pure decisions (exposed for tests)
// ----------------------------------------------------------
Status CheckQueueName(std::string_view queue, std::string_view field);
Result<ledger::Decision> DecideSaveForecast(const Json& payload, Instant now, Random& random);
Result<ledger::Decision> DecideSaveSchedule(const Json& payload, Instant now, Random& random);
Result<ledger::Decision> DecideSetStaffingTargets(const Json& payload, Instant now);

// ---- computations behind the API (pure unless said) ---------------------------------------------
// POST staffing: {interval_s, intervals: [{volume, aht_s}], targets, agents?: [int]}. Without
// agents: the fewest agents per interval meeting the targets (Erlang A when targets.patience_s is
// set, else Erlang C); with agents: the figures for those agents. Answers {model, intervals:
// [{agents, traffic_erlangs, p_wait, service_level, asa_s, mean_wait_answered_s,
// abandon_probability, occupancy, scheduled_agents, binding_constraint}]}, the fields and values
// of `opsbox wfm erlang-c|erlang-a --json`. At most kStaffingRequestIntervalsMax intervals.
Result<Json> ComputeStaffing(const Json& body);

// The work cap of one simulation request: sum(volumes) * replications at most
// kSimulationCallsPerRequestMax (field "volumes", rule "calls_max").
Status CheckSimulationWork(std::span<const double> volumes, int32_t replications);
// POST simulations: {interval_s, volumes[], agents[], aht_s, handle?: "exponential"|"lognormal",
// aht_sd_s?, patience_s?, target_answer_s?, replications?, seed?, warmup_intervals?}. Answers
// the simulated figures per interval and in total with 95% half-widths, beside the Erlang
// prediction for the same agents (null where Erlang C has no steady state).
Result<Json> ComputeSimulation(const Json& body);

// POST forecasts: {queue, interval_min?, zone?, history_csv | history: [{start, count, aht_s?,
// abandons?}], method?, season?, horizon_days?, holdout_days?, cv_origins?, special_days?:
// [{date, like?, multiplier?}]}. Imports the history (history.hpp), forecasts (forecast.hpp) and
// answers the save_forecast payload, with prediction_intervals {source: "cross-validation",
// scale_80, scale_95, lower_80[], upper_80[], lower_95[], upper_95[]} when the forecast has
// them. horizon_days * intervals per day must fit kSavedForecastIntervalsMax.
Result<Json> BuildForecastPayload(const Json& body, const ZoneLoader& load_zone);

// POST schedules: {queue, start_date, skill?, problem (schedule.hpp JSON), time_limit_s?,
// relative_gap?}. Solves within min(time_limit_s, kScheduleRequestTimeLimitMaxS) and answers the
// save_schedule payload (a schedule with no solution is an error, rule "no_schedule").
Result<Json> BuildSchedulePayload(const Json& body);

// ---- intraday
// ------------------------------------------------------------------------------------
enum class ContactKind { kOffered, kAnswered, kAbandoned };

struct ContactObservation {
  int64_t arrival_local_s = 0;  // when the call arrived, on the local grid
  ContactKind kind = ContactKind::kOffered;
  double wait_s = 0;
  double handle_s = 0;  // answered only
};

struct IntradayInput {
  int64_t day_start_local_s = 0;  // local midnight of the day
  int interval_min = 15;          // 15, 30 or 60
  int64_t now_local_s = 0;        // "now" on the same grid: intervals ending by now are complete
  std::vector<ContactObservation> contacts;  // any order; outside the day ignored
  // Per interval of the day (1440 / interval_min each) or empty when there is none.
  std::vector<std::optional<double>> forecast_volume;
  // Per interval of the day or empty: the volume to staff for instead of the point forecast (the
  // upper bound targets.plan_for names); the re-forecast ratio still comes from forecast_volume.
  std::vector<std::optional<double>> plan_volume;
  std::vector<std::optional<double>> forecast_aht_s;
  std::vector<std::optional<int>> scheduled_agents;
  QueueTargets targets;
};

enum class IntervalPhase { kComplete, kCurrent, kFuture };

struct IntradayInterval {
  int64_t start_local_s = 0;
  IntervalPhase phase = IntervalPhase::kFuture;
  int64_t offered = 0, answered = 0, abandoned = 0, answered_within_target = 0;
  std::optional<double> aht_s;          // mean handle time of the answered calls
  std::optional<double> service_level;  // answered within target / offered
  std::optional<double> forecast_volume;
  std::optional<double> reforecast_volume;       // complete: actual; current and future: scaled
  std::optional<double> staffing_volume;         // reforecast, or the scaled plan_volume
  std::optional<double> staffing_aht_s;          // forecast AHT, else today's actual AHT so far
  std::optional<int> required_agents;            // Erlang for the re-forecast, on the phones
  std::optional<int> required_scheduled_agents;  // after shrinkage
  std::optional<int> scheduled_agents;
  std::optional<int> gap;      // scheduled - required_scheduled (negative: short)
  std::string staffing_error;  // why required_agents is absent, if it is
};

struct IntradayReport {
  std::vector<IntradayInterval> intervals;
  int complete_intervals = 0;
  double actual_volume_complete = 0;    // offered in complete intervals
  double forecast_volume_complete = 0;  // forecast for the same intervals
  double reforecast_ratio = 1;          // bounded; 1 until kReforecastVolumeMin
  int64_t offered = 0, answered = 0, abandoned = 0, answered_within_target = 0;
  std::optional<double> aht_s;
  std::optional<double> service_level;
};

// Pure: aggregates contacts by interval of arrival, re-forecasts and staffs the day.
Result<IntradayReport> ComputeIntraday(const IntradayInput& input);
Json IntradayReportToJson(const IntradayReport& report, const IntradayInput& input);

// GET intraday: loads the latest forecast, schedule and targets of `queue`, the day's contacts,
// and answers IntradayReportToJson plus {queue, date, zone, forecast_id, schedule_id,
// targets_source}. `zone` defaults to the latest forecast's zone, else UTC; `date` is YYYY-MM-DD.
Result<Json> Intraday(store::Connection& conn, std::string_view tenant, std::string_view queue,
                      std::string_view date, const std::optional<std::string>& zone, Instant now,
                      const ZoneLoader& load_zone);

// ---- queries
// --------------------------------------------------------------------------------------- Newest
// first: {"items": [summary...], "next_cursor"}; `after` is a previous next_cursor.
Result<Json> ListForecasts(store::Connection& conn, std::string_view tenant,
                           const std::optional<std::string>& queue, std::string_view after,
                           size_t limit);
Result<Json> GetForecast(store::Connection& conn, std::string_view tenant, std::string_view id);
Result<Json> ListSchedules(store::Connection& conn, std::string_view tenant,
                           const std::optional<std::string>& queue, std::string_view after,
                           size_t limit);
Result<Json> GetSchedule(store::Connection& conn, std::string_view tenant, std::string_view id);
// {queue, targets, updated_at}; kNotFound when the queue has none.
Result<Json> GetStaffingTargets(store::Connection& conn, std::string_view tenant,
                                std::string_view queue);

// Days since 1970-01-01 of "YYYY-MM-DD" (field names the input; rule "date").
Result<int64_t> ParseLocalDate(std::string_view text, std::string_view field);
// Local seconds of "YYYY-MM-DDTHH:MM[:SS]" (or with a space); rule "local_time".
Result<int64_t> ParseLocalTime(std::string_view text, std::string_view field);

}  // namespace opsbox::wfm
