// The store side of the KPIs: the projector that keeps kpi_intervals and kpi_tasks, the
// rebuild command, and the grouped read.
#include <nlohmann/json.hpp>

#include "core/zone.hpp"
#include "kpis/kpis.hpp"
#include "ledger/event.hpp"

namespace opsbox::kpis {
namespace {

using store::Value;

const std::string kIntervalKey = "tenant_id, bucket_us, queue_id, channel, intent, language, agent";

std::string UpsertSql() {
  std::string cols;
  std::string marks;
  std::string sets;
  for (auto c : CounterColumns()) {
    cols += ", " + std::string(c);
    marks += ", ?";
    sets += std::string(sets.empty() ? "" : ", ") + std::string(c) + " = kpi_intervals." +
            std::string(c) + " + excluded." + std::string(c);
  }
  return "INSERT INTO kpi_intervals (" + kIntervalKey + cols + ") VALUES (?, ?, ?, ?, ?, ?, ?" +
         marks + ") ON CONFLICT (" + kIntervalKey + ") DO UPDATE SET " + sets;
}

Result<std::optional<Contact>> LoadContact(store::Tx& tx, const std::string& tenant,
                                           const std::string& task) {
  Value p[] = {tenant, task};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT arrival_us, queue_id, channel, intent, language, agent, "
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

Status SaveContact(store::Tx& tx, const std::string& tenant, const std::string& task,
                   const Contact& c) {
  Value p[] = {tenant,          task,           c.arrival_us,      c.dims.queue,
               c.dims.channel,  c.dims.intent,  c.dims.language,   c.dims.agent,
               int64_t{c.answered ? 1 : 0}, c.accepted_at_us, c.completed_at_us};
  auto r = tx.Exec(
      "INSERT INTO kpi_tasks (tenant_id, task_id, arrival_us, queue_id, channel, intent, "
      "language, agent, answered, accepted_at_us, completed_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, "
      "?, ?, ?, ?) ON CONFLICT (tenant_id, task_id) DO UPDATE SET arrival_us = "
      "excluded.arrival_us, queue_id = excluded.queue_id, channel = excluded.channel, intent = "
      "excluded.intent, language = excluded.language, agent = excluded.agent, answered = "
      "excluded.answered, accepted_at_us = excluded.accepted_at_us, completed_at_us = "
      "excluded.completed_at_us",
      p);
  if (!r.ok()) return r.error();
  return Ok();
}

Status ApplyEvent(store::Tx& tx, const std::string& tenant, std::string_view type,
                  const Json& payload) {
  auto it = payload.find("task_id");
  if (it == payload.end() || !it->is_string()) return Ok();
  const std::string task = it->get<std::string>();
  std::optional<Contact> contact;
  if (type != "task_created") {
    OPSBOX_ASSIGN_OR_RETURN(contact, LoadContact(tx, tenant, task));
    if (!contact) return Ok();
  }
  Step s = Apply(type, payload, contact);
  static const std::string sql = UpsertSql();
  for (const Delta& d : s.deltas) {
    std::vector<Value> p{tenant,          d.bucket_us,      d.dims.queue, d.dims.channel,
                         d.dims.intent,   d.dims.language,  d.dims.agent};
    for (int64_t v : CounterValues(d.c)) p.emplace_back(v);
    auto r = tx.Exec(sql, p);
    if (!r.ok()) return r.error();
  }
  if (s.then == Step::Then::kSave) return SaveContact(tx, tenant, task, *contact);
  if (s.then == Step::Then::kErase) {
    Value p[] = {tenant, task};
    auto r = tx.Exec("DELETE FROM kpi_tasks WHERE tenant_id = ? AND task_id = ?", p);
    if (!r.ok()) return r.error();
  }
  return Ok();
}

Status Project(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
  if (!p->is_object()) return Ok();
  return ApplyEvent(tx, e.tenant_id, e.type, *p);
}

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

// Replays the tenant's contact events before this one, in ledger order, into empty tables.
Status ProjectRebuilt(store::Tx& tx, const ledger::Event& e) {
  Value t[] = {e.tenant_id};
  OPSBOX_ASSIGN_OR_RETURN(auto a, tx.Exec("DELETE FROM kpi_intervals WHERE tenant_id = ?", t));
  OPSBOX_ASSIGN_OR_RETURN(auto b, tx.Exec("DELETE FROM kpi_tasks WHERE tenant_id = ?", t));
  (void)a;
  (void)b;
  std::string in;
  std::vector<Value> p{e.tenant_id, e.seq};
  for (auto type : TrackedEvents()) {
    in += in.empty() ? "?" : ", ?";
    p.emplace_back(std::string(type));
  }
  // Read first, then apply: a statement streaming rows while the same transaction writes is
  // not portable.
  std::vector<std::pair<std::string, std::string>> events;
  OPSBOX_TRY(tx.QueryEach("SELECT type, payload FROM ledger_events WHERE tenant_id = ? AND seq < "
                          "? AND type IN (" + in + ") ORDER BY seq",
                          p, [&](const store::Row& r) {
                            events.emplace_back(r.Text(0), r.Text(1));
                            return Ok();
                          }));
  for (const auto& [type, payload] : events) {
    Json j = Json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    OPSBOX_TRY(ApplyEvent(tx, e.tenant_id, type, j));
  }
  return Ok();
}

}  // namespace

void Register(ledger::Registry& registry) {
  for (auto type : TrackedEvents()) registry.AddProjector(std::string(type), Project);
  registry.AddCommand(std::string(kRebuildKpis), HandleRebuild);
  registry.AddProjector(std::string(kKpisRebuilt), ProjectRebuilt);
}

Result<std::vector<Group>> Run(store::Connection& conn, const std::string& tenant,
                               const Query& q, const ZoneRules& zone) {
  std::vector<std::string> cols;
  if (q.time != TimeGroup::kNone) cols.emplace_back("bucket_us");
  for (Dim d : q.dims) {
    cols.emplace_back(d == Dim::kQueue     ? "queue_id"
                      : d == Dim::kChannel ? "channel"
                      : d == Dim::kIntent  ? "intent"
                      : d == Dim::kLanguage ? "language"
                                            : "agent");
  }
  std::string select;
  for (const auto& c : cols) select += c + ", ";
  std::string sums;
  for (auto c : CounterColumns()) {
    sums += std::string(sums.empty() ? "" : ", ") + "CAST(SUM(" + std::string(c) + ") AS BIGINT)";
  }
  std::string sql = "SELECT " + select + sums +
                    " FROM kpi_intervals WHERE tenant_id = ? AND bucket_us >= ? AND bucket_us < ?";
  if (!cols.empty()) {
    std::string group;
    for (const auto& c : cols) group += (group.empty() ? "" : ", ") + c;
    sql += " GROUP BY " + group;
  }
  Value p[] = {tenant, q.from_us, q.to_us};
  std::vector<BucketRow> rows;
  size_t count = 0;
  OPSBOX_ASSIGN_OR_RETURN(auto tx, conn.BeginSnapshot());
  OPSBOX_TRY(tx->QueryEach(sql, p, [&](const store::Row& r) -> Status {
    if (++count > kRowsMax * 4) {
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
  }));
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
