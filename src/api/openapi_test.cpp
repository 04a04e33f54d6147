// Goal: the served OpenAPI document is valid JSON and describes every route the server has,
// with the same methods, and no route the server lacks; each authenticated operation names its
// permission; every operation carries what integrators generate clients from (a unique
// module.verbNoun operationId, its module's tag, a summary, its security requirement and the
// problems it can answer). Redocly's lint of the served document is tests/contract/.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>
#include <set>

#include "api/api.hpp"

namespace opsbox::api {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(OpenApi, DocumentListsExactlyTheServersRoutes) {
  ApiDeps deps;  // handlers are not called
  Router router;
  AddRoutes(router, deps);
  auto doc = nlohmann::json::parse(OpenApiDocument());
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 3), "3.1");
  std::set<std::string> served, documented;
  for (const auto& r : router.routes()) {
    served.insert(Lower(r->method) + " " + r->pattern);
    const auto& op = doc["paths"][r->pattern][Lower(r->method)];
    ASSERT_TRUE(op.is_object()) << r->method << " " << r->pattern << " is missing from openapi.json";
    if (r->access == Access::kAuthenticated) {
      EXPECT_EQ(op.value("x-permission", ""), r->permission)
          << r->method << " " << r->pattern << " documents the wrong permission";
    }
  }
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters") continue;
      documented.insert(method + " " + path);
    }
  }
  for (const auto& d : documented) {
    EXPECT_TRUE(served.contains(d)) << d << " is documented but not served";
  }
}

// Calls fn(method, path, operation) for every operation under `paths` (or `webhooks`).
template <typename Fn>
void ForEachOperation(const nlohmann::json& paths, Fn fn) {
  for (const auto& [path, item] : paths.items()) {
    for (const auto& [method, op] : item.items()) {
      if (method != "parameters") fn(method, path, op);
    }
  }
}

bool HasResponse(const nlohmann::json& op, const char* status) {
  return op.contains("responses") && op["responses"].contains(status);
}

TEST(OpenApi, EveryOperationHasAUniqueModuleVerbNounIdTaggedWithItsModule) {
  auto doc = nlohmann::json::parse(OpenApiDocument());
  const std::regex id_format("^[a-z]+\\.[a-z]+[A-Z][A-Za-z]*$");
  std::set<std::string> ids;
  auto check = [&](const std::string& method, const std::string& path, const nlohmann::json& op) {
    const std::string where = method + " " + path;
    const std::string id = op.value("operationId", "");
    EXPECT_TRUE(std::regex_match(id, id_format)) << where << ": operationId '" << id << "'";
    EXPECT_TRUE(ids.insert(id).second) << where << ": operationId " << id << " is used twice";
    ASSERT_TRUE(op.contains("tags") && op["tags"].size() == 1) << where << " needs one tag";
    EXPECT_EQ(op["tags"][0].get<std::string>(), id.substr(0, id.find('.')))
        << where << ": the tag is the operationId's module";
    EXPECT_FALSE(op.value("summary", "").empty()) << where << " needs a summary";
  };
  ForEachOperation(doc["paths"], check);
  ForEachOperation(doc["webhooks"], check);
}

TEST(OpenApi, EveryOperationStatesItsSecurityAndTheProblemsItCanAnswer) {
  ApiDeps deps;  // handlers are not called
  Router router;
  AddRoutes(router, deps);
  auto doc = nlohmann::json::parse(OpenApiDocument());
  for (const auto& r : router.routes()) {
    const auto& op = doc["paths"][r->pattern][Lower(r->method)];
    const std::string where = r->method + " " + r->pattern;
    ASSERT_TRUE(op.contains("security")) << where << " states no security requirement";
    // The server answers 400 (malformed request) and 413 (body over its limit) on any route.
    EXPECT_TRUE(HasResponse(op, "400")) << where << " does not document 400";
    EXPECT_TRUE(HasResponse(op, "413")) << where << " does not document 413";
    if (r->access == Access::kAuthenticated) {
      EXPECT_FALSE(op["security"].empty()) << where << " needs credentials but documents none";
      EXPECT_TRUE(HasResponse(op, "401")) << where << " does not document 401";
      EXPECT_TRUE(HasResponse(op, "403")) << where << " does not document 403";
      // Every credential spends a request budget (api/common.cpp): 429 with Retry-After.
      EXPECT_TRUE(HasResponse(op, "429")) << where << " does not document 429";
    }
  }
}

TEST(OpenApi, EveryProblemResponseUsesTheSharedProblemSchema) {
  auto doc = nlohmann::json::parse(OpenApiDocument());
  for (const auto& [name, response] : doc["components"]["responses"].items()) {
    if (!response.contains("content")) continue;
    EXPECT_EQ(response["content"]["application/problem+json"]["schema"]["$ref"],
              "#/components/schemas/Problem")
        << name;
  }
  ForEachOperation(doc["paths"], [](const std::string& method, const std::string& path,
                                    const nlohmann::json& op) {
    for (const auto& [status, response] : op["responses"].items()) {
      if (status[0] != '4' || response.contains("$ref")) continue;
      if (!response.contains("content")) continue;
      EXPECT_EQ(response["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem")
          << method << " " << path << " " << status;
    }
  });
}

}  // namespace
}  // namespace opsbox::api
