// What a trained model holds, and the featuriser Train() and Classify() share (internal to
// src/intents; nobody else includes it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace opsbox::intents {

namespace detail {

// Which TF-IDF block an n-gram belongs to; each block is L2-normalised on its own.
enum class Block : uint8_t { kWord = 0, kChar = 1 };
inline constexpr size_t kBlocks = 2;

// One n-gram occurrence: its 64-bit hash (the block is mixed into it; never 0).
struct Gram {
  uint64_t hash;
  Block block;
};

inline constexpr size_t kWordNgramMin = 1, kWordNgramMax = 2;
inline constexpr size_t kCharNgramMin = 2, kCharNgramMax = 5;

// Appends every n-gram of `text` to `out`: lower-cased ASCII, words are runs of letters and
// digits (bytes >= 0x80 count as letters, so UTF-8 words stay whole); word 1–2-grams; character
// 2–5-grams of each word padded with one space on each side.
void ExtractGrams(std::string_view text, std::vector<Gram>& out);

// Open addressing from n-gram hash to feature index (linear probing, power-of-two capacity,
// at most half full). Key 0 marks an empty slot; ExtractGrams never yields hash 0.
class FeatureTable {
 public:
  void Build(const std::vector<uint64_t>& hashes);  // feature i has hashes[i]
  // The feature index or -1.
  int64_t Find(uint64_t hash) const {
    size_t slot = Mix(hash) & mask_;
    while (true) {
      const uint64_t k = keys_[slot];
      if (k == hash) return values_[slot];
      if (k == 0) return -1;
      slot = (slot + 1) & mask_;
    }
  }

 private:
  static uint64_t Mix(uint64_t h) { return (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ULL; }
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> values_;
  size_t mask_ = 0;
};

// A sparse TF-IDF vector: feature indices (each once, in first-occurrence order) and values.
struct SparseVector {
  std::vector<uint32_t> index;
  std::vector<float> value;
};

}  // namespace detail

struct ModelData {
  std::vector<std::string> intents;   // class index -> intent name
  std::vector<uint64_t> hashes;       // feature index -> n-gram hash
  std::vector<uint8_t> blocks;        // feature index -> detail::Block
  std::vector<float> idf;             // feature index -> inverse document frequency
  // Row-major [feature][class] weights, then one bias row: (features + 1) * classes floats.
  std::vector<float> weights;
  double temperature = 1.0;           // calibrated probabilities = softmax(scores / temperature)
  std::vector<double> thresholds;     // class index -> confidence threshold
  std::string card_json;
  detail::FeatureTable table;         // built from `hashes` after training or loading

  // Turns text into its TF-IDF vector (the first kTextBytesMax bytes).
  void Vectorise(std::string_view text, detail::SparseVector& out,
                 std::vector<detail::Gram>& scratch) const;
  // Class scores w·x + b for one vector: `scores` gets one value per class.
  void Scores(const detail::SparseVector& x, std::vector<float>& scores) const;
};

// Shared between Train (fitting) and Classify: the TF-IDF weighting of one text's n-gram
// counts. `counts` are (index, count) pairs, each index once; values are (1 + ln count) * idf,
// L2-normalised per block.
void WeighFeatures(const ModelData& m, std::vector<std::pair<uint32_t, uint32_t>>& counts,
                   detail::SparseVector& out);

}  // namespace opsbox::intents
