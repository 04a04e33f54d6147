// import_portfolio_chunk: decide a chunk of portfolio rows against collections_accounts
// (upsert only what changed, bucket movements), and project its events. The decision is pure
// given the stored accounts the handler loads and the blind-index hook.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "collections/collections.hpp"
#include "collections/internal/accounts.hpp"
#include "core/assert.hpp"
#include "core/limits.hpp"

namespace opsbox::collections {
namespace {

using detail::kAccountColumns;
using detail::RecordFromRow;

store::Value OptDay(const std::optional<int64_t>& d) {
  return d ? store::Value(*d) : store::Null();
}


constexpr std::string_view kContactIndexKind = "collections_contact";

// The clear contact of a row: only what the file gave; null when it gave nothing.
Json ContactOf(const PortfolioRow& row) {
  Json c = Json::object();
  if (!row.name.empty()) c["name"] = row.name;
  if (!row.phones.empty()) c["phones"] = row.phones;
  if (!row.email.empty()) c["email"] = row.email;
  if (!row.address.empty()) c["address"] = row.address;
  return c.empty() ? Json() : c;
}

bool SameAccount(const AccountRecord& a, const PortfolioRow& r, const std::string& contact_index) {
  return a.customer_id == r.customer_id && a.product == r.product && a.currency == r.currency &&
         a.principal_minor == r.principal_minor && a.outstanding_minor == r.outstanding_minor &&
         a.overdue_minor == r.overdue_minor && a.instalment_minor == r.instalment_minor &&
         a.days_past_due == r.days_past_due && a.bucket == r.bucket &&
         a.bucket_rank == r.bucket_rank && a.due_day == r.due_day &&
         a.next_due_day == r.next_due_day && a.branch == r.branch && a.region == r.region &&
         a.zone == r.zone && a.consent_given == r.consent_given &&
         a.consent_refused == r.consent_refused && a.flags == r.flags &&
         a.contact_index == contact_index;
}

// The account as it will be stored after `r` (what SameAccount compares).
AccountRecord StoredForm(const PortfolioRow& r, const std::string& contact_index) {
  AccountRecord a;
  a.account_id = r.account_id;
  a.customer_id = r.customer_id;
  a.product = r.product;
  a.currency = r.currency;
  a.principal_minor = r.principal_minor;
  a.outstanding_minor = r.outstanding_minor;
  a.overdue_minor = r.overdue_minor;
  a.instalment_minor = r.instalment_minor;
  a.days_past_due = r.days_past_due;
  a.bucket = r.bucket;
  a.bucket_rank = r.bucket_rank;
  a.due_day = r.due_day;
  a.next_due_day = r.next_due_day;
  a.branch = r.branch;
  a.region = r.region;
  a.zone = r.zone;
  a.consent_given = r.consent_given;
  a.consent_refused = r.consent_refused;
  a.flags = r.flags;
  a.contact_index = contact_index;
  return a;
}

// The stored accounts of a chunk's rows: one IN (…) query.
Result<std::map<std::string, AccountRecord, std::less<>>> LoadAccounts(
    store::Tx& tx, const std::string& tenant, const std::vector<PortfolioRow>& rows) {
  std::string sql = std::string("SELECT ") + kAccountColumns +
                    " FROM collections_accounts WHERE tenant_id = ? AND account_id IN (";
  std::vector<store::Value> params{tenant};
  params.reserve(rows.size() + 1);
  for (size_t i = 0; i < rows.size(); ++i) {
    sql += i == 0 ? "?" : ", ?";
    params.emplace_back(rows[i].account_id);
  }
  sql += ")";
  std::map<std::string, AccountRecord, std::less<>> out;
  OPSBOX_TRY(tx.QueryEach(sql, params, [&](const store::Row& r) -> Status {
    AccountRecord a = RecordFromRow(r);
    out.emplace(a.account_id, std::move(a));
    return Ok();
  }));
  return out;
}

Json AccountItem(const PortfolioRow& r, const Json& contact, const std::string& contact_index) {
  Json a{{"account_id", r.account_id},
         {"customer_id", r.customer_id},
         {"subject", CustomerSubject(r.customer_id)},
         {"product", r.product},
         {"currency", r.currency},
         {"principal_minor", r.principal_minor},
         {"outstanding_minor", r.outstanding_minor},
         {"overdue_minor", r.overdue_minor},
         {"instalment_minor", r.instalment_minor},
         {"days_past_due", r.days_past_due},
         {"bucket", r.bucket},
         {"bucket_rank", r.bucket_rank},
         {"branch", r.branch},
         {"region", r.region},
         {"zone", r.zone},
         {"consent_given", r.consent_given},
         {"consent_refused", r.consent_refused},
         {"flags", r.flags},
         {"contact_index", contact_index}};
  if (r.due_day) a["due_day"] = *r.due_day;
  if (r.next_due_day) a["next_due_day"] = *r.next_due_day;
  if (!contact.is_null()) a["contact"] = contact;
  return a;
}

Result<ledger::Decision> DecideChunk(store::Tx& tx, const ledger::Command& cmd,
                                     const Hooks& hooks) {
  const Json& p = cmd.payload;
  if (!p.is_object()) return Error::Invalid("payload", "type", "payload must be an object");
  OPSBOX_TRY(CheckObjectKeys(p, {"import_id", "chunk_index", "rows"}));
  OPSBOX_ASSIGN_OR_RETURN(std::string import_id, RequireString(p, "import_id", kImportIdBytesMax));
  const auto idx = p.find("chunk_index");
  if (idx == p.end() || !idx->is_number_integer() || idx->get<int64_t>() < 0 ||
      idx->get<int64_t>() > kImportChunkIndexMax) {
    return Error::Invalid("chunk_index", "range",
                          "chunk_index must be an integer 0.." + std::to_string(kImportChunkIndexMax));
  }
  const int64_t chunk_index = idx->get<int64_t>();
  const auto rows_json = p.find("rows");
  if (rows_json == p.end() || !rows_json->is_array() || rows_json->empty() ||
      rows_json->size() > kImportChunkRowsMax) {
    return Error::Invalid("rows", "max_items",
                          "rows must be an array of 1.." + std::to_string(kImportChunkRowsMax) +
                              " rows");
  }
  std::vector<PortfolioRow> rows;
  rows.reserve(rows_json->size());
  for (size_t i = 0; i < rows_json->size(); ++i) {
    OPSBOX_ASSIGN_OR_RETURN(auto row, ChunkRowFromJson((*rows_json)[i], i));
    rows.push_back(std::move(row));
  }
  OPSBOX_ASSIGN_OR_RETURN(auto stored, LoadAccounts(tx, cmd.tenant_id, rows));

  Json accounts = Json::array();
  Json movements = Json::array();
  int64_t forward = 0, back = 0;
  for (const PortfolioRow& r : rows) {
    Json contact = ContactOf(r);
    const std::string contact_index =
        contact.is_null() ? std::string()
                          : hooks.blind_index(cmd.tenant_id, kContactIndexKind, CanonicalJson(contact));
    auto it = stored.find(r.account_id);
    if (it != stored.end() && SameAccount(it->second, r, contact_index)) continue;
    if (it != stored.end() && it->second.bucket_rank != r.bucket_rank) {
      const bool fwd = r.bucket_rank > it->second.bucket_rank;
      (fwd ? forward : back) += 1;
      movements.push_back(Json{{"account_id", r.account_id},
                               {"product", r.product},
                               {"from", it->second.bucket},
                               {"to", r.bucket},
                               {"movement", fwd ? "roll_forward" : "roll_back"}});
    }
    accounts.push_back(AccountItem(r, contact, contact_index));
    // A later row of the same account in this chunk compares with this one.
    stored.insert_or_assign(r.account_id, StoredForm(r, contact_index));
  }
  ledger::Decision d;
  const int64_t changed = static_cast<int64_t>(accounts.size());
  if (!accounts.empty()) {
    ledger::NewEvent e{std::string(kPortfolioAccountsUpserted),
                       Json{{"import_id", import_id},
                            {"chunk_index", chunk_index},
                            {"accounts", std::move(accounts)}}};
    e.items_field = "accounts";
    e.items_subject_key = "subject";
    e.items_personal_fields = {"contact"};
    d.events.push_back(std::move(e));
  }
  if (!movements.empty()) {
    d.events.push_back(ledger::NewEvent{std::string(kPortfolioBucketsMoved),
                                        Json{{"import_id", import_id},
                                             {"chunk_index", chunk_index},
                                             {"movements", std::move(movements)}}});
  }
  d.result = Json{{"import_id", import_id}, {"chunk_index", chunk_index},
                  {"rows", static_cast<int64_t>(rows.size())}, {"changed", changed},
                  {"roll_forward", forward}, {"roll_back", back}};
  return d;
}

Status ProjectUpserted(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
  const std::string import_id = p->value("import_id", "");
  std::vector<std::vector<store::Value>> batch;
  for (const Json& a : p->at("accounts")) {
    auto day = [&](const char* k) -> std::optional<int64_t> {
      return a.contains(k) ? std::optional<int64_t>(a[k].get<int64_t>()) : std::nullopt;
    };
    const auto contact = a.find("contact");
    batch.push_back({e.tenant_id, a["account_id"].get<std::string>(),
                     a["customer_id"].get<std::string>(), a["product"].get<std::string>(),
                     a["currency"].get<std::string>(), a["principal_minor"].get<int64_t>(),
                     a["outstanding_minor"].get<int64_t>(), a["overdue_minor"].get<int64_t>(),
                     a["instalment_minor"].get<int64_t>(), a["days_past_due"].get<int64_t>(),
                     a["bucket"].get<std::string>(), a["bucket_rank"].get<int64_t>(),
                     OptDay(day("due_day")), OptDay(day("next_due_day")),
                     a["branch"].get<std::string>(), a["region"].get<std::string>(),
                     a["zone"].get<std::string>(), a["consent_given"].get<int64_t>(),
                     a["consent_refused"].get<int64_t>(), a["flags"].get<int64_t>(),
                     contact != a.end() && contact->is_string() ? contact->get<std::string>()
                                                                : std::string(),
                     a["contact_index"].get<std::string>(), import_id, e.recorded_at.us, e.seq});
  }
  static const std::string sql = [] {
    std::string s = std::string("INSERT INTO collections_accounts (tenant_id, ") + kAccountColumns +
                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "?, ?, ?) ON CONFLICT (tenant_id, account_id) DO UPDATE SET ";
    std::string cols = kAccountColumns;
    bool first = true;
    size_t start = 0;
    while (start < cols.size()) {
      size_t end = cols.find(',', start);
      if (end == std::string::npos) end = cols.size();
      std::string c = cols.substr(start, end - start);
      c.erase(0, c.find_first_not_of(' '));
      if (c != "account_id") {
        s += (first ? "" : ", ") + c + " = excluded." + c;
        first = false;
      }
      start = end + 1;
    }
    return s;
  }();
  return tx.ExecBatch(sql, batch);
}

Status ProjectMoved(store::Tx& tx, const ledger::Event& e) {
  Json storage;
  OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
  std::vector<std::vector<store::Value>> batch;
  for (const Json& m : p->at("movements")) {
    batch.push_back({e.tenant_id, e.seq, m["account_id"].get<std::string>(),
                     m["product"].get<std::string>(), m["from"].get<std::string>(),
                     m["to"].get<std::string>(), m["movement"].get<std::string>(),
                     e.recorded_at.us});
  }
  return tx.ExecBatch(
      "INSERT INTO collections_bucket_movements (tenant_id, seq, account_id, product, "
      "from_bucket, to_bucket, movement, moved_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      batch);
}

}  // namespace

namespace detail {
namespace {

std::optional<int64_t> DayOf(const store::Row& r, size_t i) {
  return r.IsNull(i) ? std::nullopt : std::optional<int64_t>(r.Int(i));
}

}  // namespace

AccountRecord RecordFromRow(const store::Row& r) {
  AccountRecord a;
  a.account_id = r.Text(0);
  a.customer_id = r.Text(1);
  a.product = r.Text(2);
  a.currency = r.Text(3);
  a.principal_minor = r.Int(4);
  a.outstanding_minor = r.Int(5);
  a.overdue_minor = r.Int(6);
  a.instalment_minor = r.Int(7);
  a.days_past_due = r.Int(8);
  a.bucket = r.Text(9);
  a.bucket_rank = r.Int(10);
  a.due_day = DayOf(r, 11);
  a.next_due_day = DayOf(r, 12);
  a.branch = r.Text(13);
  a.region = r.Text(14);
  a.zone = r.Text(15);
  a.consent_given = r.Int(16);
  a.consent_refused = r.Int(17);
  a.flags = r.Int(18);
  a.contact = r.Text(19);
  a.contact_index = r.Text(20);
  a.import_id = r.Text(21);
  a.updated_at = Instant{r.Int(22)};
  a.seq = r.Int(23);
  return a;
}


Result<std::optional<AccountRecord>> LoadAccount(store::Tx& tx, std::string_view tenant,
                                                 std::string_view account_id) {
  const store::Value p[] = {std::string(tenant), std::string(account_id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, tx.Query(std::string("SELECT ") + kAccountColumns +
                                                  " FROM collections_accounts WHERE "
                                                  "tenant_id = ? AND account_id = ?",
                                              p));
  if (rows.empty()) return std::optional<AccountRecord>();
  return std::optional<AccountRecord>(RecordFromRow(rows[0]));
}

}  // namespace detail

std::string CustomerSubject(std::string_view customer_id) {
  return std::string(kCustomerSubjectPrefix) + std::string(customer_id);
}

void RegisterCollections(ledger::Registry& registry, Hooks hooks) {
  OPSBOX_ASSERT_MSG(static_cast<bool>(hooks.blind_index), "collections needs a blind index");
  registry.AddCommand(std::string(kImportPortfolioChunk),
                      [hooks](store::Tx& tx, const ledger::Command& cmd, Instant,
                              Random&) { return DecideChunk(tx, cmd, hooks); });
  registry.AddProjector(std::string(kPortfolioAccountsUpserted), ProjectUpserted);
  registry.AddProjector(std::string(kPortfolioBucketsMoved), ProjectMoved);
}

Status ScrubSubject(store::Tx& tx, const std::string& tenant, const std::string& subject_id) {
  if (!subject_id.starts_with(kCustomerSubjectPrefix)) return Ok();
  const store::Value p[] = {tenant, subject_id.substr(kCustomerSubjectPrefix.size())};
  OPSBOX_ASSIGN_OR_RETURN(auto n, tx.Exec("UPDATE collections_accounts SET contact = '' WHERE "
                                          "tenant_id = ? AND customer_id = ?",
                                          p));
  (void)n;
  return Ok();
}

Result<std::optional<AccountRecord>> GetAccount(store::Connection& conn, std::string_view tenant,
                                                std::string_view account_id) {
  const store::Value p[] = {std::string(tenant), std::string(account_id)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(std::string("SELECT ") + kAccountColumns +
                                                    " FROM collections_accounts WHERE "
                                                    "tenant_id = ? AND account_id = ?",
                                                p));
  if (rows.empty()) return std::optional<AccountRecord>();
  return std::optional<AccountRecord>(RecordFromRow(rows[0]));
}

Result<std::vector<AccountRecord>> ListAccounts(store::Connection& conn, std::string_view tenant,
                                                std::string_view after_account_id, size_t limit) {
  const store::Value p[] = {std::string(tenant), std::string(after_account_id),
                            static_cast<int64_t>(std::min(limit, kAccountsPageMax))};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(std::string("SELECT ") + kAccountColumns +
                                                    " FROM collections_accounts WHERE "
                                                    "tenant_id = ? AND account_id > ? ORDER BY "
                                                    "account_id LIMIT ?",
                                                p));
  std::vector<AccountRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(RecordFromRow(r));
  return out;
}

}  // namespace opsbox::collections
