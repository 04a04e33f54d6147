// Goal: the server's WebSocket routes (api::Router::AddWebSocket over server::HttpServer) do
// the handshake, carry text messages both ways, bring Hub publications to a subscribed client,
// refuse what the handler refuses, enforce the message and send-queue limits (a client that
// does not read is disconnected rather than buffered) and close cleanly with 1001 on Stop.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "api/http.hpp"
#include "live/hub.hpp"
#include "server/http_server.hpp"

namespace opsbox::live {
namespace {

constexpr int kReadTimeoutMs = 5000;

// A minimal RFC 6455 client over a blocking socket: masked text frames out, frames in.
class WsClient {
 public:
  explicit WsClient(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) Reset();
  }
  ~WsClient() { Reset(); }

  // Sends the upgrade request and returns the response head (through the blank line).
  std::string Handshake(std::string_view path, std::string_view extra_headers = "",
                        bool upgrade = true) {
    std::string request = "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (upgrade) {
      request += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    }
    request += std::string(extra_headers) + "\r\n";
    Write(request);
    while (buffer_.find("\r\n\r\n") == std::string::npos) {
      if (!Fill()) return buffer_;
    }
    size_t end = buffer_.find("\r\n\r\n") + 4;
    std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end);
    return head;
  }

  void SendText(std::string_view text) { SendFrame(0x1, text); }

  void SendFrame(uint8_t opcode, std::string_view payload) {
    std::string frame;
    frame.push_back(static_cast<char>(0x80 | opcode));
    const uint8_t mask[4] = {1, 2, 3, 4};
    if (payload.size() < 126) {
      frame.push_back(static_cast<char>(0x80 | payload.size()));
    } else if (payload.size() <= 0xffff) {
      frame.push_back(static_cast<char>(0x80 | 126));
      frame.push_back(static_cast<char>(payload.size() >> 8));
      frame.push_back(static_cast<char>(payload.size() & 0xff));
    } else {
      frame.push_back(static_cast<char>(0x80 | 127));
      for (int shift = 56; shift >= 0; shift -= 8) {
        frame.push_back(static_cast<char>((payload.size() >> shift) & 0xff));
      }
    }
    frame.append(reinterpret_cast<const char*>(mask), 4);
    for (size_t i = 0; i < payload.size(); ++i) {
      frame.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
    }
    Write(frame);
  }

  struct Frame {
    uint8_t opcode = 0;
    std::string payload;
  };
  // The next frame, or nullopt when the connection ends or nothing comes within the timeout.
  std::optional<Frame> ReadFrame() {
    if (!Need(2)) return std::nullopt;
    Frame frame;
    frame.opcode = static_cast<uint8_t>(buffer_[0]) & 0x0f;
    uint64_t length = static_cast<uint8_t>(buffer_[1]) & 0x7f;
    size_t header = 2;
    if (length == 126 || length == 127) {
      size_t bytes = length == 126 ? 2 : 8;
      if (!Need(2 + bytes)) return std::nullopt;
      length = 0;
      for (size_t i = 0; i < bytes; ++i) length = (length << 8) | static_cast<uint8_t>(buffer_[2 + i]);
      header += bytes;
    }
    if (!Need(header + length)) return std::nullopt;
    frame.payload = buffer_.substr(header, length);
    buffer_.erase(0, header + length);
    return frame;
  }

  // The next text message, skipping pings.
  std::optional<std::string> ReadText() {
    while (auto frame = ReadFrame()) {
      if (frame->opcode == 0x1) return frame->payload;
      if (frame->opcode == 0x8) return std::nullopt;
    }
    return std::nullopt;
  }

  // The close code of the next close frame (skipping others), or nullopt.
  std::optional<int> ReadCloseCode() {
    while (auto frame = ReadFrame()) {
      if (frame->opcode == 0x8 && frame->payload.size() >= 2) {
        return (static_cast<uint8_t>(frame->payload[0]) << 8) |
               static_cast<uint8_t>(frame->payload[1]);
      }
    }
    return std::nullopt;
  }

  // Answers the server's close frame and closes the socket, as RFC 6455 §7.1.1 has the
  // client do after the closing handshake.
  void FinishClose() {
    SendFrame(0x8, std::string("\x03\xe8", 2));
    Reset();
  }

 private:
  void Write(std::string_view bytes) {
    while (!bytes.empty() && fd_ >= 0) {
      ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return Reset();
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  bool Need(size_t bytes) {
    while (buffer_.size() < bytes) {
      if (!Fill()) return false;
    }
    return true;
  }
  bool Fill() {
    if (fd_ < 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, kReadTimeoutMs) <= 0) return false;
    char chunk[8192];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  std::string buffer_;
};

// Counts on_close calls and lets a test wait for them without sleeping.
struct Closes {
  std::mutex mutex;
  std::condition_variable cv;
  int count = 0;
  void Add() {
    std::lock_guard lock(mutex);
    ++count;
    cv.notify_all();
  }
  bool WaitFor(int n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(5), [&] { return count >= n; });
  }
};

class WebSocketTest : public ::testing::Test {
 protected:
  void StartServer(server::HttpServerOptions options = {}) {
    options.port = 0;
    options.threads = 2;
    options.shutdown_grace_ms = 3000;
    server_ = std::make_unique<server::HttpServer>(options, router_, metrics_);
    ASSERT_TRUE(server_->Start().ok());
  }
  // A route that echoes each message and subscribes the connection to (t1, "news").
  void AddEchoRoute() {
    router_.AddWebSocket("/ws/{tenant}", "", "test", [this](api::HttpRequest& request,
                                                            api::WebSocketRespond respond) {
      if (request.QueryParam("deny")) {
        api::HttpResponse refusal;
        refusal.status = 403;
        refusal.body = "{}";
        return respond({nullptr, refusal});
      }
      respond({[this](std::shared_ptr<api::WebSocketSession> session) {
                 std::weak_ptr<api::WebSocketSession> weak = session;
                 uint64_t id = hub_.Subscribe("t1", "news", [weak](auto text) {
                   if (auto s = weak.lock()) s->Send(std::move(text));
                 });
                 return api::WebSocketCallbacks{
                     [session](std::string_view text) {
                       session->Send(std::make_shared<const std::string>("echo:" +
                                                                         std::string(text)));
                     },
                     [this, id] {
                       hub_.Unsubscribe(id);
                       closes_.Add();
                     }};
               },
               {}});
    });
  }

  Hub hub_;
  api::Router router_;
  server::Metrics metrics_;
  Closes closes_;
  std::unique_ptr<server::HttpServer> server_;
};

TEST_F(WebSocketTest, UpgradesAndEchoesTextMessages) {
  AddEchoRoute();
  StartServer();
  WsClient client(server_->port());
  std::string head = client.Handshake("/ws/t1");
  ASSERT_NE(head.find("101"), std::string::npos) << head;
  EXPECT_NE(head.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << head;
  client.SendText("hello");
  EXPECT_EQ(client.ReadText(), "echo:hello");
}

TEST_F(WebSocketTest, DeliversHubPublicationsToTheSubscribedClient) {
  AddEchoRoute();
  StartServer();
  WsClient client(server_->port());
  ASSERT_NE(client.Handshake("/ws/t1").find("101"), std::string::npos);
  client.SendText("ready");  // once echoed, the connection is open and subscribed
  ASSERT_EQ(client.ReadText(), "echo:ready");
  hub_.Publish("t1", "news", Json{{"type", "queue_stats"}, {"waiting", 3}});
  EXPECT_EQ(client.ReadText(), R"({"type":"queue_stats","waiting":3})");
}

TEST_F(WebSocketTest, AnswersTheHandlersRefusalOverHttp) {
  AddEchoRoute();
  StartServer();
  WsClient client(server_->port());
  std::string head = client.Handshake("/ws/t1?deny=1");
  EXPECT_EQ(head.rfind("HTTP/1.1 403", 0), 0u) << head;
}

TEST_F(WebSocketTest, AnswersAPlainGetWith426) {
  AddEchoRoute();
  StartServer();
  WsClient client(server_->port());
  std::string head = client.Handshake("/ws/t1", "", /*upgrade=*/false);
  EXPECT_EQ(head.rfind("HTTP/1.1 426", 0), 0u) << head;
}

TEST_F(WebSocketTest, ClosesWith1009WhenAMessageIsOverTheLimit) {
  AddEchoRoute();
  server::HttpServerOptions options;
  options.websocket_message_bytes_max = 1000;
  StartServer(options);
  WsClient client(server_->port());
  ASSERT_NE(client.Handshake("/ws/t1").find("101"), std::string::npos);
  client.SendText(std::string(1000, 'a'));
  EXPECT_EQ(client.ReadText(), "echo:" + std::string(1000, 'a'));
  client.SendText(std::string(1001, 'a'));
  EXPECT_EQ(client.ReadCloseCode(), 1009);
  client.FinishClose();
  EXPECT_TRUE(closes_.WaitFor(1));
}

// The queue holds at most 4 unsent messages: the 5th Send, issued before any can be written,
// is refused and the connection dropped.
TEST_F(WebSocketTest, DisconnectsAClientWhoseSendQueueOverflows) {
  std::atomic<int> accepted{0};
  router_.AddWebSocket("/ws/{tenant}", "", "test", [&](api::HttpRequest&,
                                                       api::WebSocketRespond respond) {
    respond({[&](std::shared_ptr<api::WebSocketSession> session) {
               for (int i = 0; i < 5; ++i) {
                 if (session->Send(std::make_shared<const std::string>(100, 'x'))) ++accepted;
               }
               return api::WebSocketCallbacks{nullptr, [&] { closes_.Add(); }};
             },
             {}});
  });
  server::HttpServerOptions options;
  options.websocket_send_queue_messages_max = 4;
  StartServer(options);
  WsClient client(server_->port());
  ASSERT_NE(client.Handshake("/ws/t1").find("101"), std::string::npos);
  EXPECT_TRUE(closes_.WaitFor(1));
  EXPECT_EQ(accepted.load(), 4);
  while (client.ReadFrame()) {
  }  // the connection ends: whatever was written, then end of stream
}

TEST_F(WebSocketTest, StopClosesOpenConnectionsWithGoingAway) {
  AddEchoRoute();
  StartServer();
  WsClient client(server_->port());
  ASSERT_NE(client.Handshake("/ws/t1").find("101"), std::string::npos);
  client.SendText("ready");
  ASSERT_EQ(client.ReadText(), "echo:ready");
  std::thread stopper([&] { server_->Stop(); });
  EXPECT_EQ(client.ReadCloseCode(), 1001);
  client.FinishClose();
  stopper.join();
  EXPECT_EQ(closes_.count, 1);
  EXPECT_EQ(hub_.SubscriptionCount(), 0u);
}

}  // namespace
}  // namespace opsbox::live
