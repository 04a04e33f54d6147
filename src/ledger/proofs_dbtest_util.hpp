// Test helpers for the proofs dbtests (checkpoint, reader, verify): builds correctly chained
// events and writes them straight into ledger_events with SQL, bypassing the writer, so the tests
// control every byte and can tamper afterwards. Test-only; not part of opsbox_ledger.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ledger/event.hpp"
#include "ledger/merkle.hpp"
#include "ledger/reader.hpp"
#include "store/store.hpp"

namespace opsbox::ledger::testing {

inline constexpr int64_t kTestEpochUs = 1'790'000'000'000'000;

// Event `seq` of `tenant`, chained to `prev_hash`, with a deterministic body.
inline Event MakeEvent(const std::string& tenant, int64_t seq, const std::string& prev_hash) {
  Event e;
  e.tenant_id = tenant;
  e.seq = seq;
  e.event_id = "evt_" + tenant + "_" + std::to_string(seq);
  e.recorded_at = Instant{kTestEpochUs + seq * 1000};
  e.actor = "usr_tester";
  e.command_id = "cmd_" + std::to_string(seq);
  e.type = seq % 3 == 0 ? "note_added" : "case_opened";
  e.payload = R"({"n":)" + std::to_string(seq) + R"(,"tenant":")" + tenant + R"("})";
  e.prev_hash = prev_hash;
  e.hash = ComputeEventHash(e);
  return e;
}

// Events first_seq..first_seq+count-1 continuing a chain whose last hash is `prev_hash`.
inline std::vector<Event> MakeChain(const std::string& tenant, int64_t count, int64_t first_seq = 1,
                                    std::string prev_hash = std::string(kGenesisHash)) {
  std::vector<Event> out;
  for (int64_t seq = first_seq; seq < first_seq + count; ++seq) {
    out.push_back(MakeEvent(tenant, seq, prev_hash));
    prev_hash = out.back().hash;
  }
  return out;
}

inline std::vector<store::Value> EventParams(const Event& e) {
  return {e.tenant_id,  e.seq,  e.event_id, e.recorded_at.us, e.actor,
          e.command_id, e.type, e.payload,  e.prev_hash,      e.hash};
}

// Writes `events` in one transaction; fails the test on error.
inline void InsertEvents(store::Connection& conn, const std::vector<Event>& events) {
  std::vector<std::vector<store::Value>> rows;
  for (const Event& e : events) rows.push_back(EventParams(e));
  auto tx = conn.Begin();
  ASSERT_TRUE(tx.ok()) << tx.error().ToString();
  std::string sql = "INSERT INTO ledger_events (" + std::string(kEventColumns) +
                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  auto st = (*tx)->ExecBatch(sql, rows);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  auto committed = (*tx)->Commit();
  ASSERT_TRUE(committed.ok()) << committed.error().ToString();
}

// Leaf data (raw event hashes) of `events`, for computing expected roots.
inline std::vector<Hash32> LeavesOf(const std::vector<Event>& events) {
  std::vector<Hash32> out;
  for (const Event& e : events) out.push_back(*HashFromHex(e.hash, "hash"));
  return out;
}

// Runs a statement that must succeed.
inline void MustExec(store::Connection& conn, const std::string& sql,
                     std::vector<store::Value> params = {}) {
  auto r = conn.Exec(sql, params);
  ASSERT_TRUE(r.ok()) << sql << ": " << r.error().ToString();
}

// Overwrites every column of the stored row (tenant, e.seq) with e's values.
inline void UpdateEventRow(store::Connection& conn, const Event& e) {
  MustExec(conn,
           "UPDATE ledger_events SET event_id = ?, recorded_at_us = ?, actor = ?, command_id = ?, "
           "type = ?, payload = ?, prev_hash = ?, hash = ? WHERE tenant_id = ? AND seq = ?",
           {e.event_id, e.recorded_at.us, e.actor, e.command_id, e.type, e.payload, e.prev_hash,
            e.hash, e.tenant_id, e.seq});
}

// What a careful forger does: changes event `seq`'s payload, then recomputes its hash and every
// later event's prev_hash and hash so the chain links again. `events` is the whole chain from
// seq 1 as stored; returns it rewritten.
inline std::vector<Event> RewriteHistoryFrom(store::Connection& conn, std::vector<Event> events,
                                             int64_t seq) {
  for (Event& e : events) {
    if (e.seq < seq) continue;
    if (e.seq == seq)
      e.payload = R"({"n":-1,"forged":true})";
    else
      e.prev_hash = events[static_cast<size_t>(e.seq - 2)].hash;
    e.hash = ComputeEventHash(e);
    UpdateEventRow(conn, e);
  }
  return events;
}

}  // namespace opsbox::ledger::testing
