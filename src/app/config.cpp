#include "app/config.hpp"

#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>
#include <toml++/toml.h>
#include <variant>

#include "intents/intents.hpp"
#include "integrations/outbound_policy.hpp"
#include "pii/pii.hpp"

namespace opsbox::app {
namespace {

struct IntKey {
  int64_t Config::*member;
  int64_t min;
  int64_t max;
};
struct StringKey {
  std::string Config::*member;
  std::vector<std::string> allowed;  // empty: any
};

struct BoolKey {
  bool Config::*member;
};
// An array of strings, each checked by `check` (which names the key in its error).
struct StringListKey {
  std::vector<std::string> Config::*member;
  std::function<Status(std::string_view value, std::string_view key)> check;
};

struct Declared {
  const char* name;
  std::variant<IntKey, StringKey, BoolKey, StringListKey> target;
  const char* help;
};

const std::vector<Declared>& Table() {
  static const std::vector<Declared> kTable = {
      {"data_dir", StringKey{&Config::data_dir, {}}, "folder for the SQLite file and keys"},
      {"log.level", StringKey{&Config::log_level, {"trace", "debug", "info", "warn", "error"}},
       "log verbosity"},
      {"server.listen", StringKey{&Config::server_listen, {}}, "HOST:PORT to listen on"},
      {"server.threads", IntKey{&Config::server_threads, 1, 256}, "HTTP I/O threads"},
      {"server.body_bytes_max", IntKey{&Config::server_body_bytes_max, 1024, 64 << 20},
       "request body limit, bytes"},
      {"server.header_bytes_max", IntKey{&Config::server_header_bytes_max, 1024, 1 << 20},
       "request header limit, bytes"},
      {"server.header_timeout_ms", IntKey{&Config::server_header_timeout_ms, 10, 600000},
       "time to receive a request header, ms"},
      {"server.idle_timeout_ms", IntKey{&Config::server_idle_timeout_ms, 10, 3600000},
       "keep-alive idle limit, ms"},
      {"server.shutdown_grace_ms", IntKey{&Config::server_shutdown_grace_ms, 0, 600000},
       "time in-flight requests get on SIGTERM, ms"},
      {"server.interactive_threads", IntKey{&Config::server_interactive_threads, 1, 64},
       "threads for short blocking work (password hashing)"},
      {"server.compute_threads", IntKey{&Config::server_compute_threads, 1, 64},
       "threads for long work (schedule solves, forecasts, ledger verification)"},
      {"server.tls_cert_file", StringKey{&Config::server_tls_cert_file, {}},
       "PEM certificate chain; with server.tls_key_file the listener speaks HTTPS only"},
      {"server.tls_key_file", StringKey{&Config::server_tls_key_file, {}},
       "PEM private key for server.tls_cert_file"},
      {"server.hsts_max_age_s", IntKey{&Config::server_hsts_max_age_s, 0, 63072000},
       "Strict-Transport-Security max-age under TLS, seconds (0: no header)"},
      {"database.url", StringKey{&Config::database_url, {}},
       "sqlite:PATH or postgresql://USER@HOST:PORT/DB"},
      {"database.sqlite_synchronous",
       StringKey{&Config::database_sqlite_synchronous, {"FULL", "NORMAL"}},
       "SQLite synchronous mode"},
      {"database.pool_connections_max", IntKey{&Config::database_pool_connections_max, 1, 1024},
       "reader connections, at most"},
      {"database.writer_shards", IntKey{&Config::database_writer_shards, 1, 64},
       "ledger writer shards on PostgreSQL (SQLite always uses 1)"},
      {"database.pool_acquire_timeout_ms",
       IntKey{&Config::database_pool_acquire_timeout_ms, 1, 60000},
       "wait for a reader connection before 503 with Retry-After, ms"},
      {"ledger.batch_max", IntKey{&Config::ledger_batch_max, 1, 100000},
       "commands per group commit, at most"},
      {"ledger.queue_depth_max", IntKey{&Config::ledger_queue_depth_max, 1, 10000000},
       "waiting commands per shard before 503"},
      {"ledger.command_bytes_max", IntKey{&Config::ledger_command_bytes_max, 1024, 256 << 20},
       "canonical payload of one command, bytes"},
      {"ledger.event_bytes_max", IntKey{&Config::ledger_event_bytes_max, 1024, 256 << 20},
       "canonical payload of one event, bytes"},
      {"ledger.batch_bytes_max", IntKey{&Config::ledger_batch_bytes_max, 1024, 1024 << 20},
       "event payload bytes per group commit (and per command), bytes"},
      {"ledger.checkpoint_interval_events",
       IntKey{&Config::ledger_checkpoint_interval_events, 1, 100000000},
       "new events that trigger a signed checkpoint"},
      {"ledger.checkpoint_interval_ms", IntKey{&Config::ledger_checkpoint_interval_ms, 100,
                                               86400000},
       "how often pending events are checkpointed, ms"},
      {"ledger.signing_key_file", StringKey{&Config::ledger_signing_key_file, {}},
       "Ed25519 seed file (default DATA_DIR/ledger-signing.key)"},
      {"login.failures_max", IntKey{&Config::login_failures_max, 1, 1000},
       "failed logins before an account locks"},
      {"login.lockout_s", IntKey{&Config::login_lockout_s, 1, 86400 * 30}, "lockout, seconds"},
      {"login.address_failures_max", IntKey{&Config::login_address_failures_max, 1, 100000},
       "failed logins per address per window"},
      {"login.address_window_s", IntKey{&Config::login_address_window_s, 1, 86400},
       "address rate window, seconds"},
      {"login.session_ttl_s", IntKey{&Config::login_session_ttl_s, 60, 86400 * 30},
       "browser session lifetime, seconds"},
      {"cluster.advertise_url", StringKey{&Config::cluster_advertise_url, {}},
       "http://HOST:PORT where the other nodes reach this node; set: several nodes share the "
       "PostgreSQL database (empty: one node)"},
      {"cluster.secret_file", StringKey{&Config::cluster_secret_file, {}},
       "file holding the secret every node of the cluster shares (at least 32 bytes)"},
      {"cluster.node_id", StringKey{&Config::cluster_node_id, {}},
       "this node's name in logs and ledger_shard_owners (default: a new node_ id per start)"},
      {"cluster.rebalance_interval_ms", IntKey{&Config::cluster_rebalance_interval_ms, 100, 60000},
       "how often a node takes free shards or gives extra ones back, ms"},
      {"cluster.forward_timeout_ms", IntKey{&Config::cluster_forward_timeout_ms, 100, 600000},
       "how long a command for another node's shard may take to forward (retries included), ms"},
      {"webhooks.threads", IntKey{&Config::webhooks_threads, 1, 64}, "delivery threads"},
      {"webhooks.retry_max", IntKey{&Config::webhooks_retry_max, 1, 100},
       "attempts before a delivery is dead-lettered"},
      {"webhooks.retry_delay_ms_initial",
       IntKey{&Config::webhooks_retry_delay_ms_initial, 1, 3600000}, "first retry delay, ms"},
      {"webhooks.retry_delay_ms_max", IntKey{&Config::webhooks_retry_delay_ms_max, 1, 86400000},
       "retry delay cap, ms"},
      {"webhooks.timeout_ms", IntKey{&Config::webhooks_timeout_ms, 1, 600000},
       "delivery request timeout, ms"},
      {"webhooks.poll_interval_ms", IntKey{&Config::webhooks_poll_interval_ms, 10, 600000},
       "outbox poll interval, ms"},
      {"rate_limit.api_key_per_s", IntKey{&Config::rate_limit_api_key_per_s, 1, 1000000},
       "requests per second per API key, sustained"},
      {"rate_limit.api_key_burst", IntKey{&Config::rate_limit_api_key_burst, 1, 1000000},
       "requests per API key in a burst"},
      {"rate_limit.session_per_s", IntKey{&Config::rate_limit_session_per_s, 1, 1000000},
       "requests per second per browser session, sustained"},
      {"rate_limit.session_burst", IntKey{&Config::rate_limit_session_burst, 1, 1000000},
       "requests per browser session in a burst"},
      {"rate_limit.address_per_s", IntKey{&Config::rate_limit_address_per_s, 1, 1000000},
       "requests per second per client address, sustained"},
      {"rate_limit.address_burst", IntKey{&Config::rate_limit_address_burst, 1, 1000000},
       "requests per client address in a burst"},
      {"rate_limit.provider_per_s", IntKey{&Config::rate_limit_provider_per_s, 1, 1000000},
       "provider webhook requests per second per address, sustained"},
      {"rate_limit.provider_burst", IntKey{&Config::rate_limit_provider_burst, 1, 1000000},
       "provider webhook requests per address in a burst"},
      {"backup.interval_s", IntKey{&Config::backup_interval_s, 0, 30 * 86400},
       "scheduled backup interval, seconds (0: off)"},
      {"backup.folder", StringKey{&Config::backup_folder, {}},
       "folder for scheduled backup bundles (default DATA_DIR/backups)"},
      {"backup.keep_count", IntKey{&Config::backup_keep_count, 1, 1000},
       "scheduled bundles kept; older ones are deleted"},
      {"metrics.bearer_token_file", StringKey{&Config::metrics_bearer_token_file, {}},
       "file holding the bearer token GET /metrics requires (\"\": public)"},
      {"metrics.tenant_labels", StringKey{&Config::metrics_tenant_labels, {"off", "on"}},
       "whether tenant ids may appear in metric labels"},
      {"outbound.allow_http", BoolKey{&Config::outbound_allow_http},
       "let outbound requests use plain http:// (default: https only)"},
      {"outbound.allow_loopback", BoolKey{&Config::outbound_allow_loopback},
       "let outbound requests reach loopback addresses (tests, single-host setups)"},
      {"outbound.allow_networks",
       StringListKey{&Config::outbound_allow_networks,
                     [](std::string_view value, std::string_view key) -> Status {
                       auto network = integrations::ParseIpNetwork(value, key);
                       if (!network.ok()) return std::move(network).error();
                       return Ok();
                     }},
       "CIDR networks outbound requests may reach although private or reserved"},
      {"intents.model_path", StringKey{&Config::intents_model_path, {}},
       "intent model file for every tenant without its own (\"\": none)"},
      {"intents.tenant_model_paths",
       StringListKey{&Config::intents_tenant_model_paths,
                     [](std::string_view value, std::string_view key) -> Status {
                       return intents::CheckTenantModelPath(value, key);
                     }},
       "per-tenant intent model files, \"tenant=path\""},
      {"collections.policy_preset",
       StringKey{&Config::collections_policy_preset, {"reg_f", "rbi"}},
       "contact policy preset the collections API enforces (reg_f or rbi)"},
      {"collections.policy_file", StringKey{&Config::collections_policy_file, {}},
       "contact policy file adjusting the preset (\"\": the preset as it is)"},
      {"pii.phone_regions",
       StringListKey{&Config::pii_phone_regions,
                     [](std::string_view value, std::string_view key) -> Status {
                       return pii::ValidateRegions(std::vector<std::string>{std::string(value)},
                                                   key);
                     }},
       "regions (ISO 3166 alpha-2) whose national-format phone numbers the PII scanner reads, "
       "the default first"},
  };
  return kTable;
}

Error Bad(std::string_view origin, std::string key, std::string rule, std::string why) {
  return Error::Invalid(key, std::move(rule), std::string(origin) + ": " + key + ": " + why);
}

Status Assign(Config& c, const Declared& d, const toml::node& node, std::string_view origin) {
  if (const auto* bk = std::get_if<BoolKey>(&d.target)) {
    if (!node.is_boolean()) return Bad(origin, d.name, "type", "must be true or false");
    c.*(bk->member) = *node.value<bool>();
    return Ok();
  }
  if (const auto* lk = std::get_if<StringListKey>(&d.target)) {
    const toml::array* array = node.as_array();
    if (array == nullptr) return Bad(origin, d.name, "type", "must be an array of strings");
    std::vector<std::string> values;
    for (const auto& item : *array) {
      if (!item.is_string()) return Bad(origin, d.name, "type", "must be an array of strings");
      std::string v = *item.value<std::string>();
      if (Status st = lk->check(v, d.name); !st.ok()) {
        return Bad(origin, d.name, st.error().rule, st.error().message);
      }
      values.push_back(std::move(v));
    }
    c.*(lk->member) = std::move(values);
    return Ok();
  }
  if (const auto* ik = std::get_if<IntKey>(&d.target)) {
    auto v = node.value<int64_t>();
    if (!v || !node.is_integer()) return Bad(origin, d.name, "type", "must be an integer");
    if (*v < ik->min || *v > ik->max) {
      return Bad(origin, d.name, "range",
                 "must be between " + std::to_string(ik->min) + " and " +
                     std::to_string(ik->max));
    }
    c.*(ik->member) = *v;
    return Ok();
  }
  const auto& sk = std::get<StringKey>(d.target);
  if (!node.is_string()) return Bad(origin, d.name, "type", "must be a string");
  std::string v = *node.value<std::string>();
  if (!sk.allowed.empty() &&
      std::find(sk.allowed.begin(), sk.allowed.end(), v) == sk.allowed.end()) {
    std::string all;
    for (const auto& a : sk.allowed) all += (all.empty() ? "" : ", ") + a;
    return Bad(origin, d.name, "enum", "must be one of " + all);
  }
  c.*(sk.member) = std::move(v);
  return Ok();
}

// Walks the TOML document iteratively, matching dotted leaf names against the table.
Status Walk(Config& c, const toml::table& root, std::string_view origin) {
  std::vector<std::pair<std::string, const toml::table*>> stack{{"", &root}};
  while (!stack.empty()) {
    auto [prefix, table] = stack.back();
    stack.pop_back();
    for (const auto& [k, node] : *table) {
      std::string name = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      if (node.is_table()) {
        if (std::count(name.begin(), name.end(), '.') >= 2) {
          return Bad(origin, name, "unknown_key", "unknown configuration table");
        }
        stack.emplace_back(name, node.as_table());
        continue;
      }
      const Declared* found = nullptr;
      for (const auto& d : Table()) found = (name == d.name) ? &d : found;
      if (found == nullptr) return Bad(origin, name, "unknown_key", "unknown configuration key");
      OPSBOX_TRY(Assign(c, *found, node, origin));
    }
  }
  return Ok();
}

}  // namespace

std::string Config::SigningKeyPath() const {
  return ledger_signing_key_file.empty() ? data_dir + "/ledger-signing.key"
                                         : ledger_signing_key_file;
}

std::string Config::BackupFolder() const {
  return backup_folder.empty() ? data_dir + "/backups" : backup_folder;
}

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> kKeys = [] {
    std::vector<ConfigKey> out;
    Config defaults;
    for (const auto& d : Table()) {
      if (const auto* ik = std::get_if<IntKey>(&d.target)) {
        out.push_back({d.name, "integer", std::to_string(defaults.*(ik->member)), d.help});
      } else if (const auto* bk = std::get_if<BoolKey>(&d.target)) {
        out.push_back({d.name, "boolean", defaults.*(bk->member) ? "true" : "false", d.help});
      } else if (std::holds_alternative<StringListKey>(d.target)) {
        out.push_back({d.name, "array of strings", "[]", d.help});
      } else {
        const auto& sk = std::get<StringKey>(d.target);
        out.push_back({d.name, "string", "\"" + defaults.*(sk.member) + "\"", d.help});
      }
    }
    return out;
  }();
  return kKeys;
}

Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin) {
  Config c;
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin;
    return Error::Invalid("config", "toml_syntax",
                          std::string(origin) + ": " + std::string(e.description()) + " at " +
                              where.str());
  }
  OPSBOX_TRY(Walk(c, root, origin));
  OPSBOX_TRY(ParseListen(c.server_listen));
  if (Status st = pii::ValidateRegions(c.pii_phone_regions); !st.ok()) {
    return Bad(origin, "pii.phone_regions", st.error().rule, st.error().message);
  }
  return c;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::Invalid("--config", "readable", "cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

Result<std::string> LoadMetricsToken(const Config& config) {
  const std::string& path = config.metrics_bearer_token_file;
  if (path.empty()) return std::string();
  constexpr std::string_view kKey = "metrics.bearer_token_file";
  std::ifstream in(path);
  if (!in) {
    return Error::Invalid(std::string(kKey), "readable", std::string(kKey) + ": cannot read " + path);
  }
  std::string token(kMetricsTokenBytesMax + 2, '\0');
  in.read(token.data(), static_cast<std::streamsize>(token.size()));
  token.resize(static_cast<size_t>(in.gcount()));
  const auto space = [](char ch) { return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t'; };
  while (!token.empty() && space(token.back())) token.pop_back();
  size_t start = 0;
  while (start < token.size() && space(token[start])) ++start;
  token.erase(0, start);
  if (token.size() < kMetricsTokenBytesMin || token.size() > kMetricsTokenBytesMax) {
    return Error::Invalid(std::string(kKey), "length",
                          std::string(kKey) + ": the token must hold " +
                              std::to_string(kMetricsTokenBytesMin) +
                              ".." + std::to_string(kMetricsTokenBytesMax) + " bytes");
  }
  for (char ch : token) {
    if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f) {
      return Error::Invalid(std::string(kKey), "format",
                            std::string(kKey) + ": the token must be printable ASCII, no spaces");
    }
  }
  return token;
}

Result<std::pair<std::string, uint16_t>> ParseListen(std::string_view listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Error::Invalid("server.listen", "host_port", "listen address must be HOST:PORT");
  }
  unsigned port = 0;
  auto digits = listen.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || port > 65535) {
    return Error::Invalid("server.listen", "port", "port must be a number from 0 to 65535");
  }
  return std::make_pair(std::string(listen.substr(0, colon)), static_cast<uint16_t>(port));
}

}  // namespace opsbox::app
