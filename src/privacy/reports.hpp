// Governance reports (internal to privacy and api/privacy_api.cpp): the projections they read
// and the queries behind GET /privacy/reports/*. Every query is scoped to one tenant and
// bounded by `limit` (callers cap it at limits::kPageSizeMax).
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/event.hpp"
#include "store/store.hpp"

namespace opsbox::privacy::detail {

// A grant (role of a user, or an API key) unused for this long is listed as unused.
inline constexpr Duration kUnusedGrantAfter = Duration::Hours(24 * 90);
// privacy_last_use is written at most once per principal per this interval.
inline constexpr Duration kLastUseResolution = Duration::Hours(1);
// Principals whose last write time is remembered at most (then the memory starts over).
inline constexpr size_t kLastUseEntriesMax = 100000;

Status ProjectUnmask(store::Tx& tx, const ledger::Event& e);
Status ProjectSensitiveDataException(store::Tx& tx, const ledger::Event& e);
Status ProjectErasure(store::Tx& tx, const ledger::Event& e);

// Records when users ("usr_…", from login_succeeded and from commands they issue) and API keys
// ("key_…") were last used, at kLastUseResolution. Thread-safe (the writer calls Project; the
// rollback listener calls Forget).
class LastUseTracker {
 public:
  Status Project(store::Tx& tx, const ledger::Event& e);
  void Forget();

 private:
  std::mutex mu_;
  std::unordered_map<std::string, int64_t> written_us_;  // "tenant/principal" -> last written
};

// {generated_at, unused_after_days, users:[{user_id, username, display_name, roles,
// last_used_at|null, unused}], api_keys:[{key_id, name, roles, created_at, revoked,
// last_used_at|null, unused}], unused_grants:[{principal_id, kind, role}]}
Result<Json> AccessReview(store::Connection& conn, std::string_view tenant, Instant now,
                          size_t limit);
// {unmasks:[{seq, actor, record_type, record_id, field, field_class, reason, at}]}, newest
// first, before `before_seq` when > 0.
Result<Json> UnmaskReport(store::Connection& conn, std::string_view tenant, int64_t before_seq,
                          size_t limit);
// {total, findings, by_channel:[{channel, count, findings}], by_agent:[{sender_id, count,
// findings}], by_type:{card: n, ...}, recent:[...]} over [from, to).
Result<Json> SensitiveDataExceptionReport(store::Connection& conn, std::string_view tenant,
                                          Instant from, Instant to, size_t limit);
// {erasures:[{seq, subject_id, request_id, at}]}, newest first.
Result<Json> ErasureReport(store::Connection& conn, std::string_view tenant, size_t limit);
// {grants:[{grant_id, grantee, reason, duration_min, started_at, expires_at, status:
// "active"|"expired", reviewed, reviewed_by, outcome, notes, reviewed_at}]}, newest first;
// only unreviewed ones unless `include_reviewed`.
Result<Json> BreakGlassGrants(store::Connection& conn, std::string_view tenant, Instant now,
                              bool include_reviewed, size_t limit);

}  // namespace opsbox::privacy::detail
