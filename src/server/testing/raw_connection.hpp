// Test helper: a blocking POSIX client socket on 127.0.0.1 that writes raw bytes and reads
// HTTP/1.1 responses framed by Content-Length, for tests that need header access, pipelining or
// one connection for several requests. Reads give up after 5 s so a broken server fails the test
// instead of hanging it. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace opsbox::server::testing {

struct RawResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // First header with this lower-case name, or "".
  std::string Header(std::string_view lower_name) const;
};

class RawConnection {
 public:
  explicit RawConnection(uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  void Send(std::string_view bytes);
  // The next response, or nullopt when the connection ends or the read times out first.
  std::optional<RawResponse> ReadResponse();
  // True when the server closes the connection (end of stream or reset) before sending more.
  bool ReadsEndOfStream();

 private:
  bool Fill();  // reads more into pending_; false on end, error or timeout

  int fd_ = -1;
  std::string pending_;
};

}  // namespace opsbox::server::testing
