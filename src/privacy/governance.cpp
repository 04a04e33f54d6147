#include "privacy/governance.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>

#include "core/ids.hpp"
#include "privacy/consent.hpp"
#include "privacy/reports.hpp"
#include "privacy/retention.hpp"

namespace opsbox::privacy {
namespace {

constexpr size_t kRecordIdBytesMax = 200;
constexpr size_t kFieldBytesMax = 64;

struct RecordType {
  std::map<std::string, FieldClass, std::less<>> fields;
  Governance::FieldReader reader;
};

struct Grant {
  std::string grantee;
  std::string grant_id;
  int64_t expires_at_us = 0;
};

// Characters (UTF-8 code points) of a string, for limits written in characters.
size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

Result<std::string> RequireReason(const Json& p) {
  OPSBOX_ASSIGN_OR_RETURN(auto reason, RequireString(p, "reason", kReasonBytesMax * 4));
  const size_t n = CodePoints(reason);
  if (n < kReasonBytesMin || n > kReasonBytesMax) {
    return Error::Invalid("reason", "length",
                          "reason must be " + std::to_string(kReasonBytesMin) + " to " +
                              std::to_string(kReasonBytesMax) + " characters");
  }
  return reason;
}

std::string Str(const Json& p, const char* key) {
  auto it = p.find(key);
  return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

struct Governance::State {
  mutable std::shared_mutex mu;  // record_types, targets, grants
  std::map<std::string, RecordType, std::less<>> record_types;
  detail::RetentionTargets targets;
  std::map<std::string, std::vector<Grant>, std::less<>> grants;  // by tenant, unexpired
  detail::ConsentIndex consent;
  detail::LastUseTracker last_use;
  std::atomic<uint64_t> exceptions_seen{0};

  Result<ledger::Decision> DecideUnmask(const Json& p) const;
  Result<ledger::Decision> DecideStartBreakGlass(const ledger::Command& cmd, Instant now,
                                                 Random& rnd) const;
  Result<ledger::Decision> DecideReview(store::Tx& tx, const ledger::Command& cmd) const;
  void OnCommitted(const std::vector<ledger::Event>& events);
};

Result<ledger::Decision> Governance::State::DecideUnmask(const Json& p) const {
  OPSBOX_TRY(CheckObjectKeys(p, {"record_type", "record_id", "field", "reason"}));
  OPSBOX_ASSIGN_OR_RETURN(auto record_type, RequireString(p, "record_type", kFieldBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto record_id, RequireString(p, "record_id", kRecordIdBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto field, RequireString(p, "field", kFieldBytesMax));
  FieldClass cls;
  {
    std::shared_lock lock(mu);
    auto rt = record_types.find(record_type);
    if (rt == record_types.end()) {
      std::string known;
      for (const auto& [name, t] : record_types) known += (known.empty() ? "" : ", ") + name;
      return Error::Invalid("record_type", "unknown_record_type",
                            "record_type " + record_type + " has no unmaskable fields (known: " +
                                (known.empty() ? "none" : known) + ")");
    }
    auto f = rt->second.fields.find(field);
    if (f == rt->second.fields.end()) {
      std::string known;
      for (const auto& [name, c] : rt->second.fields) known += (known.empty() ? "" : ", ") + name;
      return Error::Invalid("field", "unknown_field",
                            "field " + field + " is not a personal field of " + record_type +
                                " (known: " + known + ")");
    }
    cls = f->second;
  }
  OPSBOX_ASSIGN_OR_RETURN(auto reason, RequireReason(p));
  Json ev{{"record_type", record_type},
          {"record_id", record_id},
          {"field", field},
          {"field_class", FieldClassName(cls)},
          {"reason", reason}};
  ledger::Decision d;
  d.result = Json{{"record_type", record_type},
                  {"record_id", record_id},
                  {"field", field},
                  {"field_class", FieldClassName(cls)}};
  d.events.push_back({"field_unmasked", std::move(ev)});
  return d;
}

Result<ledger::Decision> Governance::State::DecideStartBreakGlass(const ledger::Command& cmd,
                                                                  Instant now, Random& rnd) const {
  const Json& p = cmd.payload;
  OPSBOX_TRY(CheckObjectKeys(p, {"reason", "duration_min"}));
  OPSBOX_ASSIGN_OR_RETURN(auto reason, RequireReason(p));
  auto dm = p.find("duration_min");
  if (dm == p.end() || dm->is_null()) {
    return Error::Invalid("duration_min", "required", "duration_min is required");
  }
  if (!dm->is_number_integer() || dm->get<int64_t>() < 1 ||
      dm->get<int64_t>() > kBreakGlassMinutesMax) {
    return Error::Invalid(
        "duration_min", "range",
        "duration_min must be an integer from 1 to " + std::to_string(kBreakGlassMinutesMax));
  }
  const int64_t minutes = dm->get<int64_t>();
  const std::string grant_id = NewId("bgl", now, rnd);
  const Instant expires = now + Duration::Minutes(minutes);
  ledger::Decision d;
  d.result = Json{{"grant_id", grant_id}, {"expires_at", FormatRfc3339(expires)}};
  d.events.push_back({"break_glass_started", Json{{"grant_id", grant_id},
                                                  {"grantee", cmd.actor},
                                                  {"reason", reason},
                                                  {"duration_min", minutes},
                                                  {"expires_at", FormatRfc3339(expires)}}});
  return d;
}

Result<ledger::Decision> Governance::State::DecideReview(store::Tx& tx,
                                                         const ledger::Command& cmd) const {
  const Json& p = cmd.payload;
  OPSBOX_TRY(CheckObjectKeys(p, {"grant_id", "outcome", "notes"}));
  OPSBOX_ASSIGN_OR_RETURN(auto grant_id, RequireString(p, "grant_id", 64));
  OPSBOX_ASSIGN_OR_RETURN(auto outcome, RequireString(p, "outcome", 32));
  if (outcome != "justified" && outcome != "unjustified") {
    return Error::Invalid("outcome", "enum", "outcome must be justified or unjustified");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto notes, OptionalString(p, "notes", kReviewNotesBytesMax, ""));
  store::Value key[] = {cmd.tenant_id, grant_id};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT grantee, outcome FROM privacy_break_glass "
                                              "WHERE tenant_id = ? AND grant_id = ?",
                                              key));
  if (rows.empty()) return Error::NotFound("no break-glass grant " + grant_id + " in this tenant");
  if (rows[0].Text(0) == cmd.actor) {
    return Error{ErrorCode::kPermissionDenied, "grant_id", "reviewer_is_grantee",
                 "a break-glass grant must be reviewed by someone other than its grantee"};
  }
  if (!rows[0].Text(1).empty()) {
    return Error::Conflict("already_reviewed",
                           "grant " + grant_id + " was already reviewed (" + rows[0].Text(1) + ")");
  }
  Json ev{
      {"grant_id", grant_id}, {"grantee", rows[0].Text(0)}, {"outcome", outcome}, {"notes", notes}};
  ledger::Decision d;
  d.result = ev;
  d.events.push_back({"break_glass_reviewed", std::move(ev)});
  return d;
}

void Governance::State::OnCommitted(const std::vector<ledger::Event>& events) {
  int64_t latest_us = 0;
  for (const auto& e : events) {
    latest_us = std::max(latest_us, e.recorded_at.us);
    if (e.type == "sensitive_data_exception_recorded") {
      exceptions_seen.fetch_add(1, std::memory_order_relaxed);
    } else if (e.type == "break_glass_started") {
      Json p = Json::parse(e.payload, nullptr, false);
      auto expires = ParseRfc3339(p.is_object() ? Str(p, "expires_at") : "", "expires_at");
      if (!expires.ok()) continue;
      std::unique_lock lock(mu);
      grants[e.tenant_id].push_back(Grant{Str(p, "grantee"), Str(p, "grant_id"), expires->us});
    }
  }
  consent.OnCommitted(events);
  if (latest_us == 0) return;
  // Drop expired grants so the lists stay short.
  std::unique_lock lock(mu);
  for (auto& [tenant, list] : grants) {
    std::erase_if(list, [&](const Grant& g) { return g.expires_at_us <= latest_us; });
  }
}

Governance::Governance() : state_(std::make_unique<State>()) {}
Governance::~Governance() = default;

void Governance::Register(ledger::Registry& registry) {
  State* s = state_.get();
  registry.AddCommand(std::string(kUnmaskField),
                      [s](store::Tx&, const ledger::Command& cmd, Instant, Random&) {
                        return s->DecideUnmask(cmd.payload);
                      });
  registry.AddCommand(std::string(kStartBreakGlass),
                      [s](store::Tx&, const ledger::Command& cmd, Instant now, Random& rnd) {
                        return s->DecideStartBreakGlass(cmd, now, rnd);
                      });
  registry.AddCommand(std::string(kReviewBreakGlass),
                      [s](store::Tx& tx, const ledger::Command& cmd, Instant, Random&) {
                        return s->DecideReview(tx, cmd);
                      });
  registry.AddCommand(std::string(kRecordConsent),
                      [](store::Tx&, const ledger::Command& cmd, Instant now, Random&) {
                        return detail::DecideConsent(cmd.payload, true, now);
                      });
  registry.AddCommand(std::string(kWithdrawConsent),
                      [](store::Tx&, const ledger::Command& cmd, Instant now, Random&) {
                        return detail::DecideConsent(cmd.payload, false, now);
                      });
  registry.AddCommand(std::string(kSetRetentionPolicy),
                      [s](store::Tx&, const ledger::Command& cmd, Instant, Random&) {
                        std::shared_lock lock(s->mu);
                        return detail::DecideRetentionPolicy(cmd.payload, s->targets);
                      });
  registry.AddCommand(std::string(kRunRetention),
                      [s](store::Tx& tx, const ledger::Command& cmd, Instant now, Random& rnd) {
                        detail::RetentionTargets targets;
                        {
                          std::shared_lock lock(s->mu);
                          targets = s->targets;
                        }
                        return detail::DecideRetentionRun(tx, cmd.tenant_id, cmd.payload, targets,
                                                          now, NewId("ret", now, rnd));
                      });
  RegisterProjectors(registry);
}

void Governance::RegisterProjectors(ledger::Registry& registry) {
  State* s = state_.get();
  registry.AddProjector("field_unmasked", detail::ProjectUnmask);
  registry.AddProjector("break_glass_started", [](store::Tx& tx, const ledger::Event& e) -> Status {
    Json storage;
    OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
    OPSBOX_ASSIGN_OR_RETURN(Instant expires, ParseRfc3339(Str(*p, "expires_at"), "expires_at"));
    std::vector<store::Value> v{e.tenant_id,
                                Str(*p, "grant_id"),
                                Str(*p, "grantee"),
                                Str(*p, "reason"),
                                p->value("duration_min", int64_t{0}),
                                e.recorded_at.us,
                                expires.us};
    OPSBOX_TRY(
        tx.Exec("INSERT INTO privacy_break_glass (tenant_id, grant_id, grantee, reason, "
                "duration_min, started_at_us, expires_at_us, reviewed_by, outcome, notes, "
                "reviewed_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, '', '', '', 0)",
                v));
    return Ok();
  });
  registry.AddProjector(
      "break_glass_reviewed", [](store::Tx& tx, const ledger::Event& e) -> Status {
        Json storage;
        OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
        std::vector<store::Value> v{e.actor,          Str(*p, "outcome"), Str(*p, "notes"),
                                    e.recorded_at.us, e.tenant_id,        Str(*p, "grant_id")};
        OPSBOX_TRY(
            tx.Exec("UPDATE privacy_break_glass SET reviewed_by = ?, outcome = ?, notes = ?, "
                    "reviewed_at_us = ? WHERE tenant_id = ? AND grant_id = ?",
                    v));
        return Ok();
      });
  // Emitted by retention runs; the module that owns each record type projects it.
  registry.DeclareEvents({"retention_applied"});
  registry.AddProjector("consent_recorded", detail::ProjectConsent);
  registry.AddProjector("consent_withdrawn", detail::ProjectConsent);
  registry.AddProjector("retention_policy_set", detail::ProjectRetentionPolicy);
  registry.AddProjector("retention_run_recorded", detail::ProjectRetentionRun);
  registry.AddProjector("sensitive_data_exception_recorded", detail::ProjectSensitiveDataException);
  registry.AddProjector("subject_erased", detail::ProjectErasure);
  registry.AddProjector(
      "*", [s](store::Tx& tx, const ledger::Event& e) { return s->last_use.Project(tx, e); });
  registry.AddRollbackListener([s] { s->last_use.Forget(); });
  registry.AddCommittedListener(
      [s](const std::vector<ledger::Event>& events) { s->OnCommitted(events); });
}

Status Governance::Load(store::Connection& conn, Instant now) {
  OPSBOX_TRY(state_->consent.Load(conn));
  store::Value key[] = {now.us};
  OPSBOX_ASSIGN_OR_RETURN(auto rows,
                          conn.Query("SELECT tenant_id, grantee, grant_id, expires_at_us FROM "
                                     "privacy_break_glass WHERE expires_at_us > ?",
                                     key));
  std::unique_lock lock(state_->mu);
  state_->grants.clear();
  for (const auto& r : rows) {
    state_->grants[r.Text(0)].push_back(Grant{r.Text(1), r.Text(2), r.Int(3)});
  }
  return Ok();
}

Json Governance::Present(const identity::Principal& who, FieldClass cls, const Opened& value,
                         Instant now) const {
  if (value.erased) return std::string(kErasedMarker);
  if (value.value.is_null()) return nullptr;
  if (RolesSeeClear(who.roles, cls) || BreakGlassActive(who.tenant_id, who.actor_id, now)) {
    return value.value;
  }
  if (value.value.is_string()) return MaskValue(cls, value.value.get_ref<const std::string&>());
  return MaskValue(cls, value.value.dump());
}

void Governance::AddRecordType(std::string record_type, std::map<std::string, FieldClass> fields,
                               FieldReader reader) {
  RecordType rt;
  rt.fields.insert(fields.begin(), fields.end());
  rt.reader = std::move(reader);
  std::unique_lock lock(state_->mu);
  state_->record_types[std::move(record_type)] = std::move(rt);
}

Result<FieldClass> Governance::FieldClassOf(std::string_view record_type,
                                            std::string_view field) const {
  OPSBOX_ASSIGN_OR_RETURN(
      auto d, state_->DecideUnmask(Json{{"record_type", record_type},
                                        {"record_id", "x"},
                                        {"field", field},
                                        {"reason", std::string(kReasonBytesMin, 'x')}}));
  return *ParseFieldClass(d.result.at("field_class").get<std::string>());
}

Result<Opened> Governance::ReadField(store::Connection& conn, std::string_view tenant,
                                     std::string_view record_type, std::string_view record_id,
                                     std::string_view field) const {
  FieldReader reader;
  {
    std::shared_lock lock(state_->mu);
    auto rt = state_->record_types.find(record_type);
    if (rt == state_->record_types.end() || !rt->second.fields.count(field)) {
      return Error::Invalid(
          "field", "unknown_field",
          std::string(record_type) + "." + std::string(field) + " is not an unmaskable field");
    }
    reader = rt->second.reader;
  }
  return reader(conn, tenant, record_id, field);
}

bool Governance::BreakGlassActive(std::string_view tenant, std::string_view user_id,
                                  Instant now) const {
  std::shared_lock lock(state_->mu);
  auto t = state_->grants.find(tenant);
  if (t == state_->grants.end()) return false;
  return std::any_of(t->second.begin(), t->second.end(), [&](const Grant& g) {
    return g.grantee == user_id && g.expires_at_us > now.us;
  });
}

uint64_t Governance::SensitiveDataExceptionsSeen() const {
  return state_->exceptions_seen.load(std::memory_order_relaxed);
}

bool Governance::ConsentAllows(std::string_view tenant, std::string_view customer_id,
                               std::string_view purpose, std::string_view channel,
                               Instant now) const {
  return state_->consent.Allows(tenant, customer_id, purpose, channel, now);
}

void Governance::AddRetentionTarget(std::string record_type, std::string action,
                                    ExpiredFinder finder) {
  std::unique_lock lock(state_->mu);
  state_->targets[std::move(record_type)] =
      detail::RetentionTargets::mapped_type{std::move(action), std::move(finder)};
}

Result<Json> Governance::ListRetentionPolicies(store::Connection& conn,
                                               std::string_view tenant) const {
  detail::RetentionTargets targets;
  {
    std::shared_lock lock(state_->mu);
    targets = state_->targets;
  }
  return detail::ListRetentionPolicies(conn, tenant, targets);
}

}  // namespace opsbox::privacy
