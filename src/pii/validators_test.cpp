// Goal: the checksum and format validators accept the published valid examples and reject
// one-digit changes, wrong lengths and excluded ranges.
#include <gtest/gtest.h>

#include "pii/internal/validators.hpp"

namespace opsbox::pii::detail {
namespace {

TEST(ValidatorsTest, LuhnAcceptsValidAndRejectsChangedDigits) {
  EXPECT_TRUE(LuhnValid("4111111111111111"));
  EXPECT_TRUE(LuhnValid("378282246310005"));
  EXPECT_FALSE(LuhnValid("4111111111111112"));
  EXPECT_FALSE(LuhnValid(""));
}

TEST(ValidatorsTest, VerhoeffAcceptsValidAndRejectsChangedDigits) {
  EXPECT_TRUE(VerhoeffValid("234567890127"));
  EXPECT_TRUE(VerhoeffValid("498765432102"));
  EXPECT_FALSE(VerhoeffValid("234567890128"));
  EXPECT_FALSE(VerhoeffValid("324567890127"));  // transposition
}

TEST(ValidatorsTest, CardNeedsLengthPrefixLuhnAndRegularGroups) {
  EXPECT_TRUE(CardValid("4111 1111 1111 1111"));
  EXPECT_TRUE(CardValid("4111-1111-1111-1111"));
  EXPECT_FALSE(CardValid("4111 1111-1111 1111"));
  EXPECT_FALSE(CardValid("41 11 1111 1111 1111"));
  EXPECT_FALSE(CardValid("4111111111110"));  // 13 digits, Luhn fails
  EXPECT_TRUE(CardValid("4222222222222"));   // 13-digit Visa
  EXPECT_FALSE(CardValid("9111111111111119"));
}

TEST(ValidatorsTest, CardPrefixesFollowThePublishedIinRangesAndLengths) {
  EXPECT_TRUE(CardPrefixValid("4012888888881881"));    // Visa 16
  EXPECT_TRUE(CardPrefixValid("4222222222222"));       // Visa 13
  EXPECT_TRUE(CardPrefixValid("4000000000000000006"));  // Visa 19
  EXPECT_FALSE(CardPrefixValid("400000000000000"));    // Visa never issues 15
  EXPECT_TRUE(CardPrefixValid("5105105105105100"));    // Mastercard 51
  EXPECT_TRUE(CardPrefixValid("2221000000000009"));    // Mastercard 2221, the first
  EXPECT_TRUE(CardPrefixValid("2720990000000007"));    // Mastercard 2720, the last
  EXPECT_FALSE(CardPrefixValid("2721000000000000"));   // one past the 2-series
  EXPECT_TRUE(CardPrefixValid("2200000000000004"));    // Mir 2200
  EXPECT_TRUE(CardPrefixValid("2204000000000000"));    // Mir 2204, the last
  EXPECT_FALSE(CardPrefixValid("2205000000000000"));   // one past Mir
  EXPECT_TRUE(CardPrefixValid("135410014004955"));     // UATP, 15 digits
  EXPECT_FALSE(CardPrefixValid("1354100140049550"));   // UATP is never 16
  EXPECT_TRUE(CardPrefixValid("378282246310005"));     // Amex 37
  EXPECT_FALSE(CardPrefixValid("3782822463100050"));   // Amex is 15 only
  EXPECT_TRUE(CardPrefixValid("3528000000000000"));    // JCB 3528, the first
  EXPECT_TRUE(CardPrefixValid("3589000000000000"));    // JCB 3589, the last
  EXPECT_FALSE(CardPrefixValid("3527000000000000"));   // one before JCB
  EXPECT_TRUE(CardPrefixValid("30569309025904"));      // Diners 305, 14 digits
  EXPECT_FALSE(CardPrefixValid("30669309025904"));     // 306 is no Diners range
  EXPECT_TRUE(CardPrefixValid("6011000000000000"));    // Discover
  EXPECT_TRUE(CardPrefixValid("6440000000000000"));    // Discover 644
  EXPECT_FALSE(CardPrefixValid("6430000000000000"));   // one before 644
  EXPECT_TRUE(CardPrefixValid("6200000000000000000"));  // UnionPay 19
  EXPECT_TRUE(CardPrefixValid("8100000000000000"));    // RuPay 81
  EXPECT_FALSE(CardPrefixValid("8300000000000000"));   // 83: no network
  EXPECT_TRUE(CardPrefixValid("6759000000000000"));    // Maestro 6759
  EXPECT_TRUE(CardPrefixValid("5018000000000"));       // Maestro, 13 digits
  EXPECT_FALSE(CardPrefixValid("9792000000000000"));   // outside the table
}

TEST(ValidatorsTest, CardAcceptsTestNumbersOfRealRangesInEverySpelling) {
  EXPECT_TRUE(CardValid("4012888888881881"));
  EXPECT_TRUE(CardValid("4012 8888 8888 1881"));
  EXPECT_TRUE(CardValid("4012-8888-8888-1881"));
  EXPECT_TRUE(CardValid("2200 0000 0000 0004"));  // Mir
  EXPECT_TRUE(CardValid("1354 100140 04955"));    // UATP 4-6-5
  EXPECT_FALSE(CardValid("1234567890123452"));    // Luhn-valid, no network issues 1 at 16
}

TEST(ValidatorsTest, IbanChecksCountryLengthAndMod97) {
  EXPECT_TRUE(IbanValid("GB82WEST12345698765432"));
  EXPECT_TRUE(IbanValid("GB82 WEST 1234 5698 7654 32"));
  EXPECT_TRUE(IbanValid("NL91ABNA0417164300"));
  EXPECT_FALSE(IbanValid("GB82WEST12345698765433"));
  EXPECT_FALSE(IbanValid("XX82WEST12345698765432"));
  EXPECT_FALSE(IbanValid("NL91ABNA04171643000"));
}

TEST(ValidatorsTest, SsnExcludesInvalidRanges) {
  bool sep = false;
  EXPECT_TRUE(SsnValid("123-45-6789", &sep));
  EXPECT_TRUE(sep);
  EXPECT_TRUE(SsnValid("123456789", &sep));
  EXPECT_FALSE(sep);
  EXPECT_FALSE(SsnValid("123-45 6789", &sep));
  EXPECT_FALSE(SsnValid("000-45-6789", &sep));
  EXPECT_FALSE(SsnValid("666-45-6789", &sep));
  EXPECT_FALSE(SsnValid("900-45-6789", &sep));
  EXPECT_FALSE(SsnValid("123-00-6789", &sep));
  EXPECT_FALSE(SsnValid("123-45-0000", &sep));
}

TEST(ValidatorsTest, SsnWithDotsCountsAsWrittenWithSeparators) {
  bool sep = false;
  EXPECT_TRUE(SsnValid("123.45.6789", &sep));
  EXPECT_TRUE(sep);
  EXPECT_FALSE(SsnValid("123.45-6789", &sep));
  EXPECT_FALSE(SsnValid("123,45,6789", &sep));
}

TEST(ValidatorsTest, SsnRejectsTheNumbersTheSsaVoidedAndItsAdvertisingRange) {
  bool sep = false;
  EXPECT_FALSE(SsnValid("078-05-1120", &sep));
  EXPECT_FALSE(SsnValid("219-09-9999", &sep));
  EXPECT_FALSE(SsnValid("219099999", &sep));
  EXPECT_FALSE(SsnValid("987-65-4320", &sep));
  EXPECT_FALSE(SsnValid("987-65-4329", &sep));
  EXPECT_TRUE(SsnValid("078-05-1121", &sep));  // a neighbour is an ordinary number
  EXPECT_TRUE(SsnValid("219-09-9998", &sep));
}

TEST(ValidatorsTest, PanAndIfscFormats) {
  EXPECT_TRUE(PanValid("ABCPE1234F"));
  EXPECT_TRUE(PanValid("AAACT1234G"));
  EXPECT_FALSE(PanValid("ABCDE1234F"));
  EXPECT_FALSE(PanValid("ABCPE12345"));
  EXPECT_TRUE(IfscValid("HDFC0001234"));
  EXPECT_TRUE(IfscValid("ICIC0ABC123"));
  EXPECT_FALSE(IfscValid("HDFC1001234"));
  EXPECT_FALSE(IfscValid("HDF00001234"));
}

TEST(ValidatorsTest, DatesInEveryFormatWithValidDayAndMonth) {
  EXPECT_EQ(DateLengthAt("12/03/1985 x", 0), 10u);
  EXPECT_EQ(DateLengthAt("3-12-85", 0), 7u);
  EXPECT_EQ(DateLengthAt("12.03.1985", 0), 10u);
  EXPECT_EQ(DateLengthAt("1985-03-12", 0), 10u);
  EXPECT_EQ(DateLengthAt("12 March 1985", 0), 13u);
  EXPECT_EQ(DateLengthAt("12th Mar, 1985", 0), 14u);
  EXPECT_EQ(DateLengthAt("12-Mar-1985", 0), 11u);
  EXPECT_EQ(DateLengthAt("September 9, 2001", 0), 17u);
  EXPECT_EQ(DateLengthAt("12/13/1985", 0), 10u);  // mm/dd
  EXPECT_EQ(DateLengthAt("32/13/1985", 0), 0u);
  EXPECT_EQ(DateLengthAt("12/03/19855", 0), 0u);
  EXPECT_EQ(DateLengthAt("12/03/1885", 0), 0u);
  EXPECT_EQ(DateLengthAt("Marchy 3 1985", 0), 0u);
  EXPECT_EQ(DateLengthAt("12 March", 0), 0u);
}

TEST(ValidatorsTest, UpiPspListIsCaseInsensitive) {
  EXPECT_TRUE(IsUpiPsp("ybl"));
  EXPECT_TRUE(IsUpiPsp("OkIcici"));
  EXPECT_FALSE(IsUpiPsp("gmail"));
  EXPECT_FALSE(IsUpiPsp(""));
}

}  // namespace
}  // namespace opsbox::pii::detail
