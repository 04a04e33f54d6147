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
