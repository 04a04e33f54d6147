// opsbox's configuration: a TOML file whose every key is declared here with its default and
// unit (STYLE.md house rule 11). An unknown key, a wrong type or an out-of-range value fails
// start-up naming the key. Command-line flags (--db, --listen) override the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace opsbox::app {

struct Config {
  std::string data_dir = "opsbox-data";
  std::string log_level = "info";

  std::string server_listen = "127.0.0.1:8080";
  int64_t server_threads = 2;
  int64_t server_body_bytes_max = 1 << 20;
  int64_t server_header_bytes_max = 16 << 10;
  int64_t server_header_timeout_ms = 10000;
  int64_t server_idle_timeout_ms = 60000;
  int64_t server_shutdown_grace_ms = 15000;
  int64_t server_interactive_threads = 2;  // password hashing and other short blocking work
  int64_t server_compute_threads = 2;      // schedule solves, forecasts, ledger verification
  std::string server_tls_cert_file;        // PEM chain; with server_tls_key_file serves HTTPS
  std::string server_tls_key_file;         // PEM private key
  int64_t server_hsts_max_age_s = 31536000;

  std::string database_url = "sqlite:opsbox-data/opsbox.db";
  std::string database_sqlite_synchronous = "FULL";
  int64_t database_pool_connections_max = 16;
  int64_t database_writer_shards = 4;
  int64_t database_pool_acquire_timeout_ms = 2000;  // then 503 with Retry-After

  int64_t ledger_batch_max = 512;
  int64_t ledger_queue_depth_max = 100000;
  int64_t ledger_command_bytes_max = int64_t{8} << 20;
  int64_t ledger_event_bytes_max = int64_t{8} << 20;
  int64_t ledger_batch_bytes_max = int64_t{32} << 20;
  int64_t ledger_checkpoint_interval_events = 1000;
  int64_t ledger_checkpoint_interval_ms = 2000;
  std::string ledger_signing_key_file;  // "" = <data_dir>/ledger-signing.key

  int64_t login_failures_max = 5;
  int64_t login_lockout_s = 900;
  int64_t login_address_failures_max = 20;
  int64_t login_address_window_s = 60;
  int64_t login_session_ttl_s = 8 * 3600;

  std::string cluster_advertise_url;  // "" = one node
  std::string cluster_secret_file;
  std::string cluster_node_id;        // "" = generated per start
  int64_t cluster_rebalance_interval_ms = 1000;
  int64_t cluster_forward_timeout_ms = 10000;

  int64_t webhooks_threads = 2;
  int64_t webhooks_retry_max = 8;
  int64_t webhooks_retry_delay_ms_initial = 1000;
  int64_t webhooks_retry_delay_ms_max = 300000;
  int64_t webhooks_timeout_ms = 10000;
  int64_t webhooks_poll_interval_ms = 500;

  // Token buckets (issue #9): sustained requests per second and burst, per credential and
  // per client address; provider webhooks (WhatsApp, voice) have their own budget per address.
  int64_t rate_limit_api_key_per_s = 1000;
  int64_t rate_limit_api_key_burst = 2000;
  int64_t rate_limit_session_per_s = 20;
  int64_t rate_limit_session_burst = 60;
  int64_t rate_limit_address_per_s = 300;
  int64_t rate_limit_address_burst = 600;
  int64_t rate_limit_provider_per_s = 200;
  int64_t rate_limit_provider_burst = 400;
  // Scheduled backups (issue #18; docs/operations.md).
  int64_t backup_interval_s = 86400;  // 0: off
  std::string backup_folder;          // "" = <data_dir>/backups
  int64_t backup_keep_count = 7;
  // "" = GET /metrics is public (bind the listener to a private address then); else a file
  // holding the bearer token that GET /metrics requires (issue #9).
  std::string metrics_bearer_token_file;
  std::string metrics_tenant_labels = "off";  // "on": tenant ids may appear in labels

  // The outbound request policy (integrations/outbound_policy.hpp): operator exceptions only.
  bool outbound_allow_http = false;
  bool outbound_allow_loopback = false;
  std::vector<std::string> outbound_allow_networks;  // CIDR, e.g. "10.20.0.0/16"

  // Intent classification (issue #12; docs/intents.md): model files written by
  // `opsbox intents train`, loaded at start-up. "" / empty: no classification.
  std::string intents_model_path;                       // every tenant without its own
  std::vector<std::string> intents_tenant_model_paths;  // "tenant=path"

  // Collections (issue #11; docs/collections.md): the contact policy the API enforces before
  // every attempt: a preset, optionally adjusted by a policy file (loaded at start-up).
  std::string collections_policy_preset = "reg_f";  // "reg_f" | "rbi"
  std::string collections_policy_file;              // "": the preset as it is

  // PII scanning (issue #15; src/pii/pii.hpp): regions whose national format phone numbers are
  // read in, the tenant's default first.
  std::vector<std::string> pii_phone_regions = {"IN"};

  std::string SigningKeyPath() const;
  std::string BackupFolder() const;
};

// Bounds of the metrics bearer token read from metrics.bearer_token_file, bytes (surrounding
// white space trimmed).
inline constexpr size_t kMetricsTokenBytesMin = 16;
inline constexpr size_t kMetricsTokenBytesMax = 1024;
// The token in config.metrics_bearer_token_file; "" when the key is unset. Errors name the key
// (missing or unreadable file, a token shorter or longer than the bounds above).
Result<std::string> LoadMetricsToken(const Config& config);

// One declared key: its dotted name, unit/help text and default, for `opsbox config` docs.
struct ConfigKey {
  std::string name;
  std::string type;
  std::string default_value;
  std::string help;
};
const std::vector<ConfigKey>& ConfigKeys();

// Parses TOML text over the defaults. `origin` names the file in errors.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin);
Result<Config> LoadConfigFile(const std::string& path);

// Splits "host:port"; port 0 means any free port.
Result<std::pair<std::string, uint16_t>> ParseListen(std::string_view listen);

}  // namespace opsbox::app
