// Contracts and invoices: parsing, the pure invoice arithmetic, the set_contract command, its
// projection and the invoice read over the KPI aggregates.
#include "billing/billing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/zone.hpp"
#include "kpis/kpis.hpp"
#include "ledger/event.hpp"

namespace opsbox::billing {
namespace {

using store::Value;

Error Bad(const std::string& field, std::string rule, std::string message) {
  return Error::Invalid("contract." + field, std::move(rule), std::move(message));
}

Result<int64_t> Amount(const Json& j, const std::string& key, const std::string& field) {
  if (!j.contains(key)) return int64_t{0};
  const Json& v = j[key];
  if (!v.is_number_integer()) return Bad(field, "type", field + " must be an integer (minor units)");
  const int64_t a = v.get<int64_t>();
  if (a < 0 || a > kAmountMinorMax) {
    return Bad(field, "range", field + " must be 0.." + std::to_string(kAmountMinorMax));
  }
  return a;
}

Result<int64_t> BasisPoints(const Json& j, const std::string& key, const std::string& field,
                            int64_t fallback) {
  if (!j.contains(key)) return fallback;
  const Json& v = j[key];
  if (!v.is_number_integer()) return Bad(field, "type", field + " must be an integer (basis points)");
  const int64_t bp = v.get<int64_t>();
  if (bp < 0 || bp > kBasisPointsMax) {
    return Bad(field, "range", field + " must be 0..10000 basis points");
  }
  return bp;
}

Result<std::vector<Target>> Targets(const Json& j, const std::string& key, bool bonus) {
  std::vector<Target> out;
  if (!j.contains(key)) return out;
  if (!j[key].is_array()) return Bad(key, "type", key + " must be an array");
  if (j[key].size() > kTargetsMax) {
    return Bad(key, "max_items", key + " holds at most " + std::to_string(kTargetsMax));
  }
  for (size_t i = 0; i < j[key].size(); ++i) {
    const Json& t = j[key][i];
    const std::string f = key + "[" + std::to_string(i) + "]";
    if (!t.is_object()) return Bad(f, "type", f + " must be an object");
    Target x;
    if (!t.contains("kpi") || !t["kpi"].is_string() ||
        kpis::FindKpi(t["kpi"].get<std::string>()) == nullptr) {
      return Bad(f + ".kpi", "catalogue", f + ".kpi must name a KPI of the catalogue");
    }
    x.kpi = t["kpi"].get<std::string>();
    x.op = t.value("op", "");
    if (x.op != ">=" && x.op != "<=") return Bad(f + ".op", "enum", f + ".op is \">=\" or \"<=\"");
    if (!t.contains("target") || !t["target"].is_number()) {
      return Bad(f + ".target", "type", f + ".target must be a number");
    }
    x.target = t["target"].get<double>();
    if (!std::isfinite(x.target)) return Bad(f + ".target", "finite", f + ".target must be finite");
    if (bonus) {
      OPSBOX_ASSIGN_OR_RETURN(x.bonus_bp, BasisPoints(t, "bonus_bp", f + ".bonus_bp", -1));
      if (x.bonus_bp < 0) return Bad(f + ".bonus_bp", "required", f + ".bonus_bp is required");
    }
    out.push_back(std::move(x));
  }
  return out;
}

bool Meets(const std::string& op, std::optional<double> actual, double target) {
  if (!actual) return false;
  return op == ">=" ? *actual >= target : *actual <= target;
}

// unit x (1 + bp/10000)^years, half away from zero.
int64_t Indexed(int64_t unit, int64_t bp, int64_t years) {
  long double v = static_cast<long double>(unit);
  for (int64_t i = 0; i < years; ++i) v *= 1.0L + static_cast<long double>(bp) / 10000.0L;
  return static_cast<int64_t>(std::llround(v));
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

Json CheckJson(const Check& c, bool bonus) {
  Json j{{"kpi", c.kpi}, {"op", c.op}, {"target", c.target},
         {"actual", c.actual ? Json(*c.actual) : Json()}, {"met", c.met}};
  j[bonus ? "bonus_bp" : "penalty_bp"] = c.bp;
  return j;
}

std::string Html(std::string_view s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string Money(int64_t minor) {
  const bool neg = minor < 0;
  const int64_t a = neg ? -minor : minor;
  std::string s = std::to_string(a / 100) + "." + (a % 100 < 10 ? "0" : "") + std::to_string(a % 100);
  return neg ? "-" + s : s;
}


// The first instant of local month `months` (ParseMonth's count) in `zone`, as UTC us.
int64_t MonthStartUs(const ZoneRules& zone, int64_t months) {
  const int64_t year = months / 12;
  const unsigned month = static_cast<unsigned>(months % 12 + 1);
  const int64_t local_s = DaysFromCivil(year, month, 1) * 86400;
  return zone.ResolveLocal(local_s).utc_s * 1000000;
}

}  // namespace

std::optional<int64_t> ParseMonth(std::string_view m) {
  if (m.size() != 7 || m[4] != '-') return std::nullopt;
  for (size_t i : {0u, 1u, 2u, 3u, 5u, 6u}) {
    if (m[i] < '0' || m[i] > '9') return std::nullopt;
  }
  const int64_t year = std::stoll(std::string(m.substr(0, 4)));
  const int64_t month = std::stoll(std::string(m.substr(5, 2)));
  if (month < 1 || month > 12 || year < 1970) return std::nullopt;
  return year * 12 + month - 1;
}

std::string FormatMonth(int64_t months) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld", static_cast<long long>(months / 12),
                static_cast<long long>(months % 12 + 1));
  return buf;
}

int64_t ApplyBasisPoints(int64_t amount, int64_t bp) {
  const __int128 p = static_cast<__int128>(amount) * bp;
  const __int128 q = p / 10000, r = p % 10000;
  if (r * 2 >= 10000) return static_cast<int64_t>(q + 1);
  if (r * 2 <= -10000) return static_cast<int64_t>(q - 1);
  return static_cast<int64_t>(q);
}

Result<Contract> ParseContract(const Json& j) {
  if (!j.is_object()) return Error::Invalid("contract", "type", "contract must be an object");
  static const char* kKnown[] = {"client_name", "currency", "zone", "effective_month", "pricing",
                                 "targets", "penalty_bp_per_miss", "penalty_cap_bp", "bonuses",
                                 "indexation_bp_per_year"};
  for (const auto& [k, v] : j.items()) {
    if (std::none_of(std::begin(kKnown), std::end(kKnown), [&](const char* x) { return k == x; })) {
      return Bad(k, "unknown_field", k + " is not a field of a contract");
    }
  }
  Contract c;
  c.client_name = j.value("client_name", "");
  if (c.client_name.empty() || c.client_name.size() > kClientNameBytesMax) {
    return Bad("client_name", "length", "client_name must be 1..200 bytes");
  }
  c.currency = j.value("currency", "");
  if (c.currency.size() != 3 ||
      !std::all_of(c.currency.begin(), c.currency.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; })) {
    return Bad("currency", "iso4217", "currency must be three capital letters (ISO 4217)");
  }
  c.zone = j.value("zone", "UTC");
  if (auto z = ZoneRules::Load(c.zone); !z.ok()) {
    return Bad("zone", z.error().rule, z.error().message);
  }
  c.effective_month = j.value("effective_month", "");
  if (!ParseMonth(c.effective_month)) {
    return Bad("effective_month", "format", "effective_month must be YYYY-MM");
  }
  if (!j.contains("pricing") || !j["pricing"].is_object()) {
    return Bad("pricing", "required", "pricing is required (an object)");
  }
  const Json& p = j["pricing"];
  for (const auto& [k, v] : p.items()) {
    if (k != "per_seat_minor" && k != "per_productive_hour_minor" && k != "per_contact_minor") {
      return Bad("pricing." + k, "unknown_field",
                 k + " is not a pricing model here (per_seat_minor, per_productive_hour_minor, "
                     "per_contact_minor)");
    }
  }
  OPSBOX_ASSIGN_OR_RETURN(c.per_seat_minor, Amount(p, "per_seat_minor", "pricing.per_seat_minor"));
  OPSBOX_ASSIGN_OR_RETURN(c.per_productive_hour_minor,
                          Amount(p, "per_productive_hour_minor", "pricing.per_productive_hour_minor"));
  OPSBOX_ASSIGN_OR_RETURN(c.per_contact_minor,
                          Amount(p, "per_contact_minor", "pricing.per_contact_minor"));
  if (c.per_seat_minor == 0 && c.per_productive_hour_minor == 0 && c.per_contact_minor == 0) {
    return Bad("pricing", "some_price", "pricing needs at least one price above 0");
  }
  OPSBOX_ASSIGN_OR_RETURN(c.targets, Targets(j, "targets", false));
  OPSBOX_ASSIGN_OR_RETURN(c.bonuses, Targets(j, "bonuses", true));
  OPSBOX_ASSIGN_OR_RETURN(c.penalty_bp_per_miss,
                          BasisPoints(j, "penalty_bp_per_miss", "penalty_bp_per_miss", kPenaltyBpDefault));
  OPSBOX_ASSIGN_OR_RETURN(c.penalty_cap_bp,
                          BasisPoints(j, "penalty_cap_bp", "penalty_cap_bp", kPenaltyCapBpDefault));
  OPSBOX_ASSIGN_OR_RETURN(c.indexation_bp_per_year,
                          BasisPoints(j, "indexation_bp_per_year", "indexation_bp_per_year", 0));
  return c;
}

Json ContractToJson(const Contract& c) {
  auto targets = [](const std::vector<Target>& ts, bool bonus) {
    Json a = Json::array();
    for (const auto& t : ts) {
      Json x{{"kpi", t.kpi}, {"op", t.op}, {"target", t.target}};
      if (bonus) x["bonus_bp"] = t.bonus_bp;
      a.push_back(std::move(x));
    }
    return a;
  };
  return Json{{"client_name", c.client_name},
              {"currency", c.currency},
              {"zone", c.zone},
              {"effective_month", c.effective_month},
              {"pricing", {{"per_seat_minor", c.per_seat_minor},
                           {"per_productive_hour_minor", c.per_productive_hour_minor},
                           {"per_contact_minor", c.per_contact_minor}}},
              {"targets", targets(c.targets, false)},
              {"penalty_bp_per_miss", c.penalty_bp_per_miss},
              {"penalty_cap_bp", c.penalty_cap_bp},
              {"bonuses", targets(c.bonuses, true)},
              {"indexation_bp_per_year", c.indexation_bp_per_year}};
}

Invoice ComputeInvoice(const Contract& c, int version, std::string_view month, const Usage& u) {
  Invoice inv;
  inv.month = std::string(month);
  inv.currency = c.currency;
  inv.contract_version = version;
  const int64_t m = ParseMonth(month).value_or(0);
  const int64_t start = ParseMonth(c.effective_month).value_or(m);
  inv.indexation_years = std::max<int64_t>(0, (m - start) / 12);
  auto line = [&](std::string item, std::string qty_text, double qty, int64_t unit) {
    if (unit == 0) return;
    const int64_t indexed = Indexed(unit, c.indexation_bp_per_year, inv.indexation_years);
    const int64_t amount = static_cast<int64_t>(std::llround(static_cast<long double>(indexed) * qty));
    inv.lines.push_back(Line{std::move(item), std::move(qty_text), indexed, amount});
    inv.subtotal_minor += amount;
  };
  line("seats", std::to_string(u.seats), static_cast<double>(u.seats), c.per_seat_minor);
  // Productive hours to the hundredth of an hour, as printed.
  const double hours = std::round(static_cast<double>(u.productive_us) / 3.6e9 * 100.0) / 100.0;
  line("productive_hours", Fixed(hours, 2), hours, c.per_productive_hour_minor);
  line("contacts", std::to_string(u.contacts), static_cast<double>(u.contacts), c.per_contact_minor);
  auto actual = [&](const std::string& kpi) -> std::optional<double> {
    for (const auto& [k, v] : u.kpis) {
      if (k == kpi) return v;
    }
    return std::nullopt;
  };
  int64_t penalty = 0;
  for (const auto& t : c.targets) {
    Check ch{t.kpi, t.op, t.target, actual(t.kpi), false, 0};
    ch.met = Meets(t.op, ch.actual, t.target);
    if (!ch.met) {
      ch.bp = c.penalty_bp_per_miss;
      penalty += ch.bp;
    }
    inv.targets.push_back(std::move(ch));
  }
  inv.penalty_bp = std::min(penalty, c.penalty_cap_bp);
  inv.penalty_minor = ApplyBasisPoints(inv.subtotal_minor, inv.penalty_bp);
  for (const auto& b : c.bonuses) {
    Check ch{b.kpi, b.op, b.target, actual(b.kpi), false, 0};
    ch.met = Meets(b.op, ch.actual, b.target);
    if (ch.met) {
      ch.bp = b.bonus_bp;
      inv.bonus_bp += b.bonus_bp;
    }
    inv.bonuses.push_back(std::move(ch));
  }
  inv.bonus_minor = ApplyBasisPoints(inv.subtotal_minor, inv.bonus_bp);
  inv.total_minor = inv.subtotal_minor - inv.penalty_minor + inv.bonus_minor;
  return inv;
}

// ---- store ----------------------------------------------------------------------------------

namespace {

Result<ledger::Decision> HandleSetContract(store::Tx& tx, const ledger::Command& cmd, Instant now,
                                           Random&) {
  if (!cmd.payload.is_object() || !cmd.payload.contains("contract")) {
    return Error::Invalid("contract", "required", "contract is required");
  }
  OPSBOX_ASSIGN_OR_RETURN(Contract c, ParseContract(cmd.payload["contract"]));
  OPSBOX_ASSIGN_OR_RETURN(ZoneRules zone, ZoneRules::Load(c.zone));
  const int64_t local_s = now.us / 1000000 + zone.OffsetAtUtcS(now.us / 1000000);
  int64_t y = 0;
  unsigned mo = 0, d = 0;
  CivilFromDays(local_s >= 0 ? local_s / 86400 : (local_s - 86399) / 86400, y, mo, d);
  const int64_t current = y * 12 + mo - 1;
  if (*ParseMonth(c.effective_month) < current) {
    return Error::Invalid("contract.effective_month", "not_past",
                          "effective_month must not be before " + FormatMonth(current) +
                              ": invoices of past months never change");
  }
  Value p[] = {cmd.tenant_id};
  OPSBOX_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT COALESCE(MAX(version), 0) FROM billing_contracts WHERE tenant_id = ?", p));
  const int64_t version = (rows.empty() ? 0 : rows[0].Int(0)) + 1;
  ledger::Decision dec;
  dec.events.push_back(ledger::NewEvent{std::string(kContractSet),
                                        Json{{"version", version}, {"contract", ContractToJson(c)}}});
  dec.result = Json{{"version", version}, {"effective_month", c.effective_month}};
  return dec;
}

Status ProjectContractSet(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
  const Json& c = (*p)["contract"];
  Value v[] = {e.tenant_id,      (*p)["version"].get<int64_t>(), c["effective_month"].get<std::string>(),
               c.dump(),         e.actor,                        e.recorded_at.us,
               e.seq};
  auto r = tx.Exec("INSERT INTO billing_contracts (tenant_id, version, effective_month, contract, "
                   "actor, set_at_us, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   v);
  if (!r.ok()) return r.error();
  return Ok();
}

}  // namespace

void Register(ledger::Registry& registry) {
  registry.AddCommand(std::string(kSetContract), HandleSetContract);
  registry.AddProjector(std::string(kContractSet), ProjectContractSet);
}

Result<std::vector<StoredContract>> ListContracts(store::Connection& conn, const std::string& tenant) {
  Value p[] = {tenant};
  OPSBOX_ASSIGN_OR_RETURN(auto rows,
                          conn.Query("SELECT version, contract, actor, set_at_us FROM "
                                     "billing_contracts WHERE tenant_id = ? ORDER BY version",
                                     p));
  std::vector<StoredContract> out;
  for (const auto& r : rows) {
    Json j = Json::parse(r.Text(1), nullptr, false);
    OPSBOX_ASSIGN_OR_RETURN(Contract c, ParseContract(j));
    out.push_back(StoredContract{static_cast<int>(r.Int(0)), std::move(c), r.Text(2), Instant{r.Int(3)}});
  }
  return out;
}

Result<Json> InvoiceJson(store::Connection& conn, const std::string& tenant, std::string_view month,
                         const std::string& base_path) {
  const auto m = ParseMonth(month);
  if (!m) return Error::Invalid("month", "format", "month must be YYYY-MM");
  OPSBOX_ASSIGN_OR_RETURN(auto versions, ListContracts(conn, tenant));
  const StoredContract* in_force = nullptr;
  for (const auto& v : versions) {
    if (*ParseMonth(v.contract.effective_month) <= *m &&
        (in_force == nullptr ||
         *ParseMonth(v.contract.effective_month) >= *ParseMonth(in_force->contract.effective_month))) {
      in_force = &v;
    }
  }
  if (in_force == nullptr) return Error::NotFound("no contract is in force in " + std::string(month));
  const Contract& c = in_force->contract;
  OPSBOX_ASSIGN_OR_RETURN(ZoneRules zone, ZoneRules::Load(c.zone));
  const std::string from = FormatRfc3339(Instant{MonthStartUs(zone, *m)});
  const std::string to = FormatRfc3339(Instant{MonthStartUs(zone, *m + 1)});
  std::string names = "handled";
  for (const auto* list : {&c.targets, &c.bonuses}) {
    for (const auto& t : *list) {
      if (names.find(t.kpi) == std::string::npos) names += "," + t.kpi;
    }
  }
  OPSBOX_ASSIGN_OR_RETURN(auto totals_q, kpis::ParseQuery(from, to, "", names, c.zone));
  OPSBOX_ASSIGN_OR_RETURN(auto totals, kpis::Run(conn, tenant, totals_q, zone));
  OPSBOX_ASSIGN_OR_RETURN(auto agents_q, kpis::ParseQuery(from, to, "agent", "handled", c.zone));
  OPSBOX_ASSIGN_OR_RETURN(auto agents, kpis::Run(conn, tenant, agents_q, zone));
  Usage u;
  kpis::Counters sum;
  for (const auto& g : totals) sum += g.c;
  u.contacts = sum.handled;
  u.productive_us = sum.talk_us + sum.wrap_us;
  for (const auto& g : agents) {
    if (!g.keys[0].empty() && g.c.handled > 0) ++u.seats;
  }
  for (const auto* list : {&c.targets, &c.bonuses}) {
    // The figure as the KPI read reports it (its evidence link shows the same number).
    for (const auto& t : *list) u.kpis.emplace_back(t.kpi, kpis::Reported(t.kpi, sum));
  }
  const Invoice inv = ComputeInvoice(c, in_force->version, month, u);
  const std::string evidence = base_path + "/kpis?from=" + from + "&to=" + to + "&zone=" + c.zone;
  Json lines = Json::array();
  for (const auto& l : inv.lines) {
    lines.push_back(Json{{"item", l.item}, {"quantity", l.quantity}, {"unit_minor", l.unit_minor},
                         {"amount_minor", l.amount_minor},
                         {"evidence", evidence + (l.item == "seats" ? "&group_by=agent&kpi=handled"
                                                                     : "&kpi=handled")}});
  }
  Json targets = Json::array(), bonuses = Json::array();
  for (const auto& t : inv.targets) {
    Json j = CheckJson(t, false);
    j["evidence"] = evidence + "&kpi=" + t.kpi;
    targets.push_back(std::move(j));
  }
  for (const auto& b : inv.bonuses) {
    Json j = CheckJson(b, true);
    j["evidence"] = evidence + "&kpi=" + b.kpi;
    bonuses.push_back(std::move(j));
  }
  return Json{{"month", inv.month},
              {"client_name", c.client_name},
              {"currency", inv.currency},
              {"zone", c.zone},
              {"from", from},
              {"to", to},
              {"contract_version", inv.contract_version},
              {"indexation_years", inv.indexation_years},
              {"usage", {{"seats", u.seats}, {"productive_hours", Fixed(static_cast<double>(u.productive_us) / 3.6e9, 2)},
                         {"contacts", u.contacts}}},
              {"lines", std::move(lines)},
              {"subtotal_minor", inv.subtotal_minor},
              {"targets", std::move(targets)},
              {"penalty_bp", inv.penalty_bp},
              {"penalty_minor", inv.penalty_minor},
              {"bonuses", std::move(bonuses)},
              {"bonus_bp", inv.bonus_bp},
              {"bonus_minor", inv.bonus_minor},
              {"total_minor", inv.total_minor}};
}

std::string InvoiceCsv(const Json& inv) {
  std::string out = "section,item,quantity,unit_minor,amount_minor,evidence\r\n";
  for (const auto& l : inv["lines"]) {
    out += "line," + kpis::CsvField(l["item"].get<std::string>()) + "," + l["quantity"].get<std::string>() +
           "," + std::to_string(l["unit_minor"].get<int64_t>()) + "," +
           std::to_string(l["amount_minor"].get<int64_t>()) + "," + kpis::CsvField(l["evidence"].get<std::string>()) + "\r\n";
  }
  out += "subtotal,,,," + std::to_string(inv["subtotal_minor"].get<int64_t>()) + ",\r\n";
  for (const auto& t : inv["targets"]) {
    out += "target," + kpis::CsvField(t["kpi"].get<std::string>() + " " + t["op"].get<std::string>() + " " +
                           t["target"].dump()) +
           "," + (t["actual"].is_null() ? std::string() : t["actual"].dump()) + ",," +
           (t["met"].get<bool>() ? "met" : "missed") + "," + kpis::CsvField(t["evidence"].get<std::string>()) + "\r\n";
  }
  out += "penalty,," + std::to_string(inv["penalty_bp"].get<int64_t>()) + " bp,," +
         std::to_string(-inv["penalty_minor"].get<int64_t>()) + ",\r\n";
  out += "bonus,," + std::to_string(inv["bonus_bp"].get<int64_t>()) + " bp,," +
         std::to_string(inv["bonus_minor"].get<int64_t>()) + ",\r\n";
  out += "total,,,," + std::to_string(inv["total_minor"].get<int64_t>()) + ",\r\n";
  return out;
}

std::string InvoiceHtml(const Json& inv) {
  const std::string cur = inv["currency"].get<std::string>();
  std::string h = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Invoice " +
                  Html(inv["client_name"].get<std::string>()) + " " + Html(inv["month"].get<std::string>()) +
                  "</title></head><body><h1>Invoice: " + Html(inv["client_name"].get<std::string>()) +
                  ", " + Html(inv["month"].get<std::string>()) + "</h1><p>Contract version " +
                  std::to_string(inv["contract_version"].get<int>()) + ", " + Html(inv["zone"].get<std::string>()) +
                  " month " + Html(inv["from"].get<std::string>()) + " to " + Html(inv["to"].get<std::string>()) +
                  ".</p><table><caption>Charges</caption><thead><tr><th scope=\"col\">Item</th><th scope=\"col\">Quantity</th>"
                  "<th scope=\"col\">Unit (" + Html(cur) + ")</th><th scope=\"col\">Amount (" + Html(cur) +
                  ")</th><th scope=\"col\">Evidence</th></tr></thead><tbody>";
  for (const auto& l : inv["lines"]) {
    h += "<tr><td>" + Html(l["item"].get<std::string>()) + "</td><td>" + Html(l["quantity"].get<std::string>()) +
         "</td><td>" + Money(l["unit_minor"].get<int64_t>()) + "</td><td>" + Money(l["amount_minor"].get<int64_t>()) +
         "</td><td><a href=\"" + Html(l["evidence"].get<std::string>()) + "\">KPI query</a></td></tr>";
  }
  h += "</tbody></table><table><caption>Service levels</caption><thead><tr><th scope=\"col\">KPI</th>"
       "<th scope=\"col\">Target</th><th scope=\"col\">Actual</th><th scope=\"col\">Result</th>"
       "<th scope=\"col\">Evidence</th></tr></thead><tbody>";
  for (const char* section : {"targets", "bonuses"}) {
    for (const auto& t : inv[section]) {
      h += "<tr><td>" + Html(t["kpi"].get<std::string>()) + "</td><td>" + Html(t["op"].get<std::string>()) + " " +
           Html(t["target"].dump()) + "</td><td>" + (t["actual"].is_null() ? "–" : Html(t["actual"].dump())) +
           "</td><td>" + (std::string(section) == "bonuses" ? (t["met"].get<bool>() ? "bonus" : "no bonus")
                                                             : (t["met"].get<bool>() ? "met" : "missed")) +
           "</td><td><a href=\"" + Html(t["evidence"].get<std::string>()) + "\">KPI query</a></td></tr>";
    }
  }
  h += "</tbody></table><dl><dt>Subtotal</dt><dd>" + Money(inv["subtotal_minor"].get<int64_t>()) + " " + Html(cur) +
       "</dd><dt>Penalty (" + std::to_string(inv["penalty_bp"].get<int64_t>()) + " bp)</dt><dd>-" +
       Money(inv["penalty_minor"].get<int64_t>()) + "</dd><dt>Bonus (" + std::to_string(inv["bonus_bp"].get<int64_t>()) +
       " bp)</dt><dd>" + Money(inv["bonus_minor"].get<int64_t>()) + "</dd><dt>Total</dt><dd>" +
       Money(inv["total_minor"].get<int64_t>()) + " " + Html(cur) + "</dd></dl></body></html>";
  return h;
}

}  // namespace opsbox::billing
