// RFC 9457 problem details: the only place that maps ErrorCode to an HTTP status.
#pragma once

#include "api/http.hpp"
#include "core/result.hpp"

namespace opsbox::api {

int HttpStatusFor(ErrorCode code);

// {"type": "https://opsbox.dev/problems/<rule or code>", "title", "status", "detail",
//  "field", "rule", "instance"} with Content-Type application/problem+json.
HttpResponse Problem(const Error& error, std::string_view instance = "");

// The same document with an explicit status, for the protocol-level answers that have no
// ErrorCode of their own (405 Method Not Allowed, 431 Request Header Fields Too Large).
HttpResponse ProblemWithStatus(int status, const Error& error, std::string_view instance = "");

// A JSON response with the given status.
HttpResponse JsonResponse(int status, std::string body);

}  // namespace opsbox::api
