// The pure part of the KPIs: what each routing event adds to the aggregates, the catalogue and
// its formulas, query parsing, folding buckets into local time groups, JSON and CSV.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/assert.hpp"
#include "core/time.hpp"
#include "core/zone.hpp"
#include "kpis/kpis.hpp"

namespace opsbox::kpis {
namespace {

constexpr std::array<std::string_view, 11> kCounterColumns = {
    "offered",        "answered",        "answered_in_sl", "abandoned",
    "abandoned_short", "answer_wait_us", "abandon_wait_us", "handled",
    "talk_us",        "wrap_us",         "transferred"};

constexpr std::array<std::string_view, 7> kTracked = {
    "task_created",    "reservation_accepted", "task_completed", "task_wrapped_up",
    "task_transferred", "task_escalated",      "task_cancelled"};

std::string Str(const Json& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const Json& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// A dimension value from free task attributes: strings only, at most kDimBytesMax bytes (cut
// at a UTF-8 character boundary).
std::string DimValue(const Json& attributes, std::string_view key) {
  std::string v = Str(attributes, key);
  if (v.size() <= kDimBytesMax) return v;
  size_t n = kDimBytesMax;
  while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;
  v.resize(n);
  return v;
}

Dims QueueDims(const Contact& c) {
  Dims d = c.dims;
  d.agent.clear();
  return d;
}

Delta At(int64_t bucket, Dims dims, Counters c) { return Delta{bucket, std::move(dims), c}; }

// Moves a waiting contact's offer to another queue (escalation, transfer before an answer).
void MoveOffer(Step& s, Contact& c, const std::string& to_queue) {
  const int64_t b = BucketOf(c.arrival_us);
  s.deltas.push_back(At(b, QueueDims(c), Counters{.offered = -1}));
  c.dims.queue = to_queue;
  s.deltas.push_back(At(b, QueueDims(c), Counters{.offered = 1}));
}

}  // namespace

Counters& Counters::operator+=(const Counters& o) {
  offered += o.offered;
  answered += o.answered;
  answered_in_sl += o.answered_in_sl;
  abandoned += o.abandoned;
  abandoned_short += o.abandoned_short;
  answer_wait_us += o.answer_wait_us;
  abandon_wait_us += o.abandon_wait_us;
  handled += o.handled;
  talk_us += o.talk_us;
  wrap_us += o.wrap_us;
  transferred += o.transferred;
  return *this;
}

std::span<const std::string_view> CounterColumns() { return kCounterColumns; }

std::vector<int64_t> CounterValues(const Counters& c) {
  return {c.offered,        c.answered,        c.answered_in_sl, c.abandoned,
          c.abandoned_short, c.answer_wait_us, c.abandon_wait_us, c.handled,
          c.talk_us,        c.wrap_us,         c.transferred};
}

Counters CountersFromValues(std::span<const int64_t> v) {
  OPSBOX_ASSERT(v.size() == kCounterColumns.size());
  return Counters{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]};
}

std::span<const std::string_view> TrackedEvents() { return kTracked; }

int64_t BucketOf(int64_t at_us) {
  int64_t b = at_us / kBucketUs;
  if (at_us % kBucketUs < 0) --b;
  return b * kBucketUs;
}

Step Apply(std::string_view type, const Json& p, std::optional<Contact>& contact) {
  Step s;
  const int64_t at = Int(p, "at_us");
  if (type == "task_created") {
    const Json& attributes = p.contains("attributes") && p["attributes"].is_object()
                                 ? p["attributes"]
                                 : Json::object();
    Contact c;
    c.arrival_us = Int(p, "created_at_us");
    c.dims.queue = Str(p, "queue_id");
    c.dims.channel = Str(p, "channel");
    c.dims.intent = DimValue(attributes, "intent");
    c.dims.language = DimValue(attributes, "language");
    s.deltas.push_back(At(BucketOf(c.arrival_us), QueueDims(c), Counters{.offered = 1}));
    contact = std::move(c);
    s.then = Step::Then::kSave;
    return s;
  }
  if (!contact) return s;
  Contact& c = *contact;
  const int64_t bucket = BucketOf(c.arrival_us);
  if (type == "reservation_accepted") {
    if (c.answered) return s;  // a second reservation of the same offer: counted once
    c.answered = true;
    c.accepted_at_us = at;
    c.completed_at_us = 0;
    c.dims.agent = Str(p, "worker_id");
    const bool in_sl = p.value("in_service_level", false);
    s.deltas.push_back(At(bucket, c.dims,
                          Counters{.answered = 1,
                                   .answered_in_sl = in_sl ? 1 : 0,
                                   .answer_wait_us = std::max<int64_t>(0, Int(p, "wait_us"))}));
    s.then = Step::Then::kSave;
    return s;
  }
  if (type == "task_completed") {
    if (!c.answered || c.completed_at_us != 0) return s;
    c.completed_at_us = at;
    s.deltas.push_back(At(bucket, c.dims,
                          Counters{.handled = 1,
                                   .talk_us = std::max<int64_t>(0, at - c.accepted_at_us)}));
    s.then = Step::Then::kSave;
    return s;
  }
  if (type == "task_wrapped_up") {
    if (c.completed_at_us != 0) {
      s.deltas.push_back(
          At(bucket, c.dims, Counters{.wrap_us = std::max<int64_t>(0, at - c.completed_at_us)}));
    }
    s.then = Step::Then::kErase;
    return s;
  }
  if (type == "task_transferred") {
    const std::string to = Str(p, "queue_id");
    if (!c.answered) {
      if (to != c.dims.queue) MoveOffer(s, c, to);
      s.then = Step::Then::kSave;
      return s;
    }
    Counters handled{.handled = 1, .transferred = 1};
    if (c.completed_at_us == 0) handled.talk_us = std::max<int64_t>(0, at - c.accepted_at_us);
    s.deltas.push_back(At(bucket, c.dims, handled));
    c.arrival_us = at;
    c.dims.queue = to;
    c.dims.agent.clear();
    c.answered = false;
    c.accepted_at_us = 0;
    c.completed_at_us = 0;
    s.deltas.push_back(At(BucketOf(at), QueueDims(c), Counters{.offered = 1}));
    s.then = Step::Then::kSave;
    return s;
  }
  if (type == "task_escalated") {
    const std::string to = Str(p, "queue_id");
    if (c.answered || to.empty() || to == c.dims.queue) return s;
    MoveOffer(s, c, to);
    s.then = Step::Then::kSave;
    return s;
  }
  if (type == "task_cancelled") {
    const std::string before = Str(p, "previous_status");
    if (before == "waiting" || before == "reserved" || before == "scheduled") {
      const int64_t wait = std::max<int64_t>(0, at - c.arrival_us);
      s.deltas.push_back(At(bucket, QueueDims(c),
                            Counters{.abandoned = 1,
                                     .abandoned_short = wait < kShortAbandonUs ? 1 : 0,
                                     .abandon_wait_us = wait}));
    } else if (before == "assigned" && c.answered && c.completed_at_us == 0) {
      s.deltas.push_back(At(bucket, c.dims,
                            Counters{.handled = 1,
                                     .talk_us = std::max<int64_t>(0, at - c.accepted_at_us)}));
    } else if (before == "wrap_up" && c.completed_at_us != 0) {
      s.deltas.push_back(
          At(bucket, c.dims, Counters{.wrap_us = std::max<int64_t>(0, at - c.completed_at_us)}));
    }
    s.then = Step::Then::kErase;
    return s;
  }
  return s;
}

namespace {

constexpr std::string_view kContactEvents =
    "task_created, reservation_accepted, task_completed, task_wrapped_up, task_transferred, "
    "task_escalated, task_cancelled";

const KpiDef kCatalogue[] = {
    {"offered", "Contacts offered", "count",
     "Contacts that arrived in a queue: new tasks, and transfers after an answer (a new offer "
     "in the target queue). An escalation or a transfer before any answer moves the offer.",
     "offered", kContactEvents, "Abandoned contacts are offered contacts."},
    {"answered", "Contacts answered", "count",
     "Offers accepted by an agent (the first acceptance of each offer).", "answered",
     "reservation_accepted", "Not counted."},
    {"abandoned", "Contacts abandoned", "count",
     "Offers that ended before an agent accepted them (the customer left, or the task "
     "expired or was cancelled while waiting, reserved or scheduled).",
     "abandoned", "task_cancelled", "All abandons, short ones included."},
    {"abandoned_short", "Short abandons", "count",
     "Abandons within 5 seconds of arrival in the queue.", "abandoned_short", "task_cancelled",
     "Only abandons that waited less than 5 s."},
    {"handled", "Contacts handled", "count",
     "Answered contacts whose handling ended: completed, transferred out by the agent, or "
     "ended by the customer while assigned.",
     "handled", "task_completed, task_transferred, task_cancelled", "Not counted."},
    {"service_level", "Service level", "ratio",
     "Share of offered contacts that ended (answered or abandoned) which were answered within "
     "the queue's service-level threshold (routing's service_level_threshold_s).",
     "answered_in_sl / (answered + abandoned)", "reservation_accepted, task_cancelled",
     "Every abandon counts against the service level."},
    {"service_level_excl_short_abandons", "Service level, short abandons excluded", "ratio",
     "As service_level, with abandons under 5 s removed from the denominator.",
     "answered_in_sl / (answered + abandoned - abandoned_short)",
     "reservation_accepted, task_cancelled", "Abandons under 5 s are excluded."},
    {"abandonment_rate", "Abandonment rate", "ratio",
     "Share of offered contacts that ended which were abandoned.",
     "abandoned / (answered + abandoned)", "reservation_accepted, task_cancelled",
     "All abandons."},
    {"abandonment_rate_excl_short", "Abandonment rate, short abandons excluded", "ratio",
     "As abandonment_rate, without abandons under 5 s in numerator and denominator.",
     "(abandoned - abandoned_short) / (answered + abandoned - abandoned_short)",
     "reservation_accepted, task_cancelled", "Abandons under 5 s are excluded."},
    {"asa", "Average speed of answer", "seconds",
     "Mean wait of answered contacts, from first arrival to the agent's acceptance.",
     "answer_wait / answered", "reservation_accepted", "Abandoned contacts are not in it."},
    {"average_abandon_time", "Average time to abandon", "seconds",
     "Mean wait of abandoned contacts before they left.", "abandon_wait / abandoned",
     "task_cancelled", "Only abandoned contacts."},
    {"aht", "Average handle time", "seconds",
     "Mean time an agent spent on a handled contact: talk (acceptance to completion) plus "
     "after-contact work (completion to the end of wrap-up).",
     "(talk + wrap) / handled", "reservation_accepted, task_completed, task_wrapped_up",
     "Abandoned contacts are not in it."},
    {"att", "Average talk time", "seconds", "Mean time from acceptance to completion.",
     "talk / handled", "reservation_accepted, task_completed", "Not in it."},
    {"acw", "Average after-contact work", "seconds", "Mean wrap-up time per handled contact.",
     "wrap / handled", "task_completed, task_wrapped_up", "Not in it."},
    {"transfer_rate", "Transfer rate", "ratio",
     "Share of handled contacts the agent transferred to another queue or agent.",
     "transferred / handled", "task_transferred", "Not in it."},
};

std::optional<double> Ratio(int64_t num, int64_t den) {
  if (den <= 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

std::optional<double> Seconds(int64_t us, int64_t den) {
  if (den <= 0) return std::nullopt;
  return static_cast<double>(us) / 1e6 / static_cast<double>(den);
}

std::vector<std::string_view> SplitList(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= s.size()) {
    const size_t j = std::min(s.find(',', i), s.size());
    std::string_view part = s.substr(i, j - i);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    out.push_back(part);
    i = j + 1;
  }
  return out;
}

const std::string& DimOf(const Dims& d, Dim which) {
  switch (which) {
    case Dim::kQueue: return d.queue;
    case Dim::kChannel: return d.channel;
    case Dim::kIntent: return d.intent;
    case Dim::kLanguage: return d.language;
    case Dim::kAgent: return d.agent;
  }
  return d.queue;
}

std::string Two(int64_t v) {
  std::string s = std::to_string(v);
  return s.size() < 2 ? "0" + s : s;
}

// The local label of a bucket: "YYYY-MM-DDTHH:MM" (interval), "YYYY-MM-DDTHH:00" (hour) or
// "YYYY-MM-DD" (day). A repeated local hour (clocks going back) keeps both hours apart by
// adding the UTC offset to interval and hour labels.
std::string TimeLabel(TimeGroup g, const ZoneRules& zone, int64_t bucket_us) {
  const int64_t utc_s = bucket_us / 1000000;
  const int64_t offset = zone.OffsetAtUtcS(utc_s);
  const int64_t local = utc_s + offset;
  int64_t days = local / 86400;
  if (local % 86400 < 0) --days;
  const int64_t sod = local - days * 86400;
  std::string date = FormatIsoDate(days);
  if (g == TimeGroup::kDay) return date;
  const int64_t minute = g == TimeGroup::kHour ? 0 : (sod % 3600) / 60;
  std::string label = date + "T" + Two(sod / 3600) + ":" + Two(minute);
  // The offset, so that the two 01:30s of a night when clocks go back stay two rows.
  const int64_t a = offset < 0 ? -offset : offset;
  label += (offset < 0 ? "-" : "+") + Two(a / 3600) + ":" + Two((a % 3600) / 60);
  return label;
}

double Round(double v, std::string_view unit) {
  const double scale = unit == "ratio" ? 10000.0 : unit == "seconds" ? 10.0 : 1.0;
  return std::round(v * scale) / scale;
}

Json Value(std::optional<double> v, std::string_view unit) {
  if (!v) return Json();
  if (unit == "count") return static_cast<int64_t>(std::llround(*v));
  return Round(*v, unit);
}

Json Counts(const Counters& c) {
  Json j = Json::object();
  const auto v = CounterValues(c);
  for (size_t i = 0; i < kCounterColumns.size(); ++i) j[std::string(kCounterColumns[i])] = v[i];
  return j;
}

}  // namespace

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::span<const KpiDef> Catalogue() { return kCatalogue; }

const KpiDef* FindKpi(std::string_view id) {
  for (const auto& k : kCatalogue) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

std::optional<double> Compute(std::string_view kpi, const Counters& c) {
  const int64_t ended = c.answered + c.abandoned;
  const int64_t ended_long = ended - c.abandoned_short;
  if (kpi == "offered") return static_cast<double>(c.offered);
  if (kpi == "answered") return static_cast<double>(c.answered);
  if (kpi == "abandoned") return static_cast<double>(c.abandoned);
  if (kpi == "abandoned_short") return static_cast<double>(c.abandoned_short);
  if (kpi == "handled") return static_cast<double>(c.handled);
  if (kpi == "service_level") return Ratio(c.answered_in_sl, ended);
  if (kpi == "service_level_excl_short_abandons") return Ratio(c.answered_in_sl, ended_long);
  if (kpi == "abandonment_rate") return Ratio(c.abandoned, ended);
  if (kpi == "abandonment_rate_excl_short") {
    return Ratio(c.abandoned - c.abandoned_short, ended_long);
  }
  if (kpi == "asa") return Seconds(c.answer_wait_us, c.answered);
  if (kpi == "average_abandon_time") return Seconds(c.abandon_wait_us, c.abandoned);
  if (kpi == "aht") return Seconds(c.talk_us + c.wrap_us, c.handled);
  if (kpi == "att") return Seconds(c.talk_us, c.handled);
  if (kpi == "acw") return Seconds(c.wrap_us, c.handled);
  if (kpi == "transfer_rate") return Ratio(c.transferred, c.handled);
  return std::nullopt;
}

std::optional<double> Reported(std::string_view kpi, const Counters& c) {
  const KpiDef* def = FindKpi(kpi);
  auto v = Compute(kpi, c);
  if (!v || def == nullptr) return v;
  return Round(*v, def->unit);
}

Result<Query> ParseQuery(std::string_view from, std::string_view to, std::string_view group_by,
                         std::string_view kpi, std::string_view zone) {
  Query q;
  if (from.empty()) return Error::Invalid("from", "required", "from is required (RFC 3339)");
  if (to.empty()) return Error::Invalid("to", "required", "to is required (RFC 3339)");
  OPSBOX_ASSIGN_OR_RETURN(Instant f, ParseRfc3339(from, "from"));
  OPSBOX_ASSIGN_OR_RETURN(Instant t, ParseRfc3339(to, "to"));
  if (f.us % kBucketUs != 0) {
    return Error::Invalid("from", "interval_boundary",
                          "from must be on a 15-minute boundary (:00, :15, :30 or :45)");
  }
  if (t.us % kBucketUs != 0) {
    return Error::Invalid("to", "interval_boundary",
                          "to must be on a 15-minute boundary (:00, :15, :30 or :45)");
  }
  if (t.us <= f.us) return Error::Invalid("to", "after_from", "to must be after from");
  if (t.us - f.us > kRangeDaysMax * 86400LL * 1000000) {
    return Error::Invalid("to", "range_max",
                          "to - from must be at most " + std::to_string(kRangeDaysMax) + " days");
  }
  q.from_us = f.us;
  q.to_us = t.us;
  if (!group_by.empty()) {
    for (std::string_view g : SplitList(group_by)) {
      const std::string name(g);
      if (std::find(q.group_by.begin(), q.group_by.end(), name) != q.group_by.end()) {
        return Error::Invalid("group_by", "unique", name + " is named twice");
      }
      TimeGroup tg = g == "interval" ? TimeGroup::kInterval
                     : g == "hour"   ? TimeGroup::kHour
                     : g == "day"    ? TimeGroup::kDay
                                     : TimeGroup::kNone;
      if (tg != TimeGroup::kNone) {
        if (q.time != TimeGroup::kNone) {
          return Error::Invalid("group_by", "one_time_grouping",
                                "group_by names at most one of interval, hour and day");
        }
        q.time = tg;
      } else if (g == "queue" || g == "channel" || g == "intent" || g == "language" ||
                 g == "agent") {
        q.dims.push_back(g == "queue"     ? Dim::kQueue
                         : g == "channel" ? Dim::kChannel
                         : g == "intent"  ? Dim::kIntent
                         : g == "language" ? Dim::kLanguage
                                           : Dim::kAgent);
      } else {
        return Error::Invalid("group_by", "enum",
                              "group_by is a comma-separated list of queue, channel, intent, "
                              "language, agent, interval, hour, day; \"" + name + "\" is none");
      }
      q.group_by.push_back(name);
    }
  }
  if (kpi.empty()) {
    for (const auto& k : kCatalogue) q.kpis.emplace_back(k.id);
  } else {
    for (std::string_view k : SplitList(kpi)) {
      if (FindKpi(k) == nullptr) {
        return Error::Invalid("kpi", "catalogue",
                              "\"" + std::string(k) +
                                  "\" is not in the KPI catalogue (GET …/kpis/catalogue)");
      }
      if (std::find(q.kpis.begin(), q.kpis.end(), k) != q.kpis.end()) {
        return Error::Invalid("kpi", "unique", std::string(k) + " is named twice");
      }
      q.kpis.emplace_back(k);
    }
  }
  q.zone = zone.empty() ? "UTC" : std::string(zone);
  return q;
}

std::vector<Group> Fold(const Query& q, const ZoneRules& zone, std::span<const BucketRow> rows) {
  std::map<std::vector<std::string>, Counters> groups;
  for (const BucketRow& r : rows) {
    std::vector<std::string> keys;
    keys.reserve(q.group_by.size());
    size_t dim = 0;
    for (const std::string& g : q.group_by) {
      if (g == "interval" || g == "hour" || g == "day") {
        keys.push_back(TimeLabel(q.time, zone, r.bucket_us));
      } else {
        keys.push_back(DimOf(r.dims, q.dims[dim++]));
      }
    }
    groups[std::move(keys)] += r.c;
  }
  std::vector<Group> out;
  out.reserve(groups.size());
  for (auto& [k, c] : groups) out.push_back(Group{k, c});
  return out;
}

Json ToJson(const Query& q, std::span<const Group> groups) {
  Json rows = Json::array();
  Counters total;
  auto figures = [&](Json& j, const Counters& c) {
    for (const std::string& k : q.kpis) j[k] = Value(Compute(k, c), FindKpi(k)->unit);
    j["counts"] = Counts(c);
  };
  for (const Group& g : groups) {
    Json row = Json::object();
    for (size_t i = 0; i < q.group_by.size(); ++i) row[q.group_by[i]] = g.keys[i];
    figures(row, g.c);
    rows.push_back(std::move(row));
    total += g.c;
  }
  Json totals = Json::object();
  figures(totals, total);
  return Json{{"from", FormatRfc3339(Instant{q.from_us})},
              {"to", FormatRfc3339(Instant{q.to_us})},
              {"zone", q.zone},
              {"group_by", q.group_by},
              {"kpis", q.kpis},
              {"rows", std::move(rows)},
              {"totals", std::move(totals)}};
}

std::string ToCsv(const Query& q, std::span<const Group> groups) {
  std::string out;
  bool first = true;
  for (const auto& name : q.group_by) {
    out += (first ? "" : ",") + CsvField(name);
    first = false;
  }
  for (const auto& k : q.kpis) {
    out += (first ? "" : ",") + CsvField(k);
    first = false;
  }
  out += "\r\n";
  for (const Group& g : groups) {
    first = true;
    for (const auto& key : g.keys) {
      out += (first ? "" : ",") + CsvField(key);
      first = false;
    }
    for (const auto& k : q.kpis) {
      const Json v = Value(Compute(k, g.c), FindKpi(k)->unit);
      out += (first ? "" : ",") + (v.is_null() ? std::string() : v.dump());
      first = false;
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace opsbox::kpis
