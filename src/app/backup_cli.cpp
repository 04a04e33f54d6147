#include "app/backup_cli.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "app/composition.hpp"
#include "core/crypto.hpp"

namespace opsbox::app {
namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::vector<backup::KeyFile> DeploymentKeyFiles(const Config& config) {
  return {{"privacy-keys.json", config.data_dir + "/privacy-keys.json"},
          {"ledger-signing.key", config.SigningKeyPath()}};
}

Result<int> RunBackup(const Config& config, const std::string& out, bool include_keys,
                      const std::string& passphrase) {
  InitCrypto();
  // Opening a SQLite URL creates a missing file: a typo must not back up an empty database.
  if (config.database_url.rfind("sqlite:", 0) == 0 &&
      !std::filesystem::exists(config.database_url.substr(7))) {
    return Error::Invalid("--db", "exists", "no database file " + config.database_url.substr(7));
  }
  OPSBOX_ASSIGN_OR_RETURN(auto db, OpenDatabase(config.database_url, config));
  backup::BackupOptions o;
  o.opsbox_version = std::string(kVersion);
  o.now_us = NowUs();
  o.key_files = DeploymentKeyFiles(config);
  o.include_keys = include_keys;
  o.passphrase = passphrase;
  OPSBOX_ASSIGN_OR_RETURN(auto r, backup::CreateBackup(*db, out, o));
  Json tenants = Json::array();
  for (const auto& t : r.manifest.tenants) {
    tenants.push_back({{"tenant_id", t.tenant_id},
                       {"head_seq", t.head_seq},
                       {"checkpoint_tree_size", t.checkpoint_tree_size}});
  }
  std::cout << Json{{"file", out},
                    {"bytes", r.bundle_bytes},
                    {"rows", r.rows},
                    {"schema_version", r.manifest.schema_version},
                    {"tenants", tenants},
                    {"keys_included", r.manifest.keys_included},
                    {"keys_note", r.manifest.keys_note}}
                   .dump(2)
            << "\n";
  return 0;
}

Result<int> RunRestore(const Config& config, const std::string& from, bool replace,
                       const std::string& passphrase) {
  InitCrypto();
  OPSBOX_ASSIGN_OR_RETURN(auto bundle, backup::OpenBundle(from));
  OPSBOX_ASSIGN_OR_RETURN(auto db, OpenDatabase(config.database_url, config));
  backup::RestoreOptions o;
  o.replace = replace;
  o.passphrase = passphrase;
  o.key_files = DeploymentKeyFiles(config);
  OPSBOX_ASSIGN_OR_RETURN(auto report, backup::Restore(bundle, *db, o));
  std::cout << report.ToJson().dump(2) << "\n";
  return report.ok ? 0 : 3;
}

Result<int> RunBackupVerify(const std::string& file, const std::string& passphrase) {
  InitCrypto();
  OPSBOX_ASSIGN_OR_RETURN(auto bundle, backup::OpenBundle(file));
  std::string scratch = (std::filesystem::temp_directory_path() / "opsbox-drill-XXXXXX").string();
  if (mkdtemp(scratch.data()) == nullptr) {
    return Error::Internal("cannot create a scratch folder under " +
                           std::filesystem::temp_directory_path().string());
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{scratch};
  Config scratch_config;
  scratch_config.data_dir = scratch;
  scratch_config.database_url = "sqlite:" + scratch + "/drill.db";
  OPSBOX_ASSIGN_OR_RETURN(auto db, OpenDatabase(scratch_config.database_url, scratch_config));
  backup::RestoreOptions o;
  o.passphrase = passphrase;
  o.key_files = DeploymentKeyFiles(scratch_config);
  OPSBOX_ASSIGN_OR_RETURN(auto report, backup::Restore(bundle, *db, o));
  Json out = report.ToJson();
  out["file"] = file;
  out["parts_checked"] = bundle.parts.size() + 1;
  out["keys_opened"] = !passphrase.empty();
  out.erase("keys_written");
  std::cout << out.dump(2) << "\n";
  return report.ok ? 0 : 3;
}

}  // namespace opsbox::app
