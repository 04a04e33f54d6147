// Goal: each redaction style replaces exactly the findings: tags, PCI partial masks (at most
// the first 6 and last 4 digits of a card), and tokens stable per key and value.
#include <gtest/gtest.h>

#include "core/crypto.hpp"
#include "pii/pii.hpp"

namespace opsbox::pii {
namespace {

class RedactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitCrypto();
    auto s = Scanner::Create();
    ASSERT_TRUE(s.ok());
    scanner_ = std::move(*s);
  }
  std::string Run(std::string_view text, RedactStyle style, std::string_view key = {}) {
    const auto f = scanner_->Scan(text);
    return Redact(text, f, style, key);
  }
  std::unique_ptr<Scanner> scanner_;
};

TEST_F(RedactTest, TagStyleReplacesEachFindingWithItsTypeInCapitals) {
  EXPECT_EQ(Run("card 4111 1111 1111 1111 cvv 123, a/c 12345678901 mail a@b.co",
                RedactStyle::kTag),
            "card [CARD] cvv [CVV], a/c [BANK_ACCOUNT] mail [EMAIL]");
  EXPECT_EQ(Run("no pii here", RedactStyle::kTag), "no pii here");
}

TEST_F(RedactTest, PartialStyleKeepsAtMostFirstSixAndLastFourOfACard) {
  EXPECT_EQ(Run("card 4111 1111 1111 1111", RedactStyle::kPartial), "card 4111 11** **** 1111");
  EXPECT_EQ(Run("4111111111111111", RedactStyle::kPartial), "411111******1111");
}

TEST_F(RedactTest, PartialStyleKeepsLastFourElsewhereAndMasksCvvFully) {
  EXPECT_EQ(Run("call 9876543210", RedactStyle::kPartial), "call ******3210");
  EXPECT_EQ(Run("aadhaar 2345 6789 0127", RedactStyle::kPartial), "aadhaar **** **** 0127");
  EXPECT_EQ(Run("cvv 123", RedactStyle::kPartial), "cvv ***");
  EXPECT_EQ(Run("passport J8369854", RedactStyle::kPartial), "passport ****9854");
}

TEST_F(RedactTest, PartialStyleKeepsFirstLetterAndDomainOfEmailAndUpi) {
  EXPECT_EQ(Run("mail rahul.sharma@example.com", RedactStyle::kPartial),
            "mail r***@example.com");
  EXPECT_EQ(Run("pay rahul@okicici", RedactStyle::kPartial), "pay r***@okicici");
}

TEST_F(RedactTest, TokenStyleIsStablePerKeyAcrossFormatting) {
  const auto a = Run("card 4111 1111 1111 1111", RedactStyle::kToken, "tenant-key-1");
  const auto b = Run("card 4111-1111-1111-1111", RedactStyle::kToken, "tenant-key-1");
  const auto c = Run("card 4111111111111111", RedactStyle::kToken, "tenant-key-2");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  ASSERT_EQ(a.size(), std::string("card [CARD:tok_").size() + 12 + 1);
  EXPECT_EQ(a.rfind("card [CARD:tok_", 0), 0u);
  EXPECT_EQ(a.back(), ']');
}

TEST_F(RedactTest, TokenDependsOnTheType) {
  const std::string key = "k";
  const std::vector<Finding> as_phone = {{0, 10, Type::kPhone}};
  const std::vector<Finding> as_account = {{0, 10, Type::kBankAccount}};
  const auto p = Redact("9876543210", as_phone, RedactStyle::kToken, key);
  const auto b = Redact("9876543210", as_account, RedactStyle::kToken, key);
  EXPECT_NE(p.substr(p.find("tok_")), b.substr(b.find("tok_")));
}

TEST_F(RedactTest, SkipsOverlappingAndOutOfRangeFindings) {
  const std::vector<Finding> f = {{0, 4, Type::kCvv}, {2, 6, Type::kCvv}, {7, 99, Type::kCvv}};
  EXPECT_EQ(Redact("1234 5678 9", f, RedactStyle::kTag), "[CVV] 5678 9");
}

}  // namespace
}  // namespace opsbox::pii
