// The store side of the KPIs: the Aggregator that follows the ledger into kpi_intervals,
// kpi_tasks and kpi_watermarks, the rebuild command, and the grouped read.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <spdlog/spdlog.h>
#include <thread>
#include <tuple>

#include "core/zone.hpp"
#include "kpis/kpis.hpp"
#include "ledger/event.hpp"

namespace opsbox::kpis {
namespace {

using store::Value;

const std::string kIntervalKey = "tenant_id, bucket_us, queue_id, channel, intent, language, agent";
// The roll-ups by queue and channel alone: per quarter hour and per UTC day (migration 15).
const std::string kQcIntervalKey = "tenant_id, bucket_us, queue_id, channel";
const std::string kQcDayKey = "tenant_id, day_us, queue_id, channel";

// An upsert adding counters to `table` keyed by `key` (its columns, comma-separated).
std::string UpsertSql(std::string_view table, std::string_view key) {
  std::string cols;
  std::string marks;
  std::string sets;
  for (auto c : CounterColumns()) {
    cols += ", " + std::string(c);
    marks += ", ?";
    sets += std::string(sets.empty() ? "" : ", ") + std::string(c) + " = " + std::string(table) +
            "." + std::string(c) + " + excluded." + std::string(c);
  }
  std::string key_marks = "?";
  for (char ch : key) {
    if (ch == ',') key_marks += ", ?";
  }
  return "INSERT INTO " + std::string(table) + " (" + std::string(key) + cols + ") VALUES (" +
         key_marks + marks + ") ON CONFLICT (" + std::string(key) + ") DO UPDATE SET " + sets;
}

int64_t DayOf(int64_t us) {
  int64_t d = us / kDayUs;
  if (us % kDayUs < 0) --d;
  return d * kDayUs;
}

struct ContactSlot {
  std::optional<Contact> contact;
  bool loaded = false;  // read from kpi_tasks, or known to be new
  bool dirty = false;
};

using Key = std::pair<std::string, std::string>;  // tenant, task

// One transaction's work: events applied in ledger order into merged deltas, open contacts and
// watermarks, written once at the end.
class Batch {
 public:
  explicit Batch(store::Tx& tx) : tx_(tx) {}

  Status ApplyEvent(const std::string& tenant, std::string_view type, const Json& payload) {
    auto it = payload.find("task_id");
    if (it == payload.end() || !it->is_string()) return Ok();
    const std::string task = it->get<std::string>();
    ContactSlot& slot = contacts_[Key{tenant, task}];
    if (type == "task_created") {
      slot.loaded = true;
      slot.contact.reset();
    } else if (!slot.loaded) {
      OPSBOX_ASSIGN_OR_RETURN(slot.contact, Load(tenant, task));
      slot.loaded = true;
    }
    if (type != "task_created" && !slot.contact) return Ok();
    Step step = Apply(type, payload, slot.contact);
    for (Delta& d : step.deltas) {
      deltas_[DeltaKey{tenant, d.bucket_us, std::move(d.dims)}] += d.c;
    }
    if (step.then == Step::Then::kErase) slot.contact.reset();
    if (step.then != Step::Then::kKeep) slot.dirty = true;
    ++applied_;
    return Ok();
  }

  // Forgets the tenant's aggregates: in the tables now, and what this batch holds for it.
  Status Clear(const std::string& tenant) {
    Value t[] = {tenant};
    for (std::string_view table : {"kpi_intervals", "kpi_qc_intervals", "kpi_qc_days", "kpi_tasks"}) {
      auto r = tx_.Exec("DELETE FROM " + std::string(table) + " WHERE tenant_id = ?", t);
      if (!r.ok()) return r.error();
    }
    std::erase_if(deltas_, [&](const auto& kv) { return kv.first.tenant == tenant; });
    for (auto& [k, slot] : contacts_) {
      if (k.first == tenant) slot = ContactSlot{std::nullopt, true, false};
    }
    return Ok();
  }

  // Applies the tenant's events with seq in (after, through] from ledger_events, a page at a
  // time (a statement's rows are all read before the next statement runs). A kpis_rebuilt
  // among them clears the tenant and replays everything before it (the rebuilds before that
  // one change nothing: a replay from the start is what each of them did).
  Status Replay(const std::string& tenant, int64_t after, int64_t through,
                bool rebuilds = true) {
    std::string in = "?";
    for (size_t i = 0; i < TrackedEvents().size(); ++i) in += ", ?";
    const std::string sql = "SELECT seq, type, payload FROM ledger_events WHERE tenant_id = ? "
                            "AND seq > ? AND seq <= ? AND type IN (" + in +
                            ") ORDER BY seq LIMIT " + std::to_string(kReplayPage);
    for (int64_t from = after;;) {
      std::vector<Value> p{tenant, from, through, std::string(kKpisRebuilt)};
      for (auto type : TrackedEvents()) p.emplace_back(std::string(type));
      OPSBOX_ASSIGN_OR_RETURN(auto rows, tx_.Query(sql, p));
      for (const auto& r : rows) {
        if (r.Text(1) == kKpisRebuilt) {
          if (rebuilds) {
            OPSBOX_TRY(Clear(tenant));
            OPSBOX_TRY(Replay(tenant, 0, r.Int(0) - 1, /*rebuilds=*/false));
          }
          from = r.Int(0);
          continue;
        }
        Json j = Json::parse(r.Text(2), nullptr, false);
        if (!j.is_discarded() && j.is_object()) OPSBOX_TRY(ApplyEvent(tenant, r.Text(1), j));
        from = r.Int(0);
      }
      if (rows.size() < kReplayPage) return Ok();
    }
  }

  Result<int64_t> LastSeq(const std::string& tenant) {
    Value p[] = {tenant};
    OPSBOX_ASSIGN_OR_RETURN(
        auto rows,
        tx_.Query("SELECT COALESCE(MAX(seq), 0) FROM ledger_events WHERE tenant_id = ?", p));
    return rows.empty() ? 0 : rows[0].Int(0);
  }

  void SetWatermark(const std::string& tenant, int64_t seq) { watermarks_[tenant] = seq; }

  Status Write() {
    static const std::string upsert = UpsertSql("kpi_intervals", kIntervalKey);
    static const std::string upsert_qc = UpsertSql("kpi_qc_intervals", kQcIntervalKey);
    static const std::string upsert_day = UpsertSql("kpi_qc_days", kQcDayKey);
    using QcKey = std::tuple<std::string, int64_t, std::string, std::string>;
    std::map<QcKey, Counters> qc, days;
    auto exec = [&](const std::string& sql, std::vector<Value> p, const Counters& c) -> Status {
      for (int64_t v : CounterValues(c)) p.emplace_back(v);
      auto r = tx_.Exec(sql, p);
      if (!r.ok()) return r.error();
      return Ok();
    };
    for (const auto& [k, c] : deltas_) {
      if (c == Counters{}) continue;
      OPSBOX_TRY(exec(upsert,
                      {k.tenant, k.bucket_us, k.dims.queue, k.dims.channel, k.dims.intent,
                       k.dims.language, k.dims.agent},
                      c));
      qc[QcKey{k.tenant, k.bucket_us, k.dims.queue, k.dims.channel}] += c;
      days[QcKey{k.tenant, DayOf(k.bucket_us), k.dims.queue, k.dims.channel}] += c;
    }
    for (const auto& [k, c] : qc) {
      OPSBOX_TRY(exec(upsert_qc, {std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k)}, c));
    }
    for (const auto& [k, c] : days) {
      OPSBOX_TRY(exec(upsert_day, {std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k)}, c));
    }
    for (const auto& [k, slot] : contacts_) {
      if (!slot.dirty) continue;
      if (slot.contact) {
        OPSBOX_TRY(Save(k.first, k.second, *slot.contact));
      } else {
        Value p[] = {k.first, k.second};
        auto r = tx_.Exec("DELETE FROM kpi_tasks WHERE tenant_id = ? AND task_id = ?", p);
        if (!r.ok()) return r.error();
      }
    }
    for (const auto& [tenant, seq] : watermarks_) {
      Value p[] = {tenant, seq};
      auto r = tx_.Exec("INSERT INTO kpi_watermarks (tenant_id, seq) VALUES (?, ?) ON CONFLICT "
                        "(tenant_id) DO UPDATE SET seq = excluded.seq",
                        p);
      if (!r.ok()) return r.error();
    }
    return Ok();
  }

  uint64_t applied() const { return applied_; }

 private:
  static constexpr size_t kReplayPage = 5000;

  struct DeltaKey {
    std::string tenant;
    int64_t bucket_us;
    Dims dims;
    bool operator<(const DeltaKey& o) const {
      return std::tie(tenant, bucket_us, dims.queue, dims.channel, dims.intent, dims.language,
                      dims.agent) < std::tie(o.tenant, o.bucket_us, o.dims.queue, o.dims.channel,
                                             o.dims.intent, o.dims.language, o.dims.agent);
    }
  };

  Result<std::optional<Contact>> Load(const std::string& tenant, const std::string& task) {
    Value p[] = {tenant, task};
    OPSBOX_ASSIGN_OR_RETURN(
        auto rows, tx_.Query("SELECT arrival_us, queue_id, channel, intent, language, agent, "
                             "answered, accepted_at_us, completed_at_us FROM kpi_tasks WHERE "
                             "tenant_id = ? AND task_id = ?",
                             p));
    if (rows.empty()) return std::optional<Contact>();
    const auto& r = rows[0];
    Contact c;
    c.arrival_us = r.Int(0);
    c.dims = Dims{r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5)};
    c.answered = r.Int(6) != 0;
    c.accepted_at_us = r.Int(7);
    c.completed_at_us = r.Int(8);
    return std::optional<Contact>(std::move(c));
  }

  Status Save(const std::string& tenant, const std::string& task, const Contact& c) {
    Value p[] = {tenant,         task,          c.arrival_us,    c.dims.queue,
                 c.dims.channel, c.dims.intent, c.dims.language, c.dims.agent,
                 int64_t{c.answered ? 1 : 0},   c.accepted_at_us, c.completed_at_us};
    auto r = tx_.Exec(
        "INSERT INTO kpi_tasks (tenant_id, task_id, arrival_us, queue_id, channel, intent, "
        "language, agent, answered, accepted_at_us, completed_at_us) VALUES (?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?) ON CONFLICT (tenant_id, task_id) DO UPDATE SET arrival_us = "
        "excluded.arrival_us, queue_id = excluded.queue_id, channel = excluded.channel, intent = "
        "excluded.intent, language = excluded.language, agent = excluded.agent, answered = "
        "excluded.answered, accepted_at_us = excluded.accepted_at_us, completed_at_us = "
        "excluded.completed_at_us",
        p);
    if (!r.ok()) return r.error();
    return Ok();
  }

  store::Tx& tx_;
  std::map<DeltaKey, Counters> deltas_;
  std::map<Key, ContactSlot> contacts_;
  std::map<std::string, int64_t> watermarks_;
  uint64_t applied_ = 0;
};

Result<ledger::Decision> HandleRebuild(store::Tx& tx, const ledger::Command& cmd, Instant,
                                       Random&) {
  if (!cmd.payload.is_object() || !cmd.payload.empty()) {
    return Error::Invalid("body", "empty_object", "rebuild_kpis takes an empty object {}");
  }
  Value p[] = {cmd.tenant_id};
  OPSBOX_ASSIGN_OR_RETURN(auto rows,
                          tx.Query("SELECT COALESCE(MAX(seq), 0) FROM ledger_events WHERE "
                                   "tenant_id = ?",
                                   p));
  const int64_t through = rows.empty() ? 0 : rows[0].Int(0);
  ledger::Decision d;
  d.events.push_back(ledger::NewEvent{std::string(kKpisRebuilt), Json{{"through_seq", through}}});
  d.result = Json{{"through_seq", through}};
  return d;
}

bool Tracked(std::string_view type) {
  for (auto t : TrackedEvents()) {
    if (t == type) return true;
  }
  return false;
}

// A tenant's events of one committed batch: seqs first..last without a gap; the tracked ones
// (and kpis_rebuilt) with their payloads.
struct EventRun {
  std::string tenant;
  int64_t first = 0;
  int64_t last = 0;
  struct Item {
    int64_t seq;
    std::string type;
    std::string payload;
  };
  std::vector<Item> items;
};

}  // namespace

struct Aggregator::State {
  store::Database& db;
  AggregatorOptions options;
  mutable std::mutex mu;  // queue, queued_items, catch_up, stop
  std::condition_variable wake;
  std::deque<EventRun> queue;
  size_t queued_items = 0;
  std::set<std::string> catch_up;  // tenants to read from the ledger
  bool stop = false;
  bool started = false;
  std::thread thread;
  std::mutex process_mu;  // one transaction at a time; guards watermarks and conn
  std::map<std::string, int64_t> watermarks;  // as committed
  std::unique_ptr<store::Connection> conn;
  std::atomic<uint64_t> applied{0};

  State(store::Database& d, AggregatorOptions o) : db(d), options(o) {}

  Result<int64_t> Watermark(store::Tx& tx, const std::string& tenant) {
    auto it = watermarks.find(tenant);
    if (it != watermarks.end()) return it->second;
    Value p[] = {tenant};
    OPSBOX_ASSIGN_OR_RETURN(auto rows,
                            tx.Query("SELECT seq FROM kpi_watermarks WHERE tenant_id = ?", p));
    return rows.empty() ? int64_t{0} : rows[0].Int(0);
  }

  // Applies `runs` and catches `tenants` up from the ledger, in one transaction.
  Status Process(std::vector<EventRun> runs, const std::set<std::string>& tenants) {
    std::lock_guard lock(process_mu);
    if (!conn) {
      OPSBOX_ASSIGN_OR_RETURN(conn, db.Connect());
    }
    auto tx = conn->Begin();
    if (!tx.ok()) {
      conn.reset();
      return tx.error();
    }
    Batch batch(**tx);
    std::map<std::string, int64_t> wm;  // this transaction's watermarks
    auto current = [&](const std::string& t) -> Result<int64_t> {
      if (auto it = wm.find(t); it != wm.end()) return it->second;
      OPSBOX_ASSIGN_OR_RETURN(const int64_t w, Watermark(**tx, t));
      wm[t] = w;
      return w;
    };
    auto mark = [&](const std::string& t, int64_t seq) {
      wm[t] = seq;
      batch.SetWatermark(t, seq);
    };
    auto catch_up = [&](const std::string& t) -> Status {
      OPSBOX_ASSIGN_OR_RETURN(const int64_t from, current(t));
      OPSBOX_ASSIGN_OR_RETURN(const int64_t hi, batch.LastSeq(t));
      if (hi <= from) return Ok();
      OPSBOX_TRY(batch.Replay(t, from, hi));
      mark(t, hi);
      return Ok();
    };
    for (const auto& t : tenants) OPSBOX_TRY(catch_up(t));
    for (const EventRun& run : runs) {
      OPSBOX_ASSIGN_OR_RETURN(const int64_t at, current(run.tenant));
      if (run.last <= at) continue;
      if (run.first > at + 1) {  // events this node never saw: read them from the ledger
        OPSBOX_TRY(catch_up(run.tenant));
        continue;
      }
      for (const auto& item : run.items) {
        if (item.seq <= at) continue;
        if (item.type == kKpisRebuilt) {
          OPSBOX_TRY(batch.Clear(run.tenant));
          OPSBOX_TRY(batch.Replay(run.tenant, 0, item.seq - 1, /*rebuilds=*/false));
          continue;
        }
        Json j = Json::parse(item.payload, nullptr, false);
        if (!j.is_discarded() && j.is_object()) {
          OPSBOX_TRY(batch.ApplyEvent(run.tenant, item.type, j));
        }
      }
      mark(run.tenant, run.last);
    }
    Status st = batch.Write();
    if (st.ok()) st = (*tx)->Commit();
    if (!st.ok()) {
      conn.reset();
      return st;
    }
    for (const auto& [t, seq] : wm) watermarks[t] = seq;
    applied += batch.applied();
    return Ok();
  }

  // Takes what is queued: at most batch_events_max events (all when `all`).
  std::vector<EventRun> Drain(bool all) {
    std::vector<EventRun> runs;
    size_t n = 0;
    while (!queue.empty() && (all || n < options.batch_events_max)) {
      n += queue.front().items.size() + 1;
      queued_items -= queue.front().items.size();
      runs.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    return runs;
  }

  void Loop() {
    // First every tenant the server knows; the others catch up at their first event.
    if (auto c = db.Connect(); c.ok()) {
      if (auto rows = (*c)->Query("SELECT tenant_id FROM tenants"); rows.ok()) {
        std::lock_guard lock(mu);
        for (const auto& r : *rows) catch_up.insert(r.Text(0));
      }
    }
    for (;;) {
      std::vector<EventRun> runs;
      std::set<std::string> tenants;
      bool stopping = false;
      {
        std::unique_lock lock(mu);
        wake.wait_for(lock, std::chrono::milliseconds(options.flush_interval_ms), [&] {
          return stop || queued_items >= options.batch_events_max || !catch_up.empty();
        });
        stopping = stop;
        runs = Drain(stopping);
        tenants.swap(catch_up);
      }
      if (!runs.empty() || !tenants.empty()) {
        std::set<std::string> touched = tenants;
        for (const auto& r : runs) touched.insert(r.tenant);
        Status st = Process(std::move(runs), tenants);
        if (!st.ok()) {
          // The runs are gone from the queue; their tenants read the ledger again.
          spdlog::warn("kpis: applying events failed, catching up from the ledger: {}",
                       st.error().ToString());
          std::unique_lock lock(mu);
          catch_up.insert(touched.begin(), touched.end());
          if (stopping) return;
          wake.wait_for(lock, std::chrono::seconds(1), [&] { return stop; });
        }
      }
      if (stopping) return;
    }
  }

  void OnCommitted(const std::vector<ledger::Event>& events) {
    bool full = false;
    {
      std::lock_guard lock(mu);
      // Contiguous events of one tenant extend the last run, so the queue stays short.
      EventRun* run = queue.empty() ? nullptr : &queue.back();
      for (const auto& e : events) {
        if (run == nullptr || run->tenant != e.tenant_id || e.seq != run->last + 1) {
          queue.push_back(EventRun{e.tenant_id, e.seq, e.seq, {}});
          run = &queue.back();
        }
        run->last = e.seq;
        if (!Tracked(e.type) && e.type != kKpisRebuilt) continue;
        if (queued_items >= options.queue_events_max) {
          catch_up.insert(e.tenant_id);  // dropped: read from the ledger instead
          continue;
        }
        run->items.push_back(EventRun::Item{e.seq, e.type, e.payload});
        ++queued_items;
      }
      full = queued_items >= options.batch_events_max;
    }
    if (full) wake.notify_one();
  }
};

Aggregator::Aggregator(store::Database& db, AggregatorOptions options)
    : s_(std::make_unique<State>(db, options)) {}

Aggregator::~Aggregator() { Stop(); }

void Aggregator::Register(ledger::Registry& registry) {
  registry.AddCommand(std::string(kRebuildKpis), HandleRebuild);
  registry.DeclareEvents({kKpisRebuilt});
  registry.AddCommittedListener(
      [s = s_.get()](const std::vector<ledger::Event>& events) { s->OnCommitted(events); });
}

Status Aggregator::Start() {
  if (!s_->options.run_thread || s_->started) return Ok();
  s_->started = true;
  s_->thread = std::thread([s = s_.get()] { s->Loop(); });
  return Ok();
}

void Aggregator::Stop() {
  if (!s_->started) return;
  {
    std::lock_guard lock(s_->mu);
    s_->stop = true;
  }
  s_->wake.notify_one();
  if (s_->thread.joinable()) s_->thread.join();
  s_->started = false;
}

Status Aggregator::Sync(const std::string& tenant) {
  std::vector<EventRun> runs;
  {
    std::lock_guard lock(s_->mu);
    runs = s_->Drain(/*all=*/true);
  }
  return s_->Process(std::move(runs), {tenant});
}

size_t Aggregator::Queued() const {
  std::lock_guard lock(s_->mu);
  return s_->queued_items;
}

uint64_t Aggregator::Applied() const { return s_->applied.load(); }

namespace {

// One read of a table over [from, to): sums grouped by the query's dims (and the bucket
// column when the query groups by time), appended to `rows`.
Status ReadRange(store::Tx& tx, std::string_view table, std::string_view bucket_col,
                 const std::string& tenant, const Query& q, int64_t from, int64_t to,
                 std::vector<BucketRow>& rows) {
  if (from >= to) return Ok();
  std::vector<std::string> cols;
  if (q.time != TimeGroup::kNone) cols.emplace_back(bucket_col);
  for (Dim d : q.dims) {
    cols.emplace_back(d == Dim::kQueue      ? "queue_id"
                      : d == Dim::kChannel  ? "channel"
                      : d == Dim::kIntent   ? "intent"
                      : d == Dim::kLanguage ? "language"
                                            : "agent");
  }
  std::string select;
  for (const auto& c : cols) select += c + ", ";
  std::string sums;
  for (auto c : CounterColumns()) {
    sums += std::string(sums.empty() ? "" : ", ") + "CAST(SUM(" + std::string(c) + ") AS BIGINT)";
  }
  std::string sql = "SELECT " + select + sums + " FROM " + std::string(table) +
                    " WHERE tenant_id = ? AND " + std::string(bucket_col) + " >= ? AND " +
                    std::string(bucket_col) + " < ?";
  if (!cols.empty()) {
    std::string group;
    for (const auto& c : cols) group += (group.empty() ? "" : ", ") + c;
    sql += " GROUP BY " + group;
  }
  Value p[] = {tenant, from, to};
  return tx.QueryEach(sql, p, [&](const store::Row& r) -> Status {
    if (rows.size() >= kRowsMax * 4) {
      return Error::Invalid("group_by", "too_many_rows",
                            "the query groups into more than " + std::to_string(kRowsMax) +
                                " rows; group by less or ask a shorter range");
    }
    BucketRow b;
    size_t i = 0;
    if (q.time != TimeGroup::kNone) b.bucket_us = r.Int(i++);
    for (Dim d : q.dims) {
      const std::string& v = r.Text(i++);
      switch (d) {
        case Dim::kQueue: b.dims.queue = v; break;
        case Dim::kChannel: b.dims.channel = v; break;
        case Dim::kIntent: b.dims.intent = v; break;
        case Dim::kLanguage: b.dims.language = v; break;
        case Dim::kAgent: b.dims.agent = v; break;
      }
    }
    std::vector<int64_t> v;
    v.reserve(CounterColumns().size());
    for (size_t k = 0; k < CounterColumns().size(); ++k) v.push_back(r.Int(i++));
    b.c = CountersFromValues(v);
    rows.push_back(std::move(b));
    return Ok();
  });
}

bool IsUtc(const ZoneRules& zone) { return zone.Transitions().empty() && zone.OffsetAtUtcS(0) == 0; }

}  // namespace

Result<std::vector<Group>> Run(store::Connection& conn, const std::string& tenant,
                               const Query& q, const ZoneRules& zone) {
  std::vector<BucketRow> rows;
  OPSBOX_ASSIGN_OR_RETURN(auto tx, conn.BeginSnapshot());
  const bool queue_channel_only = std::all_of(q.dims.begin(), q.dims.end(), [](Dim d) {
    return d == Dim::kQueue || d == Dim::kChannel;
  });
  const bool utc_days = q.time == TimeGroup::kNone || (q.time == TimeGroup::kDay && IsUtc(zone));
  if (!queue_channel_only) {
    OPSBOX_TRY(ReadRange(*tx, "kpi_intervals", "bucket_us", tenant, q, q.from_us, q.to_us, rows));
  } else if (!utc_days) {
    OPSBOX_TRY(ReadRange(*tx, "kpi_qc_intervals", "bucket_us", tenant, q, q.from_us, q.to_us, rows));
  } else {
    // Whole UTC days from the day roll-up, the ragged ends from the quarter-hour one.
    const int64_t first_day = -DayOf(-q.from_us);
    const int64_t last_day = DayOf(q.to_us);
    if (first_day < last_day) {
      OPSBOX_TRY(ReadRange(*tx, "kpi_qc_days", "day_us", tenant, q, first_day, last_day, rows));
      OPSBOX_TRY(ReadRange(*tx, "kpi_qc_intervals", "bucket_us", tenant, q, q.from_us, first_day, rows));
      OPSBOX_TRY(ReadRange(*tx, "kpi_qc_intervals", "bucket_us", tenant, q, last_day, q.to_us, rows));
    } else {
      OPSBOX_TRY(ReadRange(*tx, "kpi_qc_intervals", "bucket_us", tenant, q, q.from_us, q.to_us, rows));
    }
  }
  // A query with no grouping and no rows still answers one total of zeros.
  auto groups = Fold(q, zone, rows);
  if (groups.size() > kRowsMax) {
    return Error::Invalid("group_by", "too_many_rows",
                          "the query groups into more than " + std::to_string(kRowsMax) +
                              " rows; group by less or ask a shorter range");
  }
  return groups;
}

}  // namespace opsbox::kpis
