// Goal: portfolio rows read from CSV and JSON Lines as typed records; a bad row is reported with
// its line, field and rule and the rest of the file still reads; buckets follow each product's
// ranges, and bucket changes between snapshots are roll-forward or roll-back.
#include "collections/portfolio.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace opsbox::collections {
namespace {

struct ReadAll {
  std::vector<PortfolioRow> rows;
  std::vector<RowError> errors;
  std::optional<Error> fatal;
  std::vector<std::string> ignored;
};

ReadAll Read(const std::string& text, const BucketScheme& scheme = BucketScheme::Default()) {
  std::istringstream in(text);
  PortfolioReader reader(in, scheme);
  ReadAll out;
  while (auto item = reader.Next()) {
    if (item->row) out.rows.push_back(*item->row);
    if (item->error) out.errors.push_back(*item->error);
  }
  out.fatal = reader.Fatal();
  out.ignored = reader.IgnoredColumns();
  return out;
}

const char* kHeader =
    "account_id,customer_id,product,currency,principal,outstanding,overdue,instalment,"
    "days_past_due,due_date,bucket,branch,region,zone,address,phones,email,consent_sms,"
    "consent_whatsapp,consent_email,flags,colour\n";

TEST(Portfolio, CsvRowBecomesATypedRecord) {
  const auto r = Read(std::string(kHeader) +
                      "acct_1,cust_1,personal_loan,INR,100000.00,80000.5,5000,4500.75,45,"
                      "2026-02-15,dpd_31_60,Pune,West,Asia/Kolkata,\"12, MG Road, Pune\","
                      "+919876543210;+919812345678,a@b.example,yes,no,,dispute;vulnerable,red\n");
  ASSERT_FALSE(r.fatal);
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].field << " " << r.errors[0].message;
  ASSERT_EQ(r.rows.size(), 1u);
  const auto& row = r.rows[0];
  EXPECT_EQ(row.line, 2u);
  EXPECT_EQ(row.outstanding_minor, 8000050);
  EXPECT_EQ(row.instalment_minor, 450075);
  EXPECT_EQ(row.bucket, "dpd_31_60");
  EXPECT_EQ(row.address, "12, MG Road, Pune");
  EXPECT_EQ(row.phones.size(), 2u);
  EXPECT_EQ(*row.due_day, DaysFromCivil(2026, 2, 15));
  EXPECT_EQ(row.consent_given, 1 << static_cast<int>(Channel::kSms));
  EXPECT_EQ(row.consent_refused, 1 << static_cast<int>(Channel::kWhatsapp));
  EXPECT_EQ(row.flags, kFlagDispute | kFlagVulnerable);
  EXPECT_EQ(r.ignored, std::vector<std::string>{"colour"});
}

TEST(Portfolio, BadRowsAreReportedWithLineFieldAndRuleAndTheRestStillReads) {
  const std::string head =
      "account_id,customer_id,product,currency,outstanding,days_past_due,bucket,phones\n";
  const auto r = Read(head +
                      "a1,c1,card,USD,10.00,0,,\n"        // line 2: fine
                      "a2,c2,card,USD,10.001,0,,\n"       // line 3: three decimals for USD
                      "a3,c3,card,XYZ,10,0,,\n"           // line 4: unknown currency
                      "a4,c4,card,USD,10,-1,,\n"          // line 5: negative days past due
                      "a5,c5,card,USD,10,12,current,\n"   // line 6: bucket disagrees
                      "a6,,card,USD,10,0,,\n"             // line 7: no customer
                      "a7,c7,card,USD,10\n"              // line 8: short row
                      "a8,c8,card,JPY,1500,200,,\n"       // line 9: fine (JPY has no decimals)
                      "a9,c9,card,USD,1,0,,98765\n");    // line 10: phone not E.164
  ASSERT_FALSE(r.fatal);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[1].outstanding_minor, 1500);
  EXPECT_EQ(r.rows[1].bucket, "dpd_181_plus");
  ASSERT_EQ(r.errors.size(), 7u);
  const std::vector<std::tuple<size_t, std::string, std::string>> want = {
      {3, "outstanding", "scale"},          {4, "currency", "iso4217"},
      {5, "days_past_due", "range"},        {6, "bucket", "matches_days_past_due"},
      {7, "customer_id", "required"},       {8, "row", "columns"},
      {10, "phones", "e164"}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(r.errors[i].line, std::get<0>(want[i])) << i;
    EXPECT_EQ(r.errors[i].field, std::get<1>(want[i])) << i;
    EXPECT_EQ(r.errors[i].rule, std::get<2>(want[i])) << i;
  }
}

TEST(Portfolio, QuotedFieldMaySpanLinesAndLineNumbersFollowTheFile) {
  const auto r = Read(
      "account_id,customer_id,product,currency,outstanding,days_past_due,address\n"
      "a1,c1,card,INR,1,0,\"Flat 2\nBlock \"\"B\"\"\"\n"
      "\n"
      "a2,c2,card,INR,x,0,\n");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].address, "Flat 2\nBlock \"B\"");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 5u);
  EXPECT_EQ(r.errors[0].rule, "decimal");
}

TEST(Portfolio, JsonLinesReadTheSameFields) {
  const auto r = Read(
      R"({"account_id": "a1", "customer_id": "c1", "product": "card", "currency": "INR", "outstanding": "250.50", "days_past_due": 95, "phones": ["+919876543210"], "consent_sms": true})"
      "\n"
      R"({"account_id": "a2", "customer_id": "c2", "product": "card", "currency": "INR", "outstanding": 1.5, "days_past_due": 0})"
      "\n"
      R"({"account_id": "a3", "customer_id": "c3", "product": "card", "currency": "INR", "outstanding": "1", "days_past_due": 0, "tier": "gold"})"
      "\nnot json\n");
  ASSERT_FALSE(r.fatal);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].outstanding_minor, 25050);
  EXPECT_EQ(r.rows[0].bucket, "dpd_91_180");
  EXPECT_EQ(r.rows[0].consent_given, 1 << static_cast<int>(Channel::kSms));
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_EQ(r.errors[0].field, "outstanding");  // a float would lose minor units
  EXPECT_EQ(r.errors[1].line, 3u);
  EXPECT_EQ(r.errors[1].rule, "unknown_field");
  EXPECT_EQ(r.errors[2].line, 4u);
  EXPECT_EQ(r.errors[2].rule, "json_syntax");
}

// Regression (collections_portfolio_fuzz): an empty key gave an error with an empty field.
TEST(Portfolio, EmptyJsonKeyIsReportedAgainstTheRow) {
  const auto r = Read(R"({"": "x"})" "\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].field, "row");
  EXPECT_EQ(r.errors[0].rule, "unknown_field");
}

TEST(Portfolio, HeaderWithoutARequiredColumnEndsTheFile) {
  const auto r = Read("account_id,customer_id,product,currency,days_past_due\na,b,c,INR,0\n");
  ASSERT_TRUE(r.fatal);
  EXPECT_EQ(r.fatal->rule, "required");
  EXPECT_TRUE(r.rows.empty());
  EXPECT_EQ(Read("").fatal->rule, "empty");
  EXPECT_EQ(Read("account_id,account_id\n").fatal->rule, "unique");
}

TEST(Portfolio, RecordAtTheLineLimitReadsAndOneByteMoreEndsTheFile) {
  const std::string head = "account_id,customer_id,product,currency,outstanding,days_past_due,region\n";
  const std::string start = "a1,c1,card,INR,1,0,";
  const std::string at_limit = start + std::string(kImportLineBytesMax - start.size(), 'x');
  auto r = Read(head + at_limit + "\n");
  ASSERT_FALSE(r.fatal);
  ASSERT_EQ(r.errors.size(), 1u);  // the region is longer than a field may be, but it was read
  EXPECT_EQ(r.errors[0].rule, "max_bytes");
  r = Read(head + at_limit + "x\n");
  ASSERT_TRUE(r.fatal);
  EXPECT_EQ(r.fatal->rule, "line_bytes_max");
}

TEST(Portfolio, AmountsParseToMinorUnitsAtTheirLimits) {
  EXPECT_EQ(*ParseAmountMinor("0", 2, "x"), 0);
  EXPECT_EQ(*ParseAmountMinor("12.3", 2, "x"), 1230);
  EXPECT_EQ(*ParseAmountMinor("1.234", 3, "x"), 1234);
  EXPECT_EQ(*ParseAmountMinor("10000000000000000.00", 2, "x"), kAmountMinorMax);
  EXPECT_EQ(ParseAmountMinor("10000000000000000.01", 2, "x").error().rule, "range");
  EXPECT_EQ(ParseAmountMinor("-1", 2, "x").error().rule, "decimal");
  EXPECT_EQ(ParseAmountMinor("1.", 2, "x").error().rule, "decimal");
  EXPECT_EQ(ParseAmountMinor("1e3", 2, "x").error().rule, "decimal");
  EXPECT_EQ(*CurrencyDigits("INR"), 2);
  EXPECT_EQ(*CurrencyDigits("JPY"), 0);
  EXPECT_EQ(*CurrencyDigits("BHD"), 3);
  EXPECT_EQ(CurrencyDigits("inr").error().rule, "iso4217");
}

TEST(Portfolio, BucketsFollowTheProductRangesAndMovementsCompareRanks) {
  auto scheme = BucketScheme::FromJson(R"({"products": {"card": [
      {"name": "x", "dpd_min": 0, "dpd_max": 0}, {"name": "m1", "dpd_min": 1, "dpd_max": 29},
      {"name": "m2", "dpd_min": 30, "dpd_max": 59}, {"name": "npa", "dpd_min": 60, "dpd_max": 36500}]}})");
  ASSERT_TRUE(scheme.ok()) << scheme.error().ToString();
  EXPECT_EQ(scheme->BucketFor("card", 29).name, "m1");
  EXPECT_EQ(scheme->BucketFor("card", 30).name, "m2");
  EXPECT_EQ(scheme->BucketFor("home_loan", 30).name, "dpd_1_30");  // the default ranges
  EXPECT_EQ(CompareBuckets(*scheme, "card", std::string("m1"), "m2"), Movement::kRollForward);
  EXPECT_EQ(CompareBuckets(*scheme, "card", std::string("npa"), "x"), Movement::kRollBack);
  EXPECT_EQ(CompareBuckets(*scheme, "card", std::string("m2"), "m2"), Movement::kUnchanged);
  EXPECT_EQ(CompareBuckets(*scheme, "card", std::nullopt, "m2"), Movement::kNew);
  EXPECT_EQ(MovementName(Movement::kRollForward), "roll_forward");
}

TEST(Portfolio, BucketSchemeMustCoverEveryDayOnce) {
  const auto gap = BucketScheme::FromJson(R"({"default": [{"name": "a", "dpd_min": 0, "dpd_max": 10},
      {"name": "b", "dpd_min": 12, "dpd_max": 36500}]})");
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.error().field, "default[1].dpd_min");
  EXPECT_EQ(gap.error().rule, "contiguous");
  const auto short_ = BucketScheme::FromJson(R"({"default": [{"name": "a", "dpd_min": 0, "dpd_max": 10}]})");
  EXPECT_EQ(short_.error().rule, "contiguous");
  const auto twice = BucketScheme::FromJson(R"({"products": {"card": [{"name": "a", "dpd_min": 0,
      "dpd_max": 0}, {"name": "a", "dpd_min": 1, "dpd_max": 36500}]}})");
  EXPECT_EQ(twice.error().field, "products.card[1].name");
  EXPECT_EQ(twice.error().rule, "unique");
}

}  // namespace
}  // namespace opsbox::collections

namespace opsbox::collections {
namespace {

// The customer id names a data subject (its contact is sealed under "colcus_<id>"), so it is an
// identifier of at most kCustomerIdBytesMax letters, digits, _ - and .; the name column reads.
TEST(Portfolio, CustomerIdIsAnIdentifierUpToItsLimitAndTheNameIsRead) {
  const std::string header = "account_id,customer_id,product,currency,outstanding,days_past_due,name\n";
  const std::string at_limit(kCustomerIdBytesMax, 'c');
  const auto r = Read(header + "a1," + at_limit + ",card,INR,1,0,Asha Rao\n" + "a2," + at_limit +
                      "c,card,INR,1,0,\n" + "a3,C 3,card,INR,1,0,\n" + "a4,C/4,card,INR,1,0,\n" +
                      "a5,C-5.x_y,card,INR,1,0,\n");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].name, "Asha Rao");
  EXPECT_EQ(r.rows[0].customer_id, at_limit);
  EXPECT_EQ(r.rows[1].customer_id, "C-5.x_y");
  ASSERT_EQ(r.errors.size(), 3u);
  for (const auto& e : r.errors) {
    EXPECT_EQ(e.field, "customer_id");
    EXPECT_EQ(e.rule, "identifier");
  }
  EXPECT_EQ(r.errors[0].line, 3u);
}

}  // namespace
}  // namespace opsbox::collections
