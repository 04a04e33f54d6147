// Goal: the HTTP server over real loopback sockets: keep-alive and Connection: close, body and
// header limits answered as problems, 404/405, percent-decoded paths, handlers that respond
// later from another thread or throw, graceful Stop() with a request in flight, the idle
// timeout, port conflicts, and route-pattern labels in the metrics. It talks through
// BeastHttpClient and, where it needs headers or one connection for several requests, through a
// raw POSIX socket. Every server binds port 0.
#include "server/http_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "api/problem.hpp"
#include "server/beast_http_client.hpp"
#include "server/testing/raw_connection.hpp"

namespace opsbox::server {
namespace {

using testing::RawConnection;
using testing::RawResponse;

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() { AddRoutes(); }

  void TearDown() override {
    for (auto& thread : threads_) thread.join();
    if (server_) server_->Stop();
  }

  void StartServer(HttpServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options, router_, metrics_);
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.error().ToString();
    ASSERT_NE(server_->port(), 0);
  }

  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }

  Result<integrations::OutboundResponse> Get(std::string_view path) {
    integrations::OutboundRequest request;
    request.method = "GET";
    request.url = Url(path);
    return client_.Send(request);
  }

  void Add(std::string method, std::string pattern, api::Handler handler) {
    api::Route route;
    route.method = std::move(method);
    route.pattern = std::move(pattern);
    route.access = api::Access::kPublic;
    route.handler = std::move(handler);
    router_.Add(std::move(route));
  }

  void AddRoutes() {
    Add("GET", "/api/v1/items/{id}", [](api::HttpRequest& request, api::Respond respond) {
      nlohmann::json body = {{"id", request.path_params.at("id")},
                             {"q", request.QueryParam("q").value_or("")}};
      respond(api::JsonResponse(200, body.dump()));
    });
    Add("POST", "/api/v1/items", [](api::HttpRequest& request, api::Respond respond) {
      respond(api::JsonResponse(201, std::to_string(request.body.size())));
    });
    Add("GET", "/later", [this](api::HttpRequest&, api::Respond respond) {
      std::lock_guard lock(mutex_);
      threads_.emplace_back([respond] { respond(api::JsonResponse(200, R"({"later":true})")); });
    });
    Add("GET", "/slow", [this](api::HttpRequest&, api::Respond respond) {
      std::lock_guard lock(mutex_);
      slow_respond_ = std::move(respond);
      slow_entered_.set_value();
    });
    Add("GET", "/throw", [](api::HttpRequest&, api::Respond) -> void {
      throw std::runtime_error("boom");
    });
    Add("GET", "/twice", [](api::HttpRequest&, api::Respond respond) {
      respond(api::JsonResponse(200, "1"));
      respond(api::JsonResponse(200, "2"));
    });
    Add("GET", "/big", [](api::HttpRequest&, api::Respond respond) {
      respond(api::JsonResponse(200, std::string(100 * 1024, 'x')));
    });
  }

  api::Router router_;
  Metrics metrics_;
  // Plain http to this test's own server on loopback: the test configuration's allowance.
  BeastHttpClient client_{
      integrations::OutboundPolicy({.allow_http = true, .allow_loopback = true})};
  std::unique_ptr<HttpServer> server_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  api::Respond slow_respond_;
  std::promise<void> slow_entered_;
};

nlohmann::json ParseBody(const std::string& body) { return nlohmann::json::parse(body); }

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnectionWithStandardHeaders) {
  StartServer();
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());
  for (int i = 0; i < 3; ++i) {
    std::string id = "item" + std::to_string(i);
    connection.Send("GET /api/v1/items/" + id + "?q=a+b%21 HTTP/1.1\r\nHost: x\r\n\r\n");
    std::optional<RawResponse> response = connection.ReadResponse();
    ASSERT_TRUE(response.has_value()) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(ParseBody(response->body)["id"], id);
    EXPECT_EQ(ParseBody(response->body)["q"], "a b!");
    EXPECT_EQ(response->Header("content-type"), "application/json");
    EXPECT_EQ(response->Header("cache-control"), "no-store");
    EXPECT_EQ(response->Header("x-content-type-options"), "nosniff");
    EXPECT_EQ(response->Header("x-frame-options"), "DENY");
    EXPECT_EQ(response->Header("referrer-policy"), "no-referrer");
    EXPECT_EQ(response->Header("connection"), "");
  }
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  RawConnection connection(server_->port());
  connection.Send("GET /api/v1/items/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::optional<RawResponse> response = connection.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(connection.ReadsEndOfStream());
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  RawConnection connection(server_->port());
  connection.Send(
      "GET /api/v1/items/a HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /api/v1/items/b HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = connection.ReadResponse();
  auto second = connection.ReadResponse();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(ParseBody(first->body)["id"], "a");
  EXPECT_EQ(ParseBody(second->body)["id"], "b");
}

TEST_F(HttpServerTest, BodyAtTheLimitIsAcceptedAndOneByteMoreAnswers413NamingBody) {
  HttpServerOptions options;
  options.body_bytes_max = 1024;
  StartServer(options);
  integrations::OutboundRequest request;
  request.url = Url("/api/v1/items");
  request.body = std::string(1024, 'a');
  auto accepted = client_.Send(request);
  ASSERT_TRUE(accepted.ok()) << accepted.error().ToString();
  EXPECT_EQ(accepted->status, 201);
  EXPECT_EQ(accepted->body, "1024");

  request.body = std::string(1025, 'a');
  auto rejected = client_.Send(request);
  ASSERT_TRUE(rejected.ok()) << rejected.error().ToString();
  EXPECT_EQ(rejected->status, 413);
  auto problem = ParseBody(rejected->body);
  EXPECT_EQ(problem["field"], "body");
  EXPECT_EQ(problem["rule"], "max_bytes");
  EXPECT_EQ(problem["status"], 413);
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitAnswers413) {
  HttpServerOptions options;
  options.body_bytes_max = 16;
  StartServer(options);
  RawConnection connection(server_->port());
  connection.Send(
      "POST /api/v1/items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "10\r\n0123456789abcdef\r\n1\r\nX\r\n0\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(ParseBody(response->body)["field"], "body");
  EXPECT_EQ(response->Header("connection"), "close");
}

TEST_F(HttpServerTest, HeaderOverTheLimitAnswers431) {
  HttpServerOptions options;
  options.header_bytes_max = 1024;
  StartServer(options);
  RawConnection connection(server_->port());
  connection.Send("GET /api/v1/items/1 HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(2048, 'p') +
                  "\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(ParseBody(response->body)["field"], "headers");
}

TEST_F(HttpServerTest, MalformedRequestAnswers400AndCloses) {
  StartServer();
  RawConnection connection(server_->port());
  connection.Send("GET /x HTTP/9.9 junk\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(ParseBody(response->body)["rule"], "http_syntax");
  EXPECT_TRUE(connection.ReadsEndOfStream());
}

TEST_F(HttpServerTest, UnknownPathAnswers404Problem) {
  StartServer();
  auto response = Get("/nope");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
  auto problem = ParseBody(response->body);
  EXPECT_EQ(problem["type"], "https://opsbox.dev/problems/not_found");
  EXPECT_EQ(problem["instance"], "/nope");
}

TEST_F(HttpServerTest, WrongMethodAnswers405WithAllow) {
  StartServer();
  RawConnection connection(server_->port());
  connection.Send("DELETE /api/v1/items/7 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->Header("allow"), "GET");
  EXPECT_EQ(response->Header("content-type"), "application/problem+json");
  EXPECT_EQ(ParseBody(response->body)["rule"], "method_not_allowed");
}

TEST_F(HttpServerTest, PathIsPercentDecodedButAnEncodedSlashIsRejected) {
  StartServer();
  auto decoded = Get("/api/v1/items/a%20b");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(ParseBody(decoded->body)["id"], "a b");
  auto slash = Get("/api/v1/items/a%2Fb");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->status, 400);
  EXPECT_EQ(ParseBody(slash->body)["rule"], "encoded_separator");
}

TEST_F(HttpServerTest, HandlerRespondingLaterFromAnotherThreadIsDelivered) {
  StartServer();
  auto response = Get("/later");
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"later":true})");
}

TEST_F(HttpServerTest, SecondRespondIsIgnoredAndTheConnectionStaysUsable) {
  StartServer();
  RawConnection connection(server_->port());
  connection.Send("GET /twice HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/items/z HTTP/1.1\r\n\r\n");
  auto first = connection.ReadResponse();
  auto second = connection.ReadResponse();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->body, "1");
  EXPECT_EQ(ParseBody(second->body)["id"], "z");
}

TEST_F(HttpServerTest, ThrowingHandlerAnswers500ProblemWithAProblemId) {
  StartServer();
  auto response = Get("/throw");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 500);
  auto problem = ParseBody(response->body);
  std::string instance = problem["instance"];
  EXPECT_TRUE(instance.starts_with("urn:opsbox:problem:prob_")) << instance;
  EXPECT_NE(problem["detail"].get<std::string>().find(instance.substr(19)), std::string::npos);
  EXPECT_NE(metrics_.Render().find("opsbox_http_handler_exceptions_total 1"), std::string::npos);
}

TEST_F(HttpServerTest, StopDeliversTheInFlightResponseAndThenRefusesConnections) {
  StartServer();
  uint16_t port = server_->port();
  auto reply = std::async(std::launch::async, [this] { return Get("/slow"); });
  slow_entered_.get_future().wait();
  EXPECT_EQ(server_->in_flight(), 1u);

  std::thread stopper([this] { server_->Stop(); });
  // Stop() closes the listener first; wait for that before completing the request.
  bool refused = false;
  for (int attempt = 0; attempt < 5000 && !refused; ++attempt) {
    refused = !RawConnection(port).connected();
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(refused);
  {
    std::lock_guard lock(mutex_);
    slow_respond_(api::JsonResponse(200, R"({"slow":true})"));
  }
  auto response = reply.get();
  stopper.join();
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"slow":true})");
  EXPECT_EQ(server_->in_flight(), 0u);
  EXPECT_FALSE(RawConnection(port).connected());
  server_->Stop();  // idempotent
  server_->Wait();
}

TEST_F(HttpServerTest, RespondAfterTheGracePeriodIsIgnoredSafely) {
  HttpServerOptions options;
  options.shutdown_grace_ms = 50;
  StartServer(options);
  auto reply = std::async(std::launch::async, [this] { return Get("/slow"); });
  slow_entered_.get_future().wait();
  server_->Stop();  // the handler never answers within the grace period
  auto response = reply.get();
  EXPECT_FALSE(response.ok());
  server_.reset();
  std::lock_guard lock(mutex_);
  slow_respond_(api::JsonResponse(200, "{}"));  // the server is gone; nothing happens
  slow_respond_ = nullptr;
}

TEST_F(HttpServerTest, HeaderNotCompleteWithinHeaderTimeoutClosesTheConnection) {
  HttpServerOptions options;
  options.header_timeout_ms = 200;
  StartServer(options);
  RawConnection connection(server_->port());
  connection.Send("GET /api/v1/items/1 HTTP/1.1\r\nHost: x\r\n");
  EXPECT_TRUE(connection.ReadsEndOfStream());
}

TEST_F(HttpServerTest, ExpectContinueGetsAnInterimResponseBeforeTheBody) {
  StartServer();
  RawConnection connection(server_->port());
  connection.Send(
      "POST /api/v1/items HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
      "Expect: 100-continue\r\n\r\n");
  auto interim = connection.ReadResponse();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  connection.Send("abc");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "3");
}

TEST_F(HttpServerTest, StopClosesIdleKeepAliveConnections) {
  StartServer();
  RawConnection connection(server_->port());
  connection.Send("GET /api/v1/items/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(connection.ReadResponse().has_value());
  server_->Stop();
  EXPECT_TRUE(connection.ReadsEndOfStream());
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout_ms = 200;
  StartServer(options);
  RawConnection connection(server_->port());
  connection.Send("GET /api/v1/items/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(connection.ReadsEndOfStream());
}

TEST_F(HttpServerTest, MetricsCarryRoutePatternsNotRawPaths) {
  StartServer();
  ASSERT_TRUE(Get("/api/v1/items/42").ok());
  ASSERT_TRUE(Get("/api/v1/items/43").ok());
  ASSERT_TRUE(Get("/nope").ok());
  std::string text = metrics_.Render();
  EXPECT_NE(text.find(R"(opsbox_http_requests_total{method="GET",route="/api/v1/items/{id}",status="200"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(route="unmatched",status="404")"), std::string::npos);
  EXPECT_NE(text.find("opsbox_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_EQ(text.find("/api/v1/items/42"), std::string::npos);
}

TEST_F(HttpServerTest, PortInUseIsAListenErrorNamingTheAddress) {
  StartServer();
  HttpServerOptions options;
  options.port = server_->port();
  HttpServer second(options, router_, metrics_);
  Status started = second.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().rule, "listen");
  EXPECT_NE(started.error().message.find("127.0.0.1:" + std::to_string(options.port)),
            std::string::npos)
      << started.error().message;
  second.Wait();  // never started: returns at once
}

TEST_F(HttpServerTest, SecondStartIsAConflict) {
  StartServer();
  Status again = server_->Start();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

}  // namespace
}  // namespace opsbox::server
