// Discrete-event simulation of one contact-centre queue (issue #5, "Simulation").
//
// Model (one queue, FCFS, no retrials):
// - Horizon: intervals of interval_s seconds (900, 1800 or 3600). Interval i covers
//   [i * interval_s, (i + 1) * interval_s) seconds from the start of the horizon.
// - Arrivals: a Poisson process whose rate is constant within an interval and equal to
//   volumes_per_interval[i] / interval_s (non-homogeneous, piecewise constant). Arrivals stop
//   at the end of the horizon.
// - Handle times: exponential (mean), lognormal (mean, sd) or empirical (drawn uniformly from a
//   list of observed handle times). Each call's handle time and patience are drawn when it
//   arrives, from streams separate from the arrival stream, so two runs with the same seed and
//   different staffing see the same calls (common random numbers).
// - Patience: none (callers wait forever), exponential (mean) or empirical (list). A call still
//   waiting when its patience runs out abandons; an abandoned call is never answered.
// - Agents: agents_per_interval[i] agents are staffed during interval i. When the count drops
//   at an interval boundary, agents busy on a call finish that call and then leave; nobody
//   starts a new call while the number of busy agents is at or above the staffed count. When
//   the count rises, waiting calls are answered at once.
// - After the horizon: no new arrivals; the staffing of the last interval stays on until every
//   call that arrived within the horizon is answered or abandoned ("drain"). If the last
//   interval has no agents, calls still waiting with no patience at the end are reported as
//   unfinished (neither answered nor abandoned; their wait counts up to the end of the
//   horizon, or to the last event if later).
// - Attribution: offered, answered, abandoned, unfinished and waits are counted in the interval
//   in which the call ARRIVED. Occupancy of an interval is busy agent-seconds / present
//   agent-seconds within it, where present = max(staffed, busy) at each instant (an agent who
//   stays past the schedule to finish a call counts as present).
//
// Definitions (the same as the Erlang C/A module): service level = calls answered within
// target_answer_s / ALL arrivals (abandoned and unfinished calls count as not answered within
// target); ASA = mean wait over all arrivals (an abandoned call's wait is the time until it
// abandoned); mean_wait_answered_s = mean wait of answered calls; abandon_probability =
// abandoned / offered (the observed abandonment rate). Names match erlang.hpp's QueueFigures.
//
// Confidence intervals: R independent replications with seeds derived from the run seed
// (SplitMix64 of seed and replication index). Each replication yields one value of a metric
// (for a ratio: the ratio within that replication); the report gives the mean over replications
// and the half-width of a two-sided 95% Student-t interval, t(0.975, R' - 1) * sd / sqrt(R'),
// where R' counts the replications in which the metric is defined (a ratio over zero offered
// calls is undefined). The half-width is NaN when R' < 2.
//
// Warm-up: the first warmup_intervals intervals are simulated and reported per interval but
// excluded from the totals (to estimate steady state from a queue that starts empty).
//
// Randomness: std::mt19937_64 streams seeded from the run seed; results are a pure function of
// (config, seed) on a given standard library. Thread-safety: the functions are pure and
// reentrant; SimulationConfig is read only.
#pragma once

#include <cstdint>
#include <vector>

#include "core/result.hpp"

namespace opsbox::wfm {

// Limits (STYLE.md house rule 4).
inline constexpr int32_t kSimIntervalsMax = 100'000;
inline constexpr int32_t kSimAgentsMax = 100'000;
inline constexpr int32_t kSimReplicationsMax = 1'000;
inline constexpr int32_t kSimWarmupIntervalsMax = kSimIntervalsMax - 1;
inline constexpr size_t kSimEmpiricalSamplesMax = 1'000'000;
// Expected calls over all replications (sum of volumes * replications).
inline constexpr double kSimExpectedCallsMax = 200'000'000.0;
// Handle times, patience and target answer times above a week are rejected as nonsense.
inline constexpr double kSimDurationMaxS = 7.0 * 24 * 3600;

enum class HandleDistribution { kExponential, kLognormal, kEmpirical };
enum class PatienceDistribution { kNone, kExponential, kEmpirical };

struct HandleTimeModel {
  HandleDistribution kind = HandleDistribution::kExponential;
  double mean_s = 0;              // exponential and lognormal: > 0
  double sd_s = 0;                // lognormal: > 0
  std::vector<double> samples_s;  // empirical: non-empty, each > 0
};

struct PatienceModel {
  PatienceDistribution kind = PatienceDistribution::kNone;
  double mean_s = 0;              // exponential: > 0
  std::vector<double> samples_s;  // empirical: non-empty, each >= 0
};

struct SimulationConfig {
  int32_t interval_s = 900;                  // 900, 1800 or 3600
  std::vector<double> volumes_per_interval;  // expected arrivals, >= 0, one per interval
  std::vector<int32_t> agents_per_interval;  // staffed agents, >= 0, same length
  HandleTimeModel handle;
  PatienceModel patience;
  double target_answer_s = 20;   // >= 0
  int32_t warmup_intervals = 0;  // < number of intervals
  int32_t replications = 10;     // 1..kSimReplicationsMax
};

// Raw counts of one replication for one interval (or the totals).
struct IntervalCounts {
  int64_t offered = 0;
  int64_t answered = 0;
  int64_t answered_within_target = 0;
  int64_t abandoned = 0;
  int64_t unfinished = 0;
  double wait_all_s = 0;       // sum of waits over all arrivals
  double wait_answered_s = 0;  // sum of waits of answered calls
  double busy_agent_s = 0;     // agent-seconds on calls within the interval
  double present_agent_s = 0;  // agent-seconds present (max(staffed, busy)) within the interval
};

struct ReplicationResult {
  uint64_t seed = 0;
  std::vector<IntervalCounts> intervals;
  IntervalCounts total;  // intervals from warmup_intervals on
  int64_t events = 0;    // events popped from the event queue
};

// Mean over replications and 95% t half-width (NaN when fewer than 2 defined values).
struct Estimate {
  double mean = 0;
  double half_width_95 = 0;
  int32_t replications = 0;  // replications in which the metric was defined
};

struct IntervalReport {
  int32_t index = -1;  // -1 for the totals
  int32_t agents = 0;  // staffed agents (totals: 0)
  double expected_volume = 0;
  Estimate offered;
  Estimate answered;
  Estimate abandoned;
  Estimate unfinished;
  Estimate service_level;         // answered within target / offered
  Estimate asa_s;                 // mean wait over all arrivals
  Estimate mean_wait_answered_s;  // mean wait of answered calls
  Estimate abandon_probability;   // abandoned / offered
  Estimate occupancy;             // busy / present agent-seconds
};

struct SimulationReport {
  uint64_t seed = 0;  // the run seed; replication r uses ReplicationSeed(seed, r)
  int32_t replications = 0;
  std::vector<IntervalReport> intervals;
  IntervalReport total;
  int64_t calls_simulated = 0;  // offered calls over all replications and intervals
};

// Checks every field against its rule; the error names the field (e.g. "volumes_per_interval[3]")
// and the rule ("non_negative", "one_of", "same_length", "max", ...).
Status ValidateSimulationConfig(const SimulationConfig& config);

// The seed of replication `index` derived from the run seed (SplitMix64 mixing).
uint64_t ReplicationSeed(uint64_t run_seed, int32_t index);

// One replication with the given seed (config.replications is ignored). Validates first.
Result<ReplicationResult> SimulateReplication(const SimulationConfig& config, uint64_t seed);

// config.replications replications with seeds ReplicationSeed(seed, 0..R-1), summarised.
Result<SimulationReport> Simulate(const SimulationConfig& config, uint64_t seed);

// Two-sided 95% Student-t quantile t(0.975, df) for df >= 1.
double StudentT975(int32_t df);

}  // namespace opsbox::wfm
