#include "wfm/schedule.hpp"

#include <CbcModel.hpp>
#include <CbcSolver.hpp>
#include <ClpEventHandler.hpp>
#include <ClpSimplex.hpp>
#include <OsiClpSolverInterface.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/assert.hpp"

namespace opsbox::wfm {
namespace {

constexpr int32_t kMinutesPerDay = 1440;
constexpr int32_t kDaysPerWeek = 7;
// CBC's infinity (COIN_DBL_MAX); the LP writer treats anything this large as unbounded.
constexpr double kInfinity = std::numeric_limits<double>::max();

// ---------------------------------------------------------------------------------------------
// Validation

Error Invalid(const std::string& field, const char* rule, const std::string& message) {
  return Error::Invalid(field, rule, field + ": " + message);
}

std::string Item(std::string_view array, size_t index) {
  return std::string(array) + "[" + std::to_string(index) + "]";
}

bool Finite(double v) { return std::isfinite(v); }

// Shortest round-trip decimal: 86400, not 86400.000000.
std::string Number(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  OPSBOX_ASSERT(ec == std::errc());
  return std::string(buf, end);
}

Status CheckRange(const std::string& field, double value, double lo, double hi) {
  if (!Finite(value) || value < lo || value > hi) {
    return Invalid(field, "range", "must be between " + Number(lo) + " and " + Number(hi));
  }
  return Ok();
}

Status CheckMultiple(const std::string& field, int32_t minutes, int32_t interval_min) {
  if (minutes % interval_min != 0) {
    return Invalid(field, "interval_multiple",
                   "must be a multiple of interval_min (" + std::to_string(interval_min) + ")");
  }
  return Ok();
}

Status CheckId(const std::string& field, const std::string& id, std::set<std::string>& seen) {
  if (id.empty()) return Invalid(field, "required", "must not be empty");
  if (id.size() > kScheduleIdBytesMax) {
    return Invalid(field, "max_bytes",
                   "is longer than " + std::to_string(kScheduleIdBytesMax) + " bytes");
  }
  if (!seen.insert(id).second) return Invalid(field, "unique", "\"" + id + "\" appears twice");
  return Ok();
}

Status ValidateRequirements(const ScheduleProblem& p, std::set<std::string>& skills) {
  if (p.requirements.empty()) {
    return Invalid("requirements", "required", "needs at least one skill group");
  }
  if (p.requirements.size() > static_cast<size_t>(kScheduleSkillGroupsMax)) {
    return Invalid("requirements", "max_items",
                   "at most " + std::to_string(kScheduleSkillGroupsMax) + " skill groups");
  }
  const size_t intervals = static_cast<size_t>(p.days) * (kMinutesPerDay / p.interval_min);
  for (size_t r = 0; r < p.requirements.size(); ++r) {
    const auto& req = p.requirements[r];
    const std::string path = Item("requirements", r);
    OPSBOX_TRY(CheckId(path + ".skill", req.skill, skills));
    if (req.agents_per_interval.size() != intervals) {
      return Invalid(path + ".agents_per_interval", "length",
                     "needs days * 1440 / interval_min = " + std::to_string(intervals) +
                         " values, got " + std::to_string(req.agents_per_interval.size()));
    }
    for (size_t i = 0; i < intervals; ++i) {
      OPSBOX_TRY(CheckRange(Item(path + ".agents_per_interval", i), req.agents_per_interval[i],
                            0, kScheduleRequirementMax));
    }
  }
  return Ok();
}

Status ValidateBreaks(const ShiftTemplate& t, const std::string& path, int32_t interval_min) {
  if (t.breaks.size() > static_cast<size_t>(kScheduleBreaksPerTemplateMax)) {
    return Invalid(path + ".breaks", "max_items",
                   "at most " + std::to_string(kScheduleBreaksPerTemplateMax) + " breaks");
  }
  std::set<std::string> names;
  for (size_t b = 0; b < t.breaks.size(); ++b) {
    const auto& br = t.breaks[b];
    const std::string bp = Item(path + ".breaks", b);
    OPSBOX_TRY(CheckId(bp + ".name", br.name, names));
    OPSBOX_TRY(CheckRange(bp + ".length_min", br.length_min, 1, t.length_min));
    OPSBOX_TRY(CheckMultiple(bp + ".length_min", br.length_min, interval_min));
    OPSBOX_TRY(CheckRange(bp + ".earliest_offset_min", br.earliest_offset_min, 0, t.length_min));
    OPSBOX_TRY(CheckMultiple(bp + ".earliest_offset_min", br.earliest_offset_min, interval_min));
    if (br.latest_offset_min < br.earliest_offset_min) {
      return Invalid(bp + ".latest_offset_min", "order", "must not be before earliest_offset_min");
    }
    OPSBOX_TRY(CheckMultiple(bp + ".latest_offset_min", br.latest_offset_min, interval_min));
    if (br.latest_offset_min + br.length_min > t.length_min) {
      return Invalid(bp + ".latest_offset_min", "within_shift",
                     "the break must end within the shift (latest_offset_min + length_min <= "
                     "length_min of the template)");
    }
    if (b > 0) {
      const auto& prev = t.breaks[b - 1];
      if (prev.latest_offset_min + prev.length_min > br.earliest_offset_min) {
        return Invalid(bp + ".earliest_offset_min", "ordered_disjoint",
                       "break windows must be ordered and disjoint: the previous break can end "
                       "after this one can start");
      }
    }
  }
  return Ok();
}

Status ValidateTemplateTimes(const ShiftTemplate& t, const std::string& path, int32_t interval) {
  OPSBOX_TRY(CheckRange(path + ".earliest_start_min", t.earliest_start_min, 0,
                        kMinutesPerDay - 1));
  OPSBOX_TRY(CheckMultiple(path + ".earliest_start_min", t.earliest_start_min, interval));
  OPSBOX_TRY(CheckRange(path + ".latest_start_min", t.latest_start_min, 0, kMinutesPerDay - 1));
  OPSBOX_TRY(CheckMultiple(path + ".latest_start_min", t.latest_start_min, interval));
  if (t.latest_start_min < t.earliest_start_min) {
    return Invalid(path + ".latest_start_min", "order", "must not be before earliest_start_min");
  }
  OPSBOX_TRY(CheckRange(path + ".start_step_min", t.start_step_min, 1, kMinutesPerDay));
  OPSBOX_TRY(CheckMultiple(path + ".start_step_min", t.start_step_min, interval));
  OPSBOX_TRY(CheckRange(path + ".length_min", t.length_min, 1, kScheduleShiftLengthMaxMin));
  OPSBOX_TRY(CheckMultiple(path + ".length_min", t.length_min, interval));
  return Ok();
}

Status ValidateTemplates(const ScheduleProblem& p, const std::set<std::string>& skills) {
  if (p.templates.empty()) return Invalid("templates", "required", "needs at least one template");
  if (p.templates.size() > static_cast<size_t>(kScheduleTemplatesMax)) {
    return Invalid("templates", "max_items",
                   "at most " + std::to_string(kScheduleTemplatesMax) + " templates");
  }
  std::set<std::string> ids;
  for (size_t i = 0; i < p.templates.size(); ++i) {
    const auto& t = p.templates[i];
    const std::string path = Item("templates", i);
    OPSBOX_TRY(CheckId(path + ".id", t.id, ids));
    if (skills.count(t.skill) == 0) {
      return Invalid(path + ".skill", "unknown_skill",
                     "\"" + t.skill + "\" has no entry in requirements");
    }
    OPSBOX_TRY(ValidateTemplateTimes(t, path, p.interval_min));
    OPSBOX_TRY(CheckRange(path + ".cost_per_shift", t.cost_per_shift, 0, kScheduleCostMax));
    OPSBOX_TRY(
        CheckRange(path + ".cost_per_paid_hour", t.cost_per_paid_hour, 0, kScheduleCostMax));
    std::set<int32_t> days;
    for (size_t d = 0; d < t.days.size(); ++d) {
      OPSBOX_TRY(CheckRange(Item(path + ".days", d), t.days[d], 0, p.days - 1));
      if (!days.insert(t.days[d]).second) {
        return Invalid(Item(path + ".days", d), "unique", "day listed twice");
      }
    }
    OPSBOX_TRY(CheckRange(path + ".max_per_day", t.max_per_day, -1, INT32_MAX));
    OPSBOX_TRY(ValidateBreaks(t, path, p.interval_min));
  }
  return Ok();
}

Status ValidateAgent(const ScheduleProblem& p, const ScheduleAgent& a, const std::string& path,
                     const std::set<std::string>& skills) {
  for (size_t s = 0; s < a.skills.size(); ++s) {
    if (skills.count(a.skills[s]) == 0) {
      return Invalid(Item(path + ".skills", s), "unknown_skill",
                     "\"" + a.skills[s] + "\" has no entry in requirements");
    }
  }
  if (a.availability.size() > static_cast<size_t>(kScheduleWindowsPerAgentMax)) {
    return Invalid(path + ".availability", "max_items",
                   "at most " + std::to_string(kScheduleWindowsPerAgentMax) + " windows");
  }
  for (size_t w = 0; w < a.availability.size(); ++w) {
    const auto& win = a.availability[w];
    const std::string wp = Item(path + ".availability", w);
    OPSBOX_TRY(CheckRange(wp + ".day", win.day, 0, p.days - 1));
    OPSBOX_TRY(CheckRange(wp + ".from_min", win.from_min, 0, kMinutesPerDay - 1));
    OPSBOX_TRY(CheckRange(wp + ".to_min", win.to_min, 1, 2 * kMinutesPerDay));
    if (win.to_min <= win.from_min) {
      return Invalid(wp + ".to_min", "order", "must be after from_min");
    }
  }
  return Ok();
}

Status ValidateRules(const ScheduleProblem& p) {
  const RosterRules& r = p.rules;
  OPSBOX_TRY(CheckRange("rules.max_working_days_per_week", r.max_working_days_per_week, 0,
                        kDaysPerWeek));
  OPSBOX_TRY(CheckRange("rules.min_consecutive_days_off", r.min_consecutive_days_off, 0,
                        kDaysPerWeek));
  OPSBOX_TRY(CheckRange("rules.min_rest_min", r.min_rest_min, 0, kMinutesPerDay));
  OPSBOX_TRY(CheckRange("rules.max_paid_min_per_week", r.max_paid_min_per_week, -1, INT32_MAX));
  const RosterRules defaults;
  const bool has_rules = r.max_working_days_per_week != defaults.max_working_days_per_week ||
                         r.min_consecutive_days_off != defaults.min_consecutive_days_off ||
                         r.min_rest_min != defaults.min_rest_min ||
                         r.max_paid_min_per_week != defaults.max_paid_min_per_week;
  if (has_rules && p.agents.empty()) {
    return Invalid("rules", "roster_only",
                   "days-off and rest rules apply to named agents; list agents or drop rules");
  }
  return Ok();
}

// ---------------------------------------------------------------------------------------------
// The MIP, in a solver-neutral form (rows kept sparse by row while building).

struct Term {
  int32_t col;
  double coef;
};

struct Mip {
  std::vector<std::string> col_name;
  std::vector<double> col_lb, col_ub, obj, start;
  std::vector<char> integer;
  std::vector<std::string> row_name;
  std::vector<double> row_lb, row_ub;
  std::vector<std::vector<Term>> rows;
  bool has_start = false;

  int32_t AddCol(std::string name, double lb, double ub, double cost, bool is_int) {
    col_name.push_back(std::move(name));
    col_lb.push_back(lb);
    col_ub.push_back(ub);
    obj.push_back(cost);
    start.push_back(0);
    integer.push_back(is_int ? 1 : 0);
    return static_cast<int32_t>(col_name.size() - 1);
  }
  int32_t AddRow(std::string name, double lb, double ub) {
    row_name.push_back(std::move(name));
    row_lb.push_back(lb);
    row_ub.push_back(ub);
    rows.emplace_back();
    return static_cast<int32_t>(rows.size() - 1);
  }
  void Set(int32_t row, int32_t col, double coef) { rows[row].push_back({col, coef}); }
};

// One possible shift start: a (day, template, start minute) with its variables.
struct BreakSlots {
  std::vector<int32_t> offsets_min;
  std::vector<int32_t> cols;
};

struct Start {
  int32_t day = 0;
  int32_t tmpl = 0;
  int32_t start_min = 0;
  int32_t paid_min = 0;
  double cost = 0;
  int32_t count_col = -1;
  std::vector<BreakSlots> breaks;
  std::vector<std::pair<int32_t, int32_t>> assign;  // (agent index, column), roster mode
};

struct AgentShift {
  int32_t start = 0;  // index into starts
  int32_t col = 0;
};

struct Model {
  Mip mip;
  std::vector<Start> starts;
  int32_t intervals = 0;       // global intervals in the horizon
  int32_t per_day = 0;         // intervals per day
  std::vector<int32_t> group_of_template;
};

int32_t PaidMinutes(const ShiftTemplate& t) {
  int32_t paid = t.length_min;
  for (const auto& b : t.breaks) {
    if (!b.paid) paid -= b.length_min;
  }
  return paid;
}

bool TemplateOnDay(const ShiftTemplate& t, int32_t day) {
  return t.days.empty() || std::find(t.days.begin(), t.days.end(), day) != t.days.end();
}

bool AgentCanWork(const ScheduleAgent& a, const ShiftTemplate& t, int32_t day, int32_t start_min) {
  if (!a.skills.empty() && std::find(a.skills.begin(), a.skills.end(), t.skill) == a.skills.end()) {
    return false;
  }
  if (a.availability.empty()) return true;
  const int32_t end_min = start_min + t.length_min;
  for (const auto& w : a.availability) {
    if (w.day == day && w.from_min <= start_min && end_min <= w.to_min) return true;
  }
  return false;
}

// Concatenation by append: GCC 12 at -O3 reports a false -Wrestrict on "literal" + std::string.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out.append(part);
  return out;
}

std::string StartKey(const Start& s) {
  return "d" + std::to_string(s.day) + "_t" + std::to_string(s.tmpl) + "_s" +
         std::to_string(s.start_min);
}

int32_t ConsecutiveOffCols(const ScheduleProblem& p) {
  const int32_t m = p.rules.min_consecutive_days_off;
  if (m == 0) return 0;
  return (p.days / kDaysPerWeek) * (kDaysPerWeek - m + 1);
}

Error ModelTooLarge() {
  return Error::Invalid("", "model_size_max",
                        "the model would have more than " + std::to_string(kScheduleColumnsMax) +
                            " columns; coarsen start steps, break windows or the horizon, or "
                            "roster fewer agents");
}

// Every (day, template, start) a shift may take; in roster mode only those some agent can work.
// Counts columns as it goes and stops once the model would exceed kScheduleColumnsMax.
Result<std::vector<Start>> EnumerateStarts(const ScheduleProblem& p, int32_t intervals) {
  int64_t cols = 2LL * static_cast<int64_t>(p.requirements.size()) * intervals +
                 static_cast<int64_t>(p.agents.size()) * ConsecutiveOffCols(p);
  std::vector<Start> starts;
  for (int32_t day = 0; day < p.days; ++day) {
    for (size_t ti = 0; ti < p.templates.size(); ++ti) {
      const ShiftTemplate& t = p.templates[ti];
      if (!TemplateOnDay(t, day)) continue;
      for (int32_t s = t.earliest_start_min; s <= t.latest_start_min; s += t.start_step_min) {
        Start st;
        st.day = day;
        st.tmpl = static_cast<int32_t>(ti);
        st.start_min = s;
        st.paid_min = PaidMinutes(t);
        st.cost = t.cost_per_shift + t.cost_per_paid_hour * st.paid_min / 60.0;
        for (size_t a = 0; a < p.agents.size(); ++a) {
          if (AgentCanWork(p.agents[a], t, day, s)) st.assign.push_back({int32_t(a), -1});
        }
        if (!p.agents.empty() && st.assign.empty()) continue;
        cols += 1 + static_cast<int64_t>(st.assign.size());
        for (const auto& b : t.breaks) {
          BreakSlots slots;
          for (int32_t o = b.earliest_offset_min; o <= b.latest_offset_min; o += p.interval_min) {
            slots.offsets_min.push_back(o);
          }
          cols += static_cast<int64_t>(slots.offsets_min.size());
          st.breaks.push_back(std::move(slots));
        }
        if (cols > kScheduleColumnsMax) return ModelTooLarge();
        starts.push_back(std::move(st));
      }
    }
  }
  if (cols > kScheduleColumnsMax) return ModelTooLarge();
  return starts;
}

// Shift counts, break placements and their link rows; coverage rows get their terms later.
void AddShiftColumns(const ScheduleProblem& p, Model& m) {
  for (Start& s : m.starts) {
    const std::string key = StartKey(s);
    double ub = kInfinity;
    if (!p.agents.empty()) ub = static_cast<double>(s.assign.size());
    s.count_col = m.mip.AddCol("x_" + key, 0, ub, s.cost, true);
    for (size_t b = 0; b < s.breaks.size(); ++b) {
      BreakSlots& slots = s.breaks[b];
      const int32_t row = m.mip.AddRow("brk_" + key + "_b" + std::to_string(b), 0, 0);
      m.mip.Set(row, s.count_col, -1);
      for (int32_t o : slots.offsets_min) {
        const int32_t col = m.mip.AddCol("y_" + key + "_b" + std::to_string(b) + "_o" +
                                             std::to_string(o),
                                         0, ub, 0, true);
        slots.cols.push_back(col);
        m.mip.Set(row, col, 1);
      }
    }
  }
}

void AddCoverage(const ScheduleProblem& p, Model& m) {
  const int32_t T = m.intervals;
  const int32_t first_row = static_cast<int32_t>(m.mip.rows.size());
  for (size_t g = 0; g < p.requirements.size(); ++g) {
    for (int32_t i = 0; i < T; ++i) {
      const double req = p.requirements[g].agents_per_interval[i];
      const std::string key = Cat({"g", std::to_string(g), "_i", std::to_string(i)});
      const int32_t row = m.mip.AddRow(Cat({"cov_", key}), req, req);
      const int32_t under = m.mip.AddCol(Cat({"under_", key}), 0,
                                         p.coverage.hard ? 0 : kInfinity,
                                         p.coverage.under_penalty, false);
      const int32_t over = m.mip.AddCol(Cat({"over_", key}), 0, kInfinity,
                                        p.coverage.over_penalty, false);
      m.mip.Set(row, under, 1);
      m.mip.Set(row, over, -1);
      m.mip.start[under] = req;
    }
  }
  const int32_t step = p.interval_min;
  for (const Start& s : m.starts) {
    const ShiftTemplate& t = p.templates[s.tmpl];
    const int32_t base = first_row + m.group_of_template[s.tmpl] * T + s.day * m.per_day;
    const int32_t from = s.start_min / step;
    for (int32_t k = from; k < from + t.length_min / step && s.day * m.per_day + k < T; ++k) {
      m.mip.Set(base + k, s.count_col, 1);
    }
    for (size_t b = 0; b < s.breaks.size(); ++b) {
      const int32_t len = t.breaks[b].length_min / step;
      for (size_t o = 0; o < s.breaks[b].offsets_min.size(); ++o) {
        const int32_t bfrom = from + s.breaks[b].offsets_min[o] / step;
        for (int32_t k = bfrom; k < bfrom + len && s.day * m.per_day + k < T; ++k) {
          m.mip.Set(base + k, s.breaks[b].cols[o], -1);
        }
      }
    }
  }
}

void AddDailyLimits(const ScheduleProblem& p, Model& m) {
  std::map<std::pair<int32_t, int32_t>, int32_t> row_of;  // (day, template) -> row
  for (const Start& s : m.starts) {
    const int32_t limit = p.templates[s.tmpl].max_per_day;
    if (limit < 0) continue;
    auto [it, added] = row_of.try_emplace({s.day, s.tmpl}, -1);
    if (added) {
      it->second = m.mip.AddRow("maxday_d" + std::to_string(s.day) + "_t" +
                                    std::to_string(s.tmpl),
                                -kInfinity, limit);
    }
    m.mip.Set(it->second, s.count_col, 1);
  }
}

// Roster mode: one binary per (agent, start), linked to the start's count.
std::vector<std::vector<std::vector<AgentShift>>> AddAssignments(const ScheduleProblem& p,
                                                                 Model& m) {
  std::vector<std::vector<std::vector<AgentShift>>> by_agent_day(
      p.agents.size(), std::vector<std::vector<AgentShift>>(p.days));
  for (size_t si = 0; si < m.starts.size(); ++si) {
    Start& s = m.starts[si];
    const int32_t link = m.mip.AddRow("link_" + StartKey(s), 0, 0);
    m.mip.Set(link, s.count_col, -1);
    for (auto& [agent, col] : s.assign) {
      col = m.mip.AddCol("z_a" + std::to_string(agent) + "_" + StartKey(s), 0, 1, 0, true);
      m.mip.Set(link, col, 1);
      by_agent_day[agent][s.day].push_back({static_cast<int32_t>(si), col});
    }
  }
  return by_agent_day;
}

// At most one shift a day; with min_consecutive_days_off, a chosen block of days off per full
// week whose indicator shares the day rows (tighter than one row per block and day).
void AddDayRows(const ScheduleProblem& p, Model& m, size_t a,
                const std::vector<std::vector<AgentShift>>& days) {
  const std::string agent = "a" + std::to_string(a);
  std::vector<int32_t> day_row(p.days, -1);
  for (int32_t d = 0; d < p.days; ++d) {
    day_row[d] = m.mip.AddRow("day_" + agent + "_d" + std::to_string(d), -kInfinity, 1);
    for (const AgentShift& z : days[d]) m.mip.Set(day_row[d], z.col, 1);
  }
  const int32_t off = p.rules.min_consecutive_days_off;
  if (off == 0) return;
  for (int32_t w = 0; w + 1 <= p.days / kDaysPerWeek; ++w) {
    const std::string wk = agent + "_w" + std::to_string(w);
    const int32_t pick = m.mip.AddRow("off_" + wk, 1, kInfinity);
    for (int32_t k = 0; k + off <= kDaysPerWeek; ++k) {
      const int32_t col = m.mip.AddCol("o_" + wk + "_k" + std::to_string(k), 0, 1, 0, true);
      if (k == 0) m.mip.start[col] = 1;
      m.mip.Set(pick, col, 1);
      for (int32_t d = k; d < k + off; ++d) m.mip.Set(day_row[w * kDaysPerWeek + d], col, 1);
    }
  }
}

void AddWeekRows(const ScheduleProblem& p, Model& m, size_t a,
                 const std::vector<std::vector<AgentShift>>& days) {
  const std::string agent = "a" + std::to_string(a);
  for (int32_t w = 0; w * kDaysPerWeek < p.days; ++w) {
    const int32_t first = w * kDaysPerWeek;
    const int32_t last = std::min(first + kDaysPerWeek, p.days);
    const std::string wk = agent + "_w" + std::to_string(w);
    if (p.rules.max_working_days_per_week < last - first) {
      const int32_t row = m.mip.AddRow("week_" + wk, -kInfinity,
                                       p.rules.max_working_days_per_week);
      for (int32_t d = first; d < last; ++d) {
        for (const AgentShift& z : days[d]) m.mip.Set(row, z.col, 1);
      }
    }
    if (p.rules.max_paid_min_per_week >= 0) {
      const int32_t row = m.mip.AddRow("paid_" + wk, -kInfinity, p.rules.max_paid_min_per_week);
      for (int32_t d = first; d < last; ++d) {
        for (const AgentShift& z : days[d]) m.mip.Set(row, z.col, m.starts[z.start].paid_min);
      }
    }
  }
}

// No overlap and min_rest_min between a shift on day d and one on day d+1 or d+2: for each
// later start, the earlier shifts that end too late for it and that start share one row.
void AddRestRows(const ScheduleProblem& p, Model& m, size_t a,
                 const std::vector<std::vector<AgentShift>>& days) {
  const std::string agent = "a" + std::to_string(a);
  for (int32_t d = 0; d < p.days; ++d) {
    for (int32_t later = d + 1; later <= d + 2 && later < p.days; ++later) {
      std::map<int32_t, std::vector<int32_t>> by_start;
      for (const AgentShift& z : days[later]) {
        by_start[m.starts[z.start].start_min].push_back(z.col);
      }
      for (const auto& [start_min, cols] : by_start) {
        const int32_t next_start = (later - d) * kMinutesPerDay + start_min;
        std::vector<int32_t> clash;
        for (const AgentShift& z : days[d]) {
          const Start& s = m.starts[z.start];
          const int32_t end = s.start_min + p.templates[s.tmpl].length_min;
          if (end + p.rules.min_rest_min > next_start) clash.push_back(z.col);
        }
        if (clash.empty()) continue;
        const int32_t row = m.mip.AddRow("rest_" + agent + "_d" + std::to_string(d) + "_e" +
                                             std::to_string(later) + "_s" +
                                             std::to_string(start_min),
                                         -kInfinity, 1);
        for (int32_t col : clash) m.mip.Set(row, col, 1);
        for (int32_t col : cols) m.mip.Set(row, col, 1);
      }
    }
  }
}

Result<Model> BuildModel(const ScheduleProblem& p) {
  Model m;
  m.per_day = kMinutesPerDay / p.interval_min;
  m.intervals = p.days * m.per_day;
  for (const auto& t : p.templates) {
    for (size_t g = 0; g < p.requirements.size(); ++g) {
      if (p.requirements[g].skill == t.skill) {
        m.group_of_template.push_back(static_cast<int32_t>(g));
      }
    }
  }
  OPSBOX_ASSIGN_OR_RETURN(m.starts, EnumerateStarts(p, m.intervals));
  AddShiftColumns(p, m);
  AddCoverage(p, m);
  if (p.agents.empty()) {
    AddDailyLimits(p, m);
  } else {
    auto by_agent_day = AddAssignments(p, m);
    for (size_t a = 0; a < p.agents.size(); ++a) {
      AddDayRows(p, m, a, by_agent_day[a]);
      AddWeekRows(p, m, a, by_agent_day[a]);
      AddRestRows(p, m, a, by_agent_day[a]);
    }
  }
  // The empty schedule (everything short) is feasible when coverage is soft: a starting
  // incumbent, so a time limit always leaves a schedule to report. (Starting instead from the
  // rounded-up LP optimum was tried on the benchmark week: CBC then stayed at that poor
  // incumbent, 17% gap after 30 s, against 2% from the empty start.)
  m.mip.has_start = !p.coverage.hard;
  return m;
}

// ---------------------------------------------------------------------------------------------
// CBC

struct CbcRun {
  SolverReport report;
  bool has_solution = false;
  std::vector<double> solution;
};

struct Csc {
  std::vector<CoinBigIndex> starts;
  std::vector<int> index;
  std::vector<double> value;
};

Csc ToColumnMajor(const Mip& mip) {
  const size_t ncols = mip.col_name.size();
  Csc csc;
  csc.starts.assign(ncols + 1, 0);
  for (const auto& row : mip.rows) {
    for (const Term& t : row) ++csc.starts[t.col + 1];
  }
  for (size_t c = 0; c < ncols; ++c) csc.starts[c + 1] += csc.starts[c];
  csc.index.resize(csc.starts[ncols]);
  csc.value.resize(csc.starts[ncols]);
  std::vector<CoinBigIndex> next(csc.starts.begin(), csc.starts.end() - 1);
  for (size_t r = 0; r < mip.rows.size(); ++r) {
    for (const Term& t : mip.rows[r]) {
      csc.index[next[t.col]] = static_cast<int>(r);
      csc.value[next[t.col]++] = t.coef;
    }
  }
  return csc;
}

SolveStatus MapStatus(const CbcModel& model, bool has_solution) {
  if (model.isProvenOptimal()) {
    return model.secondaryStatus() == 2 ? SolveStatus::kGapLimitFeasible : SolveStatus::kOptimal;
  }
  if (model.isProvenInfeasible()) return SolveStatus::kInfeasible;
  if (model.isAbandoned() || model.status() == 2) return SolveStatus::kAbandoned;
  if (!has_solution) return SolveStatus::kLimitNoSolution;
  switch (model.secondaryStatus()) {
    case 2: return SolveStatus::kGapLimitFeasible;
    case 3: return SolveStatus::kNodeLimitFeasible;
    default: return SolveStatus::kTimeLimitFeasible;
  }
}

using SteadyClock = std::chrono::steady_clock;

double RemainingS(SteadyClock::time_point deadline) {
  return std::chrono::duration<double>(deadline - SteadyClock::now()).count();
}

// CBC checks its time limit between nodes and heuristics, not inside Clp's simplex, so the
// root LP of a large roster (25 s of dual simplex for 14 days x 96 intervals x 40 agents)
// ran past any limit. This handler stops every simplex CBC starts once the deadline passes;
// Clp clones it with the solver, so preprocessing and the branch-and-bound copies carry it.
class DeadlineEvents : public ClpEventHandler {
 public:
  explicit DeadlineEvents(SteadyClock::time_point deadline) : deadline_(deadline) {}
  int event(Event which) override {
    if (which == endOfIteration && SteadyClock::now() >= deadline_) return 0;  // stop
    return -1;
  }
  ClpEventHandler* clone() const override { return new DeadlineEvents(*this); }

 private:
  SteadyClock::time_point deadline_;
};

// The run a phase reports when the deadline passed before it could start or finish: the
// starting schedule (feasible by construction when coverage is soft) or no solution.
CbcRun ExpiredRun(const Mip& mip, const SolveOptions& options) {
  CbcRun run;
  run.report.deadline_expired = true;
  // Every cost and penalty is validated >= 0, so 0 is a proven (trivial) lower bound.
  run.report.best_bound = 0;
  if (mip.has_start && !options.lp_relaxation) {
    run.has_solution = true;
    run.solution = mip.start;
    run.report.status = SolveStatus::kTimeLimitFeasible;
    run.report.objective = 0;
    for (size_t c = 0; c < mip.obj.size(); ++c) run.report.objective += mip.obj[c] * mip.start[c];
  } else {
    run.report.status = SolveStatus::kLimitNoSolution;
    run.report.objective = std::numeric_limits<double>::quiet_NaN();
  }
  return run;
}

// CBC's solver driver keeps global state (CbcMain): one solve at a time per process. The
// wait for it spends from the request's deadline like any other phase.
std::timed_mutex& CbcMutex() {
  static std::timed_mutex cbc_mutex;
  return cbc_mutex;
}

// Solver-driver arguments, as the cbc command line takes them.
std::vector<std::string> DriverArgs(const SolveOptions& options, double seconds) {
  // Wall-clock seconds: CBC counts CPU seconds by default, which on a busy machine overshoots.
  std::vector<std::string> args = {"opsbox", "-log", "0", "-timeMode", "elapsed",
                                   "-seconds", Number(seconds)};
  if (options.max_nodes >= 0) {
    args.insert(args.end(), {"-maxNodes", std::to_string(std::min<int64_t>(options.max_nodes,
                                                                            INT_MAX))});
  }
  if (options.relative_gap > 0) {
    args.insert(args.end(), {"-ratioGap", Number(options.relative_gap)});
  }
  args.insert(args.end(), {"-solve", "-quit"});
  return args;
}

void LoadSolver(OsiClpSolverInterface& solver, const Mip& mip, const SolveOptions& options) {
  const Csc csc = ToColumnMajor(mip);
  const int ncols = static_cast<int>(mip.col_name.size());
  const int nrows = static_cast<int>(mip.rows.size());
  solver.messageHandler()->setLogLevel(0);
  solver.loadProblem(ncols, nrows, csc.starts.data(), csc.index.data(), csc.value.data(),
                     mip.col_lb.data(), mip.col_ub.data(), mip.obj.data(), mip.row_lb.data(),
                     mip.row_ub.data());
  if (options.lp_relaxation) return;
  for (int c = 0; c < ncols; ++c) {
    if (mip.integer[c]) solver.setInteger(c);
  }
}

// Solves with what remains of the deadline; `seconds` > 0.
void SolveWithCbc(const Mip& mip, const SolveOptions& options, SteadyClock::time_point deadline,
                  double seconds, CbcRun& run) {
  const int ncols = static_cast<int>(mip.col_name.size());
  OsiClpSolverInterface solver;
  LoadSolver(solver, mip, options);
  DeadlineEvents events(deadline);
  solver.getModelPtr()->passInEventHandler(&events);
  if (options.lp_relaxation) {
    solver.initialSolve();
    run.has_solution = solver.isProvenOptimal();
    const double* x = solver.getColSolution();
    if (run.has_solution) run.solution.assign(x, x + ncols);
    if (run.has_solution) {
      run.report.status = SolveStatus::kOptimal;
    } else if (solver.isProvenPrimalInfeasible()) {
      run.report.status = SolveStatus::kInfeasible;
    } else {
      run.report.status = SolveStatus::kAbandoned;  // or stopped: RunCbc tells them apart
    }
    run.report.objective = run.has_solution ? solver.getObjValue()
                                            : std::numeric_limits<double>::quiet_NaN();
    run.report.best_bound = run.report.objective;
    return;
  }
  CbcModel model(solver);
  CbcSolverUsefulData data;
  CbcMain0(model, data);
  model.setLogLevel(0);
  model.setMaximumSeconds(seconds);
  if (mip.has_start) {
    std::vector<std::pair<std::string, double>> start;
    start.reserve(ncols);
    for (int c = 0; c < ncols; ++c) start.emplace_back(model.solver()->getColName(c), mip.start[c]);
    model.setMIPStart(start);
  }
  const std::vector<std::string> args = DriverArgs(options, seconds);
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  CbcMain1(static_cast<int>(argv.size()), argv.data(), model, nullptr, data);
  const double* best = model.bestSolution();
  run.has_solution = best != nullptr;
  if (run.has_solution) run.solution.assign(best, best + ncols);
  run.report.status = MapStatus(model, run.has_solution);
  run.report.objective = run.has_solution ? model.getObjValue()
                                          : std::numeric_limits<double>::quiet_NaN();
  run.report.best_bound = model.getBestPossibleObjValue();
  run.report.nodes = model.getNodeCount();
}

Result<CbcRun> RunCbc(const Mip& mip, const SolveOptions& options,
                      SteadyClock::time_point deadline) {
  if (RemainingS(deadline) <= 0) return ExpiredRun(mip, options);
  std::unique_lock<std::timed_mutex> lock(CbcMutex(), std::defer_lock);
  if (!lock.try_lock_until(deadline)) return ExpiredRun(mip, options);
  const double seconds = RemainingS(deadline);
  if (seconds <= 0) return ExpiredRun(mip, options);
  CbcRun run;
  try {
    const auto begin = SteadyClock::now();
    SolveWithCbc(mip, options, deadline, seconds, run);
    run.report.solve_time_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - begin)
            .count();
  } catch (const std::exception& e) {
    return Error::Internal(std::string("CBC failed: ") + e.what());
  } catch (...) {
    return Error::Internal("CBC failed with an unknown exception (CoinError)");
  }
  run.report.cbc_time_limit_s = seconds;
  // A simplex stopped by the deadline can leave CBC calling the problem infeasible or
  // abandoned: past the deadline those are not proofs, so report the time limit instead.
  const bool unproven = run.report.status == SolveStatus::kInfeasible ||
                        run.report.status == SolveStatus::kAbandoned ||
                        run.report.status == SolveStatus::kLimitNoSolution;
  if (unproven && RemainingS(deadline) <= 0) {
    CbcRun expired = ExpiredRun(mip, options);
    expired.report.solve_time_ms = run.report.solve_time_ms;
    expired.report.cbc_time_limit_s = seconds;
    expired.report.nodes = run.report.nodes;
    return expired;
  }
  return run;
}

void FillGap(SolverReport& r, bool lp_relaxation) {
  if (r.status == SolveStatus::kOptimal) {
    r.gap = 0;
    if (lp_relaxation || !std::isfinite(r.best_bound) || r.best_bound > r.objective) {
      r.best_bound = r.objective;
    }
    return;
  }
  if (!std::isfinite(r.objective) || !std::isfinite(r.best_bound) ||
      std::fabs(r.best_bound) > 1e50) {
    r.gap = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  r.gap = std::max(0.0, r.objective - r.best_bound) / std::max(std::fabs(r.objective), 1e-9);
}

// ---------------------------------------------------------------------------------------------
// Decoding the solution into shifts and the coverage table.

int32_t Count(const std::vector<double>& sol, int32_t col) {
  return static_cast<int32_t>(std::llround(sol[col]));
}

// Break offsets for each of n shifts at a start: break b of shift i is the i-th placement of b
// in ascending order. Valid for any pairing because break windows are ordered and disjoint.
Result<std::vector<std::vector<int32_t>>> BreakOffsets(const Start& s,
                                                       const std::vector<double>& sol,
                                                       int32_t n) {
  std::vector<std::vector<int32_t>> per_break;
  for (const BreakSlots& slots : s.breaks) {
    std::vector<int32_t> offsets;
    for (size_t o = 0; o < slots.cols.size(); ++o) {
      const int32_t k = Count(sol, slots.cols[o]);
      for (int32_t j = 0; j < k; ++j) offsets.push_back(slots.offsets_min[o]);
    }
    if (static_cast<int32_t>(offsets.size()) != n) {
      return Error::Internal("CBC solution: break placements do not match the shift count at " +
                             StartKey(s));
    }
    per_break.push_back(std::move(offsets));
  }
  return per_break;
}

ScheduledShift MakeShift(const ScheduleProblem& p, const Start& s,
                         const std::vector<std::vector<int32_t>>& offsets, size_t i) {
  const ShiftTemplate& t = p.templates[s.tmpl];
  ScheduledShift shift;
  shift.day = s.day;
  shift.template_id = t.id;
  shift.start_min = s.start_min;
  shift.end_min = s.start_min + t.length_min;
  shift.cost = s.cost;
  for (size_t b = 0; b < offsets.size(); ++b) {
    shift.breaks.push_back({t.breaks[b].name, s.start_min + offsets[b][i], t.breaks[b].length_min,
                            t.breaks[b].paid});
  }
  return shift;
}

bool SameBreaks(const ScheduledShift& a, const ScheduledShift& b) {
  for (size_t i = 0; i < a.breaks.size(); ++i) {
    if (a.breaks[i].start_min != b.breaks[i].start_min) return false;
  }
  return true;
}

Status DecodeShifts(const ScheduleProblem& p, const Model& m, const std::vector<double>& sol,
                    Schedule& out) {
  for (const Start& s : m.starts) {
    const int32_t n = Count(sol, s.count_col);
    if (n <= 0) continue;
    OPSBOX_ASSIGN_OR_RETURN(auto offsets, BreakOffsets(s, sol, n));
    if (p.agents.empty()) {
      for (int32_t i = 0; i < n; ++i) {
        ScheduledShift shift = MakeShift(p, s, offsets, i);
        if (!out.shifts.empty() && out.shifts.back().day == s.day &&
            out.shifts.back().template_id == shift.template_id &&
            out.shifts.back().start_min == s.start_min && SameBreaks(out.shifts.back(), shift)) {
          ++out.shifts.back().count;
        } else {
          out.shifts.push_back(std::move(shift));
        }
      }
      continue;
    }
    size_t i = 0;
    for (const auto& [agent, col] : s.assign) {
      if (Count(sol, col) != 1) continue;
      if (i >= static_cast<size_t>(n)) break;
      ScheduledShift shift = MakeShift(p, s, offsets, i++);
      shift.agent_id = p.agents[agent].id;
      out.shifts.push_back(std::move(shift));
    }
    if (i != static_cast<size_t>(n)) {
      return Error::Internal("CBC solution: agent assignments do not match the shift count at " +
                             StartKey(s));
    }
  }
  return Ok();
}

void FillCoverage(const ScheduleProblem& p, const Model& m, Schedule& out) {
  const int32_t T = m.intervals;
  const int32_t step = p.interval_min;
  std::vector<int32_t> working(p.requirements.size() * T, 0);
  std::map<std::string, int32_t> template_index;
  for (size_t t = 0; t < p.templates.size(); ++t) template_index[p.templates[t].id] = int32_t(t);
  auto add = [&](int32_t group, int32_t day, int32_t from_min, int32_t len_min, int32_t delta) {
    for (int32_t k = 0; k < len_min / step; ++k) {
      const int32_t g = day * m.per_day + from_min / step + k;
      if (g < T) working[group * T + g] += delta;
    }
  };
  for (const ScheduledShift& s : out.shifts) {
    const int32_t group = m.group_of_template[template_index[s.template_id]];
    add(group, s.day, s.start_min, s.end_min - s.start_min, s.count);
    for (const PlacedBreak& b : s.breaks) add(group, s.day, b.start_min, b.length_min, -s.count);
    out.shift_cost += s.cost * s.count;
  }
  for (size_t g = 0; g < p.requirements.size(); ++g) {
    for (int32_t i = 0; i < T; ++i) {
      CoverageRow row;
      row.skill = p.requirements[g].skill;
      row.day = i / m.per_day;
      row.interval = i % m.per_day;
      row.required = p.requirements[g].agents_per_interval[i];
      row.scheduled = working[g * T + i];
      OPSBOX_ASSERT(row.scheduled >= 0);
      row.over = std::max(0.0, row.scheduled - row.required);
      row.under = std::max(0.0, row.required - row.scheduled);
      out.over_agent_intervals += row.over;
      out.under_agent_intervals += row.under;
      out.coverage.push_back(std::move(row));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// CPLEX LP format, for glpsol or cbc as reference solvers.

bool Unbounded(double v) { return std::fabs(v) >= 1e30; }

// Writes "+ c name" terms, a few per line (LP readers limit line length).
void WriteTerms(std::string& out, const Mip& mip, const std::vector<Term>& terms) {
  size_t on_line = 0;
  for (const Term& t : terms) {
    out += t.coef < 0 ? " - " : " + ";
    if (std::fabs(t.coef) != 1) out += Number(std::fabs(t.coef)) + " ";
    out += mip.col_name[t.col];
    if (++on_line % 8 == 0) out += "\n   ";
  }
  if (terms.empty()) out += " 0 " + mip.col_name[0];
}

void WriteRowsLp(std::string& out, const Mip& mip) {
  for (size_t r = 0; r < mip.rows.size(); ++r) {
    out += " " + mip.row_name[r] + ":";
    WriteTerms(out, mip, mip.rows[r]);
    const double lb = mip.row_lb[r];
    const double ub = mip.row_ub[r];
    if (lb == ub) {
      out += " = " + Number(lb);
    } else if (Unbounded(lb)) {
      out += " <= " + Number(ub);
    } else {
      OPSBOX_ASSERT(Unbounded(ub));
      out += " >= " + Number(lb);
    }
    out += "\n";
  }
}

std::string WriteLp(const Mip& mip) {
  std::string out = "\\ opsbox shift schedule\nMinimize\n obj:";
  std::vector<Term> objective;
  for (size_t c = 0; c < mip.obj.size(); ++c) {
    if (mip.obj[c] != 0) objective.push_back({static_cast<int32_t>(c), mip.obj[c]});
  }
  WriteTerms(out, mip, objective);
  out += "\nSubject To\n";
  WriteRowsLp(out, mip);
  out += "Bounds\n";
  for (size_t c = 0; c < mip.col_name.size(); ++c) {
    if (mip.col_lb[c] == 0 && Unbounded(mip.col_ub[c])) continue;
    out += " " + Number(mip.col_lb[c]) + " <= " + mip.col_name[c];
    if (!Unbounded(mip.col_ub[c])) out += " <= " + Number(mip.col_ub[c]);
    out += "\n";
  }
  out += "General\n";
  size_t on_line = 0;
  for (size_t c = 0; c < mip.col_name.size(); ++c) {
    if (!mip.integer[c]) continue;
    out += " " + mip.col_name[c];
    if (++on_line % 8 == 0) out += "\n";
  }
  out += "\nEnd\n";
  return out;
}

}  // namespace

const char* SolveStatusName(SolveStatus status) {
  switch (status) {
    case SolveStatus::kOptimal: return "optimal";
    case SolveStatus::kTimeLimitFeasible: return "time_limit_feasible";
    case SolveStatus::kNodeLimitFeasible: return "node_limit_feasible";
    case SolveStatus::kGapLimitFeasible: return "gap_limit_feasible";
    case SolveStatus::kLimitNoSolution: return "limit_no_solution";
    case SolveStatus::kInfeasible: return "infeasible";
    case SolveStatus::kAbandoned: return "abandoned";
  }
  return "unknown";
}

Status ValidateScheduleProblem(const ScheduleProblem& p) {
  OPSBOX_TRY(CheckRange("days", p.days, 1, kScheduleDaysMax));
  if (p.interval_min != 15 && p.interval_min != 30 && p.interval_min != 60) {
    return Invalid("interval_min", "one_of", "must be 15, 30 or 60");
  }
  std::set<std::string> skills;
  OPSBOX_TRY(ValidateRequirements(p, skills));
  OPSBOX_TRY(ValidateTemplates(p, skills));
  if (p.agents.size() > static_cast<size_t>(kScheduleAgentsMax)) {
    return Invalid("agents", "max_items",
                   "at most " + std::to_string(kScheduleAgentsMax) + " agents");
  }
  std::set<std::string> ids;
  for (size_t a = 0; a < p.agents.size(); ++a) {
    OPSBOX_TRY(CheckId(Item("agents", a) + ".id", p.agents[a].id, ids));
    OPSBOX_TRY(ValidateAgent(p, p.agents[a], Item("agents", a), skills));
  }
  OPSBOX_TRY(ValidateRules(p));
  OPSBOX_TRY(CheckRange("coverage.under_penalty", p.coverage.under_penalty, 0, kScheduleCostMax));
  OPSBOX_TRY(CheckRange("coverage.over_penalty", p.coverage.over_penalty, 0, kScheduleCostMax));
  return Ok();
}

Status ValidateSolveOptions(const SolveOptions& o) {
  if (!Finite(o.time_limit_s) || o.time_limit_s <= 0 || o.time_limit_s > kScheduleTimeLimitMaxS) {
    return Invalid("time_limit_s", "range",
                   "must be above 0 and at most " + Number(kScheduleTimeLimitMaxS));
  }
  if (o.max_nodes < -1) return Invalid("max_nodes", "range", "must be -1 (no limit) or >= 0");
  if (!Finite(o.relative_gap) || o.relative_gap < 0 || o.relative_gap >= 1) {
    return Invalid("relative_gap", "range", "must be in [0, 1)");
  }
  return Ok();
}

Result<Schedule> SolveSchedule(const ScheduleProblem& problem, const SolveOptions& options) {
  OPSBOX_TRY(ValidateScheduleProblem(problem));
  OPSBOX_TRY(ValidateSolveOptions(options));
  // One deadline for the request, taken once: every phase below spends from it.
  const SteadyClock::time_point deadline =
      options.deadline.value_or(SteadyClock::now() +
                                std::chrono::duration_cast<SteadyClock::duration>(
                                    std::chrono::duration<double>(options.time_limit_s)));
  OPSBOX_ASSIGN_OR_RETURN(Model model, BuildModel(problem));
  OPSBOX_ASSIGN_OR_RETURN(CbcRun run, RunCbc(model.mip, options, deadline));
  Schedule out;
  out.roster = !problem.agents.empty();
  out.solver = run.report;
  out.solver.columns = static_cast<int64_t>(model.mip.col_name.size());
  out.solver.rows = static_cast<int64_t>(model.mip.rows.size());
  out.solver.integer_columns =
      std::count(model.mip.integer.begin(), model.mip.integer.end(), char{1});
  FillGap(out.solver, options.lp_relaxation);
  if (!run.has_solution || options.lp_relaxation) return out;
  OPSBOX_TRY(DecodeShifts(problem, model, run.solution, out));
  out.has_schedule = true;
  FillCoverage(problem, model, out);
  return out;
}

Result<std::string> ScheduleModelLp(const ScheduleProblem& problem) {
  OPSBOX_TRY(ValidateScheduleProblem(problem));
  OPSBOX_ASSIGN_OR_RETURN(Model model, BuildModel(problem));
  return WriteLp(model.mip);
}


// ---------------------------------------------------------------------------------------------
// JSON

namespace {

constexpr size_t kIntervalsMax = static_cast<size_t>(kScheduleDaysMax) * kMinutesPerDay / 15;

std::string Key(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return std::string(prefix) + "." + std::string(key);
}

const Json* Find(const Json& o, std::string_view key) {
  auto it = o.find(key);
  return (it == o.end() || it->is_null()) ? nullptr : &*it;
}

Status Missing(const Json& o, std::string_view key, std::string_view prefix) {
  if (Find(o, key) == nullptr) return Invalid(Key(prefix, key), "required", "is required");
  return Ok();
}

// Optional fields keep `out` (the struct default) when absent.
Status ReadInt(const Json& o, std::string_view key, std::string_view prefix, int32_t& out) {
  const Json* v = Find(o, key);
  if (v == nullptr) return Ok();
  if (!v->is_number_integer()) return Invalid(Key(prefix, key), "type", "must be an integer");
  const int64_t value = v->get<int64_t>();
  if (value < INT32_MIN || value > INT32_MAX) {
    return Invalid(Key(prefix, key), "range", "does not fit in 32 bits");
  }
  out = static_cast<int32_t>(value);
  return Ok();
}

Status ReadNumber(const Json& o, std::string_view key, std::string_view prefix, double& out) {
  const Json* v = Find(o, key);
  if (v == nullptr) return Ok();
  if (!v->is_number()) return Invalid(Key(prefix, key), "type", "must be a number");
  out = v->get<double>();
  return Ok();
}

Status ReadBool(const Json& o, std::string_view key, std::string_view prefix, bool& out) {
  const Json* v = Find(o, key);
  if (v == nullptr) return Ok();
  if (!v->is_boolean()) return Invalid(Key(prefix, key), "type", "must be true or false");
  out = v->get<bool>();
  return Ok();
}

Status ReadString(const Json& o, std::string_view key, std::string_view prefix,
                  std::string& out) {
  OPSBOX_ASSIGN_OR_RETURN(out, OptionalString(o, key, kScheduleIdBytesMax, out, prefix));
  return Ok();
}

// nullptr when absent; otherwise an array of at most max_items.
Result<const Json*> ReadArray(const Json& o, std::string_view key, std::string_view prefix,
                              size_t max_items) {
  const Json* v = Find(o, key);
  if (v == nullptr) return static_cast<const Json*>(nullptr);
  if (!v->is_array()) return Invalid(Key(prefix, key), "type", "must be an array");
  if (v->size() > max_items) {
    return Invalid(Key(prefix, key), "max_items",
                   "at most " + std::to_string(max_items) + " items");
  }
  return v;
}

Result<ScheduleBreak> ParseBreak(const Json& j, const std::string& path) {
  OPSBOX_TRY(CheckObjectKeys(
      j, {"name", "length_min", "earliest_offset_min", "latest_offset_min", "paid"}, path));
  for (auto key : {"name", "length_min", "earliest_offset_min"}) OPSBOX_TRY(Missing(j, key, path));
  ScheduleBreak b;
  OPSBOX_TRY(ReadString(j, "name", path, b.name));
  OPSBOX_TRY(ReadInt(j, "length_min", path, b.length_min));
  OPSBOX_TRY(ReadInt(j, "earliest_offset_min", path, b.earliest_offset_min));
  b.latest_offset_min = b.earliest_offset_min;
  OPSBOX_TRY(ReadInt(j, "latest_offset_min", path, b.latest_offset_min));
  OPSBOX_TRY(ReadBool(j, "paid", path, b.paid));
  return b;
}

Status ParseIntArray(const Json& j, std::string_view key, const std::string& path,
                     size_t max_items, std::vector<int32_t>& out) {
  OPSBOX_ASSIGN_OR_RETURN(const Json* arr, ReadArray(j, key, path, max_items));
  if (arr == nullptr) return Ok();
  for (size_t i = 0; i < arr->size(); ++i) {
    if (!(*arr)[i].is_number_integer()) {
      return Invalid(Item(Key(path, key), i), "type", "must be an integer");
    }
    out.push_back(static_cast<int32_t>(std::clamp<int64_t>((*arr)[i].get<int64_t>(), -1,
                                                           INT32_MAX)));
  }
  return Ok();
}

Result<ShiftTemplate> ParseTemplate(const Json& j, const std::string& path, int32_t interval) {
  OPSBOX_TRY(CheckObjectKeys(j,
                             {"id", "skill", "earliest_start_min", "latest_start_min",
                              "start_step_min", "length_min", "breaks", "cost_per_shift",
                              "cost_per_paid_hour", "days", "max_per_day"},
                             path));
  for (auto key : {"id", "earliest_start_min", "length_min"}) OPSBOX_TRY(Missing(j, key, path));
  ShiftTemplate t;
  OPSBOX_TRY(ReadString(j, "id", path, t.id));
  OPSBOX_TRY(ReadString(j, "skill", path, t.skill));
  OPSBOX_TRY(ReadInt(j, "earliest_start_min", path, t.earliest_start_min));
  t.latest_start_min = t.earliest_start_min;
  OPSBOX_TRY(ReadInt(j, "latest_start_min", path, t.latest_start_min));
  t.start_step_min = interval;
  OPSBOX_TRY(ReadInt(j, "start_step_min", path, t.start_step_min));
  OPSBOX_TRY(ReadInt(j, "length_min", path, t.length_min));
  OPSBOX_TRY(ReadNumber(j, "cost_per_shift", path, t.cost_per_shift));
  OPSBOX_TRY(ReadNumber(j, "cost_per_paid_hour", path, t.cost_per_paid_hour));
  OPSBOX_TRY(ReadInt(j, "max_per_day", path, t.max_per_day));
  OPSBOX_TRY(ParseIntArray(j, "days", path, kScheduleDaysMax, t.days));
  OPSBOX_ASSIGN_OR_RETURN(const Json* breaks,
                          ReadArray(j, "breaks", path, kScheduleBreaksPerTemplateMax));
  for (size_t b = 0; breaks != nullptr && b < breaks->size(); ++b) {
    OPSBOX_ASSIGN_OR_RETURN(auto br, ParseBreak((*breaks)[b], Item(path + ".breaks", b)));
    t.breaks.push_back(std::move(br));
  }
  return t;
}

Result<SkillRequirement> ParseRequirement(const Json& j, const std::string& path) {
  OPSBOX_TRY(CheckObjectKeys(j, {"skill", "agents_per_interval"}, path));
  OPSBOX_TRY(Missing(j, "agents_per_interval", path));
  SkillRequirement r;
  OPSBOX_TRY(ReadString(j, "skill", path, r.skill));
  OPSBOX_ASSIGN_OR_RETURN(const Json* values,
                          ReadArray(j, "agents_per_interval", path, kIntervalsMax));
  for (size_t i = 0; i < values->size(); ++i) {
    if (!(*values)[i].is_number()) {
      return Invalid(Item(path + ".agents_per_interval", i), "type", "must be a number");
    }
    r.agents_per_interval.push_back((*values)[i].get<double>());
  }
  return r;
}

Result<ScheduleAgent> ParseAgent(const Json& j, const std::string& path) {
  OPSBOX_TRY(CheckObjectKeys(j, {"id", "skills", "availability"}, path));
  OPSBOX_TRY(Missing(j, "id", path));
  ScheduleAgent a;
  OPSBOX_TRY(ReadString(j, "id", path, a.id));
  OPSBOX_ASSIGN_OR_RETURN(const Json* skills,
                          ReadArray(j, "skills", path, kScheduleSkillGroupsMax));
  for (size_t s = 0; skills != nullptr && s < skills->size(); ++s) {
    const auto& v = (*skills)[s];
    if (!v.is_string() || v.get_ref<const std::string&>().size() > kScheduleIdBytesMax) {
      return Invalid(Item(path + ".skills", s), "type", "must be a skill name");
    }
    a.skills.push_back(v.get<std::string>());
  }
  OPSBOX_ASSIGN_OR_RETURN(const Json* windows,
                          ReadArray(j, "availability", path, kScheduleWindowsPerAgentMax));
  for (size_t w = 0; windows != nullptr && w < windows->size(); ++w) {
    const std::string wp = Item(path + ".availability", w);
    const Json& wj = (*windows)[w];
    OPSBOX_TRY(CheckObjectKeys(wj, {"day", "from_min", "to_min"}, wp));
    for (auto key : {"day", "from_min", "to_min"}) OPSBOX_TRY(Missing(wj, key, wp));
    AvailabilityWindow win;
    OPSBOX_TRY(ReadInt(wj, "day", wp, win.day));
    OPSBOX_TRY(ReadInt(wj, "from_min", wp, win.from_min));
    OPSBOX_TRY(ReadInt(wj, "to_min", wp, win.to_min));
    a.availability.push_back(win);
  }
  return a;
}

Status ParsePolicies(const Json& j, ScheduleProblem& p) {
  if (const Json* rules = Find(j, "rules")) {
    OPSBOX_TRY(CheckObjectKeys(*rules,
                               {"max_working_days_per_week", "min_consecutive_days_off",
                                "min_rest_min", "max_paid_min_per_week"},
                               "rules"));
    OPSBOX_TRY(ReadInt(*rules, "max_working_days_per_week", "rules",
                       p.rules.max_working_days_per_week));
    OPSBOX_TRY(ReadInt(*rules, "min_consecutive_days_off", "rules",
                       p.rules.min_consecutive_days_off));
    OPSBOX_TRY(ReadInt(*rules, "min_rest_min", "rules", p.rules.min_rest_min));
    OPSBOX_TRY(ReadInt(*rules, "max_paid_min_per_week", "rules", p.rules.max_paid_min_per_week));
  }
  if (const Json* cov = Find(j, "coverage")) {
    OPSBOX_TRY(CheckObjectKeys(*cov, {"hard", "under_penalty", "over_penalty"}, "coverage"));
    OPSBOX_TRY(ReadBool(*cov, "hard", "coverage", p.coverage.hard));
    OPSBOX_TRY(ReadNumber(*cov, "under_penalty", "coverage", p.coverage.under_penalty));
    OPSBOX_TRY(ReadNumber(*cov, "over_penalty", "coverage", p.coverage.over_penalty));
  }
  return Ok();
}

Json ShiftJson(const ScheduledShift& s) {
  Json breaks = Json::array();
  for (const PlacedBreak& b : s.breaks) {
    breaks.push_back({{"name", b.name},
                      {"start_min", b.start_min},
                      {"length_min", b.length_min},
                      {"paid", b.paid}});
  }
  Json j = {{"day", s.day},         {"template", s.template_id}, {"start_min", s.start_min},
            {"end_min", s.end_min}, {"count", s.count},          {"cost", s.cost},
            {"breaks", std::move(breaks)}};
  if (!s.agent_id.empty()) j["agent"] = s.agent_id;
  return j;
}

// NaN and infinities are not JSON: they become null.
Json NumberOrNull(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

}  // namespace

Result<ScheduleProblem> ParseScheduleProblem(const Json& j) {
  OPSBOX_TRY(CheckObjectKeys(j, {"days", "interval_min", "requirements", "templates", "agents",
                                 "rules", "coverage"}));
  for (auto key : {"days", "interval_min", "requirements", "templates"}) {
    OPSBOX_TRY(Missing(j, key, ""));
  }
  ScheduleProblem p;
  OPSBOX_TRY(ReadInt(j, "days", "", p.days));
  OPSBOX_TRY(ReadInt(j, "interval_min", "", p.interval_min));
  if (p.interval_min != 15 && p.interval_min != 30 && p.interval_min != 60) {
    return Invalid("interval_min", "one_of", "must be 15, 30 or 60");
  }
  OPSBOX_ASSIGN_OR_RETURN(const Json* reqs,
                          ReadArray(j, "requirements", "", kScheduleSkillGroupsMax));
  for (size_t r = 0; r < reqs->size(); ++r) {
    OPSBOX_ASSIGN_OR_RETURN(auto req, ParseRequirement((*reqs)[r], Item("requirements", r)));
    p.requirements.push_back(std::move(req));
  }
  OPSBOX_ASSIGN_OR_RETURN(const Json* templates,
                          ReadArray(j, "templates", "", kScheduleTemplatesMax));
  for (size_t t = 0; t < templates->size(); ++t) {
    OPSBOX_ASSIGN_OR_RETURN(auto tmpl,
                            ParseTemplate((*templates)[t], Item("templates", t), p.interval_min));
    p.templates.push_back(std::move(tmpl));
  }
  OPSBOX_ASSIGN_OR_RETURN(const Json* agents, ReadArray(j, "agents", "", kScheduleAgentsMax));
  for (size_t a = 0; agents != nullptr && a < agents->size(); ++a) {
    OPSBOX_ASSIGN_OR_RETURN(auto agent, ParseAgent((*agents)[a], Item("agents", a)));
    p.agents.push_back(std::move(agent));
  }
  OPSBOX_TRY(ParsePolicies(j, p));
  OPSBOX_TRY(ValidateScheduleProblem(p));
  return p;
}

Json ScheduleToJson(const Schedule& s, const ScheduleProblem& problem) {
  const SolverReport& r = s.solver;
  Json solver = {{"status", SolveStatusName(r.status)},
                 {"objective", NumberOrNull(r.objective)},
                 {"best_bound", NumberOrNull(r.best_bound)},
                 {"gap", NumberOrNull(r.gap)},
                 {"nodes", r.nodes},
                 {"solve_time_ms", r.solve_time_ms},
                 {"columns", r.columns},
                 {"rows", r.rows},
                 {"integer_columns", r.integer_columns}};
  Json shifts = Json::array();
  for (const ScheduledShift& shift : s.shifts) shifts.push_back(ShiftJson(shift));
  Json coverage = Json::array();
  for (const CoverageRow& c : s.coverage) {
    coverage.push_back({{"skill", c.skill},
                        {"day", c.day},
                        {"interval", c.interval},
                        {"start_min", c.interval * problem.interval_min},
                        {"required", c.required},
                        {"scheduled", c.scheduled},
                        {"over", c.over},
                        {"under", c.under}});
  }
  return {{"mode", s.roster ? "roster" : "shift_counts"},
          {"solver", std::move(solver)},
          {"has_schedule", s.has_schedule},
          {"shift_cost", s.shift_cost},
          {"under_agent_intervals", s.under_agent_intervals},
          {"over_agent_intervals", s.over_agent_intervals},
          {"shifts", std::move(shifts)},
          {"coverage", std::move(coverage)}};
}

}  // namespace opsbox::wfm
