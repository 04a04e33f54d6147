// Goal: every field class masks as documented in masking.hpp (phone keeps country code and last
// 4, e-mail first letter and domain, card at most first 6 / last 4, account and national id last
// 4, name initials, free text redacted); short values never show; the role policy gives each
// role the classes docs/privacy.md lists; Governance::Present shows erased markers, clear values
// by role, masked values otherwise, and clear values during a break-glass grant only; the
// consent index answers per purpose, channel and time.
#include "privacy/masking.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "privacy/consent.hpp"
#include "privacy/governance.hpp"

namespace opsbox::privacy {
namespace {

TEST(MaskValue, PhoneKeepsCountryCodeAndLastFourDigits) {
  EXPECT_EQ(MaskValue(FieldClass::kPhone, "+91 98765 43210"), "+91******3210");
  EXPECT_EQ(MaskValue(FieldClass::kPhone, "+919876543210"), "+91******3210");
  EXPECT_EQ(MaskValue(FieldClass::kPhone, "+1 (415) 555-0100"), "+1******0100");
  EXPECT_EQ(MaskValue(FieldClass::kPhone, "+14155550100"), "+1******0100");
  EXPECT_EQ(MaskValue(FieldClass::kPhone, "+971501234567"), "+971*****4567");
  EXPECT_EQ(MaskValue(FieldClass::kPhone, "9876543210"), "******3210");
}

TEST(MaskValue, ShortNumbersNeverShowInClear) {
  EXPECT_EQ(MaskValue(FieldClass::kPhone, "1234"), "****");
  EXPECT_EQ(MaskValue(FieldClass::kAccountNumber, "12-3"), "****");
  EXPECT_EQ(MaskValue(FieldClass::kCard, "4111"), "****");
  EXPECT_EQ(MaskValue(FieldClass::kPhone, ""), "");
}

TEST(MaskValue, EmailKeepsFirstLetterAndDomain) {
  EXPECT_EQ(MaskValue(FieldClass::kEmail, "asha.rao@bank.example.in"), "a***@bank.example.in");
  EXPECT_EQ(MaskValue(FieldClass::kEmail, "ä@x.de"), "ä***@x.de");
  EXPECT_EQ(MaskValue(FieldClass::kEmail, "not-an-email"), kRedactedMarker);
}

TEST(MaskValue, CardKeepsAtMostFirstSixAndLastFour) {
  EXPECT_EQ(MaskValue(FieldClass::kCard, "4111 1111 1111 1111"), "411111******1111");
  EXPECT_EQ(MaskValue(FieldClass::kCard, "378282246310005"), "378282*****0005");
  EXPECT_EQ(MaskValue(FieldClass::kCard, "12345678"), "****5678");
}

TEST(MaskValue, AccountNationalIdAndIdentifierKeepLastFour) {
  EXPECT_EQ(MaskValue(FieldClass::kAccountNumber, "001234567890"), "********7890");
  EXPECT_EQ(MaskValue(FieldClass::kNationalId, "1234 5678 9012"), "********9012");
  EXPECT_EQ(MaskValue(FieldClass::kNationalId, "ABCDE1234F"), "******234F");
  EXPECT_EQ(MaskValue(FieldClass::kIdentifier, "ext-778899"), "*****8899");
}

TEST(MaskValue, NameBecomesInitials) {
  EXPECT_EQ(MaskValue(FieldClass::kName, "Asha Kumari Rao"), "A. K. R.");
  EXPECT_EQ(MaskValue(FieldClass::kName, "  Élodie   Martin "), "É. M.");
}

TEST(MaskValue, DateOfBirthKeepsTheYearOnly) {
  EXPECT_EQ(MaskValue(FieldClass::kDateOfBirth, "1985-04-12"), "1985-**-**");
  EXPECT_EQ(MaskValue(FieldClass::kDateOfBirth, "12/04/1985"), "**/**/****");
}

TEST(MaskValue, FreeTextAndAddressAreRedacted) {
  EXPECT_EQ(MaskValue(FieldClass::kFreeText, "my card is 4111..."), kRedactedMarker);
  EXPECT_EQ(MaskValue(FieldClass::kAddress, "12 MG Road, Bengaluru"), kRedactedMarker);
}

TEST(FieldClass, NamesRoundTrip) {
  for (FieldClass c : AllFieldClasses()) {
    auto parsed = ParseFieldClass(FieldClassName(c));
    ASSERT_TRUE(parsed.has_value()) << FieldClassName(c);
    EXPECT_EQ(*parsed, c);
  }
  EXPECT_FALSE(ParseFieldClass("salary").has_value());
}

TEST(RolePolicy, AgentsSeeNamesButNotContactOrFinancialData) {
  for (const char* role : {"agent", "team_lead", "supervisor"}) {
    EXPECT_TRUE(RoleSeesClear(role, FieldClass::kName)) << role;
    for (FieldClass c : {FieldClass::kPhone, FieldClass::kEmail, FieldClass::kAccountNumber,
                         FieldClass::kCard, FieldClass::kNationalId}) {
      EXPECT_FALSE(RoleSeesClear(role, c)) << role << " " << FieldClassName(c);
    }
  }
}

TEST(RolePolicy, ComplianceOfficersAndAuditorsSeeEverythingMasked) {
  for (const char* role : {"compliance_officer", "auditor", "admin", "unknown_role"}) {
    for (FieldClass c : AllFieldClasses()) {
      EXPECT_FALSE(RoleSeesClear(role, c)) << role << " " << FieldClassName(c);
    }
  }
}

TEST(RolePolicy, IntegrationsSeeContactDataButNeverCardsOrNationalIds) {
  EXPECT_TRUE(RoleSeesClear("integration", FieldClass::kPhone));
  EXPECT_TRUE(RoleSeesClear("integration", FieldClass::kEmail));
  EXPECT_FALSE(RoleSeesClear("integration", FieldClass::kCard));
  EXPECT_FALSE(RoleSeesClear("integration", FieldClass::kNationalId));
  EXPECT_TRUE(RolesSeeClear({"auditor", "integration"}, FieldClass::kPhone));
}

identity::Principal Who(std::vector<std::string> roles, std::string actor = "usr_a") {
  identity::Principal p;
  p.tenant_id = "acme";
  p.actor_id = std::move(actor);
  p.roles = std::move(roles);
  return p;
}

TEST(Present, ShowsErasedMarkerClearOrMaskedValueByRole) {
  Governance g;
  const Instant now{1795342530000000};
  const Opened phone{false, Json("+919876543210")};
  EXPECT_EQ(g.Present(Who({"agent"}), FieldClass::kPhone, phone, now), "+91******3210");
  EXPECT_EQ(g.Present(Who({"integration"}), FieldClass::kPhone, phone, now), "+919876543210");
  EXPECT_EQ(g.Present(Who({"agent"}), FieldClass::kName, Opened{false, Json("Asha Rao")}, now),
            "Asha Rao");
  EXPECT_EQ(g.Present(Who({"auditor"}), FieldClass::kName, Opened{false, Json("Asha Rao")}, now),
            "A. R.");
  EXPECT_EQ(g.Present(Who({"integration"}), FieldClass::kPhone, Opened{true, Json()}, now),
            kErasedMarker);
  EXPECT_TRUE(g.Present(Who({"agent"}), FieldClass::kPhone, Opened{false, Json()}, now).is_null());
  EXPECT_EQ(
      g.Present(Who({"agent"}), FieldClass::kAccountNumber, Opened{false, Json(1234567890)}, now),
      "******7890");
}

TEST(ConsentIndex, GivingAllowsAndWithdrawingDeniesPerPurposeChannelAndTime) {
  detail::ConsentIndex idx;
  const Instant t1{1000000000000000}, t2{t1.us + 1000}, t3{t1.us + 2000};
  idx.Apply("acme", "cus_1", 0, 1, true, t1);   // service / sms
  idx.Apply("acme", "cus_1", 0, 1, false, t2);  // withdrawn later
  idx.Apply("acme", "cus_1", 2, 3, true, t2);   // marketing / email
  EXPECT_FALSE(idx.Allows("acme", "cus_1", "service", "sms", Instant{t1.us - 1}));
  EXPECT_TRUE(idx.Allows("acme", "cus_1", "service", "sms", t1));
  EXPECT_FALSE(idx.Allows("acme", "cus_1", "service", "sms", t3));
  EXPECT_TRUE(idx.Allows("acme", "cus_1", "marketing", "email", t3));
  EXPECT_FALSE(idx.Allows("acme", "cus_1", "marketing", "sms", t3));
  EXPECT_FALSE(idx.Allows("acme", "cus_1", "collections", "email", t3));
  EXPECT_FALSE(idx.Allows("other", "cus_1", "marketing", "email", t3));
  EXPECT_FALSE(idx.Allows("acme", "cus_1", "telepathy", "email", t3));
}

TEST(ConsentIndex, ABackdatedWithdrawalDoesNotOverrideALaterGrant) {
  detail::ConsentIndex idx;
  const Instant t1{1000000000000000}, t2{t1.us + 1000};
  idx.Apply("acme", "cus_1", 1, 0, true, t2);
  idx.Apply("acme", "cus_1", 1, 0, false, t1);
  EXPECT_TRUE(idx.Allows("acme", "cus_1", "collections", "voice", t2));
  EXPECT_FALSE(idx.Allows("acme", "cus_1", "collections", "voice", t1));
  // Same instant: the change applied later wins.
  idx.Apply("acme", "cus_1", 1, 0, false, t2);
  EXPECT_FALSE(idx.Allows("acme", "cus_1", "collections", "voice", t2));
}

}  // namespace
}  // namespace opsbox::privacy
