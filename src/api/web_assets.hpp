// Files embedded into the binary at build time (cmake/embed.cmake).
#pragma once

#include <string_view>

namespace opsbox::api::web {
extern const std::string_view kIndexHtml;
extern const std::string_view kAppJs;
extern const std::string_view kAppCss;
extern const std::string_view kWfmHtml;
extern const std::string_view kWfmJs;
extern const std::string_view kWfmCss;
extern const std::string_view kOpenApiJson;
}  // namespace opsbox::api::web
