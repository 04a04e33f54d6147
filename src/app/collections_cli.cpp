// `opsbox collections can-contact` (see collections_cli.hpp).
#include "app/collections_cli.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "collections/contact_files.hpp"
#include "core/files.hpp"

namespace opsbox::app {
namespace {

using namespace opsbox::collections;

int Fail(std::ostream& err, const std::string& what, const Error& e) {
  err << "opsbox collections can-contact: " << what << ": " << e.message << " (field "
      << (e.field.empty() ? "-" : e.field) << ", rule " << e.rule << ")\n";
  return 2;
}

}  // namespace

int RunCanContact(const CanContactOptions& o, std::ostream& out, std::ostream& err) {
  auto policy = PresetPolicy(o.preset);
  if (!policy.ok()) return Fail(err, "--preset", policy.error());
  if (!o.policy_file.empty()) {
    auto text = ReadFileCapped(o.policy_file, kContactFileBytesMax, "policy");
    if (!text.ok()) return Fail(err, o.policy_file, text.error());
    policy = ParsePolicyFile(*text, std::move(policy).value());
    if (!policy.ok()) return Fail(err, o.policy_file, policy.error());
  }
  auto account_text = ReadFileCapped(o.account_file, kContactFileBytesMax, "account");
  if (!account_text.ok()) return Fail(err, o.account_file, account_text.error());
  auto account = ParseAccountFile(*account_text);
  if (!account.ok()) return Fail(err, o.account_file, account.error());
  std::vector<Attempt> history;
  if (!o.history_file.empty()) {
    auto text = ReadFileCapped(o.history_file, kContactFileBytesMax, "history");
    if (!text.ok()) return Fail(err, o.history_file, text.error());
    auto parsed = ParseHistoryFile(*text);
    if (!parsed.ok()) return Fail(err, o.history_file, parsed.error());
    history = std::move(parsed).value();
  }
  auto channel = ParseChannel(o.channel, "--channel");
  if (!channel.ok()) return Fail(err, "--channel", channel.error());
  auto purpose = ParsePurpose(o.purpose, "--purpose");
  if (!purpose.ok()) return Fail(err, "--purpose", purpose.error());
  auto at = ParseRfc3339(o.at, "--at");
  if (!at.ok()) return Fail(err, "--at", at.error());
  auto zones = ZoneCatalog::Load();
  if (!zones.ok()) return Fail(err, "tzdata", zones.error());
  auto zone_set = ResolveZoneSet(*account, *zones);
  if (!zone_set.ok()) return Fail(err, o.account_file, zone_set.error());

  ContactAccount a;
  a.zone_set = *zone_set;
  a.flags = account->flags;
  a.consent_given = account->consent_given;
  a.consent_refused = account->consent_refused;
  a.agent_particulars_sent_at = account->agent_particulars_sent_at;
  a.history = history;
  const ContactDecision d = CanContact(*policy, *zones, a, *channel, *purpose, *at);

  if (o.json) {
    nlohmann::ordered_json j = {{"allowed", d.allowed}, {"reasons", nlohmann::ordered_json::array()}};
    for (const Reason& r : d.Reasons()) {
      j["reasons"].push_back(
          {{"rule", RuleName(r.rule)}, {"detail", DescribeReason(r, *policy, *zones)}});
    }
    j["next_allowed_at"] =
        d.next_allowed_at ? nlohmann::ordered_json(FormatRfc3339(*d.next_allowed_at)) : nlohmann::ordered_json();
    out << j.dump() << "\n";
  } else {
    out << (d.allowed ? "allowed" : "refused") << "\n";
    for (const Reason& r : d.Reasons()) {
      out << "  " << RuleName(r.rule) << ": " << DescribeReason(r, *policy, *zones) << "\n";
    }
    out << "next allowed: "
        << (d.next_allowed_at ? FormatRfc3339(*d.next_allowed_at) : std::string("never (a rule "
                                                                                "must change)"))
        << "\n";
  }
  out.flush();
  return out ? 0 : 1;
}

CLI::App* AddCollectionsCommands(CLI::App& app) {
  auto* collections = app.add_subcommand("collections", "Collections: portfolio import and contact policy checks");
  collections->require_subcommand(1);
  auto o = std::make_shared<CanContactOptions>();
  auto* cc = collections->add_subcommand(
      "can-contact", "May this account be contacted now? Every blocking rule and the next "
                     "allowed instant");
  cc->add_option("--preset", o->preset, "reg_f (US Regulation F) or rbi (RBI recovery)")
      ->required();
  cc->add_option("--policy", o->policy_file, "policy file adjusting the preset (JSON)")
      ->check(CLI::ExistingFile);
  cc->add_option("--account", o->account_file, "account file (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  cc->add_option("--history", o->history_file, "attempt history file (JSON array)")
      ->check(CLI::ExistingFile);
  cc->add_option("--channel", o->channel, "voice, sms, whatsapp or email")->required();
  cc->add_option("--purpose", o->purpose, "collection (default), specialist or required_notice");
  cc->add_option("--at", o->at, "instant of the contact, RFC 3339")->required();
  cc->add_flag("--json", o->json, "print one JSON object");
  cc->callback([o] {
    const int rc = RunCanContact(*o, std::cout, std::cerr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
  return collections;
}

}  // namespace opsbox::app
