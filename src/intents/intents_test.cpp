// Goal: the intent classifier's contract (intents.hpp) — training CSV parsing, training on a
// small fixture (tests/data/intents/small.csv, four intents, a few seconds at most), the
// classification's shape, the threshold that answers "unknown", the text limit, and the model
// file's version and checksum checks.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "intents/intents.hpp"

namespace opsbox::intents {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Example> Fixture() {
  auto parsed = ParseTrainingCsv(ReadFile(std::string(OPSBOX_SOURCE_DIR) +
                                          "/tests/data/intents/small.csv"),
                                 "small.csv");
  EXPECT_TRUE(parsed.ok()) << parsed.error().ToString();
  return parsed.ok() ? *parsed : std::vector<Example>{};
}

// Trained once for the whole file (seed printed for reproduction).
const Model& FixtureModel() {
  static const Model model = [] {
    TrainOptions options;
    options.validation_share = 0.2;
    options.seed = 7;
    std::cout << "training seed " << options.seed << "\n";
    auto m = Train(Fixture(), options);
    EXPECT_TRUE(m.ok()) << m.error().ToString();
    return std::move(m).value();
  }();
  return model;
}

TEST(IntentsCsv, ReadsQuotedFieldsAndColumnsInAnyOrder) {
  auto r = ParseTrainingCsv("category,note,text\ntop_up,x,\"Hello, \"\"world\"\"\nagain\"\n"
                            "change_pin,,Reset my PIN\r\n",
                            "t.csv");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].text, "Hello, \"world\"\nagain");
  EXPECT_EQ((*r)[0].intent, "top_up");
  EXPECT_EQ((*r)[1].text, "Reset my PIN");
}

TEST(IntentsCsv, RefusesAHeaderWithoutCategory) {
  auto r = ParseTrainingCsv("text,label\nhello,top_up\n", "t.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "header");
}

TEST(IntentsCsv, NamesTheLineOfAnUnclosedQuote) {
  auto r = ParseTrainingCsv("text,category\nok,top_up\n\"never closed,top_up\n", "t.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "csv_quote");
  EXPECT_EQ(r.error().field, "line 3");
}

TEST(IntentsCsv, RefusesAnEmptyCategoryAndTheReservedUnknown) {
  EXPECT_EQ(ParseTrainingCsv("text,category\nhello,\n", "t").error().rule, "required");
  EXPECT_EQ(ParseTrainingCsv("text,category\nhello,unknown\n", "t").error().rule, "reserved");
}

TEST(IntentsCsv, AcceptsATextAtTheByteLimitAndRefusesOneByteMore) {
  const std::string at(kTrainingTextBytesMax, 'a');
  EXPECT_TRUE(ParseTrainingCsv("text,category\n" + at + ",x\n", "t").ok());
  auto r = ParseTrainingCsv("text,category\n" + at + "a,x\n", "t");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "max_bytes");
}

TEST(IntentsTrain, RefusesASingleIntentAndAnIntentWithOneExample) {
  std::vector<Example> one{{"a", "x"}, {"b", "x"}};
  EXPECT_EQ(Train(one, {}).error().rule, "min_classes");
  std::vector<Example> thin{{"a", "x"}, {"b", "x"}, {"c", "y"}};
  auto r = Train(thin, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "min_examples");
  EXPECT_NE(r.error().message.find("y"), std::string::npos);
}

TEST(IntentsTrain, RefusesAValidationShareOutOfRange) {
  TrainOptions options;
  options.validation_share = 0.5;
  EXPECT_EQ(Train(Fixture(), options).error().rule, "range");
}

TEST(IntentsTrain, ClassifiesUnseenPhrasingsOfTheFixtureIntents) {
  const Model& m = FixtureModel();
  EXPECT_EQ(m.intents().size(), 4u);
  auto best = [&](std::string_view text) {
    const auto c = m.Classify(text);
    return c.intent == kUnknownIntent ? c.alternatives.at(0).intent : c.intent;
  };
  EXPECT_EQ(best("my card still has not arrived"), "card_arrival");
  EXPECT_EQ(best("somebody stole my card"), "lost_or_stolen_card");
  EXPECT_EQ(best("how can I top up my balance"), "top_up");
  EXPECT_EQ(best("I would like a new PIN"), "change_pin");
}

TEST(IntentsClassify, AnswersIntentConfidenceAndRankedAlternatives) {
  const Model& m = FixtureModel();
  const auto c = m.Classify("When will my card arrive?", 2);
  EXPECT_EQ(c.intent, "card_arrival");
  EXPECT_GT(c.confidence, 0.0);
  EXPECT_LE(c.confidence, 1.0);
  ASSERT_EQ(c.alternatives.size(), 2u);
  EXPECT_GE(c.confidence, c.alternatives[0].confidence);
  EXPECT_GE(c.alternatives[0].confidence, c.alternatives[1].confidence);
  EXPECT_NE(c.alternatives[0].intent, c.intent);
  const auto j = nlohmann::json::parse(ClassificationJson(c));
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j["intent"], "card_arrival");
  EXPECT_TRUE(j["confidence"].is_number());
  ASSERT_EQ(j["alternatives"].size(), 2u);
  EXPECT_EQ(j["alternatives"][0].size(), 2u);
  EXPECT_TRUE(j["alternatives"][0]["intent"].is_string());
}

TEST(IntentsClassify, AlternativesAreCappedByTheNumberOfOtherIntents) {
  EXPECT_EQ(FixtureModel().Classify("top up", 50).alternatives.size(), 3u);
}

TEST(IntentsClassify, AnswersUnknownBelowTheIntentsThresholdAndListsTheBestFirst) {
  const Model& m = FixtureModel();
  const auto c = m.Classify("zqxj vvkw");  // no n-gram the model knows
  EXPECT_EQ(c.intent, kUnknownIntent);
  ASSERT_FALSE(c.alternatives.empty());
  const auto& names = m.intents();
  const size_t best = static_cast<size_t>(
      std::find(names.begin(), names.end(), c.alternatives[0].intent) - names.begin());
  ASSERT_LT(best, names.size());
  EXPECT_LT(c.confidence, m.threshold(best));
  EXPECT_DOUBLE_EQ(c.confidence, c.alternatives[0].confidence);
}

TEST(IntentsClassify, AnswersAnIntentExactlyWhenItsConfidenceReachesItsThreshold) {
  const Model& m = FixtureModel();
  size_t known = 0;
  for (const auto& e : Fixture()) {
    const auto c = m.Classify(e.text);
    const std::string best = c.intent == kUnknownIntent ? c.alternatives.at(0).intent : c.intent;
    const auto& names = m.intents();
    const size_t k = static_cast<size_t>(std::find(names.begin(), names.end(), best) -
                                         names.begin());
    EXPECT_EQ(c.intent != kUnknownIntent, c.confidence >= m.threshold(k)) << e.text;
    known += c.intent != kUnknownIntent;
  }
  EXPECT_GT(known, 0u);
}

TEST(IntentsClassify, ReadsTheTextUpToTheByteLimitAndIgnoresTheRest) {
  const Model& m = FixtureModel();
  std::string at_limit(kTextBytesMax - 12, ' ');
  at_limit += "stolen card";
  at_limit.resize(kTextBytesMax, ' ');
  const auto a = m.Classify(at_limit);
  const auto b = m.Classify(at_limit + " top up top up top up");
  EXPECT_EQ(a.intent, b.intent);
  EXPECT_DOUBLE_EQ(a.confidence, b.confidence);
  EXPECT_NE(m.Classify(at_limit.substr(1) + "top up top up top up").confidence, a.confidence);
}

TEST(IntentsModelFile, SavedModelLoadsAndClassifiesAlike) {
  const Model& m = FixtureModel();
  const std::string path = ::testing::TempDir() + "/intents_test.model";
  ASSERT_TRUE(m.Save(path).ok());
  auto loaded = Model::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ(loaded->intents(), m.intents());
  EXPECT_EQ(loaded->card_json(), m.card_json());
  for (const auto& e : Fixture()) {
    EXPECT_EQ(ClassificationJson(loaded->Classify(e.text)), ClassificationJson(m.Classify(e.text)));
  }
  std::remove(path.c_str());
}

TEST(IntentsModelFile, RefusesAModelFileWithAnotherFormatVersion) {
  std::string bytes = FixtureModel().Serialize();
  const std::string line = "format_version " + std::to_string(kModelFormatVersion) + "\n";
  const auto at = bytes.find(line);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, line.size(), "format_version " + std::to_string(kModelFormatVersion + 1) +
                                     "\n");
  auto r = Model::Parse(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "model");
  EXPECT_EQ(r.error().rule, "format_version");
}

TEST(IntentsModelFile, RefusesATruncatedOrAlteredFile) {
  const std::string bytes = FixtureModel().Serialize();
  EXPECT_EQ(Model::Parse(bytes.substr(0, bytes.size() - 1)).error().rule, "format");
  std::string altered = bytes;
  altered[altered.size() / 2] ^= 0x01;
  EXPECT_EQ(Model::Parse(altered).error().rule, "format");
  EXPECT_EQ(Model::Parse("hello").error().rule, "format");
}

TEST(IntentsModelFile, CardNamesClassesDataAccuracyAndCalibration) {
  const auto card = nlohmann::json::parse(FixtureModel().card_json());
  EXPECT_EQ(card["format_version"], kModelFormatVersion);
  EXPECT_EQ(card["classes"].size(), 4u);
  EXPECT_EQ(card["data"]["rows"], Fixture().size());
  EXPECT_TRUE(card["validation"]["top1_accuracy"].is_number());
  EXPECT_EQ(card["calibration"]["reliability_after"].size(), 10u);
  EXPECT_GT(card["calibration"]["temperature"].get<double>(), 0.0);
  EXPECT_EQ(card["thresholds"]["per_intent"].size(), 4u);
}

}  // namespace
}  // namespace opsbox::intents

namespace opsbox::intents {
namespace {

TEST(IntentsTenantModels, ATenantsOwnModelWinsOverTheDefault) {
  const std::string path = ::testing::TempDir() + "/intents_tenant.model";
  ASSERT_TRUE(FixtureModel().Save(path).ok());
  auto none = TenantModels::Load("", {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(none->For("acme"), nullptr);
  auto only_acme = TenantModels::Load("", {"acme=" + path});
  ASSERT_TRUE(only_acme.ok()) << only_acme.error().ToString();
  EXPECT_NE(only_acme->For("acme"), nullptr);
  EXPECT_EQ(only_acme->For("globex"), nullptr);
  auto both = TenantModels::Load(path, {"acme=" + path});
  ASSERT_TRUE(both.ok());
  EXPECT_NE(both->For("globex"), nullptr);
  EXPECT_NE(both->For("acme"), both->For("globex"));
  std::remove(path.c_str());
}

TEST(IntentsTenantModels, RefusesAnEntryWithoutTenantAndAMissingFileNamingTheKey) {
  auto bad = TenantModels::Load("", {"acme"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "intents.tenant_model_paths");
  EXPECT_EQ(bad.error().rule, "format");
  auto missing = TenantModels::Load("/nonexistent/intents.model", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().field, "intents.model_path");
  EXPECT_EQ(missing.error().rule, "io");
}

}  // namespace
}  // namespace opsbox::intents
