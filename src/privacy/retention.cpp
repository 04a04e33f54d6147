#include "privacy/retention.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>

#include "core/time.hpp"
#include "ledger/writer.hpp"

namespace opsbox::privacy::detail {
namespace {

constexpr size_t kRecordTypeBytesMax = 64;

bool IsRecordType(std::string_view s) {
  if (s.empty() || s.size() > kRecordTypeBytesMax || s[0] < 'a' || s[0] > 'z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsAction(std::string_view a) { return a == "crypto_shred" || a == "anonymise"; }

Status CheckMinimum(std::string_view record_type, int64_t retain_days) {
  for (const auto& m : kRetentionMinimums) {
    if (m.record_type == record_type && retain_days < m.retain_days_min) {
      return Error::Invalid(
          "retain_days", std::string(m.rule),
          "retain_days for " + std::string(record_type) + " must be at least " +
              std::to_string(m.retain_days_min) +
              " (Digital Personal Data Protection Rules, 2025, rule 6: logs kept for at least "
              "one year)");
    }
  }
  return Ok();
}

// One policy's part of a run: the item reported and, for a real run, its event.
Result<Json> RunPolicy(store::Tx& tx, const std::string& tenant, const store::Row& policy,
                       const RetentionTargets& targets, Instant now, bool dry_run,
                       ledger::Decision& d) {
  const std::string record_type = policy.Text(0);
  const int64_t retain_days = policy.Int(1);
  const std::string action = policy.Text(2);
  const Instant before = now - Duration::Hours(24) * retain_days;
  Json item{{"record_type", record_type},
            {"retain_days", retain_days},
            {"action", action},
            {"before", FormatRfc3339(before)}};
  const auto t = targets.find(record_type);
  if (t == targets.end()) {
    item["status"] = "no_target";
    return item;
  }
  if (t->second.action != action) {
    item["status"] = "action_mismatch";
    item["target_action"] = t->second.action;
    return item;
  }
  OPSBOX_ASSIGN_OR_RETURN(auto ids, t->second.finder(tx, tenant, before, kRetentionIdsPerTypeMax));
  if (ids.size() > kRetentionIdsPerTypeMax) ids.resize(kRetentionIdsPerTypeMax);
  item["status"] = dry_run ? "would_apply" : "applied";
  item["count"] = ids.size();
  item["truncated"] = ids.size() == kRetentionIdsPerTypeMax;
  item["record_ids"] = ids;
  if (!dry_run && !ids.empty()) {
    d.events.push_back(
        {"retention_applied",
         Json{{"record_type", record_type}, {"record_ids", ids}, {"action", action}}});
  }
  return item;
}

}  // namespace

Result<ledger::Decision> DecideRetentionPolicy(const Json& p, const RetentionTargets& targets) {
  OPSBOX_TRY(CheckObjectKeys(p, {"record_type", "retain_days", "action"}));
  OPSBOX_ASSIGN_OR_RETURN(auto record_type, RequireString(p, "record_type", kRecordTypeBytesMax));
  if (!IsRecordType(record_type)) {
    return Error::Invalid("record_type", "format", "record_type must match ^[a-z][a-z0-9_]{0,63}$");
  }
  auto days = p.find("retain_days");
  if (days == p.end() || days->is_null()) {
    return Error::Invalid("retain_days", "required", "retain_days is required");
  }
  if (!days->is_number_integer() || days->get<int64_t>() < 1 ||
      days->get<int64_t>() > kRetainDaysMax) {
    return Error::Invalid(
        "retain_days", "range",
        "retain_days must be an integer from 1 to " + std::to_string(kRetainDaysMax));
  }
  const int64_t retain_days = days->get<int64_t>();
  OPSBOX_ASSIGN_OR_RETURN(auto action, RequireString(p, "action", 32));
  if (!IsAction(action)) {
    return Error::Invalid("action", "enum", "action must be crypto_shred or anonymise");
  }
  OPSBOX_TRY(CheckMinimum(record_type, retain_days));
  if (auto t = targets.find(record_type); t != targets.end() && t->second.action != action) {
    return Error::Invalid("action", "unsupported_action",
                          "record type " + record_type + " supports only " + t->second.action);
  }
  ledger::Decision d;
  Json ev{{"record_type", record_type}, {"retain_days", retain_days}, {"action", action}};
  d.result = ev;
  d.events.push_back({"retention_policy_set", std::move(ev)});
  return d;
}

Result<ledger::Decision> DecideRetentionRun(store::Tx& tx, const std::string& tenant, const Json& p,
                                            const RetentionTargets& targets, Instant now,
                                            std::string run_id) {
  OPSBOX_TRY(CheckObjectKeys(p, {"dry_run"}));
  auto dr = p.find("dry_run");
  if (dr != p.end() && !dr->is_null() && !dr->is_boolean()) {
    return Error::Invalid("dry_run", "type", "dry_run must be true or false");
  }
  const bool dry_run = dr != p.end() && dr->is_boolean() && dr->get<bool>();
  store::Value key[] = {tenant};
  OPSBOX_ASSIGN_OR_RETURN(
      auto policies, tx.Query("SELECT record_type, retain_days, action FROM retention_policies "
                              "WHERE tenant_id = ? ORDER BY record_type",
                              key));
  ledger::Decision d;
  Json items = Json::array();
  for (const auto& policy : policies) {
    OPSBOX_ASSIGN_OR_RETURN(Json item, RunPolicy(tx, tenant, policy, targets, now, dry_run, d));
    items.push_back(std::move(item));
  }
  Json run{{"run_id", run_id}, {"dry_run", dry_run}, {"at", FormatRfc3339(now)}, {"items", items}};
  d.result = run;
  d.events.push_back({"retention_run_recorded", std::move(run)});
  return d;
}

Status ProjectRetentionPolicy(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
  std::vector<store::Value> v{e.tenant_id,
                              p->at("record_type").get<std::string>(),
                              p->at("retain_days").get<int64_t>(),
                              p->at("action").get<std::string>(),
                              e.actor,
                              e.recorded_at.us};
  OPSBOX_TRY(tx.Exec(
      "INSERT INTO retention_policies (tenant_id, record_type, retain_days, action, updated_by, "
      "updated_at_us) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, record_type) DO UPDATE "
      "SET retain_days = excluded.retain_days, action = excluded.action, "
      "updated_by = excluded.updated_by, updated_at_us = excluded.updated_at_us",
      v));
  return Ok();
}

Status ProjectRetentionRun(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
  std::vector<store::Value> v{e.tenant_id,
                              p->at("run_id").get<std::string>(),
                              int64_t{p->at("dry_run").get<bool>() ? 1 : 0},
                              e.actor,
                              e.recorded_at.us,
                              CanonicalJson(p->at("items")),
                              e.seq};
  OPSBOX_TRY(
      tx.Exec("INSERT INTO retention_runs (tenant_id, run_id, dry_run, actor, at_us, "
              "items, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
              v));
  return Ok();
}

Result<Json> ListRetentionPolicies(store::Connection& conn, std::string_view tenant,
                                   const RetentionTargets& targets) {
  store::Value key[] = {std::string(tenant)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT record_type, retain_days, action, updated_by, updated_at_us "
                            "FROM retention_policies WHERE tenant_id = ? ORDER BY record_type",
                            key));
  Json out = Json::array();
  for (const auto& r : rows) {
    out.push_back(Json{{"record_type", r.Text(0)},
                       {"retain_days", r.Int(1)},
                       {"action", r.Text(2)},
                       {"target_registered", targets.count(r.Text(0)) > 0},
                       {"updated_by", r.Text(3)},
                       {"updated_at", FormatRfc3339(Instant{r.Int(4)})}});
  }
  Json known = Json::array();
  for (const auto& [type, target] : targets) {
    known.push_back(Json{{"record_type", type}, {"action", target.action}});
  }
  return Json{{"policies", std::move(out)}, {"targets", std::move(known)}};
}

Result<Json> ListRetentionRuns(store::Connection& conn, std::string_view tenant, size_t limit) {
  store::Value key[] = {std::string(tenant), static_cast<int64_t>(limit)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows,
                          conn.Query("SELECT run_id, dry_run, actor, at_us, items FROM "
                                     "retention_runs WHERE tenant_id = ? ORDER BY seq DESC LIMIT ?",
                                     key));
  Json out = Json::array();
  for (const auto& r : rows) {
    out.push_back(Json{{"run_id", r.Text(0)},
                       {"dry_run", r.Int(1) != 0},
                       {"actor", r.Text(2)},
                       {"at", FormatRfc3339(Instant{r.Int(3)})},
                       {"items", Json::parse(r.Text(4), nullptr, false)}});
  }
  return Json{{"runs", std::move(out)}};
}

Result<std::vector<std::string>> TenantsWithRetentionPolicies(store::Connection& conn) {
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows,
      conn.Query("SELECT DISTINCT tenant_id FROM retention_policies ORDER BY tenant_id"));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.Text(0));
  return out;
}

}  // namespace opsbox::privacy::detail

namespace opsbox::privacy {

RetentionScheduler::RetentionScheduler(store::Database& db, ledger::Writer& writer, Clock& clock,
                                       Duration interval)
    : db_(db), writer_(writer), clock_(clock), interval_(interval) {}

RetentionScheduler::~RetentionScheduler() { Stop(); }

void RetentionScheduler::Start() {
  thread_ = std::thread([this] { Run(); });
}

void RetentionScheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionScheduler::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::microseconds(interval_.us), [&] { return stop_; });
    if (stop_) break;
    lock.unlock();
    if (auto st = RunOnce(); !st.ok()) spdlog::error("retention run: {}", st.error().ToString());
    lock.lock();
  }
}

Status RetentionScheduler::RunOnce() {
  OPSBOX_ASSIGN_OR_RETURN(auto conn, db_.Connect());
  OPSBOX_ASSIGN_OR_RETURN(auto tenants, detail::TenantsWithRetentionPolicies(*conn));
  const int64_t period = clock_.Now().us / std::max<int64_t>(interval_.us, 1);
  for (const auto& tenant : tenants) {
    ledger::Command cmd{tenant, "retention:" + tenant + ":" + std::to_string(period),
                        std::string(kRunRetention), "system", Json{{"dry_run", false}}};
    auto r = writer_.SubmitAndWait(std::move(cmd));
    if (!r.ok()) spdlog::error("retention run of tenant {}: {}", tenant, r.error().ToString());
  }
  return Ok();
}

}  // namespace opsbox::privacy
