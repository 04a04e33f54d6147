// Goal: the parts of privacy-keys that need no database behave exactly: calendar-month deadline
// arithmetic at month ends and leap years, the key file (created 0600, reloaded with the same
// keys, versions added durably, a corrupt file refused), blind indexes (stable, keyed per
// tenant and kind), and recognising sealed values.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "privacy/erasure.hpp"
#include "privacy/keyring.hpp"

namespace opsbox::privacy {
namespace {

Instant At(std::string_view text) {
  auto t = ParseRfc3339(text, "t");
  EXPECT_TRUE(t.ok());
  return t.ok() ? *t : Instant{};
}

std::string Plus(std::string_view text, int months) {
  return FormatRfc3339(AddCalendarMonths(At(text), months));
}

TEST(CalendarMonths, JanuaryThirtyFirstPlusOneMonthIsTheLastDayOfFebruary) {
  EXPECT_EQ(Plus("2025-01-31T10:00:00Z", 1), "2025-02-28T10:00:00.000000Z");
  EXPECT_EQ(Plus("2024-01-31T10:00:00Z", 1), "2024-02-29T10:00:00.000000Z");
  EXPECT_EQ(Plus("2100-01-31T00:00:00Z", 1), "2100-02-28T00:00:00.000000Z");
  EXPECT_EQ(Plus("2000-01-30T00:00:00Z", 1), "2000-02-29T00:00:00.000000Z");
}

TEST(CalendarMonths, KeepsTheDayWhenTheTargetMonthHasIt) {
  EXPECT_EQ(Plus("2025-03-15T23:59:59.999999Z", 1), "2025-04-15T23:59:59.999999Z");
  EXPECT_EQ(Plus("2025-02-28T08:00:00Z", 1), "2025-03-28T08:00:00.000000Z");
  EXPECT_EQ(Plus("2025-03-31T08:00:00Z", 1), "2025-04-30T08:00:00.000000Z");
}

TEST(CalendarMonths, CountsFromTheReceivedDateNotFromTheClampedDueDate) {
  // Extended twice: Jan 31 + 3 months is Apr 30, not Feb 28 + 2 months = Apr 28.
  EXPECT_EQ(Plus("2025-01-31T12:00:00Z", 3), "2025-04-30T12:00:00.000000Z");
}

TEST(CalendarMonths, CrossesYearEnds) {
  EXPECT_EQ(Plus("2025-12-31T00:00:00Z", 1), "2026-01-31T00:00:00.000000Z");
  EXPECT_EQ(Plus("2025-11-30T00:00:00Z", 3), "2026-02-28T00:00:00.000000Z");
  EXPECT_EQ(Plus("2025-06-01T00:00:00Z", 0), "2025-06-01T00:00:00.000000Z");
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitCrypto();
    char tmpl[] = "/tmp/opsbox-keys-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/privacy-keys.json";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::string path_;
};

TEST_F(KeyFileTest, CreatesTheFileOwnerOnlyAndReloadsTheSameKeys) {
  auto first = OpenKeyFile(path_);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto version = (*first)->CurrentVersion("acme");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 1);
  auto key = (*first)->MasterKey("acme", 1);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->size(), kMasterKeyBytes);
  auto v2 = (*first)->CreateVersion("acme");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(*v2, 2);

  auto second = OpenKeyFile(path_);
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_EQ(*(*second)->CurrentVersion("acme"), 2);
  EXPECT_EQ(*(*second)->MasterKey("acme", 1), *key);
  EXPECT_EQ(*(*second)->IndexRootKey(), *(*first)->IndexRootKey());
  EXPECT_EQ((*second)->MasterKey("acme", 3).error().code, ErrorCode::kNotFound);
  EXPECT_EQ((*second)->MasterKey("other", 1).error().code, ErrorCode::kNotFound);
}

TEST_F(KeyFileTest, TwoProcessesSharingTheFileNeverLoseEachOthersKeys) {
  auto server = OpenKeyFile(path_);
  auto cli = OpenKeyFile(path_);
  ASSERT_TRUE(server.ok() && cli.ok());
  ASSERT_TRUE((*server)->CurrentVersion("acme").ok());
  ASSERT_TRUE((*cli)->CurrentVersion("beta").ok());  // must not drop acme's key
  auto acme_key = (*server)->MasterKey("acme", 1);
  ASSERT_TRUE(acme_key.ok());
  auto seen_by_cli = (*cli)->MasterKey("acme", 1);
  ASSERT_TRUE(seen_by_cli.ok()) << seen_by_cli.error().ToString();
  EXPECT_EQ(*seen_by_cli, *acme_key);
  EXPECT_EQ(*(*cli)->CurrentVersion("acme"), 1);
  auto reopened = OpenKeyFile(path_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->MasterKey("acme", 1), *acme_key);
  EXPECT_TRUE((*reopened)->MasterKey("beta", 1).ok());
}

TEST_F(KeyFileTest, RefusesAFileThatIsNotAKeyFile) {
  std::ofstream(path_) << R"({"format": "something-else"})";
  auto p = OpenKeyFile(path_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().rule, "unknown_format");
  std::ofstream(path_, std::ios::trunc)
      << R"({"format": "opsbox-privacy-keys-v1", "index_root_key": "abcd"})";
  p = OpenKeyFile(path_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().rule, "length");
}

class BlindIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitCrypto();
    auto k = Keyring::Create(NewMemoryKeyProvider(), clock_);
    ASSERT_TRUE(k.ok());
    keyring_ = std::move(*k);
  }
  ManualClock clock_{Instant{1700000000000000}};
  std::unique_ptr<Keyring> keyring_;
};

TEST_F(BlindIndexTest, IsStableAndDiffersByTenantAndKind) {
  const std::string a = keyring_->BlindIndex("acme", "phone", "+919876543210");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a, keyring_->BlindIndex("acme", "phone", "+919876543210"));
  EXPECT_NE(a, keyring_->BlindIndex("beta", "phone", "+919876543210"));
  EXPECT_NE(a, keyring_->BlindIndex("acme", "whatsapp", "+919876543210"));
  EXPECT_NE(a, keyring_->BlindIndex("acme", "phone", "+919876543211"));
}

TEST_F(BlindIndexTest, SurvivesAMasterKeyRotationWithTheSameProvider) {
  auto provider = NewMemoryKeyProvider();
  KeyProvider* raw = provider.get();
  auto k = Keyring::Create(std::move(provider), clock_);
  ASSERT_TRUE(k.ok());
  const std::string before = (*k)->BlindIndex("acme", "email", "a@example.com");
  ASSERT_TRUE(raw->CreateVersion("acme").ok());
  EXPECT_EQ(before, (*k)->BlindIndex("acme", "email", "a@example.com"));
}

TEST(Sealed, RecognisesOnlyStringsWithThePrefix) {
  EXPECT_TRUE(Keyring::IsSealed(Json("pii:v1:dek_1:AAAA")));
  EXPECT_FALSE(Keyring::IsSealed(Json("pii:v2:dek_1:AAAA")));
  EXPECT_FALSE(Keyring::IsSealed(Json("hello")));
  EXPECT_FALSE(Keyring::IsSealed(Json(42)));
  EXPECT_FALSE(Keyring::IsSealed(Json()));
}

}  // namespace
}  // namespace opsbox::privacy
