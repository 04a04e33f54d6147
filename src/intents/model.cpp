// Model: the file format, loading and classification (intents.hpp).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/assert.hpp"
#include "intents/intents.hpp"
#include "intents/internal/model_data.hpp"

namespace opsbox::intents {
namespace {

static_assert(std::endian::native == std::endian::little, "the model file is little-endian");

constexpr std::string_view kMagic = "OPSBOX-INTENTS\n";
constexpr std::string_view kVersionPrefix = "format_version ";

uint64_t Checksum(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

template <class T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void PutString(std::string& out, std::string_view s) {
  Put<uint64_t>(out, s.size());
  out.append(s);
}

Error FormatError(const std::string& what) {
  return Error::Invalid("model", "format", "not a valid intent model file: " + what);
}

// Reads the binary sections in order; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  template <class T>
  bool Get(T& v) {
    if (b_.size() - pos_ < sizeof v) return false;
    std::memcpy(&v, b_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return true;
  }
  bool GetString(std::string& s, uint64_t bytes_max) {
    uint64_t n = 0;
    if (!Get(n) || n > bytes_max || b_.size() - pos_ < n) return false;
    s.assign(b_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  template <class T>
  bool GetArray(std::vector<T>& v, uint64_t count) {
    if (count > (b_.size() - pos_) / sizeof(T)) return false;
    v.resize(count);
    std::memcpy(v.data(), b_.data() + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
    return true;
  }
  bool AtEnd() const { return pos_ == b_.size(); }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

}  // namespace

Model::Model() : data_(std::make_unique<ModelData>()) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

const std::vector<std::string>& Model::intents() const { return data_->intents; }
double Model::threshold(size_t intent_index) const { return data_->thresholds.at(intent_index); }
const std::string& Model::card_json() const { return data_->card_json; }

std::string Model::Serialize() const {
  const ModelData& m = *data_;
  std::string out(kMagic);
  out += std::string(kVersionPrefix) + std::to_string(kModelFormatVersion) + "\n";
  PutString(out, m.card_json);
  Put<uint32_t>(out, static_cast<uint32_t>(m.intents.size()));
  for (const auto& name : m.intents) PutString(out, name);
  Put<uint64_t>(out, m.hashes.size());
  out.append(reinterpret_cast<const char*>(m.hashes.data()), m.hashes.size() * sizeof(uint64_t));
  out.append(reinterpret_cast<const char*>(m.blocks.data()), m.blocks.size());
  out.append(reinterpret_cast<const char*>(m.idf.data()), m.idf.size() * sizeof(float));
  Put<double>(out, m.temperature);
  out.append(reinterpret_cast<const char*>(m.thresholds.data()),
             m.thresholds.size() * sizeof(double));
  out.append(reinterpret_cast<const char*>(m.weights.data()), m.weights.size() * sizeof(float));
  Put<uint64_t>(out, Checksum(out));
  return out;
}

Result<Model> Model::Parse(std::string_view bytes) {
  if (bytes.size() > kModelFileBytesMax) {
    return Error::Invalid("model", "max_bytes",
                          "the model file is larger than " + std::to_string(kModelFileBytesMax) +
                              " bytes");
  }
  if (bytes.substr(0, kMagic.size()) != kMagic) return FormatError("no OPSBOX-INTENTS header");
  bytes.remove_prefix(kMagic.size());
  const size_t eol = bytes.find('\n');
  if (eol == std::string_view::npos || bytes.substr(0, kVersionPrefix.size()) != kVersionPrefix) {
    return FormatError("no format_version line");
  }
  const std::string version(bytes.substr(kVersionPrefix.size(), eol - kVersionPrefix.size()));
  if (version != std::to_string(kModelFormatVersion)) {
    return Error::Invalid("model", "format_version",
                          "the model file has format version " + version.substr(0, 20) +
                              "; this build reads version " +
                              std::to_string(kModelFormatVersion) + " (train the model again)");
  }
  const std::string_view whole(bytes.data() - kMagic.size(), bytes.size() + kMagic.size());
  if (whole.size() < kMagic.size() + eol + 1 + sizeof(uint64_t)) return FormatError("truncated");
  const std::string_view body = whole.substr(0, whole.size() - sizeof(uint64_t));
  uint64_t stored = 0;
  std::memcpy(&stored, whole.data() + body.size(), sizeof stored);
  if (stored != Checksum(body)) return FormatError("checksum mismatch (truncated or altered)");

  Model model;
  ModelData& m = *model.data_;
  Reader r(body.substr(kMagic.size() + eol + 1));
  uint32_t classes = 0;
  uint64_t features = 0;
  if (!r.GetString(m.card_json, kModelFileBytesMax) || !r.Get(classes) || classes < 2 ||
      classes > kClassesMax) {
    return FormatError("bad card or class count");
  }
  m.intents.resize(classes);
  for (auto& name : m.intents) {
    if (!r.GetString(name, kIntentNameBytesMax)) return FormatError("bad intent name");
  }
  if (!r.Get(features) || features > kFeaturesMax || !r.GetArray(m.hashes, features) ||
      !r.GetArray(m.blocks, features) || !r.GetArray(m.idf, features) ||
      !r.Get(m.temperature) || !r.GetArray(m.thresholds, classes) ||
      !r.GetArray(m.weights, (features + 1) * classes) || !r.AtEnd()) {
    return FormatError("truncated tables");
  }
  for (size_t i = 0; i < features; ++i) {
    if (m.hashes[i] == 0 || m.blocks[i] >= detail::kBlocks) return FormatError("bad feature");
  }
  if (!(m.temperature > 0) || !std::isfinite(m.temperature)) return FormatError("bad temperature");
  std::vector<uint64_t> sorted = m.hashes;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return FormatError("duplicate feature");
  }
  m.table.Build(m.hashes);
  return model;
}

Result<Model> Model::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Invalid("model", "io", "cannot open the model file " + path);
  in.seekg(0, std::ios::end);
  const auto size = static_cast<uint64_t>(in.tellg());
  if (size > kModelFileBytesMax) {
    return Error::Invalid("model", "max_bytes",
                          "the model file is larger than " + std::to_string(kModelFileBytesMax) +
                              " bytes");
  }
  in.seekg(0);
  std::string bytes(size, '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    return Error::Invalid("model", "io", "cannot read the model file " + path);
  }
  return Parse(bytes);
}

Status Model::Save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    const std::string bytes = Serialize();
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return Error::Invalid("out", "io", "cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error::Invalid("out", "io", "cannot rename " + tmp + " to " + path);
  }
  return Ok();
}

Classification Model::Classify(std::string_view text, size_t alternatives) const {
  const ModelData& m = *data_;
  thread_local detail::SparseVector x;
  thread_local std::vector<detail::Gram> grams;
  thread_local std::vector<float> scores;
  thread_local std::vector<uint32_t> order;
  m.Vectorise(text, x, grams);
  m.Scores(x, scores);
  const size_t classes = scores.size();
  const float top_score = *std::max_element(scores.begin(), scores.end());
  const float inv_t = static_cast<float>(1.0 / m.temperature);
  float sum = 0;
  for (float& s : scores) {
    s = std::exp((s - top_score) * inv_t);
    sum += s;
  }
  order.resize(classes);
  std::iota(order.begin(), order.end(), 0u);
  const size_t listed = std::min({alternatives, kAlternativesMax, classes - 1}) + 1;
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(listed),
                    order.end(), [&](uint32_t a, uint32_t b) {
                      return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
                    });
  Classification c;
  const uint32_t best = order[0];
  c.confidence = scores[best] / sum;
  const bool known = c.confidence >= m.thresholds[best];
  c.intent = known ? m.intents[best] : std::string(kUnknownIntent);
  const size_t first = known ? 1 : 0;
  const size_t last = known ? listed : listed - 1;
  for (size_t k = first; k < last; ++k) {
    c.alternatives.push_back(Alternative{m.intents[order[k]], scores[order[k]] / sum});
  }
  return c;
}

std::string ClassificationJson(const Classification& c) {
  auto round4 = [](double v) { return std::round(v * 1e4) / 1e4; };
  nlohmann::ordered_json j;
  j["intent"] = c.intent;
  j["confidence"] = round4(c.confidence);
  j["alternatives"] = nlohmann::ordered_json::array();
  for (const auto& a : c.alternatives) {
    j["alternatives"].push_back({{"intent", a.intent}, {"confidence", round4(a.confidence)}});
  }
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace opsbox::intents
