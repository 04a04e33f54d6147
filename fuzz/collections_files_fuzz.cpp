// Collections contact files (collections/contact_files.hpp, read by `opsbox collections
// can-contact`): the first byte picks the account, history or policy parser; none crashes on
// any text; an error names a field and a rule; a parsed history is ascending and a check over it
// (UTC zone) answers with at most one reason per rule and, when allowed, next_allowed_at == at.
#include <cstdlib>
#include <string_view>

#include "collections/contact_files.hpp"

using namespace opsbox;
using namespace opsbox::collections;

namespace {

void CheckError(const Error& e) {
  if (e.field.empty() || e.rule.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto a = ParseAccountFile(text);
      if (!a.ok()) CheckError(a.error());
      return 0;
    }
    case 1: {
      auto p = ParsePolicyFile(text, *PresetPolicy("reg_f"));
      if (!p.ok()) CheckError(p.error());
      if (p.ok() && !ValidatePolicy(*p).ok()) std::abort();
      return 0;
    }
    default: {
      auto h = ParseHistoryFile(text);
      if (!h.ok()) {
        CheckError(h.error());
        return 0;
      }
      for (size_t i = 1; i < h->size(); ++i) {
        if ((*h)[i].at < (*h)[i - 1].at) std::abort();
      }
      ZoneCatalog zones;
      ContactAccount account;
      account.zone_set = *zones.ResolveZone("UTC");
      account.history = *h;
      const Instant at = h->empty() ? Instant{0} : h->back().at;
      const auto d = CanContact(*PresetPolicy("reg_f"), zones, account, Channel::kVoice,
                                Purpose::kCollection, at);
      if (d.allowed && (d.reason_count != 0 || d.next_allowed_at != at)) std::abort();
      if (!d.allowed && d.reason_count == 0) std::abort();
      return 0;
    }
  }
}
