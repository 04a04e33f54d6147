// Client contracts and monthly invoices (issue #13, "Contracts and billing"): a BPO's statement
// of work with one client tenant (KPI targets, a penalty per missed KPI capped per month,
// bonuses, the pricing model, yearly indexation) and the invoice of any month computed from the
// ledger's KPI aggregates (src/kpis), every figure with the KPI query that produced it.
//
// Contract JSON (set_contract {contract} -> contract_set {version, contract}; versions kept in
// billing_contracts, migration 16):
//   {client_name, currency (ISO 4217, 3 capitals), zone (IANA; months are local to it),
//    effective_month "YYYY-MM" (not before the current month in that zone: a past invoice
//    never changes), pricing: {per_seat_minor?, per_productive_hour_minor?,
//    per_contact_minor?} (at least one > 0), targets: [{kpi, op ">="|"<=", target}],
//    penalty_bp_per_miss? (default 100 = 1% of the invoice), penalty_cap_bp? (default 1000 =
//    10%), bonuses?: [{kpi, op, target, bonus_bp}], indexation_bp_per_year? (default 0)}
// Limits: kTargetsMax targets and bonuses each; amounts 0..kAmountMinorMax; basis points
// 0..10000; KPIs from the KPI catalogue.
//
// The invoice of month M uses the contract version in force in M (the latest effective_month
// <= M). Usage, from the KPI aggregates over M's local days:
//   seats              agents who handled at least one contact in the month (FTE proxy)
//   productive hours   talk + after-contact work of handled contacts
//   contacts           contacts handled
// Lines: quantity x unit price (indexed: unit x (1 + bp/10000)^whole years since the
// contract's first effective month, rounded half away from zero to the minor unit);
// subtotal; each target missed (a KPI with no value counts as missed) costs penalty_bp_per_miss
// of the subtotal, all of them together at most penalty_cap_bp; each bonus met adds bonus_bp;
// total = subtotal - penalty + bonus. Money is int64 minor units throughout.
//
// Not here yet: outcome-based pricing (per promise kept, per amount recovered) waits for
// collections' promises and payments; PDF output.
//
// Thread safety: pure functions are reentrant; Register once before the writer starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox {
class ZoneRules;
}

namespace opsbox::billing {

inline constexpr std::string_view kSetContract = "set_contract";
inline constexpr std::string_view kContractSet = "contract_set";
inline constexpr std::string_view kPermRead = "billing.read";
inline constexpr std::string_view kPermManage = "billing.manage";

inline constexpr size_t kTargetsMax = 32;
inline constexpr int64_t kAmountMinorMax = 1'000'000'000'000;
inline constexpr int64_t kBasisPointsMax = 10000;
inline constexpr int64_t kPenaltyBpDefault = 100;
inline constexpr int64_t kPenaltyCapBpDefault = 1000;
inline constexpr size_t kClientNameBytesMax = 200;

struct Target {
  std::string kpi;
  std::string op;  // ">=" or "<="
  double target = 0;
  int64_t bonus_bp = 0;  // bonuses only
};

struct Contract {
  std::string client_name;
  std::string currency;
  std::string zone = "UTC";
  std::string effective_month;  // YYYY-MM
  int64_t per_seat_minor = 0;
  int64_t per_productive_hour_minor = 0;
  int64_t per_contact_minor = 0;
  std::vector<Target> targets;
  int64_t penalty_bp_per_miss = kPenaltyBpDefault;
  int64_t penalty_cap_bp = kPenaltyCapBpDefault;
  std::vector<Target> bonuses;
  int64_t indexation_bp_per_year = 0;
};

// Pure. Errors name the field (contract.pricing.per_seat_minor, contract.targets[2].kpi, …).
Result<Contract> ParseContract(const Json& j);
Json ContractToJson(const Contract& c);

// "YYYY-MM" -> months since 0000-01 (year * 12 + month - 1); nullopt when malformed.
std::optional<int64_t> ParseMonth(std::string_view month);
std::string FormatMonth(int64_t months);

struct Usage {
  int64_t seats = 0;
  int64_t productive_us = 0;
  int64_t contacts = 0;
  // Each KPI the contract names (targets and bonuses), as the KPI read answered it.
  std::vector<std::pair<std::string, std::optional<double>>> kpis;
};

struct Line {
  std::string item;         // "seats", "productive_hours", "contacts"
  std::string quantity;     // as printed: "12", "1234.50"
  int64_t unit_minor = 0;   // indexed unit price
  int64_t amount_minor = 0;
};

struct Check {
  std::string kpi;
  std::string op;
  double target = 0;
  std::optional<double> actual;
  bool met = false;
  int64_t bp = 0;  // penalty (targets) or bonus (bonuses) in basis points of the subtotal
};

struct Invoice {
  std::string month;
  std::string currency;
  int contract_version = 0;
  int64_t indexation_years = 0;
  std::vector<Line> lines;
  int64_t subtotal_minor = 0;
  std::vector<Check> targets;
  int64_t penalty_bp = 0;  // after the cap
  int64_t penalty_minor = 0;
  std::vector<Check> bonuses;
  int64_t bonus_bp = 0;
  int64_t bonus_minor = 0;
  int64_t total_minor = 0;
};

// Pure: the invoice of `month` ("YYYY-MM") under `c` (version `version`) for `usage`.
Invoice ComputeInvoice(const Contract& c, int version, std::string_view month, const Usage& usage);

// Half away from zero: amount * bp / 10000 in minor units.
int64_t ApplyBasisPoints(int64_t amount_minor, int64_t bp);

// Store: the command, its projection and reads.
void Register(ledger::Registry& registry);

struct StoredContract {
  int version = 0;
  Contract contract;
  std::string actor;
  Instant set_at;
};
// The versions, oldest first.
Result<std::vector<StoredContract>> ListContracts(store::Connection& c, const std::string& tenant);

// The month's invoice from the KPI aggregates (kNotFound when no contract is in force in the
// month). `base_path` is the tenant's API path, for the evidence links.
Result<Json> InvoiceJson(store::Connection& c, const std::string& tenant, std::string_view month,
                         const std::string& base_path);
std::string InvoiceCsv(const Json& invoice);
std::string InvoiceHtml(const Json& invoice);

}  // namespace opsbox::billing
