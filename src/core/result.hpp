// Result<T> and Error: how expected failures travel as values (STYLE.md "Errors").
//
// An Error names what went wrong for an operator: a stable code, the field at fault (JSON
// pointer-ish dotted path, empty when the whole request is at fault), the rule broken
// (a short stable token such as "required", "max_bytes", "format") and a readable message.
// Only api/problem.cpp maps ErrorCode to HTTP status.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace opsbox {

enum class ErrorCode {
  kInvalidArgument,     // the request is malformed or breaks a rule (400/422)
  kNotFound,            // no such object in this tenant (404)
  kConflict,            // state does not allow it, or an idempotency key was reused (409)
  kUnauthenticated,     // no or bad credentials (401)
  kPermissionDenied,    // authenticated but not allowed (403)
  kRateLimited,         // too many attempts (429)
  kPayloadTooLarge,     // a size limit was exceeded (413)
  kUnsupportedMediaType,// wrong Content-Type (415)
  kUnavailable,         // shutting down or a dependency is down (503)
  kInternal,            // a bug or an I/O failure (500)
};

const char* ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string field;
  std::string rule;
  std::string message;

  static Error Invalid(std::string field, std::string rule, std::string message) {
    return Error{ErrorCode::kInvalidArgument, std::move(field), std::move(rule),
                 std::move(message)};
  }
  static Error NotFound(std::string message) {
    return Error{ErrorCode::kNotFound, "", "not_found", std::move(message)};
  }
  static Error Conflict(std::string rule, std::string message) {
    return Error{ErrorCode::kConflict, "", std::move(rule), std::move(message)};
  }
  static Error Internal(std::string message) {
    return Error{ErrorCode::kInternal, "", "internal", std::move(message)};
  }
  static Error Unavailable(std::string message) {
    return Error{ErrorCode::kUnavailable, "", "unavailable", std::move(message)};
  }
  // "code field rule: message", for logs and CLI output.
  std::string ToString() const;
};

// The std::expected shape: either a value or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(implicit)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(implicit)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { assert(!ok_); return error_; }
  Error&& error() && { assert(!ok_); return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status Ok() { return Status(); }

}  // namespace opsbox

// Returns the error of a failed Result from the enclosing function.
#define OPSBOX_TRY(expr)                                   \
  do {                                                     \
    auto&& opsbox_try_r_ = (expr);                         \
    if (!opsbox_try_r_.ok()) return std::move(opsbox_try_r_).error(); \
  } while (0)

#define OPSBOX_CONCAT_INNER_(a, b) a##b
#define OPSBOX_CONCAT_(a, b) OPSBOX_CONCAT_INNER_(a, b)
// OPSBOX_ASSIGN_OR_RETURN(auto x, Call()); binds the value or returns the error.
#define OPSBOX_ASSIGN_OR_RETURN(lhs, expr) \
  OPSBOX_ASSIGN_OR_RETURN_IMPL_(OPSBOX_CONCAT_(opsbox_r_, __LINE__), lhs, expr)
#define OPSBOX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).error();       \
  lhs = std::move(tmp).value()
