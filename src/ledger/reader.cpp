#include "ledger/reader.hpp"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/assert.hpp"
#include "core/limits.hpp"
#include "ledger/merkle.hpp"

namespace opsbox::ledger {
namespace {

std::string SelectEvents(std::string_view where_and_order) {
  std::string sql = "SELECT ";
  sql += kEventColumns;
  sql += " FROM ledger_events WHERE ";
  sql += where_and_order;
  return sql;
}

Error NotCoveredYet(const std::string& tenant, int64_t seq, const std::optional<Checkpoint>& cp) {
  std::string covered =
      cp ? "the latest checkpoint covers events 1.." + std::to_string(cp->tree_size)
         : "tenant " + tenant + " has no checkpoint yet";
  return Error::NotFound("event " + std::to_string(seq) +
                         " is not yet covered by a signed checkpoint (" + covered +
                         "); a proof is available after the next checkpoint");
}

// Hashes the audit-path subtrees and the whole tree in one pass over the stored hashes.
struct ProofBuilder {
  uint64_t leaf_index;
  std::vector<LeafRange> ranges;       // audit-path order
  std::vector<size_t> by_position;     // indices into ranges, sorted by begin
  std::vector<CompactRange> subtrees;  // parallel to ranges
  CompactRange whole;
  size_t cursor = 0;  // into by_position

  ProofBuilder(uint64_t index, uint64_t tree_size)
      : leaf_index(index), ranges(InclusionProofRanges(index, tree_size)) {
    subtrees.resize(ranges.size());
    for (size_t i = 0; i < ranges.size(); ++i) by_position.push_back(i);
    std::sort(by_position.begin(), by_position.end(),
              [&](size_t a, size_t b) { return ranges[a].begin < ranges[b].begin; });
  }

  void Add(uint64_t index, const Hash32& leaf) {
    whole.Append(leaf);
    if (index == leaf_index) return;
    while (ranges[by_position[cursor]].end <= index) ++cursor;
    OPSBOX_ASSERT(ranges[by_position[cursor]].begin <= index);
    subtrees[by_position[cursor]].Append(leaf);
  }
};

}  // namespace

Result<std::vector<Event>> ReadEvents(store::Connection& conn, const std::string& tenant,
                                      int64_t after_seq, size_t limit,
                                      std::string_view type_filter) {
  if (limit == 0) limit = limits::kPageSizeDefault;
  limit = std::min(limit, limits::kPageSizeMax);
  std::vector<store::Value> params = {tenant, after_seq};
  std::string where = "tenant_id = ? AND seq > ?";
  if (!type_filter.empty()) {
    where += " AND type = ?";
    params.emplace_back(std::string(type_filter));
  }
  where += " ORDER BY seq LIMIT " + std::to_string(limit);
  OPSBOX_ASSIGN_OR_RETURN(store::Rows rows, conn.Query(SelectEvents(where), params));
  std::vector<Event> events;
  events.reserve(rows.size());
  for (const store::Row& row : rows) events.push_back(EventFromRow(row));
  return events;
}

Result<Event> ReadEvent(store::Connection& conn, const std::string& tenant, int64_t seq) {
  std::vector<store::Value> params = {tenant, seq};
  OPSBOX_ASSIGN_OR_RETURN(store::Rows rows,
                          conn.Query(SelectEvents("tenant_id = ? AND seq = ?"), params));
  if (rows.empty()) {
    return Error::NotFound("tenant " + tenant + " has no event " + std::to_string(seq));
  }
  return EventFromRow(rows.front());
}

Result<std::optional<Checkpoint>> LatestCheckpoint(store::Connection& conn,
                                                   const std::string& tenant) {
  std::string sql = "SELECT ";
  sql += kCheckpointColumns;
  sql += " FROM ledger_checkpoints WHERE tenant_id = ? ORDER BY tree_size DESC LIMIT 1";
  std::vector<store::Value> params = {tenant};
  OPSBOX_ASSIGN_OR_RETURN(store::Rows rows, conn.Query(sql, params));
  if (rows.empty()) return std::optional<Checkpoint>();
  return std::optional<Checkpoint>(CheckpointFromRow(rows.front()));
}

Status ScanEventHashes(store::Connection& conn, const std::string& tenant, int64_t after_seq,
                       int64_t up_to_seq, const EventHashVisitor& visit) {
  const std::string sql =
      "SELECT seq, prev_hash, hash FROM ledger_events WHERE tenant_id = ? AND seq > ? AND "
      "seq <= ? ORDER BY seq LIMIT " +
      std::to_string(kScanPageRows);
  int64_t cursor = after_seq;
  while (cursor < up_to_seq) {
    std::vector<store::Value> params = {tenant, cursor, up_to_seq};
    OPSBOX_ASSIGN_OR_RETURN(store::Rows rows, conn.Query(sql, params));
    for (const store::Row& row : rows) {
      OPSBOX_TRY(visit(row.Int(0), row.Text(1), row.Text(2)));
      cursor = row.Int(0);
    }
    if (rows.size() < kScanPageRows) break;
  }
  return Ok();
}

Result<InclusionProofResult> ProveInclusion(store::Connection& conn, const std::string& tenant,
                                            int64_t seq) {
  if (seq < 1) return Error::Invalid("seq", "min", "event seq starts at 1");
  OPSBOX_ASSIGN_OR_RETURN(Event event, ReadEvent(conn, tenant, seq));
  OPSBOX_ASSIGN_OR_RETURN(std::optional<Checkpoint> cp, LatestCheckpoint(conn, tenant));
  if (!cp || seq > cp->tree_size) return NotCoveredYet(tenant, seq, cp);

  const auto tree_size = static_cast<uint64_t>(cp->tree_size);
  ProofBuilder builder(static_cast<uint64_t>(seq - 1), tree_size);
  int64_t expected = 1;
  auto inconsistent = [&](const std::string& what) {
    return Error::Conflict("ledger_inconsistent",
                           "tenant " + tenant + ": " + what + "; the ledger no longer matches " +
                               "the checkpoint at tree size " + std::to_string(cp->tree_size) +
                               ", run `opsbox verify`");
  };
  OPSBOX_TRY(ScanEventHashes(conn, tenant, 0, cp->tree_size,
                             [&](int64_t s, const std::string&, const std::string& hash) -> Status {
                               if (s != expected)
                                 return inconsistent("event " + std::to_string(expected) +
                                                     " is missing");
                               OPSBOX_ASSIGN_OR_RETURN(Hash32 leaf, HashFromHex(hash, "hash"));
                               builder.Add(static_cast<uint64_t>(s - 1), leaf);
                               ++expected;
                               return Ok();
                             }));
  if (builder.whole.size() != tree_size) {
    return inconsistent("event " + std::to_string(expected) + " is missing");
  }
  if (HexEncode(builder.whole.Root()) != cp->root_hash) {
    return inconsistent("the event hashes do not produce the signed root");
  }
  InclusionProofResult out;
  out.seq = seq;
  out.tree_size = cp->tree_size;
  out.leaf_hash_hex = event.hash;
  for (const CompactRange& subtree : builder.subtrees) {
    out.path_hex.push_back(HexEncode(subtree.Root()));
  }
  out.root_hash = cp->root_hash;
  out.checkpoint = std::move(*cp);
  return out;
}

Json InclusionProofResult::ToJson() const {
  return Json{{"seq", seq},
              {"leaf_index", seq - 1},
              {"tree_size", tree_size},
              {"leaf_hash", leaf_hash_hex},
              {"audit_path", path_hex},
              {"root_hash", root_hash},
              {"checkpoint", checkpoint.ToJson()},
              {"algorithm", "rfc6962-sha256"}};
}

}  // namespace opsbox::ledger
