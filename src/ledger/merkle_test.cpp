// Goal: the ledger's Merkle tree is exactly RFC 6962 / RFC 9162: roots, compact ranges and audit
// paths agree with a direct recursive transcription of the RFC, and every honest inclusion proof
// verifies while any tampered proof, leaf, index or size does not.
#include "ledger/merkle.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace opsbox::ledger {
namespace {

std::vector<Hash32> Leaves(size_t n) {
  std::vector<Hash32> out;
  for (size_t i = 0; i < n; ++i) out.push_back(Sha256("event " + std::to_string(i)));
  return out;
}

Hash32 Sha256Of(std::string bytes) { return Sha256(bytes); }

std::string Bytes(const Hash32& h) { return std::string(h.begin(), h.end()); }

uint64_t LargestPowerOfTwoBelow(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// The RFC 6962 §2.1 definitions, transcribed literally (recursion is fine in a test oracle).
Hash32 ReferenceMth(std::span<const Hash32> d) {
  if (d.empty()) return Sha256Of("");
  if (d.size() == 1) return Sha256Of(std::string(1, '\0') + Bytes(d[0]));
  uint64_t k = LargestPowerOfTwoBelow(d.size());
  return Sha256Of(std::string(1, '\1') + Bytes(ReferenceMth(d.first(k))) +
                  Bytes(ReferenceMth(d.subspan(k))));
}

std::vector<Hash32> ReferencePath(uint64_t m, std::span<const Hash32> d) {
  if (d.size() <= 1) return {};
  uint64_t k = LargestPowerOfTwoBelow(d.size());
  std::vector<Hash32> path;
  if (m < k) {
    path = ReferencePath(m, d.first(k));
    path.push_back(ReferenceMth(d.subspan(k)));
  } else {
    path = ReferencePath(m - k, d.subspan(k));
    path.push_back(ReferenceMth(d.first(k)));
  }
  return path;
}

class MerkleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { InitCrypto(); }
};

TEST_F(MerkleTest, EmptyTreeRootIsSha256OfNothing) {
  EXPECT_EQ(HexEncode(RootOf({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(CompactRange().Root(), RootOf({}));
}

TEST_F(MerkleTest, SmallTreesHaveTheShapeTheRfcPrescribes) {
  auto d = Leaves(7);
  auto l = [&](int i) { return MerkleLeafHash(d[i]); };
  auto n = [](const Hash32& a, const Hash32& b) { return MerkleNodeHash(a, b); };
  EXPECT_EQ(MerkleLeafHash(d[0]), Sha256Of(std::string(1, '\0') + Bytes(d[0])));
  EXPECT_EQ(MerkleNodeHash(d[0], d[1]), Sha256Of(std::string(1, '\1') + Bytes(d[0]) + Bytes(d[1])));
  EXPECT_EQ(RootOf(std::span(d).first(1)), l(0));
  EXPECT_EQ(RootOf(std::span(d).first(2)), n(l(0), l(1)));
  EXPECT_EQ(RootOf(std::span(d).first(3)), n(n(l(0), l(1)), l(2)));
  EXPECT_EQ(RootOf(std::span(d).first(5)), n(n(n(l(0), l(1)), n(l(2), l(3))), l(4)));
  EXPECT_EQ(RootOf(std::span(d).first(7)),
            n(n(n(l(0), l(1)), n(l(2), l(3))), n(n(l(4), l(5)), l(6))));
}

TEST_F(MerkleTest, RootOfMatchesTheRecursiveDefinition) {
  auto d = Leaves(70);
  for (size_t size = 0; size <= d.size(); ++size) {
    auto prefix = std::span<const Hash32>(d).first(size);
    EXPECT_EQ(RootOf(prefix), ReferenceMth(prefix)) << "size " << size;
  }
}

TEST_F(MerkleTest, CompactRangeRootEqualsRootOfForEverySizeUpTo300) {
  auto d = Leaves(300);
  CompactRange range;
  EXPECT_EQ(range.size(), 0u);
  for (size_t size = 1; size <= d.size(); ++size) {
    range.Append(d[size - 1]);
    ASSERT_EQ(range.size(), size);
    ASSERT_EQ(range.Root(), RootOf(std::span<const Hash32>(d).first(size))) << "size " << size;
  }
}

TEST_F(MerkleTest, EveryInclusionProofMatchesTheRfcPathAndVerifies) {
  auto d = Leaves(70);
  for (size_t size = 1; size <= d.size(); ++size) {
    auto tree = std::span<const Hash32>(d).first(size);
    Hash32 root = RootOf(tree);
    for (size_t i = 0; i < size; ++i) {
      auto proof = InclusionProof(tree, i);
      ASSERT_EQ(proof, ReferencePath(i, tree)) << "size " << size << " index " << i;
      ASSERT_TRUE(VerifyInclusion(d[i], i, size, proof, root)) << "size " << size << " index " << i;
    }
  }
}

TEST_F(MerkleTest, ProofRangesAreDisjointAndCoverTheTreeExceptTheLeaf) {
  for (uint64_t size = 1; size <= 70; ++size) {
    for (uint64_t i = 0; i < size; ++i) {
      std::vector<int> covered(size, 0);
      covered[i] = 1;
      for (const LeafRange& r : InclusionProofRanges(i, size)) {
        ASSERT_LT(r.begin, r.end);
        for (uint64_t j = r.begin; j < r.end; ++j) ++covered[j];
      }
      for (uint64_t j = 0; j < size; ++j) ASSERT_EQ(covered[j], 1) << size << " " << i << " " << j;
    }
  }
}

// A wrong tree size is not always detectable from the path alone (sizes with the same path shape
// verify alike); the size is bound by the signed checkpoint instead. Index >= size always fails.
TEST_F(MerkleTest, TamperedProofLeafIndexOrSizeFailsVerification) {
  auto d = Leaves(70);
  for (size_t size : {2u, 3u, 7u, 8u, 33u, 70u}) {
    auto tree = std::span<const Hash32>(d).first(size);
    Hash32 root = RootOf(tree);
    for (size_t i = 0; i < size; ++i) {
      auto proof = InclusionProof(tree, i);
      for (size_t p = 0; p < proof.size(); ++p) {
        auto bad = proof;
        bad[p][p % 32] ^= 0x01;
        EXPECT_FALSE(VerifyInclusion(d[i], i, size, bad, root));
      }
      EXPECT_FALSE(VerifyInclusion(d[(i + 1) % size], i, size, proof, root));
      EXPECT_FALSE(VerifyInclusion(d[i], (i + 1) % size, size, proof, root));
      EXPECT_FALSE(VerifyInclusion(d[i], size, size, proof, root));
      auto longer = proof;
      longer.push_back(root);
      EXPECT_FALSE(VerifyInclusion(d[i], i, size, longer, root));
      auto shorter = proof;
      shorter.pop_back();
      EXPECT_FALSE(VerifyInclusion(d[i], i, size, shorter, root));
      Hash32 bad_root = root;
      bad_root[0] ^= 0x80;
      EXPECT_FALSE(VerifyInclusion(d[i], i, size, proof, bad_root));
    }
  }
}

TEST_F(MerkleTest, SingleLeafTreeHasAnEmptyProof) {
  auto d = Leaves(1);
  EXPECT_TRUE(InclusionProof(d, 0).empty());
  EXPECT_TRUE(VerifyInclusion(d[0], 0, 1, {}, MerkleLeafHash(d[0])));
  EXPECT_FALSE(VerifyInclusion(d[0], 0, 0, {}, MerkleLeafHash(d[0])));
}

TEST_F(MerkleTest, HashFromHexRejectsWrongLengthAndNonHexNamingTheField) {
  Hash32 h = Sha256("x");
  auto ok = HashFromHex(HexEncode(h), "hash");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, h);
  auto short_hex = HashFromHex("abcd", "root_hash");
  ASSERT_FALSE(short_hex.ok());
  EXPECT_EQ(short_hex.error().field, "root_hash");
  EXPECT_EQ(short_hex.error().rule, "length");
  auto not_hex = HashFromHex(std::string(64, 'z'), "hash");
  ASSERT_FALSE(not_hex.ok());
  EXPECT_EQ(not_hex.error().rule, "hex");
}

}  // namespace
}  // namespace opsbox::ledger
