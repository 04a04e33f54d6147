#include "privacy/consent.hpp"

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/assert.hpp"
#include "privacy/governance.hpp"

namespace opsbox::privacy::detail {
namespace {

constexpr int kChannels = static_cast<int>(std::size(kConsentChannels));
constexpr int kSlotBits = 4;  // 3 purposes x 5 channels = 15 slots
static_assert(std::size(kConsentPurposes) * std::size(kConsentChannels) <= (1u << kSlotBits));

// Packed change: at_us << 5 | slot << 1 | granted. Sorting packed values sorts by time.
uint64_t Pack(int64_t at_us, int slot, bool granted) {
  return (static_cast<uint64_t>(at_us) << (kSlotBits + 1)) | (static_cast<uint64_t>(slot) << 1) |
         (granted ? 1u : 0u);
}
int64_t AtOf(uint64_t v) { return static_cast<int64_t>(v >> (kSlotBits + 1)); }
int SlotOf(uint64_t v) { return static_cast<int>((v >> 1) & ((1u << kSlotBits) - 1)); }

bool IsCustomerId(std::string_view id) {
  if (id.empty() || id.size() > kCustomerIdBytesMax) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
  });
}

std::string ListOf(std::span<const std::string_view> names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

}  // namespace

std::optional<int> PurposeIndex(std::string_view purpose) {
  for (size_t i = 0; i < std::size(kConsentPurposes); ++i) {
    if (kConsentPurposes[i] == purpose) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::optional<int> ChannelIndex(std::string_view channel) {
  for (size_t i = 0; i < std::size(kConsentChannels); ++i) {
    if (kConsentChannels[i] == channel) return static_cast<int>(i);
  }
  return std::nullopt;
}

Result<std::optional<bool>> ConsentGrantedInTx(store::Tx& tx, std::string_view tenant,
                                               std::string_view customer_id,
                                               std::string_view purpose,
                                               std::string_view channel) {
  store::Value p[] = {std::string(tenant), std::string(customer_id), std::string(purpose),
                      std::string(channel)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT granted FROM consents WHERE tenant_id = ? "
                                              "AND customer_id = ? AND purpose = ? AND "
                                              "channel = ?",
                                              p));
  if (rows.empty()) return std::optional<bool>();
  return std::optional<bool>(rows[0].Int(0) != 0);
}

Result<ledger::Decision> DecideConsent(const Json& p, bool granted, Instant now) {
  OPSBOX_TRY(CheckObjectKeys(
      p, {"customer_id", "purpose", "channel", "source", "notice_version", "evidence", "at"}));
  OPSBOX_ASSIGN_OR_RETURN(auto customer_id, RequireString(p, "customer_id", kCustomerIdBytesMax));
  if (!IsCustomerId(customer_id)) {
    return Error::Invalid("customer_id", "format",
                          "customer_id must be 1..64 of [A-Za-z0-9_.:-] (e.g. cus_…)");
  }
  OPSBOX_ASSIGN_OR_RETURN(auto purpose, RequireString(p, "purpose", 32));
  if (!PurposeIndex(purpose)) {
    return Error::Invalid("purpose", "enum", "purpose must be one of " + ListOf(kConsentPurposes));
  }
  OPSBOX_ASSIGN_OR_RETURN(auto channel, RequireString(p, "channel", 32));
  if (!ChannelIndex(channel)) {
    return Error::Invalid("channel", "enum", "channel must be one of " + ListOf(kConsentChannels));
  }
  OPSBOX_ASSIGN_OR_RETURN(auto source, RequireString(p, "source", kConsentShortTextBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto notice,
                          RequireString(p, "notice_version", kConsentShortTextBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto evidence, OptionalString(p, "evidence", kConsentTextBytesMax, ""));
  Instant at = now;
  if (auto it = p.find("at"); it != p.end() && !it->is_null()) {
    if (!it->is_string()) return Error::Invalid("at", "type", "at must be an RFC 3339 string");
    OPSBOX_ASSIGN_OR_RETURN(at, ParseRfc3339(it->get_ref<const std::string&>(), "at"));
    if (at > now + kConsentFutureSkewMax) {
      return Error::Invalid("at", "future", "at must not lie in the future");
    }
  }
  Json event{{"customer_id", customer_id}, {"purpose", purpose},       {"channel", channel},
             {"source", source},           {"notice_version", notice}, {"evidence", evidence},
             {"at", FormatRfc3339(at)}};
  ledger::Decision d;
  d.result = Json{{"customer_id", customer_id},
                  {"purpose", purpose},
                  {"channel", channel},
                  {"status", granted ? "granted" : "withdrawn"},
                  {"at", FormatRfc3339(at)}};
  d.events.push_back({granted ? "consent_recorded" : "consent_withdrawn", std::move(event)});
  return d;
}

Status ProjectConsent(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
  const bool granted = e.type == "consent_recorded";
  OPSBOX_ASSIGN_OR_RETURN(Instant at, ParseRfc3339(p->at("at").get<std::string>(), "at"));
  const std::string customer = p->at("customer_id").get<std::string>();
  const std::string purpose = p->at("purpose").get<std::string>();
  const std::string channel = p->at("channel").get<std::string>();
  const std::string source = p->at("source").get<std::string>();
  const std::string notice = p->at("notice_version").get<std::string>();
  std::vector<store::Value> h{e.tenant_id, e.seq,
                              customer,    purpose,
                              channel,     int64_t{granted ? 1 : 0},
                              at.us,       source,
                              notice,      p->value("evidence", std::string()),
                              e.actor,     e.recorded_at.us};
  OPSBOX_TRY(tx.Exec(
      "INSERT INTO consent_changes (tenant_id, seq, customer_id, purpose, channel, granted, "
      "at_us, source, notice_version, evidence, actor, recorded_at_us) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      h));
  // The current state is the latest change by `at`; a backdated change does not override it.
  std::vector<store::Value> c{e.tenant_id, customer, purpose, channel, int64_t{granted ? 1 : 0},
                              at.us,       source,   notice,  e.seq};
  OPSBOX_TRY(tx.Exec(
      "INSERT INTO consents (tenant_id, customer_id, purpose, channel, granted, at_us, source, "
      "notice_version, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (tenant_id, customer_id, purpose, channel) DO UPDATE SET "
      "granted = excluded.granted, at_us = excluded.at_us, source = excluded.source, "
      "notice_version = excluded.notice_version, seq = excluded.seq "
      "WHERE consents.at_us <= excluded.at_us",
      c));
  return Ok();
}

void ConsentIndex::ApplyLocked(std::string_view tenant, std::string_view customer_id, int slot,
                               bool granted, int64_t at_us) {
  OPSBOX_ASSERT(at_us >= 0);
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) t = tenants_.emplace(std::string(tenant), Customers{}).first;
  auto c = t->second.find(customer_id);
  if (c == t->second.end()) c = t->second.emplace(std::string(customer_id), 0).first;
  auto& changes = c->second;
  // Insert after every change with the same (time, slot), so the later one wins.
  const uint64_t key = Pack(at_us, slot, true);
  auto pos = std::upper_bound(changes.begin(), changes.end(), key,
                              [](uint64_t k, uint64_t v) { return (k >> 1) < (v >> 1); });
  changes.insert(pos, Pack(at_us, slot, granted));
}

void ConsentIndex::Apply(std::string_view tenant, std::string_view customer_id, int purpose,
                         int channel, bool granted, Instant at) {
  std::unique_lock lock(mu_);
  ApplyLocked(tenant, customer_id, purpose * kChannels + channel, granted, at.us);
}

bool ConsentIndex::Allows(std::string_view tenant, std::string_view customer_id,
                          std::string_view purpose, std::string_view channel, Instant now) const {
  const auto p = PurposeIndex(purpose);
  const auto ch = ChannelIndex(channel);
  if (!p || !ch) return false;
  const int slot = *p * kChannels + *ch;
  std::shared_lock lock(mu_);
  const auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return false;
  const auto c = t->second.find(customer_id);
  if (c == t->second.end()) return false;
  const auto& changes = c->second;
  for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
    if (AtOf(*it) > now.us || SlotOf(*it) != slot) continue;
    return (*it & 1u) != 0;
  }
  return false;
}

void ConsentIndex::OnCommitted(const std::vector<ledger::Event>& events) {
  for (const auto& e : events) {
    if (e.type != "consent_recorded" && e.type != "consent_withdrawn") continue;
    Json p = Json::parse(e.payload, nullptr, /*allow_exceptions=*/false);
    if (!p.is_object()) continue;
    const auto purpose = PurposeIndex(p.value("purpose", std::string()));
    const auto channel = ChannelIndex(p.value("channel", std::string()));
    auto at = ParseRfc3339(p.value("at", std::string()), "at");
    if (!purpose || !channel || !at.ok()) continue;
    Apply(e.tenant_id, p.value("customer_id", std::string()), *purpose, *channel,
          e.type == "consent_recorded", *at);
  }
}

Status ConsentIndex::Load(store::Connection& conn) {
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT tenant_id, customer_id, purpose, channel, granted, at_us "
                            "FROM consent_changes ORDER BY tenant_id, seq"));
  std::unique_lock lock(mu_);
  tenants_.clear();
  for (const auto& r : rows) {
    const auto purpose = PurposeIndex(r.Text(2));
    const auto channel = ChannelIndex(r.Text(3));
    if (!purpose || !channel) continue;
    ApplyLocked(r.Text(0), r.Text(1), *purpose * kChannels + *channel, r.Int(4) != 0, r.Int(5));
  }
  return Ok();
}

size_t ConsentIndex::customers() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (const auto& [tenant, customers] : tenants_) n += customers.size();
  return n;
}

Result<Json> CustomerConsents(store::Connection& conn, std::string_view tenant,
                              std::string_view customer_id, size_t history_max) {
  store::Value key[] = {std::string(tenant), std::string(customer_id)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto current, conn.Query("SELECT purpose, channel, granted, at_us, source, notice_version "
                               "FROM consents WHERE tenant_id = ? AND customer_id = ? "
                               "ORDER BY purpose, channel",
                               key));
  Json out{{"customer_id", customer_id}, {"current", Json::array()}, {"history", Json::array()}};
  for (const auto& r : current) {
    out["current"].push_back(Json{{"purpose", r.Text(0)},
                                  {"channel", r.Text(1)},
                                  {"status", r.Int(2) ? "granted" : "withdrawn"},
                                  {"at", FormatRfc3339(Instant{r.Int(3)})},
                                  {"source", r.Text(4)},
                                  {"notice_version", r.Text(5)}});
  }
  store::Value hk[] = {std::string(tenant), std::string(customer_id),
                       static_cast<int64_t>(history_max)};
  OPSBOX_ASSIGN_OR_RETURN(
      auto history,
      conn.Query("SELECT seq, purpose, channel, granted, at_us, source, notice_version, evidence, "
                 "actor, recorded_at_us FROM consent_changes WHERE tenant_id = ? AND "
                 "customer_id = ? ORDER BY seq DESC LIMIT ?",
                 hk));
  for (const auto& r : history) {
    out["history"].push_back(Json{{"seq", r.Int(0)},
                                  {"purpose", r.Text(1)},
                                  {"channel", r.Text(2)},
                                  {"status", r.Int(3) ? "granted" : "withdrawn"},
                                  {"at", FormatRfc3339(Instant{r.Int(4)})},
                                  {"source", r.Text(5)},
                                  {"notice_version", r.Text(6)},
                                  {"evidence", r.Text(7)},
                                  {"actor", r.Text(8)},
                                  {"recorded_at", FormatRfc3339(Instant{r.Int(9)})}});
  }
  return out;
}

}  // namespace opsbox::privacy::detail
