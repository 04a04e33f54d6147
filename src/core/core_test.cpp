// Goal: the core value types behave exactly as their contracts say (time, ids, JSON, crypto).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/json.hpp"
#include "core/time.hpp"

namespace opsbox {
namespace {

TEST(Time, FormatsAndParsesRfc3339RoundTrip) {
  auto t = ParseRfc3339("2026-11-22T10:15:30.123456Z", "at");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatRfc3339(*t), "2026-11-22T10:15:30.123456Z");
  EXPECT_EQ(t->us, 1795342530123456LL);
}

TEST(Time, AppliesNumericOffsets) {
  auto a = ParseRfc3339("2026-11-22T15:45:30+05:30", "at");
  auto b = ParseRfc3339("2026-11-22T10:15:30Z", "at");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->us, b->us);
}

TEST(Time, RejectsImpossibleDatesNamingTheField) {
  for (auto bad : {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-22 10:15:30Z",
                   "2026-11-22T10:15:30", "2026-11-22T10:15:30Zjunk", "1969-12-31T23:59:59Z"}) {
    auto r = ParseRfc3339(bad, "occurred_at");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "occurred_at");
    EXPECT_EQ(r.error().rule, "rfc3339");
  }
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z", "at").ok());
}

TEST(Ids, AreSortableByTimeAndCarryTheirPrefix) {
  SeededRandom random(42);
  auto a = NewId("evt", Instant{1000000}, random);
  auto b = NewId("evt", Instant{2000000}, random);
  EXPECT_TRUE(IsId(a, "evt"));
  EXPECT_FALSE(IsId(a, "case"));
  EXPECT_LT(a, b);
  EXPECT_EQ(a.size(), 4u + 26u);
}

TEST(Json, RejectsDuplicateKeysDeepNestingAndBadUtf8) {
  EXPECT_EQ(ParseJson(R"({"a":1,"a":2})").error().rule, "duplicate_key");
  EXPECT_EQ(ParseJson(std::string(100, '[') + std::string(100, ']')).error().rule, "depth_max");
  EXPECT_EQ(ParseJson("{\"a\":\"\xff\"}").error().rule, "utf8");
  EXPECT_EQ(ParseJson("{\"a\":").error().rule, "json_syntax");
  EXPECT_TRUE(ParseJson(R"({"a":{"a":1}})").ok());
}

TEST(Json, CanonicalEncodingSortsKeysAndDropsWhitespace) {
  auto v = ParseJson(R"({ "b": 1, "a": [true, null, "x"], "c": {"z":1,"y":2} })");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(CanonicalJson(*v), R"({"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}})");
}

TEST(Json, UnknownFieldsAreNamed) {
  auto v = ParseJson(R"({"name":"x","nme":"y"})");
  auto st = CheckObjectKeys(*v, {"name"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "nme");
  EXPECT_EQ(st.error().rule, "unknown_field");
}

TEST(Json, AnEmptyUnknownKeyIsNamedByTheObjectThatHoldsIt) {
  // Found by external_event_fuzz: {"": "…"} produced an error with an empty field.
  auto top = ParseJson(R"({"":"x"})");
  auto st = CheckObjectKeys(*top, {"name"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "body");
  EXPECT_EQ(st.error().rule, "unknown_field");
  auto nested = ParseJson(R"({"":1})");
  st = CheckObjectKeys(*nested, {"name"}, "payload");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "payload");
}

TEST(Crypto, Sha256AndHmacMatchKnownVectors) {
  InitCrypto();
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, SignaturesVerifyOnlyForTheSignedMessage) {
  InitCrypto();
  auto key = GenerateSigningKey();
  auto sig = Sign(key, "checkpoint");
  EXPECT_TRUE(VerifySignature(key.public_key, "checkpoint", sig));
  EXPECT_FALSE(VerifySignature(key.public_key, "checkpoinT", sig));
}

TEST(Crypto, PasswordHashesAreArgon2idAndVerify) {
  InitCrypto();
  auto h = HashPassword("correct horse battery");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword(*h, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*h, "correct horse batterx"));
}

}  // namespace
}  // namespace opsbox
