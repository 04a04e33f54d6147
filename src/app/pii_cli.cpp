// `opsbox pii scan` (see pii_cli.hpp).
#include "app/pii_cli.hpp"

#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "core/crypto.hpp"

namespace opsbox::app {
namespace {

constexpr size_t kReadChunkBytes = size_t{1} << 16;

struct PiiScanFlags {
  std::string file;
  bool redact = false;
  std::string style = "tag";
  std::vector<std::string> phone_regions = {"IN"};
};

// All of `in`, at most kPiiScanInputBytesMax bytes: false when there is more.
bool ReadAll(std::istream& in, std::string& text) {
  std::string chunk(kReadChunkBytes, '\0');
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (text.size() + n > kPiiScanInputBytesMax) return false;
    text.append(chunk.data(), n);
  }
  return true;
}

}  // namespace

int RunPiiScan(const PiiScanOptions& options, std::istream& in, std::ostream& out) {
  std::string text;
  if (!ReadAll(in, text)) {
    std::cerr << "opsbox pii scan: the input is larger than " << kPiiScanInputBytesMax
              << " bytes (rule max_bytes)\n";
    return 2;
  }
  if (in.bad()) {
    std::cerr << "opsbox pii scan: could not read the input\n";
    return 1;
  }
  if (Status st = pii::ValidateRegions(options.phone_regions, "--phone-regions"); !st.ok()) {
    std::cerr << "opsbox pii scan: --phone-regions: " << st.error().message << " (rule "
              << st.error().rule << ")\n";
    return 2;
  }
  auto scanner = pii::Scanner::Create(pii::ScannerOptions{.phone_regions = options.phone_regions});
  if (!scanner.ok()) {
    std::cerr << "opsbox pii scan: " << scanner.error().message << "\n";
    return 1;
  }
  const auto findings = (*scanner)->Scan(text);
  if (options.redact) {
    out << pii::Redact(text, findings, options.style);
  } else {
    for (const auto& f : findings) {
      out << "{\"start\":" << f.start << ",\"end\":" << f.end << ",\"type\":\""
          << pii::TypeName(f.type) << "\"}\n";
    }
  }
  out.flush();
  return out ? 0 : 1;
}

CLI::App* AddPiiCommands(CLI::App& app) {
  auto* pii = app.add_subcommand("pii", "Personal data in text: detect and redact");
  pii->require_subcommand(1);
  auto* scan = pii->add_subcommand(
      "scan", "Print one JSON object per finding and line ({\"start\",\"end\",\"type\"}), or "
              "with --redact the redacted text");
  auto flags = std::make_shared<PiiScanFlags>();
  scan->add_option("FILE", flags->file, "text file (default: standard input)")
      ->check(CLI::ExistingFile);
  auto* redact = scan->add_flag("--redact", flags->redact, "print the redacted text");
  scan->add_option("--style", flags->style, "redaction style: tag ([CARD]) or partial")
      ->check(CLI::IsMember({"tag", "partial"}))
      ->needs(redact);
  scan->add_option("--phone-regions", flags->phone_regions,
                   "regions whose national-format phone numbers are read, the default first "
                   "(ISO 3166 alpha-2, comma-separated; default IN)")
      ->delimiter(',');
  scan->callback([flags] {
    InitCrypto();
    PiiScanOptions options;
    options.redact = flags->redact;
    options.style = flags->style == "partial" ? pii::RedactStyle::kPartial : pii::RedactStyle::kTag;
    options.phone_regions = flags->phone_regions;
    int rc = 0;
    if (flags->file.empty()) {
      rc = RunPiiScan(options, std::cin, std::cout);
    } else {
      std::ifstream file(flags->file, std::ios::binary);
      if (!file) {
        std::cerr << "opsbox pii scan: cannot open " << flags->file << "\n";
        throw CLI::RuntimeError(1);
      }
      rc = RunPiiScan(options, file, std::cout);
    }
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
  return pii;
}

}  // namespace opsbox::app
