#include "integrations/leased_outbox.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>

#include "core/assert.hpp"

namespace opsbox::integrations {
namespace {

constexpr std::string_view kDelivered = "delivered";
constexpr std::string_view kPending = "pending";
constexpr std::string_view kDead = "dead";

Status ValidateOptions(const OutboxOptions& o, const std::vector<DeliveryKind*>& kinds) {
  auto positive = [](int v, const char* name) -> Status {
    if (v < 1) return Error::Invalid(std::string("outbox.") + name, "min", "must be >= 1");
    return Ok();
  };
  OPSBOX_TRY(positive(o.threads, "threads"));
  OPSBOX_TRY(positive(o.batch_max, "batch_max"));
  OPSBOX_TRY(positive(o.poll_interval_ms, "poll_interval_ms"));
  for (const DeliveryKind* kind : kinds) {
    const RetryOptions& r = kind->retry();
    OPSBOX_TRY(positive(r.retry_max, "retry_max"));
    OPSBOX_TRY(positive(r.retry_delay_ms_initial, "retry_delay_ms_initial"));
    OPSBOX_TRY(positive(r.retry_delay_ms_max, "retry_delay_ms_max"));
    OPSBOX_TRY(positive(r.timeout_ms, "timeout_ms"));
    if (o.lease_ms <= r.timeout_ms) {
      return Error::Invalid("outbox.lease_ms", "min",
                            "lease_ms must exceed the " + std::string(kind->name()) +
                                " timeout_ms, or a slow delivery is sent twice");
    }
  }
  return Ok();
}

// A receiver's answer is arbitrary bytes; last_error keeps printable ASCII only, so it is
// valid text on both backends and in JSON.
std::string Printable(std::string_view s, size_t bytes_max) {
  std::string out(s.substr(0, bytes_max));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

// "k1 = ? AND k2 = ?" for the kind's key columns.
std::string KeyWhere(const DeliveryKind& kind) {
  std::string out;
  for (const auto& column : kind.key_columns()) {
    out += (out.empty() ? "" : " AND ") + column + " = ?";
  }
  return out;
}

// Compare-and-set on next_attempt_at_us: whoever moves it first owns the row.
Result<int64_t> MoveDue(store::Connection& conn, const DeliveryKind& kind, const OutboxRow& row,
                        int64_t from_us, int64_t to_us) {
  const std::string sql = "UPDATE " + std::string(kind.table()) +
                          " SET next_attempt_at_us = ? WHERE " + KeyWhere(kind) +
                          " AND status = 'pending' AND next_attempt_at_us = ?";
  std::vector<store::Value> params{to_us};
  params.insert(params.end(), row.key.begin(), row.key.end());
  params.emplace_back(from_us);
  return conn.Exec(sql, params);
}

Result<OutboundResponse> SendGuarded(HttpClient& http, const OutboundRequest& request) {
  try {
    return http.Send(request);
  } catch (const std::exception& e) {
    return Error::Unavailable(std::string("HTTP client failed: ") + e.what());
  }
}

}  // namespace

Duration RetryDelay(int attempts, const RetryOptions& options, Random& random) {
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

std::string ResponseExcerpt(const OutboundResponse& response) {
  return "HTTP " + std::to_string(response.status) + ": " +
         Printable(response.body, kResponseExcerptBytesMax);
}

LeasedOutbox::LeasedOutbox(store::Database& db, HttpClient& http, Clock& clock, Random& random,
                           std::vector<DeliveryKind*> kinds, OutboxOptions options)
    : db_(db),
      http_(http),
      clock_(clock),
      random_(random),
      kinds_(std::move(kinds)),
      options_(options) {
  OPSBOX_ASSERT(!kinds_.empty());
  for (const DeliveryKind* kind : kinds_) {
    OPSBOX_ASSERT(kind != nullptr && !kind->key_columns().empty());
  }
}

LeasedOutbox::~LeasedOutbox() { Stop(); }

void LeasedOutbox::AddKind(DeliveryKind* kind) {
  OPSBOX_ASSERT(kind != nullptr && !kind->key_columns().empty());
  std::lock_guard lock(mu_);
  OPSBOX_ASSERT_MSG(threads_.empty() && !sync_conn_, "LeasedOutbox::AddKind after Start");
  kinds_.push_back(kind);
}

Status LeasedOutbox::Start() {
  OPSBOX_TRY(ValidateOptions(options_, kinds_));
  std::lock_guard lock(mu_);
  OPSBOX_ASSERT_MSG(threads_.empty(), "LeasedOutbox started twice");
  if (stopping_) return Error::Unavailable("the outbox was stopped");
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

void LeasedOutbox::Stop() {
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

void LeasedOutbox::Wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

size_t LeasedOutbox::Backlog() {
  std::lock_guard lock(metrics_mu_);
  if (!metrics_conn_) {
    auto c = db_.Connect();
    if (!c.ok()) return backlog_.load();
    metrics_conn_ = std::move(*c);
  }
  int64_t total = 0;
  for (const DeliveryKind* kind : kinds_) {
    auto rows = metrics_conn_->Query("SELECT COUNT(*) FROM " + std::string(kind->table()) +
                                     " WHERE status = 'pending'");
    if (!rows.ok() || rows->empty()) {
      metrics_conn_.reset();  // reconnect next time
      return backlog_.load();
    }
    total += std::max<int64_t>(0, (*rows)[0].Int(0));
  }
  backlog_.store(static_cast<size_t>(total));
  return backlog_.load();
}

Result<int> LeasedOutbox::RunOnce(Instant now) {
  OPSBOX_TRY(ValidateOptions(options_, kinds_));
  std::lock_guard lock(sync_mu_);
  if (!sync_conn_) {
    OPSBOX_ASSIGN_OR_RETURN(sync_conn_, db_.Connect());
  }
  auto r = RunOnceOn(*sync_conn_, now);
  if (!r.ok()) sync_conn_.reset();
  return r;
}

Result<int> LeasedOutbox::RunOnceOn(store::Connection& conn, Instant now) {
  int attempted = 0;
  for (DeliveryKind* kind : kinds_) {
    OPSBOX_ASSIGN_OR_RETURN(int n, RunKind(conn, *kind, now));
    attempted += n;
  }
  return attempted;
}

Result<int> LeasedOutbox::RunKind(store::Connection& conn, DeliveryKind& kind, Instant now) {
  OPSBOX_ASSIGN_OR_RETURN(auto claimed, Claim(conn, kind, now));
  int attempted = 0;
  for (size_t i = 0; i < claimed.size(); ++i) {
    if (stop_flag_.load()) {
      Release(conn, kind, claimed, i);
      break;
    }
    ++attempted;
    Status st = Deliver(conn, kind, claimed[i], now);
    if (!st.ok()) {
      // The outcome could not be recorded: the lease runs out and the row is sent again.
      spdlog::warn("outbox: recording a {} delivery failed: {}", kind.name(),
                   st.error().ToString());
      Release(conn, kind, claimed, i + 1);
      return std::move(st).error();
    }
  }
  return attempted;
}

Result<std::vector<OutboxRow>> LeasedOutbox::Claim(store::Connection& conn, DeliveryKind& kind,
                                                   Instant now) {
  const int64_t lease_at_us = now.us + Duration::Millis(options_.lease_ms).us;
  const size_t keys = kind.key_columns().size();
  OPSBOX_ASSIGN_OR_RETURN(auto tx, conn.Begin());
  store::Value params[] = {now.us, static_cast<int64_t>(options_.batch_max)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx->Query(kind.claim_query(), params));
  const std::string move_due = "UPDATE " + std::string(kind.table()) +
                               " SET next_attempt_at_us = ? WHERE " + KeyWhere(kind) +
                               " AND status = 'pending' AND next_attempt_at_us = ?";
  std::vector<OutboxRow> out;
  for (auto& r : rows) {
    OPSBOX_ASSERT(r.values.size() >= keys + 2);
    OutboxRow c;
    c.key.assign(r.values.begin(), r.values.begin() + static_cast<ptrdiff_t>(keys));
    c.attempts = r.Int(keys);
    c.due_at_us = r.Int(keys + 1);
    c.lease_at_us = lease_at_us;
    std::vector<store::Value> cas{lease_at_us};
    cas.insert(cas.end(), c.key.begin(), c.key.end());
    cas.emplace_back(c.due_at_us);
    OPSBOX_ASSIGN_OR_RETURN(auto changed, tx->Exec(move_due, cas));
    c.row = std::move(r);
    if (changed == 1) out.push_back(std::move(c));
  }
  OPSBOX_TRY(tx->Commit());
  return out;
}

void LeasedOutbox::Release(store::Connection& conn, DeliveryKind& kind,
                           const std::vector<OutboxRow>& rows, size_t from) {
  for (size_t i = from; i < rows.size(); ++i) {
    // Best effort: a row not handed back is due again when its lease runs out.
    (void)MoveDue(conn, kind, rows[i], rows[i].lease_at_us, rows[i].due_at_us);
  }
}

Duration LeasedOutbox::NextDelay(int attempts, const RetryOptions& retry) {
  std::lock_guard lock(random_mu_);
  return RetryDelay(attempts, retry, random_);
}

Status LeasedOutbox::Deliver(store::Connection& conn, DeliveryKind& kind, const OutboxRow& c,
                             Instant now) {
  const RetryOptions& retry = kind.retry();
  const int64_t attempt = c.attempts + 1;
  const Instant sent_at = std::max(now, clock_.Now());
  OPSBOX_ASSIGN_OR_RETURN(Delivery delivery, kind.Prepare(conn, c, sent_at));
  Result<OutboundResponse> resp = Error::Invalid("", "fatal", delivery.fatal);
  if (delivery.fatal.empty()) {
    delivery.request.timeout_ms = retry.timeout_ms;
    resp = SendGuarded(http_, delivery.request);
  }
  const Instant done_at = std::max(sent_at, clock_.Now());
  std::string status(kPending);
  int64_t next_at_us = c.lease_at_us;
  std::string last_error;
  std::vector<std::pair<std::string, store::Value>> extra;
  const int64_t last_status = resp.ok() ? resp->status : 0;
  if (resp.ok() && resp->status >= 200 && resp->status < 300) {
    status = kDelivered;
    extra = kind.Delivered(c, *resp);
  } else {
    last_error = resp.ok() ? kind.Describe(*resp) : resp.error().message;
    // A request that can never succeed (a destination the outbound policy forbids, a
    // malformed url, a row the kind cannot build) is dead at once; its message is the reason.
    const bool permanent = (!resp.ok() && resp.error().code == ErrorCode::kInvalidArgument) ||
                           (resp.ok() && kind.Permanent(*resp));
    if (permanent || attempt >= retry.retry_max) {
      status = kDead;
    } else {
      next_at_us = (done_at + NextDelay(static_cast<int>(attempt), retry)).us;
    }
  }
  std::string sql = "UPDATE " + std::string(kind.table()) +
                    " SET status = ?, attempts = ?, next_attempt_at_us = ?, last_status = ?, "
                    "last_error = ?, updated_at_us = ?";
  std::vector<store::Value> params{
      status,    attempt, next_at_us, last_status, Printable(last_error, kLastErrorBytesMax),
      done_at.us};
  for (const auto& [column, value] : extra) {
    sql += ", " + column + " = ?";
    params.push_back(value);
  }
  sql += " WHERE " + KeyWhere(kind) + " AND status = 'pending' AND next_attempt_at_us = ?";
  params.insert(params.end(), c.key.begin(), c.key.end());
  params.emplace_back(c.lease_at_us);
  OPSBOX_ASSIGN_OR_RETURN(auto changed, conn.Exec(sql, params));
  if (changed != 1) {
    spdlog::warn("outbox: the lease on a {} delivery ran out before its outcome was recorded",
                 kind.name());
    return Ok();
  }
  kind.Recorded(c, DeliveryOutcome{status, attempt, last_status,
                                   Printable(last_error, kLastErrorBytesMax), std::move(extra)});
  return Ok();
}

void LeasedOutbox::Loop(std::unique_ptr<store::Connection> conn) {
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
