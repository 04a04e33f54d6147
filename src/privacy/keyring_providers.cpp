// Tenant master key providers: the key file in the data folder, and an in-memory one for tests.
#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "core/crypto.hpp"
#include "privacy/keyring.hpp"

namespace opsbox::privacy {
namespace {

constexpr std::string_view kKeyFileFormat = "opsbox-privacy-keys-v1";
constexpr size_t kKeyFileBytesMax = 16 * 1024 * 1024;
constexpr int64_t kKekVersionsMax = 10000;  // per tenant
constexpr size_t kTenantsMax = 100000;

std::string RandomKey() {
  std::string key(kMasterKeyBytes, '\0');
  randombytes_buf(key.data(), key.size());
  return key;
}

Error FileError(const std::string& path, std::string_view what) {
  return Error::Internal("privacy key file " + path + ": " + std::string(what) + ": " +
                         std::strerror(errno));
}

// Writes `text` to `path` atomically: a 0600 temporary file, fsync, rename, fsync the folder.
Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return FileError(tmp, "cannot create");
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return FileError(tmp, "cannot write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0) {
    ::close(fd);
    return FileError(tmp, "cannot sync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return FileError(path, "cannot rename");
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Ok();
}

// An exclusive advisory lock on "<path>.lock", so that processes sharing the key file (the
// server and the CLI) add keys one at a time. Nothing is locked for an empty path.
class FileLock {
 public:
  static Result<FileLock> Take(const std::string& path) {
    FileLock l;
    if (path.empty()) return l;
    const std::string lock_path = path + ".lock";
    l.fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (l.fd_ < 0) return FileError(lock_path, "cannot open");
    while (::flock(l.fd_, LOCK_EX) != 0) {
      if (errno != EINTR) return FileError(lock_path, "cannot lock");
    }
    return l;
  }
  FileLock() = default;
  FileLock(FileLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  int fd_ = -1;
};

// Keys by tenant and version. With an empty path nothing is persisted.
class FileKeyProvider final : public KeyProvider {
 public:
  explicit FileKeyProvider(std::string path) : path_(std::move(path)) {}

  // Reads the file (creating it when missing) under the lock.
  Status Load() {
    std::lock_guard lock(mu_);
    OPSBOX_ASSIGN_OR_RETURN(FileLock fl, FileLock::Take(path_));
    OPSBOX_ASSIGN_OR_RETURN(bool found, ReadLocked());
    if (!found) {
      index_root_ = RandomKey();
      return Save();
    }
    return Ok();
  }

  Result<int64_t> CurrentVersion(std::string_view tenant) override {
    std::lock_guard lock(mu_);
    auto t = tenants_.find(std::string(tenant));
    if (t != tenants_.end() && !t->second.empty()) return t->second.rbegin()->first;
    // Creating the tenant's first key: re-read under the file lock so that two processes never
    // create different keys for the same tenant and version.
    OPSBOX_ASSIGN_OR_RETURN(FileLock fl, FileLock::Take(path_));
    OPSBOX_TRY(ReadLocked());
    return CurrentLocked(tenant);
  }

  Result<std::string> MasterKey(std::string_view tenant, int64_t version) override {
    std::lock_guard lock(mu_);
    auto t = tenants_.find(std::string(tenant));
    if ((t == tenants_.end() || !t->second.contains(version)) && !path_.empty()) {
      // Another process sharing the file (the CLI, a second node) may have added it.
      OPSBOX_ASSIGN_OR_RETURN(FileLock fl, FileLock::Take(path_));
      OPSBOX_TRY(ReadLocked());
      t = tenants_.find(std::string(tenant));
    }
    if (t == tenants_.end() || !t->second.contains(version)) {
      return Error::NotFound("no master key version " + std::to_string(version) +
                             " for tenant " + std::string(tenant));
    }
    return t->second.at(version);
  }

  Result<int64_t> CreateVersion(std::string_view tenant) override {
    std::lock_guard lock(mu_);
    OPSBOX_ASSIGN_OR_RETURN(FileLock fl, FileLock::Take(path_));
    OPSBOX_TRY(ReadLocked());
    OPSBOX_ASSIGN_OR_RETURN(int64_t current, CurrentLocked(tenant));
    if (current >= kKekVersionsMax) {
      return Error::Conflict("kek_versions_max", "tenant " + std::string(tenant) + " has " +
                                                     std::to_string(current) +
                                                     " master key versions, the most allowed");
    }
    tenants_[std::string(tenant)][current + 1] = RandomKey();
    OPSBOX_TRY(Save());
    return current + 1;
  }

  Result<std::string> IndexRootKey() override {
    std::lock_guard lock(mu_);
    return index_root_;
  }

 private:
  // The caller holds mu_ and the file lock. Replaces the in-memory keys with the file's; false
  // when there is no file.
  Result<bool> ReadLocked() {
    struct stat st {};
    if (path_.empty() || ::stat(path_.c_str(), &st) != 0) return false;
    if (static_cast<size_t>(st.st_size) > kKeyFileBytesMax) {
      return Error::Internal("privacy key file " + path_ + " is larger than 16 MiB");
    }
    std::ifstream in(path_, std::ios::binary);
    if (!in) return FileError(path_, "cannot read");
    std::stringstream buf;
    buf << in.rdbuf();
    OPSBOX_ASSIGN_OR_RETURN(Json doc, ParseJson(buf.str(), "privacy key file"));
    tenants_.clear();
    OPSBOX_TRY(Parse(doc));
    return true;
  }

  // The caller holds mu_ and the file lock.
  Result<int64_t> CurrentLocked(std::string_view tenant) {
    auto t = tenants_.find(std::string(tenant));
    if (t != tenants_.end() && !t->second.empty()) return t->second.rbegin()->first;
    if (tenants_.size() >= kTenantsMax) {
      return Error::Internal("privacy key file holds the most tenants allowed");
    }
    tenants_[std::string(tenant)][1] = RandomKey();
    OPSBOX_TRY(Save());
    return 1;
  }

  Status Save() {
    if (path_.empty()) return Ok();
    Json doc = {{"format", kKeyFileFormat}, {"index_root_key", HexEncode(index_root_)}};
    Json tenants = Json::object();
    for (const auto& [tenant, versions] : tenants_) {
      Json v = Json::object();
      for (const auto& [version, key] : versions) v[std::to_string(version)] = HexEncode(key);
      tenants[tenant] = std::move(v);
    }
    doc["tenants"] = std::move(tenants);
    return WriteFileAtomically(path_, doc.dump(2) + "\n");
  }

  Result<std::string> DecodeKey(const Json& hex, const std::string& field) {
    if (!hex.is_string()) return Error::Invalid(field, "type", field + " must be a hex string");
    OPSBOX_ASSIGN_OR_RETURN(std::string key, HexDecode(hex.get<std::string>(), field));
    if (key.size() != kMasterKeyBytes) {
      return Error::Invalid(field, "length", field + " must hold 32 bytes");
    }
    return key;
  }

  Status Parse(const Json& doc) {
    if (!doc.is_object() || doc.value("format", "") != kKeyFileFormat) {
      return Error::Invalid("format", "unknown_format",
                            "privacy key file " + path_ + " is not " + std::string(kKeyFileFormat));
    }
    OPSBOX_ASSIGN_OR_RETURN(index_root_,
                            DecodeKey(doc.value("index_root_key", Json()), "index_root_key"));
    const Json& tenants = doc.contains("tenants") ? doc["tenants"] : Json::object();
    if (!tenants.is_object()) return Error::Invalid("tenants", "type", "tenants must be an object");
    for (const auto& [tenant, versions] : tenants.items()) {
      if (!versions.is_object()) {
        return Error::Invalid("tenants." + tenant, "type", "versions must be an object");
      }
      for (const auto& [version, hex] : versions.items()) {
        const std::string field = "tenants." + tenant + "." + version;
        int64_t v = 0;
        try {
          v = std::stoll(version);
        } catch (const std::exception&) {
          return Error::Invalid(field, "format", "a key version must be a number");
        }
        if (v < 1 || v > kKekVersionsMax) {
          return Error::Invalid(field, "range", "a key version must be in 1..10000");
        }
        OPSBOX_ASSIGN_OR_RETURN(tenants_[tenant][v], DecodeKey(hex, field));
      }
    }
    return Ok();
  }

  std::mutex mu_;
  std::string path_;
  std::string index_root_;
  std::map<std::string, std::map<int64_t, std::string>> tenants_;
};

}  // namespace

Result<std::unique_ptr<KeyProvider>> OpenKeyFile(std::string path) {
  if (path.empty()) return Error::Invalid("path", "required", "the privacy key file path is empty");
  auto provider = std::make_unique<FileKeyProvider>(std::move(path));
  OPSBOX_TRY(provider->Load());
  return std::unique_ptr<KeyProvider>(std::move(provider));
}

std::unique_ptr<KeyProvider> NewMemoryKeyProvider() {
  auto provider = std::make_unique<FileKeyProvider>("");
  Status st = provider->Load();
  (void)st;  // nothing to load or save without a path
  return provider;
}

}  // namespace opsbox::privacy
