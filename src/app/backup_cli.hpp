// `opsbox backup`, `opsbox backup verify` and `opsbox restore` (issue #18; docs/operations.md).
// Each prints a JSON report on standard output and returns the process exit code: 0 success,
// 3 a restore or verification whose ledger check failed; an Error is a refusal (bad bundle,
// wrong passphrase, non-empty target) for the caller to print.
#pragma once

#include <string>
#include <vector>

#include "app/config.hpp"
#include "backup/backup.hpp"

namespace opsbox::app {

// The key files of a deployment: the tenant key file and the ledger signing key.
std::vector<backup::KeyFile> DeploymentKeyFiles(const Config& config);

Result<int> RunBackup(const Config& config, const std::string& out, bool include_keys,
                      const std::string& passphrase);
Result<int> RunRestore(const Config& config, const std::string& from, bool replace,
                       const std::string& passphrase);
// The monthly drill: checks the bundle, restores it into a scratch SQLite database in a
// temporary folder (removed afterwards), verifies it, and opens the keys when a passphrase is
// given.
Result<int> RunBackupVerify(const std::string& file, const std::string& passphrase);

}  // namespace opsbox::app
