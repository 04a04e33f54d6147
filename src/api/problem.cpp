#include "api/problem.hpp"

#include <nlohmann/json.hpp>

namespace opsbox::api {
namespace {

const char* TitleFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "The request is invalid";
    case ErrorCode::kNotFound: return "Not found";
    case ErrorCode::kConflict: return "Conflict with the current state";
    case ErrorCode::kUnauthenticated: return "Authentication required";
    case ErrorCode::kPermissionDenied: return "Permission denied";
    case ErrorCode::kRateLimited: return "Too many requests";
    case ErrorCode::kPayloadTooLarge: return "Payload too large";
    case ErrorCode::kUnsupportedMediaType: return "Unsupported media type";
    case ErrorCode::kUnavailable: return "Service unavailable";
    case ErrorCode::kInternal: return "Internal server error";
  }
  return "Internal server error";
}

const char* TitleFor(int status, ErrorCode code) {
  switch (status) {
    case 405: return "Method not allowed";
    case 431: return "Request header fields too large";
    default: return TitleFor(code);
  }
}

}  // namespace

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUnsupportedMediaType: return 415;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

HttpResponse Problem(const Error& error, std::string_view instance) {
  // A well-formed value that a policy refuses (an outbound URL whose destination is forbidden,
  // issue #17; a handoff packet without a field its intent requires, issue #12) is 422
  // Unprocessable Content, not 400.
  const bool policy_refusal = error.code == ErrorCode::kInvalidArgument &&
                              (error.rule == "forbidden_destination" ||
                               error.rule == "https_required" ||
                               error.rule == "required_for_handoff");
  return ProblemWithStatus(policy_refusal ? 422 : HttpStatusFor(error.code), error, instance);
}

HttpResponse ProblemWithStatus(int status, const Error& error, std::string_view instance) {
  std::string rule = error.rule.empty() ? ErrorCodeName(error.code) : error.rule;
  nlohmann::json body = {
      {"type", "https://opsbox.dev/problems/" + rule},
      {"title", TitleFor(status, error.code)},
      {"status", status},
      {"detail", error.message},
      {"rule", rule},
  };
  if (!error.field.empty()) body["field"] = error.field;
  if (!instance.empty()) body["instance"] = std::string(instance);
  HttpResponse response;
  response.status = status;
  response.content_type = "application/problem+json";
  // Messages may quote bad input; replace invalid UTF-8 rather than throw.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // A busy or stopping server says when to come back (429s set their own, exact value).
  if (status == 503) response.headers.emplace_back("Retry-After", "2");
  return response;
}

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

}  // namespace opsbox::api
