// Rewrites the portable `?` placeholders of store.hpp SQL into PostgreSQL's $1, $2, ...
// Internal to store/; pure, so it is unit-tested without a server.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace opsbox::store::detail {

struct RewrittenSql {
  std::string sql;      // with $n placeholders
  int param_count = 0;  // how many `?` were replaced
};

// Replaces each `?` outside single-quoted literals (with '' escapes), double-quoted identifiers,
// -- line comments and /* block comments */ by $1, $2, ... in order. Text inside those is copied
// unchanged. An unterminated literal or comment is copied as is (the server reports it).
RewrittenSql RewritePlaceholders(std::string_view sql);

// An `INSERT ... VALUES (?, ..., ?) [suffix]` statement that can insert many rows at once.
struct MultiRowInsert {
  std::string_view head;  // up to and including VALUES
  std::string_view tail;  // after the closing parenthesis of the tuple
  int columns = 0;        // placeholders in the tuple
};

// Recognises statements whose rows may be sent as one multi-row INSERT with the same effect
// as one INSERT per row: the tuple holds only placeholders, and nothing else in the statement
// has a placeholder, a quote or a comment. ON CONFLICT ... DO UPDATE is refused (one multi-row
// statement may not update the same row twice, which per-row statements may).
std::optional<MultiRowInsert> ParseMultiRowInsert(std::string_view sql);

// head + "($1,...,$c),($c+1,...)" for `rows` tuples + tail.
std::string BuildMultiRowInsert(const MultiRowInsert& insert, size_t rows);

}  // namespace opsbox::store::detail
