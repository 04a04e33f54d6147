// Shift scheduling and rostering by mixed integer programming (issue #5, "Scheduling").
//
// Horizon: `days` days of 1440 minutes, each cut into intervals of `interval_min` minutes (15, 30
// or 60). Interval k of day d covers minutes [k * interval_min, (k + 1) * interval_min) of that
// day; its global index is d * (1440 / interval_min) + k. Every minute figure below (starts,
// steps, lengths, break offsets, availability) must be a multiple of interval_min.
//
// Requirement: per skill group, agents needed in each global interval (from staffing; may be
// fractional, e.g. FTE after shrinkage). A shift template serves exactly one skill group.
//
// Shift templates: a start window [earliest_start_min, latest_start_min] (minutes after the
// midnight that starts the shift's day, stepping by start_step_min), a length, the days it may
// be used, a cost, and breaks. A shift may run past midnight into the next day; intervals past the
// end of the horizon are not covered (the horizon does not wrap). Cost of one shift =
// cost_per_shift + cost_per_paid_hour * paid hours, where paid hours = length minus unpaid
// breaks. Costs are in cost units (the planner's choice, e.g. currency minor units); the objective
// is in the same units.
//
// Breaks (and lunch: an unpaid break) are modelled EXPLICITLY as placement variables, not as
// enumerated shift variants: for each shift start and each break b, integer variables
// y[b][o] count the shifts whose break b starts o minutes after the shift start, with
// sum_o y[b][o] = number of shifts at that start (Aykin's formulation). A template's break
// windows must be ordered and disjoint (break b may end no later than break b+1 can start:
// latest_offset_min[b] + length_min[b] <= earliest_offset_min[b+1]), which makes any
// combination of placements a valid individual shift, so the aggregated counts decompose
// exactly into individual shifts. A worker on a break does not cover the interval.
//
// Coverage, per skill group g and interval i:
//   working(g, i) + under(g, i) - over(g, i) = required(g, i),  under, over >= 0 (continuous).
// Objective: minimise shift cost + under_penalty * sum(under) + over_penalty * sum(over).
// With coverage.hard = true, under is fixed at 0 and a requirement that no permitted shift can
// meet makes the problem infeasible (reported as SolveStatus::kInfeasible).
//
// Two modes, chosen by whether `agents` is empty:
// (a) shift counts (agents empty): integer count of shifts per (day, template, start). Days-off
//     rules do not apply (there are no named people to rest); template max_per_day does.
// (b) roster (agents given): binary assignment of each named agent to at most one shift per day,
//     only where the agent has the template's skill (an agent with no skills listed has all) and
//     the whole shift [start, end) lies inside one of the agent's availability windows for that
//     day (an agent with no windows listed is always available). Rules per agent: at most
//     max_working_days_per_week shifts in each 7-day block of the horizon (blocks start at day
//     0; a final partial block gets min(rule, its length)), at most max_paid_min_per_week paid
//     minutes per block, at least min_rest_min minutes between the end of one shift and the start
//     of the next (shifts never overlap), and, when min_consecutive_days_off > 0, each FULL 7-day
//     block contains a run of at least that many consecutive days off. Break placements are
//     aggregated per (day, template, start) as in (a) and handed out to that start's agents.
//
// Solver: COIN-OR CBC (CbcMain through its C++ API), started from the empty schedule when
// coverage is soft (so a time-limited run always has a schedule to return). Status: kOptimal
// (proven), kTimeLimitFeasible, kNodeLimitFeasible or kGapLimitFeasible (stopped with the best
// schedule found so far and its gap),
// kLimitNoSolution (stopped with none), kInfeasible, kAbandoned (numerical trouble).
//
// Thread safety: the functions are reentrant; calls into CBC are serialised by a lock inside
// schedule.cpp (CBC's driver keeps global state), so concurrent solves queue behind each other;
// the wait counts against the solve's deadline (SolveOptions::deadline), and a solve whose
// deadline passes while waiting returns at once with kTimeLimitFeasible or kLimitNoSolution.
// Purity: everything is a function of (problem, options) except the solve: the deadline, CBC's
// time limit and solve_time_ms read the monotonic clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"

namespace opsbox::wfm {

// Limits (STYLE.md house rule 4).
inline constexpr int32_t kScheduleDaysMax = 28;
inline constexpr int32_t kScheduleSkillGroupsMax = 32;
inline constexpr int32_t kScheduleTemplatesMax = 200;
inline constexpr int32_t kScheduleBreaksPerTemplateMax = 4;
inline constexpr int32_t kScheduleAgentsMax = 1'000;
inline constexpr int32_t kScheduleWindowsPerAgentMax = 64;
inline constexpr int32_t kScheduleShiftLengthMaxMin = 1'440;
inline constexpr double kScheduleRequirementMax = 100'000;
inline constexpr double kScheduleCostMax = 1e9;
// Model size: integer columns of the MIP (shift counts or assignments plus break placements).
inline constexpr int64_t kScheduleColumnsMax = 2'000'000;
inline constexpr double kScheduleTimeLimitMaxS = 86'400;
inline constexpr size_t kScheduleIdBytesMax = 64;

struct ScheduleBreak {
  std::string name;                 // e.g. "break1", "lunch"; unique within a template
  int32_t length_min = 0;           // > 0
  int32_t earliest_offset_min = 0;  // earliest start, minutes after the shift start, >= 0
  int32_t latest_offset_min = 0;    // >= earliest; the break ends within the shift
  bool paid = true;                 // unpaid breaks (lunch) are not costed per paid hour
};

struct ShiftTemplate {
  std::string id;                   // unique
  std::string skill = "default";    // the skill group it serves (must have a requirement)
  int32_t earliest_start_min = 0;   // minutes after the day's midnight, [0, 1440)
  int32_t latest_start_min = 0;     // >= earliest, < 1440
  int32_t start_step_min = 0;       // > 0; 0 is read as interval_min by the JSON parser
  int32_t length_min = 0;           // (0, kScheduleShiftLengthMaxMin]
  std::vector<ScheduleBreak> breaks;  // ordered, disjoint windows (see above)
  double cost_per_shift = 0;        // >= 0
  double cost_per_paid_hour = 0;    // >= 0
  std::vector<int32_t> days;        // day indices it may be used on; empty = every day
  int32_t max_per_day = -1;         // mode (a): shifts per day over all starts; -1 = no limit
};

struct SkillRequirement {
  std::string skill = "default";    // unique
  std::vector<double> agents_per_interval;  // days * (1440 / interval_min) values, [0, max]
};

struct AvailabilityWindow {
  int32_t day = 0;                  // [0, days)
  int32_t from_min = 0;             // minutes after that day's midnight, [0, 1440)
  int32_t to_min = 0;               // > from_min, <= 2880 (may reach into the next day)
};

struct ScheduleAgent {
  std::string id;                   // unique
  std::vector<std::string> skills;  // empty = every skill
  std::vector<AvailabilityWindow> availability;  // empty = always available
};

struct RosterRules {
  int32_t max_working_days_per_week = 7;  // [0, 7]
  int32_t min_consecutive_days_off = 0;   // [0, 7 - max_working_days_per_week]; 0 = no rule
  int32_t min_rest_min = 0;               // [0, 1440]
  int32_t max_paid_min_per_week = -1;     // -1 = no limit
};

struct CoveragePolicy {
  bool hard = false;                // under-coverage forbidden
  double under_penalty = 1'000;     // cost units per agent-interval short; >= 0
  double over_penalty = 1;          // cost units per agent-interval over; >= 0
};

struct ScheduleProblem {
  int32_t days = 1;                 // [1, kScheduleDaysMax]
  int32_t interval_min = 30;        // 15, 30 or 60
  std::vector<SkillRequirement> requirements;  // at least one
  std::vector<ShiftTemplate> templates;        // at least one
  std::vector<ScheduleAgent> agents;           // empty = mode (a) shift counts
  RosterRules rules;
  CoveragePolicy coverage;
};

struct SolveOptions {
  double time_limit_s = 60;         // wall clock, (0, kScheduleTimeLimitMaxS], for the whole
                                    // solve: model build, the wait for the CBC lock and CBC
                                    // itself spend from one deadline (see deadline)
  // The instant the solve must be done by (steady clock). Unset: SolveSchedule takes
  // now + time_limit_s once, on entry. Every phase gets what remains; an expired deadline
  // makes the next phase return at once (kTimeLimitFeasible with the starting schedule when
  // coverage is soft, else kLimitNoSolution).
  std::optional<std::chrono::steady_clock::time_point> deadline;
  int64_t max_nodes = -1;           // branch-and-bound nodes; -1 = no limit
  double relative_gap = 0;          // stop when (objective - bound) / objective <= this; [0, 1)
  bool lp_relaxation = false;       // solve the LP relaxation only (a reference figure: the
                                    // report is filled, has_schedule stays false)
};

enum class SolveStatus {
  kOptimal,
  kTimeLimitFeasible,
  kNodeLimitFeasible,
  kGapLimitFeasible,
  kLimitNoSolution,
  kInfeasible,
  kAbandoned,
};
// Wire names: "optimal", "time_limit_feasible", "node_limit_feasible", "gap_limit_feasible"
// (stopped within SolveOptions::relative_gap), "limit_no_solution", "infeasible", "abandoned".
const char* SolveStatusName(SolveStatus status);

struct PlacedBreak {
  std::string name;
  int32_t start_min = 0;            // minutes after the shift's day's midnight
  int32_t length_min = 0;
  bool paid = true;
};

// One shift (mode b: one agent's) or a group of identical shifts (mode a: `count` of them).
struct ScheduledShift {
  int32_t day = 0;
  std::string template_id;
  std::string agent_id;             // mode (b); empty in mode (a)
  int32_t start_min = 0;            // minutes after the day's midnight
  int32_t end_min = 0;              // start + length; may exceed 1440
  int32_t count = 1;
  std::vector<PlacedBreak> breaks;  // in template order
  double cost = 0;                  // of ONE shift
};

struct CoverageRow {
  std::string skill;
  int32_t day = 0;
  int32_t interval = 0;             // within the day
  double required = 0;
  int32_t scheduled = 0;            // agents working (not on a break)
  double over = 0;                  // max(0, scheduled - required)
  double under = 0;                 // max(0, required - scheduled)
};

struct SolverReport {
  SolveStatus status = SolveStatus::kAbandoned;
  double objective = 0;             // of the returned schedule (NaN without one)
  double best_bound = 0;            // CBC's lower bound on the optimum
  double gap = 0;                   // (objective - bound) / max(|objective|, 1e-9); 0 if optimal
  int64_t nodes = 0;
  int64_t solve_time_ms = 0;        // wall time of the CBC call
  double cbc_time_limit_s = 0;      // what remained of the deadline when CBC started; 0 when
                                    // the deadline expired before CBC could start
  bool deadline_expired = false;    // a phase found the deadline already passed
  int64_t columns = 0;              // model size
  int64_t rows = 0;
  int64_t integer_columns = 0;
};

struct Schedule {
  bool roster = false;              // mode (b)
  SolverReport solver;
  bool has_schedule = false;        // false for kInfeasible, kLimitNoSolution, kAbandoned
  std::vector<ScheduledShift> shifts;  // by day, template, start (then agent)
  std::vector<CoverageRow> coverage;   // by skill group, then global interval
  double shift_cost = 0;            // sum of cost * count
  double under_agent_intervals = 0;
  double over_agent_intervals = 0;
};

// Checks every field and rule; the error names the field (dotted path, e.g.
// "templates[2].breaks[0].latest_offset_min") and the rule broken.
Status ValidateScheduleProblem(const ScheduleProblem& problem);
Status ValidateSolveOptions(const SolveOptions& options);

// Validates, builds the MIP and solves it with CBC. Errors: kInvalidArgument (bad input, or
// the model exceeds kScheduleColumnsMax), kInternal (CBC failed unexpectedly). Infeasibility and
// limits are not errors: they are the report's status.
Result<Schedule> SolveSchedule(const ScheduleProblem& problem, const SolveOptions& options);

// The same MIP in CPLEX LP format (as read by `glpsol --lp` and `cbc`), for reference runs and
// debugging. Validates first.
Result<std::string> ScheduleModelLp(const ScheduleProblem& problem);

// JSON form (the CLI's --problem file; snake_case keys as in the structs, see
// ParseScheduleProblem in schedule.cpp for the exact shape). Unknown keys are rejected; the
// result is validated.
Result<ScheduleProblem> ParseScheduleProblem(const Json& json);
Json ScheduleToJson(const Schedule& schedule, const ScheduleProblem& problem);

}  // namespace opsbox::wfm
