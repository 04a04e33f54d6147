#include "server/http_server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/problem.hpp"
#include "core/assert.hpp"

namespace opsbox::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

class Session;
class WsConnection;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;

// A connection's byte stream: plain TCP, or TLS over TCP when the server has a certificate.
// Chosen per server at accept time; sessions and WebSocket connections use it the same way
// (its lowest layer is always the beast::tcp_stream, whose timeouts apply underneath TLS).
class ServerStream {
 public:
  using executor_type = beast::tcp_stream::executor_type;
  using next_layer_type = beast::tcp_stream;

  ServerStream(tcp::socket socket, ssl::context* tls) {
    if (tls != nullptr) {
      tls_.emplace(beast::tcp_stream(std::move(socket)), *tls);
    } else {
      plain_.emplace(std::move(socket));
    }
  }
  ServerStream(ServerStream&&) = default;

  bool is_tls() const { return tls_.has_value(); }
  executor_type get_executor() { return next_layer().get_executor(); }
  beast::tcp_stream& next_layer() { return tls_ ? tls_->next_layer() : *plain_; }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Handler>(handler));
    plain_->async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Handler>(handler));
    plain_->async_write_some(buffers, std::forward<Handler>(handler));
  }
  template <class Handler>
  void async_handshake(Handler&& handler) {
    tls_->async_handshake(ssl::stream_base::server, std::forward<Handler>(handler));
  }

  // WebSocket closing handshake: TLS close_notify, then the TCP teardown.
  [[maybe_unused]] friend void teardown(beast::role_type role, ServerStream& s,
                                       beast::error_code& ec) {
    using websocket::teardown;
    if (s.tls_) return teardown(role, *s.tls_, ec);
    teardown(role, s.plain_->socket(), ec);
  }
  template <class Handler>
  friend void async_teardown(beast::role_type role, ServerStream& s, Handler&& handler) {
    using websocket::async_teardown;
    if (s.tls_) return async_teardown(role, *s.tls_, std::forward<Handler>(handler));
    async_teardown(role, s.plain_->socket(), std::forward<Handler>(handler));
  }

 private:
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
};

// After answering a request we cannot read (413, 431, malformed), the rest of what the client
// sends is read and dropped for a while before closing, so that closing with unread data does
// not reset the connection before the client has read the answer.
constexpr size_t kDrainBytesMax = 1 << 20;
constexpr auto kDrainTimeout = std::chrono::seconds(2);
constexpr size_t kReadChunkBytes = 4096;
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
constexpr std::string_view kUnmatchedRoute = "unmatched";

}  // namespace

struct HttpServer::Core : std::enable_shared_from_this<HttpServer::Core> {
  Core(HttpServerOptions options_in, const api::Router& router_in, Metrics& metrics_in)
      : options(std::move(options_in)), router(router_in), metrics(metrics_in) {}

  // Declaration order matters: connections that die while `ioc` is destroyed unregister from
  // `sessions`, so everything above `ioc` outlives it.
  const HttpServerOptions options;
  const api::Router& router;
  Metrics& metrics;

  std::mutex sessions_mutex;
  std::condition_variable sessions_cv;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // alive, open or not
  std::unordered_map<WsConnection*, std::weak_ptr<WsConnection>> websockets;  // not finished
  size_t open_sessions = 0;  // not yet closed (WebSocket ones too); Stop() waits for zero

  std::atomic<bool> stopping{false};
  std::atomic<size_t> in_flight{0};
  std::atomic<uint16_t> port{0};
  std::atomic<uint64_t> problem_seq{0};
  const uint64_t problem_prefix = std::random_device{}();

  enum class State { kNew, kRunning, kStopped };
  std::mutex state_mutex;  // held for the whole of Start() and Stop()
  std::condition_variable state_cv;
  State state = State::kNew;

  std::optional<ssl::context> tls;  // set when the server speaks HTTPS
  std::string hsts_header;          // "Strict-Transport-Security: …\r\n" under TLS, else ""

  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;  // on its own strand
  std::optional<asio::steady_timer> accept_retry_timer;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;

  std::string NewProblemId() {
    uint64_t seq = problem_seq.fetch_add(1, std::memory_order_relaxed);
    char text[32];
    auto end = std::to_chars(text, text + sizeof text, (problem_prefix << 32) ^ seq, 16).ptr;
    return "prob_" + std::string(text, end);
  }
};

namespace {

using Core = HttpServer::Core;

thread_local const Core* tls_io_core = nullptr;  // set on io threads, for Stop()'s assertion

// "Sun, 06 Nov 1994 08:49:37 GMT", recomputed at most once a second per thread.
std::string_view HttpDate() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t cached_second = -1;
  thread_local char text[40];
  thread_local size_t length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    int n = std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                          kDays[tm.tm_wday % 7], tm.tm_mday, kMonths[tm.tm_mon % 12],
                          tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    length = n > 0 ? static_cast<size_t>(n) : 0;
    cached_second = now;
  }
  return {text, length};
}

// ASCII case-insensitive comparison (header names, schemes).
bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsValidHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsTokenChar(c)) return false;
  }
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Headers the server owns; a handler setting them would corrupt the framing.
bool IsServerOwnedHeader(std::string_view name) {
  return IEquals(name, "content-length") || IEquals(name, "transfer-encoding") ||
         IEquals(name, "connection") || IEquals(name, "content-type") ||
         IEquals(name, "date");
}

// Beast 1.74 uses boost::string_view; the project uses std::string_view.
std::string_view Sv(beast::string_view text) { return {text.data(), text.size()}; }

bool HasEncodedSeparator(std::string_view raw_path) {
  for (size_t i = raw_path.find('%'); i != std::string_view::npos; i = raw_path.find('%', i + 1)) {
    std::string_view escape = raw_path.substr(i, 3);
    if (IEquals(escape, "%2f") || escape == "%00") return true;
  }
  return false;
}

bool IsHttpParseError(const beast::error_code& ec) {
  return &ec.category() == &beast::error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

void AppendNumber(std::string& out, uint64_t value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

// One TCP connection. All members are used on the connection's strand only; the one entry
// from other threads is Responder, which posts onto that strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Core& core, tcp::socket socket)
      : core_(core), stream_(std::move(socket), core.tls ? &*core.tls : nullptr) {
    beast::error_code ec;
    auto endpoint = Tcp().socket().remote_endpoint(ec);
    if (!ec) request_.remote_address = endpoint.address().to_string();
  }

  ~Session() {
    if (in_flight_counted_) core_.in_flight.fetch_sub(1);
    std::lock_guard lock(core_.sessions_mutex);
    core_.sessions.erase(this);
    if (state_ != State::kClosed) --core_.open_sessions;
    core_.sessions_cv.notify_all();
  }

  auto executor() { return stream_.get_executor(); }

  void Start() {
    asio::dispatch(executor(), [self = shared_from_this()] {
      if (!self->stream_.is_tls()) return self->DoRead();
      // A client that never completes the TLS handshake is dropped like a slow header.
      self->Tcp().expires_after(std::chrono::milliseconds(self->core_.options.header_timeout_ms));
      self->stream_.async_handshake([self](beast::error_code ec) {
        if (ec) return self->Close();
        self->DoRead();
      });
    });
  }

  // Stop(): close now if waiting for a request; otherwise close after the current response.
  void Shutdown() {
    shutting_down_ = true;
    if (state_ == State::kReading || state_ == State::kDraining) Close();
  }

  // After the io threads have been joined: nothing else touches the socket any more.
  void ForceClose() { Close(); }

  void OnRespond(uint64_t seq, api::HttpResponse response);
  void OnWebSocketAnswer(uint64_t seq, api::WebSocketAnswer answer);

 private:
  enum class State { kReading, kHandling, kWriting, kDraining, kClosed };

  void DoRead();
  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnReadError(beast::error_code ec);
  bool BuildRequest();
  void Dispatch();
  void CallHandler(const api::Route& route);
  void CallWebSocketHandler(const api::Route& route);
  void HandlerFailed(const char* what);
  void ReplyUnmatched(const api::Router::Match& match);
  void ReplyAndClose(api::HttpResponse response);
  void Write(api::HttpResponse response);
  void SerializeHead(const api::HttpResponse& response, bool keep_alive, bool bodiless);
  void OnWrite(beast::error_code ec);
  void Drain();
  void Close();
  beast::tcp_stream& Tcp() { return stream_.next_layer(); }

  Core& core_;
  ServerStream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  api::HttpRequest request_;  // reused across requests to keep string capacity
  std::string head_;          // serialized status line and headers of the current response
  std::string body_;          // body of the current response
  std::string_view route_label_ = kUnmatchedRoute;
  SteadyClock::time_point started_;
  uint64_t seq_ = 0;          // numbers requests; a Respond carries the number it answers
  uint64_t served_ = 0;
  size_t drained_bytes_ = 0;
  State state_ = State::kReading;
  bool awaiting_response_ = false;
  bool in_flight_counted_ = false;
  bool keep_alive_ = false;
  bool close_after_write_ = false;  // the request could not be read in full
  bool shutting_down_ = false;
  bool wrote_keep_alive_ = false;
};

// The api::Respond a handler receives. Holding the Core keeps the io_context alive for as long
// as a late Respond may post to it; members are destroyed session first, then core.
struct Responder {
  std::shared_ptr<Core> core;
  std::shared_ptr<Session> session;
  uint64_t seq;

  void operator()(api::HttpResponse response) const {
    asio::dispatch(session->executor(),
                   [session = session, seq = seq, response = std::move(response)]() mutable {
                     session->OnRespond(seq, std::move(response));
                   });
  }
};

// The api::WebSocketRespond a WebSocket handler receives; like Responder.
struct WebSocketResponder {
  std::shared_ptr<Core> core;
  std::shared_ptr<Session> session;
  uint64_t seq;

  void operator()(api::WebSocketAnswer answer) const {
    asio::dispatch(session->executor(),
                   [session = session, seq = seq, answer = std::move(answer)]() mutable {
                     session->OnWebSocketAnswer(seq, std::move(answer));
                   });
  }
};

// One accepted WebSocket connection, taken over from the Session that read its upgrade request.
// Everything runs on the connection's strand except Send and Close, which post onto it. The
// send queue is bounded by counters updated before posting, so a flood of Sends to a client
// that does not read cannot pile up in the strand either.
class WsConnection : public api::WebSocketSession,
                     public std::enable_shared_from_this<WsConnection> {
 public:
  WsConnection(Core& core, ServerStream stream, http::request<http::string_body> request,
               api::WebSocketOpen open)
      : core_(core), ws_(std::move(stream)), request_(std::move(request)),
        open_(std::move(open)) {}

  void Start();
  bool Send(std::shared_ptr<const std::string> text) override;
  void Close(uint16_t code, std::string reason) override;
  void ForceClose() { Finish(); }  // after the io threads have been joined

 private:
  void OnAccept(beast::error_code ec);
  void DoRead();
  void OnRead(beast::error_code ec);
  void Deliver(std::string_view text);
  void Enqueue(std::shared_ptr<const std::string> text);
  void DoWrite();
  void OnWrite(beast::error_code ec);
  void StartClose(uint16_t code, std::string reason);
  void MaybeSendClose();
  void Overflow();
  void Finish();
  void Unqueue(size_t bytes) {
    queued_bytes_.fetch_sub(bytes);
    queued_messages_.fetch_sub(1);
  }

  Core& core_;
  websocket::stream<ServerStream> ws_;
  http::request<http::string_body> request_;
  api::WebSocketOpen open_;
  api::WebSocketCallbacks callbacks_;
  beast::flat_buffer read_buffer_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::atomic<size_t> queued_bytes_{0};
  std::atomic<size_t> queued_messages_{0};
  std::atomic<bool> closing_{false};  // Send refuses once set
  std::atomic<bool> overflowed_{false};
  websocket::close_reason close_reason_;
  bool opened_ = false;
  bool writing_ = false;
  bool close_pending_ = false;
  bool close_sent_ = false;
  bool finished_ = false;
};

void WsConnection::Start() {
  beast::get_lowest_layer(ws_).expires_never();  // the websocket stream's own timeouts apply
  const auto& options = core_.options;
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = std::chrono::milliseconds(options.websocket_handshake_timeout_ms);
  timeouts.idle_timeout = std::chrono::milliseconds(options.websocket_idle_timeout_ms);
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.read_message_max(options.websocket_message_bytes_max);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, "opsbox"); }));
  ws_.async_accept(request_, [self = shared_from_this()](beast::error_code ec) {
    self->OnAccept(ec);
  });
}

void WsConnection::OnAccept(beast::error_code ec) {
  if (ec || finished_) return Finish();
  opened_ = true;
  try {
    callbacks_ = open_(shared_from_this());
  } catch (const std::exception& e) {
    spdlog::error("websocket: open handler threw: {}", e.what());
    StartClose(websocket::close_code::internal_error, "internal error");
  }
  open_ = nullptr;
  DoRead();
  if (close_pending_) DoWrite();
}

void WsConnection::DoRead() {
  ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
    self->OnRead(ec);
  });
}

void WsConnection::OnRead(beast::error_code ec) {
  if (ec || finished_) return Finish();  // closed by the peer, a limit, a timeout or Finish
  if (!ws_.got_text()) {
    read_buffer_.consume(read_buffer_.size());
    StartClose(websocket::close_code::unknown_data, "only text messages are accepted");
    return DoRead();
  }
  std::string text = beast::buffers_to_string(read_buffer_.data());
  read_buffer_.consume(read_buffer_.size());
  if (!close_pending_) Deliver(text);
  DoRead();
}

// The one top-level catch per WebSocket session (STYLE.md "Errors" 3).
void WsConnection::Deliver(std::string_view text) {
  if (!callbacks_.on_message) return;
  try {
    callbacks_.on_message(text);
  } catch (const std::exception& e) {
    spdlog::error("websocket: message handler threw: {}", e.what());
    core_.metrics.AddCounter("opsbox_http_handler_exceptions_total",
                             "Requests whose handler threw; each was answered 500.", {});
    StartClose(websocket::close_code::internal_error, "internal error");
  }
}

bool WsConnection::Send(std::shared_ptr<const std::string> text) {
  if (!text || closing_.load()) return false;
  const size_t bytes = text->size();
  size_t queued_bytes = queued_bytes_.fetch_add(bytes) + bytes;
  size_t queued_messages = queued_messages_.fetch_add(1) + 1;
  if (queued_bytes > core_.options.websocket_send_queue_bytes_max ||
      queued_messages > core_.options.websocket_send_queue_messages_max) {
    Unqueue(bytes);
    closing_ = true;
    if (!overflowed_.exchange(true)) {
      asio::post(ws_.get_executor(), [self = shared_from_this()] { self->Overflow(); });
    }
    return false;
  }
  asio::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
    self->Enqueue(std::move(text));
  });
  return true;
}

void WsConnection::Close(uint16_t code, std::string reason) {
  closing_ = true;
  asio::post(ws_.get_executor(),
             [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
               self->StartClose(code, std::move(reason));
             });
}

void WsConnection::Enqueue(std::shared_ptr<const std::string> text) {
  if (finished_ || close_sent_) return Unqueue(text->size());
  queue_.push_back(std::move(text));
  DoWrite();
}

void WsConnection::DoWrite() {
  if (writing_ || finished_) return;
  if (queue_.empty()) return MaybeSendClose();
  writing_ = true;
  ws_.text(true);
  ws_.async_write(asio::buffer(*queue_.front()),
                  [self = shared_from_this()](beast::error_code ec, size_t) {
                    self->OnWrite(ec);
                  });
}

void WsConnection::OnWrite(beast::error_code ec) {
  writing_ = false;
  if (finished_) return;
  Unqueue(queue_.front()->size());
  queue_.pop_front();
  if (ec) return Finish();
  DoWrite();
}

void WsConnection::StartClose(uint16_t code, std::string reason) {
  closing_ = true;
  if (finished_ || close_pending_) return;
  close_pending_ = true;
  if (reason.size() > 123) reason.resize(123);  // RFC 6455 §5.5: control frames <= 125 bytes
  close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
  if (!opened_) return;  // OnAccept finishes or reads on; the close follows from there
  DoWrite();
}

void WsConnection::MaybeSendClose() {
  if (!close_pending_ || close_sent_ || writing_ || !queue_.empty()) return;
  close_sent_ = true;
  ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code) {
    self->Finish();
  });
}

void WsConnection::Overflow() {
  spdlog::warn("websocket: a client does not read fast enough (send queue over {} bytes or {} "
               "messages); disconnecting it",
               core_.options.websocket_send_queue_bytes_max,
               core_.options.websocket_send_queue_messages_max);
  core_.metrics.AddCounter("opsbox_websocket_slow_consumers_total",
                           "WebSocket connections dropped because their send queue was full.",
                           {});
  Finish();
}

void WsConnection::Finish() {
  if (finished_) return;
  finished_ = true;
  closing_ = true;
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).close();
  for (const auto& text : queue_) Unqueue(text->size());
  queue_.clear();
  if (opened_ && callbacks_.on_close) {
    try {
      callbacks_.on_close();
    } catch (const std::exception& e) {
      spdlog::error("websocket: close handler threw: {}", e.what());
    }
  }
  callbacks_ = {};  // the application's callbacks may hold this connection
  open_ = nullptr;
  std::lock_guard lock(core_.sessions_mutex);
  core_.websockets.erase(this);
  --core_.open_sessions;
  core_.sessions_cv.notify_all();
}

void Session::DoRead() {
  if (core_.stopping.load() || shutting_down_) return Close();
  state_ = State::kReading;
  parser_.emplace();
  parser_->body_limit(core_.options.body_bytes_max);
  parser_->header_limit(static_cast<uint32_t>(core_.options.header_bytes_max));
  close_after_write_ = false;
  route_label_ = kUnmatchedRoute;
  if (served_ == 0 || buffer_.size() > 0) return ReadHeader();
  // Between keep-alive requests the idle timeout applies until the next request's first byte.
  Tcp().expires_after(std::chrono::milliseconds(core_.options.idle_timeout_ms));
  stream_.async_read_some(buffer_.prepare(kReadChunkBytes),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec) return self->Close();
                            self->buffer_.commit(n);
                            self->ReadHeader();
                          });
}

void Session::ReadHeader() {
  Tcp().expires_after(std::chrono::milliseconds(core_.options.header_timeout_ms));
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            self->OnHeader(ec);
                          });
}

void Session::OnHeader(beast::error_code ec) {
  if (ec) return OnReadError(ec);
  started_ = SteadyClock::now();
  if (parser_->is_done()) return Dispatch();
  auto& message = parser_->get();
  if (IEquals(Sv(message[http::field::expect]), "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    Tcp().expires_after(std::chrono::milliseconds(core_.options.io_timeout_ms));
    asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](beast::error_code write_ec, size_t) {
                        if (write_ec) return self->Close();
                        self->ReadBody();
                      });
    return;
  }
  ReadBody();
}

void Session::ReadBody() {
  Tcp().expires_after(std::chrono::milliseconds(core_.options.io_timeout_ms));
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     if (ec) return self->OnReadError(ec);
                     self->Dispatch();
                   });
}

void Session::OnReadError(beast::error_code ec) {
  if (state_ == State::kClosed) return;
  started_ = SteadyClock::now();
  request_.method.assign(parser_->is_header_done() ? Sv(parser_->get().method_string()) : "");
  request_.path.clear();
  if (ec == http::error::body_limit) {
    return ReplyAndClose(api::Problem(
        Error{ErrorCode::kPayloadTooLarge, "body", "max_bytes",
              "request body is larger than " + std::to_string(core_.options.body_bytes_max) +
                  " bytes"}));
  }
  if (ec == http::error::header_limit) {
    return ReplyAndClose(api::ProblemWithStatus(
        431, Error{ErrorCode::kPayloadTooLarge, "headers", "max_bytes",
                   "request header is larger than " +
                       std::to_string(core_.options.header_bytes_max) + " bytes"}));
  }
  if (IsHttpParseError(ec)) {
    return ReplyAndClose(
        api::Problem(Error::Invalid("", "http_syntax", "malformed HTTP request: " + ec.message())));
  }
  Close();  // end of stream, timeout, reset, or Stop() closing an idle connection
}

// Fills request_ from the parsed message; answers 400 and returns false for a bad target.
bool Session::BuildRequest() {
  auto& message = parser_->get();
  request_.method.assign(Sv(message.method_string()));
  std::string_view target = Sv(message.target());
  size_t question = target.find('?');
  std::string_view raw_path = target.substr(0, question);
  request_.query.assign(question == std::string_view::npos ? std::string_view()
                                                           : target.substr(question + 1));
  request_.path_params.clear();
  size_t count = 0;
  for (const auto& field : message) {
    if (count == request_.headers.size()) request_.headers.emplace_back();
    auto& [name, value] = request_.headers[count++];
    name.assign(Sv(field.name_string()));
    for (char& c : name) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    value.assign(Sv(field.value()));
  }
  request_.headers.resize(count);
  request_.body = std::move(message.body());

  std::optional<Error> error;
  if (raw_path.empty() || raw_path.front() != '/') {
    error = Error::Invalid("path", "origin_form", "request target must start with '/'");
  } else if (raw_path.find('%') == std::string_view::npos) {
    request_.path.assign(raw_path);
  } else if (HasEncodedSeparator(raw_path)) {
    // Routing splits the decoded path on '/', so an encoded one would change its segments.
    error = Error::Invalid("path", "encoded_separator",
                          "the path must not contain an encoded '/' or NUL");
  } else if (!api::PercentDecode(raw_path, /*plus_as_space=*/false, request_.path)) {
    error = Error::Invalid("path", "percent_encoding", "malformed %-escape in the path");
  }
  if (!error) return true;
  request_.path.clear();
  Write(api::Problem(*error));
  return false;
}

void Session::Dispatch() {
  state_ = State::kHandling;
  keep_alive_ = parser_->get().keep_alive();
  if (!BuildRequest()) return;
  api::Router::Match match = core_.router.Find(request_.method, request_.path);
  if (match.route == nullptr) return ReplyUnmatched(match);
  route_label_ = match.route->pattern;
  request_.path_params = std::move(match.params);
  if (match.route->websocket && websocket::is_upgrade(parser_->get())) {
    return CallWebSocketHandler(*match.route);
  }
  CallHandler(*match.route);
}

void Session::CallHandler(const api::Route& route) {
  ++seq_;
  awaiting_response_ = true;
  in_flight_counted_ = true;
  core_.in_flight.fetch_add(1);
  try {
    route.handler(request_, api::Respond(Responder{core_.shared_from_this(), shared_from_this(),
                                                   seq_}));
  } catch (const std::exception& e) {
    HandlerFailed(e.what());
  } catch (...) {
    HandlerFailed("a non-standard exception");
  }
}

void Session::CallWebSocketHandler(const api::Route& route) {
  ++seq_;
  awaiting_response_ = true;
  in_flight_counted_ = true;
  core_.in_flight.fetch_add(1);
  try {
    route.websocket(request_, api::WebSocketRespond(WebSocketResponder{
                                  core_.shared_from_this(), shared_from_this(), seq_}));
  } catch (const std::exception& e) {
    HandlerFailed(e.what());
  } catch (...) {
    HandlerFailed("a non-standard exception");
  }
}

// Accepting hands the socket to a WsConnection, which takes over this session's place among the
// open connections; refusing answers over HTTP and closes.
void Session::OnWebSocketAnswer(uint64_t seq, api::WebSocketAnswer answer) {
  if (!awaiting_response_ || seq != seq_) {
    spdlog::warn("http: websocket respond called more than once for {}; ignored", route_label_);
    return;
  }
  awaiting_response_ = false;
  if (state_ == State::kClosed) return;
  if (!answer.open || shutting_down_ || core_.stopping.load()) {
    if (answer.open) answer.reject = api::Problem(Error::Unavailable("the server is stopping"));
    keep_alive_ = false;
    return Write(std::move(answer.reject));
  }
  std::chrono::duration<double> elapsed = SteadyClock::now() - started_;
  core_.metrics.ObserveRequest(route_label_, request_.method, 101, elapsed.count());
  in_flight_counted_ = false;
  core_.in_flight.fetch_sub(1);
  auto connection = std::make_shared<WsConnection>(core_, std::move(stream_), parser_->release(),
                                                   std::move(answer.open));
  {
    std::lock_guard lock(core_.sessions_mutex);
    core_.websockets.emplace(connection.get(), connection);
  }
  state_ = State::kClosed;  // without decrementing open_sessions: the connection carries it on
  connection->Start();
}

// The one top-level catch per request (STYLE.md "Errors" 3).
void Session::HandlerFailed(const char* what) {
  std::string problem_id = core_.NewProblemId();
  spdlog::error("http: handler for {} {} threw ({}): {}", request_.method, route_label_,
                problem_id, what);
  core_.metrics.AddCounter("opsbox_http_handler_exceptions_total",
                           "Requests whose handler threw; each was answered 500.", {});
  if (!awaiting_response_) return;  // it had already responded; the response stands
  OnRespond(seq_, api::Problem(Error::Internal("the server failed to handle the request; "
                                               "problem id " + problem_id),
                               "urn:opsbox:problem:" + problem_id));
}

void Session::ReplyUnmatched(const api::Router::Match& match) {
  if (!match.method_not_allowed) {
    return Write(api::Problem(Error::NotFound("no route for " + request_.path), request_.path));
  }
  api::HttpResponse response = api::ProblemWithStatus(
      405,
      Error{ErrorCode::kInvalidArgument, "", "method_not_allowed",
            request_.method + " is not allowed on " + request_.path + "; allowed: " +
                match.allow},
      request_.path);
  response.headers.emplace_back("Allow", match.allow);
  Write(std::move(response));
}

void Session::ReplyAndClose(api::HttpResponse response) {
  close_after_write_ = true;
  Write(std::move(response));
}

void Session::OnRespond(uint64_t seq, api::HttpResponse response) {
  if (!awaiting_response_ || seq != seq_) {
    spdlog::warn("http: respond called more than once for {} {}; ignored", request_.method,
                 route_label_);
    return;
  }
  awaiting_response_ = false;
  if (state_ == State::kClosed) return;
  Write(std::move(response));
}

void Session::Write(api::HttpResponse response) {
  state_ = State::kWriting;
  if (response.status < 100 || response.status > 599) {
    spdlog::error("http: handler for {} answered invalid status {}; sending 500", route_label_,
                  response.status);
    response = api::Problem(Error::Internal("the handler produced an invalid status"));
  }
  bool keep_alive = keep_alive_ && !close_after_write_ && !shutting_down_ &&
                    !core_.stopping.load(std::memory_order_relaxed);
  // 1xx, 204 and 304 responses carry neither a body nor a Content-Length.
  bool bodiless = response.status < 200 || response.status == 204 || response.status == 304;
  if (bodiless) response.body.clear();
  SerializeHead(response, keep_alive, bodiless);
  wrote_keep_alive_ = keep_alive;
  // Recorded before the write completes, so a client that has its answer sees it counted.
  std::chrono::duration<double> elapsed = SteadyClock::now() - started_;
  core_.metrics.ObserveRequest(route_label_, request_.method, response.status, elapsed.count());
  body_ = std::move(response.body);
  Tcp().expires_after(std::chrono::milliseconds(core_.options.io_timeout_ms));
  std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_), asio::buffer(body_)};
  asio::async_write(stream_, buffers, [self = shared_from_this()](beast::error_code ec, size_t) {
    self->OnWrite(ec);
  });
}

void Session::SerializeHead(const api::HttpResponse& response, bool keep_alive,
                            bool bodiless) {
  head_.clear();
  head_.append("HTTP/1.1 ");
  AppendNumber(head_, static_cast<uint64_t>(response.status));
  head_.push_back(' ');
  auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(response.status)));
  head_.append(Sv(reason));
  head_.append("\r\nContent-Type: ").append(response.content_type);
  if (!bodiless) {
    head_.append("\r\nContent-Length: ");
    AppendNumber(head_, response.body.size());
  }
  head_.append("\r\nDate: ").append(HttpDate());
  head_.append(
      "\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
      "Referrer-Policy: no-referrer\r\n");
  head_.append(core_.hsts_header);
  if (request_.path.starts_with("/api/") ||
      response.content_type == "application/problem+json") {
    head_.append("Cache-Control: no-store\r\n");
  }
  if (!keep_alive) {
    head_.append("Connection: close\r\n");
  } else if (parser_ && parser_->get().version() == 10) {
    head_.append("Connection: keep-alive\r\n");
  }
  for (const auto& [name, value] : response.headers) {
    if (!IsValidHeader(name, value) || IsServerOwnedHeader(name)) {
      spdlog::error("http: handler for {} set a header that is invalid or server-owned; dropped",
                    route_label_);
      continue;
    }
    head_.append(name).append(": ").append(value).append("\r\n");
  }
  head_.append("\r\n");
}

void Session::OnWrite(beast::error_code ec) {
  if (in_flight_counted_) {
    in_flight_counted_ = false;
    core_.in_flight.fetch_sub(1);
  }
  if (ec) return Close();
  if (close_after_write_) return Drain();
  if (!wrote_keep_alive_) {
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    return Close();
  }
  ++served_;
  DoRead();
}

void Session::Drain() {
  if (state_ != State::kDraining) {
    state_ = State::kDraining;
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Tcp().expires_after(kDrainTimeout);
  }
  buffer_.consume(buffer_.size());
  if (drained_bytes_ >= kDrainBytesMax) return Close();
  stream_.async_read_some(buffer_.prepare(kReadChunkBytes),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec) return self->Close();
                            self->drained_bytes_ += n;
                            self->buffer_.commit(n);
                            self->Drain();
                          });
}

void Session::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  beast::error_code ignored;
  Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
  Tcp().close();
  // A Respond the application still holds may keep this object alive; closed is what counts.
  std::lock_guard lock(core_.sessions_mutex);
  --core_.open_sessions;
  core_.sessions_cv.notify_all();
}

void OnAccept(Core& core, beast::error_code ec, tcp::socket socket);

void DoAccept(Core& core) {
  core.acceptor->async_accept(
      asio::make_strand(core.ioc),
      [&core](beast::error_code ec, tcp::socket socket) { OnAccept(core, ec, std::move(socket)); });
}

void OnAccept(Core& core, beast::error_code ec, tcp::socket socket) {
  if (!core.acceptor->is_open() || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Typically out of file descriptors: back off instead of spinning on the error.
    spdlog::warn("http: accept failed: {}; retrying", ec.message());
    core.accept_retry_timer->expires_after(kAcceptRetryDelay);
    core.accept_retry_timer->async_wait([&core](beast::error_code timer_ec) {
      if (!timer_ec && core.acceptor->is_open()) DoAccept(core);
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(core.sessions_mutex);
    if (core.open_sessions < core.options.connections_max) {
      session = std::make_shared<Session>(core, std::move(socket));
      core.sessions.emplace(session.get(), session);
      ++core.open_sessions;
    }
  }
  if (session) {
    session->Start();
  } else {
    spdlog::warn("http: {} connections open (connections_max); closing a new one",
                 core.options.connections_max);
    socket.close(ignored);
  }
  DoAccept(core);
}

Status CheckOptions(const HttpServerOptions& options) {
  if (options.threads < 1 || options.threads > 256 || options.body_bytes_max == 0 ||
      options.header_bytes_max == 0 || options.header_bytes_max > UINT32_MAX ||
      options.header_timeout_ms <= 0 || options.idle_timeout_ms <= 0 ||
      options.io_timeout_ms <= 0 || options.shutdown_grace_ms < 0 ||
      options.connections_max == 0) {
    return Error::Invalid("server", "options",
                          "threads must be 1..256 and every limit and timeout positive");
  }
  return Ok();
}

// Mozilla's "intermediate" profile: TLS 1.2 with forward-secret AEAD suites only, and TLS 1.3
// (whose suites OpenSSL fixes to AEAD ones).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Status SetUpTls(Core& core) {
  const auto& options = core.options;
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) return Ok();
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return Error::Invalid(options.tls_cert_file.empty() ? "server.tls_cert_file"
                                                        : "server.tls_key_file",
                          "tls", "TLS needs both a certificate file and a key file");
  }
  auto& ctx = core.tls.emplace(ssl::context::tls_server);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use | SSL_OP_NO_RENEGOTIATION |
                  SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(ctx.native_handle(), kTls12Ciphers);
  beast::error_code ec;
  if (ctx.use_certificate_chain_file(options.tls_cert_file, ec)) {
    core.tls.reset();
    return Error::Invalid("server.tls_cert_file", "tls",
                          "cannot load the certificate chain " + options.tls_cert_file + ": " +
                              ec.message());
  }
  if (ctx.use_private_key_file(options.tls_key_file, ssl::context::pem, ec)) {
    core.tls.reset();
    return Error::Invalid("server.tls_key_file", "tls",
                          "cannot load the private key " + options.tls_key_file + ": " +
                              ec.message());
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    core.tls.reset();
    return Error::Invalid("server.tls_key_file", "tls",
                          "the private key " + options.tls_key_file +
                              " does not match the certificate " + options.tls_cert_file);
  }
  if (options.hsts_max_age_s > 0) {
    core.hsts_header = "Strict-Transport-Security: max-age=" +
                       std::to_string(options.hsts_max_age_s) + "\r\n";
  }
  return Ok();
}

Status Listen(Core& core) {
  const auto& options = core.options;
  std::string address = options.host + ":" + std::to_string(options.port);
  auto fail = [&](const char* step, const beast::error_code& ec) -> Status {
    return Error{ErrorCode::kUnavailable, "server.port", "listen",
                 "cannot listen on " + address + ": " + step + ": " + ec.message()};
  };
  beast::error_code ec;
  tcp::resolver resolver(core.ioc);
  auto results = resolver.resolve(options.host, std::to_string(options.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) return fail("resolve", ec);
  tcp::endpoint endpoint = results.begin()->endpoint();
  core.acceptor.emplace(asio::make_strand(core.ioc));
  core.accept_retry_timer.emplace(core.acceptor->get_executor());
  if (core.acceptor->open(endpoint.protocol(), ec)) return fail("open", ec);
  if (core.acceptor->set_option(tcp::acceptor::reuse_address(true), ec)) {
    return fail("reuse_address", ec);
  }
  if (core.acceptor->bind(endpoint, ec)) return fail("bind", ec);
  if (core.acceptor->listen(asio::socket_base::max_listen_connections, ec)) {
    return fail("listen", ec);
  }
  core.port = core.acceptor->local_endpoint(ec).port();
  return Ok();
}

void RunIoThread(Core* core) {
  tls_io_core = core;
  while (true) {
    try {
      core->ioc.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("http: io thread caught {}; continuing", e.what());
    }
  }
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, const api::Router& router, Metrics& metrics)
    : core_(std::make_shared<Core>(std::move(options), router, metrics)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  Core& core = *core_;
  std::lock_guard lock(core.state_mutex);
  if (core.state != Core::State::kNew) {
    return Error::Conflict("started", "the HTTP server was already started or stopped");
  }
  OPSBOX_TRY(CheckOptions(core.options));
  OPSBOX_TRY(SetUpTls(core));
  if (Status listening = Listen(core); !listening.ok()) {
    core.acceptor.reset();
    return listening;
  }
  core.work.emplace(core.ioc.get_executor());
  asio::dispatch(core.acceptor->get_executor(), [&core] { DoAccept(core); });
  for (int i = 0; i < core.options.threads; ++i) core.threads.emplace_back(RunIoThread, &core);
  core.state = Core::State::kRunning;
  spdlog::info("http: listening on {}:{} ({}) with {} io threads", core.options.host,
               core.port.load(), core.tls ? "HTTPS" : "HTTP", core.options.threads);
  return Ok();
}

uint16_t HttpServer::port() const { return core_->port.load(); }

size_t HttpServer::in_flight() const { return core_->in_flight.load(); }

void HttpServer::Stop() {
  Core& core = *core_;
  std::lock_guard lock(core.state_mutex);
  if (core.state != Core::State::kRunning) {
    core.state = Core::State::kStopped;
    core.state_cv.notify_all();
    return;
  }
  OPSBOX_ASSERT_MSG(tls_io_core != &core, "HttpServer::Stop called from an io thread");
  core.stopping = true;
  std::promise<void> acceptor_closed;
  asio::post(core.acceptor->get_executor(), [&core, &acceptor_closed] {
    beast::error_code ignored;
    core.acceptor->close(ignored);
    core.accept_retry_timer->cancel();
    acceptor_closed.set_value();
  });
  acceptor_closed.get_future().wait();

  std::vector<std::shared_ptr<Session>> open;
  auto snapshot = [&] {
    open.clear();
    std::lock_guard sessions_lock(core.sessions_mutex);
    for (auto& [raw, weak] : core.sessions) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  };
  std::vector<std::shared_ptr<WsConnection>> websockets;
  auto snapshot_websockets = [&] {
    websockets.clear();
    std::lock_guard sessions_lock(core.sessions_mutex);
    for (auto& [raw, weak] : core.websockets) {
      if (auto connection = weak.lock()) websockets.push_back(std::move(connection));
    }
  };
  snapshot();
  for (auto& session : open) {
    asio::post(session->executor(), [session] { session->Shutdown(); });
  }
  open.clear();
  snapshot_websockets();
  for (auto& connection : websockets) connection->Close(1001, "server shutting down");
  websockets.clear();
  {
    std::unique_lock sessions_lock(core.sessions_mutex);
    auto deadline = SteadyClock::now() + std::chrono::milliseconds(core.options.shutdown_grace_ms);
    if (!core.sessions_cv.wait_until(sessions_lock, deadline,
                                     [&] { return core.open_sessions == 0; })) {
      spdlog::warn("http: {} connections still busy after the shutdown grace period; closing",
                   core.open_sessions);
    }
  }
  core.work.reset();
  core.ioc.stop();
  for (auto& thread : core.threads) thread.join();
  core.threads.clear();
  snapshot();  // the io threads are gone, so closing from here races with nothing
  for (auto& session : open) session->ForceClose();
  open.clear();
  snapshot_websockets();
  for (auto& connection : websockets) connection->ForceClose();
  websockets.clear();
  core.state = Core::State::kStopped;
  core.state_cv.notify_all();
  spdlog::info("http: stopped");
}

void HttpServer::Wait() {
  Core& core = *core_;
  std::unique_lock lock(core.state_mutex);
  core.state_cv.wait(lock, [&] { return core.state != Core::State::kRunning; });
}

}  // namespace opsbox::server
