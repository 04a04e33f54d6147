// A Resolver for tests whose answers the test scripts (issue #17): the i-th lookup gets
// answers[i], later lookups the last answer. It counts lookups, so a test can prove that a
// client resolved once and connected to the address it checked. Thread-safe.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/assert.hpp"
#include "integrations/outbound_policy.hpp"

namespace opsbox::integrations::testing {

class ScriptedResolver final : public Resolver {
 public:
  explicit ScriptedResolver(std::vector<std::vector<IpAddress>> answers)
      : answers_(std::move(answers)) {
    OPSBOX_ASSERT(!answers_.empty());
  }
  Result<std::vector<IpAddress>> Resolve(const std::string& host) override {
    std::lock_guard lock(mu_);
    hosts_.push_back(host);
    return answers_[std::min(hosts_.size(), answers_.size()) - 1];
  }
  size_t lookups() const {
    std::lock_guard lock(mu_);
    return hosts_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::vector<IpAddress>> answers_;
  std::vector<std::string> hosts_;
};

}  // namespace opsbox::integrations::testing
