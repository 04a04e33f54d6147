// The consent registry (internal to privacy and api/privacy_api.cpp): validation and decision of
// record_consent / withdraw_consent, the projection (consent_changes: history; consents: current
// state), the in-memory index behind Governance::ConsentAllows, and the queries of the API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/event.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox::privacy::detail {

inline constexpr size_t kCustomerIdBytesMax = 64;
inline constexpr size_t kConsentShortTextBytesMax = 200;  // source, notice_version
// A consent change may name a time up to this far ahead of the command (clock skew).
inline constexpr Duration kConsentFutureSkewMax = Duration::Minutes(5);

// Index of a purpose / channel in kConsentPurposes / kConsentChannels, or nullopt.
std::optional<int> PurposeIndex(std::string_view purpose);
std::optional<int> ChannelIndex(std::string_view channel);

// Pure: validates a record_consent / withdraw_consent payload and returns the event
// (consent_recorded / consent_withdrawn) with `at` filled (RFC 3339).
Result<ledger::Decision> DecideConsent(const Json& payload, bool granted, Instant now);

// The current state of one consent slot read through `tx` (the writer's, so changes earlier in
// the same batch count): true granted, false withdrawn, nullopt never recorded (issue #14: SMS
// opt-out is honoured at once).
Result<std::optional<bool>> ConsentGrantedInTx(store::Tx& tx, std::string_view tenant,
                                               std::string_view customer_id,
                                               std::string_view purpose, std::string_view channel);

// Projects consent_recorded / consent_withdrawn.
Status ProjectConsent(store::Tx& tx, const ledger::Event& event);

// Thread-safe in-memory index: tenant -> customer -> changes sorted by time. One change takes
// 8 bytes (time in microseconds, purpose x channel slot, granted bit).
class ConsentIndex {
 public:
  // Applies one change; a change with the same time as an earlier one for the same slot wins.
  void Apply(std::string_view tenant, std::string_view customer_id, int purpose, int channel,
             bool granted, Instant at);
  bool Allows(std::string_view tenant, std::string_view customer_id, std::string_view purpose,
              std::string_view channel, Instant now) const;
  // Applies the committed consent events of a batch (payloads parsed here).
  void OnCommitted(const std::vector<ledger::Event>& events);
  // Replaces the index by every change in consent_changes (ordered by seq).
  Status Load(store::Connection& conn);
  size_t customers() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Customers = std::unordered_map<std::string, std::vector<uint64_t>, Hash, std::equal_to<>>;
  void ApplyLocked(std::string_view tenant, std::string_view customer_id, int slot, bool granted,
                   int64_t at_us);
  mutable std::shared_mutex mu_;
  std::map<std::string, Customers, std::less<>> tenants_;
};

// GET /customers/{id}/consents: {customer_id, current:[{purpose, channel, status, at, source,
// notice_version}], history:[... newest first, at most `history_max`]}.
Result<Json> CustomerConsents(store::Connection& conn, std::string_view tenant,
                              std::string_view customer_id, size_t history_max);

}  // namespace opsbox::privacy::detail
