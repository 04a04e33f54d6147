// Goal: the served OpenAPI document is valid JSON and describes every route the server has,
// with the same methods, and no route the server lacks; each authenticated operation names its
// permission.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace opsbox::api
