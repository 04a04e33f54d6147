// Reading the ledger back: events, checkpoints and inclusion proofs, for the HTTP handlers and
// the CLI. Every call is scoped to one tenant and never writes.
//
// Thread safety: free functions; a Connection is used by one thread at a time (store.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/event.hpp"
#include "store/store.hpp"

namespace opsbox::ledger {

// Events with seq > after_seq in seq order, at most `limit` of them (0 means
// limits::kPageSizeDefault; capped at limits::kPageSizeMax). A non-empty `type_filter` keeps only
// events of that type. An empty result means there is nothing after `after_seq` (yet).
Result<std::vector<Event>> ReadEvents(store::Connection& conn, const std::string& tenant,
                                      int64_t after_seq, size_t limit,
                                      std::string_view type_filter = "");

// One event; kNotFound when the tenant has no event `seq`.
Result<Event> ReadEvent(store::Connection& conn, const std::string& tenant, int64_t seq);

// The checkpoint with the largest tree size; nullopt when the tenant has none.
Result<std::optional<Checkpoint>> LatestCheckpoint(store::Connection& conn,
                                                   const std::string& tenant);

struct InclusionProofResult {
  int64_t seq = 0;
  int64_t tree_size = 0;
  std::string leaf_hash_hex;          // the event's hash: the leaf data of leaf seq-1
  std::vector<std::string> path_hex;  // RFC 6962 audit path, nearest sibling first
  std::string root_hash;              // hex; equals checkpoint.root_hash
  Checkpoint checkpoint;              // the signed checkpoint the proof is against

  // {"seq", "leaf_index" (seq-1), "tree_size", "leaf_hash", "audit_path", "root_hash",
  //  "checkpoint", "algorithm": "rfc6962-sha256"}.
  Json ToJson() const;
};

// Proves that event `seq` is in the tree signed by the tenant's latest checkpoint. Reads the
// event hashes 1..tree_size once (O(tree_size) time, O(log tree_size) memory). kNotFound when
// the event does not exist or no checkpoint covers it yet; kConflict (rule
// "ledger_inconsistent") when the stored events no longer hash to the checkpoint's root.
Result<InclusionProofResult> ProveInclusion(store::Connection& conn, const std::string& tenant,
                                            int64_t seq);

// --- Lower level, shared by the checkpointer and the verifier. ---

// kEventColumns and EventFromRow (reading rows of ledger_events) are in event.hpp.

// Calls `visit(seq, prev_hash, hash)` for every event of `tenant` with after_seq < seq <=
// up_to_seq, in seq order, reading kScanPageRows rows per query. Stops at the first error
// `visit` returns and returns it. Does not check that seqs are contiguous: callers do.
inline constexpr size_t kScanPageRows = 4096;
using EventHashVisitor =
    std::function<Status(int64_t seq, const std::string& prev_hash, const std::string& hash)>;
Status ScanEventHashes(store::Connection& conn, const std::string& tenant, int64_t after_seq,
                       int64_t up_to_seq, const EventHashVisitor& visit);

}  // namespace opsbox::ledger
