// `opsbox collections can-contact`: checks one contact decision by hand with the contact policy
// engine (collections/contact_policy.hpp) on an account file and a history file (formats in
// collections/contact_files.hpp). Thin: reads files and flags, prints the decision.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>

namespace opsbox::app {

struct CanContactOptions {
  std::string preset;        // reg_f | rbi
  std::string policy_file;   // optional: adjusts the preset
  std::string account_file;
  std::string history_file;  // optional: no history when empty
  std::string channel;       // voice | sms | whatsapp | email
  std::string purpose = "collection";  // collection | specialist | required_notice
  std::string at;            // RFC 3339
  bool json = false;
};

// Prints the decision: with json one object {"allowed": bool, "reasons": [{"rule", "detail"}],
// "next_allowed_at": "…Z" or null}; otherwise one line per reason and the next allowed instant.
// Returns 0 when a decision was printed (allowed or not); 2 on bad input, with a message naming
// the file, the field and the rule on `err`.
int RunCanContact(const CanContactOptions& options, std::ostream& out, std::ostream& err);

// Registers `collections can-contact` under `app`; runs in its callback (CLI::RuntimeError with
// the status when it is not 0). Returns the `collections` subcommand.
CLI::App* AddCollectionsCommands(CLI::App& app);

}  // namespace opsbox::app
