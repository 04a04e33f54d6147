// Goal: the invoice arithmetic on hand-computed fixtures (issue #13, "Contracts and billing"):
// each pricing model, penalties of 1% per missed KPI capped at 10%, a KPI with no value counts
// as missed, bonuses, yearly indexation, rounding half away from zero in minor units, and
// contract validation naming the field and the rule.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "billing/billing.hpp"

namespace opsbox::billing {
namespace {

Json Base() {
  return Json{{"client_name", "Acme Bank"},
              {"currency", "INR"},
              {"zone", "Asia/Kolkata"},
              {"effective_month", "2026-12"},
              {"pricing", {{"per_seat_minor", 6000000}}}};
}

Contract Parse(const Json& j) {
  auto c = ParseContract(j);
  EXPECT_TRUE(c.ok()) << c.error().ToString();
  return c.ok() ? *c : Contract{};
}

TEST(BillingInvoice, EachPricingModelIsQuantityTimesUnit) {
  Json j = Base();
  j["pricing"] = {{"per_seat_minor", 6000000}, {"per_productive_hour_minor", 45000},
                  {"per_contact_minor", 1250}};
  const Contract c = Parse(j);
  Usage u;
  u.seats = 12;
  u.productive_us = static_cast<int64_t>(1234.5 * 3600) * 1000000;
  u.contacts = 20000;
  const Invoice inv = ComputeInvoice(c, 1, "2026-12", u);
  ASSERT_EQ(inv.lines.size(), 3u);
  EXPECT_EQ(inv.lines[0].amount_minor, 12 * 6000000);
  EXPECT_EQ(inv.lines[1].quantity, "1234.50");
  EXPECT_EQ(inv.lines[1].amount_minor, 55552500);  // 1234.5 h x 450.00
  EXPECT_EQ(inv.lines[2].amount_minor, 25000000);
  EXPECT_EQ(inv.subtotal_minor, 72000000 + 55552500 + 25000000);
  EXPECT_EQ(inv.total_minor, inv.subtotal_minor);
}

TEST(BillingInvoice, EachMissedKpiCostsOnePercentAndTogetherAtMostTen) {
  Json j = Base();
  Json targets = Json::array();
  for (int i = 0; i < 12; ++i) targets.push_back({{"kpi", "service_level"}, {"op", ">="}, {"target", 0.8}});
  j["targets"] = targets;
  Usage u;
  u.seats = 10;  // subtotal 600,000.00
  u.kpis = {{"service_level", 0.75}};
  Invoice inv = ComputeInvoice(Parse(j), 1, "2026-12", u);
  EXPECT_EQ(inv.subtotal_minor, 60000000);
  EXPECT_EQ(inv.penalty_bp, 1000) << "12 misses at 100 bp are capped at 1000 bp";
  EXPECT_EQ(inv.penalty_minor, 6000000);
  EXPECT_EQ(inv.total_minor, 54000000);
  // Three misses: 3%.
  j["targets"] = Json::array({targets[0], targets[1], targets[2]});
  inv = ComputeInvoice(Parse(j), 1, "2026-12", u);
  EXPECT_EQ(inv.penalty_bp, 300);
  EXPECT_EQ(inv.penalty_minor, 1800000);
  // At the target exactly: met.
  u.kpis = {{"service_level", 0.8}};
  inv = ComputeInvoice(Parse(j), 1, "2026-12", u);
  EXPECT_EQ(inv.penalty_bp, 0);
}

TEST(BillingInvoice, AKpiWithNoValueIsAMissAndBonusesNeedAValueToo) {
  Json j = Base();
  j["targets"] = Json::array({{{"kpi", "aht"}, {"op", "<="}, {"target", 300}}});
  j["bonuses"] = Json::array({{{"kpi", "asa"}, {"op", "<="}, {"target", 20}, {"bonus_bp", 250}},
                              {{"kpi", "service_level"}, {"op", ">="}, {"target", 0.9}, {"bonus_bp", 100}}});
  Usage u;
  u.seats = 1;
  u.kpis = {{"aht", std::nullopt}, {"asa", 12.5}, {"service_level", std::nullopt}};
  const Invoice inv = ComputeInvoice(Parse(j), 1, "2026-12", u);
  EXPECT_FALSE(inv.targets[0].met);
  EXPECT_EQ(inv.penalty_bp, 100);
  EXPECT_TRUE(inv.bonuses[0].met);
  EXPECT_FALSE(inv.bonuses[1].met);
  EXPECT_EQ(inv.bonus_bp, 250);
  EXPECT_EQ(inv.bonus_minor, 150000);  // 2.5% of 60,000.00
  EXPECT_EQ(inv.total_minor, 6000000 - 60000 + 150000);
}

TEST(BillingInvoice, PricesRiseByTheIndexOnceForEachWholeYear) {
  Json j = Base();
  j["effective_month"] = "2026-12";
  j["indexation_bp_per_year"] = 500;
  const Contract c = Parse(j);
  Usage u;
  u.seats = 1;
  EXPECT_EQ(ComputeInvoice(c, 1, "2027-11", u).lines[0].unit_minor, 6000000) << "11 months: none";
  EXPECT_EQ(ComputeInvoice(c, 1, "2027-12", u).lines[0].unit_minor, 6300000);
  EXPECT_EQ(ComputeInvoice(c, 1, "2028-12", u).lines[0].unit_minor, 6615000) << "compounded";
  EXPECT_EQ(ComputeInvoice(c, 1, "2028-12", u).indexation_years, 2);
}

TEST(BillingInvoice, BasisPointsRoundHalfAwayFromZero) {
  EXPECT_EQ(ApplyBasisPoints(50, 100), 1);    // 0.5 -> 1
  EXPECT_EQ(ApplyBasisPoints(49, 100), 0);    // 0.49 -> 0
  EXPECT_EQ(ApplyBasisPoints(-50, 100), -1);
  EXPECT_EQ(ApplyBasisPoints(1'000'000'000'000, 10000), 1'000'000'000'000);
}

TEST(BillingContract, BadFieldsAreNamedWithTheirRule) {
  struct Case {
    const char* key;
    Json value;
    const char* field;
    const char* rule;
  };
  const Case cases[] = {
      {"currency", "inr", "contract.currency", "iso4217"},
      {"zone", "Mars/Olympus", "contract.zone", "known_zone"},
      {"effective_month", "2026-13", "contract.effective_month", "format"},
      {"pricing", Json{{"per_seat_minor", 0}}, "contract.pricing", "some_price"},
      {"pricing", Json{{"per_promise_kept_minor", 10}}, "contract.pricing.per_promise_kept_minor", "unknown_field"},
      {"pricing", Json{{"per_seat_minor", -1}}, "contract.pricing.per_seat_minor", "range"},
      {"penalty_cap_bp", 10001, "contract.penalty_cap_bp", "range"},
      {"targets", Json::array({{{"kpi", "nps"}, {"op", ">="}, {"target", 1}}}), "contract.targets[0].kpi", "catalogue"},
      {"targets", Json::array({{{"kpi", "aht"}, {"op", "<"}, {"target", 1}}}), "contract.targets[0].op", "enum"},
      {"bonuses", Json::array({{{"kpi", "aht"}, {"op", "<="}, {"target", 1}}}), "contract.bonuses[0].bonus_bp", "required"},
      {"discount", 5, "contract.discount", "unknown_field"},
  };
  for (const auto& c : cases) {
    Json j = Base();
    j[c.key] = c.value;
    auto r = ParseContract(j);
    ASSERT_FALSE(r.ok()) << c.key;
    EXPECT_EQ(r.error().field, c.field) << c.key;
    EXPECT_EQ(r.error().rule, c.rule) << c.key;
  }
  Json many = Base();
  many["targets"] = Json::array();
  for (size_t i = 0; i < kTargetsMax; ++i) many["targets"].push_back({{"kpi", "aht"}, {"op", "<="}, {"target", 1}});
  EXPECT_TRUE(ParseContract(many).ok()) << "32 targets are allowed";
  many["targets"].push_back({{"kpi", "aht"}, {"op", "<="}, {"target", 1}});
  EXPECT_EQ(ParseContract(many).error().rule, "max_items");
}

TEST(BillingContract, DefaultsAreOnePercentCappedAtTenAndTheJsonRoundTrips) {
  const Contract c = Parse(Base());
  EXPECT_EQ(c.penalty_bp_per_miss, 100);
  EXPECT_EQ(c.penalty_cap_bp, 1000);
  EXPECT_EQ(ContractToJson(Parse(ContractToJson(c))), ContractToJson(c));
}

}  // namespace
}  // namespace opsbox::billing
