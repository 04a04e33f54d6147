// Collections on the ledger (issue #11): the portfolio import's chunk command, its events and
// projections, and the queries over imported accounts. The only header of src/collections/
// that other modules include for stored state (contact_policy.hpp and portfolio.hpp are the
// pure engine and reader; import.hpp runs a whole file through the writer).
//
// Command (docs/decisions/0017-collections-import-chunked-commands.md):
//   import_portfolio_chunk {import_id, chunk_index, rows: [ChunkRowToJson(row)…]}
//     1..kImportChunkRowsMax rows. Decided against collections_accounts: a row equal to the
//     stored account (every column and the contact's blind index) causes nothing, so the same
//     file imported twice appends nothing. Events:
//     portfolio_accounts_upserted {import_id, chunk_index, accounts: [{account_id, customer_id,
//       subject, product, currency, principal_minor, outstanding_minor, overdue_minor,
//       instalment_minor, days_past_due, bucket, bucket_rank, due_day?, next_due_day?, branch,
//       region, zone, consent_given, consent_refused, flags, contact?, contact_index}]}
//       where `contact` ({name?, phones?, email?, address?}) is sealed per item under `subject`
//       (CustomerSubject(customer_id); NewEvent::items_personal_fields) and contact_index is
//       Hooks::blind_index(tenant, "collections_contact", canonical clear contact) or "".
//     portfolio_buckets_moved {import_id, chunk_index, movements: [{account_id, product, from,
//       to, movement: "roll_forward"|"roll_back"}]} for stored accounts whose bucket rank
//       changed (a new account is no movement).
//     Result {import_id, chunk_index, rows, changed, roll_forward, roll_back}.
//   The command id the import runner gives a chunk is "<import_id>/<chunk_index>", so a chunk
//   already recorded answers as replayed when an interrupted import runs again.
//
// Thread safety: the registered handlers are pure given the transaction and the hooks; the
// queries use the caller's connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collections/contact_policy.hpp"
#include "collections/portfolio.hpp"
#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "ledger/registry.hpp"
#include "store/store.hpp"

namespace opsbox::collections {

inline constexpr std::string_view kImportPortfolioChunk = "import_portfolio_chunk";
inline constexpr std::string_view kPortfolioAccountsUpserted = "portfolio_accounts_upserted";
inline constexpr std::string_view kPortfolioBucketsMoved = "portfolio_buckets_moved";

// Valid rows in one import_portfolio_chunk command at most (decision 0017: 1,000 rows keep a
// command near 600 KiB, far below the writer's 8 MiB command limit).
inline constexpr size_t kImportChunkRowsMax = 1000;
inline constexpr size_t kImportIdBytesMax = 64;
inline constexpr int64_t kImportChunkIndexMax = 100'000'000;
// Accounts in one page of ListAccounts at most.
inline constexpr size_t kAccountsPageMax = 500;

// The data subject whose key seals a collections customer's contact: "colcus_<customer_id>".
// Erasing it (privacy erasure) makes that customer's contact unreadable in every import event.
std::string CustomerSubject(std::string_view customer_id);
inline constexpr std::string_view kCustomerSubjectPrefix = "colcus_";

// What collections needs from privacy, as functions so the database tests run without the
// keyring; the composition root binds them to privacy::Keyring. Thread-safe.
struct Hooks {
  // Keyring::BlindIndex: HMAC hex of a normalised value per tenant and kind.
  std::function<std::string(std::string_view tenant, std::string_view kind,
                            std::string_view normalized)>
      blind_index;
  // Keyring::Open inside the writer's transaction and on a reader connection: the clear
  // value, nullopt when its key was destroyed (erased). Needed by the contact policy for an
  // account without a zone (its phone's country decides the zones).
  std::function<Result<std::optional<Json>>(store::Tx&, std::string_view tenant, const Json&)>
      open_tx;
  std::function<Result<std::optional<Json>>(store::Connection&, std::string_view tenant,
                                            const Json&)>
      open;
};

// Adds import_portfolio_chunk and the projectors of its events. Call once, before the writer
// starts. (Collections::Register calls it; the import database tests use it alone.)
void RegisterCollections(ledger::Registry& registry, Hooks hooks);

// Erasure scrubber (privacy::Keyring::AddErasureScrubber): clears the sealed contact copies of
// a "colcus_…" subject in collections_accounts; other subjects are not collections'.
Status ScrubSubject(store::Tx& tx, const std::string& tenant, const std::string& subject_id);

// The wire form of one row in import_portfolio_chunk, and back (validated: errors name
// "rows[i].<field>" with rules "required", "type", "range", "max_bytes", "identifier").
Json ChunkRowToJson(const PortfolioRow& row);
Result<PortfolioRow> ChunkRowFromJson(const Json& j, size_t index);

// An imported account as projected. `contact` is the sealed value ("" when the row had none).
struct AccountRecord {
  std::string account_id, customer_id, product, currency, bucket;
  int64_t principal_minor = 0, outstanding_minor = 0, overdue_minor = 0, instalment_minor = 0;
  int64_t days_past_due = 0, bucket_rank = 0;
  std::optional<int64_t> due_day, next_due_day;
  std::string branch, region, zone;
  int64_t consent_given = 0, consent_refused = 0, flags = 0;
  std::string contact, contact_index, import_id;
  Instant updated_at;
  int64_t seq = 0;
};

Result<std::optional<AccountRecord>> GetAccount(store::Connection& conn, std::string_view tenant,
                                                std::string_view account_id);
// Accounts ordered by account_id after `after_account_id` ("" from the start), at most
// min(limit, kAccountsPageMax).
Result<std::vector<AccountRecord>> ListAccounts(store::Connection& conn, std::string_view tenant,
                                                std::string_view after_account_id, size_t limit);

// --- Contact attempts and the contact policy on stored accounts (issue #11, "Attempts") ---
//
// Command record_contact_attempt {account_id, channel, direction, outcome, purpose?, at?,
//   note?}: channel voice|sms|whatsapp|email, direction outbound|inbound, outcome as in
//   contact_policy.hpp, purpose collection (default)|specialist|required_notice, at RFC 3339
//   (default now; at most kAttemptBackdateMax before and kAttemptAheadMax after now), note at
//   most kAttemptNoteBytesMax bytes (sealed under the customer's subject). An outbound attempt
//   is decided by the contact policy at `at` over the account's recorded attempts: refused
//   with kConflict, rule "contact_policy", a message listing every reason. Inbound attempts
//   are always recorded (they count for no rule). Event contact_attempt_recorded {attempt_id,
//   account_id, customer_id, subject, channel, direction, outcome, purpose, at, note?};
//   result {attempt_id, account_id, at}. Recorded attempts are the history later checks count.
inline constexpr std::string_view kRecordContactAttempt = "record_contact_attempt";
inline constexpr std::string_view kContactAttemptRecorded = "contact_attempt_recorded";
inline constexpr size_t kAttemptNoteBytesMax = 2000;
inline constexpr Duration kAttemptBackdateMax = Duration::Hours(24);
inline constexpr Duration kAttemptAheadMax = Duration::Minutes(5);
// Newest attempts a check reads per account (the widest rule window is 366 days).
inline constexpr size_t kHistoryLoadedMax = 10000;
inline constexpr size_t kWorklistPageMax = 200;
inline constexpr size_t kAttemptsPageMax = 500;

// One policy reason: its rule id and the operator's sentence.
struct ReasonText {
  std::string rule;
  std::string detail;
};
struct ContactCheck {
  bool allowed = false;
  std::vector<ReasonText> reasons;
  std::optional<Instant> next_allowed_at;
};

struct AttemptRecord {
  std::string attempt_id, account_id, channel, direction, outcome, actor;
  Instant at;
  std::string note;  // sealed value or ""
  int64_t seq = 0;
};

struct WorklistItem {
  AccountRecord account;
  ContactCheck check;
};
struct WorklistPage {
  std::vector<WorklistItem> items;
  std::string next_cursor;  // "" at the end
};

// The contact policy on stored accounts. Holds the tenant-wide policy and the zone catalogue;
// thread-safe (resolving zones into the catalogue is serialised by a mutex).
class Collections {
 public:
  Collections(Hooks hooks, ContactPolicy policy, ZoneCatalog zones);
  ~Collections();
  Collections(const Collections&) = delete;
  Collections& operator=(const Collections&) = delete;

  // Adds every collections command and projector (RegisterCollections and
  // record_contact_attempt). Call once, before the writer starts.
  void Register(ledger::Registry& registry) const;

  const ContactPolicy& policy() const { return policy_; }

  // May the account be contacted on `channel` for `purpose` at `at`? nullopt when the tenant
  // has no such account.
  Result<std::optional<ContactCheck>> Check(store::Connection& conn, std::string_view tenant,
                                            std::string_view account_id, Channel channel,
                                            Purpose purpose, Instant at) const;
  // The worklist: accounts by overdue amount (descending), then days past due (descending),
  // then account id, each with "can contact now" on `channel` and its reasons. `cursor` from
  // the previous page ("" first); at most min(limit, kWorklistPageMax) items.
  Result<WorklistPage> Worklist(store::Connection& conn, std::string_view tenant,
                                Channel channel, Instant at, std::string_view cursor,
                                size_t limit) const;
  // The account's attempts, newest first, at most min(limit, kAttemptsPageMax).
  Result<std::vector<AttemptRecord>> Attempts(store::Connection& conn, std::string_view tenant,
                                              std::string_view account_id, size_t limit) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ContactPolicy policy_;
};

}  // namespace opsbox::collections
