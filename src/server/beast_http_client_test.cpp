// Goal: BeastHttpClient against loopback peers: a full exchange with Host and Content-Length,
// truncation at kResponseBodyBytesMax, and every transport failure (refused, silent peer, TLS to
// a plain port) surfacing as kUnavailable naming the url, while malformed requests are
// kInvalidArgument. The outbound policy (issue #17) is enforced here: plain http and loopback
// are refused by default before a byte is sent, names are resolved once through the Resolver
// the test controls (a name of a forbidden address is refused; an answer that changes between
// check and connect cannot move the connection), and a redirect is returned, not followed.
// Tests naming other than loopback addresses are in outbound_guard_test.cpp (in a namespace).
#include "server/beast_http_client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "api/problem.hpp"
#include "integrations/testing/scripted_resolver.hpp"
#include "server/http_server.hpp"

namespace opsbox::server {
namespace {

// The test configuration: plain http and loopback receivers allowed.
integrations::OutboundPolicy LoopbackPolicy() {
  integrations::OutboundPolicyOptions o;
  o.allow_http = true;
  o.allow_loopback = true;
  return integrations::OutboundPolicy(o);
}

integrations::IpAddress Ip(std::string_view text) {
  return integrations::ParseIpLiteral(text).value_or(integrations::IpAddress{});
}

using integrations::testing::ScriptedResolver;

class BeastHttpClientTest : public ::testing::Test {
 protected:
  BeastHttpClientTest() {
    api::Route echo;
    echo.method = "PUT";
    echo.pattern = "/echo";
    echo.access = api::Access::kPublic;
    echo.handler = [](api::HttpRequest& request, api::Respond respond) {
      std::string body = std::string(request.Header("host")) + "|" +
                         std::string(request.Header("content-length")) + "|" +
                         std::string(request.Header("x-trace")) + "|" + request.body;
      respond(api::JsonResponse(202, std::move(body)));
    };
    router_.Add(std::move(echo));
    api::Route count;
    count.method = "POST";
    count.pattern = "/count";
    count.access = api::Access::kPublic;
    count.handler = [this](api::HttpRequest&, api::Respond respond) {
      ++hits_;
      respond(api::JsonResponse(200, "{}"));
    };
    router_.Add(std::move(count));
    api::Route redirect;
    redirect.method = "POST";
    redirect.pattern = "/redirect";
    redirect.access = api::Access::kPublic;
    redirect.handler = [this](api::HttpRequest&, api::Respond respond) {
      api::HttpResponse response = api::JsonResponse(302, "{}");
      response.headers.emplace_back("Location", base_ + "/count");
      respond(std::move(response));
    };
    router_.Add(std::move(redirect));
    api::Route big;
    big.method = "GET";
    big.pattern = "/big";
    big.access = api::Access::kPublic;
    big.handler = [](api::HttpRequest&, api::Respond respond) {
      respond(api::JsonResponse(200, std::string(100 * 1024, 'x')));
    };
    router_.Add(std::move(big));
    HttpServerOptions options;
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options, router_, metrics_);
    Status started = server_->Start();
    EXPECT_TRUE(started.ok());
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  api::Router router_;
  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
  std::string base_;
  std::atomic<int> hits_{0};
  BeastHttpClient client_{LoopbackPolicy()};
};

TEST_F(BeastHttpClientTest, SendsMethodHostHeadersAndBody) {
  integrations::OutboundRequest request;
  request.method = "PUT";
  request.url = base_ + "/echo";
  request.headers = {{"X-Trace", "t1"}};
  request.body = "hello";
  auto response = client_.Send(request);
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 202);
  EXPECT_EQ(response->body,
            "127.0.0.1:" + std::to_string(server_->port()) + "|5|t1|hello");
}

TEST_F(BeastHttpClientTest, ErrorStatusIsAResponseNotAnError) {
  integrations::OutboundRequest request;
  request.method = "GET";
  request.url = base_ + "/missing";
  auto response = client_.Send(request);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
}

TEST_F(BeastHttpClientTest, ResponseBodyIsTruncatedAtTheNamedLimit) {
  integrations::OutboundRequest request;
  request.method = "GET";
  request.url = base_ + "/big";
  auto response = client_.Send(request);
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), BeastHttpClient::kResponseBodyBytesMax);
}

TEST_F(BeastHttpClientTest, RefusedConnectionIsUnavailableNamingTheUrl) {
  server_->Stop();
  integrations::OutboundRequest request;
  request.url = base_ + "/echo";
  auto response = client_.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(response.error().message.find(request.url), std::string::npos);
  EXPECT_NE(response.error().message.find("connect"), std::string::npos);
}

TEST_F(BeastHttpClientTest, SilentPeerTimesOutAsUnavailable) {
  // A listener that never accepts: the kernel completes the handshake, nobody answers.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  integrations::OutboundRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/hook";
  request.timeout_ms = 200;
  auto response = client_.Send(request);
  ::close(fd);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(response.error().message.find("timed out"), std::string::npos)
      << response.error().message;
}

TEST_F(BeastHttpClientTest, TlsToAPlainHttpPortIsUnavailable) {
  integrations::OutboundRequest request;
  request.url = "https://127.0.0.1:" + std::to_string(server_->port()) + "/echo";
  auto response = client_.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(response.error().message.find("tls handshake"), std::string::npos)
      << response.error().message;
}

TEST_F(BeastHttpClientTest, MalformedUrlsAreInvalidArguments) {
  for (std::string url : {"ftp://host/x", "http://", "http://host:0/", "http://host:99999/",
                          "http://user@host/", "http://[::1/", "no-scheme"}) {
    integrations::OutboundRequest request;
    request.url = url;
    auto response = client_.Send(request);
    ASSERT_FALSE(response.ok()) << url;
    EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(response.error().field, "url") << url;
  }
}

TEST_F(BeastHttpClientTest, HeaderWithLineBreakIsRejectedBeforeSending) {
  integrations::OutboundRequest request;
  request.url = base_ + "/echo";
  request.headers = {{"X-Evil", "a\r\nInjected: 1"}};
  auto response = client_.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().field, "headers");
}

TEST_F(BeastHttpClientTest, DefaultPolicyRefusesPlainHttpAndLoopbackBeforeConnecting) {
  integrations::OutboundRequest request;
  request.url = base_ + "/count";
  BeastHttpClient strict;
  auto response = strict.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(response.error().rule, "https_required");

  BeastHttpClient http_only(integrations::OutboundPolicy({.allow_http = true}));
  for (const std::string host : {"127.0.0.1", "127.0.0.2", "[::ffff:127.0.0.1]", "127.1", "[::1]"}) {
    request.url = "http://" + host + ":" + std::to_string(server_->port()) + "/count";
    response = http_only.Send(request);
    ASSERT_FALSE(response.ok()) << host;
    EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument) << host;
    EXPECT_EQ(response.error().rule, "forbidden_destination") << host;
    EXPECT_NE(response.error().message.find(request.url), std::string::npos);
  }
  EXPECT_EQ(hits_.load(), 0);
}

TEST_F(BeastHttpClientTest, NameOfALoopbackAddressIsRefusedAfterResolution) {
  for (const char* address : {"127.0.0.1", "::1", "::ffff:127.0.0.1"}) {
    ScriptedResolver resolver({{Ip(address)}});
    BeastHttpClient client(integrations::OutboundPolicy({.allow_http = true}), &resolver);
    integrations::OutboundRequest request;
    request.url = "http://hooks.example.test:" + std::to_string(server_->port()) + "/count";
    auto response = client.Send(request);
    ASSERT_FALSE(response.ok()) << address;
    EXPECT_EQ(response.error().rule, "forbidden_destination") << address;
    EXPECT_NE(response.error().message.find(address), std::string::npos)
        << response.error().message;
    EXPECT_EQ(resolver.lookups(), 1u);
  }
  EXPECT_EQ(hits_.load(), 0);
}

TEST_F(BeastHttpClientTest, OneForbiddenAnswerAmongSeveralRefusesTheRequest) {
  // 127.0.0.1 is allowed by the operator's network; 127.0.0.2 is plain loopback, refused.
  ScriptedResolver resolver({{Ip("127.0.0.1"), Ip("127.0.0.2")}});
  auto allow = integrations::ParseIpNetwork("127.0.0.1/32", "test");
  ASSERT_TRUE(allow.ok());
  BeastHttpClient client(
      integrations::OutboundPolicy({.allow_http = true, .allow_networks = {*allow}}), &resolver);
  integrations::OutboundRequest request;
  request.url = "http://hooks.example.test:" + std::to_string(server_->port()) + "/count";
  auto response = client.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().rule, "forbidden_destination");
  EXPECT_NE(response.error().message.find("127.0.0.2"), std::string::npos);
  EXPECT_EQ(hits_.load(), 0);
}

TEST_F(BeastHttpClientTest, RebindingBetweenCheckAndConnectCannotMoveTheConnection) {
  // The first answer is the checked, allowed address; every later lookup answers 127.0.0.2,
  // where nothing listens. A client that resolved again to connect would fail to connect.
  auto allow = integrations::ParseIpNetwork("127.0.0.1/32", "test");
  ASSERT_TRUE(allow.ok());
  ScriptedResolver resolver({{Ip("127.0.0.1")}, {Ip("127.0.0.2")}});
  BeastHttpClient client(
      integrations::OutboundPolicy({.allow_http = true, .allow_networks = {*allow}}), &resolver);
  integrations::OutboundRequest request;
  request.url = "http://rebind.example.test:" + std::to_string(server_->port()) + "/count";
  auto response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(resolver.lookups(), 1u) << "resolved once: the checked address is the one connected";
  EXPECT_EQ(hits_.load(), 1);
  // The next request resolves afresh, gets the rebound answer, and is refused before connecting.
  response = client.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().rule, "forbidden_destination");
  EXPECT_EQ(hits_.load(), 1);
}

TEST_F(BeastHttpClientTest, RedirectIsReturnedNotFollowed) {
  integrations::OutboundRequest request;
  request.url = base_ + "/redirect";
  auto response = client_.Send(request);
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(hits_.load(), 0) << "the Location (another loopback path) was not requested";
}

}  // namespace
}  // namespace opsbox::server
