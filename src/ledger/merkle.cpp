#include "ledger/merkle.hpp"

#include <bit>
#include <cstring>
#include <string>

#include "core/assert.hpp"

namespace opsbox::ledger {
namespace {

// The largest power of two strictly less than n (n >= 2): the RFC 6962 split point.
uint64_t SplitPoint(uint64_t n) {
  OPSBOX_ASSERT(n >= 2);
  return std::bit_floor(n - 1);
}

// Hashes one level up. A lone last node is promoted unchanged: that is exactly the tree the
// RFC 6962 "largest power of two" split builds, computed bottom-up.
void ReduceLevel(std::vector<Hash32>& level) {
  size_t out = 0;
  for (size_t i = 0; i + 1 < level.size(); i += 2) {
    level[out++] = MerkleNodeHash(level[i], level[i + 1]);
  }
  if (level.size() % 2 == 1) level[out++] = level.back();
  level.resize(out);
}

}  // namespace

Hash32 MerkleLeafHash(const Hash32& leaf_data) {
  std::string buf(1 + leaf_data.size(), '\0');
  std::memcpy(buf.data() + 1, leaf_data.data(), leaf_data.size());
  return Sha256(buf);
}

Hash32 MerkleNodeHash(const Hash32& left, const Hash32& right) {
  std::string buf(1 + left.size() + right.size(), '\1');
  std::memcpy(buf.data() + 1, left.data(), left.size());
  std::memcpy(buf.data() + 1 + left.size(), right.data(), right.size());
  return Sha256(buf);
}

Hash32 MerkleEmptyRoot() { return Sha256(std::string_view()); }

Hash32 RootOf(std::span<const Hash32> leaf_data) {
  if (leaf_data.empty()) return MerkleEmptyRoot();
  std::vector<Hash32> level;
  level.reserve(leaf_data.size());
  for (const Hash32& d : leaf_data) level.push_back(MerkleLeafHash(d));
  while (level.size() > 1) ReduceLevel(level);
  return level.front();
}

std::vector<LeafRange> InclusionProofRanges(uint64_t index, uint64_t tree_size) {
  OPSBOX_ASSERT(index < tree_size);
  // Walk down from the root; each step keeps the half holding `index` and records the other
  // half, whose root is one audit-path entry. Recorded root-first, so reverse at the end.
  std::vector<LeafRange> ranges;
  uint64_t lo = 0, hi = tree_size;
  while (hi - lo > 1) {
    uint64_t mid = lo + SplitPoint(hi - lo);
    if (index < mid) {
      ranges.push_back({mid, hi});
      hi = mid;
    } else {
      ranges.push_back({lo, mid});
      lo = mid;
    }
  }
  return {ranges.rbegin(), ranges.rend()};
}

std::vector<Hash32> InclusionProof(std::span<const Hash32> leaf_data, uint64_t index) {
  OPSBOX_ASSERT(index < leaf_data.size());
  std::vector<Hash32> proof;
  for (const LeafRange& r : InclusionProofRanges(index, leaf_data.size())) {
    proof.push_back(RootOf(leaf_data.subspan(r.begin, r.end - r.begin)));
  }
  return proof;
}

bool VerifyInclusion(const Hash32& leaf_data, uint64_t index, uint64_t tree_size,
                     std::span<const Hash32> proof, const Hash32& root) {
  if (index >= tree_size) return false;
  uint64_t fn = index;
  uint64_t sn = tree_size - 1;
  Hash32 r = MerkleLeafHash(leaf_data);
  for (const Hash32& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = MerkleNodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = MerkleNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

void CompactRange::Append(const Hash32& leaf_data) {
  OPSBOX_ASSERT(size_ < UINT64_MAX);
  Hash32 h = MerkleLeafHash(leaf_data);
  // Each trailing one bit of size_ is a perfect subtree of the same height as h: merge them.
  for (uint64_t s = size_; (s & 1) == 1; s >>= 1) {
    h = MerkleNodeHash(subtree_roots_.back(), h);
    subtree_roots_.pop_back();
  }
  subtree_roots_.push_back(h);
  ++size_;
  OPSBOX_ASSERT(subtree_roots_.size() == static_cast<size_t>(std::popcount(size_)));
}

Hash32 CompactRange::Root() const {
  if (subtree_roots_.empty()) return MerkleEmptyRoot();
  Hash32 r = subtree_roots_.back();
  for (size_t i = subtree_roots_.size() - 1; i-- > 0;) {
    r = MerkleNodeHash(subtree_roots_[i], r);
  }
  return r;
}

Result<Hash32> HashFromHex(std::string_view hex, std::string_view field) {
  if (hex.size() != 64) {
    return Error::Invalid(std::string(field), "length",
                          "expected 64 hex digits (SHA-256), got " + std::to_string(hex.size()));
  }
  OPSBOX_ASSIGN_OR_RETURN(std::string bytes, HexDecode(hex, field));
  Hash32 out;
  std::memcpy(out.data(), bytes.data(), out.size());
  return out;
}

}  // namespace opsbox::ledger
