#include <string>

#include "api/api.hpp"
#include "api/web_assets.hpp"

namespace opsbox::api {

const std::string& OpenApiDocument() {
  static const std::string kDocument(web::kOpenApiJson);
  return kDocument;
}

}  // namespace opsbox::api
