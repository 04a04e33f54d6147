// Erlang C and Erlang A: queue figures for a number of agents, and the fewest agents that meet
// staffing targets (issue #5, "Staffing").
//
// Models. Calls arrive as a Poisson process (volume per interval, assumed steady within the
// interval), handle times are exponential with mean aht_s, agents serve first come first served.
//   Erlang C (M/M/n): callers wait as long as it takes. Defined only when agents > traffic.
//   Erlang A (M/M/n+M, Palm; Garnett, Mandelbaum & Reiman 2002, "Designing a call center with
//     impatient customers", MSOM 4(3)): each waiting caller abandons at rate theta = 1/patience_s
//     (exponential patience). Computed EXACTLY from the birth-death chain, not from the GMR
//     asymptotic approximations.
//
// Definitions, used everywhere in opsbox (simulate.hpp uses the same ones):
//   traffic_erlangs      a = volume / interval_s * aht_s (offered load).
//   wait                 time from arrival until answered or, in Erlang A, until abandoning.
//   p_wait               share of arrivals that find every agent busy.
//   service_level        share of ALL arrivals answered within target_answer_s (an abandoned
//                        call is never answered; a call answered at exactly the target counts).
//   asa_s                mean wait over ALL arrivals: those answered at once count 0, abandoned
//                        callers count the time they waited before hanging up.
//   mean_wait_answered_s mean wait of the calls that are answered (equals asa_s in Erlang C).
//   abandon_probability  share of arrivals that abandon (0 in Erlang C).
//   occupancy            carried load / agents: a / n in Erlang C, a (1 - P(abandon)) / n in A.
//
// Numerics.
//   Erlang B by its recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)), evaluated in the
//   reciprocal form 1/B(k) = 1 + (k/a) / B(k-1) (the same recursion, all terms positive) and
//   four steps at a time, 1/B(k+4) = alpha + beta (1/B(k)) with alpha, beta built from the k/a off
//   the dependency chain: that chain is then one multiply-add per four agents, which keeps the
//   9,600 staffings of the benchmark within a few ms. No factorials, no powers; once 1/B
//   passes 1e300 the result is 0 (B only falls further). Erlang C from B:
//   C = n B / (n - a (1 - B)). Tested against 50-digit values up to 100,000 agents.
//
//   Erlang A from the chain. States k = calls in system; birth rate lambda; death rate
//   k mu for k <= n and n mu + (k - n) theta above. Relative to state n the lower states sum to
//   1/B(n, a) (Erlang B again), the queue states n + j have weights
//   r_0 = 1, r_j = r_{j-1} lambda / (n mu + j theta); they are summed with rescaling (a running
//   scale factor kept as a logarithm), so no weight overflows however overloaded the queue, and
//   the sum stops once the ratio has fallen below 1 and a geometric bound on the remaining tail
//   mass (including its first moment) is below 1e-15 of the total (kErlangAStatesMax caps it).
//   By PASTA an arrival sees state n + j with probability pi_{n+j}. Such a caller has j callers
//   ahead; while m are ahead it moves up at rate n mu + m theta (a service completion or an
//   abandonment ahead) and abandons itself at rate theta. So its time to reach an agent is
//   V_j = sum_{m=0..j} Exp(n mu + m theta), and it is answered iff its patience T > V_j:
//     P(answered | j)           = E[exp(-theta V_j)] = n mu / (n mu + (j + 1) theta)  (telescopes)
//     P(answered, V_j <= t | j) = E[exp(-theta V_j); V_j <= t]
//                               = P(answered | j) * P(V'_j <= t),
//   where V'_j = sum_{i=1..j+1} Exp(n mu + i theta) (exponential tilting: the Laplace transform
//   of V_j at s + theta divided by its value at theta is that of V'_j). V'_j has density
//   C e^{-(n mu + theta) v} (1 - e^{-theta v})^j; with u = 1 - e^{-theta v} it is Beta(j + 1,
//   n mu/theta + 1), so P(V'_j <= t) = I_x(j + 1, b), x = 1 - e^{-theta t}, b = n mu/theta + 1,
//   and for integer j + 1 that is P(N >= j + 1) for N negative binomial (size b, "failure"
//   probability x). Service level = P(no wait) + sum_j pi_{n+j} P(answered | j) P(N >= j + 1);
//   the double sum is reordered as sum_i P(N = i) W_i (W_i = cumulative weights below i) so
//   every term is positive: no cancellation. The mean wait of answered calls uses
//   E[V_j; answered] = P(answered | j) E[V'_j]. ASA = E[queue length] / lambda (Little), and
//   P(abandon) = theta E[queue length] / lambda; the test checks both identities, the limit
//   patience -> infinity (Erlang C) and a discrete-event simulation with a fixed seed.
//
// Thread safety: every function is pure (no state, no I/O) and safe to call concurrently.
// Units: seconds for every time, calls per interval for volume, fractions in [0, 1] for shares.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/result.hpp"

namespace opsbox::wfm {

// Limits (STYLE.md house rule 4). A target that needs more agents than kAgentsMax is answered
// with Error rule "agents_max"; an Erlang A chain longer than kErlangAStatesMax (only reachable
// with near-infinite patience on a badly overloaded queue) with rule "state_limit".
inline constexpr int kAgentsMax = 100'000;
inline constexpr int64_t kErlangAStatesMax = 5'000'000;
inline constexpr double kIntervalSMax = 7 * 24 * 3600.0;  // one week
inline constexpr double kAhtSMax = 24 * 3600.0;
inline constexpr double kVolumeMax = 1e9;
inline constexpr size_t kStaffingIntervalsMax = 1'000'000;  // per StaffIntervals call

// One queue in one interval.
struct Traffic {
  double volume = 0;        // calls arriving in the interval, >= 0
  double interval_s = 900;  // interval length, > 0
  double aht_s = 0;         // mean handle time, > 0
};

// Queue figures for `agents` agents (definitions above).
struct QueueFigures {
  int agents = 0;
  double traffic_erlangs = 0;
  double p_wait = 0;
  double service_level = 0;  // within target_answer_s
  double asa_s = 0;
  double mean_wait_answered_s = 0;
  double abandon_probability = 0;  // 0 in Erlang C
  double occupancy = 0;
};

// Offered load in Erlangs, or an Error naming the bad field ("volume", "interval_s", "aht_s";
// rules "non_negative", "positive", "finite", "max").
Result<double> TrafficErlangs(const Traffic& traffic);

// Erlang B blocking probability for `agents` >= 0 and traffic_erlangs >= 0 (asserted).
double ErlangB(int agents, double traffic_erlangs);
// Erlang C probability of waiting; 1 when agents <= traffic (no steady state).
double ErlangCProbWait(int agents, double traffic_erlangs);

// Erlang C figures. Errors: invalid traffic; "agents" rules "range" (0..kAgentsMax) and
// "stability" (agents <= traffic_erlangs with traffic > 0: the queue grows without bound);
// "target_answer_s" rule "non_negative".
Result<QueueFigures> ErlangC(const Traffic& traffic, int agents, double target_answer_s);

// Erlang A figures; patience_s is the mean patience (> 0, finite). Stable for any agents >= 0.
// Errors as ErlangC (no stability rule), plus "patience_s" rules "positive" and "state_limit".
Result<QueueFigures> ErlangA(const Traffic& traffic, double patience_s, int agents,
                             double target_answer_s);

// Staffing targets; unset targets do not constrain. At least one must be set.
struct StaffingTargets {
  double target_answer_s = 20;          // Y of "X within Y seconds", >= 0
  std::optional<double> service_level;  // X, in (0, 1): 1 is unattainable under Poisson
  std::optional<double> asa_s_max;      // > 0
  std::optional<double> abandon_max;    // in (0, 1); Erlang A only
  std::optional<double> occupancy_max;  // in (0, 1]
  double shrinkage = 0;                 // in [0, 1): share of paid time not on the phones
};

enum class BindingConstraint {
  kNone,       // no traffic: zero agents meet every target
  kStability,  // Erlang C: the first stable count (floor(a) + 1) already meets every target;
               // Erlang A: one agent (the floor for any traffic) already meets every target
  kServiceLevel,
  kAsa,
  kAbandonment,
  kOccupancy,
};
// "none", "stability", "service_level", "asa", "abandonment", "occupancy".
const char* BindingConstraintName(BindingConstraint constraint);

struct StaffingResult {
  QueueFigures figures;      // at figures.agents, the fewest agents meeting every target
  int scheduled_agents = 0;  // ScheduledAgents(figures.agents, shrinkage)
  // The constraint that fails with one agent fewer; when several do, the first of stability,
  // service_level, asa, abandonment, occupancy.
  BindingConstraint binding = BindingConstraint::kNone;
};

// Agents to schedule so that `agents` remain after shrinkage: ceil(agents / (1 - shrinkage)),
// with a 1e-9 tolerance so that 7 agents at 30% shrinkage schedule 10, not 11.
int ScheduledAgents(int agents, double shrinkage);

// Checks the targets alone (field names as in StaffingTargets; rules "range", "required",
// "unattainable" for service_level >= 1, "erlang_a_only" for abandon_max under Erlang C).
Status ValidateTargets(const StaffingTargets& targets, bool erlang_a);

// Fewest agents meeting every target under Erlang C: walks up from floor(a) + 1 carrying the
// Erlang B recursion, O(agents) in all. Errors: invalid traffic or targets, "agents" rule
// "agents_max" when more than kAgentsMax would be needed.
Result<StaffingResult> StaffErlangC(const Traffic& traffic, const StaffingTargets& targets);

// Fewest agents meeting every target under Erlang A (binary search: every target is monotone in
// the number of agents). Errors as StaffErlangC, plus those of ErlangA.
Result<StaffingResult> StaffErlangA(const Traffic& traffic, double patience_s,
                                    const StaffingTargets& targets);

// Staffing for a series of intervals (one queue's day, say) under Erlang C, or Erlang A when
// patience_s is set. Stops at the first error, whose field is prefixed "intervals[i].".
// At most kStaffingIntervalsMax intervals (rule "max").
Result<std::vector<StaffingResult>> StaffIntervals(std::span<const Traffic> intervals,
                                                   const StaffingTargets& targets,
                                                   std::optional<double> patience_s);

}  // namespace opsbox::wfm
