// Intent classification input from outside (issue #12): a training CSV, a model file and a text
// to classify. None may crash; a classification's confidences stay in [0, 1] and its
// alternatives within the cap.
#include <cstdlib>
#include <string>
#include <vector>

#include "intents/intents.hpp"

namespace {

const opsbox::intents::Model& TinyModel() {
  static const opsbox::intents::Model model = [] {
    std::vector<opsbox::intents::Example> examples;
    const char* texts[][2] = {{"where is my card", "card_arrival"},
                              {"my card has not arrived", "card_arrival"},
                              {"card still not delivered", "card_arrival"},
                              {"how do I top up", "top_up"},
                              {"add money to my account", "top_up"},
                              {"top up failed", "top_up"}};
    for (auto& t : texts) examples.push_back({t[0], t[1]});
    opsbox::intents::TrainOptions options;
    options.validation_share = 0.34;
    auto m = opsbox::intents::Train(examples, options);
    if (!m.ok()) std::abort();
    return std::move(m).value();
  }();
  return model;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)opsbox::intents::ParseTrainingCsv(input, "fuzz");
  (void)opsbox::intents::Model::Parse(input);
  const auto c = TinyModel().Classify(input, size % 12);
  if (!(c.confidence >= 0 && c.confidence <= 1)) std::abort();
  if (c.alternatives.size() > opsbox::intents::kAlternativesMax) std::abort();
  for (const auto& a : c.alternatives) {
    if (!(a.confidence >= 0 && a.confidence <= 1)) std::abort();
  }
  return 0;
}
