// What several processes on one PostgreSQL database need to coordinate (ledger/cluster.hpp):
// advisory locks, NOTIFY inside a transaction and a LISTENing session. Free functions over the
// store interface; the SQL is PostgreSQL's and stays here (STYLE.md house rule 7). On SQLite
// (one process per file) the locks and LISTEN answer kInvalidArgument with rule "unsupported"
// and Notify does nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace opsbox::store {

// A session-level exclusive advisory lock on (space, key), both >= 0: held by this session
// until Unlock or until the session ends, which includes the process dying or the connection
// dropping. True when acquired (or already held by this session), false when another session
// holds it. Never waits.
Result<bool> TryLock(Connection& conn, int32_t space, int32_t key);
Status Unlock(Connection& conn, int32_t space, int32_t key);
// The keys of `space` that any session of this database holds right now.
Result<std::vector<int32_t>> LockedKeys(Connection& conn, int32_t space);

// PostgreSQL's limit on a NOTIFY payload is 8000 bytes; kept below it.
inline constexpr size_t kNotifyPayloadBytesMax = 7900;

// Sends `payload` (at most kNotifyPayloadBytesMax bytes) on `channel` to every listening
// session when, and only when, `tx` commits. Nothing on SQLite.
Status Notify(Tx& tx, Dialect dialect, std::string_view channel, std::string_view payload);

struct Notification {
  std::string channel;
  std::string payload;
};

// A session that LISTENs on one channel (store/postgres: OpenPostgresListener). Used by one
// thread at a time.
class Listener {
 public:
  virtual ~Listener() = default;
  // Waits at most timeout_ms and returns the notifications that arrived (possibly none).
  // kUnavailable when the session is lost; notifications sent meanwhile are lost with it.
  virtual Result<std::vector<Notification>> Wait(int timeout_ms) = 0;
};

}  // namespace opsbox::store
