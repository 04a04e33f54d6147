// Erlang C and Erlang A (see erlang.hpp for the models, definitions and derivations).
#include "wfm/erlang.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/assert.hpp"

namespace opsbox::wfm {
namespace {

// 1/B beyond this means B < 1e-300: treated as 0 (B only falls as agents grow past traffic).
constexpr double kInverseBMax = 1e300;
// Erlang A queue weights are rescaled when they pass this, keeping every sum finite.
constexpr double kWeightRescaleAt = 1e250;
// The chain is truncated where the remaining tail mass is below this share of the total.
constexpr double kTailMassMax = 1e-15;
// Below exp(-700) a negative binomial probability is kept as its logarithm (no underflow).
constexpr double kLogUnderflow = -700;
constexpr double kTargetAnswerSMax = 24 * 3600.0;
// Occupancy is a ratio of user inputs: allow rounding at the boundary (8.5 / 10 <= 0.85).
constexpr double kOccupancyTolerance = 1e-12;

std::string Format(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

Status CheckNumber(double v, const char* field, double max, bool zero_ok) {
  const std::string name(field);
  if (!std::isfinite(v)) return Error::Invalid(name, "finite", name + " must be a finite number");
  if (zero_ok && v < 0) return Error::Invalid(name, "non_negative", name + " must be >= 0");
  if (!zero_ok && v <= 0) return Error::Invalid(name, "positive", name + " must be > 0");
  if (v > max) return Error::Invalid(name, "max", name + " must be at most " + Format(max));
  return Ok();
}

Status CheckShare(std::optional<double> v, const char* field, bool one_ok) {
  if (!v) return Ok();
  if (!std::isfinite(*v) || *v <= 0 || *v > 1 || (!one_ok && *v == 1)) {
    return Error::Invalid(
        field, "range",
        std::string(field) + (one_ok ? " must be in (0, 1]" : " must be in (0, 1)"));
  }
  return Ok();
}

Status CheckAgents(int agents) {
  if (agents < 0 || agents > kAgentsMax) {
    return Error::Invalid("agents", "range",
                          "agents must be between 0 and " + std::to_string(kAgentsMax));
  }
  return Ok();
}

Status CheckTarget(double target_answer_s) {
  return CheckNumber(target_answer_s, "target_answer_s", kTargetAnswerSMax, true);
}

Status CheckPatience(double patience_s) {
  return CheckNumber(patience_s, "patience_s", 1e12, false);
}

// Figures when no call arrives: nobody waits, every (vacuous) call is answered at once.
QueueFigures NoTraffic(int agents) {
  QueueFigures f;
  f.agents = agents;
  f.service_level = 1;
  return f;
}

double Share(double v) { return std::clamp(v, 0.0, 1.0); }

// 1/B(to, a) from 1/B(from, a) by the recursion 1/B(k) = 1 + (k/a) / B(k-1), four steps at a
// time: I(k+4) = alpha + beta I(k), where alpha and beta (sums and products of the k/a) do not
// depend on I, so the dependency chain is one multiply and one add per four steps. All terms
// are positive (no cancellation). Returns a value > kInverseBMax (possibly +inf) once B < 1e-300.
double InverseErlangB(int from, double inverse_b, int to, double inv_a) {
  double k = from;
  for (int left = to - from; left >= 4; left -= 4) {
    const double c1 = (k + 1) * inv_a, c2 = (k + 2) * inv_a, c3 = (k + 3) * inv_a,
                 c4 = (k + 4) * inv_a;
    const double alpha = 1 + c4 * (1 + c3 * (1 + c2));
    const double beta = c4 * c3 * c2 * c1;
    inverse_b = alpha + beta * inverse_b;
    k += 4;
    if (inverse_b > kInverseBMax) return inverse_b;
  }
  for (; k < to; k += 1) inverse_b = 1 + (k + 1) * inv_a * inverse_b;
  return inverse_b;
}

// Erlang C figures from B(n, a), for n > a > 0.
QueueFigures ErlangCFromB(int n, double a, double b, double aht_s, double target_answer_s) {
  QueueFigures f;
  f.agents = n;
  f.traffic_erlangs = a;
  const double slack = n - a;
  f.p_wait = Share(n * b / (n - a * (1 - b)));
  f.service_level = Share(1 - f.p_wait * std::exp(-slack * target_answer_s / aht_s));
  f.asa_s = f.p_wait * aht_s / slack;
  f.mean_wait_answered_s = f.asa_s;
  f.occupancy = a / n;
  return f;
}

// The first target that `f` fails, in the documented order; kNone when all are met.
BindingConstraint FirstFailing(const QueueFigures& f, const StaffingTargets& t) {
  if (t.service_level && f.service_level < *t.service_level) {
    return BindingConstraint::kServiceLevel;
  }
  if (t.asa_s_max && f.asa_s > *t.asa_s_max) return BindingConstraint::kAsa;
  if (t.abandon_max && f.abandon_probability > *t.abandon_max) {
    return BindingConstraint::kAbandonment;
  }
  if (t.occupancy_max && f.occupancy > *t.occupancy_max * (1 + kOccupancyTolerance)) {
    return BindingConstraint::kOccupancy;
  }
  return BindingConstraint::kNone;
}

Error TooManyAgents(double a) {
  return Error::Invalid("agents", "agents_max",
                        "the targets need more than " + std::to_string(kAgentsMax) +
                            " agents (traffic " + Format(a) + " Erlangs)");
}

// Running sums over the Erlang A queue states n + j, all scaled by exp(-log_scale) (see header).
struct ChainSums {
  double mass = 0;           // sum r_j
  double queue_length = 0;   // sum j r_j
  double answered = 0;       // sum r_j P(answered | j)
  double answered_wait = 0;  // sum r_j P(answered | j) E[V'_j]
  double abandoned = 0;      // sum r_j P(abandon | j)
  double answered_in_t = 0;  // sum r_j P(answered | j) P(N >= j + 1)
  double log_scale = 0;
};

// Negative binomial N (size b, probability x) probabilities P(N = i), i = 0, 1, ..., kept as a
// logarithm until they rise above exp(-700), so none underflows on the way to its mode.
class NegativeBinomialWalk {
 public:
  NegativeBinomialWalk(double b, double x, double log_p0)
      : b_(b), log_x_(std::log(x)), x_(x), log_p_(log_p0) {
    if (log_p_ > kLogUnderflow) {
      p_ = std::exp(log_p_);
      linear_ = true;
    }
  }
  double p() const { return p_; }
  // Moves from P(N = i) to P(N = i + 1).
  void Next(int64_t i) {
    const double ratio_rest = (static_cast<double>(i) + b_) / static_cast<double>(i + 1);
    if (linear_) {
      p_ *= x_ * ratio_rest;
      return;
    }
    log_p_ += log_x_ + std::log(ratio_rest);
    if (log_p_ > kLogUnderflow) {
      p_ = std::exp(log_p_);
      linear_ = true;
    }
  }

 private:
  double b_, log_x_, x_, log_p_;
  double p_ = 0;
  bool linear_ = false;
};

// Sums the queue states of M/M/n+M; `low_over_state_n` = sum of the states below n relative to
// state n (1/B - 1), which may be +inf when B underflowed.
Result<ChainSums> SumQueueStates(int n, double lambda, double mu, double theta, double t,
                                 double low_over_state_n) {
  const double nmu = n * mu;
  const bool timed = t > 0;
  const double x = timed ? -std::expm1(-theta * t) : 0;
  NegativeBinomialWalk nb(nmu / theta + 1, timed ? x : 1, -(nmu + theta) * t);
  ChainSums s;
  double r = 1, wait_if_answered = 0, below = 0, p_below = 0;
  for (int64_t j = 0;; ++j) {
    if (j >= kErlangAStatesMax) {
      return Error::Invalid(
          "patience_s", "state_limit",
          "Erlang A needs more than " + std::to_string(kErlangAStatesMax) +
              " queue states: the queue is overloaded with near-infinite patience");
    }
    const double rate = nmu + static_cast<double>(j + 1) * theta;
    const double inv_rate = 1 / rate;
    const double w = r * nmu * inv_rate;  // r_j P(answered | j)
    wait_if_answered += inv_rate;         // E[V'_j]
    s.mass += r;
    s.queue_length += static_cast<double>(j) * r;
    s.answered += w;
    s.answered_wait += w * wait_if_answered;
    s.abandoned += r * static_cast<double>(j + 1) * theta * inv_rate;
    if (timed) {
      p_below += nb.p();
      if (j >= 1) s.answered_in_t += nb.p() * below;
      below += w;
      nb.Next(j);
    }
    const double ratio = lambda * inv_rate;
    r *= ratio;
    const double ratio_after = lambda / (rate + theta);
    if (ratio_after < 1) {
      const double low = std::isinf(low_over_state_n) ? low_over_state_n
                                                      : low_over_state_n * std::exp(-s.log_scale);
      const double total = s.mass + low;
      const double tail = r / (1 - ratio_after);
      const double weight = static_cast<double>(j + 2) + 1 / (1 - ratio_after);
      if (tail * weight <= kTailMassMax * total) break;
    }
    if (r > kWeightRescaleAt) {
      for (double* v : {&s.mass, &s.queue_length, &s.answered, &s.answered_wait, &s.abandoned,
                        &s.answered_in_t, &below}) {
        *v /= r;
      }
      s.log_scale += std::log(r);
      r = 1;
    }
  }
  if (timed) s.answered_in_t += below * std::max(0.0, 1 - p_below);
  return s;
}

// The fewest agents >= first_stable meeting every target (kAgentsMax + 1 when none does up to
// the limit). The walk carries 1/B and the service level's exp(-(n - a) t / aht) factor from
// one count to the next, so each step costs two divisions; the count it stops at is confirmed
// with the full figures (FirstFailing), which decide.
int FewestAgentsErlangC(double a, int first_stable, double aht_s, const StaffingTargets& t) {
  const double inv_a = 1 / a;
  const double step_factor = std::exp(-t.target_answer_s / aht_s);
  double inverse_b = InverseErlangB(0, 1, first_stable, inv_a);
  double decay = std::exp(-(first_stable - a) * t.target_answer_s / aht_s);
  const double miss_max = t.service_level ? 1 - *t.service_level : 1;
  for (int n = first_stable; n <= kAgentsMax; ++n) {
    const double b = inverse_b > kInverseBMax ? 0 : 1 / inverse_b;
    const double c = n * b / (n - a * (1 - b));
    const bool meets = c * decay <= miss_max &&
                       (!t.asa_s_max || c * aht_s <= *t.asa_s_max * (n - a)) &&
                       (!t.occupancy_max || a <= *t.occupancy_max * n * (1 + kOccupancyTolerance));
    if (meets) {
      const QueueFigures f = ErlangCFromB(n, a, b, aht_s, t.target_answer_s);
      if (FirstFailing(f, t) == BindingConstraint::kNone) return n;
    }
    if (inverse_b <= kInverseBMax) inverse_b = 1 + (n + 1) * inv_a * inverse_b;
    decay *= step_factor;
  }
  return kAgentsMax + 1;
}

}  // namespace

const char* BindingConstraintName(BindingConstraint constraint) {
  switch (constraint) {
    case BindingConstraint::kNone:
      return "none";
    case BindingConstraint::kStability:
      return "stability";
    case BindingConstraint::kServiceLevel:
      return "service_level";
    case BindingConstraint::kAsa:
      return "asa";
    case BindingConstraint::kAbandonment:
      return "abandonment";
    case BindingConstraint::kOccupancy:
      return "occupancy";
  }
  return "none";
}

Result<double> TrafficErlangs(const Traffic& traffic) {
  OPSBOX_TRY(CheckNumber(traffic.volume, "volume", kVolumeMax, true));
  OPSBOX_TRY(CheckNumber(traffic.interval_s, "interval_s", kIntervalSMax, false));
  OPSBOX_TRY(CheckNumber(traffic.aht_s, "aht_s", kAhtSMax, false));
  return traffic.volume / traffic.interval_s * traffic.aht_s;
}

double ErlangB(int agents, double traffic_erlangs) {
  OPSBOX_ASSERT(agents >= 0 && traffic_erlangs >= 0 && std::isfinite(traffic_erlangs));
  if (traffic_erlangs == 0) return agents == 0 ? 1 : 0;
  const double inverse_b = InverseErlangB(0, 1, agents, 1 / traffic_erlangs);
  return inverse_b > kInverseBMax ? 0 : 1 / inverse_b;
}

double ErlangCProbWait(int agents, double traffic_erlangs) {
  if (agents <= traffic_erlangs) return traffic_erlangs == 0 ? 0 : 1;
  const double b = ErlangB(agents, traffic_erlangs);
  return Share(agents * b / (agents - traffic_erlangs * (1 - b)));
}

Result<QueueFigures> ErlangC(const Traffic& traffic, int agents, double target_answer_s) {
  OPSBOX_ASSIGN_OR_RETURN(const double a, TrafficErlangs(traffic));
  OPSBOX_TRY(CheckAgents(agents));
  OPSBOX_TRY(CheckTarget(target_answer_s));
  if (a == 0) return NoTraffic(agents);
  if (agents <= a) {
    return Error::Invalid("agents", "stability",
                          std::to_string(agents) + " agents cannot carry " + Format(a) +
                              " Erlangs: Erlang C needs more agents than the traffic");
  }
  return ErlangCFromB(agents, a, ErlangB(agents, a), traffic.aht_s, target_answer_s);
}

Result<QueueFigures> ErlangA(const Traffic& traffic, double patience_s, int agents,
                             double target_answer_s) {
  OPSBOX_ASSIGN_OR_RETURN(const double a, TrafficErlangs(traffic));
  OPSBOX_TRY(CheckAgents(agents));
  OPSBOX_TRY(CheckTarget(target_answer_s));
  OPSBOX_TRY(CheckPatience(patience_s));
  if (a == 0) return NoTraffic(agents);
  const double lambda = traffic.volume / traffic.interval_s;
  const double mu = 1 / traffic.aht_s;
  const double b = ErlangB(agents, a);
  const double low = b == 0 ? INFINITY : (1 - b) / b;
  OPSBOX_ASSIGN_OR_RETURN(const ChainSums s,
                          SumQueueStates(agents, lambda, mu, 1 / patience_s, target_answer_s, low));
  // pi_{n+j} = r_j * norm (see header): norm = B / ((1 - B) e^{-L} + B * mass).
  const double norm = b == 0 ? 0 : b / ((1 - b) * std::exp(-s.log_scale) + b * s.mass);
  QueueFigures f;
  f.agents = agents;
  f.traffic_erlangs = a;
  f.p_wait = Share(s.mass * norm);
  f.abandon_probability = Share(s.abandoned * norm);
  const double answered = Share(1 - f.p_wait + s.answered * norm);
  f.service_level = Share(1 - f.p_wait + s.answered_in_t * norm);
  f.asa_s = s.queue_length * norm / lambda;
  f.mean_wait_answered_s = answered > 0 ? s.answered_wait * norm / answered : 0;
  f.occupancy = agents == 0 ? 1 : Share(a * (1 - f.abandon_probability) / agents);
  return f;
}

int ScheduledAgents(int agents, double shrinkage) {
  OPSBOX_ASSERT(agents >= 0 && shrinkage >= 0 && shrinkage < 1);
  return static_cast<int>(std::ceil(agents / (1 - shrinkage) - 1e-9));
}

Status ValidateTargets(const StaffingTargets& targets, bool erlang_a) {
  OPSBOX_TRY(CheckTarget(targets.target_answer_s));
  if (targets.service_level && *targets.service_level >= 1 &&
      std::isfinite(*targets.service_level)) {
    return Error::Invalid("service_level", "unattainable",
                          "a service level of 1 is unattainable: with random (Poisson) arrivals "
                          "some call always finds every agent busy");
  }
  OPSBOX_TRY(CheckShare(targets.service_level, "service_level", false));
  if (targets.asa_s_max) {
    OPSBOX_TRY(CheckNumber(*targets.asa_s_max, "asa_s_max", kTargetAnswerSMax, false));
  }
  if (targets.abandon_max && !erlang_a) {
    return Error::Invalid(
        "abandon_max", "erlang_a_only",
        "abandon_max needs Erlang A (a patience): Erlang C callers never abandon");
  }
  OPSBOX_TRY(CheckShare(targets.abandon_max, "abandon_max", false));
  OPSBOX_TRY(CheckShare(targets.occupancy_max, "occupancy_max", true));
  if (!std::isfinite(targets.shrinkage) || targets.shrinkage < 0 || targets.shrinkage >= 1) {
    return Error::Invalid("shrinkage", "range", "shrinkage must be in [0, 1)");
  }
  if (!targets.service_level && !targets.asa_s_max && !targets.abandon_max &&
      !targets.occupancy_max) {
    return Error::Invalid("targets", "required",
                          "set at least one target: service_level, asa_s_max, abandon_max or "
                          "occupancy_max");
  }
  return Ok();
}

Result<StaffingResult> StaffErlangC(const Traffic& traffic, const StaffingTargets& targets) {
  OPSBOX_ASSIGN_OR_RETURN(const double a, TrafficErlangs(traffic));
  OPSBOX_TRY(ValidateTargets(targets, false));
  StaffingResult out;
  if (a == 0) {
    out.figures = NoTraffic(0);
    return out;
  }
  if (a >= kAgentsMax) return TooManyAgents(a);
  const int first_stable = static_cast<int>(std::floor(a)) + 1;
  const int n = FewestAgentsErlangC(a, first_stable, traffic.aht_s, targets);
  if (n > kAgentsMax) return TooManyAgents(a);
  out.figures = ErlangCFromB(n, a, ErlangB(n, a), traffic.aht_s, targets.target_answer_s);
  out.binding = BindingConstraint::kStability;
  if (n > first_stable) {
    out.binding = FirstFailing(
        ErlangCFromB(n - 1, a, ErlangB(n - 1, a), traffic.aht_s, targets.target_answer_s), targets);
  }
  out.scheduled_agents = ScheduledAgents(n, targets.shrinkage);
  return out;
}

Result<StaffingResult> StaffErlangA(const Traffic& traffic, double patience_s,
                                    const StaffingTargets& targets) {
  OPSBOX_ASSIGN_OR_RETURN(const double a, TrafficErlangs(traffic));
  OPSBOX_TRY(ValidateTargets(targets, true));
  OPSBOX_TRY(CheckPatience(patience_s));
  StaffingResult out;
  if (a == 0) {
    out.figures = NoTraffic(0);
    return out;
  }
  auto figures_at = [&](int n) { return ErlangA(traffic, patience_s, n, targets.target_answer_s); };
  // Every target improves with agents, so "all met" is monotone: gallop up, then bisect.
  int lo = 0;  // fails (or is below the floor of one agent)
  int hi = std::clamp(static_cast<int>(std::ceil(a)), 1, kAgentsMax);
  for (;;) {
    OPSBOX_ASSIGN_OR_RETURN(QueueFigures f, figures_at(hi));
    if (FirstFailing(f, targets) == BindingConstraint::kNone) break;
    if (hi == kAgentsMax) return TooManyAgents(a);
    lo = hi;
    hi = std::min(kAgentsMax, hi * 2);
  }
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    OPSBOX_ASSIGN_OR_RETURN(QueueFigures f, figures_at(mid));
    (FirstFailing(f, targets) == BindingConstraint::kNone ? hi : lo) = mid;
  }
  OPSBOX_ASSIGN_OR_RETURN(out.figures, figures_at(hi));
  OPSBOX_ASSERT(FirstFailing(out.figures, targets) == BindingConstraint::kNone);
  OPSBOX_ASSIGN_OR_RETURN(QueueFigures below, figures_at(hi - 1));
  out.binding = FirstFailing(below, targets);
  if (out.binding == BindingConstraint::kNone) out.binding = BindingConstraint::kStability;
  out.scheduled_agents = ScheduledAgents(hi, targets.shrinkage);
  return out;
}

Result<std::vector<StaffingResult>> StaffIntervals(std::span<const Traffic> intervals,
                                                   const StaffingTargets& targets,
                                                   std::optional<double> patience_s) {
  if (intervals.size() > kStaffingIntervalsMax) {
    return Error::Invalid("intervals", "max",
                          "at most " + std::to_string(kStaffingIntervalsMax) + " intervals");
  }
  std::vector<StaffingResult> out;
  out.reserve(intervals.size());
  for (size_t i = 0; i < intervals.size(); ++i) {
    auto r = patience_s ? StaffErlangA(intervals[i], *patience_s, targets)
                        : StaffErlangC(intervals[i], targets);
    if (!r.ok()) {
      Error e = std::move(r).error();
      e.field = "intervals[" + std::to_string(i) + "]." + e.field;
      return e;
    }
    out.push_back(std::move(r).value());
  }
  return out;
}

}  // namespace opsbox::wfm
