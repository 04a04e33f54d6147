// Verifying a tenant's ledger end to end, as an auditor would: the hash chain, every event's
// hash, and every signed checkpoint (signature and Merkle root). It reads through
// store::Connection only and never writes, so it can run against a copy of the database.
//
// Thread safety: free functions; a Connection is used by one thread at a time (store.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace opsbox::ledger {

struct VerifyReport {
  std::string tenant_id;
  bool ok = true;
  int64_t events_checked = 0;       // events that passed every check
  int64_t checkpoints_checked = 0;  // checkpoints whose signature and root matched
  // The first event the failure concerns; 0 when ok (read `ok`, not this: a forged row at seq 0
  // also reports 0). For a missing event, its seq; for an unexpected row, its seq. For a bad
  // checkpoint (signature, key or root), the first event after the last checkpoint that did
  // verify: the events from there to the bad checkpoint's size are the ones it cannot vouch for.
  int64_t first_bad_seq = 0;
  std::string reason;  // for an operator; empty when ok

  // {"tenant_id", "ok", "events_checked", "checkpoints_checked", "first_bad_seq", "reason"}.
  Json ToJson() const;
};

// Events are read kVerifyPageRows at a time; checkpoints kVerifyCheckpointPageRows at a time.
inline constexpr size_t kVerifyPageRows = 1000;
inline constexpr size_t kVerifyCheckpointPageRows = 256;

// Checks, streaming events in seq order (memory bounded by the page sizes and one CompactRange),
// and stops at the first failure:
//   - seq starts at 1 and rises by one ("event 9 missing: seq jumps from 8 to 10 (removed)");
//   - prev_hash is the previous event's hash, or kGenesisHash for event 1
//     ("event 12: prev_hash does not link to event 11 (inserted or reordered)");
//   - the stored hash equals ComputeEventHash ("event 17: stored hash does not match its
//     contents (altered)"), and the payload is valid JSON;
//   - every checkpoint's signature verifies with its recorded public key (whose key_id must
//     match), that key is in `trusted_public_keys_hex` unless that list is empty, and its root
//     equals the Merkle root of events 1..tree_size;
//   - no checkpoint covers more events than exist (tail truncation: first_bad_seq = count + 1).
// Events after the latest checkpoint are checked for chain integrity only: a forged but
// consistent tail is detectable only once a trusted checkpoint covers it.
// An Error means the check could not run (I/O); a failed check is a report with ok == false.
Result<VerifyReport> VerifyTenant(store::Connection& conn, const std::string& tenant,
                                  const std::vector<std::string>& trusted_public_keys_hex);

// Distinct tenant ids that have events or checkpoints, sorted. Tenants whose every event was
// deleted still appear through their checkpoints, so verifying each listed tenant catches them.
Result<std::vector<std::string>> ListTenants(store::Connection& conn);

}  // namespace opsbox::ledger
