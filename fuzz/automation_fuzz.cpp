// The automation boundary's parsers of outside input (automation/automation.hpp): a policy body
// (PUT /automation/policy) and a session event (POST /automation/sessions/{id}/events). Any
// JSON is either refused with a field and a rule, or accepted; an accepted policy decides every
// intent and channel without crashing and round-trips through its stored form; an accepted
// event applies to the session without crashing. The first byte chooses which parser runs.
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <string_view>

#include "automation/automation.hpp"
#include "automation/internal/decide.hpp"

namespace {

using opsbox::Json;
namespace automation = opsbox::automation;

void Policy(const Json& body) {
  auto p = automation::ParsePolicy(body);
  if (!p.ok()) {
    if (p.error().rule.empty()) std::abort();
    return;
  }
  for (const auto& rule : p->rules) (void)automation::Decide(*p, rule.intent, "chat");
  (void)automation::Decide(*p, "", "voice");
  Json stored = automation::PolicyJson(*p);
  stored.erase("version");
  stored.erase("effective_at");
  auto back = automation::ParsePolicy(stored);
  if (!back.ok() || back->rules != p->rules) std::abort();
}

void Event(const Json& event) {
  automation::Session s;
  automation::Apply(s, automation::kSessionStarted,
                    Json{{"session_id", "auto_X"}, {"platform", "p"}, {"channel", "chat"}}, 1);
  automation::Hooks hooks;
  hooks.mask = [](std::string_view text) { return std::string(text); };
  auto d = automation::detail::DecideRecordEvent(
      s, {}, Json{{"session_id", "auto_X"}, {"event", event}}, opsbox::Instant{1}, hooks);
  if (!d.ok()) {
    if (d.error().rule.empty()) std::abort();
    return;
  }
  for (const auto& e : d->events) automation::Apply(s, e.type, e.payload, 2);
  (void)automation::PacketJson(s);
  (void)automation::SessionFromJson(automation::SessionToJson(s));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto json = opsbox::ParseJson(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  if (!json.ok()) return 0;
  if (data[0] % 2 == 0) {
    Policy(*json);
  } else {
    Event(*json);
  }
  return 0;
}
