// Goal: the shift scheduler (schedule.hpp) finds PROVABLY optimal schedules on small cases whose
// optimum is known by hand, respects break windows, availability, days-off and rest rules,
// reports infeasibility (hard coverage) and under-coverage (soft coverage) honestly, returns a
// schedule with a gap when stopped early, and rejects bad problems naming the field and rule.
#include "wfm/schedule.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <set>

namespace opsbox::wfm {
namespace {

constexpr int32_t kHour = 60;
// One day of HardDays: small enough for a fast test, big enough not to finish at once.
constexpr uint32_t kHardDays = 1;

// One day of hourly intervals, requirement `values` from 08:00 on, zero elsewhere.
ScheduleProblem HourlyDay(const std::vector<double>& values) {
  ScheduleProblem p;
  p.days = 1;
  p.interval_min = 60;
  SkillRequirement req;
  req.agents_per_interval.assign(24, 0);
  for (size_t i = 0; i < values.size(); ++i) req.agents_per_interval[8 + i] = values[i];
  p.requirements.push_back(req);
  return p;
}

ShiftTemplate FourHourShift() {
  ShiftTemplate t;
  t.id = "four";
  t.earliest_start_min = 8 * kHour;
  t.latest_start_min = 12 * kHour;
  t.start_step_min = kHour;
  t.length_min = 4 * kHour;
  t.cost_per_shift = 10;
  return t;
}

SolveOptions Quick() {
  SolveOptions o;
  o.time_limit_s = 60;
  return o;
}

Schedule SolveOk(const ScheduleProblem& p, const SolveOptions& o = Quick()) {
  auto r = SolveSchedule(p, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? std::move(r).value() : Schedule{};
}

template <class T>
double CoverageAt(const Schedule& s, int32_t day, int32_t interval, T CoverageRow::*field) {
  for (const auto& row : s.coverage) {
    if (row.day == day && row.interval == interval) return row.*field;
  }
  ADD_FAILURE() << "no coverage row for day " << day << " interval " << interval;
  return -1;
}

TEST(Schedule, FindsTheKnownMinimalCostForAStaircaseRequirement) {
  // Requirement 1,1,1,1,2,2,2,2 from 08:00 with 4-hour shifts at 10 each: one shift at 08:00 and
  // two at 12:00 cover it exactly, so the optimum is 30 with no over- or under-coverage.
  ScheduleProblem p = HourlyDay({1, 1, 1, 1, 2, 2, 2, 2});
  p.templates.push_back(FourHourShift());
  const Schedule s = SolveOk(p);
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  EXPECT_TRUE(s.has_schedule);
  EXPECT_NEAR(s.solver.objective, 30, 1e-6);
  EXPECT_NEAR(s.shift_cost, 30, 1e-6);
  EXPECT_EQ(s.solver.gap, 0);
  EXPECT_EQ(s.under_agent_intervals, 0);
  EXPECT_EQ(s.over_agent_intervals, 0);
  ASSERT_EQ(s.shifts.size(), 2u);
  EXPECT_EQ(s.shifts[0].start_min, 8 * kHour);
  EXPECT_EQ(s.shifts[0].count, 1);
  EXPECT_EQ(s.shifts[1].start_min, 12 * kHour);
  EXPECT_EQ(s.shifts[1].count, 2);
  EXPECT_EQ(s.shifts[1].end_min, 16 * kHour);
  for (int32_t h = 8; h < 16; ++h) {
    EXPECT_EQ(CoverageAt(s, 0, h, &CoverageRow::required),
              CoverageAt(s, 0, h, &CoverageRow::scheduled));
  }
}

TEST(Schedule, CostsPaidHoursWithoutTheUnpaidLunch) {
  // An 8-hour shift with a 1-hour unpaid lunch costs 7 paid hours at 20 plus 5 per shift.
  ScheduleProblem p = HourlyDay({1, 1, 1, 1, 1, 1, 1, 1});
  ShiftTemplate t;
  t.id = "day";
  t.earliest_start_min = 8 * kHour;
  t.latest_start_min = 8 * kHour;
  t.start_step_min = kHour;
  t.length_min = 8 * kHour;
  t.cost_per_shift = 5;
  t.cost_per_paid_hour = 20;
  t.breaks.push_back({"lunch", kHour, 4 * kHour, 4 * kHour, false});
  p.templates.push_back(t);
  p.coverage.under_penalty = 1000;
  const Schedule s = SolveOk(p);
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  // Every shift lunches at 12:00 (a fixed window), so a second shift cannot fill that hour:
  // one shift, and the lunch hour stays short.
  ASSERT_EQ(s.shifts.size(), 1u);
  EXPECT_EQ(s.shifts[0].count, 1);
  EXPECT_NEAR(s.shifts[0].cost, 5 + 7 * 20, 1e-9);
  EXPECT_EQ(CoverageAt(s, 0, 12, &CoverageRow::under), 1);
  EXPECT_NEAR(s.solver.objective, 145 + 1000, 1e-6);
}

TEST(Schedule, PlacesLunchesInsideTheirWindowAndStaggersThemToKeepCoverage) {
  // Eight hours of 2 agents, 8-hour shifts from 08:00, a 1-hour lunch starting 3 or 4 hours in.
  // Three shifts cannot cover both lunch hours (one hour would have 1 agent); four can, lunches
  // split 2 at 11:00 and 2 at 12:00. Optimum: 4 * 100 + over 2 * 6 hours * 1 = 412.
  ScheduleProblem p = HourlyDay({2, 2, 2, 2, 2, 2, 2, 2});
  ShiftTemplate t;
  t.id = "day";
  t.earliest_start_min = 8 * kHour;
  t.latest_start_min = 8 * kHour;
  t.start_step_min = kHour;
  t.length_min = 8 * kHour;
  t.cost_per_shift = 100;
  t.breaks.push_back({"lunch", kHour, 3 * kHour, 4 * kHour, false});
  p.templates.push_back(t);
  p.coverage.under_penalty = 1000;
  p.coverage.over_penalty = 1;
  const Schedule s = SolveOk(p);
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  EXPECT_NEAR(s.solver.objective, 412, 1e-6);
  std::map<int32_t, int32_t> lunches;  // start -> shifts
  int32_t total = 0;
  for (const auto& shift : s.shifts) {
    ASSERT_EQ(shift.breaks.size(), 1u);
    const int32_t offset = shift.breaks[0].start_min - shift.start_min;
    EXPECT_GE(offset, 3 * kHour);
    EXPECT_LE(offset, 4 * kHour);
    EXPECT_FALSE(shift.breaks[0].paid);
    lunches[shift.breaks[0].start_min] += shift.count;
    total += shift.count;
  }
  EXPECT_EQ(total, 4);
  EXPECT_EQ(lunches[11 * kHour], 2);
  EXPECT_EQ(lunches[12 * kHour], 2);
  EXPECT_EQ(CoverageAt(s, 0, 11, &CoverageRow::scheduled), 2);
  EXPECT_EQ(CoverageAt(s, 0, 12, &CoverageRow::scheduled), 2);
  EXPECT_EQ(s.under_agent_intervals, 0);
}

TEST(Schedule, KeepsSeveralBreaksInTemplateOrder) {
  // 15-minute intervals; two paid 15-minute breaks and an unpaid 30-minute lunch in disjoint
  // windows. Every placed break must lie in its window, in order.
  ScheduleProblem p;
  p.days = 1;
  p.interval_min = 15;
  SkillRequirement req;
  req.agents_per_interval.assign(96, 0);
  for (int32_t i = 32; i < 64; ++i) req.agents_per_interval[i] = 3;
  p.requirements.push_back(req);
  ShiftTemplate t;
  t.id = "eight";
  t.earliest_start_min = 7 * kHour;
  t.latest_start_min = 9 * kHour;
  t.start_step_min = 30;
  t.length_min = 8 * kHour;
  t.cost_per_paid_hour = 10;
  t.breaks.push_back({"break1", 15, 90, 150, true});
  t.breaks.push_back({"lunch", 30, 180, 270, false});
  t.breaks.push_back({"break2", 15, 330, 390, true});
  p.templates.push_back(t);
  const Schedule s = SolveOk(p);
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  ASSERT_FALSE(s.shifts.empty());
  for (const auto& shift : s.shifts) {
    ASSERT_EQ(shift.breaks.size(), 3u);
    for (size_t b = 0; b < 3; ++b) {
      const int32_t offset = shift.breaks[b].start_min - shift.start_min;
      EXPECT_GE(offset, t.breaks[b].earliest_offset_min);
      EXPECT_LE(offset, t.breaks[b].latest_offset_min);
      if (b > 0) {
        EXPECT_LT(shift.breaks[b - 1].start_min, shift.breaks[b].start_min);
      }
    }
  }
}

TEST(Schedule, ReportsInfeasibleWhenHardCoverageCannotBeMet) {
  // Nobody may start before 08:00, but an agent is needed at 03:00.
  ScheduleProblem p = HourlyDay({1, 1, 1, 1});
  p.requirements[0].agents_per_interval[3] = 1;
  p.templates.push_back(FourHourShift());
  p.coverage.hard = true;
  const Schedule s = SolveOk(p);
  EXPECT_EQ(s.solver.status, SolveStatus::kInfeasible);
  EXPECT_FALSE(s.has_schedule);
  EXPECT_TRUE(s.shifts.empty());
}

TEST(Schedule, ReportsUnderCoverageWhenSoftCoverageCannotBeMet) {
  ScheduleProblem p = HourlyDay({1, 1, 1, 1});
  p.requirements[0].agents_per_interval[3] = 1;
  p.templates.push_back(FourHourShift());
  const Schedule s = SolveOk(p);
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  EXPECT_EQ(CoverageAt(s, 0, 3, &CoverageRow::under), 1);
  EXPECT_EQ(CoverageAt(s, 0, 3, &CoverageRow::scheduled), 0);
  EXPECT_EQ(s.under_agent_intervals, 1);
  EXPECT_NEAR(s.solver.objective, 10 + p.coverage.under_penalty, 1e-6);
}

TEST(Schedule, LeavesAShortfallWhenUnderCoverageIsCheaperThanAShift) {
  ScheduleProblem p = HourlyDay({1});
  p.templates.push_back(FourHourShift());
  p.coverage.under_penalty = 5;  // one hour short costs 5, a shift costs 10
  const Schedule s = SolveOk(p);
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  EXPECT_TRUE(s.shifts.empty());
  EXPECT_NEAR(s.solver.objective, 5, 1e-6);
}

TEST(Schedule, CapsShiftsPerDayWithMaxPerDay) {
  ScheduleProblem p = HourlyDay({3, 3, 3, 3});
  ShiftTemplate t = FourHourShift();
  t.max_per_day = 2;
  p.templates.push_back(t);
  const Schedule s = SolveOk(p);
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  int32_t total = 0;
  for (const auto& shift : s.shifts) total += shift.count;
  EXPECT_EQ(total, 2);
  EXPECT_EQ(s.under_agent_intervals, 4);
}

TEST(Schedule, ServesEachSkillGroupOnlyWithItsOwnTemplates) {
  ScheduleProblem p = HourlyDay({1, 1, 1, 1});
  SkillRequirement cards = p.requirements[0];
  cards.skill = "cards";
  p.requirements[0].skill = "loans";
  p.requirements.push_back(cards);
  ShiftTemplate loans = FourHourShift();
  loans.id = "loans4";
  loans.skill = "loans";
  ShiftTemplate card = FourHourShift();
  card.id = "cards4";
  card.skill = "cards";
  card.cost_per_shift = 7;
  p.templates = {loans, card};
  const Schedule s = SolveOk(p);
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  EXPECT_NEAR(s.solver.objective, 17, 1e-6);
  ASSERT_EQ(s.shifts.size(), 2u);
  EXPECT_EQ(s.under_agent_intervals, 0);
  EXPECT_EQ(s.coverage.size(), 48u);
}

ScheduleAgent Agent(std::string id, std::vector<AvailabilityWindow> windows = {}) {
  ScheduleAgent a;
  a.id = std::move(id);
  a.availability = std::move(windows);
  return a;
}

TEST(Roster, AssignsOnlyAgentsAvailableForTheWholeShift) {
  // Two agents needed 08:00-12:00; bob is available only from 12:00, so one hour-slot each
  // stays short and only ann works.
  ScheduleProblem p = HourlyDay({2, 2, 2, 2});
  p.templates.push_back(FourHourShift());
  p.agents.push_back(Agent("ann", {{0, 8 * kHour, 12 * kHour}}));
  p.agents.push_back(Agent("bob", {{0, 12 * kHour, 18 * kHour}}));
  const Schedule s = SolveOk(p);
  EXPECT_TRUE(s.roster);
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  ASSERT_EQ(s.shifts.size(), 1u);
  EXPECT_EQ(s.shifts[0].agent_id, "ann");
  EXPECT_EQ(s.shifts[0].start_min, 8 * kHour);
  EXPECT_EQ(s.under_agent_intervals, 4);
}

TEST(Roster, AssignsOnlyAgentsWithTheTemplateSkill) {
  ScheduleProblem p = HourlyDay({1, 1, 1, 1});
  p.requirements.push_back(p.requirements[0]);
  p.requirements[0].skill = "loans";
  p.requirements[1].skill = "cards";
  ShiftTemplate loans = FourHourShift();
  loans.id = "loans4";
  loans.skill = "loans";
  ShiftTemplate cards = FourHourShift();
  cards.id = "cards4";
  cards.skill = "cards";
  p.templates = {loans, cards};
  ScheduleAgent ann = Agent("ann");
  ann.skills = {"cards"};
  p.agents = {ann};
  const Schedule s = SolveOk(p);
  ASSERT_EQ(s.shifts.size(), 1u);
  EXPECT_EQ(s.shifts[0].template_id, "cards4");
  EXPECT_EQ(s.under_agent_intervals, 4);  // loans stays short
}

ScheduleProblem DailyWeek(int32_t agents) {
  ScheduleProblem p;
  p.days = 7;
  p.interval_min = 60;
  SkillRequirement req;
  req.agents_per_interval.assign(7 * 24, 0);
  for (int32_t d = 0; d < 7; ++d) {
    for (int32_t h = 9; h < 17; ++h) req.agents_per_interval[d * 24 + h] = 1;
  }
  p.requirements.push_back(req);
  ShiftTemplate t;
  t.id = "nine";
  t.earliest_start_min = 9 * kHour;
  t.latest_start_min = 9 * kHour;
  t.start_step_min = kHour;
  t.length_min = 8 * kHour;
  t.cost_per_shift = 10;
  p.templates.push_back(t);
  for (int32_t a = 0; a < agents; ++a) p.agents.push_back(Agent("agent" + std::to_string(a)));
  p.rules.max_working_days_per_week = 5;
  return p;
}

TEST(Roster, GivesEveryAgentAtMostFiveWorkingDaysAndOneShiftADay) {
  ScheduleProblem p = DailyWeek(2);
  const Schedule s = SolveOk(p);
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  std::map<std::string, std::set<int32_t>> days;
  for (const auto& shift : s.shifts) {
    EXPECT_TRUE(days[shift.agent_id].insert(shift.day).second) << "two shifts in a day";
  }
  for (const auto& [agent, worked] : days) EXPECT_LE(worked.size(), 5u) << agent;
  EXPECT_EQ(s.shifts.size(), 7u);
  EXPECT_EQ(s.under_agent_intervals, 0);
}

TEST(Roster, LeavesTwoDaysShortWhenOneAgentMayWorkFiveOfSeven) {
  const Schedule s = SolveOk(DailyWeek(1));
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  EXPECT_EQ(s.shifts.size(), 5u);
  EXPECT_EQ(s.under_agent_intervals, 2 * 8);
}

TEST(Roster, GivesTwoConsecutiveDaysOffWhenRequired) {
  ScheduleProblem p = DailyWeek(1);
  p.rules.min_consecutive_days_off = 2;
  // Make two non-adjacent days (1 and 4) the cheapest to leave short: without the rule, those
  // would be the days off; with it, the two days off must be adjacent.
  for (int32_t h = 9; h < 17; ++h) {
    p.requirements[0].agents_per_interval[1 * 24 + h] = 0.5;
    p.requirements[0].agents_per_interval[4 * 24 + h] = 0.5;
  }
  const Schedule s = SolveOk(p);
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  std::set<int32_t> worked;
  for (const auto& shift : s.shifts) worked.insert(shift.day);
  EXPECT_EQ(worked.size(), 5u);
  bool adjacent_pair_off = false;
  for (int32_t d = 0; d + 1 < 7; ++d) {
    adjacent_pair_off = adjacent_pair_off || (!worked.count(d) && !worked.count(d + 1));
  }
  EXPECT_TRUE(adjacent_pair_off);

  p.rules.min_consecutive_days_off = 0;
  const Schedule free = SolveOk(p);
  std::set<int32_t> free_worked;
  for (const auto& shift : free.shifts) free_worked.insert(shift.day);
  EXPECT_EQ(free_worked, (std::set<int32_t>{0, 2, 3, 5, 6}));
}

TEST(Roster, ForbidsALateShiftFollowedByAnEarlyOneWithoutTheMinimumRest) {
  ScheduleProblem p;
  p.days = 2;
  p.interval_min = 60;
  SkillRequirement req;
  req.agents_per_interval.assign(48, 0);
  for (int32_t h = 16; h < 24; ++h) req.agents_per_interval[h] = 1;       // day 0 late
  for (int32_t h = 6; h < 14; ++h) req.agents_per_interval[24 + h] = 1;   // day 1 early
  p.requirements.push_back(req);
  ShiftTemplate t;
  t.id = "eight";
  t.earliest_start_min = 6 * kHour;
  t.latest_start_min = 16 * kHour;
  t.start_step_min = 10 * kHour;  // 06:00 or 16:00
  t.length_min = 8 * kHour;
  t.cost_per_shift = 10;
  p.templates.push_back(t);
  p.agents.push_back(Agent("ann"));
  EXPECT_EQ(SolveOk(p).shifts.size(), 2u);  // 8 hours of rest is allowed without the rule
  p.rules.min_rest_min = 11 * kHour;
  const Schedule s = SolveOk(p);
  EXPECT_EQ(s.solver.status, SolveStatus::kOptimal);
  EXPECT_EQ(s.shifts.size(), 1u);
  EXPECT_EQ(s.under_agent_intervals, 8);
}

TEST(Roster, NeverOverlapsAShiftRunningPastMidnightWithTheNextDaysShift) {
  ScheduleProblem p;
  p.days = 2;
  p.interval_min = 60;
  SkillRequirement req;
  req.agents_per_interval.assign(48, 1);
  p.requirements.push_back(req);
  ShiftTemplate t;
  t.id = "twelve";
  t.earliest_start_min = 0;
  t.latest_start_min = 23 * kHour;
  t.start_step_min = kHour;
  t.length_min = 12 * kHour;
  t.cost_per_shift = 1;
  p.templates.push_back(t);
  p.agents.push_back(Agent("ann"));
  const Schedule s = SolveOk(p);
  ASSERT_EQ(s.shifts.size(), 2u);
  const auto& a = s.shifts[0];
  const auto& b = s.shifts[1];
  EXPECT_LE(a.day * 1440 + a.end_min, b.day * 1440 + b.start_min);
  EXPECT_EQ(s.under_agent_intervals, 48 - 24);
}

// Days of 15-minute intervals with many starts, staggered breaks and a fractional requirement:
// an integrality gap at the root, so a solver stopped early has a gap to report.
ScheduleProblem HardDays(int32_t days) {
  ScheduleProblem p;
  p.days = days;
  p.interval_min = 15;
  SkillRequirement req;
  for (int32_t d = 0; d < days; ++d) {
    for (int32_t i = 0; i < 96; ++i) {
      const bool open = i >= 28 && i < 84;
      req.agents_per_interval.push_back(open ? 3.3 + 2.7 * ((i * 7 + d * 3) % 11) / 10.0 : 0);
    }
  }
  p.requirements.push_back(req);
  for (int32_t len : {4, 6, 8}) {
    ShiftTemplate t;
    t.id = "len" + std::to_string(len);
    t.earliest_start_min = 7 * kHour;
    t.latest_start_min = 21 * kHour - len * kHour;
    t.start_step_min = 15;
    t.length_min = len * kHour;
    t.cost_per_paid_hour = 20 + len;
    t.breaks.push_back({"break1", 15, 60, 120, true});
    if (len >= 6) t.breaks.push_back({"lunch", 30, 150, 210, false});
    p.templates.push_back(t);
  }
  p.coverage.under_penalty = 40;
  p.coverage.over_penalty = 3;
  return p;
}

TEST(Schedule, StopsAtTheNodeLimitWithAFeasibleScheduleAndItsGap) {
  SolveOptions o;
  o.max_nodes = 0;
  const Schedule s = SolveOk(HardDays(kHardDays), o);
  ASSERT_TRUE(s.has_schedule) << SolveStatusName(s.solver.status);
  if (s.solver.status == SolveStatus::kOptimal) GTEST_SKIP() << "solved at the root node";
  EXPECT_EQ(s.solver.status, SolveStatus::kNodeLimitFeasible);
  EXPECT_GT(s.solver.gap, 0);
  EXPECT_LE(s.solver.best_bound, s.solver.objective);
  EXPECT_EQ(s.coverage.size(), kHardDays * 96u);
}

TEST(Schedule, ReturnsTheBestScheduleSoFarWhenTheTimeLimitExpires) {
  // The soft-coverage model starts from the empty schedule, so even a run stopped at once has a
  // schedule to return; its objective is at most the empty schedule's.
  SolveOptions o;
  o.time_limit_s = 0.001;
  const ScheduleProblem p = HardDays(kHardDays);
  const Schedule s = SolveOk(p, o);
  ASSERT_TRUE(s.has_schedule) << SolveStatusName(s.solver.status);
  EXPECT_TRUE(s.solver.status == SolveStatus::kTimeLimitFeasible ||
              s.solver.status == SolveStatus::kOptimal);
  if (s.solver.status == SolveStatus::kTimeLimitFeasible) {
    EXPECT_GE(s.solver.gap, 0);
  }
  double empty = 0;
  for (double r : p.requirements[0].agents_per_interval) empty += r * p.coverage.under_penalty;
  EXPECT_LE(s.solver.objective, empty + 1e-6);
  EXPECT_NEAR(s.shift_cost + p.coverage.under_penalty * s.under_agent_intervals +
                  p.coverage.over_penalty * s.over_agent_intervals,
              s.solver.objective, 1e-4 * std::max(1.0, s.solver.objective));
}

// The integration test's roster (tests/integration/test_security_limits.py): 14 days of
// 15-minute intervals, 40 agents, three templates with breaks and weekly rules. Its root LP
// alone ran for tens of seconds past a 5-second limit before the deadline reached Clp.
ScheduleProblem TwoWeekRoster() {
  ScheduleProblem p;
  p.days = 14;
  p.interval_min = 15;
  SkillRequirement req;
  req.skill = "default";
  for (int32_t d = 0; d < p.days; ++d) {
    for (int32_t k = 0; k < 96; ++k) {
      const bool open = k >= 28 && k < 88;
      req.agents_per_interval.push_back(open ? 12 + (7 * d + 3 * k) % 9 : 0);
    }
  }
  p.requirements.push_back(req);
  for (int32_t length : {360, 480, 540}) {
    ShiftTemplate t;
    t.id = "t" + std::to_string(length);
    t.skill = "default";
    t.earliest_start_min = 420;
    t.latest_start_min = 1320 - length;
    t.start_step_min = 15;
    t.length_min = length;
    t.cost_per_shift = 50;
    t.cost_per_paid_hour = 10 + length % 7;
    t.breaks.push_back({"b1", 15, 90, 150, true});
    t.breaks.push_back({"lunch", 30, 180, 240, false});
    p.templates.push_back(t);
  }
  for (int32_t a = 0; a < 40; ++a) p.agents.push_back({"a" + std::to_string(a), {}, {}});
  p.rules.max_working_days_per_week = 5;
  p.rules.min_consecutive_days_off = 2;
  p.rules.min_rest_min = 660;
  return p;
}

TEST(ScheduleDeadline, AnExpiredDeadlineReturnsTheStartingScheduleWithoutRunningCbc) {
  SolveOptions o;
  o.time_limit_s = 5;
  o.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  const Schedule s = SolveOk(TwoWeekRoster(), o);
  EXPECT_EQ(s.solver.status, SolveStatus::kTimeLimitFeasible);
  EXPECT_TRUE(s.solver.deadline_expired);
  EXPECT_EQ(s.solver.cbc_time_limit_s, 0);  // CBC was not started
  EXPECT_EQ(s.solver.nodes, 0);
  EXPECT_EQ(s.solver.solve_time_ms, 0);
  ASSERT_TRUE(s.has_schedule);
  EXPECT_TRUE(s.shifts.empty());  // the empty starting schedule: soft coverage, all short
  EXPECT_EQ(s.shift_cost, 0);
  EXPECT_GT(s.under_agent_intervals, 0);
  EXPECT_EQ(s.solver.best_bound, 0);  // costs are >= 0: the only bound proven without CBC
  EXPECT_GT(s.solver.columns, 60000);  // the model of the full problem was still built
}

TEST(ScheduleDeadline, AnExpiredDeadlineWithHardCoverageReportsNoSolution) {
  ScheduleProblem p = TwoWeekRoster();
  p.coverage.hard = true;
  SolveOptions o;
  o.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  const Schedule s = SolveOk(p, o);
  EXPECT_EQ(s.solver.status, SolveStatus::kLimitNoSolution);
  EXPECT_TRUE(s.solver.deadline_expired);
  EXPECT_EQ(s.solver.cbc_time_limit_s, 0);
  EXPECT_FALSE(s.has_schedule);
}

TEST(ScheduleDeadline, CbcGetsWhatRemainsOfTheDeadlineNotTheWholeLimitAgain) {
  // The deadline is 30 s away but the limit says 60: CBC is given at most the 30 s left.
  SolveOptions o;
  o.time_limit_s = 60;
  o.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  ScheduleProblem p = HourlyDay({1, 1, 2, 2, 1, 1});
  p.templates.push_back(FourHourShift());
  const Schedule s = SolveOk(p, o);
  EXPECT_GT(s.solver.cbc_time_limit_s, 0);
  EXPECT_LE(s.solver.cbc_time_limit_s, 30);
  EXPECT_FALSE(s.solver.deadline_expired);
}

TEST(Schedule, LpRelaxationBoundsTheIntegerOptimumFromBelow) {
  ScheduleProblem p = HourlyDay({1, 1, 1, 1, 2, 2, 2, 2});
  p.requirements[0].agents_per_interval[8] = 0.5;
  p.templates.push_back(FourHourShift());
  SolveOptions lp;
  lp.lp_relaxation = true;
  const Schedule relaxed = SolveOk(p, lp);
  const Schedule integer = SolveOk(p);
  EXPECT_EQ(relaxed.solver.status, SolveStatus::kOptimal);
  EXPECT_FALSE(relaxed.has_schedule);
  EXPECT_LE(relaxed.solver.objective, integer.solver.objective + 1e-6);
}

Error ValidationError(const ScheduleProblem& p) {
  auto r = SolveSchedule(p, Quick());
  EXPECT_FALSE(r.ok());
  return r.ok() ? Error{} : r.error();
}

TEST(ScheduleValidation, NamesTheFieldAndRuleOfEachBrokenRule) {
  ScheduleProblem base = HourlyDay({1, 1, 1, 1});
  base.templates.push_back(FourHourShift());
  {
    ScheduleProblem p = base;
    p.requirements[0].agents_per_interval.pop_back();
    const Error e = ValidationError(p);
    EXPECT_EQ(e.field, "requirements[0].agents_per_interval");
    EXPECT_EQ(e.rule, "length");
  }
  {
    ScheduleProblem p = base;
    p.requirements[0].agents_per_interval[9] = -1;
    const Error e = ValidationError(p);
    EXPECT_EQ(e.field, "requirements[0].agents_per_interval[9]");
    EXPECT_EQ(e.rule, "range");
  }
  {
    ScheduleProblem p = base;
    p.templates[0].length_min = 90;
    const Error e = ValidationError(p);
    EXPECT_EQ(e.field, "templates[0].length_min");
    EXPECT_EQ(e.rule, "interval_multiple");
  }
  {
    ScheduleProblem p = base;
    p.templates[0].skill = "mortgages";
    EXPECT_EQ(ValidationError(p).rule, "unknown_skill");
  }
  {
    ScheduleProblem p = base;
    p.templates[0].breaks.push_back({"a", 60, 0, 60, true});
    p.templates[0].breaks.push_back({"b", 60, 60, 120, true});
    const Error e = ValidationError(p);
    EXPECT_EQ(e.field, "templates[0].breaks[1].earliest_offset_min");
    EXPECT_EQ(e.rule, "ordered_disjoint");
  }
  {
    ScheduleProblem p = base;
    p.templates[0].breaks.push_back({"a", 60, 240, 240, true});
    EXPECT_EQ(ValidationError(p).rule, "within_shift");
  }
  {
    ScheduleProblem p = base;
    p.interval_min = 20;
    EXPECT_EQ(ValidationError(p).field, "interval_min");
  }
  {
    ScheduleProblem p = base;
    p.rules.max_working_days_per_week = 5;
    EXPECT_EQ(ValidationError(p).rule, "roster_only");
  }
  {
    ScheduleProblem p = base;
    p.agents.push_back(Agent("ann", {{0, 600, 500}}));
    const Error e = ValidationError(p);
    EXPECT_EQ(e.field, "agents[0].availability[0].to_min");
    EXPECT_EQ(e.rule, "order");
  }
  {
    SolveOptions o;
    o.time_limit_s = 0;
    auto r = SolveSchedule(base, o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().field, "time_limit_s");
  }
}

TEST(ScheduleValidation, RejectsAModelAboveTheColumnLimit) {
  ScheduleProblem p;
  p.days = kScheduleDaysMax;
  p.interval_min = 15;
  p.requirements.push_back({"default", std::vector<double>(kScheduleDaysMax * 96, 1)});
  ShiftTemplate t = FourHourShift();
  t.earliest_start_min = 0;
  t.latest_start_min = 1425;
  t.start_step_min = 15;
  t.length_min = 8 * kHour;
  p.templates.push_back(t);
  for (int32_t a = 0; a < kScheduleAgentsMax; ++a) p.agents.push_back(Agent("a" + std::to_string(a)));
  const Error e = ValidationError(p);
  EXPECT_EQ(e.rule, "model_size_max");
}

TEST(ScheduleJson, ParsesAProblemFileAndSolvesIt) {
  std::vector<double> req(24, 0);
  for (int32_t h = 8; h < 16; ++h) req[h] = h < 12 ? 1 : 2;
  const Json j = {
      {"days", 1},
      {"interval_min", 60},
      {"requirements", {{{"skill", "default"}, {"agents_per_interval", req}}}},
      {"templates",
       {{{"id", "four"},
         {"earliest_start_min", 480},
         {"latest_start_min", 720},
         {"length_min", 240},
         {"cost_per_shift", 10}}}},
      {"coverage", {{"under_penalty", 500}, {"over_penalty", 1}}}};
  auto p = ParseScheduleProblem(j);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->templates[0].start_step_min, 60);  // defaults to the interval
  auto s = SolveSchedule(*p, Quick());
  ASSERT_TRUE(s.ok());
  const Json out = ScheduleToJson(*s, *p);
  EXPECT_EQ(out["solver"]["status"], "optimal");
  EXPECT_EQ(out["mode"], "shift_counts");
  EXPECT_DOUBLE_EQ(out["solver"]["objective"].get<double>(), 30);
  EXPECT_EQ(out["shifts"].size(), 2u);
  EXPECT_EQ(out["coverage"].size(), 24u);
  EXPECT_EQ(out["coverage"][12]["start_min"], 720);
}

TEST(ScheduleJson, RejectsUnknownKeysMissingFieldsAndWrongTypes) {
  const Json base = {{"days", 1},
                     {"interval_min", 60},
                     {"requirements", {{{"agents_per_interval", std::vector<double>(24, 0)}}}},
                     {"templates", {{{"id", "t"}, {"earliest_start_min", 0}, {"length_min", 60}}}}};
  ASSERT_TRUE(ParseScheduleProblem(base).ok());
  Json j = base;
  j["templates"][0]["colour"] = "red";
  auto r = ParseScheduleProblem(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "templates[0].colour");
  EXPECT_EQ(r.error().rule, "unknown_field");
  j = base;
  j["templates"][0].erase("length_min");
  r = ParseScheduleProblem(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "templates[0].length_min");
  EXPECT_EQ(r.error().rule, "required");
  j = base;
  j["days"] = "seven";
  r = ParseScheduleProblem(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "days");
  EXPECT_EQ(r.error().rule, "type");
  j = base;
  j["agents"] = {{{"id", "ann"}, {"availability", {{{"day", 3}, {"from_min", 0}, {"to_min", 60}}}}}};
  r = ParseScheduleProblem(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "agents[0].availability[0].day");
  EXPECT_EQ(r.error().rule, "range");
}

TEST(ScheduleLp, WritesTheModelInCplexLpFormat) {
  ScheduleProblem p = HourlyDay({1, 1, 1, 1});
  ShiftTemplate t = FourHourShift();
  t.breaks.push_back({"b", 60, 60, 120, true});
  p.templates.push_back(t);
  auto lp = ScheduleModelLp(p);
  ASSERT_TRUE(lp.ok());
  EXPECT_NE(lp->find("Minimize"), std::string::npos);
  EXPECT_NE(lp->find("Subject To"), std::string::npos);
  EXPECT_NE(lp->find("General"), std::string::npos);
  EXPECT_NE(lp->find("x_d0_t0_s480"), std::string::npos);
  EXPECT_NE(lp->find("brk_d0_t0_s480_b0: - x_d0_t0_s480 + y_d0_t0_s480_b0_o60"),
            std::string::npos);
  EXPECT_NE(lp->find("End"), std::string::npos);
}

}  // namespace
}  // namespace opsbox::wfm
