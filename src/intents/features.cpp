// The featuriser (internal/model_data.hpp): n-gram hashing, the feature table and TF-IDF.
#include <algorithm>
#include <cmath>

#include "core/assert.hpp"
#include "intents/intents.hpp"
#include "intents/internal/model_data.hpp"

namespace opsbox::intents {
namespace detail {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;
// Seeds that keep word and character n-grams of the same bytes apart.
constexpr uint64_t kWordSeed = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kCharSeed = 0xc2b2ae3d27d4eb4fULL;

inline uint64_t Fnv(uint64_t h, unsigned char c) { return (h ^ c) * kFnvPrime; }

inline uint64_t Finish(uint64_t h, uint64_t seed) {
  h ^= seed;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h == 0 ? 1 : h;
}

inline bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

inline unsigned char Lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + ('a' - 'A')) : c;
}

void CharGrams(std::string_view word, std::vector<Gram>& out) {
  // The word padded with a space on each side, without copying it.
  const size_t len = word.size() + 2;
  auto at = [&](size_t i) -> unsigned char {
    return (i == 0 || i == len - 1) ? ' ' : Lower(static_cast<unsigned char>(word[i - 1]));
  };
  for (size_t start = 0; start + kCharNgramMin <= len; ++start) {
    uint64_t h = kFnvOffset;
    for (size_t n = 1; n <= kCharNgramMax && start + n <= len; ++n) {
      h = Fnv(h, at(start + n - 1));
      if (n >= kCharNgramMin) out.push_back(Gram{Finish(h, kCharSeed + n), Block::kChar});
    }
  }
}

}  // namespace

void ExtractGrams(std::string_view text, std::vector<Gram>& out) {
  static_assert(kWordNgramMin == 1 && kWordNgramMax == 2);
  uint64_t previous_word = 0;
  bool have_previous = false;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    const size_t start = i;
    uint64_t h = kFnvOffset;
    while (i < text.size() && IsWordByte(static_cast<unsigned char>(text[i]))) {
      h = Fnv(h, Lower(static_cast<unsigned char>(text[i])));
      ++i;
    }
    if (i == start) break;
    out.push_back(Gram{Finish(h, kWordSeed), Block::kWord});
    if (have_previous) {
      out.push_back(Gram{Finish(previous_word * 31 + h, kWordSeed + 2), Block::kWord});
    }
    previous_word = h;
    have_previous = true;
    CharGrams(text.substr(start, i - start), out);
  }
}

void FeatureTable::Build(const std::vector<uint64_t>& hashes) {
  size_t capacity = 16;
  while (capacity < hashes.size() * 2) capacity <<= 1;
  keys_.assign(capacity, 0);
  values_.assign(capacity, 0);
  mask_ = capacity - 1;
  for (size_t i = 0; i < hashes.size(); ++i) {
    OPSBOX_ASSERT(hashes[i] != 0);
    size_t slot = Mix(hashes[i]) & mask_;
    while (keys_[slot] != 0) {
      OPSBOX_ASSERT(keys_[slot] != hashes[i]);  // each n-gram has one feature
      slot = (slot + 1) & mask_;
    }
    keys_[slot] = hashes[i];
    values_[slot] = static_cast<uint32_t>(i);
  }
}

}  // namespace detail

void WeighFeatures(const ModelData& m, std::vector<std::pair<uint32_t, uint32_t>>& counts,
                   detail::SparseVector& out) {
  out.index.clear();
  out.value.clear();
  double norm_sq[detail::kBlocks] = {0, 0};
  for (const auto& [index, count] : counts) {
    const double v = (1.0 + std::log(static_cast<double>(count))) * m.idf[index];
    out.index.push_back(index);
    out.value.push_back(static_cast<float>(v));
    norm_sq[m.blocks[index]] += v * v;
  }
  double inv[detail::kBlocks];
  for (size_t b = 0; b < detail::kBlocks; ++b) {
    inv[b] = norm_sq[b] > 0 ? 1.0 / std::sqrt(norm_sq[b]) : 0.0;
  }
  for (size_t k = 0; k < out.index.size(); ++k) {
    out.value[k] = static_cast<float>(out.value[k] * inv[m.blocks[out.index[k]]]);
  }
}

void ModelData::Vectorise(std::string_view text, detail::SparseVector& out,
                          std::vector<detail::Gram>& scratch) const {
  if (text.size() > kTextBytesMax) text = text.substr(0, kTextBytesMax);
  scratch.clear();
  detail::ExtractGrams(text, scratch);
  // Counts per feature without sorting the occurrences: a per-thread slot per feature remembers
  // where in `counts` this text's entry is (valid when stamped with this call's generation).
  thread_local std::vector<uint32_t> slot_stamp, slot_at;
  thread_local uint32_t generation = 0;
  thread_local std::vector<std::pair<uint32_t, uint32_t>> counts;
  if (slot_stamp.size() < hashes.size()) {
    slot_stamp.assign(hashes.size(), 0);
    slot_at.assign(hashes.size(), 0);
    generation = 0;
  }
  if (++generation == 0) {  // wrapped: forget every stamp
    std::fill(slot_stamp.begin(), slot_stamp.end(), 0);
    generation = 1;
  }
  counts.clear();
  for (const auto& g : scratch) {
    const int64_t found = table.Find(g.hash);
    if (found < 0) continue;
    const auto f = static_cast<uint32_t>(found);
    if (slot_stamp[f] == generation) {
      ++counts[slot_at[f]].second;
    } else {
      slot_stamp[f] = generation;
      slot_at[f] = static_cast<uint32_t>(counts.size());
      counts.emplace_back(f, 1);
    }
  }
  WeighFeatures(*this, counts, out);
}

void ModelData::Scores(const detail::SparseVector& x, std::vector<float>& scores) const {
  const size_t classes = intents.size();
  const size_t features = hashes.size();
  scores.assign(weights.begin() + static_cast<std::ptrdiff_t>(features * classes),
                weights.begin() + static_cast<std::ptrdiff_t>((features + 1) * classes));
  float* s = scores.data();
  for (size_t k = 0; k < x.index.size(); ++k) {
    const float v = x.value[k];
    const float* row = weights.data() + static_cast<size_t>(x.index[k]) * classes;
    for (size_t c = 0; c < classes; ++c) s[c] += v * row[c];
  }
}

}  // namespace opsbox::intents
