// The served OpenAPI document: openapi.json with every module's fragment (openapi/*.json)
// merged in. A path or schema defined twice is a build mistake and fails loudly at start-up.
#include <nlohmann/json.hpp>
#include <string>

#include "api/api.hpp"
#include "api/web_assets.hpp"
#include "core/assert.hpp"

namespace opsbox::api {
namespace {

void MergeInto(nlohmann::json& into, const nlohmann::json& from, const char* what) {
  if (!from.is_object()) return;
  for (const auto& [key, value] : from.items()) {
    OPSBOX_ASSERT_MSG(!into.contains(key), what);
    into[key] = value;
  }
}

std::string Build() {
  auto doc = nlohmann::json::parse(web::kOpenApiJson);
  for (size_t i = 0; i < web::kOpenApiPartsCount; ++i) {
    auto part = nlohmann::json::parse(web::kOpenApiParts[i]);
    MergeInto(doc["paths"], part.value("paths", nlohmann::json::object()),
              "an OpenAPI path is defined in two fragments");
    // The ledger's event types a module adds (issue #12: fragments document their own).
    MergeInto(doc["webhooks"], part.value("webhooks", nlohmann::json::object()),
              "an OpenAPI webhook is defined in two fragments");
    if (part.contains("components")) {
      for (const auto& [section, entries] : part["components"].items()) {
        MergeInto(doc["components"][section], entries,
                  "an OpenAPI component is defined in two fragments");
      }
    }
  }
  return doc.dump(1);
}

}  // namespace

const std::string& OpenApiDocument() {
  static const std::string kDocument = Build();
  return kDocument;
}

}  // namespace opsbox::api
