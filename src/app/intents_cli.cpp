// `opsbox intents train|classify` (see intents_cli.hpp).
#include "app/intents_cli.hpp"

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/time.hpp"
#include "intents/intents.hpp"

namespace opsbox::app {
namespace {

// The whole file, at most kIntentsCsvBytesMax bytes.
Result<std::string> ReadCsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Invalid("--data", "io", "cannot open " + path);
  in.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(in.tellg());
  if (size > kIntentsCsvBytesMax) {
    return Error::Invalid("--data", "max_bytes",
                          path + " is larger than " + std::to_string(kIntentsCsvBytesMax) +
                              " bytes");
  }
  in.seekg(0);
  std::string text(size, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(size))) {
    return Error::Invalid("--data", "io", "cannot read " + path);
  }
  return text;
}

}  // namespace

int RunIntentsTrain(const IntentsTrainOptions& options, std::ostream& out, std::ostream& err) {
  std::vector<intents::Example> examples;
  for (const auto& path : options.data) {
    auto text = ReadCsv(path);
    if (!text.ok()) {
      err << "opsbox intents train: " << text.error().message << "\n";
      return text.error().rule == "io" ? 1 : 2;
    }
    auto rows = intents::ParseTrainingCsv(*text, path);
    if (!rows.ok()) {
      err << "opsbox intents train: " << rows.error().message << " (rule " << rows.error().rule
          << ")\n";
      return 2;
    }
    if (examples.size() + rows->size() > intents::kTrainingRowsMax) {
      err << "opsbox intents train: more than " << intents::kTrainingRowsMax
          << " rows over all --data files (rule max_rows)\n";
      return 2;
    }
    for (auto& e : *rows) examples.push_back(std::move(e));
  }
  intents::TrainOptions train;
  train.validation_share = options.validation_share;
  train.sources = options.data;
  train.created_at = FormatRfc3339(SystemClock().Now());
  auto model = intents::Train(examples, train);
  if (!model.ok()) {
    err << "opsbox intents train: " << model.error().message << " (rule " << model.error().rule
        << ")\n";
    return 2;
  }
  if (auto s = model->Save(options.out); !s.ok()) {
    err << "opsbox intents train: " << s.error().message << "\n";
    return 1;
  }
  std::ofstream card(options.out + ".card.json", std::ios::trunc);
  card << model->card_json() << "\n";
  if (!card) {
    err << "opsbox intents train: cannot write " << options.out << ".card.json\n";
    return 1;
  }
  const auto c = nlohmann::json::parse(model->card_json());
  double at80 = 0;
  for (const auto& p : c["validation"]["coverage"]) {
    if (p["coverage"].get<double>() == 0.8) at80 = p["accuracy"].get<double>();
  }
  out << "trained " << model->intents().size() << " intents on " << c["data"]["rows_train"]
      << " rows; validation (" << c["data"]["rows_validation"] << " rows): top-1 "
      << c["validation"]["top1_accuracy"].get<double>() << ", accuracy at 80% coverage " << at80
      << "; model " << options.out << ", card " << options.out << ".card.json\n";
  return 0;
}

int RunIntentsClassify(const std::string& model_path, bool json, std::istream& in,
                       std::ostream& out, std::ostream& err) {
  auto model = intents::Model::Load(model_path);
  if (!model.ok()) {
    err << "opsbox intents classify: " << model.error().message << " (rule "
        << model.error().rule << ")\n";
    return 2;
  }
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto c = model->Classify(line);
    if (json) {
      out << intents::ClassificationJson(c) << "\n";
    } else {
      out << c.intent << "\t" << c.confidence << "\n";
    }
  }
  out.flush();
  return out ? 0 : 1;
}

CLI::App* AddIntentsCommands(CLI::App& app) {
  auto* cmd = app.add_subcommand("intents", "Intent classification: train a model, classify text");
  cmd->require_subcommand(1);
  auto train_flags = std::make_shared<IntentsTrainOptions>();
  auto* train = cmd->add_subcommand(
      "train", "Train a model on CSV files with columns text,category; writes MODEL and "
               "MODEL.card.json");
  train->add_option("--data", train_flags->data, "training CSV (repeat for more files)")
      ->required()
      ->check(CLI::ExistingFile);
  train->add_option("--out", train_flags->out, "model file to write")->required();
  train->add_option("--validation-share", train_flags->validation_share,
                    "share of each intent held out for validation and calibration")
      ->check(CLI::Range(0.01, 0.49));
  train->callback([train_flags] {
    const int rc = RunIntentsTrain(*train_flags, std::cout, std::cerr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
  auto model_path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* classify = cmd->add_subcommand(
      "classify", "Classify each line of standard input; one answer a line");
  classify->add_option("--model", *model_path, "model file")->required();
  classify->add_flag("--json", *json,
                     "print {\"intent\",\"confidence\",\"alternatives\":[…]} per line");
  classify->callback([model_path, json] {
    const int rc = RunIntentsClassify(*model_path, *json, std::cin, std::cout, std::cerr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
  return cmd;
}

}  // namespace opsbox::app
