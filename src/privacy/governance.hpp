// Privacy governance (issue #3): masking in responses, audited unmasking, break-glass access,
// the consent registry, retention and the reports a compliance officer reads.
// The header other modules include (with masking.hpp); docs/privacy.md explains the policy.
//
// Commands (wire names) and the events they append; registered by Governance::Register:
//   unmask_field        {record_type, record_id, field, reason (10..500 bytes)}
//                       -> field_unmasked {record_type, record_id, field, field_class, reason}.
//                       The value is never in the event nor in the command result: the API
//                       reads it through the record type's FieldReader after the event commits.
//   start_break_glass   {reason (10..500 bytes), duration_min 1..240}
//                       -> break_glass_started {grant_id, grantee, reason, duration_min,
//                       expires_at}; result {grant_id, expires_at}
//   review_break_glass  {grant_id, outcome "justified"|"unjustified", notes (<= 2000 bytes)}
//                       -> break_glass_reviewed {grant_id, grantee, outcome, notes}. The
//                       reviewer cannot be the grantee (kPermissionDenied "reviewer_is_grantee");
//                       a grant is reviewed once (kConflict "already_reviewed").
//   record_consent / withdraw_consent {customer_id, purpose, channel, source, notice_version,
//                       evidence?, at?} -> consent_recorded / consent_withdrawn (same payload,
//                       `at` defaulted to the command time).
//   set_retention_policy {record_type, retain_days, action "crypto_shred"|"anonymise"}
//                       -> retention_policy_set (minimums: kRetentionMinimums).
//   run_retention       {dry_run} -> per record type with expired ids (real run only)
//                       retention_applied {record_type, record_ids[], action}, then
//                       retention_run_recorded {run_id, dry_run, before per type, items[]}.
// Projected (owned by others): sensitive_data_exception_recorded (intake), subject_erased
// (privacy keys), login_succeeded (identity; last use for the access review).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "identity/identity.hpp"
#include "ledger/event.hpp"
#include "ledger/registry.hpp"
#include "privacy/keyring.hpp"
#include "privacy/masking.hpp"
#include "store/store.hpp"

namespace opsbox::privacy {

inline constexpr std::string_view kUnmaskField = "unmask_field";
inline constexpr std::string_view kStartBreakGlass = "start_break_glass";
inline constexpr std::string_view kReviewBreakGlass = "review_break_glass";
inline constexpr std::string_view kRecordConsent = "record_consent";
inline constexpr std::string_view kWithdrawConsent = "withdraw_consent";
inline constexpr std::string_view kSetRetentionPolicy = "set_retention_policy";
inline constexpr std::string_view kRunRetention = "run_retention";

// Limits (bytes, counts, units in the names).
inline constexpr size_t kReasonBytesMin = 10;
inline constexpr size_t kReasonBytesMax = 500;
inline constexpr int64_t kBreakGlassMinutesMax = 240;
inline constexpr size_t kReviewNotesBytesMax = 2000;
inline constexpr size_t kConsentTextBytesMax = 2000;     // source, notice_version, evidence
inline constexpr int64_t kRetainDaysMax = 36500;         // 100 years
inline constexpr size_t kRetentionIdsPerTypeMax = 1000;  // per record type per run
// How often the server runs retention (the lead moves it to config later).
inline constexpr Duration kRetentionRunInterval = Duration::Hours(24);

// A statutory floor for a record type's retention.
struct RetentionMinimum {
  std::string_view record_type;
  int64_t retain_days_min;
  std::string_view rule;  // the error's rule token, naming the regulation
};
inline constexpr RetentionMinimum kRetentionMinimums[] = {
    {"log", 365, "dpdp_rules_2025_rule_6_logs_min_1_year"},
    {"access_log", 365, "dpdp_rules_2025_rule_6_logs_min_1_year"},
    {"audit_log", 365, "dpdp_rules_2025_rule_6_logs_min_1_year"},
};

// Purposes and channels of consent (wire names).
inline constexpr std::string_view kConsentPurposes[] = {"service", "collections", "marketing"};
inline constexpr std::string_view kConsentChannels[] = {"voice", "sms", "whatsapp", "email",
                                                        "chat"};

// Thread-safe. Construct once in the composition root; call AddRecordType/AddRetentionTarget
// and Register before the writer starts, Load before serving requests. Every other method may
// be called from any thread. In-memory state (consent index, active break-glass grants, unmask
// targets, retention targets) is filled by Load and kept current by the committed listener that
// Register adds.
class Governance {
 public:
  Governance();
  ~Governance();
  Governance(const Governance&) = delete;
  Governance& operator=(const Governance&) = delete;

  // Adds the commands and projectors listed above and a committed listener.
  void Register(ledger::Registry& registry);
  // Fills the in-memory indexes from the projections (every tenant): consent changes and the
  // break-glass grants unexpired at `now`. Call after migrations, before serving.
  Status Load(store::Connection& conn, Instant now);

  // The JSON a response carries for one personal field: kErasedMarker when erased, the clear
  // value when the principal's roles see this class in clear or a break-glass grant is active,
  // else MaskValue (of the value's string form; null stays null).
  Json Present(const identity::Principal& who, FieldClass cls, const Opened& value,
               Instant now) const;

  // Record types whose fields can be unmasked: reader returns the opened value.
  using FieldReader =
      std::function<Result<Opened>(store::Connection&, std::string_view tenant,
                                   std::string_view record_id, std::string_view field)>;
  void AddRecordType(std::string record_type, std::map<std::string, FieldClass> fields,
                     FieldReader reader);
  // The class of one unmaskable field; errors (kInvalidArgument) name "record_type"
  // ("unknown_record_type") or "field" ("unknown_field") and list what is known.
  Result<FieldClass> FieldClassOf(std::string_view record_type, std::string_view field) const;
  // Reads a field in clear through its record type's reader (the API calls it only after the
  // field_unmasked event committed).
  Result<Opened> ReadField(store::Connection& conn, std::string_view tenant,
                           std::string_view record_type, std::string_view record_id,
                           std::string_view field) const;

  // True while `user_id` holds an unexpired break-glass grant in `tenant`.
  bool BreakGlassActive(std::string_view tenant, std::string_view user_id, Instant now) const;

  // sensitive_data_exception_recorded events committed since this process started (a KPI for
  // the metrics endpoint; the report reads the projection).
  uint64_t SensitiveDataExceptionsSeen() const;

  // Consent look-up from memory (microseconds): purpose "service"|"collections"|"marketing",
  // channel "voice"|"sms"|"whatsapp"|"email"|"chat". True when the latest consent change for
  // (customer, purpose, channel) at or before `now` is a grant; false when none or withdrawn.
  bool ConsentAllows(std::string_view tenant, std::string_view customer_id,
                     std::string_view purpose, std::string_view channel, Instant now) const;

  // Retention targets by record type ("conversation", ...): find expired ids; the retention
  // run's event `retention_applied {record_type, record_ids[], action}` is projected by the
  // owning module (it scrubs/shreds).
  using ExpiredFinder = std::function<Result<std::vector<std::string>>(
      store::Tx&, std::string_view tenant, Instant before, size_t limit)>;
  void AddRetentionTarget(std::string record_type,
                          std::string action /*"crypto_shred"|"anonymise"*/, ExpiredFinder finder);

  // The tenant's retention policies and the registered targets (GET retention-policies):
  // {policies:[{record_type, retain_days, action, target_registered, updated_by, updated_at}],
  //  targets:[{record_type, action}]}.
  Result<Json> ListRetentionPolicies(store::Connection& conn, std::string_view tenant) const;

 private:
  void RegisterProjectors(ledger::Registry& registry);
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace opsbox::privacy
