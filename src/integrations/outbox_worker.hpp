// The outbox worker: delivers webhook_outbox rows to their subscriptions' URLs, at least once.
//
// A delivery is claimed by pushing its next_attempt_at_us to now + lease_ms in a short
// transaction (compare-and-set on the old value), so two workers or nodes never send the same
// row at once and a crash mid-delivery means redelivery after the lease. The request is
//   POST <url>   body: the event's outbound view, ledger::Event::ToOutboundJson() (no
//                      credential, signing secret or their hashes, sealed or not)
//   Content-Type: application/json
//   Opsbox-Event-Id: <event_id>            receivers de-duplicate on it
//   Opsbox-Delivery-Attempt: <n>           1 for the first attempt
//   Opsbox-Signature: t=<unix s>,v1=<hex>  see webhook_signature.hpp
// A 2xx answer marks the row 'delivered'. A transport error or any other status increments
// attempts and records last_status/last_error; after retry_max attempts the row is 'dead' (the
// dead-letter list, replayable with replay_webhook_delivery), else it is due again after
// RetryDelay(). Delivery state is operational, not business state: it is not on the ledger.
//
// Thread safety: all public members may be called from any thread. The worker takes its own
// connections from `db`; `db`, `http`, `clock` and `random` must outlive it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/random.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "integrations/http_client.hpp"
#include "integrations/webhook_signature.hpp"
#include "store/store.hpp"

namespace opsbox::integrations {

struct OutboxOptions {
  int threads = 2;                    // delivery threads started by Start()
  int retry_max = 8;                  // attempts before dead letter
  int retry_delay_ms_initial = 1000;  // delay after the first failed attempt (before jitter)
  int retry_delay_ms_max = 300000;    // cap of the exponential delay
  int timeout_ms = 10000;             // per HTTP request
  int batch_max = 64;                 // rows one claim takes at most
  int poll_interval_ms = 500;         // idle wait between polls when not woken
  int lease_ms = 30000;               // how long a claim holds a row; > timeout_ms
};

// Pure: the delay before the attempt after `attempts` failed ones (attempts >= 1):
// min(retry_delay_ms_max, retry_delay_ms_initial * 2^(attempts-1)) scaled by a uniformly
// random factor in [0.5, 1.0] (microsecond resolution).
Duration RetryDelay(int attempts, const OutboxOptions& options, Random& random);

// Bytes of a receiver's answer or error kept in last_error at most.
inline constexpr size_t kLastErrorBytesMax = 500;

class OutboxWorker {
 public:
  OutboxWorker(store::Database& db, HttpClient& http, Clock& clock, Random& random,
               OutboxOptions options);
  ~OutboxWorker();  // Stop()
  OutboxWorker(const OutboxWorker&) = delete;
  OutboxWorker& operator=(const OutboxWorker&) = delete;

  // Starts options.threads delivery threads, each with its own connection.
  Status Start();
  // Stops polling; each thread finishes the delivery it is sending, hands the rest of its claim
  // back (due again at once) and exits. Idempotent.
  void Stop();
  // Ends an idle wait at once (call from a ledger committed listener after enqueueing).
  void Wake();
  // Pending deliveries in every tenant, for metrics; the last known count if the query fails.
  size_t Backlog();
  // Synchronously claims the rows due at `now` (at most batch_max), delivers them one after
  // another and records the outcomes. Returns how many were attempted. For tests and tools.
  Result<int> RunOnce(Instant now);

 private:
  struct Claimed;
  Result<int> RunOnceOn(store::Connection& conn, Instant now);
  Result<std::vector<Claimed>> Claim(store::Connection& conn, Instant now);
  Status Deliver(store::Connection& conn, const Claimed& row, Instant now);
  void Release(store::Connection& conn, const std::vector<Claimed>& rows, size_t from);
  Duration NextDelay(int attempts);
  void Loop(std::unique_ptr<store::Connection> conn);

  store::Database& db_;
  HttpClient& http_;
  Clock& clock_;
  Random& random_;
  std::mutex random_mu_;  // Random need not be thread-safe
  OutboxOptions options_;

  std::mutex mu_;  // guards the members below
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t wakes_ = 0;
  std::vector<std::thread> threads_;
  std::mutex sync_mu_;
  std::unique_ptr<store::Connection> sync_conn_;  // RunOnce's, under sync_mu_
  std::mutex metrics_mu_;
  std::unique_ptr<store::Connection> metrics_conn_;  // Backlog's, under metrics_mu_
  std::atomic<size_t> backlog_{0};
  std::atomic<bool> stop_flag_{false};
};

}  // namespace opsbox::integrations
