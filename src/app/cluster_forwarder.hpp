// Sends commands for ledger shards owned by another node to that node (ledger/cluster.hpp
// "Forwarding"): POST /internal/v1/ledger/commands on the owner's advertise_url, signed with
// HMAC-SHA256 of the body under the cluster secret, up to kForwardCommandsMax commands per
// request. The owner is looked up in ledger_shard_owners (cached per shard, looked up again after
// a failure). A transport failure or an answer "not_shard_owner" (the shard moved) is retried
// after retry_delay_ms, through the local writer when this node has taken the shard meanwhile,
// until the command's forward_timeout_ms has passed; then it answers kUnavailable.
//
// Thread safety: Forward() from any thread; `threads` sender threads do the I/O and answer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/clock_fwd.hpp"
#include "integrations/http_client.hpp"
#include "ledger/cluster.hpp"
#include "store/store.hpp"

namespace opsbox::ledger {
class Writer;
}

namespace opsbox::app {

struct ForwarderOptions {
  int threads = 4;                   // requests in flight at most
  int64_t forward_timeout_ms = 10000;
  int64_t retry_delay_ms = 100;
  size_t queue_depth_max = 100000;   // waiting commands at most; more answer kUnavailable
};

class ClusterForwarder final : public ledger::Forwarder {
 public:
  // `db`, `http` and `clock` must outlive Stop(). `secret`: the cluster's shared secret.
  ClusterForwarder(store::Database& db, integrations::HttpClient& http, Clock& clock,
                   std::string secret, ForwarderOptions options);
  ~ClusterForwarder() override;

  // The writer that re-submits a command whose shard this node took meanwhile; before Start.
  void SetWriter(ledger::Writer* writer);
  void Start();
  // Answers everything still waiting with kUnavailable and joins the threads. Idempotent.
  void Stop();

  void Forward(int shard, ledger::Command command,
               std::function<void(Result<ledger::CommandOutcome>)> done) override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// HMAC-SHA256 of `body` under `secret`, hex: the value of the signature header.
std::string SignForwardedBody(std::string_view secret, std::string_view body);

}  // namespace opsbox::app
