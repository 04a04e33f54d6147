// Every schema migration, in version order. A migration is never edited once released: add a
// new one. Both dialects share the portable SQL subset described in store.hpp unless a
// migration needs otherwise.
#include "store/store.hpp"

namespace opsbox::store {
namespace {

Migration Same(int64_t version, std::string name, std::string sql) {
  return Migration{version, std::move(name), sql, sql};
}

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      Same(1, "ledger", R"sql(
CREATE TABLE ledger_events (
  tenant_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  event_id TEXT NOT NULL,
  recorded_at_us BIGINT NOT NULL,
  actor TEXT NOT NULL,
  command_id TEXT NOT NULL,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
CREATE TABLE ledger_commands (
  tenant_id TEXT NOT NULL,
  command_id TEXT NOT NULL,
  command_type TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  result TEXT NOT NULL,
  first_seq BIGINT NOT NULL,
  last_seq BIGINT NOT NULL,
  recorded_at_us BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, command_id)
);
CREATE TABLE ledger_checkpoints (
  tenant_id TEXT NOT NULL,
  tree_size BIGINT NOT NULL,
  root_hash TEXT NOT NULL,
  signed_at_us BIGINT NOT NULL,
  key_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (tenant_id, tree_size)
))sql"),
      Same(2, "identity", R"sql(
CREATE TABLE tenants (
  tenant_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at_us BIGINT NOT NULL
);
CREATE TABLE users (
  user_id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  status TEXT NOT NULL,
  failed_logins BIGINT NOT NULL,
  locked_until_us BIGINT NOT NULL,
  created_at_us BIGINT NOT NULL
);
CREATE TABLE role_grants (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  granted_at_us BIGINT NOT NULL,
  granted_by TEXT NOT NULL,
  last_used_at_us BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, user_id, role)
);
CREATE TABLE api_keys (
  key_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  roles TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at_us BIGINT NOT NULL
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);
CREATE TABLE sessions (
  session_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  csrf_hash TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  expires_at_us BIGINT NOT NULL,
  revoked_at_us BIGINT NOT NULL
))sql"),
      Same(3, "integrations", R"sql(
CREATE TABLE external_events (
  tenant_id TEXT NOT NULL,
  external_event_id TEXT NOT NULL,
  source TEXT NOT NULL,
  type TEXT NOT NULL,
  external_id TEXT NOT NULL,
  occurred_at_us BIGINT NOT NULL,
  received_at_us BIGINT NOT NULL,
  payload TEXT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, external_event_id),
  UNIQUE (tenant_id, source, external_id)
);
CREATE TABLE webhook_subscriptions (
  tenant_id TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  url TEXT NOT NULL,
  event_types TEXT NOT NULL,
  secret TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, subscription_id)
);
CREATE TABLE webhook_outbox (
  tenant_id TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  event_seq BIGINT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  next_attempt_at_us BIGINT NOT NULL,
  last_status BIGINT NOT NULL,
  last_error TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, subscription_id, event_seq)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (status, next_attempt_at_us))sql"),
      Same(4, "wfm", R"sql(
CREATE TABLE wfm_forecasts (
  tenant_id TEXT NOT NULL,
  forecast_id TEXT NOT NULL,
  queue TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  summary TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (tenant_id, forecast_id)
);
CREATE INDEX wfm_forecasts_queue ON wfm_forecasts (tenant_id, queue, seq);
CREATE TABLE wfm_schedules (
  tenant_id TEXT NOT NULL,
  schedule_id TEXT NOT NULL,
  queue TEXT NOT NULL,
  start_date TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  summary TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (tenant_id, schedule_id)
);
CREATE INDEX wfm_schedules_queue ON wfm_schedules (tenant_id, queue, seq);
CREATE TABLE wfm_targets (
  tenant_id TEXT NOT NULL,
  queue TEXT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (tenant_id, queue)
);
CREATE TABLE wfm_contacts (
  tenant_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  queue TEXT NOT NULL,
  kind TEXT NOT NULL,
  arrival_at_us BIGINT NOT NULL,
  occurred_at_us BIGINT NOT NULL,
  wait_ms BIGINT NOT NULL,
  handle_ms BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX wfm_contacts_arrival ON wfm_contacts (tenant_id, queue, arrival_at_us))sql"),
// Later migrations live one per file beside this one, each an expression `Same(N, "name", R"sql(
// ... )sql"),` (or a Migration{N, name, sqlite_sql, postgres_sql}), owned by its module.
#include "store/migrations/v5_privacy_keys.inc"
#include "store/migrations/v6_privacy_governance.inc"
#include "store/migrations/v7_intake.inc"
#include "store/migrations/v8_routing.inc"
#include "store/migrations/v9_ledger_shards.inc"
#include "store/migrations/v10_cases.inc"
#include "store/migrations/v11_collections.inc"
#include "store/migrations/v12_automation.inc"
#include "store/migrations/v13_ledger_storage.inc"
#include "store/migrations/v14_channels.inc"
#include "store/migrations/v15_kpis.inc"
#include "store/migrations/v16_billing.inc"
  };
  return kMigrations;
}

}  // namespace opsbox::store
