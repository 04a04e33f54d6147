// The boundary policy: the built-in default, parsing, and the decision (pure).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "automation/automation.hpp"

namespace opsbox::automation {
namespace {

// Off limits by default (issue #12): the named categories, as a tenant's own labels may name
// them, and the BANKING77 intents that are fraud, disputes or lost cards.
constexpr std::string_view kDefaultExclusions[] = {
    // the categories (and "unknown": the classifier was not sure)
    "unknown", "complaint", "dispute", "fraud", "hardship", "vulnerable_customer", "bereavement",
    // BANKING77: fraud and compromise
    "compromised_card", "card_payment_not_recognised", "cash_withdrawal_not_recognised",
    "direct_debit_payment_not_recognised", "lost_or_stolen_card", "lost_or_stolen_phone",
    // BANKING77: disputes of amounts and charges
    "transaction_charged_twice", "request_refund", "Refund_not_showing_up",
    "wrong_amount_of_cash_received", "extra_charge_on_statement",
    "card_payment_wrong_exchange_rate", "wrong_exchange_rate_for_cash_withdrawal",
    "reverted_card_payment?"};

Status Check(bool ok, std::string field, std::string rule, std::string message) {
  if (ok) return Ok();
  return Error::Invalid(std::move(field), std::move(rule), std::move(message));
}

Result<std::string> Name(const Json& j, const std::string& field, size_t bytes_max) {
  OPSBOX_TRY(Check(j.is_string(), field, "type", field + " must be a string"));
  const auto& s = j.get_ref<const std::string&>();
  OPSBOX_TRY(Check(!s.empty(), field, "required", field + " must not be empty"));
  OPSBOX_TRY(Check(s.size() <= bytes_max, field, "max_bytes",
                   field + " is longer than " + std::to_string(bytes_max) + " bytes"));
  return s;
}

Result<Boundary> BoundaryOf(const Json& j, const std::string& field) {
  OPSBOX_ASSIGN_OR_RETURN(auto name, Name(j, field, 32));
  auto b = BoundaryFromName(name);
  if (!b) {
    return Error::Invalid(field, "enum", field + " must be self_serve, human_review or off_limits");
  }
  return *b;
}

Result<Rule> ParseRule(const Json& j, const std::string& at) {
  OPSBOX_TRY(Check(j.is_object(), at, "type", at + " must be an object"));
  OPSBOX_TRY(CheckObjectKeys(j, {"intent", "channel", "boundary", "required_slots"}, at));
  Rule r;
  for (auto key : {"intent", "boundary"}) {
    OPSBOX_TRY(Check(j.contains(key), at + "." + key, "required", at + "." + key + " is required"));
  }
  OPSBOX_ASSIGN_OR_RETURN(r.intent, Name(j["intent"], at + ".intent", kIntentBytesMax));
  r.channel = std::string(kAnyChannel);
  if (j.contains("channel")) {
    OPSBOX_ASSIGN_OR_RETURN(r.channel, Name(j["channel"], at + ".channel", kChannelBytesMax));
  }
  OPSBOX_ASSIGN_OR_RETURN(r.boundary, BoundaryOf(j["boundary"], at + ".boundary"));
  if (j.contains("required_slots")) {
    const Json& slots = j["required_slots"];
    const std::string f = at + ".required_slots";
    OPSBOX_TRY(Check(slots.is_array(), f, "type", f + " must be an array"));
    OPSBOX_TRY(Check(slots.size() <= kRequiredSlotsMax, f, "max_items",
                     f + " lists more than " + std::to_string(kRequiredSlotsMax) + " slots"));
    for (size_t i = 0; i < slots.size(); ++i) {
      OPSBOX_ASSIGN_OR_RETURN(auto s, Name(slots[i], f + "[" + std::to_string(i) + "]",
                                           kSlotNameBytesMax));
      if (std::find(r.required_slots.begin(), r.required_slots.end(), s) ==
          r.required_slots.end()) {
        r.required_slots.push_back(std::move(s));
      }
    }
  }
  return r;
}

}  // namespace

std::string_view BoundaryName(Boundary b) {
  switch (b) {
    case Boundary::kSelfServe: return "self_serve";
    case Boundary::kHumanReview: return "human_review";
    case Boundary::kOffLimits: return "off_limits";
  }
  return "off_limits";
}

std::optional<Boundary> BoundaryFromName(std::string_view name) {
  if (name == "self_serve") return Boundary::kSelfServe;
  if (name == "human_review") return Boundary::kHumanReview;
  if (name == "off_limits") return Boundary::kOffLimits;
  return std::nullopt;
}

Policy DefaultPolicy() {
  Policy p;
  p.version = 0;
  p.effective_at = Instant{0};
  p.default_boundary = Boundary::kHumanReview;
  for (auto e : kDefaultExclusions) p.exclusion_intents.emplace_back(e);
  return p;
}

Result<Policy> ParsePolicy(const Json& body) {
  OPSBOX_TRY(Check(body.is_object(), "", "type", "the policy must be an object"));
  OPSBOX_TRY(CheckObjectKeys(body, {"default_boundary", "rules", "exclusion_intents"}));
  Policy p = DefaultPolicy();
  if (body.contains("default_boundary")) {
    OPSBOX_ASSIGN_OR_RETURN(p.default_boundary,
                            BoundaryOf(body["default_boundary"], "default_boundary"));
  }
  OPSBOX_TRY(Check(body.contains("rules"), "rules", "required", "rules is required ([] for none)"));
  const Json& rules = body["rules"];
  OPSBOX_TRY(Check(rules.is_array(), "rules", "type", "rules must be an array"));
  OPSBOX_TRY(Check(rules.size() <= kRulesMax, "rules", "max_items",
                   "a policy holds at most " + std::to_string(kRulesMax) + " rules"));
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string at = "rules[" + std::to_string(i) + "]";
    OPSBOX_ASSIGN_OR_RETURN(auto rule, ParseRule(rules[i], at));
    OPSBOX_TRY(Check(seen.emplace(rule.intent, rule.channel).second, at, "duplicate",
                     "a rule for intent " + rule.intent + " on channel " + rule.channel +
                         " is already listed"));
    p.rules.push_back(std::move(rule));
  }
  if (body.contains("exclusion_intents")) {
    const Json& ex = body["exclusion_intents"];
    OPSBOX_TRY(Check(ex.is_array(), "exclusion_intents", "type", "must be an array"));
    OPSBOX_TRY(Check(ex.size() <= kExclusionsMax, "exclusion_intents", "max_items",
                     "at most " + std::to_string(kExclusionsMax) + " exclusion intents"));
    p.exclusion_intents.clear();
    for (size_t i = 0; i < ex.size(); ++i) {
      OPSBOX_ASSIGN_OR_RETURN(auto name, Name(ex[i], "exclusion_intents[" + std::to_string(i) +
                                                         "]", kIntentBytesMax));
      if (std::find(p.exclusion_intents.begin(), p.exclusion_intents.end(), name) ==
          p.exclusion_intents.end()) {
        p.exclusion_intents.push_back(std::move(name));
      }
    }
  }
  return p;
}

Json PolicyJson(const Policy& p) {
  Json rules = Json::array();
  for (const auto& r : p.rules) {
    rules.push_back(Json{{"intent", r.intent},
                         {"channel", r.channel},
                         {"boundary", BoundaryName(r.boundary)},
                         {"required_slots", r.required_slots}});
  }
  return Json{{"version", p.version},
              {"effective_at", FormatRfc3339(p.effective_at)},
              {"default_boundary", BoundaryName(p.default_boundary)},
              {"rules", std::move(rules)},
              {"exclusion_intents", p.exclusion_intents}};
}

BoundaryDecision Decide(const Policy& policy, std::string_view intent, std::string_view channel) {
  if (intent.empty()) intent = kUnknownIntent;
  BoundaryDecision d;
  d.policy_version = policy.version;
  if (std::find(policy.exclusion_intents.begin(), policy.exclusion_intents.end(), intent) !=
      policy.exclusion_intents.end()) {
    d.boundary = Boundary::kOffLimits;
    d.basis = "exclusion";
  }
  // The most specific rule still names the required slots of an excluded intent's handoff.
  const Rule* any_channel = nullptr;
  for (const auto& r : policy.rules) {
    if (r.intent != intent) continue;
    if (r.channel == channel) {
      d.rule = &r;
      break;
    }
    if (r.channel == kAnyChannel) any_channel = &r;
  }
  if (d.rule == nullptr) d.rule = any_channel;
  if (d.basis == "exclusion") return d;
  if (d.rule != nullptr) {
    d.boundary = d.rule->boundary;
    d.basis = d.rule == any_channel ? "rule_any_channel" : "rule";
    return d;
  }
  d.boundary = policy.default_boundary;
  d.basis = "default";
  return d;
}

const Policy* InForce(const std::vector<Policy>& versions, Instant at) {
  static const Policy kDefault = DefaultPolicy();
  const Policy* best = nullptr;
  for (const auto& p : versions) {
    if (p.effective_at.us > at.us) continue;
    if (best == nullptr || p.effective_at.us > best->effective_at.us ||
        (p.effective_at.us == best->effective_at.us && p.version > best->version)) {
      best = &p;
    }
  }
  return best != nullptr ? best : &kDefault;
}

}  // namespace opsbox::automation
