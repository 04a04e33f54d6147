// Free text from every channel: Scanner::Scan never crashes, its findings are in bounds,
// sorted and non-overlapping, and Redact accepts them in every style.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "core/crypto.hpp"
#include "pii/pii.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto scanner = [] {
    opsbox::InitCrypto();
    // Several regions, so that national numbers reach every path (lengths, cache, parse).
    auto s = opsbox::pii::Scanner::Create(
        opsbox::pii::ScannerOptions{.phone_regions = {"IN", "US", "IL", "CN"}});
    if (!s.ok()) std::abort();
    return std::move(*s);
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto findings = scanner->Scan(text);
  size_t pos = 0;
  for (const auto& f : findings) {
    if (f.start < pos || f.end <= f.start || f.end > size) std::abort();
    pos = f.end;
  }
  for (auto style : {opsbox::pii::RedactStyle::kTag, opsbox::pii::RedactStyle::kPartial,
                     opsbox::pii::RedactStyle::kToken}) {
    (void)opsbox::pii::Redact(text, findings, style, "fuzz-key");
  }
  return 0;
}
