// Goal: Erlang C and Erlang A give the published and independently computed figures, stay finite
// and monotone at the extremes (5,000+ agents, 10,000 Erlangs), Erlang A tends to Erlang C as
// patience grows and agrees with a seeded discrete-event simulation, and the staffing solver
// finds the fewest agents, names the binding constraint and rejects impossible targets.
#include "wfm/erlang.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <random>
#include <vector>

namespace opsbox::wfm {
namespace {

// Reference Erlang C straight from the textbook formula with powers and factorials in long
// double (80-bit, exponent range to 1e4932): independent of the recursion under test, and
// fine for the small and medium agent counts used here.
long double ReferenceErlangC(int n, long double a) {
  long double below = 0;
  for (int k = 0; k < n; ++k)
    below += std::pow(a, k) / std::tgamma(static_cast<long double>(k + 1));
  const long double top =
      std::pow(a, n) / std::tgamma(static_cast<long double>(n + 1)) * n / (n - a);
  return top / (below + top);
}

long double ReferenceErlangB(int n, long double a) {
  long double sum = 0;
  for (int k = 0; k <= n; ++k) sum += std::pow(a, k) / std::tgamma(static_cast<long double>(k + 1));
  return std::pow(a, n) / std::tgamma(static_cast<long double>(n + 1)) / sum;
}

Traffic Calls(double volume, double interval_s, double aht_s) {
  return Traffic{volume, interval_s, aht_s};
}

StaffingTargets ServiceLevel(double level, double within_s) {
  StaffingTargets t;
  t.service_level = level;
  t.target_answer_s = within_s;
  return t;
}

TEST(ErlangB, MatchesTheFactorialFormulaForSmallAgentCounts) {
  for (double a : {0.5, 5.0, 20.0, 48.0}) {
    for (int n = 0; n <= 60; ++n) {
      const double ref = static_cast<double>(ReferenceErlangB(n, a));
      EXPECT_NEAR(ErlangB(n, a), ref, 1e-13 * std::max(ref, 1e-300)) << "n " << n << " a " << a;
    }
  }
  EXPECT_EQ(ErlangB(0, 3.0), 1.0);
  EXPECT_EQ(ErlangB(5, 0.0), 0.0);
}

// Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example"
// (callcentrehelper.com): 100 calls per 30 minutes, AHT 180 s, target 80% within 20 s,
// maximum occupancy 85%, shrinkage 30%. Published: traffic 10 Erlangs; with 11 agents the
// probability of waiting is 0.6821; 14 agents meet the target; 20 agents after shrinkage. The
// service levels per agent count are also checked against the long double reference.
TEST(ErlangC, ReproducesTheCallCentreHelperWorkedExample) {
  const Traffic traffic = Calls(100, 1800, 180);
  auto eleven = ErlangC(traffic, 11, 20);
  ASSERT_TRUE(eleven.ok()) << eleven.error().ToString();
  EXPECT_DOUBLE_EQ(eleven->traffic_erlangs, 10.0);
  EXPECT_NEAR(eleven->p_wait, 0.6821, 5e-5);
  for (int n = 11; n <= 15; ++n) {
    auto f = ErlangC(traffic, n, 20);
    ASSERT_TRUE(f.ok());
    const double c = static_cast<double>(ReferenceErlangC(n, 10));
    EXPECT_NEAR(f->p_wait, c, 1e-13);
    EXPECT_NEAR(f->service_level, 1 - c * std::exp(-(n - 10) * 20.0 / 180), 1e-13);
    EXPECT_NEAR(f->asa_s, c * 180 / (n - 10), 1e-10);
  }
  StaffingTargets targets = ServiceLevel(0.8, 20);
  targets.occupancy_max = 0.85;
  targets.shrinkage = 0.3;
  auto staff = StaffErlangC(traffic, targets);
  ASSERT_TRUE(staff.ok()) << staff.error().ToString();
  EXPECT_EQ(staff->figures.agents, 14);
  EXPECT_NEAR(staff->figures.service_level, 0.8884, 5e-5);
  EXPECT_NEAR(staff->figures.occupancy, 10.0 / 14, 1e-15);
  EXPECT_EQ(staff->scheduled_agents, 20);
  EXPECT_EQ(staff->binding, BindingConstraint::kServiceLevel);
}

// The classic step-by-step example of the Erlang-C formula (Westbay Engineers, "The Erlang-C
// formula"): 360 calls per half hour, 4 minute calls, 55 agents, target answer time 15 s.
// Traffic 48 Erlangs and occupancy 0.873 are the published figures; the probability of waiting,
// service level and ASA are checked against the independent long double reference (we could not
// re-read the page offline to quote its other figures).
TEST(ErlangC, ReproducesTheWestbayWorkedExample) {
  auto f = ErlangC(Calls(360, 1800, 240), 55, 15);
  ASSERT_TRUE(f.ok());
  EXPECT_DOUBLE_EQ(f->traffic_erlangs, 48.0);
  EXPECT_NEAR(f->occupancy, 0.873, 5e-4);
  const double c = static_cast<double>(ReferenceErlangC(55, 48));
  EXPECT_NEAR(f->p_wait, c, 1e-13);
  EXPECT_NEAR(f->p_wait, 0.2387, 1e-4);
  EXPECT_NEAR(f->service_level, 1 - c * std::exp(-7 * 15.0 / 240), 1e-13);
  EXPECT_NEAR(f->asa_s, c * 240 / 7, 1e-11);
  EXPECT_DOUBLE_EQ(f->asa_s, f->mean_wait_answered_s);
  EXPECT_EQ(f->abandon_probability, 0.0);
}

void ExpectMonotoneAndFinite(double a, int n_from, int n_to, double aht_s) {
  const Traffic traffic = Calls(a * 900 / aht_s, 900, aht_s);
  double p_wait = 1.1, sl = -0.1, asa = INFINITY;
  for (int n = n_from; n <= n_to; ++n) {
    auto f = ErlangC(traffic, n, 20);
    ASSERT_TRUE(f.ok()) << f.error().ToString();
    ASSERT_TRUE(std::isfinite(f->p_wait) && std::isfinite(f->service_level) &&
                std::isfinite(f->asa_s));
    ASSERT_GE(f->p_wait, 0);
    ASSERT_LE(f->p_wait, 1);
    ASSERT_GE(f->service_level, 0);
    ASSERT_LE(f->service_level, 1);
    ASSERT_LE(f->p_wait, p_wait) << "n " << n;
    ASSERT_GE(f->service_level, sl) << "n " << n;
    ASSERT_LE(f->asa_s, asa) << "n " << n;
    p_wait = f->p_wait;
    sl = f->service_level;
    asa = f->asa_s;
  }
}

// Reference values for large systems, computed offline with Python mpmath at 50 digits as
// sum_k exp(k ln a - lgamma(k + 1)) normalised by its largest term (not by the recursion).
TEST(ErlangC, MatchesHighPrecisionValuesForLargeSystems) {
  struct Case {
    int n;
    double a, b, c;
  };
  for (const Case& c : {Case{10001, 10000, 0.0078732890632725521, 0.98755687015654843},
                        Case{10100, 10000, 0.0028623572207360649, 0.22476290646653222},
                        Case{5000, 4950, 0.0057421518444911041, 0.36609821942272346},
                        Case{100000, 99990, 0.0024557858872472416, 0.96096542829972441}}) {
    EXPECT_NEAR(ErlangB(c.n, c.a), c.b, 1e-12 * c.b) << c.n;
    EXPECT_NEAR(ErlangCProbWait(c.n, c.a), c.c, 1e-11 * c.c) << c.n;
  }
}

TEST(ErlangC, StaysFiniteAndMonotoneAtTenThousandErlangs) {
  ExpectMonotoneAndFinite(10000, 10001, 10400, 300);
}

TEST(ErlangC, StaysFiniteAndMonotoneAtFiveThousandAgents) {
  ExpectMonotoneAndFinite(4950, 4951, 5300, 180);
  // Far more agents than traffic: B underflows to 0 without overflow or NaN.
  auto idle = ErlangC(Calls(1, 900, 180), 5000, 20);
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->p_wait, 0.0);
  EXPECT_EQ(idle->service_level, 1.0);
  auto max = ErlangC(Calls(99990 * 900 / 180.0, 900, 180), kAgentsMax, 20);
  ASSERT_TRUE(max.ok());
  EXPECT_GT(max->p_wait, 0);
  EXPECT_LT(max->p_wait, 1);
}

TEST(ErlangC, RejectsAnUnstableQueueNamingTheRule) {
  auto r = ErlangC(Calls(100, 1800, 180), 10, 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "agents");
  EXPECT_EQ(r.error().rule, "stability");
  EXPECT_EQ(ErlangCProbWait(10, 10.0), 1.0);
}

TEST(ErlangC, ReportsAnIdleQueueWhenNoCallArrives) {
  auto r = ErlangC(Calls(0, 900, 180), 0, 20);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->service_level, 1.0);
  EXPECT_EQ(r->p_wait, 0.0);
}

TEST(Validation, RejectsBadTrafficNamingFieldAndRule) {
  struct Case {
    Traffic traffic;
    const char* field;
    const char* rule;
  };
  for (const Case& c : {Case{Calls(-1, 900, 180), "volume", "non_negative"},
                        Case{Calls(10, 900, 0), "aht_s", "positive"},
                        Case{Calls(10, 0, 180), "interval_s", "positive"},
                        Case{Calls(NAN, 900, 180), "volume", "finite"},
                        Case{Calls(10, 900, INFINITY), "aht_s", "finite"}}) {
    auto r = ErlangC(c.traffic, 10, 20);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().field, c.field);
    EXPECT_EQ(r.error().rule, c.rule);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  auto agents = ErlangC(Calls(10, 900, 180), -1, 20);
  ASSERT_FALSE(agents.ok());
  EXPECT_EQ(agents.error().field, "agents");
  auto past_limit = ErlangA(Calls(10, 900, 180), 60, kAgentsMax + 1, 20);
  ASSERT_FALSE(past_limit.ok());
  EXPECT_EQ(past_limit.error().rule, "range");
  EXPECT_TRUE(ErlangA(Calls(10, 900, 180), 60, kAgentsMax, 20).ok());
  auto target = ErlangA(Calls(10, 900, 180), 60, 5, -1);
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().field, "target_answer_s");
  auto patience = ErlangA(Calls(10, 900, 180), 0, 5, 20);
  ASSERT_FALSE(patience.ok());
  EXPECT_EQ(patience.error().field, "patience_s");
}

// Erlang A.

TEST(ErlangA, ConvergesToErlangCAsPatienceGrows) {
  const Traffic traffic = Calls(100, 1800, 180);  // 10 Erlangs
  for (int n : {11, 12, 14, 20}) {
    auto c = ErlangC(traffic, n, 20);
    ASSERT_TRUE(c.ok());
    double previous_gap = INFINITY;
    for (double patience_s : {1e3, 1e5, 1e7}) {
      auto a = ErlangA(traffic, patience_s, n, 20);
      ASSERT_TRUE(a.ok()) << a.error().ToString();
      const double gap = std::abs(a->service_level - c->service_level) +
                         std::abs(a->p_wait - c->p_wait) + std::abs(a->asa_s - c->asa_s) / 180;
      EXPECT_LT(gap, previous_gap);
      previous_gap = gap;
    }
    auto a = ErlangA(traffic, 1e8, n, 20);
    ASSERT_TRUE(a.ok());
    EXPECT_NEAR(a->p_wait, c->p_wait, 1e-4);
    EXPECT_NEAR(a->service_level, c->service_level, 1e-4);
    EXPECT_NEAR(a->asa_s, c->asa_s, 1e-2);
    EXPECT_NEAR(a->mean_wait_answered_s, c->asa_s, 1e-2);
    EXPECT_NEAR(a->abandon_probability, 0, 1e-5);
    EXPECT_NEAR(a->occupancy, c->occupancy, 1e-5);
  }
}

TEST(ErlangA, SatisfiesLittlesLawAndTheServiceLevelBounds) {
  const Traffic traffic = Calls(47.5, 900, 180);  // 9.5 Erlangs
  for (int n : {0, 1, 5, 9, 10, 12, 20}) {
    auto at0 = ErlangA(traffic, 120, n, 0);
    auto at20 = ErlangA(traffic, 120, n, 20);
    auto at_day = ErlangA(traffic, 120, n, 86400);
    ASSERT_TRUE(at0.ok() && at20.ok() && at_day.ok());
    // Abandonment rate theta E[Q] equals lambda P(abandon): two independent sums of the chain.
    EXPECT_NEAR(at20->abandon_probability, at20->asa_s / 120, 1e-12) << "n " << n;
    EXPECT_NEAR(at0->service_level, 1 - at0->p_wait, 1e-12);
    EXPECT_NEAR(at_day->service_level, 1 - at_day->abandon_probability, 1e-12);
    EXPECT_LE(at0->service_level, at20->service_level);
    EXPECT_LE(at20->service_level, at_day->service_level);
    EXPECT_NEAR(at20->occupancy, n == 0 ? 1 : 9.5 * (1 - at20->abandon_probability) / n, 1e-12);
  }
}

// Discrete-event check of M/M/n+M under FCFS: callers are taken in arrival order; a caller's
// answer time is when the earliest agent frees up (or its arrival), and it abandons if that
// is later than its patience. Abandoned callers never hold an agent, so this is exact.
struct SimulatedFigures {
  double service_level[2];  // estimate, half-width of a 99.9% batch-means interval
  double abandon[2];
  double asa_s[2];
  double wait_answered_s[2];
};

SimulatedFigures SimulateMmnM(double lambda, double aht_s, int n, double patience_s,
                              double target_s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto exp_draw = [&](double mean) {
    const double u = (static_cast<double>(rng() >> 11) + 0.5) * 0x1p-53;
    return -std::log(u) * mean;
  };
  constexpr int kWarmup = 20000, kBatches = 20, kPerBatch = 40000;
  std::vector<double> free_at(n, 0.0);
  std::vector<double> sl(kBatches), ab(kBatches), asa(kBatches), wa(kBatches), answered(kBatches);
  double now = 0;
  for (int i = 0; i < kWarmup + kBatches * kPerBatch; ++i) {
    now += exp_draw(1 / lambda);
    const double patience = exp_draw(patience_s), service = exp_draw(aht_s);
    auto first = std::min_element(free_at.begin(), free_at.end());
    const double wait = std::max(0.0, *first - now);
    const bool served = wait <= patience;
    if (served) *first = now + wait + service;
    if (i < kWarmup) continue;
    const int b = (i - kWarmup) / kPerBatch;
    sl[b] += served && wait <= target_s;
    ab[b] += !served;
    asa[b] += served ? wait : patience;
    if (served) {
      wa[b] += wait;
      answered[b] += 1;
    }
  }
  auto summarise = [&](std::vector<double> v, const std::vector<double>* per, double out[2]) {
    double mean = 0, sq = 0;
    for (int b = 0; b < kBatches; ++b) v[b] /= per ? (*per)[b] : kPerBatch;
    for (double x : v) mean += x / kBatches;
    for (double x : v) sq += (x - mean) * (x - mean) / (kBatches - 1);
    out[0] = mean;
    out[1] = 3.88 * std::sqrt(sq / kBatches);  // t(19) at 99.9% two-sided
  };
  SimulatedFigures f;
  summarise(sl, nullptr, f.service_level);
  summarise(ab, nullptr, f.abandon);
  summarise(asa, nullptr, f.asa_s);
  summarise(wa, &answered, f.wait_answered_s);
  return f;
}

TEST(ErlangA, AgreesWithASeededDiscreteEventSimulation) {
  struct Case {
    double volume;
    int agents;
    double patience_s;
  };
  const uint64_t seed = 20020501;
  for (const Case& c : {Case{47.5, 10, 120}, Case{60, 8, 60}}) {
    const double aht_s = 180, target_s = 20, lambda = c.volume / 900;
    auto exact = ErlangA(Calls(c.volume, 900, aht_s), c.patience_s, c.agents, target_s);
    ASSERT_TRUE(exact.ok());
    const SimulatedFigures sim =
        SimulateMmnM(lambda, aht_s, c.agents, c.patience_s, target_s, seed);
    std::cout << "seed " << seed << " a " << c.volume / 5 << " n " << c.agents << ": SL exact "
              << exact->service_level << " sim " << sim.service_level[0] << " +- "
              << sim.service_level[1] << "; abandon " << exact->abandon_probability << " sim "
              << sim.abandon[0] << "; ASA " << exact->asa_s << " sim " << sim.asa_s[0]
              << "; wait answered " << exact->mean_wait_answered_s << " sim "
              << sim.wait_answered_s[0] << "\n";
    EXPECT_NEAR(exact->service_level, sim.service_level[0], sim.service_level[1]);
    EXPECT_NEAR(exact->abandon_probability, sim.abandon[0], sim.abandon[1]);
    EXPECT_NEAR(exact->asa_s, sim.asa_s[0], sim.asa_s[1]);
    EXPECT_NEAR(exact->mean_wait_answered_s, sim.wait_answered_s[0], sim.wait_answered_s[1]);
  }
}

TEST(ErlangA, StaysFiniteWhenHeavilyOverloaded) {
  // 10,000 Erlangs on 5,000 agents with 2 minutes' patience: the queue weights pass 1e250 and are
  // rescaled. The fluid limit says about half the callers abandon.
  auto f = ErlangA(Calls(10000 * 900 / 300.0, 900, 300), 120, 5000, 20);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  EXPECT_NEAR(f->abandon_probability, 0.5, 0.01);
  EXPECT_GT(f->p_wait, 0.999);
  EXPECT_TRUE(std::isfinite(f->asa_s));
  EXPECT_NEAR(f->asa_s, f->abandon_probability * 120, 1e-6);
  EXPECT_GE(f->service_level, 0);
  EXPECT_LE(f->service_level, 1 - f->abandon_probability + 1e-12);
  // And the other extreme: many idle agents.
  auto idle = ErlangA(Calls(1, 900, 180), 60, 5000, 20);
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->p_wait, 0.0);
  EXPECT_EQ(idle->service_level, 1.0);
}

TEST(ErlangA, IsMonotoneInAgentsAtTenThousandErlangs) {
  const Traffic traffic = Calls(10000 * 900 / 300.0, 900, 300);
  double sl = -1, ab = 2;
  for (int n = 9900; n <= 10200; n += 20) {
    auto f = ErlangA(traffic, 180, n, 20);
    ASSERT_TRUE(f.ok()) << f.error().ToString();
    ASSERT_GE(f->service_level, sl);
    ASSERT_LE(f->abandon_probability, ab);
    sl = f->service_level;
    ab = f->abandon_probability;
  }
}

TEST(ErlangA, RefusesAChainBeyondTheStateLimit) {
  // Double the traffic of the agents with a patience of ~30 years: millions of queue states.
  auto f = ErlangA(Calls(200, 900, 180), 1e9, 20, 20);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().field, "patience_s");
  EXPECT_EQ(f.error().rule, "state_limit");
}

// Staffing solver.

TEST(Staffing, NamesStabilityWhenTheFirstStableCountMeetsTheTargets) {
  auto r = StaffErlangC(Calls(52.5, 900, 180), ServiceLevel(0.1, 60));  // 10.5 Erlangs
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->figures.agents, 11);
  EXPECT_EQ(r->binding, BindingConstraint::kStability);
  EXPECT_STREQ(BindingConstraintName(r->binding), "stability");
}

TEST(Staffing, NamesAsaWhenTheAverageSpeedOfAnswerBinds) {
  StaffingTargets t = ServiceLevel(0.5, 20);
  t.asa_s_max = 2;
  auto r = StaffErlangC(Calls(100, 1800, 180), t);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->binding, BindingConstraint::kAsa);
  EXPECT_LE(r->figures.asa_s, 2);
  auto fewer = ErlangC(Calls(100, 1800, 180), r->figures.agents - 1, 20);
  ASSERT_TRUE(fewer.ok());
  EXPECT_GT(fewer->asa_s, 2);
  EXPECT_GE(fewer->service_level, 0.5);
}

TEST(Staffing, NamesOccupancyWhenLargeQueuesWouldRunHot) {
  StaffingTargets t = ServiceLevel(0.8, 20);
  t.occupancy_max = 0.85;
  auto r = StaffErlangC(Calls(500, 900, 180), t);  // 100 Erlangs: 80/20 needs ~108, 85% needs 118
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->figures.agents, 118);
  EXPECT_EQ(r->binding, BindingConstraint::kOccupancy);
  EXPECT_STREQ(BindingConstraintName(r->binding), "occupancy");
}

TEST(Staffing, NamesAbandonmentUnderErlangA) {
  StaffingTargets t = ServiceLevel(0.5, 20);
  t.abandon_max = 0.01;
  auto r = StaffErlangA(Calls(100, 1800, 180), 120, t);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->binding, BindingConstraint::kAbandonment);
  EXPECT_LE(r->figures.abandon_probability, 0.01);
  auto fewer = ErlangA(Calls(100, 1800, 180), 120, r->figures.agents - 1, 20);
  ASSERT_TRUE(fewer.ok());
  EXPECT_GT(fewer->abandon_probability, 0.01);
}

TEST(Staffing, FindsTheFewestAgentsUnderErlangA) {
  for (double volume : {5.0, 100.0, 1000.0, 4000.0}) {
    const Traffic traffic = Calls(volume, 900, 300);
    auto r = StaffErlangA(traffic, 90, ServiceLevel(0.8, 20));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->binding, BindingConstraint::kServiceLevel);
    EXPECT_GE(r->figures.service_level, 0.8);
    auto fewer = ErlangA(traffic, 90, r->figures.agents - 1, 20);
    ASSERT_TRUE(fewer.ok());
    EXPECT_LT(fewer->service_level, 0.8);
    // Impatient callers leave the queue, so Erlang A never needs more agents than Erlang C.
    auto c = StaffErlangC(traffic, ServiceLevel(0.8, 20));
    ASSERT_TRUE(c.ok());
    EXPECT_LE(r->figures.agents, c->figures.agents);
  }
}

TEST(Staffing, NeedsNoAgentsWithoutTraffic) {
  auto r = StaffErlangC(Calls(0, 900, 180), ServiceLevel(0.8, 20));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->figures.agents, 0);
  EXPECT_EQ(r->scheduled_agents, 0);
  EXPECT_EQ(r->binding, BindingConstraint::kNone);
}

TEST(Staffing, SchedulesForShrinkageRoundingUpWithoutFloatingPointDrift) {
  EXPECT_EQ(ScheduledAgents(7, 0.3), 10);
  EXPECT_EQ(ScheduledAgents(14, 0.3), 20);
  EXPECT_EQ(ScheduledAgents(15, 0.3), 22);
  EXPECT_EQ(ScheduledAgents(0, 0.5), 0);
  EXPECT_EQ(ScheduledAgents(9, 0.1), 10);
}

TEST(Staffing, AnswersImpossibleTargetsWithTheRule) {
  auto full = StaffErlangC(Calls(100, 1800, 180), ServiceLevel(1.0, 0));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().field, "service_level");
  EXPECT_EQ(full.error().rule, "unattainable");
  auto huge = StaffErlangC(Calls(1e6, 900, 180), ServiceLevel(0.8, 20));  // 200,000 Erlangs
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().field, "agents");
  EXPECT_EQ(huge.error().rule, "agents_max");
  auto huge_a = StaffErlangA(Calls(1e6, 900, 180), 60, ServiceLevel(0.8, 20));
  ASSERT_FALSE(huge_a.ok());
  EXPECT_EQ(huge_a.error().rule, "agents_max");
}

TEST(Staffing, RejectsInvalidTargetsNamingTheField) {
  struct Case {
    StaffingTargets targets;
    const char* field;
    const char* rule;
  };
  StaffingTargets none;
  StaffingTargets abandon_c = ServiceLevel(0.8, 20);
  abandon_c.abandon_max = 0.05;
  StaffingTargets shrink = ServiceLevel(0.8, 20);
  shrink.shrinkage = 1;
  StaffingTargets occupancy = ServiceLevel(0.8, 20);
  occupancy.occupancy_max = 0;
  StaffingTargets asa = ServiceLevel(0.8, 20);
  asa.asa_s_max = 0;
  for (const Case& c :
       {Case{none, "targets", "required"}, Case{ServiceLevel(0, 20), "service_level", "range"},
        Case{ServiceLevel(0.8, -5), "target_answer_s", "non_negative"},
        Case{abandon_c, "abandon_max", "erlang_a_only"}, Case{shrink, "shrinkage", "range"},
        Case{occupancy, "occupancy_max", "range"}, Case{asa, "asa_s_max", "positive"}}) {
    auto r = StaffErlangC(Calls(100, 1800, 180), c.targets);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.error().field, c.field);
    EXPECT_EQ(r.error().rule, c.rule);
  }
}

TEST(Staffing, StaffsADayOfIntervalsAndLocatesABadOne) {
  std::vector<Traffic> day;
  for (int i = 0; i < 96; ++i) day.push_back(Calls(10.0 * i, 900, 240));
  auto r = StaffIntervals(day, ServiceLevel(0.8, 20), std::nullopt);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 96u);
  for (size_t i = 1; i < r->size(); ++i) {
    EXPECT_GE((*r)[i].figures.agents, (*r)[i - 1].figures.agents);
  }
  std::vector<Traffic> too_many(kStaffingIntervalsMax + 1, Calls(1, 900, 180));
  auto over = StaffIntervals(too_many, ServiceLevel(0.8, 20), std::nullopt);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().rule, "max");
  day[7].aht_s = 0;
  auto bad = StaffIntervals(day, ServiceLevel(0.8, 20), 120.0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "intervals[7].aht_s");
}

}  // namespace
}  // namespace opsbox::wfm
