// JSON helpers around nlohmann::json: strict parsing of outside input (depth limit, UTF-8,
// duplicate keys rejected) and the canonical encoding the ledger hashes.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace opsbox {

using Json = nlohmann::json;

// Parses a request body. Errors name the rule: "json_syntax" (with byte offset), "utf8",
// "depth_max" (limits::kJsonDepthMax), "duplicate_key". Field is `field` (e.g. "body").
Result<Json> ParseJson(std::string_view text, std::string_view field = "body");

// Canonical encoding: object keys sorted by UTF-8 bytes, no insignificant whitespace, strings
// with the minimal escapes, integers in shortest decimal. Equal JSON values encode to equal
// bytes; this is what the ledger hash chain covers.
std::string CanonicalJson(const Json& value);
// CanonicalJson for values built from outside input: a string that is not valid UTF-8 is an
// error naming `field` with rule "utf8" instead of an exception.
Result<std::string> TryCanonicalJson(const Json& value, std::string_view field);

// Field checks for request objects. Each names the field and the rule it breaks.
// `allowed` lists every known key; an unknown key fails with rule "unknown_field".
Status CheckObjectKeys(const Json& object, std::initializer_list<std::string_view> allowed,
                       std::string_view prefix = "");
Result<std::string> RequireString(const Json& object, std::string_view key, size_t bytes_max,
                                  std::string_view prefix = "");
Result<std::string> OptionalString(const Json& object, std::string_view key, size_t bytes_max,
                                   std::string_view fallback, std::string_view prefix = "");

}  // namespace opsbox
