// Cases on the ledger (issue #19): the commands, events, projections, reads and the SLA timer
// service of cases. Builds on the pure model (cases.hpp) and the business calendars
// (business_calendar.hpp); together the three are the public surface of src/cases/.
//
// Commands (wire names) and the events they append:
//   open_case          {type, category, priority?, subject, description?, customer_id?, channel?,
//                       received_at?} -> case_opened (a complaint or grievance links and counts
//                       the customer's complaints of the same category within the repeat window).
//   transition_case    {case_id, to, reason?, granted:[case permissions the actor holds]}
//                       -> case_transitioned. 409 rule "transition" naming the allowed targets,
//                       403 rule "permission", 409 rule "reopen_window" (cases.hpp).
//   add_case_note      {case_id, text, visibility: "internal"|"customer_visible"}
//                       -> case_note_added. A customer-visible note is a response: it meets the
//                       first-response target.
//   record_case_sla    (system, the timer) {case_id, target: "first_response"|"resolution",
//                       kind: "at_risk"|"breached"} -> case_sla_at_risk | case_sla_breached,
//                       at most once per case, target and kind; appends nothing when the target
//                       is met, paused or not yet due (a stale timer).
//   configure_cases    {calendar?, sla_policies?: [...], repeat_window_days?} -> cases_configured:
//                       the tenant's business calendar and SLA policy overrides (docs/cases.md).
// `granted` is written by the API layer from the caller's roles (never taken from the client);
// the writer decides the transition with it, against the case as the batch sees it.
//
// Personal data: customer_id, description, note text and transition reasons are sealed in the
// events (NewEvent::personal_fields) for the data subject "cus_<id>/case_<id>" (or "case_<id>"
// without a customer), so erasing the customer crypto-shreds them. The subject is never written
// in clear: later commands find it by opening the case's sealed customer id (Hooks::open). Repeat complaints are found
// through a keyed blind index of the customer id (Hooks::blind_index), never the id in clear.
//
// SLA: each case carries two targets, first_response and resolution, from the tenant's policy
// for its type, category and priority (DefaultSlaPolicy unless configured). Both clocks pause
// while the case is pending_customer; the resolution clock also stops while resolved or closed
// (and runs again on reopen). While paused a target has no due instant. The projection keeps
// every due and at-risk instant in UTC microseconds, so "at risk or breached at instant T" is
// plain SQL (ListCases, DueDeadlines).
//
// Thread safety: registration before the writer starts; the reads take the caller's connection
// and are reentrant. SlaTimer: see below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cases/cases.hpp"
#include "core/clock_fwd.hpp"
#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox::ledger {
class Writer;
}

namespace opsbox::cases {

// Commands.
inline constexpr std::string_view kOpenCase = "open_case";
inline constexpr std::string_view kTransitionCase = "transition_case";
inline constexpr std::string_view kAddCaseNote = "add_case_note";
inline constexpr std::string_view kRecordCaseSla = "record_case_sla";
inline constexpr std::string_view kConfigureCases = "configure_cases";
// Events.
inline constexpr std::string_view kCaseOpened = "case_opened";
inline constexpr std::string_view kCaseTransitioned = "case_transitioned";
inline constexpr std::string_view kCaseNoteAdded = "case_note_added";
inline constexpr std::string_view kCaseSlaAtRisk = "case_sla_at_risk";
inline constexpr std::string_view kCaseSlaBreached = "case_sla_breached";
inline constexpr std::string_view kCasesConfigured = "cases_configured";

// Permissions beyond cases.hpp's transition permissions.
inline constexpr std::string_view kPermCasesWrite = "cases.write";    // open cases, add notes
inline constexpr std::string_view kPermCasesManage = "cases.manage";  // calendar and policies

// Limits (STYLE.md house rule 4).
inline constexpr size_t kSubjectBytesMax = 200;
inline constexpr size_t kDescriptionBytesMax = 16 * 1024;
inline constexpr size_t kNoteBytesMax = 16 * 1024;
inline constexpr size_t kReasonBytesMax = 500;
inline constexpr size_t kCustomerIdBytesMax = 64;
inline constexpr size_t kChannelBytesMax = 32;
inline constexpr size_t kPriorCasesMax = 1000;       // earlier cases read to find repeats
inline constexpr size_t kTimelineEntriesMax = 500;   // entries in one case's timeline read
inline constexpr size_t kStatusChangesMax = 512;     // status changes kept per case
inline constexpr size_t kSlaPoliciesMax = 200;       // policy overrides per tenant
inline constexpr int64_t kSlaTargetSecondsMax = kSlaTargetMinutesMax * 60;
inline constexpr int64_t kRepeatWindowDaysMax = 366;
// A received_at may lie this far before the command (a letter scanned days later), no later.
inline constexpr int64_t kReceivedAtPastDaysMax = 366;

// What cases need from the privacy module, as functions so tests run without it (bound to
// privacy::Keyring by the composition root). Must be thread-safe.
struct Hooks {
  // Keyring::BlindIndex: keyed HMAC hex of a normalised identifier per tenant and kind.
  std::function<std::string(std::string_view tenant, std::string_view kind,
                            std::string_view normalized)>
      blind_index;
  // Keyring::Open inside the writer's transaction: the clear value of a sealed one, nullopt
  // when its key was destroyed (erased). Used to find the data subject of a case's later events.
  std::function<Result<std::optional<Json>>(store::Tx& tx, std::string_view tenant,
                                            const Json& value)>
      open;
};

// Adds the commands and projectors listed above. Call once, before the writer starts; `hooks`
// is copied.
void RegisterCases(ledger::Registry& registry, Hooks hooks);

// The SLA targets and calendar a tenant's cases use: the configured ones or the defaults.
struct CaseSettings {
  BusinessCalendar calendar;  // default: Monday–Friday 09:00–18:00 UTC, no holidays
  struct PolicyRule {         // the most specific matching rule wins (category, then priority)
    CaseType type = CaseType::kComplaint;
    std::string category;                // "" any; "cards" matches "cards.*" too
    std::optional<Priority> priority;    // empty: any
    SlaPolicy policy;
  };
  std::vector<PolicyRule> rules;
  int64_t repeat_window_days = kRepeatWindowDaysDefault;
};
BusinessCalendar DefaultCaseCalendar();
SlaPolicy PolicyFor(const CaseSettings& settings, CaseType type, std::string_view category,
                    Priority priority);
// The settings JSON of configure_cases / GET case-settings:
//   {calendar: <business calendar JSON>, repeat_window_days,
//    sla_policies: [{type, category?, priority?, first_response_s, next_response_s?,
//                    resolution_s, business_time, at_risk_share}]}
Result<CaseSettings> ParseCaseSettings(const Json& doc, const ZoneLoader& load_zone);
Json CaseSettingsToJson(const CaseSettings& settings);

// ---- reads (API) -----------------------------------------------------------------------------
// Values of personal fields are as stored (sealed); the API opens and presents them.

struct SlaTarget {
  std::optional<Instant> due_at;      // empty: not measured, met, or paused
  std::optional<Instant> at_risk_at;
  std::optional<Instant> met_at;
  std::optional<Instant> at_risk_recorded_at;   // the case_sla_at_risk event
  std::optional<Instant> breached_recorded_at;  // the case_sla_breached event
  Duration target;
};
// "on_track" | "at_risk" | "breached" | "met" of one target at `now`.
std::string_view SlaTargetState(const SlaTarget& t, Instant now);

struct CaseRecord {
  std::string case_id, type, category, priority, status, subject, channel;
  Json description, customer_id;  // sealed values or null
  std::vector<std::string> repeat_of;
  int64_t repeat_count = 0;
  Instant received_at, created_at, updated_at;
  std::optional<Instant> resolved_at, closed_at;
  bool business_time = true;
  bool paused = false;
  SlaTarget first_response, resolution;
  int64_t created_seq = 0;  // the case_opened event (the listing's cursor)
  int64_t seq = 0;          // the last event that changed the case
};
// The overall state at `now`: breached when any target breached, else at_risk when an unmet
// target passed its at-risk instant, else on_track.
std::string_view CaseSlaState(const CaseRecord& c, Instant now);

// The API's `sla` object: {state, paused, business_time, first_response_due_at,
// resolution_due_at, first_response:{state, due_at, at_risk_at, met_at, target_s,
// at_risk_recorded_at, breached_recorded_at}, resolution:{…}}; instants RFC 3339 UTC or null.
Json SlaToJson(const CaseRecord& c, Instant now);

struct CaseFilter {
  std::optional<std::string> status, type, category, priority;
  std::optional<std::string> sla_state;  // "on_track" | "at_risk" | "breached"
  std::optional<Instant> due_before;     // an unmet due instant before this
  Instant now;                           // for sla_state
  int64_t after_seq = 0;                 // cursor: cases created before this sequence (0: newest)
  size_t limit = 50;
};
// Newest first.
Result<std::vector<CaseRecord>> ListCases(store::Connection& conn, std::string_view tenant,
                                          const CaseFilter& filter);
Result<std::optional<CaseRecord>> GetCase(store::Connection& conn, std::string_view tenant,
                                          std::string_view case_id);

struct TimelineEntry {
  int64_t seq = 0;
  Instant at;
  std::string kind;  // "opened" "transitioned" "note" "sla_at_risk" "sla_breached"
  std::string actor;
  Json body;         // the event's payload (sealed values as stored)
};
Result<std::vector<TimelineEntry>> CaseTimeline(store::Connection& conn, std::string_view tenant,
                                                std::string_view case_id, size_t limit);
Result<std::optional<Json>> GetCaseSettings(store::Connection& conn, std::string_view tenant);

// One pending SLA deadline: when `kind` ("at_risk"|"breached") of `target` falls due.
struct SlaDeadline {
  std::string tenant, case_id, target, kind;
  Instant at;
};
// Every unfired deadline of every tenant (the timer's restore), earliest first.
Result<std::vector<SlaDeadline>> PendingDeadlines(store::Connection& conn, size_t limit);

// ---- the SLA timer service ---------------------------------------------------------------------
// Fires at-risk and breach events on time: holds every unfired deadline in memory, sleeps until
// the earliest, then submits record_case_sla as actor "system" with the command id
// "case_sla:<case>:<target>:<kind>" (idempotent: one event per case, target and kind even when
// two nodes or a restart submit twice). Deadlines come from the projection on Start (one that
// passed while the server was down fires at once) and from every committed case event after.
// Threads: one service thread unless run_threads is false (tests call RunPending with an
// injected clock). Register and Start from the composition root; Stop before the writer stops.
struct SlaTimerOptions {
  bool run_threads = true;
  int64_t sleep_ms_max = 1000;       // the longest sleep between checks
  size_t deadlines_max = 2'000'000;  // held in memory; more are reloaded when these drain
  size_t fires_per_round_max = 1000; // commands submitted per wake-up
};
class SlaTimer {
 public:
  SlaTimer(store::Database& db, Clock& clock, SlaTimerOptions options = {});
  ~SlaTimer();
  SlaTimer(const SlaTimer&) = delete;
  SlaTimer& operator=(const SlaTimer&) = delete;
  // Adds the committed listener that learns new deadlines. Once, before the writer starts.
  void Register(ledger::Registry& registry);
  // Loads the pending deadlines and starts the thread. `writer` must outlive Stop().
  Status Start(ledger::Writer& writer);
  void Stop();  // idempotent
  // Submits every deadline due at the clock's now and waits for the commands. Returns how many
  // were submitted.
  size_t RunPending();
  size_t PendingCount() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace opsbox::cases
