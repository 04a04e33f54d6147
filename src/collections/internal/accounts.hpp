// Rows of collections_accounts, shared by the chunk handler, the queries and the contact
// service (internal to src/collections).
#pragma once

#include <optional>

#include "collections/collections.hpp"
#include "store/store.hpp"

namespace opsbox::collections::detail {

// The columns of collections_accounts after tenant_id, in this order everywhere.
inline constexpr const char* kAccountColumns =
    "account_id, customer_id, product, currency, principal_minor, outstanding_minor, "
    "overdue_minor, instalment_minor, days_past_due, bucket, bucket_rank, due_day, next_due_day, "
    "branch, region, zone, consent_given, consent_refused, flags, contact, contact_index, "
    "import_id, updated_at_us, seq";

// A row selected with kAccountColumns.
AccountRecord RecordFromRow(const store::Row& r);

// The stored account in the writer's transaction (what earlier commands of the batch wrote).
Result<std::optional<AccountRecord>> LoadAccount(store::Tx& tx, std::string_view tenant,
                                                 std::string_view account_id);

}  // namespace opsbox::collections::detail
