// Field classification and masking: the ONE place that says which kinds of personal field exist,
// how each is masked, and which roles see which kinds in clear by default (docs/privacy.md).
//
// Everything here is pure and thread-safe (constant tables, no state).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace opsbox::privacy {

// The kinds of personal field a response may carry. Wire names (FieldClassName): "name",
// "phone", "email", "address", "date_of_birth", "account_number", "card", "national_id",
// "free_text", "identifier".
enum class FieldClass {
  kName,
  kPhone,
  kEmail,
  kAddress,
  kDateOfBirth,
  kAccountNumber,
  kCard,
  kNationalId,
  kFreeText,
  kIdentifier
};

std::string_view FieldClassName(FieldClass cls);
std::optional<FieldClass> ParseFieldClass(std::string_view name);
// Every class, in enum order.
const std::vector<FieldClass>& AllFieldClasses();

// What a response shows for a personal field that was erased (crypto-shredded).
inline constexpr std::string_view kErasedMarker = "[erased]";
// What MaskValue returns for free text, addresses and values it cannot mask partially.
inline constexpr std::string_view kRedactedMarker = "[redacted]";

// The masked form of one value (pure; never returns the input unchanged unless it is empty):
//   kPhone          country code (when the value starts with '+') and last 4 digits:
//                   "+91 98765 43210" -> "+91******3210"; "9876543210" -> "******3210"
//   kEmail          first letter of the local part and the domain: "asha@bank.in" -> "a***@bank.in"
//   kCard           at most the first 6 and last 4 digits (PCI DSS 3.4): fewer than 13 digits
//                   keep the last 4 only: "4111 1111 1111 1111" -> "411111******1111"
//   kAccountNumber  last 4 characters: "001234567890" -> "********7890"
//   kNationalId     last 4 characters: "1234 5678 9012" -> "********9012"
//   kName           initials: "Asha Kumari Rao" -> "A. K. R."
//   kDateOfBirth    the year of "YYYY-MM-DD" ("1985-**-**"); else every digit becomes '*'
//   kIdentifier     last 4 characters (e.g. an external id)
//   kAddress, kFreeText  kRedactedMarker
// Phone, card, account, national id and identifier values of at most 4 significant characters
// (digits, or letters and digits) mask entirely ("****"), so a short value never shows in clear.
// An e-mail without '@' gives kRedactedMarker. Empty input gives "".
std::string MaskValue(FieldClass cls, std::string_view plaintext);

// Role policy (default, before any unmask or break-glass): true when `role` sees `cls` in clear.
//   agent, team_lead, supervisor, collections_manager, qa_analyst: name and free text clear;
//     phone, e-mail, account, card, national id, address, date of birth, identifier masked.
//   compliance_officer, auditor, admin, wfm_planner: everything masked (unmask with a reason).
//   integration (API keys of connected systems, service purposes): name, phone, e-mail,
//     address, identifier and free text clear; date of birth, account, card, national id masked.
// An unknown role sees nothing in clear.
bool RoleSeesClear(std::string_view role, FieldClass cls);
// True when any of `roles` sees `cls` in clear.
bool RolesSeeClear(const std::vector<std::string>& roles, FieldClass cls);

}  // namespace opsbox::privacy
