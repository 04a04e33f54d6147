// The contact policy on stored accounts: record_contact_attempt (decided by the policy over
// the recorded attempts), the check and the worklist (collections.hpp). The rules themselves
// are contact_policy.cpp's; this file loads what they need.
#include <charconv>
#include <mutex>
#include <nlohmann/json.hpp>

#include "collections/collections.hpp"
#include "collections/internal/accounts.hpp"
#include "core/assert.hpp"
#include "core/ids.hpp"

namespace opsbox::collections {

struct Collections::Impl {
  Hooks hooks;
  mutable std::mutex mu;  // ZoneCatalog is resolved into lazily; checks read it
  mutable ZoneCatalog zones;
};

namespace {

using detail::kAccountColumns;
using detail::RecordFromRow;


Result<std::vector<Attempt>> LoadHistory(
    const std::function<Result<store::Rows>(std::string_view, std::span<const store::Value>)>& query,
    std::string_view tenant, std::string_view account_id) {
  const store::Value p[] = {std::string(tenant), std::string(account_id),
                            static_cast<int64_t>(kHistoryLoadedMax)};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, query("SELECT at_us, channel, direction, outcome FROM "
                                           "collections_attempts WHERE tenant_id = ? AND "
                                           "account_id = ? ORDER BY at_us DESC LIMIT ?",
                                           p));
  std::vector<Attempt> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[rows.size() - 1 - i];  // ascending
    Attempt& a = out[i];
    a.at = Instant{r.Int(0)};
    OPSBOX_ASSIGN_OR_RETURN(a.channel, ParseChannel(r.Text(1), "channel"));
    OPSBOX_ASSIGN_OR_RETURN(a.direction, ParseDirection(r.Text(2), "direction"));
    OPSBOX_ASSIGN_OR_RETURN(a.outcome, ParseOutcome(r.Text(3), "outcome"));
  }
  return out;
}

// The first phone of the account's opened contact ("" when none or erased).
Result<std::string> FirstPhone(const Result<std::optional<Json>>& opened) {
  if (!opened.ok()) return opened.error();
  if (!opened->has_value()) return std::string();
  const Json& c = **opened;
  const auto phones = c.find("phones");
  if (phones == c.end() || !phones->is_array() || phones->empty() || !(*phones)[0].is_string()) {
    return std::string();
  }
  return (*phones)[0].get<std::string>();
}

// The zone set: the account's zone, else every zone of its first phone's country, else
// unknown (the calling window then refuses). Caller holds the catalogue's mutex.
uint32_t ZoneSetOf(ZoneCatalog& zones, const AccountRecord& a, const std::string& phone) {
  if (!a.zone.empty()) {
    auto set = zones.ResolveZone(a.zone);
    return set.ok() ? *set : kUnknownZoneSet;
  }
  if (phone.empty()) return kUnknownZoneSet;
  auto country = PhoneCountry(phone, "phone");
  if (!country.ok()) return kUnknownZoneSet;
  auto set = zones.ResolveCountry(*country);
  return set.ok() ? *set : kUnknownZoneSet;
}

ContactCheck Decide(const ContactPolicy& policy, ZoneCatalog& zones, const AccountRecord& a,
                    const std::string& phone, const std::vector<Attempt>& history,
                    Channel channel, Purpose purpose, Instant at) {
  ContactAccount ca;
  ca.zone_set = ZoneSetOf(zones, a, phone);
  ca.flags = static_cast<uint8_t>(a.flags);
  ca.consent_given = static_cast<uint8_t>(a.consent_given);
  ca.consent_refused = static_cast<uint8_t>(a.consent_refused);
  ca.history = history;
  const ContactDecision d = CanContact(policy, zones, ca, channel, purpose, at);
  ContactCheck out;
  out.allowed = d.allowed;
  out.next_allowed_at = d.next_allowed_at;
  for (const Reason& r : d.Reasons()) {
    out.reasons.push_back({std::string(RuleName(r.rule)), DescribeReason(r, policy, zones)});
  }
  return out;
}

std::string ReasonsSentence(const ContactCheck& c) {
  std::string s;
  for (const auto& r : c.reasons) s += (s.empty() ? "" : "; ") + r.rule + ": " + r.detail;
  return s;
}

struct AttemptRequest {
  std::string account_id, note;
  Channel channel = Channel::kVoice;
  Direction direction = Direction::kOutbound;
  Outcome outcome = Outcome::kNoAnswer;
  Purpose purpose = Purpose::kCollection;
  Instant at;
};

Result<AttemptRequest> ParseAttempt(const Json& p, Instant now) {
  if (!p.is_object()) return Error::Invalid("payload", "type", "payload must be an object");
  OPSBOX_TRY(CheckObjectKeys(p, {"account_id", "channel", "direction", "outcome", "purpose", "at",
                                 "note"}));
  AttemptRequest r;
  OPSBOX_ASSIGN_OR_RETURN(r.account_id, RequireString(p, "account_id", kImportFieldBytesMax));
  OPSBOX_ASSIGN_OR_RETURN(auto channel, RequireString(p, "channel", 16));
  OPSBOX_ASSIGN_OR_RETURN(r.channel, ParseChannel(channel, "channel"));
  OPSBOX_ASSIGN_OR_RETURN(auto direction, RequireString(p, "direction", 16));
  OPSBOX_ASSIGN_OR_RETURN(r.direction, ParseDirection(direction, "direction"));
  OPSBOX_ASSIGN_OR_RETURN(auto outcome, RequireString(p, "outcome", 32));
  OPSBOX_ASSIGN_OR_RETURN(r.outcome, ParseOutcome(outcome, "outcome"));
  OPSBOX_ASSIGN_OR_RETURN(auto purpose, OptionalString(p, "purpose", 32, "collection"));
  OPSBOX_ASSIGN_OR_RETURN(r.purpose, ParsePurpose(purpose, "purpose"));
  OPSBOX_ASSIGN_OR_RETURN(r.note, OptionalString(p, "note", kAttemptNoteBytesMax, ""));
  r.at = now;
  if (p.contains("at")) {
    OPSBOX_ASSIGN_OR_RETURN(auto at_text, RequireString(p, "at", 64));
    OPSBOX_ASSIGN_OR_RETURN(const Instant at, ParseRfc3339(at_text, "at"));
    if (at.us < now.us - kAttemptBackdateMax.us || at.us > now.us + kAttemptAheadMax.us) {
      return Error::Invalid("at", "range",
                            "at must be at most 24 hours before and 5 minutes after now");
    }
    r.at = at;
  }
  return r;
}

}  // namespace

Collections::Collections(Hooks hooks, ContactPolicy policy, ZoneCatalog zones)
    : impl_(std::make_unique<Impl>()), policy_(std::move(policy)) {
  impl_->hooks = std::move(hooks);
  impl_->zones = std::move(zones);
}

Collections::~Collections() = default;

void Collections::Register(ledger::Registry& registry) const {
  RegisterCollections(registry, impl_->hooks);
  const Impl* impl = impl_.get();
  const ContactPolicy* policy = &policy_;
  registry.AddCommand(
      std::string(kRecordContactAttempt),
      [impl, policy](store::Tx& tx, const ledger::Command& cmd, Instant now,
                     Random& random) -> Result<ledger::Decision> {
        OPSBOX_ASSIGN_OR_RETURN(const AttemptRequest req, ParseAttempt(cmd.payload, now));
        OPSBOX_ASSIGN_OR_RETURN(auto account, detail::LoadAccount(tx, cmd.tenant_id, req.account_id));
        if (!account) {
          return Error{ErrorCode::kNotFound, "account_id", "not_found",
                       "no account " + req.account_id + " in this tenant"};
        }
        if (req.direction == Direction::kOutbound) {
          auto query = [&tx](std::string_view sql, std::span<const store::Value> p) {
            return tx.Query(sql, p);
          };
          OPSBOX_ASSIGN_OR_RETURN(auto history, LoadHistory(query, cmd.tenant_id, req.account_id));
          std::string phone;
          if (account->zone.empty() && !account->contact.empty()) {
            OPSBOX_ASSIGN_OR_RETURN(phone, FirstPhone(impl->hooks.open_tx(tx, cmd.tenant_id,
                                                                           Json(account->contact))));
          }
          std::lock_guard lock(impl->mu);
          const ContactCheck check = Decide(*policy, impl->zones, *account, phone, history,
                                            req.channel, req.purpose, req.at);
          if (!check.allowed) {
            return Error{ErrorCode::kConflict, "account_id", "contact_policy",
                         "the contact policy refuses this attempt: " + ReasonsSentence(check)};
          }
        }
        const std::string attempt_id = NewId("att", now, random);
        Json p{{"attempt_id", attempt_id},
               {"account_id", req.account_id},
               {"customer_id", account->customer_id},
               {"subject", CustomerSubject(account->customer_id)},
               {"channel", ChannelName(req.channel)},
               {"direction", DirectionName(req.direction)},
               {"outcome", OutcomeName(req.outcome)},
               {"purpose", PurposeName(req.purpose)},
               {"at", FormatRfc3339(req.at)}};
        if (!req.note.empty()) p["note"] = req.note;
        ledger::NewEvent e{std::string(kContactAttemptRecorded), std::move(p)};
        e.subject_id = CustomerSubject(account->customer_id);
        e.personal_fields = {"note"};
        ledger::Decision d;
        d.events.push_back(std::move(e));
        d.result = Json{{"attempt_id", attempt_id}, {"account_id", req.account_id},
                        {"at", FormatRfc3339(req.at)}};
        return d;
      });
  registry.AddProjector(std::string(kContactAttemptRecorded),
                        [](store::Tx& tx, const ledger::Event& e) -> Status {
                          Json storage;
                          OPSBOX_ASSIGN_OR_RETURN(const Json* p, ledger::PayloadJson(e, storage));
                          OPSBOX_ASSIGN_OR_RETURN(
                              const Instant at, ParseRfc3339(p->at("at").get<std::string>(), "at"));
                          const auto note = p->find("note");
                          const store::Value row[] = {
                              e.tenant_id, p->at("attempt_id").get<std::string>(),
                              p->at("account_id").get<std::string>(),
                              p->at("channel").get<std::string>(),
                              p->at("direction").get<std::string>(),
                              p->at("outcome").get<std::string>(), at.us,
                              note != p->end() && note->is_string() ? note->get<std::string>()
                                                                    : std::string(),
                              e.actor, e.seq};
                          OPSBOX_TRY(tx.Exec("INSERT INTO collections_attempts (tenant_id, "
                                             "attempt_id, account_id, channel, direction, "
                                             "outcome, at_us, note, actor, seq) VALUES (?, ?, "
                                             "?, ?, ?, ?, ?, ?, ?, ?)",
                                             row));
                          return Ok();
                        });
}

Result<std::optional<ContactCheck>> Collections::Check(store::Connection& conn,
                                                       std::string_view tenant,
                                                       std::string_view account_id,
                                                       Channel channel, Purpose purpose,
                                                       Instant at) const {
  OPSBOX_ASSIGN_OR_RETURN(auto account, GetAccount(conn, tenant, account_id));
  if (!account) return std::optional<ContactCheck>();
  auto query = [&conn](std::string_view sql, std::span<const store::Value> p) {
    return conn.Query(sql, p);
  };
  OPSBOX_ASSIGN_OR_RETURN(auto history, LoadHistory(query, tenant, account_id));
  std::string phone;
  if (account->zone.empty() && !account->contact.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(phone, FirstPhone(impl_->hooks.open(conn, tenant, Json(account->contact))));
  }
  std::lock_guard lock(impl_->mu);
  return std::optional<ContactCheck>(
      Decide(policy_, impl_->zones, *account, phone, history, channel, purpose, at));
}

Result<WorklistPage> Collections::Worklist(store::Connection& conn, std::string_view tenant,
                                           Channel channel, Instant at, std::string_view cursor,
                                           size_t limit) const {
  limit = std::min(limit, kWorklistPageMax);
  // Cursor: "<overdue_minor>:<days_past_due>:<account_id>" of the last item of the page.
  std::string sql = std::string("SELECT ") + kAccountColumns +
                    " FROM collections_accounts WHERE tenant_id = ?";
  std::vector<store::Value> params{std::string(tenant)};
  if (!cursor.empty()) {
    const size_t c1 = cursor.find(':');
    const size_t c2 = c1 == std::string_view::npos ? c1 : cursor.find(':', c1 + 1);
    int64_t overdue = 0, dpd = 0;
    if (c2 == std::string_view::npos ||
        std::from_chars(cursor.data(), cursor.data() + c1, overdue).ec != std::errc() ||
        std::from_chars(cursor.data() + c1 + 1, cursor.data() + c2, dpd).ec != std::errc()) {
      return Error::Invalid("cursor", "format", "cursor is not one this server gave");
    }
    const std::string id(cursor.substr(c2 + 1));
    sql += " AND (overdue_minor < ? OR (overdue_minor = ? AND (days_past_due < ? OR "
           "(days_past_due = ? AND account_id > ?))))";
    for (const store::Value& v : {store::Value(overdue), store::Value(overdue), store::Value(dpd),
                                  store::Value(dpd), store::Value(id)}) {
      params.push_back(v);
    }
  }
  sql += " ORDER BY overdue_minor DESC, days_past_due DESC, account_id LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit));
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, params));
  WorklistPage page;
  for (const auto& r : rows) {
    AccountRecord a = RecordFromRow(r);
    OPSBOX_ASSIGN_OR_RETURN(auto check, Check(conn, tenant, a.account_id, channel,
                                              Purpose::kCollection, at));
    if (!check) continue;  // gone between the two reads
    page.items.push_back(WorklistItem{std::move(a), std::move(*check)});
  }
  if (rows.size() == limit && !page.items.empty()) {
    const auto& last = page.items.back().account;
    page.next_cursor = std::to_string(last.overdue_minor) + ":" +
                       std::to_string(last.days_past_due) + ":" + last.account_id;
  }
  return page;
}

Result<std::vector<AttemptRecord>> Collections::Attempts(store::Connection& conn,
                                                         std::string_view tenant,
                                                         std::string_view account_id,
                                                         size_t limit) const {
  const store::Value p[] = {std::string(tenant), std::string(account_id),
                            static_cast<int64_t>(std::min(limit, kAttemptsPageMax))};
  OPSBOX_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT attempt_id, account_id, channel, "
                                                "direction, outcome, actor, at_us, note, seq "
                                                "FROM collections_attempts WHERE tenant_id = ? "
                                                "AND account_id = ? ORDER BY at_us DESC, seq "
                                                "DESC LIMIT ?",
                                                p));
  std::vector<AttemptRecord> out;
  for (const auto& r : rows) {
    out.push_back(AttemptRecord{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5),
                                Instant{r.Int(6)}, r.Text(7), r.Int(8)});
  }
  return out;
}

}  // namespace opsbox::collections
