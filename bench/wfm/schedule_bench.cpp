// Shift scheduling benchmark (issue #5, "Scheduling"): a realistic week solved by CBC.
//
// Week: 7 days x 96 fifteen-minute intervals, open 07:00-21:00. Requirement: the mean calls per
// hour of the North American bank in /work/shared/data/callcenter/README.md (07:00-20:00),
// interpolated to 15 minutes, scaled by 1/10 (a centre of about 35 agents at the peak), by the
// README's weekday means (Mon..Fri) and by assumed weekend factors (Sat 0.5, Sun 0.35); offered
// load a = calls * 300 s / 900 s, agents = ceil(a + sqrt(a)) (square-root staffing, beta = 1).
// Ten shift templates, starts every 30 minutes, 4 to 10 hours, paid 15-minute breaks and an
// unpaid 30-minute lunch in windows. Scenario "shift_counts" staffs anonymous shifts; "roster"
// assigns 60 named agents (some part-time with availability windows) with 5 of 7 days, two
// consecutive days off and 11 hours of rest.
//
//   wfm_schedule_bench --scenario shift_counts|roster [--time-limit-s N] [--lp-relaxation]
//                      [--write-lp FILE]
// Prints one JSON line: scenario, status, objective, best_bound, gap, solve_time_ms, nodes,
// columns, rows, integer_columns, shift_cost, under/over agent-intervals, required
// agent-intervals.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "wfm/schedule.hpp"

namespace {

using opsbox::wfm::ScheduleProblem;
using opsbox::wfm::ShiftTemplate;

constexpr int32_t kDays = 7;
constexpr int32_t kIntervalMin = 15;
constexpr int32_t kPerDay = 1440 / kIntervalMin;
constexpr double kAhtS = 300;
constexpr double kScale = 0.1;
// README: mean calls per hour by hour of day, 07..20.
constexpr double kCallsPerHour[] = {1013, 1923, 3218, 3394, 3281, 3109, 2984,
                                    2902, 2781, 2451, 1843, 1428, 1135, 929};
// README: mean calls per day Mon..Fri over their mean; weekend factors are assumptions.
constexpr double kDayCalls[] = {36423.6, 32668.3, 30797.8, 30770.3, 31973.8};
constexpr double kWeekend[] = {0.5, 0.35};

double CallsPer15Min(int32_t interval) {
  // Hour h's figure sits at its midpoint; linear in between, flat at the ends.
  const double hour = (interval + 0.5) * kIntervalMin / 60.0 - 0.5;
  const double x = std::clamp(hour - 7.0, 0.0, 13.0);
  const int32_t lo = static_cast<int32_t>(std::floor(x));
  const int32_t hi = std::min(lo + 1, 13);
  const double f = x - lo;
  return (kCallsPerHour[lo] * (1 - f) + kCallsPerHour[hi] * f) / 4.0;
}

std::vector<double> Requirement() {
  double mean = 0;
  for (double c : kDayCalls) mean += c / 5;
  std::vector<double> req;
  for (int32_t d = 0; d < kDays; ++d) {
    const double day = d < 5 ? kDayCalls[d] / mean : kWeekend[d - 5];
    for (int32_t i = 0; i < kPerDay; ++i) {
      const bool open = i >= 7 * 4 && i < 21 * 4;
      const double a = open ? CallsPer15Min(i) * kScale * day * kAhtS / 900.0 : 0;
      req.push_back(a > 0 ? std::ceil(a + std::sqrt(a)) : 0);
    }
  }
  return req;
}

ShiftTemplate Template(std::string id, int32_t first_h10, int32_t last_h10, int32_t length_min,
                       double per_hour, double per_shift) {
  ShiftTemplate t;
  t.id = std::move(id);
  t.earliest_start_min = first_h10 * 6;  // tenths of an hour -> minutes
  t.latest_start_min = last_h10 * 6;
  t.start_step_min = 30;
  t.length_min = length_min;
  t.cost_per_paid_hour = per_hour;
  t.cost_per_shift = per_shift;
  if (length_min >= 480) {
    t.breaks.push_back({"break1", 15, 90, 150, true});
    t.breaks.push_back({"lunch", 30, 210, 300, false});
    t.breaks.push_back({"break2", 15, length_min - 150, length_min - 90, true});
  } else if (length_min >= 360) {
    t.breaks.push_back({"break1", 15, 60, 120, true});
    t.breaks.push_back({"lunch", 30, 150, 210, false});
  } else {
    t.breaks.push_back({"break1", 15, 90, 150, true});
  }
  return t;
}

ScheduleProblem Week(bool roster) {
  ScheduleProblem p;
  p.days = kDays;
  p.interval_min = kIntervalMin;
  p.requirements.push_back({"default", Requirement()});
  // Full-time 8.5 h (8 paid), a 10.5 h (10 paid) long day, part-time 6 h and 4 h.
  p.templates = {Template("full_early", 70, 90, 510, 20, 0),
                 Template("full_mid", 95, 110, 510, 20, 0),
                 Template("full_late", 115, 125, 510, 20, 0),
                 Template("long_day", 70, 100, 630, 20, 0),
                 Template("part6_early", 70, 100, 360, 21, 5),
                 Template("part6_mid", 105, 130, 360, 21, 5),
                 Template("part6_late", 135, 150, 360, 21, 5),
                 Template("part4_morning", 70, 100, 240, 22, 10),
                 Template("part4_midday", 105, 140, 240, 22, 10),
                 Template("part4_evening", 145, 170, 240, 22, 10)};
  p.coverage.under_penalty = 40;  // 8x the cost of an agent's quarter-hour
  p.coverage.over_penalty = 1;
  if (!roster) return p;
  for (int32_t a = 0; a < 60; ++a) {
    opsbox::wfm::ScheduleAgent agent;
    agent.id = "agent" + std::to_string(a);
    if (a % 4 == 3) {  // part-timers: mornings or evenings only
      const bool mornings = a % 8 == 3;
      for (int32_t d = 0; d < kDays; ++d) {
        agent.availability.push_back({d, mornings ? 7 * 60 : 13 * 60, mornings ? 14 * 60 : 21 * 60});
      }
    }
    p.agents.push_back(agent);
  }
  p.rules.max_working_days_per_week = 5;
  p.rules.min_consecutive_days_off = 2;
  p.rules.min_rest_min = 11 * 60;
  return p;
}

int Usage() {
  std::cerr << "usage: wfm_schedule_bench --scenario shift_counts|roster [--time-limit-s N] "
               "[--lp-relaxation] [--write-lp FILE]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string scenario;
  std::string lp_path;
  opsbox::wfm::SolveOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--scenario" && i + 1 < argc) {
      scenario = argv[++i];
    } else if (arg == "--time-limit-s" && i + 1 < argc) {
      options.time_limit_s = std::atof(argv[++i]);
    } else if (arg == "--write-lp" && i + 1 < argc) {
      lp_path = argv[++i];
    } else if (arg == "--lp-relaxation") {
      options.lp_relaxation = true;
    } else {
      return Usage();
    }
  }
  if (scenario != "shift_counts" && scenario != "roster") return Usage();
  const ScheduleProblem problem = Week(scenario == "roster");
  if (!lp_path.empty()) {
    auto lp = opsbox::wfm::ScheduleModelLp(problem);
    if (!lp.ok()) {
      std::cerr << lp.error().ToString() << "\n";
      return 1;
    }
    std::ofstream(lp_path) << *lp;
  }
  auto s = opsbox::wfm::SolveSchedule(problem, options);
  if (!s.ok()) {
    std::cerr << s.error().ToString() << "\n";
    return 1;
  }
  double required = 0;
  for (double r : problem.requirements[0].agents_per_interval) required += r;
  const auto& r = s->solver;
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  std::cout << nlohmann::json{{"scenario", scenario},
                              {"lp_relaxation", options.lp_relaxation},
                              {"time_limit_s", options.time_limit_s},
                              {"status", opsbox::wfm::SolveStatusName(r.status)},
                              {"objective", number(r.objective)},
                              {"best_bound", number(r.best_bound)},
                              {"gap", number(r.gap)},
                              {"solve_time_ms", r.solve_time_ms},
                              {"nodes", r.nodes},
                              {"columns", r.columns},
                              {"rows", r.rows},
                              {"integer_columns", r.integer_columns},
                              {"shifts", s->shifts.size()},
                              {"shift_cost", s->shift_cost},
                              {"under_agent_intervals", s->under_agent_intervals},
                              {"over_agent_intervals", s->over_agent_intervals},
                              {"required_agent_intervals", required}}
                   .dump()
            << "\n";
  return 0;
}
