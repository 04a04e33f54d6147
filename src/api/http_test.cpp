// Goal: the HTTP vocabulary without sockets: routing ({name} params, literal-beats-param, 404
// versus 405 with Allow), request helpers (headers, percent-decoded query, cookies) and the
// RFC 9457 problem document with its status mapping.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/http.hpp"
#include "api/problem.hpp"

namespace opsbox::api {
namespace {

Route MakeRoute(std::string method, std::string pattern) {
  Route route;
  route.method = std::move(method);
  route.pattern = std::move(pattern);
  route.handler = [](HttpRequest&, Respond respond) { respond(HttpResponse{}); };
  return route;
}

Router SampleRouter() {
  Router router;
  router.Add(MakeRoute("GET", "/api/v1/tenants/{tenant}/events/{seq}"));
  router.Add(MakeRoute("GET", "/api/v1/tenants/{tenant}/events/latest"));
  router.Add(MakeRoute("POST", "/api/v1/tenants/{tenant}/events"));
  router.Add(MakeRoute("GET", "/api/v1/tenants/{tenant}/events"));
  router.Add(MakeRoute("GET", "/healthz"));
  router.Add(MakeRoute("GET", "/"));
  return router;
}

TEST(RouterTest, MatchesParamSegmentsAndCapturesThem) {
  Router router = SampleRouter();
  auto match = router.Find("GET", "/api/v1/tenants/acme/events/42");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/api/v1/tenants/{tenant}/events/{seq}");
  EXPECT_EQ(match.params.at("tenant"), "acme");
  EXPECT_EQ(match.params.at("seq"), "42");
  EXPECT_FALSE(match.method_not_allowed);
}

TEST(RouterTest, LiteralSegmentWinsOverParamWhateverTheOrderOfAdding) {
  Router router = SampleRouter();
  auto match = router.Find("GET", "/api/v1/tenants/acme/events/latest");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/api/v1/tenants/{tenant}/events/latest");
  EXPECT_EQ(match.params.size(), 1u);

  Router reversed;
  reversed.Add(MakeRoute("GET", "/a/b"));
  reversed.Add(MakeRoute("GET", "/a/{x}"));
  EXPECT_EQ(reversed.Find("GET", "/a/b").route->pattern, "/a/b");
  EXPECT_EQ(reversed.Find("GET", "/a/c").route->pattern, "/a/{x}");
}

TEST(RouterTest, LeftmostLiteralDecidesBetweenTwoPartlyLiteralPatterns) {
  Router router;
  router.Add(MakeRoute("GET", "/{a}/x"));
  router.Add(MakeRoute("GET", "/x/{b}"));
  EXPECT_EQ(router.Find("GET", "/x/x").route->pattern, "/x/{b}");
}

TEST(RouterTest, ParamDoesNotMatchAnEmptySegment) {
  Router router = SampleRouter();
  EXPECT_EQ(router.Find("GET", "/api/v1/tenants//events").route, nullptr);
  EXPECT_FALSE(router.Find("GET", "/api/v1/tenants//events").method_not_allowed);
}

TEST(RouterTest, UnknownPathIsNotFoundAndTrailingSlashIsADifferentPath) {
  Router router = SampleRouter();
  EXPECT_EQ(router.Find("GET", "/nope").route, nullptr);
  EXPECT_EQ(router.Find("GET", "/healthz/").route, nullptr);
  EXPECT_NE(router.Find("GET", "/").route, nullptr);
  EXPECT_EQ(router.Find("GET", "healthz").route, nullptr);
}

TEST(RouterTest, KnownPathWithAnotherMethodIsMethodNotAllowedWithAllow) {
  Router router = SampleRouter();
  auto match = router.Find("DELETE", "/api/v1/tenants/acme/events");
  EXPECT_EQ(match.route, nullptr);
  EXPECT_TRUE(match.method_not_allowed);
  EXPECT_EQ(match.allow, "POST, GET");
}

TEST(RouterTest, TooManySegmentsMatchNothing) {
  Router router = SampleRouter();
  std::string path;
  for (size_t i = 0; i <= Router::kSegmentsMax; ++i) path += "/s";
  EXPECT_EQ(router.Find("GET", path).route, nullptr);
}

TEST(RouterDeathTest, AddingTheSameMethodAndShapeTwiceAsserts) {
  Router router;
  router.Add(MakeRoute("GET", "/a/{x}"));
  EXPECT_DEATH(router.Add(MakeRoute("GET", "/a/{y}")), "same method and pattern");
}

TEST(HttpRequestTest, QueryParamDecodesPercentAndPlus) {
  HttpRequest request;
  request.query = "q=hello+world%21&empty=&flag&name%20x=v&bad=%zz&q=second";
  EXPECT_EQ(request.QueryParam("q"), "hello world!");
  EXPECT_EQ(request.QueryParam("empty"), "");
  EXPECT_EQ(request.QueryParam("flag"), "");
  EXPECT_EQ(request.QueryParam("name x"), "v");
  EXPECT_EQ(request.QueryParam("bad"), "%zz");
  EXPECT_EQ(request.QueryParam("missing"), std::nullopt);
}

TEST(HttpRequestTest, HeaderReturnsFirstValueOrEmpty) {
  HttpRequest request;
  request.headers = {{"x-a", "1"}, {"x-a", "2"}};
  EXPECT_EQ(request.Header("x-a"), "1");
  EXPECT_EQ(request.Header("x-b"), "");
}

TEST(HttpRequestTest, CookieFindsNamedValueAcrossPairs) {
  HttpRequest request;
  request.headers = {{"cookie", "theme=dark;  session=abc123 ; quoted=\"v w\""}};
  EXPECT_EQ(request.Cookie("session"), "abc123");
  EXPECT_EQ(request.Cookie("theme"), "dark");
  EXPECT_EQ(request.Cookie("quoted"), "v w");
  EXPECT_EQ(request.Cookie("sess"), "");
}

TEST(PercentDecodeTest, RejectsMalformedEscapes) {
  std::string out;
  EXPECT_TRUE(PercentDecode("/a%20b+c", false, out));
  EXPECT_EQ(out, "/a b+c");
  EXPECT_FALSE(PercentDecode("%2", false, out));
  EXPECT_FALSE(PercentDecode("%g0", false, out));
}

TEST(ProblemTest, MapsEveryCodeToItsStatus) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnsupportedMediaType), 415);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInternal), 500);
}

TEST(ProblemTest, ProblemDocumentNamesTypeFieldRuleAndInstance) {
  HttpResponse response =
      Problem(Error::Invalid("customer.name", "max_bytes", "longer than 200 bytes"), "/api/x");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.content_type, "application/problem+json");
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["type"], "https://opsbox.dev/problems/max_bytes");
  EXPECT_EQ(body["title"], "The request is invalid");
  EXPECT_EQ(body["status"], 400);
  EXPECT_EQ(body["detail"], "longer than 200 bytes");
  EXPECT_EQ(body["field"], "customer.name");
  EXPECT_EQ(body["rule"], "max_bytes");
  EXPECT_EQ(body["instance"], "/api/x");
}

TEST(ProblemTest, ProblemWithoutRuleOrFieldUsesCodeNameAndOmitsField) {
  HttpResponse response = Problem(Error{ErrorCode::kUnavailable, "", "", "shutting down"});
  EXPECT_EQ(response.status, 503);
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["type"], "https://opsbox.dev/problems/unavailable");
  EXPECT_FALSE(body.contains("field"));
  EXPECT_FALSE(body.contains("instance"));
  // A busy server says when to come back (a full pool, a full queue, shutting down).
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0], (std::pair<std::string, std::string>{"Retry-After", "2"}));
}

TEST(ProblemTest, InvalidUtf8InMessageDoesNotThrow) {
  HttpResponse response = Problem(Error::Invalid("name", "utf8", "bad \xff byte"));
  EXPECT_TRUE(nlohmann::json::accept(response.body));
}

TEST(ProblemTest, ProblemWithStatusOverridesStatusAndTitle) {
  HttpResponse response = ProblemWithStatus(
      405, Error{ErrorCode::kInvalidArgument, "", "method_not_allowed", "use GET"});
  EXPECT_EQ(response.status, 405);
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["status"], 405);
  EXPECT_EQ(body["title"], "Method not allowed");
  EXPECT_EQ(body["type"], "https://opsbox.dev/problems/method_not_allowed");
}

TEST(JsonResponseTest, CarriesStatusAndBody) {
  HttpResponse response = JsonResponse(201, R"({"id":"x"})");
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"id":"x"})");
}

}  // namespace
}  // namespace opsbox::api
