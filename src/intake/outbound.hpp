// Outbound replies: delivers message_sent events of WhatsApp conversations to the WhatsApp
// Cloud API, at least once, from the intake_outbound table (the reply outbox; the projector of
// message_sent fills it in the event's transaction).
//
// Request: POST {api_base_url}/{phone_number_id}/messages, Authorization: Bearer
// {access_token}, body {"messaging_product":"whatsapp","recipient_type":"individual",
// "to":<wa_id>,"type":"text","text":{"preview_url":false,"body":<text>}} — settings and
// secrets from the tenant's whatsapp channel configuration, wa_id and text opened through
// Hooks::open at delivery time (never copied out of their sealed form into the table).
// A 2xx answer marks the row 'delivered' and keeps messages[0].id as its provider message id
// (statuses webhooks refer to it). A transport error or another status retries after
// integrations::RetryDelay; after retry_max attempts the row is 'dead'. A row whose text or
// recipient was erased, or whose channel is not configured, is 'dead' at once.
// Claims are compare-and-set leases on next_attempt_at_us, as in integrations' outbox worker.
//
// Thread safety: every public member may be called from any thread. `db`, `http`, `clock`,
// `random` and `intake` must outlive the worker.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/random.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "integrations/http_client.hpp"
#include "intake/intake.hpp"
#include "store/store.hpp"

namespace opsbox::intake {

struct OutboundOptions {
  int retry_max = 8;                  // attempts before dead letter
  int retry_delay_ms_initial = 1000;  // delay after the first failure (before jitter)
  int retry_delay_ms_max = 300000;    // cap of the exponential delay
  int timeout_ms = 10000;             // per HTTP request
  int batch_max = 32;                 // rows one claim takes at most
  int poll_interval_ms = 500;         // idle wait between polls when not woken
  int lease_ms = 30000;               // how long a claim holds a row; > timeout_ms
};

// Pure: the WhatsApp Cloud API send-message request.
integrations::OutboundRequest WhatsAppSendRequest(std::string_view api_base_url,
                                                  std::string_view phone_number_id,
                                                  std::string_view access_token,
                                                  std::string_view to_wa_id,
                                                  std::string_view text, int timeout_ms);

class OutboundWorker {
 public:
  OutboundWorker(store::Database& db, integrations::HttpClient& http, Clock& clock, Random& random,
                 const Intake& intake, OutboundOptions options);
  ~OutboundWorker();  // Stop()
  OutboundWorker(const OutboundWorker&) = delete;
  OutboundWorker& operator=(const OutboundWorker&) = delete;

  // Starts one delivery thread with its own connection.
  Status Start();
  // Finishes the delivery in flight, then exits; unsent claimed rows are due again at once.
  // Idempotent.
  void Stop();
  // Ends an idle wait (a committed listener calls it after message_sent).
  void Wake();
  // Claims the rows due at `now` and delivers them one after another; returns how many were
  // attempted. For tests and tools.
  Result<int> RunOnce(Instant now);

 private:
  struct Claimed;
  Result<int> RunOnceOn(store::Connection& conn, Instant now);
  Result<std::vector<Claimed>> Claim(store::Connection& conn, Instant now);
  Status Deliver(store::Connection& conn, const Claimed& row, Instant now);
  Result<integrations::OutboundRequest> BuildRequest(store::Connection& conn, const Claimed& row,
                                                     std::string& fatal);
  void Loop();

  store::Database& db_;
  integrations::HttpClient& http_;
  Clock& clock_;
  Random& random_;
  const Intake& intake_;
  OutboundOptions options_;
  std::mutex random_mu_;
  std::mutex sync_mu_;
  std::unique_ptr<store::Connection> sync_conn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t wakes_ = 0;
  std::thread thread_;
};

}  // namespace opsbox::intake
