// Named limits shared across modules (STYLE.md house rule 4). Configurable limits live in
// app/config.hpp with units in their key names; these are the fixed ones.
#pragma once

#include <cstddef>
#include <cstdint>

namespace opsbox::limits {

inline constexpr size_t kTenantIdBytesMax = 64;
inline constexpr size_t kUsernameBytesMax = 128;
inline constexpr size_t kPasswordBytesMin = 12;
inline constexpr size_t kPasswordBytesMax = 1024;
inline constexpr size_t kNameBytesMax = 200;
inline constexpr size_t kIdempotencyKeyBytesMax = 200;
inline constexpr size_t kJsonDepthMax = 32;
inline constexpr size_t kPageSizeDefault = 50;
inline constexpr size_t kPageSizeMax = 1000;
inline constexpr size_t kExternalEventPayloadBytesMax = 64 * 1024;
inline constexpr size_t kExternalSourceBytesMax = 64;
inline constexpr size_t kExternalTypeBytesMax = 128;
inline constexpr size_t kExternalIdBytesMax = 200;
inline constexpr size_t kWebhookUrlBytesMax = 2048;
inline constexpr size_t kWebhookEventTypesMax = 64;
inline constexpr size_t kRolesPerGrantMax = 16;

}  // namespace opsbox::limits
