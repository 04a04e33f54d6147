// Reading a whole file that came from outside (a CLI argument, a zone file) with a size cap.
#pragma once

#include <cstddef>
#include <string>

#include "core/result.hpp"

namespace opsbox {

// Reads `path` whole. A file larger than `bytes_max` is refused before it is read (rule
// "max_bytes"); a missing or unreadable file fails with rule "readable". Errors name `field`.
// Thread-safe (no shared state).
Result<std::string> ReadFileCapped(const std::string& path, size_t bytes_max,
                                   const std::string& field);

}  // namespace opsbox
