// A fake HttpClient for tests: records every request and answers as told (a status, or a
// transport failure). An optional hook runs inside Send, to act while a delivery is in flight.
// Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "integrations/http_client.hpp"

namespace opsbox::integrations::testing {

class FakeHttpClient final : public HttpClient {
 public:
  Result<OutboundResponse> Send(const OutboundRequest& request) override {
    std::function<void(const OutboundRequest&)> hook;
    int status = 0;
    bool fail = false;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      hook = std::exchange(hook_, nullptr);
      status = status_;
      fail = fail_transport_;
    }
    if (hook) hook(request);
    if (fail) return Error::Unavailable("connection refused (fake)");
    return OutboundResponse{status, status >= 300 ? "target says no" : "ok"};
  }

  // Answer every later request with `status`.
  void AnswerStatus(int status) {
    std::lock_guard lock(mu_);
    status_ = status;
    fail_transport_ = false;
  }
  // Fail every later request as if the target were unreachable.
  void FailTransport() {
    std::lock_guard lock(mu_);
    fail_transport_ = true;
  }
  // Runs `hook` inside the next Send only (before it answers).
  void OnNextSend(std::function<void(const OutboundRequest&)> hook) {
    std::lock_guard lock(mu_);
    hook_ = std::move(hook);
  }
  std::vector<OutboundRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<OutboundRequest> requests_;
  std::function<void(const OutboundRequest&)> hook_;
  int status_ = 200;
  bool fail_transport_ = false;
};

}  // namespace opsbox::integrations::testing
