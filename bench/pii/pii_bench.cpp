// pii_bench: pii::Scanner throughput on one core and accuracy on the labelled set.
//
//   pii_bench --labelled tests/data/pii/labelled.jsonl --clean tests/data/pii/clean.txt
//             [--holdout tests/data/pii/holdout.jsonl] [--corpus-mb 50] [--repeats 5]
//             [--seed 1] [--pii-line-share 0.25] [--corpus-out FILE] [--phone-regions IN,US]
//
// The corpus: lines drawn at random (seed printed) from the labelled set (share
// --pii-line-share) and from PII-free chat/e-mail lines, joined by newlines, until it holds
// --corpus-mb megabytes (10^6 bytes); --corpus-out writes it for the peer. Prints JSON lines:
// {"bench":"pii_speed",...} (median of the repeats) and {"bench":"pii_accuracy","set":...,
// "type":...} per set ("tuned": --labelled, the part the scanner was tuned on; "holdout":
// --holdout, kept apart) and type, plus "all" (typed) and "any" (a finding overlapping a gold
// span of any type).
// A finding counts as a true positive when it overlaps an unmatched gold span of its type.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "pii/pii.hpp"

namespace {

using opsbox::pii::Finding;

struct Gold {
  size_t start = 0, end = 0;
  std::string type;
};
struct Labelled {
  std::string text;
  std::vector<Gold> spans;
};
struct Counts {
  size_t tp = 0, fp = 0, fn = 0;
};

std::vector<Labelled> LoadLabelled(const std::string& path) {
  std::ifstream in(path);
  std::vector<Labelled> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    Labelled l{j.at("text").get<std::string>(), {}};
    for (const auto& s : j.at("spans")) {
      l.spans.push_back({s.at("start").get<size_t>(), s.at("end").get<size_t>(),
                         s.at("type").get<std::string>()});
    }
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<std::string> LoadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// This thread's CPU time: on a shared machine wall time also counts other processes' turns.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

bool Overlap(size_t a0, size_t a1, size_t b0, size_t b1) { return a0 < b1 && b0 < a1; }

// Matches findings to gold spans; typed: the types must agree (else any overlap counts).
void Score(const std::vector<Finding>& found, const std::vector<Gold>& gold, bool typed,
           std::map<std::string, Counts>& counts) {
  std::vector<bool> used(gold.size(), false);
  for (const auto& f : found) {
    const std::string type(typed ? opsbox::pii::TypeName(f.type) : "any");
    bool hit = false;
    for (size_t g = 0; g < gold.size() && !hit; ++g) {
      if (used[g] || !Overlap(f.start, f.end, gold[g].start, gold[g].end)) continue;
      if (typed && gold[g].type != type) continue;
      used[g] = hit = true;
    }
    ++(hit ? counts[type].tp : counts[type].fp);
  }
  for (size_t g = 0; g < gold.size(); ++g) {
    if (!used[g]) ++counts[typed ? gold[g].type : "any"].fn;
  }
}

void PrintAccuracy(const std::string& set, const std::string& type, const Counts& c) {
  const double p = c.tp + c.fp ? static_cast<double>(c.tp) / (c.tp + c.fp) : 1.0;
  const double r = c.tp + c.fn ? static_cast<double>(c.tp) / (c.tp + c.fn) : 1.0;
  std::cout << nlohmann::json{{"bench", "pii_accuracy"}, {"set", set}, {"type", type}, {"tp", c.tp},
                              {"fp", c.fp}, {"fn", c.fn}, {"precision", p}, {"recall", r}}
                   .dump()
            << "\n";
}

std::string BuildCorpus(const std::vector<Labelled>& labelled,
                        const std::vector<std::string>& clean, size_t bytes, double pii_share,
                        uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> coin(0, 1);
  std::uniform_int_distribution<size_t> pick_l(0, labelled.size() - 1), pick_c(0, clean.size() - 1);
  std::string corpus;
  corpus.reserve(bytes + 4096);
  while (corpus.size() < bytes) {
    corpus += coin(rng) < pii_share ? labelled[pick_l(rng)].text : clean[pick_c(rng)];
    corpus += '\n';
  }
  return corpus;
}

void Evaluate(const opsbox::pii::Scanner& scanner, const std::vector<Labelled>& set,
              const std::string& name) {
  std::map<std::string, Counts> typed, any;
  for (const auto& l : set) {
    const auto found = scanner.Scan(l.text);
    Score(found, l.spans, true, typed);
    Score(found, l.spans, false, any);
  }
  Counts all;
  for (const auto& [type, c] : typed) {
    PrintAccuracy(name, type, c);
    all.tp += c.tp, all.fp += c.fp, all.fn += c.fn;
  }
  PrintAccuracy(name, "all", all);
  PrintAccuracy(name, "any", any["any"]);
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

struct Args {
  std::string labelled, clean, corpus_out, holdout;
  std::vector<std::string> phone_regions = {"IN"};
  double corpus_mb = 50, pii_share = 0.25;
  int repeats = 5;
  uint64_t seed = 1;
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--labelled") a.labelled = v;
    else if (k == "--clean") a.clean = v;
    else if (k == "--corpus-out") a.corpus_out = v;
    else if (k == "--holdout") a.holdout = v;
    else if (k == "--phone-regions") a.phone_regions = SplitCommas(v);
    else if (k == "--corpus-mb") a.corpus_mb = std::stod(v);
    else if (k == "--pii-line-share") a.pii_share = std::stod(v);
    else if (k == "--repeats") a.repeats = std::stoi(v);
    else if (k == "--seed") a.seed = std::stoull(v);
    else throw std::runtime_error("unknown flag " + k);
  }
  if (a.labelled.empty() || a.clean.empty()) throw std::runtime_error("--labelled and --clean");
  return a;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = ParseArgs(argc, argv);
  opsbox::pii::ScannerOptions options;
  options.phone_regions = args.phone_regions;
  auto scanner = opsbox::pii::Scanner::Create(options);
  if (!scanner.ok()) throw std::runtime_error(scanner.error().message);
  const auto labelled = LoadLabelled(args.labelled);
  const auto clean = LoadLines(args.clean);
  if (labelled.empty() || clean.empty()) throw std::runtime_error("empty input files");

  Evaluate(**scanner, labelled, "tuned");
  if (!args.holdout.empty()) Evaluate(**scanner, LoadLabelled(args.holdout), "holdout");

  const auto corpus = BuildCorpus(labelled, clean, static_cast<size_t>(args.corpus_mb * 1e6),
                                  args.pii_share, args.seed);
  if (!args.corpus_out.empty()) std::ofstream(args.corpus_out, std::ios::binary) << corpus;
  std::vector<double> seconds, cpu_seconds;
  size_t findings = 0;
  for (int r = 0; r < args.repeats; ++r) {
    const double c0 = ThreadCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    findings = (*scanner)->Scan(corpus).size();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    cpu_seconds.push_back(ThreadCpuSeconds() - c0);
  }
  std::sort(seconds.begin(), seconds.end());
  std::sort(cpu_seconds.begin(), cpu_seconds.end());
  const double median = seconds[seconds.size() / 2];
  const double cpu_median = cpu_seconds[cpu_seconds.size() / 2];
  std::cout << nlohmann::json{{"bench", "pii_speed"}, {"bytes", corpus.size()},
                              {"repeats", args.repeats}, {"seed", args.seed},
                              {"seconds_median", median}, {"seconds_min", seconds.front()},
                              {"mb_per_s", corpus.size() / median / 1e6},
                              {"cpu_seconds_median", cpu_median},
                              {"mb_per_cpu_s", corpus.size() / cpu_median / 1e6},
                              {"findings", findings}, {"pii_line_share", args.pii_share}}
                   .dump()
            << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "pii_bench: " << e.what() << "\n";
  return 2;
}
