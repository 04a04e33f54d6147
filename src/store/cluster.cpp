#include "store/cluster.hpp"

namespace opsbox::store {
namespace {

Status NeedsPostgres(const Connection& conn, std::string_view what) {
  if (conn.dialect() == Dialect::kPostgres) return Ok();
  return Error::Invalid("database", "unsupported",
                        std::string(what) + " needs PostgreSQL (several nodes on one database)");
}

Status CheckKeys(int32_t space, int32_t key) {
  if (space < 0 || key < 0) return Error::Invalid("key", "range", "lock keys are >= 0");
  return Ok();
}

}  // namespace

Result<bool> TryLock(Connection& conn, int32_t space, int32_t key) {
  OPSBOX_TRY(NeedsPostgres(conn, "advisory locks"));
  OPSBOX_TRY(CheckKeys(space, key));
  Value params[] = {int64_t{space}, int64_t{key}};
  OPSBOX_ASSIGN_OR_RETURN(
      Rows rows,
      conn.Query("SELECT pg_try_advisory_lock(CAST(? AS INTEGER), CAST(? AS INTEGER))", params));
  return !rows.empty() && rows[0].Text(0) == "t";
}

Status Unlock(Connection& conn, int32_t space, int32_t key) {
  OPSBOX_TRY(NeedsPostgres(conn, "advisory locks"));
  OPSBOX_TRY(CheckKeys(space, key));
  Value params[] = {int64_t{space}, int64_t{key}};
  OPSBOX_TRY(
      conn.Query("SELECT pg_advisory_unlock(CAST(? AS INTEGER), CAST(? AS INTEGER))", params));
  return Ok();
}

// pg_locks shows the two-key form of an advisory lock as classid = space, objid = key,
// objsubid = 2, in the database it was taken in.
Result<std::vector<int32_t>> LockedKeys(Connection& conn, int32_t space) {
  OPSBOX_TRY(NeedsPostgres(conn, "advisory locks"));
  Value params[] = {int64_t{space}};
  OPSBOX_ASSIGN_OR_RETURN(
      Rows rows, conn.Query("SELECT CAST(CAST(objid AS TEXT) AS BIGINT) FROM pg_locks "
                            "WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND "
                            "CAST(CAST(classid AS TEXT) AS BIGINT) = ? AND database = "
                            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                            "ORDER BY 1",
                            params));
  std::vector<int32_t> keys;
  keys.reserve(rows.size());
  for (const Row& r : rows) keys.push_back(static_cast<int32_t>(r.Int(0)));
  return keys;
}

Status Notify(Tx& tx, Dialect dialect, std::string_view channel, std::string_view payload) {
  if (dialect != Dialect::kPostgres) return Ok();
  if (payload.size() > kNotifyPayloadBytesMax) {
    return Error::Invalid("payload", "size",
                          "a notification holds at most " +
                              std::to_string(kNotifyPayloadBytesMax) + " bytes");
  }
  Value params[] = {std::string(channel), std::string(payload)};
  OPSBOX_TRY(tx.Query("SELECT pg_notify(?, ?)", params));
  return Ok();
}

}  // namespace opsbox::store
