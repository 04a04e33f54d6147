// opsbox: the command line. `serve` runs the server; the other commands work on the database
// directly, through the same ledger writer, so every change they make is a ledger event.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include "app/backup_cli.hpp"
#include "app/composition.hpp"
#include "app/config.hpp"
#include "app/intents_cli.hpp"
#include "app/collections_cli.hpp"
#include "app/collections_import_cli.hpp"
#include "app/pii_cli.hpp"
#include "app/sla_cli.hpp"
#include "app/simulate_cli.hpp"
#include "app/wfm_erlang_cli.hpp"
#include "app/wfm_forecast_cli.hpp"
#include "app/wfm_schedule_cli.hpp"
#include "app/wfm_simulate_cli.hpp"
#include "core/crypto.hpp"
#include "identity/identity.hpp"
#include "ledger/reader.hpp"
#include "ledger/verify.hpp"

namespace opsbox::app {
namespace {

struct Common {
  std::string db_url;
  std::string config_path;
};

// The config file (if any), with --db over it; data_dir follows a sqlite file unless the file
// sets it.
Result<Config> LoadConfig(const Common& c) {
  Config config;
  if (!c.config_path.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(config, LoadConfigFile(c.config_path));
  }
  if (!c.db_url.empty()) {
    config.database_url = c.db_url;
    if (config.data_dir == Config().data_dir && c.db_url.rfind("sqlite:", 0) == 0) {
      auto parent = std::filesystem::path(c.db_url.substr(7)).parent_path();
      config.data_dir = parent.empty() ? "." : parent.string();
    }
  }
  return config;
}

int Fail(const Error& e) {
  std::cerr << "opsbox: " << e.message;
  if (!e.field.empty()) std::cerr << " (field " << e.field << ", rule " << e.rule << ")";
  std::cerr << "\n";
  return e.code == ErrorCode::kInvalidArgument ? 2 : 1;
}

struct TlsFlags {
  std::string cert_file;
  std::string key_file;
};

int Serve(const Common& c, const std::string& listen, const TlsFlags& tls) {
  auto config = LoadConfig(c);
  if (!config.ok()) return Fail(config.error());
  if (!listen.empty()) config->server_listen = listen;
  if (!tls.cert_file.empty()) config->server_tls_cert_file = tls.cert_file;
  if (!tls.key_file.empty()) config->server_tls_key_file = tls.key_file;
  if (auto lp = ParseListen(config->server_listen); !lp.ok()) return Fail(lp.error());
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  // Block the signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Server server(*config);
  if (auto st = server.Start(); !st.ok()) return Fail(st.error());
  spdlog::info("opsbox {} listening on {}://{}:{} (database {})", kVersion,
               config->server_tls_cert_file.empty() ? "http" : "https",
               ParseListen(config->server_listen)->first, server.port(), config->database_url);
  std::cout << "listening on port " << server.port() << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: shutting down gracefully", sig);
  server.Stop();
  spdlog::info("stopped");
  return 0;
}

template <class Fn>
int WithOffline(const Common& c, Fn&& fn) {
  auto config = LoadConfig(c);
  if (!config.ok()) return Fail(config.error());
  spdlog::set_level(spdlog::level::warn);
  auto off = Offline::Open(config->database_url, *config);
  if (!off.ok()) return Fail(off.error());
  return fn(**off);
}

int Submit(Offline& off, const std::string& tenant, const std::string& type, Json payload) {
  auto r = off.Submit(tenant, type, std::move(payload));
  if (!r.ok()) return Fail(r.error());
  if (auto st = off.Checkpoint(tenant); !st.ok()) return Fail(st.error());
  std::cout << r->dump(2) << "\n";
  return 0;
}

int Verify(const Common& c, const std::string& tenant) {
  auto config = LoadConfig(c);
  if (!config.ok()) return Fail(config.error());
  InitCrypto();
  auto db = OpenDatabase(config->database_url, *config);
  if (!db.ok()) return Fail(db.error());
  auto conn = (*db)->Connect();
  if (!conn.ok()) return Fail(conn.error());
  std::vector<std::string> tenants{tenant};
  if (tenant.empty()) {
    auto all = ledger::ListTenants(**conn);
    if (!all.ok()) return Fail(all.error());
    tenants = *all;
  }
  int bad = 0;
  for (const auto& t : tenants) {
    auto report = ledger::VerifyTenant(**conn, t, {});
    if (!report.ok()) return Fail(report.error());
    if (report->ok) {
      std::cout << "tenant " << t << ": ok, " << report->events_checked << " events, "
                << report->checkpoints_checked << " signed checkpoints\n";
    } else {
      ++bad;
      std::cout << "tenant " << t << ": FAILED at seq " << report->first_bad_seq << ": "
                << report->reason << "\n";
    }
  }
  return bad == 0 ? 0 : 3;
}

int Export(const Common& c, const std::string& tenant) {
  auto config = LoadConfig(c);
  if (!config.ok()) return Fail(config.error());
  auto db = OpenDatabase(config->database_url, *config);
  if (!db.ok()) return Fail(db.error());
  auto conn = (*db)->Connect();
  if (!conn.ok()) return Fail(conn.error());
  int64_t after = 0;
  for (;;) {
    auto events = ledger::ReadEvents(**conn, tenant, after, 1000);
    if (!events.ok()) return Fail(events.error());
    if (events->empty()) break;
    for (const auto& e : *events) std::cout << e.ToOutboundJson().dump() << "\n";
    after = events->back().seq;
  }
  return 0;
}

std::string ReadPasswordStdin() {
  std::string line;
  std::getline(std::cin, line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

}  // namespace

int Main(int argc, char** argv) {
  // Logs go to standard error; standard output carries command results.
  spdlog::set_default_logger(spdlog::stderr_color_mt("opsbox"));
  CLI::App app{"opsbox: the operations layer for customer contact in regulated financial "
               "services"};
  app.require_subcommand(1);
  Common common;
  auto add_db = [&](CLI::App* sub, bool required) {
    auto* o = sub->add_option("--db", common.db_url, "sqlite:PATH or postgresql://…");
    if (required) o->required();
    sub->add_option("--config", common.config_path, "TOML configuration file");
  };
  std::string listen, tenant, name, username, display_name, key_id;
  std::vector<std::string> roles;
  bool password_stdin = false;

  auto* serve = app.add_subcommand("serve", "Run the HTTP server");
  add_db(serve, false);
  serve->add_option("--listen", listen, "HOST:PORT (port 0: any free port)");
  TlsFlags tls;
  serve->add_option("--tls-cert", tls.cert_file,
                    "PEM certificate chain: serve HTTPS and WSS only (with --tls-key)");
  serve->add_option("--tls-key", tls.key_file, "PEM private key of --tls-cert");
  auto* migrate = app.add_subcommand("migrate", "Apply database migrations");
  add_db(migrate, true);
  app.add_subcommand("version", "Print the version");

  auto* admin = app.add_subcommand("admin", "Administer tenants, users and keys");
  admin->require_subcommand(1);
  auto* ct = admin->add_subcommand("create-tenant", "Create a tenant");
  add_db(ct, true);
  ct->add_option("--tenant", tenant, "tenant id")->required();
  ct->add_option("--name", name, "display name")->required();
  auto* cu = admin->add_subcommand("create-user", "Create a user with roles in a tenant");
  add_db(cu, true);
  cu->add_option("--tenant", tenant)->required();
  cu->add_option("--username", username)->required();
  cu->add_option("--display-name", display_name);
  cu->add_option("--role", roles, "role (repeatable)")->required();
  cu->add_flag("--password-stdin", password_stdin,
               "read the password from standard input (otherwise one is generated and printed)");
  auto* ck = admin->add_subcommand("create-api-key", "Create an API key (printed once)");
  add_db(ck, true);
  ck->add_option("--tenant", tenant)->required();
  ck->add_option("--name", name)->required();
  ck->add_option("--role", roles, "role (repeatable)")->required();
  auto* rk = admin->add_subcommand("revoke-api-key", "Revoke an API key");
  add_db(rk, true);
  rk->add_option("--tenant", tenant)->required();
  rk->add_option("--key-id", key_id)->required();
  auto* gr = admin->add_subcommand("grant-role", "Grant a role to a user in a tenant");
  add_db(gr, true);
  gr->add_option("--tenant", tenant)->required();
  gr->add_option("--username", username)->required();
  gr->add_option("--role", roles, "role")->required()->expected(1);
  auto* rr = admin->add_subcommand("revoke-role", "Revoke a role of a user in a tenant");
  add_db(rr, true);
  rr->add_option("--tenant", tenant)->required();
  rr->add_option("--username", username)->required();
  rr->add_option("--role", roles, "role")->required()->expected(1);

  auto* ledger_cmd = app.add_subcommand("ledger", "Verify or export the ledger");
  ledger_cmd->require_subcommand(1);
  auto* lv = ledger_cmd->add_subcommand("verify", "Verify hash chains and signed checkpoints");
  add_db(lv, true);
  lv->add_option("--tenant", tenant, "one tenant (default: every tenant)");
  auto* le = ledger_cmd->add_subcommand("export", "Print a tenant's events as JSON lines");
  add_db(le, true);
  le->add_option("--tenant", tenant)->required();
  auto* lt = ledger_cmd->add_subcommand(
      "event-types", "List every event type the modules can emit, one a line");
  add_db(lt, true);

  auto* wfm = app.add_subcommand(
      "wfm", "Workforce management: forecast, staffing (Erlang C/A), schedule, simulate");
  wfm->require_subcommand(1);
  AddWfmErlangCommands(*wfm);
  AddWfmForecastCommands(*wfm);
  AddWfmScheduleCommands(*wfm);
  AddWfmSimulateCommands(*wfm);
  std::string bundle_out, bundle_from, bundle_file;
  bool include_keys = false, passphrase_stdin = false, replace = false;
  auto* backup_cmd = app.add_subcommand("backup", "Write a consistent backup bundle (server may run)");
  backup_cmd->require_subcommand(0, 1);
  backup_cmd->add_option("--db", common.db_url, "sqlite:PATH or postgresql://…");
  backup_cmd->add_option("--config", common.config_path, "TOML configuration file");
  backup_cmd->add_option("--out", bundle_out, "bundle file to create (never overwritten)");
  auto* keys_flag = backup_cmd->add_flag(
      "--include-keys", include_keys,
      "seal the tenant key file and ledger signing key into the bundle (needs --passphrase-stdin)");
  auto* pass_flag = backup_cmd->add_flag("--passphrase-stdin", passphrase_stdin,
                                         "read the passphrase from standard input");
  keys_flag->needs(pass_flag);
  auto* backup_verify = backup_cmd->add_subcommand(
      "verify", "Check a bundle and restore it into a scratch database (the restore drill)");
  backup_verify->add_option("FILE", bundle_file, "bundle")->required();
  backup_verify->add_flag("--passphrase-stdin", passphrase_stdin,
                          "also open the sealed keys with the passphrase on standard input");
  auto* restore_cmd = app.add_subcommand("restore", "Restore a bundle into an empty database");
  add_db(restore_cmd, true);
  restore_cmd->add_option("--from", bundle_from, "bundle file")->required();
  restore_cmd->add_flag("--passphrase-stdin", passphrase_stdin,
                        "read the passphrase that opens the bundle's sealed keys");
  restore_cmd->add_flag("--replace", replace,
                        "empty a non-empty target (in the restore's transaction) instead of "
                        "refusing it");
  auto* pii_cmd = AddPiiCommands(app);
  auto* intents_cmd = AddIntentsCommands(app);
  auto* sim = AddSimulateCommand(app);
  auto* sla_cmd = AddSlaCommands(app);
  auto* collections_cmd = AddCollectionsCommands(app);
  CollectionsImportOptions collections_import;
  auto* collections_import_cmd = AddCollectionsImportCommand(*collections_cmd, collections_import);
  add_db(collections_import_cmd, true);

  CLI11_PARSE(app, argc, argv);
  if (wfm->parsed()) return 0;
  if (pii_cmd->parsed()) return 0;  // ran in its callback  // the wfm commands ran in their callbacks
  if (sim->parsed()) return 0;      // ran in its callback
  if (sla_cmd->parsed()) return 0;  // ran in its callback
  if (intents_cmd->parsed()) return 0;  // ran in its callback
  if (collections_import_cmd->parsed()) {
    return WithOffline(common, [&](Offline& off) {
      return RunCollectionsImport(off, collections_import, std::cout, std::cerr);
    });
  }
  if (collections_cmd->parsed()) return 0;  // ran in its callback

  if (app.got_subcommand("version")) {
    std::cout << "opsbox " << kVersion << "\n";
    return 0;
  }
  if (serve->parsed()) return Serve(common, listen, tls);
  if (backup_cmd->parsed() || restore_cmd->parsed()) {
    const std::string passphrase = passphrase_stdin ? ReadPasswordStdin() : "";
    Result<int> rc = 0;
    if (backup_verify->parsed()) {
      rc = RunBackupVerify(bundle_file, passphrase);
    } else {
      if (common.db_url.empty() && common.config_path.empty()) {
        return Fail(Error::Invalid("--db", "required", "--db (or --config) names the database"));
      }
      auto config = LoadConfig(common);
      if (!config.ok()) return Fail(config.error());
      if (restore_cmd->parsed()) {
        rc = RunRestore(*config, bundle_from, replace, passphrase);
      } else if (bundle_out.empty()) {
        return Fail(Error::Invalid("--out", "required", "--out names the bundle file to write"));
      } else {
        rc = RunBackup(*config, bundle_out, include_keys, passphrase);
      }
    }
    return rc.ok() ? *rc : Fail(rc.error());
  }
  if (migrate->parsed()) {
    return WithOffline(common, [](Offline& off) {
      auto v = off.db().SchemaVersion();
      if (!v.ok()) return Fail(v.error());
      std::cout << "schema at version " << *v << "\n";
      return 0;
    });
  }
  if (lv->parsed()) return Verify(common, tenant);
  if (le->parsed()) return Export(common, tenant);
  return WithOffline(common, [&](Offline& off) -> int {
    if (lt->parsed()) {
      for (const auto& type : off.EventTypes()) std::cout << type << "\n";
      return 0;
    }
    if (ct->parsed()) {
      return Submit(off, tenant, "create_tenant", Json{{"tenant_id", tenant}, {"name", name}});
    }
    if (cu->parsed()) {
      std::string password = password_stdin ? ReadPasswordStdin() : RandomToken(18);
      auto payload = identity::PrepareCreateUser(
          username, display_name.empty() ? username : display_name, password, roles);
      if (!payload.ok()) return Fail(payload.error());
      int rc = Submit(off, tenant, "create_user", std::move(*payload));
      if (rc == 0 && !password_stdin) std::cout << "password (shown once): " << password << "\n";
      return rc;
    }
    if (ck->parsed()) {
      return Submit(off, tenant, "create_api_key", Json{{"name", name}, {"roles", roles}});
    }
    if (rk->parsed()) return Submit(off, tenant, "revoke_api_key", Json{{"key_id", key_id}});
    if (gr->parsed()) {
      return Submit(off, tenant, "grant_role", Json{{"username", username}, {"role", roles[0]}});
    }
    if (rr->parsed()) {
      return Submit(off, tenant, "revoke_role", Json{{"username", username}, {"role", roles[0]}});
    }
    return 2;
  });
}

}  // namespace opsbox::app

int main(int argc, char** argv) { return opsbox::app::Main(argc, argv); }
