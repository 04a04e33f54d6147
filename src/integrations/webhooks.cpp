// Webhook subscriptions and replays: validation, decisions, handlers, queries. The projectors
// and the subscription cache are in webhook_projection.cpp.
#include "integrations/webhooks.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/limits.hpp"

namespace opsbox::integrations {
namespace {

constexpr size_t kSubscriptionIdBytesMax = 64;

bool IsEventTypeName(std::string_view s) {
  if (s.empty() || s.size() > kWebhookEventTypeBytesMax) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

Result<std::vector<std::string>> ValidateEventTypes(const Json& body) {
  auto it = body.find("event_types");
  if (it == body.end() || it->is_null()) {
    return Error::Invalid("event_types", "required", "event_types is required");
  }
  if (!it->is_array()) {
    return Error::Invalid("event_types", "type", "event_types must be an array of strings");
  }
  if (it->empty()) {
    return Error::Invalid("event_types", "min_items", "event_types must name at least one type");
  }
  if (it->size() > limits::kWebhookEventTypesMax) {
    return Error::Invalid(
        "event_types", "max_items",
        "event_types holds at most " + std::to_string(limits::kWebhookEventTypesMax) + " entries");
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < it->size(); ++i) {
    const std::string field = "event_types[" + std::to_string(i) + "]";
    const Json& v = (*it)[i];
    if (!v.is_string()) return Error::Invalid(field, "type", field + " must be a string");
    const auto& s = v.get_ref<const std::string&>();
    if (s != "*" && !IsEventTypeName(s)) {
      return Error::Invalid(field, "format", field + " must match [a-z_]{1,64} or be \"*\"");
    }
    if (std::find(out.begin(), out.end(), s) != out.end()) {
      return Error::Invalid(field, "duplicate", field + " repeats \"" + s + "\"");
    }
    out.push_back(s);
  }
  return out;
}

Result<std::string> RequireSubscriptionId(const Json& body) {
  OPSBOX_ASSIGN_OR_RETURN(auto id, RequireString(body, "subscription_id", kSubscriptionIdBytesMax));
  if (!IsId(id, "whs")) {
    return Error::Invalid("subscription_id", "format", "subscription_id must be a whs_… id");
  }
  return id;
}

Json SubscriptionJson(const store::Row& row) {
  Json types = Json::parse(row.Text(2), nullptr, /*allow_exceptions=*/false);
  return Json{{"subscription_id", row.Text(0)},
              {"url", row.Text(1)},
              {"event_types", std::move(types)},
              {"status", row.Text(3)},
              {"created_at", FormatRfc3339(Instant{row.Int(4)})}};
}

Json DeliveryJson(const store::Row& row) {
  return Json{{"subscription_id", row.Text(0)},
              {"event_seq", row.Int(1)},
              {"event_id", row.Text(2)},
              {"event_type", row.Text(3)},
              {"status", row.Text(4)},
              {"attempts", row.Int(5)},
              {"next_attempt_at", FormatRfc3339(Instant{row.Int(6)})},
              {"last_status", row.Int(7)},
              {"last_error", row.Text(8)},
              {"created_at", FormatRfc3339(Instant{row.Int(9)})},
              {"updated_at", FormatRfc3339(Instant{row.Int(10)})}};
}

// Cursor "<event_seq>:<subscription_id>".
Status ParseDeliveryCursor(std::string_view after, int64_t& seq, std::string& sub) {
  const auto colon = after.find(':');
  const auto bad = Error::Invalid("after", "format", "after is not a cursor");
  if (colon == std::string_view::npos || colon == 0 || colon > 18) return bad;
  seq = 0;
  for (char c : after.substr(0, colon)) {
    if (c < '0' || c > '9') return bad;
    seq = seq * 10 + (c - '0');
  }
  sub = std::string(after.substr(colon + 1));
  if (!IsId(sub, "whs")) return bad;
  return Ok();
}

}  // namespace

Status ValidateWebhookUrl(std::string_view url, const OutboundPolicy& policy) {
  return policy.CheckUrl(url, "url");
}

Result<SubscriptionInput> ValidateCreateSubscription(const Json& body,
                                                     const OutboundPolicy& policy) {
  OPSBOX_TRY(CheckObjectKeys(body, {"url", "event_types", "description"}));
  SubscriptionInput in;
  OPSBOX_ASSIGN_OR_RETURN(in.url, RequireString(body, "url", limits::kWebhookUrlBytesMax));
  OPSBOX_TRY(ValidateWebhookUrl(in.url, policy));
  OPSBOX_ASSIGN_OR_RETURN(in.event_types, ValidateEventTypes(body));
  auto d = body.find("description");
  if (d != body.end() && !d->is_null()) {
    if (!d->is_string()) return Error::Invalid("description", "type", "must be a string");
    in.description = d->get<std::string>();
    if (in.description.size() > kWebhookDescriptionBytesMax) {
      return Error::Invalid(
          "description", "max_bytes",
          "description is longer than " + std::to_string(kWebhookDescriptionBytesMax) + " bytes");
    }
  }
  return in;
}

bool EventTypeMatches(const std::vector<std::string>& event_types, std::string_view event_type) {
  return std::any_of(event_types.begin(), event_types.end(),
                     [&](const std::string& t) { return t == "*" || t == event_type; });
}

Result<ledger::Decision> DecideCreateSubscription(const SubscriptionInput& in, int64_t active_count,
                                                  const std::string& secret, Instant now,
                                                  Random& random) {
  if (active_count >= kWebhookSubscriptionsActiveMax) {
    return Error::Conflict("subscriptions_max",
                           "a tenant has at most " +
                               std::to_string(kWebhookSubscriptionsActiveMax) +
                               " active webhook subscriptions; delete one first");
  }
  const std::string id = NewId("whs", now, random);
  ledger::Decision d;
  ledger::NewEvent created{std::string(kWebhookSubscriptionCreated),
                           Json{{"subscription_id", id},
                                {"url", in.url},
                                {"event_types", in.event_types},
                                {"description", in.description},
                                {"secret", secret}}};
  created.secret_fields = {"secret"};  // sealed in the ledger (decision 0010)
  d.events.push_back(std::move(created));
  d.result = Json{
      {"subscription_id", id},         {"url", in.url},      {"event_types", in.event_types},
      {"description", in.description}, {"status", "active"}, {"created_at", FormatRfc3339(now)}};
  d.once = Json{{"secret", secret}};
  return d;
}

Result<ledger::Decision> DecideDeleteSubscription(const std::string& subscription_id,
                                                  const std::optional<std::string>& status) {
  if (!status.has_value() || *status != "active") {
    return Error::NotFound("no active webhook subscription " + subscription_id);
  }
  ledger::Decision d;
  d.events.push_back(ledger::NewEvent{std::string(kWebhookSubscriptionDeleted),
                                      Json{{"subscription_id", subscription_id}}});
  d.result = Json{{"subscription_id", subscription_id}, {"status", "deleted"}};
  return d;
}

Result<ledger::Decision> DecideReplayDelivery(const std::string& subscription_id, int64_t event_seq,
                                              const std::optional<std::string>& delivery_status,
                                              const std::string& subscription_status) {
  const std::string what =
      "delivery of event " + std::to_string(event_seq) + " to " + subscription_id;
  if (!delivery_status.has_value()) return Error::NotFound("no " + what);
  if (*delivery_status != kDeliveryDead) {
    return Error::Conflict("not_dead_lettered",
                           what + " is " + *delivery_status + "; only dead deliveries replay");
  }
  if (subscription_status != "active") {
    return Error::Conflict("subscription_deleted", what + ": the subscription was deleted");
  }
  ledger::Decision d;
  d.events.push_back(
      ledger::NewEvent{std::string(kWebhookDeliveryReplayed),
                       Json{{"subscription_id", subscription_id}, {"event_seq", event_seq}}});
  d.result = Json{
      {"subscription_id", subscription_id}, {"event_seq", event_seq}, {"status", kDeliveryPending}};
  return d;
}

Result<ledger::Decision> HandleCreateSubscription(store::Tx& tx, const ledger::Command& cmd,
                                                  Instant now, Random& random,
                                                  const OutboundPolicy& policy) {
  OPSBOX_ASSIGN_OR_RETURN(auto input, ValidateCreateSubscription(cmd.payload, policy));
  store::Value params[] = {cmd.tenant_id};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM webhook_subscriptions WHERE "
                                              "tenant_id = ? AND status = 'active'",
                                              params));
  const int64_t active = rows.empty() ? 0 : rows[0].Int(0);
  return DecideCreateSubscription(input, active, "whsec_" + RandomToken(32), now, random);
}

Result<ledger::Decision> HandleDeleteSubscription(store::Tx& tx, const ledger::Command& cmd,
                                                  Instant, Random&) {
  OPSBOX_TRY(CheckObjectKeys(cmd.payload, {"subscription_id"}));
  OPSBOX_ASSIGN_OR_RETURN(auto id, RequireSubscriptionId(cmd.payload));
  store::Value params[] = {cmd.tenant_id, id};
  OPSBOX_ASSIGN_OR_RETURN(auto rows,
                          tx.Query("SELECT status FROM webhook_subscriptions WHERE tenant_id = ? "
                                   "AND subscription_id = ?",
                                   params));
  std::optional<std::string> status;
  if (!rows.empty()) status = rows[0].Text(0);
  return DecideDeleteSubscription(id, status);
}

Result<ledger::Decision> HandleReplayDelivery(store::Tx& tx, const ledger::Command& cmd, Instant,
                                              Random&) {
  OPSBOX_TRY(CheckObjectKeys(cmd.payload, {"subscription_id", "event_seq"}));
  OPSBOX_ASSIGN_OR_RETURN(auto id, RequireSubscriptionId(cmd.payload));
  auto seq_it = cmd.payload.find("event_seq");
  if (seq_it == cmd.payload.end() || seq_it->is_null()) {
    return Error::Invalid("event_seq", "required", "event_seq is required");
  }
  if (!seq_it->is_number_integer() || seq_it->get<int64_t>() < 1) {
    return Error::Invalid("event_seq", "type", "event_seq must be a positive integer");
  }
  const int64_t seq = seq_it->get<int64_t>();
  store::Value params[] = {cmd.tenant_id, id, seq};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT o.status, s.status FROM webhook_outbox o JOIN "
                          "webhook_subscriptions s ON s.tenant_id = o.tenant_id AND "
                          "s.subscription_id = o.subscription_id WHERE o.tenant_id = ? AND "
                          "o.subscription_id = ? AND o.event_seq = ?",
                          params));
  if (rows.empty()) return DecideReplayDelivery(id, seq, std::nullopt, "");
  return DecideReplayDelivery(id, seq, rows[0].Text(0), rows[0].Text(1));
}

Result<Json> ListSubscriptions(store::Connection& conn, std::string_view tenant) {
  store::Value params[] = {std::string(tenant), kWebhookSubscriptionsActiveMax};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT subscription_id, url, event_types, status, created_at_us "
                            "FROM webhook_subscriptions WHERE tenant_id = ? AND status = "
                            "'active' ORDER BY created_at_us, subscription_id LIMIT ?",
                            params));
  Json items = Json::array();
  for (const auto& r : rows) items.push_back(SubscriptionJson(r));
  return Json{{"items", std::move(items)}};
}

Result<Json> ListDeliveries(store::Connection& conn, std::string_view tenant,
                            const std::optional<std::string>& status, std::string_view after,
                            size_t limit) {
  std::string sql =
      "SELECT subscription_id, event_seq, event_id, event_type, status, attempts, "
      "next_attempt_at_us, last_status, last_error, created_at_us, updated_at_us "
      "FROM webhook_outbox WHERE tenant_id = ?";
  std::vector<store::Value> params = {std::string(tenant)};
  if (status.has_value()) {
    if (*status != kDeliveryPending && *status != kDeliveryDelivered && *status != kDeliveryDead &&
        *status != kDeliveryCancelled) {
      return Error::Invalid("status", "enum",
                            "status must be pending, delivered, dead or cancelled");
    }
    sql += " AND status = ?";
    params.emplace_back(*status);
  }
  if (!after.empty()) {
    int64_t seq = 0;
    std::string sub;
    OPSBOX_TRY(ParseDeliveryCursor(after, seq, sub));
    sql += " AND (event_seq > ? OR (event_seq = ? AND subscription_id > ?))";
    params.emplace_back(seq);
    params.emplace_back(seq);
    params.emplace_back(sub);
  }
  limit = std::clamp<size_t>(limit, 1, limits::kPageSizeMax);
  sql += " ORDER BY event_seq, subscription_id LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit + 1));
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, params));
  Json items = Json::array();
  for (size_t i = 0; i < rows.size() && i < limit; ++i) items.push_back(DeliveryJson(rows[i]));
  Json next = nullptr;
  if (rows.size() > limit) {
    next = std::to_string(rows[limit - 1].Int(1)) + ":" + rows[limit - 1].Text(0);
  }
  return Json{{"items", std::move(items)}, {"next_cursor", std::move(next)}};
}

}  // namespace opsbox::integrations
