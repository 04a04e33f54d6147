#include "ledger/event.hpp"

#include "store/store.hpp"

namespace opsbox::ledger {
namespace {

void PutField(std::string& out, std::string_view bytes) {
  uint64_t n = bytes.size();
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out.append(bytes);
}

}  // namespace

std::string CanonicalEventBytes(const Event& e) {
  std::string out;
  out.reserve(160 + e.payload.size());
  PutField(out, "opsbox-event-v1");
  PutField(out, e.tenant_id);
  PutField(out, std::to_string(e.seq));
  PutField(out, e.event_id);
  PutField(out, std::to_string(e.recorded_at.us));
  PutField(out, e.actor);
  PutField(out, e.command_id);
  PutField(out, e.type);
  PutField(out, e.payload);
  PutField(out, e.prev_hash);
  return out;
}

std::string ComputeEventHash(const Event& e) { return HexEncode(Sha256(CanonicalEventBytes(e))); }

Result<const Json*> PayloadJson(const Event& e, Json& storage) {
  if (e.payload_json != nullptr) return e.payload_json;
  OPSBOX_ASSIGN_OR_RETURN(storage, ParseJson(e.payload, "payload"));
  return &storage;
}

bool IsSecretPayloadField(std::string_view field) {
  for (auto f : kSecretPayloadFields) {
    if (f == field) return true;
  }
  return false;
}

Json Event::ToStoredJson() const {
  Json payload_json = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  return Json{{"tenant_id", tenant_id},     {"seq", seq},
              {"event_id", event_id},       {"recorded_at", FormatRfc3339(recorded_at)},
              {"actor", actor},             {"command_id", command_id},
              {"type", type},               {"payload", std::move(payload_json)},
              {"prev_hash", prev_hash},     {"hash", hash}};
}

Json Event::ToOutboundJson() const {
  Json out = ToStoredJson();
  Json& p = out["payload"];
  if (p.is_object()) {
    for (auto field : kSecretPayloadFields) {
      auto it = p.find(field);
      if (it != p.end()) *it = kRedactedValue;
    }
  }
  return out;
}

Event EventFromRow(const store::Row& row) {
  Event e;
  e.tenant_id = row.Text(0);
  e.seq = row.Int(1);
  e.event_id = row.Text(2);
  e.recorded_at = Instant{row.Int(3)};
  e.actor = row.Text(4);
  e.command_id = row.Text(5);
  e.type = row.Text(6);
  e.payload = row.Text(7);
  e.prev_hash = row.Text(8);
  e.hash = row.Text(9);
  return e;
}

}  // namespace opsbox::ledger
