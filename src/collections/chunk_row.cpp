// The wire form of a portfolio row inside import_portfolio_chunk. The writer's handler takes
// it from any submitter, so reading it back checks every field again (types, ranges, sizes).
#include <nlohmann/json.hpp>

#include "collections/collections.hpp"

namespace opsbox::collections {
namespace {

std::string At(size_t index, std::string_view field) {
  return "rows[" + std::to_string(index) + "]." + std::string(field);
}

Result<std::string> Text(const Json& j, std::string_view key, size_t index, bool required) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Error::Invalid(At(index, key), "required", At(index, key) + " is required");
    return std::string();
  }
  if (!it->is_string()) return Error::Invalid(At(index, key), "type", At(index, key) + " must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > kImportFieldBytesMax) {
    return Error::Invalid(At(index, key), "max_bytes",
                          At(index, key) + " is longer than " + std::to_string(kImportFieldBytesMax) +
                              " bytes");
  }
  if (required && s.empty()) return Error::Invalid(At(index, key), "required", At(index, key) + " is required");
  return s;
}

Result<int64_t> Int(const Json& j, std::string_view key, size_t index, int64_t max) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() < 0 ||
      it->get<int64_t>() > max) {
    return Error::Invalid(At(index, key), "range",
                          At(index, key) + " must be an integer 0.." + std::to_string(max));
  }
  return it->get<int64_t>();
}

Result<std::optional<int64_t>> OptDay(const Json& j, std::string_view key, size_t index) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<int64_t>();
  const auto it = j.find(key);
  // Days since 1970-01-01 for years 1900..9999.
  if (!it->is_number_integer() || it->get<int64_t>() < -25567 || it->get<int64_t>() > 2932896) {
    return Error::Invalid(At(index, key), "range", At(index, key) + " must be a day number");
  }
  return std::optional<int64_t>(it->get<int64_t>());
}

}  // namespace

Json ChunkRowToJson(const PortfolioRow& r) {
  Json j{{"line", static_cast<int64_t>(r.line)},
         {"account_id", r.account_id},
         {"customer_id", r.customer_id},
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
         {"address", r.address},
         {"name", r.name},
         {"email", r.email},
         {"phones", r.phones},
         {"consent_given", r.consent_given},
         {"consent_refused", r.consent_refused},
         {"flags", r.flags}};
  if (r.due_day) j["due_day"] = *r.due_day;
  if (r.next_due_day) j["next_due_day"] = *r.next_due_day;
  return j;
}

Result<PortfolioRow> ChunkRowFromJson(const Json& j, size_t i) {
  if (!j.is_object()) return Error::Invalid(At(i, ""), "type", "rows[" + std::to_string(i) + "] must be an object");
  PortfolioRow r;
  OPSBOX_ASSIGN_OR_RETURN(const int64_t line, Int(j, "line", i, INT64_MAX));
  r.line = static_cast<size_t>(line);
  OPSBOX_ASSIGN_OR_RETURN(r.account_id, Text(j, "account_id", i, true));
  OPSBOX_ASSIGN_OR_RETURN(r.customer_id, Text(j, "customer_id", i, true));
  if (r.customer_id.size() > kCustomerIdBytesMax ||
      !std::all_of(r.customer_id.begin(), r.customer_id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      })) {
    return Error::Invalid(At(i, "customer_id"), "identifier",
                          "customer_id must be letters, digits, _ - or .");
  }
  OPSBOX_ASSIGN_OR_RETURN(r.product, Text(j, "product", i, true));
  OPSBOX_ASSIGN_OR_RETURN(r.currency, Text(j, "currency", i, true));
  OPSBOX_ASSIGN_OR_RETURN(r.principal_minor, Int(j, "principal_minor", i, kAmountMinorMax));
  OPSBOX_ASSIGN_OR_RETURN(r.outstanding_minor, Int(j, "outstanding_minor", i, kAmountMinorMax));
  OPSBOX_ASSIGN_OR_RETURN(r.overdue_minor, Int(j, "overdue_minor", i, kAmountMinorMax));
  OPSBOX_ASSIGN_OR_RETURN(r.instalment_minor, Int(j, "instalment_minor", i, kAmountMinorMax));
  OPSBOX_ASSIGN_OR_RETURN(const int64_t dpd, Int(j, "days_past_due", i, kDaysPastDueMax));
  r.days_past_due = static_cast<int32_t>(dpd);
  OPSBOX_ASSIGN_OR_RETURN(r.bucket, Text(j, "bucket", i, true));
  OPSBOX_ASSIGN_OR_RETURN(const int64_t rank, Int(j, "bucket_rank", i, kBucketsPerProductMax - 1));
  r.bucket_rank = static_cast<int32_t>(rank);
  OPSBOX_ASSIGN_OR_RETURN(r.due_day, OptDay(j, "due_day", i));
  OPSBOX_ASSIGN_OR_RETURN(r.next_due_day, OptDay(j, "next_due_day", i));
  OPSBOX_ASSIGN_OR_RETURN(r.branch, Text(j, "branch", i, false));
  OPSBOX_ASSIGN_OR_RETURN(r.region, Text(j, "region", i, false));
  OPSBOX_ASSIGN_OR_RETURN(r.zone, Text(j, "zone", i, false));
  OPSBOX_ASSIGN_OR_RETURN(r.address, Text(j, "address", i, false));
  OPSBOX_ASSIGN_OR_RETURN(r.name, Text(j, "name", i, false));
  OPSBOX_ASSIGN_OR_RETURN(r.email, Text(j, "email", i, false));
  if (const auto ph = j.find("phones"); ph != j.end() && !ph->is_null()) {
    if (!ph->is_array() || ph->size() > kImportPhonesMax) {
      return Error::Invalid(At(i, "phones"), "max_items",
                            "phones must be an array of at most " + std::to_string(kImportPhonesMax));
    }
    for (const auto& p : *ph) {
      if (!p.is_string() || p.get_ref<const std::string&>().size() > 16) {
        return Error::Invalid(At(i, "phones"), "e164", "phones must be E.164 strings");
      }
      r.phones.push_back(p.get<std::string>());
    }
  }
  OPSBOX_ASSIGN_OR_RETURN(const int64_t given, Int(j, "consent_given", i, 255));
  OPSBOX_ASSIGN_OR_RETURN(const int64_t refused, Int(j, "consent_refused", i, 255));
  OPSBOX_ASSIGN_OR_RETURN(const int64_t flags, Int(j, "flags", i, 255));
  r.consent_given = static_cast<uint8_t>(given);
  r.consent_refused = static_cast<uint8_t>(refused);
  r.flags = static_cast<uint8_t>(flags);
  return r;
}

}  // namespace opsbox::collections
