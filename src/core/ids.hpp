// Prefixed, sortable, node-unique identifiers: "<prefix>_<26 Crockford base32 chars>", the
// ULID layout (48-bit millisecond time, 80 random bits). Sorting ids sorts by creation time.
#pragma once

#include <string>
#include <string_view>

#include "core/random.hpp"
#include "core/time.hpp"

namespace opsbox {

std::string NewId(std::string_view prefix, Instant now, Random& random);

// True when `id` is "<prefix>_" followed by 26 Crockford base32 characters.
bool IsId(std::string_view id, std::string_view prefix);

}  // namespace opsbox
