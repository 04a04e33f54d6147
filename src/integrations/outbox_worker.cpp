#include "integrations/outbox_worker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>

#include "core/assert.hpp"
#include "integrations/webhooks.hpp"
#include "ledger/event.hpp"

namespace opsbox::integrations {
namespace {

constexpr std::string_view kClaimQuery =
    "SELECT o.tenant_id, o.subscription_id, o.event_seq, o.attempts, o.next_attempt_at_us, "
    "s.url, s.secret, e.event_id, e.recorded_at_us, e.actor, e.command_id, e.type, e.payload, "
    "e.prev_hash, e.hash "
    "FROM webhook_outbox o "
    "JOIN webhook_subscriptions s ON s.tenant_id = o.tenant_id AND "
    "s.subscription_id = o.subscription_id "
    "JOIN ledger_events e ON e.tenant_id = o.tenant_id AND e.seq = o.event_seq "
    "WHERE o.status = 'pending' AND o.next_attempt_at_us <= ? AND s.status = 'active' "
    "ORDER BY o.next_attempt_at_us LIMIT ?";

// Compare-and-set on next_attempt_at_us: whoever moves it first owns the row.
constexpr std::string_view kMoveDue =
    "UPDATE webhook_outbox SET next_attempt_at_us = ? WHERE tenant_id = ? AND "
    "subscription_id = ? AND event_seq = ? AND status = 'pending' AND next_attempt_at_us = ?";

constexpr std::string_view kRecordOutcome =
    "UPDATE webhook_outbox SET status = ?, attempts = ?, next_attempt_at_us = ?, "
    "last_status = ?, last_error = ?, updated_at_us = ? WHERE tenant_id = ? AND "
    "subscription_id = ? AND event_seq = ? AND status = 'pending' AND next_attempt_at_us = ?";

Status ValidateOptions(const OutboxOptions& o) {
  auto positive = [](int v, const char* name) -> Status {
    if (v < 1) return Error::Invalid(std::string("outbox.") + name, "min", "must be >= 1");
    return Ok();
  };
  OPSBOX_TRY(positive(o.threads, "threads"));
  OPSBOX_TRY(positive(o.retry_max, "retry_max"));
  OPSBOX_TRY(positive(o.retry_delay_ms_initial, "retry_delay_ms_initial"));
  OPSBOX_TRY(positive(o.retry_delay_ms_max, "retry_delay_ms_max"));
  OPSBOX_TRY(positive(o.timeout_ms, "timeout_ms"));
  OPSBOX_TRY(positive(o.batch_max, "batch_max"));
  OPSBOX_TRY(positive(o.poll_interval_ms, "poll_interval_ms"));
  if (o.lease_ms <= o.timeout_ms) {
    return Error::Invalid("outbox.lease_ms", "min",
                          "lease_ms must exceed timeout_ms, or a slow delivery is sent twice");
  }
  return Ok();
}

// A receiver's answer is arbitrary bytes; last_error keeps printable ASCII only, so it is
// valid text on both backends and in JSON.
std::string SanitizeError(std::string_view s) {
  std::string out(s.substr(0, kLastErrorBytesMax));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

}  // namespace

struct OutboxWorker::Claimed {
  std::string tenant_id;
  std::string subscription_id;
  int64_t event_seq = 0;
  int64_t attempts = 0;
  int64_t due_at_us = 0;    // next_attempt_at_us before the claim
  int64_t lease_at_us = 0;  // next_attempt_at_us while claimed
  std::string url;
  std::string secret;
  ledger::Event event;
};

Duration RetryDelay(int attempts, const OutboxOptions& options, Random& random) {
  OPSBOX_ASSERT(attempts >= 1);
  const int64_t cap_ms = std::max(1, options.retry_delay_ms_max);
  int64_t base_ms = std::max(1, options.retry_delay_ms_initial);
  for (int i = 1; i < attempts && base_ms < cap_ms; ++i) base_ms *= 2;
  base_ms = std::min(base_ms, cap_ms);
  const int64_t base_us = base_ms * 1000;
  const int64_t spread_us = base_us / 2;
  // Uniform in [base - base/2, base]: a factor in [0.5, 1.0].
  return Duration::Micros(
      base_us - static_cast<int64_t>(random.Uniform(static_cast<uint64_t>(spread_us) + 1)));
}

OutboxWorker::OutboxWorker(store::Database& db, HttpClient& http, Clock& clock, Random& random,
                           OutboxOptions options)
    : db_(db), http_(http), clock_(clock), random_(random), options_(options) {}

OutboxWorker::~OutboxWorker() { Stop(); }

Status OutboxWorker::Start() {
  OPSBOX_TRY(ValidateOptions(options_));
  std::lock_guard lock(mu_);
  OPSBOX_ASSERT_MSG(threads_.empty(), "OutboxWorker started twice");
  if (stopping_) return Error::Unavailable("the outbox worker was stopped");
  std::vector<std::unique_ptr<store::Connection>> conns;
  for (int i = 0; i < options_.threads; ++i) {
    OPSBOX_ASSIGN_OR_RETURN(auto c, db_.Connect());
    conns.push_back(std::move(c));
  }
  for (auto& c : conns) {
    threads_.emplace_back([this, conn = std::move(c)]() mutable { Loop(std::move(conn)); });
  }
  return Ok();
}

void OutboxWorker::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    stop_flag_.store(true);
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
}

void OutboxWorker::Wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

size_t OutboxWorker::Backlog() {
  std::lock_guard lock(metrics_mu_);
  if (!metrics_conn_) {
    auto c = db_.Connect();
    if (!c.ok()) return backlog_.load();
    metrics_conn_ = std::move(*c);
  }
  auto rows = metrics_conn_->Query("SELECT COUNT(*) FROM webhook_outbox WHERE status = 'pending'");
  if (!rows.ok() || rows->empty()) {
    metrics_conn_.reset();  // reconnect next time
    return backlog_.load();
  }
  backlog_.store(static_cast<size_t>(std::max<int64_t>(0, (*rows)[0].Int(0))));
  return backlog_.load();
}

Result<int> OutboxWorker::RunOnce(Instant now) {
  OPSBOX_TRY(ValidateOptions(options_));
  std::lock_guard lock(sync_mu_);
  if (!sync_conn_) {
    OPSBOX_ASSIGN_OR_RETURN(sync_conn_, db_.Connect());
  }
  auto r = RunOnceOn(*sync_conn_, now);
  if (!r.ok()) sync_conn_.reset();
  return r;
}

Result<int> OutboxWorker::RunOnceOn(store::Connection& conn, Instant now) {
  OPSBOX_ASSIGN_OR_RETURN(auto claimed, Claim(conn, now));
  int attempted = 0;
  for (size_t i = 0; i < claimed.size(); ++i) {
    if (stop_flag_.load()) {
      Release(conn, claimed, i);
      break;
    }
    ++attempted;
    Status st = Deliver(conn, claimed[i], now);
    if (!st.ok()) {
      // The outcome could not be recorded: the lease runs out and the row is sent again.
      spdlog::warn("outbox: recording delivery of {} seq {} to {} failed: {}", claimed[i].tenant_id,
                   claimed[i].event_seq, claimed[i].subscription_id, st.error().ToString());
      Release(conn, claimed, i + 1);
      return std::move(st).error();
    }
  }
  return attempted;
}

Result<std::vector<OutboxWorker::Claimed>> OutboxWorker::Claim(store::Connection& conn,
                                                               Instant now) {
  const int64_t lease_at_us = now.us + Duration::Millis(options_.lease_ms).us;
  OPSBOX_ASSIGN_OR_RETURN(auto tx, conn.Begin());
  store::Value params[] = {now.us, static_cast<int64_t>(options_.batch_max)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx->Query(kClaimQuery, params));
  std::vector<Claimed> out;
  for (const auto& r : rows) {
    Claimed c;
    c.tenant_id = r.Text(0);
    c.subscription_id = r.Text(1);
    c.event_seq = r.Int(2);
    c.attempts = r.Int(3);
    c.due_at_us = r.Int(4);
    c.lease_at_us = lease_at_us;
    c.url = r.Text(5);
    c.secret = r.Text(6);
    c.event = ledger::Event{c.tenant_id, c.event_seq, r.Text(7),  Instant{r.Int(8)}, r.Text(9),
                            r.Text(10),  r.Text(11),  r.Text(12), r.Text(13),        r.Text(14)};
    store::Value cas[] = {lease_at_us, c.tenant_id, c.subscription_id, c.event_seq, c.due_at_us};
    OPSBOX_ASSIGN_OR_RETURN(auto changed, tx->Exec(kMoveDue, cas));
    if (changed == 1) out.push_back(std::move(c));
  }
  OPSBOX_TRY(tx->Commit());
  return out;
}

void OutboxWorker::Release(store::Connection& conn, const std::vector<Claimed>& rows, size_t from) {
  for (size_t i = from; i < rows.size(); ++i) {
    const auto& c = rows[i];
    store::Value cas[] = {c.due_at_us, c.tenant_id, c.subscription_id, c.event_seq, c.lease_at_us};
    // Best effort: a row not handed back is due again when its lease runs out.
    (void)conn.Exec(kMoveDue, cas);
  }
}

Duration OutboxWorker::NextDelay(int attempts) {
  std::lock_guard lock(random_mu_);
  return RetryDelay(attempts, options_, random_);
}

namespace {

// The delivered body: the event's outbound view, the same that ledger reads and exports give.
std::string DeliveryBody(const ledger::Event& e) { return CanonicalJson(e.ToOutboundJson()); }

Result<OutboundResponse> SendGuarded(HttpClient& http, const OutboundRequest& request) {
  try {
    return http.Send(request);
  } catch (const std::exception& e) {
    return Error::Unavailable(std::string("HTTP client failed: ") + e.what());
  }
}

}  // namespace

Status OutboxWorker::Deliver(store::Connection& conn, const Claimed& c, Instant now) {
  const int64_t attempt = c.attempts + 1;
  const Instant sent_at = std::max(now, clock_.Now());
  OutboundRequest req;
  req.method = "POST";
  req.url = c.url;
  req.timeout_ms = options_.timeout_ms;
  req.body = DeliveryBody(c.event);
  req.headers = {{"Content-Type", "application/json"},
                 {"Opsbox-Event-Id", c.event.event_id},
                 {"Opsbox-Delivery-Attempt", std::to_string(attempt)},
                 {std::string(kSignatureHeader), SignWebhook(c.secret, sent_at, req.body)}};
  auto resp = SendGuarded(http_, req);
  const Instant done_at = std::max(sent_at, clock_.Now());
  std::string status(kDeliveryPending);
  int64_t next_at_us = c.lease_at_us;
  int64_t last_status = 0;
  std::string last_error;
  if (resp.ok()) last_status = resp->status;
  if (resp.ok() && resp->status >= 200 && resp->status < 300) {
    status = kDeliveryDelivered;
  } else {
    last_error = resp.ok() ? "HTTP " + std::to_string(resp->status) + ": " + resp->body
                           : resp.error().message;
    if (attempt >= options_.retry_max) {
      status = kDeliveryDead;
    } else {
      next_at_us = (done_at + NextDelay(static_cast<int>(attempt))).us;
    }
  }
  store::Value params[] = {
      status,     attempt,     next_at_us,        last_status, SanitizeError(last_error),
      done_at.us, c.tenant_id, c.subscription_id, c.event_seq, c.lease_at_us};
  OPSBOX_ASSIGN_OR_RETURN(auto changed, conn.Exec(kRecordOutcome, params));
  if (changed != 1) {
    spdlog::warn("outbox: lease on {} seq {} to {} ran out before the outcome was recorded",
                 c.tenant_id, c.event_seq, c.subscription_id);
  }
  return Ok();
}

void OutboxWorker::Loop(std::unique_ptr<store::Connection> conn) {
  for (;;) {
    uint64_t seen_wakes = 0;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      seen_wakes = wakes_;
    }
    bool busy = false;
    if (conn) {
      auto r = RunOnceOn(*conn, clock_.Now());
      if (r.ok()) {
        busy = *r > 0;
      } else {
        spdlog::warn("outbox: delivery round failed: {}", r.error().ToString());
        conn.reset();
      }
    }
    if (!conn) {
      auto c = db_.Connect();
      if (c.ok()) conn = std::move(*c);
    }
    if (busy) continue;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms),
                 [&] { return stopping_ || wakes_ != seen_wakes; });
  }
}

}  // namespace opsbox::integrations
