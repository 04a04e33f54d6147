// Field readers for the planning request and command bodies (planning*.cpp only). Each error
// names the dotted field and the rule: "type", "required", "range", "max".
#pragma once

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/result.hpp"

namespace opsbox::wfm::detail {

inline std::string FieldPath(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return std::string(prefix) + "." + std::string(key);
}

inline std::string ItemPath(std::string_view path, size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

// The member, or nullptr when absent or null.
inline const Json* Member(const Json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

inline Result<std::optional<double>> OptionalNumber(const Json& object, std::string_view key,
                                                    std::string_view prefix) {
  const Json* v = Member(object, key);
  if (v == nullptr) return std::optional<double>();
  if (!v->is_number()) {
    return Error::Invalid(FieldPath(prefix, key), "type", "must be a number");
  }
  return std::optional<double>(v->get<double>());
}

inline Result<double> NumberOr(const Json& object, std::string_view key, std::string_view prefix,
                               double fallback) {
  OPSBOX_ASSIGN_OR_RETURN(auto v, OptionalNumber(object, key, prefix));
  return v.value_or(fallback);
}

inline Result<double> RequireNumber(const Json& object, std::string_view key,
                                    std::string_view prefix) {
  OPSBOX_ASSIGN_OR_RETURN(auto v, OptionalNumber(object, key, prefix));
  if (!v) return Error::Invalid(FieldPath(prefix, key), "required", "is required");
  return *v;
}

// An integer in [lo, hi], or `fallback` when absent.
inline Result<int64_t> IntOr(const Json& object, std::string_view key, std::string_view prefix,
                             int64_t fallback, int64_t lo, int64_t hi) {
  const Json* v = Member(object, key);
  if (v == nullptr) return fallback;
  if (!v->is_number_integer()) {
    return Error::Invalid(FieldPath(prefix, key), "type", "must be an integer");
  }
  const bool is_unsigned = v->is_number_unsigned();
  const int64_t n = is_unsigned ? static_cast<int64_t>(std::min<uint64_t>(
                                      v->get<uint64_t>(), static_cast<uint64_t>(INT64_MAX)))
                                : v->get<int64_t>();
  if (n < lo || n > hi) {
    return Error::Invalid(FieldPath(prefix, key), "range",
                          "must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return n;
}

// An array of at most `items_max` items, or nullptr when absent.
inline Result<const Json*> OptionalArray(const Json& object, std::string_view key,
                                         std::string_view prefix, size_t items_max) {
  const Json* v = Member(object, key);
  if (v == nullptr) return v;
  if (!v->is_array()) return Error::Invalid(FieldPath(prefix, key), "type", "must be an array");
  if (v->size() > items_max) {
    return Error::Invalid(FieldPath(prefix, key), "max",
                          "holds " + std::to_string(v->size()) + " items; at most " +
                              std::to_string(items_max) + " are allowed");
  }
  return v;
}

// NaN and infinities are not JSON: they become null.
inline Json NumberOrNull(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

template <class T>
Json OptionalJson(const std::optional<T>& v) {
  if (!v) return Json(nullptr);
  if constexpr (std::is_floating_point_v<T>) return NumberOrNull(*v);
  return Json(*v);
}

}  // namespace opsbox::wfm::detail
