// Data-subject requests and erasure (issue #3; DPDP Act 2023, GDPR Art. 12(3) and 17).
//
// Commands (registered by RegisterErasure; the actor is the user issuing them):
//   open_subject_request {subject_id, kind: "erasure"|"access"|"rectification", received_at?
//       (RFC 3339, default now, not in the future), reason}
//     -> subject_request_opened {request_id, subject_id, kind, reason, received_at_us, due_at_us}
//       due_at = received_at + 1 calendar month (day clamped to the month's end: Jan 31 -> Feb 28)
//   extend_subject_request {request_id, extension_months 1..2, reason}
//     -> subject_request_extended {request_id, extension_months, extended_months, due_at_us,
//       reason}; at most 2 further months in total, due_at = received_at + 1 + extended months
//   approve_erasure {request_id}
//     -> subject_erased {subject_id, request_id}. Maker-checker: the user who opened the request
//       cannot approve it (rule "maker_checker"). Fails (rule "legal_hold", naming the hold and
//       its case) while a hold covers the subject, one of its scopes, or a parent.
//   complete_subject_request {request_id, note} (access and rectification requests)
//     -> subject_request_completed {request_id, note}
//   place_legal_hold {subject_id, reason, case_ref} -> legal_hold_placed {hold_id, subject_id,
//       reason, case_ref}
//   release_legal_hold {hold_id, reason} -> legal_hold_released {hold_id, reason}
// The subject_erased projector destroys the data keys of the subject and its scopes
// (Keyring::EraseSubject, which runs the registered scrubbers) and marks the request done.
//
// Thread safety: the queries take the caller's connection; registration happens once before the
// writer starts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/registry.hpp"
#include "privacy/keyring.hpp"
#include "store/store.hpp"

namespace opsbox::privacy {

inline constexpr int kResponseMonths = 1;       // GDPR Art. 12(3): one month
inline constexpr int kExtensionMonthsMax = 2;   // "extended by two further months"
inline constexpr size_t kSubjectRequestReasonBytesMax = 2000;
inline constexpr size_t kLegalHoldCaseRefBytesMax = 200;
inline constexpr size_t kLegalHoldsPerSubjectMax = 100;  // active holds looked at, at most

// `t` plus `months` calendar months in UTC, the day clamped to the last day of the target month
// and the time of day kept (Jan 31 + 1 -> Feb 28 or 29; Mar 31 + 1 -> Apr 30). months >= 0.
Instant AddCalendarMonths(Instant t, int months);

// Registers the commands and projectors above. `keyring` must outlive the registry.
void RegisterErasure(ledger::Registry& registry, Keyring& keyring);

// Read side (projection tables), for the API. A request reads as
// {request_id, subject_id, kind, status: "open"|"done", reason, received_at, due_at, overdue,
//  extended_months, extension_reason, opened_by, opened_at, approved_by?, completed_at?,
//  keys_destroyed}; times in RFC 3339, overdue when open and `now` is past due_at.
// List: {items:[...], next_after?} ordered by request id, after the cursor `after`, optionally
// filtered by status ("open"|"done") and subject.
Result<Json> ListSubjectRequests(store::Connection& conn, std::string_view tenant, Instant now,
                                 std::string_view status, std::string_view subject_id,
                                 std::string_view after, size_t limit);
Result<Json> GetSubjectRequest(store::Connection& conn, std::string_view tenant,
                               std::string_view request_id, Instant now);
// Holds: {hold_id, subject_id, reason, case_ref, active, placed_by, placed_at, released_by?,
// released_at?, release_reason?}; active_only drops released ones.
Result<Json> ListLegalHolds(store::Connection& conn, std::string_view tenant, bool active_only,
                            std::string_view subject_id, std::string_view after, size_t limit);

}  // namespace opsbox::privacy
