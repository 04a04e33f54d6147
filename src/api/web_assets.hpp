// Files embedded into the binary at build time (cmake/embed.cmake): the console (web/, built
// with Vite into one page, one script and one style sheet) and the OpenAPI document.
#pragma once

#include <cstddef>
#include <string_view>

namespace opsbox::api::web {
extern const std::string_view kIndexHtml;
extern const std::string_view kAppJs;
extern const std::string_view kAppCss;
extern const std::string_view kOpenApiJson;
// The API reference page (/api/docs, src/api/api_docs.html) and Redoc's standalone bundle.
extern const std::string_view kApiDocsHtml;
extern const std::string_view kRedocJs;
// OpenAPI fragments per module (src/api/openapi/*.json): {"paths": {...}, "components":
// {"schemas": {...}}}, merged into kOpenApiJson by OpenApiDocument(). The array has one empty
// entry after the last part.
extern const size_t kOpenApiPartsCount;
extern const std::string_view kOpenApiParts[];
}  // namespace opsbox::api::web
