// Intent classification for text channels (issue #12, "Intent classification").
//
// What it does: Train() fits a linear classifier over TF-IDF features (word 1–2-grams and
// character 2–5-grams inside word boundaries, each block L2-normalised) with LIBLINEAR
// (L2-regularised logistic regression, one-vs-rest), calibrates its confidence on a held-out
// validation split (temperature scaling of the class scores, fitted by minimum negative
// log-likelihood), and picks a confidence threshold per intent below which the answer is
// kUnknownIntent (the contact then goes to a human). Model::Classify() answers one text.
//
// The model file is versioned (kModelFormatVersion); Load() refuses any other version and any
// file whose checksum does not match. It carries a model card (JSON): classes, data, features,
// learner, validation accuracy and coverage curve, the reliability curve before and after
// calibration, and the thresholds. The validation split is also the calibration split, so the
// reliability curve "after" is measured on the data the one temperature parameter was fitted
// on (one parameter, ~1,000 examples); top-1 accuracy and the coverage curve do not depend on
// calibration (it keeps the order of confidences).
//
// Thread safety: a loaded Model is immutable; Classify() may be called from any number of
// threads at once. Train() is pure apart from CPU time (no I/O, no clock, seeded randomness).
// Exceptions never leave this module: failures are Result errors naming the field and rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace opsbox::intents {

// The model file layout version this build reads and writes.
inline constexpr uint32_t kModelFormatVersion = 1;
// The intent a classification answers when the best intent's confidence is below its threshold.
inline constexpr std::string_view kUnknownIntent = "unknown";

// Limits (STYLE.md house rule 4).
inline constexpr size_t kTextBytesMax = 4096;            // Classify() reads at most this prefix
inline constexpr size_t kTrainingRowsMax = 1'000'000;    // rows over all training CSVs
inline constexpr size_t kTrainingTextBytesMax = 4096;    // one training text
inline constexpr size_t kIntentNameBytesMax = 100;       // one intent (category) name
inline constexpr size_t kClassesMax = 1000;              // distinct intents in one model
inline constexpr size_t kFeaturesMax = 4'000'000;        // vocabulary entries in one model
inline constexpr size_t kAlternativesMax = 10;           // alternatives one answer may list
inline constexpr size_t kAlternativesDefault = 3;
inline constexpr uint64_t kModelFileBytesMax = uint64_t{1} << 30;

// One labelled example: a customer's text and its intent.
struct Example {
  std::string text;
  std::string intent;
};

// Parses a training CSV: a header row naming the columns `text` and `category` (any order,
// other columns ignored), RFC 4180 quoting (quoted fields may span lines), UTF-8. Errors name
// the line and the rule: "header", "csv_quote", "required" (empty text or category),
// "max_bytes" (kTrainingTextBytesMax, kIntentNameBytesMax), "max_rows" (kTrainingRowsMax).
// `source` names the input in error messages.
Result<std::vector<Example>> ParseTrainingCsv(std::string_view csv, std::string_view source);

// LIBLINEAR's solver: one-vs-rest L2-regularised logistic regression (the default), one-vs-rest
// L2-loss linear SVM (dual), or Crammer and Singer's multi-class SVM. Confidence is the
// temperature-scaled softmax of the class scores for each.
enum class Learner { kLogisticRegression, kLinearSvm, kCrammerSinger };

struct TrainOptions {
  Learner learner = Learner::kLogisticRegression;
  double validation_share = 0.1;   // share of each intent's examples held out (0 < x < 0.5)
  uint64_t seed = 1;               // the stratified split's shuffle
  double regularisation_c = 10.0;  // LIBLINEAR's C (inverse regularisation strength)
  size_t min_document_frequency = 2;  // n-grams seen in fewer training texts are dropped
  // Per-intent threshold: the lowest confidence at which the intent's validation predictions
  // reach this precision (at least kThresholdSupportMin predictions, else the global one).
  double target_precision = 0.95;
  std::vector<std::string> sources;  // data sources, as named in the model card
  std::string created_at;            // RFC 3339, recorded in the model card
};

// Predictions of one intent on the validation split below this count use the global threshold.
inline constexpr size_t kThresholdSupportMin = 5;

struct Alternative {
  std::string intent;
  double confidence = 0;  // calibrated probability, 0–1
};

struct Classification {
  // The best intent, or kUnknownIntent when its confidence is below that intent's threshold.
  std::string intent;
  double confidence = 0;  // the best intent's calibrated probability (also when unknown)
  // With kUnknownIntent, the first alternative is the best intent; otherwise the runners-up.
  std::vector<Alternative> alternatives;
};

struct ModelData;  // internal/model_data.hpp

class Model {
 public:
  Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  // Reads and checks a model file: rule "format_version" (another layout version), "format"
  // (not a model file, truncated, checksum mismatch), "max_bytes" (kModelFileBytesMax),
  // "io" (cannot read). The field is "model".
  static Result<Model> Load(const std::string& path);
  static Result<Model> Parse(std::string_view bytes);

  // The file bytes (magic, version, card, tables, checksum); Save writes them atomically
  // (temporary file + rename).
  std::string Serialize() const;
  Status Save(const std::string& path) const;

  // Classifies one text (the first kTextBytesMax bytes). `alternatives` is capped at
  // kAlternativesMax and at the number of intents.
  Classification Classify(std::string_view text,
                          size_t alternatives = kAlternativesDefault) const;

  const std::vector<std::string>& intents() const;
  double threshold(size_t intent_index) const;
  // The model card as JSON text (see the file comment).
  const std::string& card_json() const;

 private:
  friend Result<Model> Train(const std::vector<Example>&, const TrainOptions&);
  std::unique_ptr<ModelData> data_;
};

// Trains, calibrates and evaluates on a stratified split of `examples`. Errors: rule
// "min_classes" (fewer than two intents), "max_classes", "validation_share" (out of range),
// "min_examples" (an intent with fewer than two examples, named), "train" (LIBLINEAR refused).
Result<Model> Train(const std::vector<Example>& examples, const TrainOptions& options);

// The models the server classifies with: one per tenant that names its own, else the default
// (issue #12, "Serving"; config keys intents.model_path and intents.tenant_model_paths).
// Loaded once at start-up; immutable afterwards, so For() and the models are thread-safe.
class TenantModels {
 public:
  // `default_path` "" = no default; `tenant_paths` entries are "tenant=path". Errors name the
  // config key ("intents.model_path" or "intents.tenant_model_paths") and the rule: "format"
  // (an entry without '=' or with an empty side), "duplicate" (a tenant named twice), or the
  // model file's own rule (Model::Load).
  static Result<TenantModels> Load(const std::string& default_path,
                                   const std::vector<std::string>& tenant_paths);
  // The tenant's model, else the default, else nullptr (no classification).
  const Model* For(std::string_view tenant) const;
  bool empty() const { return !default_ && by_tenant_.empty(); }

 private:
  std::shared_ptr<const Model> default_;
  std::map<std::string, std::shared_ptr<const Model>, std::less<>> by_tenant_;
};

// Validates one intents.tenant_model_paths entry ("tenant=path") without loading the file.
Status CheckTenantModelPath(std::string_view entry, std::string_view key);

// Writes one classification as the CLI and API wire object:
// {"intent":"…","confidence":0.97,"alternatives":[{"intent":"…","confidence":0.01},…]}
// with confidences rounded to 4 decimals.
std::string ClassificationJson(const Classification& c);

}  // namespace opsbox::intents
