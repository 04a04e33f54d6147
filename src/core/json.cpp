#include "core/json.hpp"

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "core/limits.hpp"

namespace opsbox {

Result<Json> ParseJson(std::string_view text, std::string_view field) {
  // nlohmann's parser is iterative; the callback enforces the depth limit and rejects duplicate
  // keys (which nlohmann would otherwise resolve silently to the last value).
  std::vector<std::set<std::string>> keys;
  std::optional<Error> failure;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) -> bool {
    if (failure) return false;
    switch (event) {
      case Json::parse_event_t::object_start:
        keys.emplace_back();
        [[fallthrough]];
      case Json::parse_event_t::array_start:
        if (static_cast<size_t>(depth) >= limits::kJsonDepthMax) {
          failure = Error::Invalid(std::string(field), "depth_max",
                                   "JSON nesting deeper than " +
                                       std::to_string(limits::kJsonDepthMax) + " levels");
          return false;
        }
        break;
      case Json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
          failure = Error::Invalid(std::string(field), "duplicate_key",
                                   "duplicate object key \"" + parsed.get<std::string>() + "\"");
          return false;
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    Json value = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true);
    if (failure) return *failure;
    return value;
  } catch (const Json::parse_error& e) {
    if (failure) return *failure;
    std::string what = e.what();
    const bool utf8 = what.find("UTF-8") != std::string::npos ||
                      what.find("utf-8") != std::string::npos;
    return Error::Invalid(std::string(field), utf8 ? "utf8" : "json_syntax",
                          "malformed JSON at byte " + std::to_string(e.byte) + ": " + what);
  } catch (const Json::exception& e) {
    if (failure) return *failure;
    return Error::Invalid(std::string(field), "json_syntax", e.what());
  }
}

std::string CanonicalJson(const Json& value) {
  // nlohmann::json's object_t is std::map<std::string, ...>: keys iterate in byte order.
  return value.dump(-1, ' ', false, Json::error_handler_t::strict);
}

Result<std::string> TryCanonicalJson(const Json& value, std::string_view field) {
  try {
    return CanonicalJson(value);
  } catch (const Json::exception&) {
    return Error::Invalid(std::string(field), "utf8", "a string value is not valid UTF-8");
  }
}

namespace {
std::string Path(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return std::string(prefix) + "." + std::string(key);
}
}  // namespace

Status CheckObjectKeys(const Json& object, std::initializer_list<std::string_view> allowed,
                       std::string_view prefix) {
  if (!object.is_object()) {
    return Error::Invalid(prefix.empty() ? "body" : std::string(prefix), "type",
                          "must be a JSON object");
  }
  for (const auto& [key, _] : object.items()) {
    bool known = false;
    for (auto a : allowed) known = known || a == key;
    if (!known) {
      // An empty key has no path of its own: the error names the object that holds it.
      if (key.empty()) {
        return Error::Invalid(prefix.empty() ? "body" : std::string(prefix), "unknown_field",
                              "unknown field \"\" (an empty key)");
      }
      return Error::Invalid(Path(prefix, key), "unknown_field",
                            "unknown field \"" + key + "\"");
    }
  }
  return Ok();
}

Result<std::string> RequireString(const Json& object, std::string_view key, size_t bytes_max,
                                  std::string_view prefix) {
  const std::string path = Path(prefix, key);
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return Error::Invalid(path, "required", path + " is required");
  }
  if (!it->is_string()) return Error::Invalid(path, "type", path + " must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.empty()) return Error::Invalid(path, "required", path + " must not be empty");
  if (s.size() > bytes_max) {
    return Error::Invalid(path, "max_bytes",
                          path + " is longer than " + std::to_string(bytes_max) + " bytes");
  }
  return s;
}

Result<std::string> OptionalString(const Json& object, std::string_view key, size_t bytes_max,
                                   std::string_view fallback, std::string_view prefix) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string(fallback);
  return RequireString(object, key, bytes_max, prefix);
}

}  // namespace opsbox
