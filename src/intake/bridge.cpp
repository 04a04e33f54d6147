#include "intake/bridge.hpp"

#include <nlohmann/json.hpp>

#include "privacy/consent.hpp"

namespace opsbox::intake {

Hooks MakeHooks(const pii::Scanner& scanner, privacy::Keyring& keyring) {
  Hooks h;
  h.blind_index = [&keyring](std::string_view tenant, std::string_view kind,
                             std::string_view normalized) {
    return keyring.BlindIndex(tenant, kind, normalized);
  };
  h.scan = [&scanner](std::string_view text) {
    std::vector<PiiHit> out;
    for (const auto& f : scanner.Scan(text)) {
      out.push_back(PiiHit{f.start, f.end, std::string(pii::TypeName(f.type))});
    }
    return out;
  };
  h.open = [&keyring](store::Connection& conn, std::string_view tenant,
                      const Json& value) -> Result<std::optional<Json>> {
    OPSBOX_ASSIGN_OR_RETURN(auto opened, keyring.Open(conn, tenant, value));
    if (opened.erased) return std::optional<Json>();
    return std::optional<Json>(std::move(opened.value));
  };
  h.shred = [&keyring](store::Tx& tx, const std::string& tenant, const std::string& scope,
                       Instant now) -> Status {
    OPSBOX_ASSIGN_OR_RETURN(auto destroyed, keyring.EraseSubject(tx, tenant, scope, now));
    (void)destroyed;
    return Ok();
  };
  h.opted_out = [](store::Tx& tx, std::string_view tenant, std::string_view customer_id,
                   std::string_view channel) -> Result<bool> {
    OPSBOX_ASSIGN_OR_RETURN(auto granted, privacy::detail::ConsentGrantedInTx(
                                              tx, tenant, customer_id, "service", channel));
    return granted.has_value() && !*granted;
  };
  h.consent = [](const Json& payload, bool granted,
                 Instant now) -> Result<std::vector<ledger::NewEvent>> {
    OPSBOX_ASSIGN_OR_RETURN(auto d, privacy::detail::DecideConsent(payload, granted, now));
    return std::move(d.events);
  };
  return h;
}

Result<privacy::Opened> OpenStored(privacy::Keyring& keyring, store::Connection& conn,
                                   std::string_view tenant, const Json& stored) {
  if (stored.is_null()) return privacy::Opened{};
  return keyring.Open(conn, tenant, stored);
}

void RegisterWithPrivacy(const Intake& intake, privacy::Keyring& keyring,
                         privacy::Governance& governance) {
  using privacy::FieldClass;
  governance.AddRecordType(
      "customer",
      {{"name", FieldClass::kName}, {"phone", FieldClass::kPhone}, {"email", FieldClass::kEmail}},
      [&keyring](store::Connection& conn, std::string_view tenant, std::string_view id,
                 std::string_view field) -> Result<privacy::Opened> {
        OPSBOX_ASSIGN_OR_RETURN(auto c, GetCustomer(conn, tenant, id));
        if (!c) return Error::NotFound("no customer " + std::string(id));
        if (c->erased) return privacy::Opened{true, Json()};
        const Json& v = field == "name" ? c->name : field == "phone" ? c->phone : c->email;
        return OpenStored(keyring, conn, tenant, v);
      });
  governance.AddRecordType(
      "message", {{"text", FieldClass::kFreeText}},
      [&keyring](store::Connection& conn, std::string_view tenant, std::string_view id,
                 std::string_view) -> Result<privacy::Opened> {
        OPSBOX_ASSIGN_OR_RETURN(auto m, GetMessage(conn, tenant, id));
        if (!m) return Error::NotFound("no message " + std::string(id));
        if (m->text.is_null()) return privacy::Opened{true, Json()};
        return OpenStored(keyring, conn, tenant, m->text);
      });
  governance.AddRetentionTarget(
      "conversation", "crypto_shred",
      [&intake](store::Tx& tx, std::string_view tenant, Instant before, size_t limit) {
        return intake.ExpiredConversations(tx, tenant, before, limit);
      });
  keyring.AddErasureScrubber(
      [&intake](store::Tx& tx, const std::string& tenant, const std::string& subject_id) {
        return intake.ScrubSubject(tx, tenant, subject_id);
      });
}

}  // namespace opsbox::intake
