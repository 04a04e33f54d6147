// Train (intents.hpp): split, vocabulary, LIBLINEAR, calibration, thresholds, model card.
#include <linear.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/assert.hpp"
#include "intents/intents.hpp"
#include "intents/internal/model_data.hpp"

namespace opsbox::intents {
namespace {

constexpr double kLiblinearEpsilon = 0.01;
constexpr size_t kReliabilityBins = 10;
constexpr double kCoveragePoints[] = {1.0, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5};
// Golden-section search for the temperature, over ln T in this range.
constexpr double kLogTemperatureMin = -7.0, kLogTemperatureMax = 7.0;
constexpr int kTemperatureIterations = 80;

void Silent(const char*) {}

struct Split {
  std::vector<size_t> train, validation;  // indices into the examples
};

// Stratified: each intent gives round(share * n) examples, at least one, to validation.
Split StratifiedSplit(const std::vector<size_t>& labels, size_t classes, double share,
                      uint64_t seed) {
  std::vector<std::vector<size_t>> by_class(classes);
  for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(i);
  std::mt19937_64 gen(seed);
  Split s;
  for (auto& members : by_class) {
    std::shuffle(members.begin(), members.end(), gen);
    const auto held = std::max<size_t>(
        1, static_cast<size_t>(std::llround(share * static_cast<double>(members.size()))));
    for (size_t k = 0; k < members.size(); ++k) {
      (k < held ? s.validation : s.train).push_back(members[k]);
    }
  }
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.validation.begin(), s.validation.end());
  return s;
}

// Vocabulary of the training texts: n-grams in at least min_df texts, in hash order.
void BuildVocabulary(const std::vector<Example>& examples, const std::vector<size_t>& train,
                     size_t min_df, ModelData& m) {
  std::unordered_map<uint64_t, std::pair<uint32_t, uint8_t>> df;
  std::vector<detail::Gram> grams;
  std::vector<uint64_t> seen;
  for (size_t i : train) {
    grams.clear();
    detail::ExtractGrams(examples[i].text, grams);
    seen.clear();
    for (const auto& g : grams) seen.push_back(g.hash);
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    for (const auto& g : grams) df[g.hash].second = static_cast<uint8_t>(g.block);
    for (uint64_t h : seen) ++df[h].first;
  }
  std::vector<uint64_t> kept;
  for (const auto& [h, v] : df) {
    if (v.first >= min_df) kept.push_back(h);
  }
  std::sort(kept.begin(), kept.end());
  if (kept.size() > kFeaturesMax) kept.resize(kFeaturesMax);
  const double n = static_cast<double>(train.size());
  for (uint64_t h : kept) {
    const auto& [count, block] = df[h];
    m.hashes.push_back(h);
    m.blocks.push_back(block);
    m.idf.push_back(static_cast<float>(std::log((1.0 + n) / (1.0 + count)) + 1.0));
  }
  m.table.Build(m.hashes);
}

struct Scored {
  std::vector<float> scores;  // per class
  size_t label;
};

double Confidence(const std::vector<float>& s, double temperature, size_t* best_out) {
  const size_t best = static_cast<size_t>(std::max_element(s.begin(), s.end()) - s.begin());
  double sum = 0;
  for (float v : s) sum += std::exp((v - s[best]) / temperature);
  if (best_out) *best_out = best;
  return 1.0 / sum;
}

double NegLogLikelihood(const std::vector<Scored>& val, double temperature) {
  double nll = 0;
  for (const auto& v : val) {
    const float top = *std::max_element(v.scores.begin(), v.scores.end());
    double sum = 0;
    for (float s : v.scores) sum += std::exp((s - top) / temperature);
    nll -= (v.scores[v.label] - top) / temperature - std::log(sum);
  }
  return nll;
}

double FitTemperature(const std::vector<Scored>& val) {
  const double phi = (std::sqrt(5.0) - 1) / 2;
  double a = kLogTemperatureMin, b = kLogTemperatureMax;
  double c = b - phi * (b - a), d = a + phi * (b - a);
  double fc = NegLogLikelihood(val, std::exp(c)), fd = NegLogLikelihood(val, std::exp(d));
  for (int i = 0; i < kTemperatureIterations; ++i) {
    if (fc < fd) {
      b = d; d = c; fd = fc; c = b - phi * (b - a); fc = NegLogLikelihood(val, std::exp(c));
    } else {
      a = c; c = d; fc = fd; d = a + phi * (b - a); fd = NegLogLikelihood(val, std::exp(d));
    }
  }
  return std::exp((a + b) / 2);
}

struct Outcome {
  double confidence;
  size_t predicted;
  bool correct;
};

nlohmann::ordered_json Reliability(const std::vector<Outcome>& out, double* ece) {
  struct Bin { size_t n = 0; double conf = 0, correct = 0; };
  std::vector<Bin> bins(kReliabilityBins);
  for (const auto& o : out) {
    auto b = std::min(kReliabilityBins - 1,
                      static_cast<size_t>(o.confidence * static_cast<double>(kReliabilityBins)));
    ++bins[b].n;
    bins[b].conf += o.confidence;
    bins[b].correct += o.correct ? 1 : 0;
  }
  auto j = nlohmann::ordered_json::array();
  *ece = 0;
  for (size_t b = 0; b < kReliabilityBins; ++b) {
    const double lo = static_cast<double>(b) / kReliabilityBins;
    nlohmann::ordered_json row{{"confidence_min", lo},
                               {"confidence_max", lo + 1.0 / kReliabilityBins},
                               {"count", bins[b].n}};
    if (bins[b].n > 0) {
      const double mc = bins[b].conf / static_cast<double>(bins[b].n);
      const double acc = bins[b].correct / static_cast<double>(bins[b].n);
      row["mean_confidence"] = mc;
      row["accuracy"] = acc;
      *ece += std::abs(mc - acc) * static_cast<double>(bins[b].n) / static_cast<double>(out.size());
    }
    j.push_back(row);
  }
  return j;
}

// The lowest confidence at which the outcomes at or above it reach `target` precision; 1.0
// when no prefix does. `sorted` is by confidence, descending.
double PrecisionThreshold(const std::vector<Outcome>& sorted, double target) {
  double threshold = 1.0;
  size_t correct = 0;
  for (size_t k = 0; k < sorted.size(); ++k) {
    correct += sorted[k].correct ? 1 : 0;
    if (static_cast<double>(correct) >= target * static_cast<double>(k + 1)) {
      threshold = sorted[k].confidence;
    }
  }
  return threshold;
}

Status CheckInputs(const std::vector<Example>& examples, const TrainOptions& options,
                   const std::map<std::string, size_t>& counts) {
  if (!(options.validation_share > 0 && options.validation_share < 0.5)) {
    return Error::Invalid("validation_share", "range",
                          "the validation share must be above 0 and below 0.5");
  }
  if (!(options.target_precision > 0 && options.target_precision <= 1)) {
    return Error::Invalid("target_precision", "range", "the target precision must be in (0, 1]");
  }
  if (examples.size() > kTrainingRowsMax) {
    return Error::Invalid("data", "max_rows",
                          "more than " + std::to_string(kTrainingRowsMax) + " training rows");
  }
  if (counts.size() < 2) {
    return Error::Invalid("data", "min_classes", "training needs at least two intents");
  }
  if (counts.size() > kClassesMax) {
    return Error::Invalid("data", "max_classes",
                          "more than " + std::to_string(kClassesMax) + " intents");
  }
  for (const auto& [name, n] : counts) {
    if (n < 2) {
      return Error::Invalid("data", "min_examples",
                            "intent " + name + " has fewer than two examples");
    }
  }
  return Ok();
}

}  // namespace

namespace {

// Fits LIBLINEAR on the training vectors and copies its weights into m.weights.
int SolverOf(Learner learner) {
  switch (learner) {
    case Learner::kLogisticRegression: return L2R_LR;
    case Learner::kLinearSvm: return L2R_L2LOSS_SVC_DUAL;
    case Learner::kCrammerSinger: return MCSVM_CS;
  }
  return L2R_LR;
}

const char* SolverName(Learner learner) {
  switch (learner) {
    case Learner::kLogisticRegression: return "L2R_LR (one-vs-rest logistic regression)";
    case Learner::kLinearSvm: return "L2R_L2LOSS_SVC_DUAL (one-vs-rest linear SVM)";
    case Learner::kCrammerSinger: return "MCSVM_CS (Crammer-Singer multi-class SVM)";
  }
  return "";
}

Status FitLinear(const std::vector<detail::SparseVector>& xs, const std::vector<size_t>& labels,
                 Learner learner, double c, ModelData& m) {
  const size_t classes = m.intents.size();
  const size_t features = m.hashes.size();
  std::vector<std::vector<feature_node>> rows(xs.size());
  std::vector<feature_node*> row_ptrs(xs.size());
  std::vector<double> y(xs.size());
  const int bias_index = static_cast<int>(features) + 1;
  for (size_t i = 0; i < xs.size(); ++i) {
    for (size_t k = 0; k < xs[i].index.size(); ++k) {
      rows[i].push_back({static_cast<int>(xs[i].index[k]) + 1, xs[i].value[k]});
    }
    // LIBLINEAR documents its rows with ascending indices.
    std::sort(rows[i].begin(), rows[i].end(),
              [](const feature_node& a, const feature_node& b) { return a.index < b.index; });
    rows[i].push_back({bias_index, 1.0});
    rows[i].push_back({-1, 0.0});
    row_ptrs[i] = rows[i].data();
    y[i] = static_cast<double>(labels[i]);
  }
  problem prob{};
  prob.l = static_cast<int>(xs.size());
  prob.n = bias_index;
  prob.y = y.data();
  prob.x = row_ptrs.data();
  prob.bias = -1;  // the bias is the explicit last feature above
  parameter param{};
  param.solver_type = SolverOf(learner);
  param.eps = kLiblinearEpsilon;
  param.C = c;
  if (const char* err = check_parameter(&prob, &param)) {
    return Error::Invalid("data", "train", std::string("LIBLINEAR: ") + err);
  }
  set_print_string_function(&Silent);
  model* fitted = train(&prob, &param);
  if (fitted == nullptr) return Error::Invalid("data", "train", "LIBLINEAR returned no model");
  OPSBOX_ASSERT(fitted->nr_class == static_cast<int>(classes));
  m.weights.assign((features + 1) * classes, 0.0f);
  for (size_t k = 0; k < classes; ++k) {
    const auto cls = static_cast<size_t>(fitted->label[k]);
    for (size_t f = 0; f <= features; ++f) {
      // get_decfun_coef handles the two-class layout (one weight vector) too.
      m.weights[f * classes + cls] =
          static_cast<float>(get_decfun_coef(fitted, static_cast<int>(f) + 1, static_cast<int>(k)));
    }
  }
  free_and_destroy_model(&fitted);
  return Ok();
}

struct Evaluation {
  std::vector<Outcome> outcomes;  // calibrated, sorted by confidence descending
  double ece_before = 0, ece_after = 0;
  nlohmann::ordered_json reliability_before, reliability_after;
};

Evaluation Evaluate(const std::vector<Scored>& val, double temperature) {
  Evaluation e;
  std::vector<Outcome> raw;
  for (const auto& v : val) {
    size_t best = 0;
    const double raw_conf = Confidence(v.scores, 1.0, &best);
    raw.push_back({raw_conf, best, best == v.label});
    e.outcomes.push_back({Confidence(v.scores, temperature, nullptr), best, best == v.label});
  }
  e.reliability_before = Reliability(raw, &e.ece_before);
  e.reliability_after = Reliability(e.outcomes, &e.ece_after);
  std::stable_sort(e.outcomes.begin(), e.outcomes.end(),
                   [](const Outcome& a, const Outcome& b) { return a.confidence > b.confidence; });
  return e;
}

// Global and per-intent thresholds (TrainOptions::target_precision); returns the card section.
nlohmann::ordered_json SetThresholds(const Evaluation& e, double target, ModelData& m) {
  const double global = PrecisionThreshold(e.outcomes, target);
  m.thresholds.assign(m.intents.size(), global);
  auto per_intent = nlohmann::ordered_json::object();
  for (size_t k = 0; k < m.intents.size(); ++k) {
    std::vector<Outcome> mine;
    for (const auto& o : e.outcomes) {
      if (o.predicted == k) mine.push_back(o);
    }
    if (mine.size() >= kThresholdSupportMin) {
      m.thresholds[k] = std::max(global, PrecisionThreshold(mine, target));
    }
    per_intent[m.intents[k]] = m.thresholds[k];
  }
  size_t answered = 0, answered_correct = 0;
  for (const auto& o : e.outcomes) {
    if (o.confidence >= m.thresholds[o.predicted]) {
      ++answered;
      answered_correct += o.correct ? 1 : 0;
    }
  }
  const double n = static_cast<double>(e.outcomes.size());
  return {{"target_precision", target},
          {"support_min", kThresholdSupportMin},
          {"global", global},
          {"validation_answered_share", static_cast<double>(answered) / n},
          {"validation_answered_accuracy",
           answered ? static_cast<double>(answered_correct) / static_cast<double>(answered) : 0.0},
          {"per_intent", per_intent}};
}

nlohmann::ordered_json CoverageCurve(const std::vector<Outcome>& sorted) {
  auto curve = nlohmann::ordered_json::array();
  for (double coverage : kCoveragePoints) {
    const auto n = std::max<size_t>(
        1, static_cast<size_t>(std::ceil(coverage * static_cast<double>(sorted.size()))));
    size_t correct = 0;
    for (size_t k = 0; k < n; ++k) correct += sorted[k].correct ? 1 : 0;
    curve.push_back({{"coverage", coverage},
                     {"accuracy", static_cast<double>(correct) / static_cast<double>(n)},
                     {"confidence_min", sorted[n - 1].confidence}});
  }
  return curve;
}

}  // namespace

Result<Model> Train(const std::vector<Example>& examples, const TrainOptions& options) {
  std::map<std::string, size_t> counts;
  for (const auto& e : examples) ++counts[e.intent];
  OPSBOX_TRY(CheckInputs(examples, options, counts));
  Model model;
  ModelData& m = *model.data_;
  std::map<std::string, size_t> class_of;
  for (const auto& [name, n] : counts) {
    class_of[name] = m.intents.size();
    m.intents.push_back(name);
  }
  std::vector<size_t> labels;
  for (const auto& e : examples) labels.push_back(class_of[e.intent]);
  const Split split =
      StratifiedSplit(labels, m.intents.size(), options.validation_share, options.seed);
  BuildVocabulary(examples, split.train, options.min_document_frequency, m);

  std::vector<detail::SparseVector> xs(split.train.size());
  std::vector<size_t> ys;
  std::vector<detail::Gram> scratch;
  for (size_t k = 0; k < split.train.size(); ++k) {
    m.Vectorise(examples[split.train[k]].text, xs[k], scratch);
    ys.push_back(labels[split.train[k]]);
  }
  OPSBOX_TRY(FitLinear(xs, ys, options.learner, options.regularisation_c, m));

  std::vector<Scored> val;
  detail::SparseVector x;
  for (size_t i : split.validation) {
    m.Vectorise(examples[i].text, x, scratch);
    Scored s{{}, labels[i]};
    m.Scores(x, s.scores);
    val.push_back(std::move(s));
  }
  m.temperature = FitTemperature(val);
  const Evaluation e = Evaluate(val, m.temperature);
  const auto thresholds = SetThresholds(e, options.target_precision, m);
  const auto curve = CoverageCurve(e.outcomes);

  nlohmann::ordered_json card;
  card["format_version"] = kModelFormatVersion;
  card["created_at"] = options.created_at;
  card["classes"] = m.intents;
  card["data"] = {{"sources", options.sources},
                  {"rows", examples.size()},
                  {"rows_train", split.train.size()},
                  {"rows_validation", split.validation.size()},
                  {"validation_share", options.validation_share},
                  {"split", "stratified per intent"},
                  {"seed", options.seed}};
  card["features"] = {{"word_ngrams", {detail::kWordNgramMin, detail::kWordNgramMax}},
                      {"char_ngrams_in_words", {detail::kCharNgramMin, detail::kCharNgramMax}},
                      {"weighting", "tf-idf, sublinear tf, smooth idf, L2 per block"},
                      {"min_document_frequency", options.min_document_frequency},
                      {"count", m.hashes.size()}};
  card["learner"] = {{"library", "LIBLINEAR " + std::to_string(liblinear_version)},
                     {"solver", SolverName(options.learner)},
                     {"c", options.regularisation_c}};
  card["validation"] = {{"top1_accuracy", curve[0]["accuracy"]}, {"coverage", curve}};
  card["calibration"] = {{"method", "temperature scaling (minimum NLL on the validation split)"},
                         {"temperature", m.temperature},
                         {"ece_before", e.ece_before},
                         {"ece_after", e.ece_after},
                         {"reliability_before", e.reliability_before},
                         {"reliability_after", e.reliability_after}};
  card["thresholds"] = thresholds;
  m.card_json = card.dump(2);
  return model;
}

}  // namespace opsbox::intents
