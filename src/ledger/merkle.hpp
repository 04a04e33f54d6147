// The Merkle tree that summarises a tenant's ledger: RFC 6962 (Certificate Transparency) /
// RFC 9162 §2.1 over the tenant's events in seq order. Leaf i (0-based) is event seq i+1 and its
// leaf data is the 32 raw bytes of that event's hash.
//
//   LeafHash(d)   = SHA-256(0x00 || d)
//   NodeHash(l,r) = SHA-256(0x01 || l || r)
//   MTH({})       = SHA-256("")
//   MTH(D[n])     = NodeHash(MTH(D[0:k]), MTH(D[k:n])) with k the largest power of two < n
//
// Everything here is pure and iterative: no recursion, no I/O. Memory and time are stated per
// function. Thread safety: free functions are thread-safe; a CompactRange is a value, used by one
// thread at a time (copy it to share a snapshot).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/crypto.hpp"
#include "core/result.hpp"

namespace opsbox::ledger {

Hash32 MerkleLeafHash(const Hash32& leaf_data);
Hash32 MerkleNodeHash(const Hash32& left, const Hash32& right);
// MTH of the empty tree: SHA-256 of no bytes.
Hash32 MerkleEmptyRoot();

// MTH over `leaf_data` (in order). O(n) time, O(n) scratch memory.
Hash32 RootOf(std::span<const Hash32> leaf_data);

// A half-open range [begin, end) of 0-based leaf indices.
struct LeafRange {
  uint64_t begin = 0;
  uint64_t end = 0;
  friend bool operator==(const LeafRange&, const LeafRange&) = default;
};

// The subtrees whose roots form the audit path of leaf `index` in a tree of `tree_size` leaves,
// in audit-path order (nearest sibling first, the subtree beside the root last). The ranges are
// disjoint and together with `index` cover [0, tree_size), so a caller can stream the leaves once
// and hash each range with a CompactRange (bounded memory). Requires index < tree_size.
// O(log n).
std::vector<LeafRange> InclusionProofRanges(uint64_t index, uint64_t tree_size);

// The RFC 6962 audit path PATH(index, D[n]) for leaf `index` of `leaf_data`. Requires
// index < leaf_data.size(). O(n) time and scratch memory; the result has at most 64 hashes.
std::vector<Hash32> InclusionProof(std::span<const Hash32> leaf_data, uint64_t index);

// RFC 9162 §2.1.3.2: true when `proof` shows that `leaf_data` is leaf `index` of the tree of
// `tree_size` leaves whose root is `root`. False for index >= tree_size or any malformed proof.
bool VerifyInclusion(const Hash32& leaf_data, uint64_t index, uint64_t tree_size,
                     std::span<const Hash32> proof, const Hash32& root);

// The right frontier of a growing tree: the roots of its perfect subtrees, largest first. Append
// is O(log n) amortised O(1); Root is O(log n); memory is at most 64 hashes.
class CompactRange {
 public:
  void Append(const Hash32& leaf_data);
  // Equals RootOf(every appended leaf); MerkleEmptyRoot() when nothing was appended.
  Hash32 Root() const;
  uint64_t size() const { return size_; }

 private:
  std::vector<Hash32> subtree_roots_;  // one per set bit of size_, largest subtree first
  uint64_t size_ = 0;
};

// Parses a 64-digit hex SHA-256 (an event or root hash as stored). Error names `field`, rule "hex"
// or "length".
Result<Hash32> HashFromHex(std::string_view hex, std::string_view field);

}  // namespace opsbox::ledger
