#include "ledger/verify.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "ledger/checkpoint.hpp"
#include "ledger/event.hpp"
#include "ledger/merkle.hpp"
#include "ledger/reader.hpp"

namespace opsbox::ledger {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string Seq(int64_t seq) { return std::to_string(seq); }

// One pass over a tenant's events and checkpoints. Each Check* returns false after recording
// the failure in report_.
class TenantVerifier {
 public:
  TenantVerifier(store::Connection& conn, const std::string& tenant,
                 const std::vector<std::string>& trusted_keys)
      : conn_(conn), tenant_(tenant) {
    for (const std::string& k : trusted_keys) trusted_.insert(Lower(k));
    report_.tenant_id = tenant;
  }

  Result<VerifyReport> Run() {
    OPSBOX_TRY(LoadCheckpoints());
    if (!CheckDueCheckpoints()) return report_;
    int64_t cursor = std::numeric_limits<int64_t>::min();
    const std::string sql = "SELECT " + std::string(kEventColumns) +
                            " FROM ledger_events WHERE tenant_id = ? AND seq > ? ORDER BY seq "
                            "LIMIT " +
                            std::to_string(kVerifyPageRows);
    while (true) {
      std::vector<store::Value> params = {tenant_, cursor};
      OPSBOX_ASSIGN_OR_RETURN(store::Rows rows, conn_.Query(sql, params));
      for (const store::Row& row : rows) {
        Event e = EventFromRow(row);
        cursor = e.seq;
        if (!CheckEvent(e)) return report_;
        OPSBOX_TRY(LoadCheckpoints());
        if (!CheckDueCheckpoints()) return report_;
      }
      if (rows.size() < kVerifyPageRows) break;
    }
    OPSBOX_TRY(LoadCheckpoints());
    if (!pending_.empty()) CheckTruncation(pending_.front());
    return report_;
  }

 private:
  // Keeps at least one not-yet-checked checkpoint in pending_ while any remain in the store.
  Status LoadCheckpoints() {
    if (!pending_.empty() || checkpoints_exhausted_) return Ok();
    const std::string sql = "SELECT " + std::string(kCheckpointColumns) +
                            " FROM ledger_checkpoints WHERE tenant_id = ? AND tree_size > ? "
                            "ORDER BY tree_size LIMIT " +
                            std::to_string(kVerifyCheckpointPageRows);
    std::vector<store::Value> params = {tenant_, loaded_up_to_};
    OPSBOX_ASSIGN_OR_RETURN(store::Rows rows, conn_.Query(sql, params));
    for (const store::Row& row : rows) pending_.push_back(CheckpointFromRow(row));
    if (!pending_.empty()) loaded_up_to_ = pending_.back().tree_size;
    checkpoints_exhausted_ = rows.size() < kVerifyCheckpointPageRows;
    return Ok();
  }

  bool Fail(int64_t first_bad_seq, std::string reason) {
    report_.ok = false;
    report_.first_bad_seq = first_bad_seq;
    report_.reason = std::move(reason);
    return false;
  }

  bool CheckEvent(const Event& e) {
    const int64_t expected = prev_seq_ + 1;
    if (e.seq > expected && prev_seq_ == 0) {
      return Fail(1, "event 1 missing: the ledger starts at event " + Seq(e.seq) + " (removed)");
    }
    if (e.seq > expected) {
      return Fail(expected, "event " + Seq(expected) + " missing: seq jumps from " +
                                Seq(prev_seq_) + " to " + Seq(e.seq) + " (removed)");
    }
    if (e.seq < expected) {
      return Fail(e.seq, "event " + Seq(e.seq) + ": unexpected seq, the next event should be " +
                             Seq(expected) + " (inserted)");
    }
    if (e.prev_hash != prev_hash_) {
      return Fail(e.seq, e.seq == 1
                             ? "event 1: prev_hash is not the genesis hash (inserted or "
                               "reordered)"
                             : "event " + Seq(e.seq) + ": prev_hash does not link to event " +
                                   Seq(prev_seq_) + " (inserted or reordered)");
    }
    auto leaf = HashFromHex(e.hash, "hash");
    if (!leaf.ok() || ComputeEventHash(e) != e.hash) {
      return Fail(e.seq, "event " + Seq(e.seq) +
                             ": stored hash does not match its contents "
                             "(altered)");
    }
    if (!Json::accept(e.payload)) {
      return Fail(e.seq, "event " + Seq(e.seq) + ": payload is not valid JSON (altered)");
    }
    range_.Append(*leaf);
    prev_seq_ = e.seq;
    prev_hash_ = e.hash;
    ++report_.events_checked;
    return true;
  }

  bool CheckSignature(const Checkpoint& c) {
    const std::string at = "checkpoint at tree size " + Seq(c.tree_size) + ": ";
    if (!CheckpointSignatureValid(c)) {
      return Fail(verified_up_to_ + 1, at + "signature does not verify against its recorded "
                                            "public key (altered or forged)");
    }
    if (!trusted_.empty() && trusted_.count(Lower(c.public_key)) == 0) {
      return Fail(verified_up_to_ + 1,
                  at + "signed by key " + c.key_id + ", which is not a trusted key (forged)");
    }
    return true;
  }

  // Checks every pending checkpoint whose size the event stream has reached.
  bool CheckDueCheckpoints() {
    const auto size = static_cast<int64_t>(range_.size());
    while (!pending_.empty() && pending_.front().tree_size <= size) {
      const Checkpoint& c = pending_.front();
      if (c.tree_size < 1) {
        return Fail(1, "checkpoint at tree size " + Seq(c.tree_size) +
                           ": a checkpoint covers at least one event (forged)");
      }
      if (!CheckSignature(c)) return false;
      if (HexEncode(range_.Root()) != c.root_hash) {
        return Fail(verified_up_to_ + 1,
                    "checkpoint at tree size " + Seq(c.tree_size) + ": events 1.." +
                        Seq(c.tree_size) + " do not hash to its signed root (events " +
                        Seq(verified_up_to_ + 1) + ".." + Seq(c.tree_size) + " were rewritten)");
      }
      verified_up_to_ = c.tree_size;
      ++report_.checkpoints_checked;
      pending_.pop_front();
    }
    return true;
  }

  // A checkpoint beyond the last event: events were removed from the tail, unless the
  // checkpoint itself is forged.
  void CheckTruncation(const Checkpoint& c) {
    if (!CheckSignature(c)) return;
    std::string ends =
        prev_seq_ == 0 ? "the ledger has no events" : "the ledger ends at event " + Seq(prev_seq_);
    Fail(prev_seq_ + 1, "event " + Seq(prev_seq_ + 1) + " missing: the checkpoint at tree size " +
                            Seq(c.tree_size) + " covers " + Seq(c.tree_size) + " events but " +
                            ends + " (removed)");
  }

  store::Connection& conn_;
  const std::string& tenant_;
  std::set<std::string> trusted_;
  VerifyReport report_;
  CompactRange range_;
  int64_t prev_seq_ = 0;
  std::string prev_hash_ = std::string(kGenesisHash);
  std::deque<Checkpoint> pending_;  // loaded, not yet checked, in tree_size order
  int64_t loaded_up_to_ = std::numeric_limits<int64_t>::min();
  bool checkpoints_exhausted_ = false;
  int64_t verified_up_to_ = 0;  // tree size of the last checkpoint that verified
};

}  // namespace

Json VerifyReport::ToJson() const {
  return Json{{"tenant_id", tenant_id},           {"ok", ok},
              {"events_checked", events_checked}, {"checkpoints_checked", checkpoints_checked},
              {"first_bad_seq", first_bad_seq},   {"reason", reason}};
}

Result<VerifyReport> VerifyTenant(store::Connection& conn, const std::string& tenant,
                                  const std::vector<std::string>& trusted_public_keys_hex) {
  TenantVerifier verifier(conn, tenant, trusted_public_keys_hex);
  return verifier.Run();
}

Result<std::vector<std::string>> ListTenants(store::Connection& conn) {
  OPSBOX_ASSIGN_OR_RETURN(
      store::Rows rows,
      conn.Query("SELECT tenant_id FROM ledger_events UNION SELECT tenant_id FROM "
                 "ledger_checkpoints ORDER BY tenant_id"));
  std::vector<std::string> tenants;
  tenants.reserve(rows.size());
  for (const store::Row& row : rows) tenants.push_back(row.Text(0));
  return tenants;
}

}  // namespace opsbox::ledger
