// The leased outbox: delivers rows of outbox tables over HTTP, at least once, for every kind of
// outbound delivery the server makes (webhooks: integrations::WebhookDelivery; channel replies:
// intake::WhatsAppReplyDelivery). One claim-lease-retry loop, one place for its policy (issue
// #9); a kind says only which table holds its rows, how to build a row's request and what to
// keep from a successful answer.
//
// Every kind's table has the columns
//   <key columns>, status ('pending' | 'delivered' | 'dead' | others the kind owns),
//   attempts, next_attempt_at_us, last_status, last_error, updated_at_us
// A delivery is claimed by pushing its next_attempt_at_us to now + lease_ms in a short
// transaction (compare-and-set on the old value), so two workers or nodes never send the same
// row at once and a crash mid-delivery means redelivery after the lease. A 2xx answer marks the
// row 'delivered'. A request the HTTP client refuses as invalid (kInvalidArgument: a destination
// the outbound policy forbids, a malformed url) or a row the kind cannot build a request for
// (Delivery::fatal) is 'dead' at once with the reason in last_error. A transport error or any
// other status increments attempts and records last_status/last_error (the status and a short
// excerpt of the body, never more: ResponseExcerpt); after the kind's retry_max attempts the row
// is 'dead', else it is due again after RetryDelay(). Stop() hands every claimed row not yet
// sent back at once (due again at its old time), so another worker need not wait for the lease.
// Delivery state is operational, not business state: it is not on the ledger
// (docs/decisions/0003).
//
// Thread safety: all public members may be called from any thread. The outbox takes its own
// connections from `db`; `db`, `http`, `clock`, `random` and the kinds must outlive it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/random.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "integrations/http_client.hpp"
#include "store/store.hpp"

namespace opsbox::integrations {

// How one kind retries.
struct RetryOptions {
  int retry_max = 8;                  // attempts before dead letter
  int retry_delay_ms_initial = 1000;  // delay after the first failed attempt (before jitter)
  int retry_delay_ms_max = 300000;    // cap of the exponential delay
  int timeout_ms = 10000;             // per HTTP request; < the outbox's lease_ms
};

// The outbox's own options, and the retry options of the webhook kind (config `webhooks.*`).
struct OutboxOptions : RetryOptions {
  int threads = 2;             // delivery threads started by Start()
  int batch_max = 64;          // rows one claim takes from one kind at most
  int poll_interval_ms = 500;  // idle wait between polls when not woken
  int lease_ms = 30000;        // how long a claim holds a row; > every kind's timeout_ms
};

// Pure: the delay before the attempt after `attempts` failed ones (attempts >= 1):
// min(retry_delay_ms_max, retry_delay_ms_initial * 2^(attempts-1)) scaled by a uniformly
// random factor in [0.5, 1.0] (microsecond resolution).
Duration RetryDelay(int attempts, const RetryOptions& options, Random& random);

// Bytes of a receiver's answer or error kept in last_error at most.
inline constexpr size_t kLastErrorBytesMax = 500;
// Bytes of a receiver's response body kept in last_error at most: tenants see the status and
// this short excerpt of what the receiver said, never more (issue #17).
inline constexpr size_t kResponseExcerptBytesMax = 200;

// "HTTP <status>: <first kResponseExcerptBytesMax bytes of the body, printable ASCII>".
std::string ResponseExcerpt(const OutboundResponse& response);

// One claimed row.
struct OutboxRow {
  std::vector<store::Value> key;  // the key columns' values, in key_columns() order
  int64_t attempts = 0;
  int64_t due_at_us = 0;    // next_attempt_at_us before the claim
  int64_t lease_at_us = 0;  // next_attempt_at_us while claimed
  store::Row row;           // the claim query's whole row
};

// What a kind makes of a claimed row: a request, or the reason it can never be sent.
struct Delivery {
  OutboundRequest request;
  std::string fatal;  // non-empty: the row is dead at once with this reason
};

// What the outbox recorded for one attempt (DeliveryKind::Recorded).
struct DeliveryOutcome {
  std::string status;       // "delivered" | "pending" (due again later) | "dead"
  int64_t attempt = 0;      // this attempt's number, from 1
  int64_t last_status = 0;  // the HTTP status, 0 without an answer
  std::string last_error;   // as stored in last_error ("" when delivered)
  std::vector<std::pair<std::string, store::Value>> columns;  // what Delivered() returned
};

class DeliveryKind {
 public:
  virtual ~DeliveryKind() = default;
  virtual std::string_view name() const = 0;   // for logs: "webhook", "whatsapp_reply"
  virtual std::string_view table() const = 0;  // "webhook_outbox"
  virtual const std::vector<std::string>& key_columns() const = 0;
  // Selects due rows: the key columns, attempts, next_attempt_at_us, then anything the kind
  // needs, for status 'pending' and next_attempt_at_us <= ?1, ordered by next_attempt_at_us,
  // LIMIT ?2.
  virtual std::string_view claim_query() const = 0;
  virtual const RetryOptions& retry() const = 0;
  // Builds the request for `row` (sent at `sent_at`, attempt row.attempts + 1). An error means
  // the outcome cannot be decided now (the row is sent again after its lease).
  virtual Result<Delivery> Prepare(store::Connection& conn, const OutboxRow& row,
                                   Instant sent_at) = 0;
  // Columns besides the outcome to set when `row` is delivered (a provider's message id).
  virtual std::vector<std::pair<std::string, store::Value>> Delivered(
      const OutboxRow& /*row*/, const OutboundResponse& /*response*/) {
    return {};
  }
  // What last_error says of a non-2xx answer. Default: ResponseExcerpt (status and a short
  // excerpt of the body); a kind that knows the receiver's error format says it more plainly.
  virtual std::string Describe(const OutboundResponse& response) const {
    return ResponseExcerpt(response);
  }
  // Whether a non-2xx answer can never succeed however often it is sent (a provider refusing
  // the recipient): the row is dead at once instead of retried. Default: every answer is
  // retried.
  virtual bool Permanent(const OutboundResponse& /*response*/) const { return false; }
  // Called on the delivering thread once the outcome of `row` is recorded (not when its lease
  // ran out first), so a kind can report it (intake records it on the ledger). Must not block
  // for long. Default: nothing.
  virtual void Recorded(const OutboxRow& /*row*/, const DeliveryOutcome& /*outcome*/) {}
};

class LeasedOutbox {
 public:
  LeasedOutbox(store::Database& db, HttpClient& http, Clock& clock, Random& random,
               std::vector<DeliveryKind*> kinds, OutboxOptions options);
  ~LeasedOutbox();  // Stop()
  LeasedOutbox(const LeasedOutbox&) = delete;
  LeasedOutbox& operator=(const LeasedOutbox&) = delete;

  // Adds a kind whose owner is built after the outbox (the composition root wires modules in
  // order). Only before Start() and RunOnce().
  void AddKind(DeliveryKind* kind);
  // Starts options.threads delivery threads, each with its own connection. Errors: invalid
  // options (field "outbox.<name>", rule "min").
  Status Start();
  // Stops polling; each thread finishes the delivery it is sending, hands the rest of its claim
  // back (due again at once) and exits. Also ends a RunOnce between two deliveries. Idempotent.
  void Stop();
  // Ends an idle wait at once (call from a ledger committed listener after enqueueing).
  void Wake();
  // Pending rows of every kind in every tenant, for metrics; the last known count if a query
  // fails.
  size_t Backlog();
  // Synchronously claims the rows due at `now` (at most batch_max per kind), delivers them one
  // after another and records the outcomes. Returns how many were attempted. For tests and
  // tools.
  Result<int> RunOnce(Instant now);

 private:
  Result<int> RunOnceOn(store::Connection& conn, Instant now);
  Result<int> RunKind(store::Connection& conn, DeliveryKind& kind, Instant now);
  Result<std::vector<OutboxRow>> Claim(store::Connection& conn, DeliveryKind& kind, Instant now);
  Status Deliver(store::Connection& conn, DeliveryKind& kind, const OutboxRow& row, Instant now);
  void Release(store::Connection& conn, DeliveryKind& kind, const std::vector<OutboxRow>& rows,
               size_t from);
  Duration NextDelay(int attempts, const RetryOptions& retry);
  void Loop(std::unique_ptr<store::Connection> conn);

  store::Database& db_;
  HttpClient& http_;
  Clock& clock_;
  Random& random_;
  std::mutex random_mu_;  // Random need not be thread-safe
  std::vector<DeliveryKind*> kinds_;
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
