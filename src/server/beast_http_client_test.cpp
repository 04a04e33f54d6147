// Goal: BeastHttpClient against loopback peers: a full exchange with Host and Content-Length,
// truncation at 64 KiB, and every transport failure (refused, silent peer, TLS to a plain port)
// surfacing as kUnavailable naming the url, while malformed requests are kInvalidArgument.
#include "server/beast_http_client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/problem.hpp"
#include "server/http_server.hpp"

namespace opsbox::server {
namespace {

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
  BeastHttpClient client_;
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

TEST_F(BeastHttpClientTest, ResponseBodyIsTruncatedTo64KiB) {
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

}  // namespace
}  // namespace opsbox::server
