#include "intake/outbound.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>

#include "core/assert.hpp"
#include "integrations/outbox_worker.hpp"

namespace opsbox::intake {
namespace {

constexpr std::string_view kClaimQuery =
    "SELECT o.tenant_id, o.message_id, o.attempts, o.next_attempt_at_us, m.text, c.wa_id "
    "FROM intake_outbound o "
    "JOIN intake_messages m ON m.tenant_id = o.tenant_id AND m.message_id = o.message_id "
    "JOIN intake_customers c ON c.tenant_id = m.tenant_id AND c.customer_id = m.customer_id "
    "WHERE o.status = 'pending' AND o.next_attempt_at_us <= ? "
    "ORDER BY o.next_attempt_at_us LIMIT ?";

constexpr std::string_view kMoveDue =
    "UPDATE intake_outbound SET next_attempt_at_us = ? WHERE tenant_id = ? AND message_id = ? "
    "AND status = 'pending' AND next_attempt_at_us = ?";

constexpr std::string_view kRecordOutcome =
    "UPDATE intake_outbound SET status = ?, attempts = ?, next_attempt_at_us = ?, "
    "last_status = ?, last_error = ?, provider_message_id = ?, updated_at_us = ? WHERE "
    "tenant_id = ? AND message_id = ? AND status = 'pending' AND next_attempt_at_us = ?";

std::string Printable(std::string_view s) {
  std::string out(s.substr(0, integrations::kLastErrorBytesMax));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

std::string ProviderId(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("messages") || !j["messages"].is_array() ||
      j["messages"].empty() || !j["messages"][0].is_object()) {
    return "";
  }
  const Json& id = j["messages"][0].value("id", Json());
  return id.is_string() ? Printable(id.get<std::string>()) : "";
}

}  // namespace

struct OutboundWorker::Claimed {
  std::string tenant_id;
  std::string message_id;
  int64_t attempts = 0;
  int64_t due_at_us = 0;
  int64_t lease_at_us = 0;
  Json text;   // sealed
  Json wa_id;  // sealed
};

integrations::OutboundRequest WhatsAppSendRequest(std::string_view api_base_url,
                                                  std::string_view phone_number_id,
                                                  std::string_view access_token,
                                                  std::string_view to_wa_id,
                                                  std::string_view text, int timeout_ms) {
  std::string base(api_base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  integrations::OutboundRequest r;
  r.method = "POST";
  r.url = base + "/" + std::string(phone_number_id) + "/messages";
  r.timeout_ms = timeout_ms;
  r.headers = {{"Content-Type", "application/json"},
               {"Authorization", "Bearer " + std::string(access_token)}};
  r.body = Json{{"messaging_product", "whatsapp"},
                {"recipient_type", "individual"},
                {"to", std::string(to_wa_id)},
                {"type", "text"},
                {"text", Json{{"preview_url", false}, {"body", std::string(text)}}}}
               .dump();
  return r;
}

OutboundWorker::OutboundWorker(store::Database& db, integrations::HttpClient& http, Clock& clock,
                               Random& random, const Intake& intake, OutboundOptions options)
    : db_(db), http_(http), clock_(clock), random_(random), intake_(intake), options_(options) {
  OPSBOX_ASSERT(options_.lease_ms > options_.timeout_ms && options_.retry_max >= 1 &&
                options_.batch_max >= 1);
}

OutboundWorker::~OutboundWorker() { Stop(); }

Status OutboundWorker::Start() {
  std::lock_guard lock(mu_);
  OPSBOX_ASSERT_MSG(!thread_.joinable(), "OutboundWorker started twice");
  if (stopping_) return Error::Unavailable("the outbound worker was stopped");
  thread_ = std::thread([this] { Loop(); });
  return Ok();
}

void OutboundWorker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboundWorker::Wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

Result<int> OutboundWorker::RunOnce(Instant now) {
  std::lock_guard lock(sync_mu_);
  if (!sync_conn_) {
    OPSBOX_ASSIGN_OR_RETURN(sync_conn_, db_.Connect());
  }
  auto r = RunOnceOn(*sync_conn_, now);
  if (!r.ok()) sync_conn_.reset();
  return r;
}

Result<int> OutboundWorker::RunOnceOn(store::Connection& conn, Instant now) {
  OPSBOX_ASSIGN_OR_RETURN(auto claimed, Claim(conn, now));
  int attempted = 0;
  for (const auto& c : claimed) {
    ++attempted;
    // An unrecorded outcome leaves the lease to run out: the row is sent again later.
    OPSBOX_TRY(Deliver(conn, c, now));
  }
  return attempted;
}

Result<std::vector<OutboundWorker::Claimed>> OutboundWorker::Claim(store::Connection& conn,
                                                                   Instant now) {
  const int64_t lease_at_us = now.us + Duration::Millis(options_.lease_ms).us;
  OPSBOX_ASSIGN_OR_RETURN(auto tx, conn.Begin());
  store::Value params[] = {now.us, static_cast<int64_t>(options_.batch_max)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx->Query(kClaimQuery, params));
  std::vector<Claimed> out;
  for (const auto& r : rows) {
    Claimed c{r.Text(0), r.Text(1), r.Int(2), r.Int(3), lease_at_us,
              r.IsNull(4) ? Json() : Json::parse(r.Text(4), nullptr, false),
              r.IsNull(5) ? Json() : Json::parse(r.Text(5), nullptr, false)};
    store::Value cas[] = {lease_at_us, c.tenant_id, c.message_id, c.due_at_us};
    OPSBOX_ASSIGN_OR_RETURN(auto changed, tx->Exec(kMoveDue, cas));
    if (changed == 1) out.push_back(std::move(c));
  }
  OPSBOX_TRY(tx->Commit());
  return out;
}

Result<integrations::OutboundRequest> OutboundWorker::BuildRequest(store::Connection& conn,
                                                                   const Claimed& c,
                                                                   std::string& fatal) {
  OPSBOX_ASSIGN_OR_RETURN(auto config, intake_.ChannelConfig(conn, c.tenant_id, kWhatsApp));
  const auto& open = intake_.hooks().open;
  std::optional<Json> text = c.text, to = c.wa_id;
  if (open) {
    OPSBOX_ASSIGN_OR_RETURN(text, open(conn, c.tenant_id, c.text));
    OPSBOX_ASSIGN_OR_RETURN(to, open(conn, c.tenant_id, c.wa_id));
  }
  if (!config) fatal = "the whatsapp channel is not configured";
  if (!text || !text->is_string() || !to || !to->is_string()) {
    fatal = "the text or the recipient was erased";
  }
  if (!fatal.empty()) return integrations::OutboundRequest{};
  const Json& settings = (*config)["settings"];
  const std::string base = settings.value("api_base_url",
                                          intake_.options().whatsapp_api_base_url_default);
  return WhatsAppSendRequest(base, settings.value("phone_number_id", ""),
                             (*config)["secrets"].value("access_token", ""),
                             to->get<std::string>(), text->get<std::string>(),
                             options_.timeout_ms);
}

Status OutboundWorker::Deliver(store::Connection& conn, const Claimed& c, Instant now) {
  const int64_t attempt = c.attempts + 1;
  std::string fatal;
  OPSBOX_ASSIGN_OR_RETURN(auto req, BuildRequest(conn, c, fatal));
  Result<integrations::OutboundResponse> resp = Error::Unavailable(fatal);
  if (fatal.empty()) {
    try {
      resp = http_.Send(req);
    } catch (const std::exception& e) {
      resp = Error::Unavailable(std::string("HTTP client failed: ") + e.what());
    }
  }
  const Instant done_at = std::max(now, clock_.Now());
  std::string status = "pending", last_error, provider_id;
  int64_t next_at_us = c.lease_at_us;
  const int64_t last_status = resp.ok() ? resp->status : 0;
  if (resp.ok() && resp->status >= 200 && resp->status < 300) {
    status = "delivered";
    provider_id = ProviderId(resp->body);
  } else {
    last_error = resp.ok() ? "HTTP " + std::to_string(resp->status) + ": " + resp->body
                           : resp.error().message;
    if (!fatal.empty() || attempt >= options_.retry_max) {
      status = "dead";
    } else {
      integrations::OutboxOptions o;
      o.retry_delay_ms_initial = options_.retry_delay_ms_initial;
      o.retry_delay_ms_max = options_.retry_delay_ms_max;
      std::lock_guard lock(random_mu_);
      next_at_us = (done_at + integrations::RetryDelay(static_cast<int>(attempt), o, random_)).us;
    }
  }
  store::Value params[] = {status,      attempt,     next_at_us,   last_status,
                           Printable(last_error), provider_id, done_at.us, c.tenant_id,
                           c.message_id, c.lease_at_us};
  OPSBOX_ASSIGN_OR_RETURN(auto changed, conn.Exec(kRecordOutcome, params));
  if (changed != 1) {
    spdlog::warn("intake outbound: lease on {} {} ran out before the outcome was recorded",
                 c.tenant_id, c.message_id);
  }
  return Ok();
}

void OutboundWorker::Loop() {
  std::unique_ptr<store::Connection> conn;
  for (;;) {
    uint64_t seen = 0;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      seen = wakes_;
    }
    bool busy = false;
    if (!conn) {
      auto c = db_.Connect();
      if (c.ok()) conn = std::move(*c);
    }
    if (conn) {
      auto r = RunOnceOn(*conn, clock_.Now());
      if (r.ok()) {
        busy = *r > 0;
      } else {
        spdlog::warn("intake outbound: delivery round failed: {}", r.error().ToString());
        conn.reset();
      }
    }
    if (busy) continue;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms),
                 [&] { return stopping_ || wakes_ != seen; });
  }
}

}  // namespace opsbox::intake
