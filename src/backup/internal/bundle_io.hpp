// The bundle container's writer and frame reader (layout in backup/backup.hpp). Internal to
// src/backup.
#pragma once

#include <sodium.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include "backup/backup.hpp"
#include "core/assert.hpp"

namespace opsbox::backup::detail {

// Appends parts to a new file. Not thread-safe.
class BundleWriter {
 public:
  BundleWriter() = default;
  ~BundleWriter();
  BundleWriter(const BundleWriter&) = delete;
  BundleWriter& operator=(const BundleWriter&) = delete;

  // Creates `path` (refusing an existing file) and writes the magic line.
  Status Open(const std::string& path);
  Status BeginPart(std::string_view name);
  // Bytes of the current part (or, outside a part, raw container bytes).
  Status Write(std::string_view bytes);
  // Closes the part: writes its hash and patches its length. Returns its manifest entry.
  Result<PartEntry> EndPart(std::string name);
  // Flushes, fsyncs and closes.
  Status Finish();

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  bool in_part_ = false;
  off_t length_at_ = 0;
  uint64_t part_bytes_ = 0;
  crypto_hash_sha256_state sha_{};
};

struct Frame {
  std::string name;
  uint64_t offset = 0;
  uint64_t bytes = 0;
  std::string sha256_hex;
};

// Reads every frame, checking each one's own hash; the manifest's bytes go to *manifest_text.
Result<std::vector<Frame>> ReadFrames(const std::string& path, std::string* manifest_text);

}  // namespace opsbox::backup::detail
