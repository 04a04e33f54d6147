// KPIs (issue #13, "KPIs"): contact-centre figures computed from the ledger.
//
// Aggregates. The Aggregator keeps kpi_intervals (migration 15): one row per 15-minute UTC
// bucket x queue x channel x intent x language x agent with additive counters (Counters). Every
// figure is attributed to the bucket in which the contact ARRIVED in its queue (as WFM does),
// so a contact offered at 23:55 and answered at 00:05 counts in the 23:45 bucket of the
// earlier day; figures that become known later (handle time, wrap-up) are added to that bucket
// when they happen. 15-minute UTC buckets are also 15-minute local buckets in every IANA zone
// (all offsets are whole quarter hours), so any local interval, hour or day, across DST
// changes, is a sum of whole buckets. kpi_tasks keeps each open contact's arrival bucket and
// dimensions until it ends.
//
// Off the writer (docs/decisions/0021-kpi-aggregates-follow-the-ledger.md): the writer's
// committed listener only copies the routing events into a queue; the aggregator's thread
// applies them in batches (deltas of a batch merged per row) in its own transaction, which
// also advances kpi_watermarks.seq, the tenant's last ledger seq applied. So the aggregates are
// exactly once and rebuildable: at Start, at a gap in the seqs the listener saw (events another
// cluster node wrote) and on Sync, the aggregator reads the tenant's events after its
// watermark from ledger_events. Reads lag the ledger by at most the flush interval.
//
// A contact, from the routing events (src/routing/service.hpp):
//   task_created           offered +1 (agent "": offers are not attributable to an agent).
//                          intent, language: the task's attributes (kDimBytesMax bytes kept).
//   reservation_accepted   the first answer of this offer: answered +1, answered_in_sl +1 when
//                          routing judged it within the queue's threshold, answer_wait += wait
//                          (routing measures the wait from the contact's first arrival, which
//                          is what the customer waited), on the answering agent's row.
//   task_completed         handled +1, talk += completed - accepted (agent's row).
//   task_wrapped_up        wrap += wrapped - completed (agent's row).
//   task_transferred       from an answered contact: handled +1, talk, transferred +1 on the
//                          first agent's row; then a new offer in the target queue, arriving
//                          at the transfer (offered +1 there). From a waiting contact: the
//                          offer moves (offered -1 where it was, +1 in the target queue, same
//                          arrival bucket).
//   task_escalated         to another queue: the offer moves as above.
//   task_cancelled         while waiting, reserved or scheduled: abandoned +1, abandon_wait +=
//                          cancelled - arrival, abandoned_short +1 when that wait is below
//                          kShortAbandonUs. While assigned: handled +1 with its talk; in
//                          wrap-up: its wrap.
//
// KPIs (Catalogue() has each one's definition, formula, unit, source events and how
// abandonment is treated) are ratios of summed counters; a KPI whose denominator is 0 is null.
//
// Queries: GET /api/v1/tenants/{tenant}/kpis?from=&to=&group_by=&kpi=&zone=&format=csv.
// from/to are RFC 3339 instants on a 15-minute boundary, to - from at most kRangeDaysMax days;
// group_by is a comma-separated subset of queue, channel, intent, language, agent and one of
// interval, hour, day (local to `zone`, default UTC); kpi a comma-separated subset of the
// catalogue (default: all). The store sums counters in SQL grouped by the named dimensions (and
// the bucket when a time grouping is asked), and the pure Fold groups buckets by local time.
//
// Rebuild: the command rebuild_kpis {} records kpis_rebuilt {through_seq}; the aggregator then
// deletes the tenant's aggregates and replays its routing events up to that seq, in one
// transaction of its own.
//
// Thread safety: pure functions are reentrant; Aggregator's methods may be called from any
// thread; queries on the caller's connection.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox {
class ZoneRules;
}

namespace opsbox::kpis {

inline constexpr int64_t kBucketUs = 15LL * 60 * 1000000;
inline constexpr int64_t kDayUs = 86400LL * 1000000;
inline constexpr int64_t kShortAbandonUs = 5LL * 1000000;  // a "short abandon": under 5 s
inline constexpr size_t kDimBytesMax = 64;                 // intent and language kept
inline constexpr int64_t kRangeDaysMax = 400;              // one query's from..to
inline constexpr size_t kRowsMax = 100000;                 // rows one query answers

inline constexpr std::string_view kRebuildKpis = "rebuild_kpis";
inline constexpr std::string_view kKpisRebuilt = "kpis_rebuilt";
inline constexpr std::string_view kPermRead = "kpis.read";
inline constexpr std::string_view kPermRebuild = "kpis.rebuild";

struct Dims {
  std::string queue;
  std::string channel;
  std::string intent;
  std::string language;
  std::string agent;
  bool operator==(const Dims&) const = default;
};

// Additive counters of one bucket x dimensions; times in microseconds.
struct Counters {
  int64_t offered = 0;
  int64_t answered = 0;
  int64_t answered_in_sl = 0;
  int64_t abandoned = 0;
  int64_t abandoned_short = 0;
  int64_t answer_wait_us = 0;
  int64_t abandon_wait_us = 0;
  int64_t handled = 0;
  int64_t talk_us = 0;
  int64_t wrap_us = 0;
  int64_t transferred = 0;
  Counters& operator+=(const Counters& o);
  bool operator==(const Counters&) const = default;
};

// The counter columns of kpi_intervals, in Counters' order.
std::span<const std::string_view> CounterColumns();
Counters CountersFromValues(std::span<const int64_t> values);  // in CounterColumns() order
std::vector<int64_t> CounterValues(const Counters& c);

struct Delta {
  int64_t bucket_us = 0;
  Dims dims;
  Counters c;
};

// One open contact (a row of kpi_tasks).
struct Contact {
  int64_t arrival_us = 0;  // arrival in its current queue
  Dims dims;               // agent: the answering agent once answered
  bool answered = false;
  int64_t accepted_at_us = 0;
  int64_t completed_at_us = 0;
};

// What one event does to a contact.
struct Step {
  std::vector<Delta> deltas;
  enum class Then { kKeep, kSave, kErase } then = Then::kKeep;
};

// The event types the aggregates follow.
std::span<const std::string_view> TrackedEvents();
// Pure. `contact` is the contact's state (empty for task_created, nullopt when unknown: an
// event of a contact created before the aggregates existed adds nothing).
Step Apply(std::string_view event_type, const Json& payload, std::optional<Contact>& contact);

// The bucket (UTC, floor) of an instant.
int64_t BucketOf(int64_t at_us);

struct KpiDef {
  std::string_view id;
  std::string_view name;
  std::string_view unit;  // "count", "ratio" (0..1), "seconds"
  std::string_view definition;
  std::string_view formula;
  std::string_view source_events;
  std::string_view abandonment;
};
std::span<const KpiDef> Catalogue();
const KpiDef* FindKpi(std::string_view id);
// A KPI's value over summed counters; nullopt when its denominator is 0.
std::optional<double> Compute(std::string_view kpi, const Counters& c);
// As reported (the API, CSV, invoices): ratios to 4 decimals, seconds to 1, counts whole.
std::optional<double> Reported(std::string_view kpi, const Counters& c);

enum class Dim { kQueue, kChannel, kIntent, kLanguage, kAgent };
enum class TimeGroup { kNone, kInterval, kHour, kDay };

struct Query {
  int64_t from_us = 0;
  int64_t to_us = 0;
  std::vector<Dim> dims;  // in the order asked
  TimeGroup time = TimeGroup::kNone;
  std::vector<std::string> group_by;  // the names as asked (column order of the answer)
  std::vector<std::string> kpis;      // ids, in the order asked
  std::string zone = "UTC";
};

// Pure: validates the query parameters (absent ones as empty views). Errors name the field
// (from, to, group_by, kpi, zone) and the rule.
Result<Query> ParseQuery(std::string_view from, std::string_view to, std::string_view group_by,
                         std::string_view kpi, std::string_view zone);

// A stored row: a bucket (or 0 when the query has no time grouping) and the grouped dims.
struct BucketRow {
  int64_t bucket_us = 0;
  Dims dims;
  Counters c;
};

struct Group {
  std::vector<std::string> keys;  // one per Query::group_by
  Counters c;
};

// Pure: groups bucket rows by the query's time grouping (local to `zone`) and dimensions;
// groups sorted by keys.
std::vector<Group> Fold(const Query& q, const ZoneRules& zone, std::span<const BucketRow> rows);

// {from, to, zone, group_by, kpis, rows: [{<group keys>, <kpi>: value|null, counts: {...}}],
//  totals: {<kpi>: value|null, counts}}.
Json ToJson(const Query& q, std::span<const Group> groups);
// CSV (RFC 4180): the group_by columns then the KPIs; a null value is an empty field.
std::string ToCsv(const Query& q, std::span<const Group> groups);
// One RFC 4180 field: quoted (quotes doubled) when it holds a comma, quote or line break.
std::string CsvField(std::string_view s);

struct AggregatorOptions {
  int flush_interval_ms = 200;   // how long events wait in the queue at most
  size_t batch_events_max = 20000;  // events applied in one transaction
  size_t queue_events_max = 1000000;  // past this the listener drops and marks a gap
  bool run_thread = true;  // false: nothing is applied until Sync (tests, the CLI)
};

// Follows the ledger's routing events into kpi_intervals and kpi_tasks.
class Aggregator {
 public:
  explicit Aggregator(store::Database& db, AggregatorOptions options = {});
  ~Aggregator();
  Aggregator(const Aggregator&) = delete;
  Aggregator& operator=(const Aggregator&) = delete;
  // The committed listener, the rebuild command and its event. Once, before the writer starts.
  void Register(ledger::Registry& registry);
  // Catches every tenant up from its watermark, then starts the thread.
  Status Start();
  void Stop();  // idempotent; applies what is queued first
  // Applies everything the tenant's ledger holds now (reads past the watermark), so a read
  // after it sees every event committed before the call.
  Status Sync(const std::string& tenant);
  // Events queued and not yet applied; events applied since start (metrics).
  size_t Queued() const;
  uint64_t Applied() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Reads the tenant's aggregates for the query (SQL sums grouped by the query's dims and, when
// it groups by time, the bucket) and folds them. kInvalidArgument rule "too_many_rows" past
// kRowsMax groups.
Result<std::vector<Group>> Run(store::Connection& conn, const std::string& tenant,
                               const Query& q, const ZoneRules& zone);

}  // namespace opsbox::kpis
