#include "store/postgres/placeholders.hpp"

#include <algorithm>
#include <cctype>

namespace opsbox::store::detail {
namespace {

// Copies a quoted run starting at sql[i] (the opening quote) through its closing quote; a doubled
// quote is an escaped one. Returns the index after the run.
size_t CopyQuoted(std::string_view sql, size_t i, char quote, std::string& out) {
  size_t j = i + 1;
  while (j < sql.size()) {
    if (sql[j] == quote) {
      if (j + 1 < sql.size() && sql[j + 1] == quote) {
        j += 2;
        continue;
      }
      ++j;
      break;
    }
    ++j;
  }
  out.append(sql.substr(i, j - i));
  return j;
}

size_t CopyLineComment(std::string_view sql, size_t i, std::string& out) {
  size_t j = sql.find('\n', i);
  j = j == std::string_view::npos ? sql.size() : j + 1;
  out.append(sql.substr(i, j - i));
  return j;
}

// PostgreSQL block comments nest; the depth is bounded by the input length.
size_t CopyBlockComment(std::string_view sql, size_t i, std::string& out) {
  size_t depth = 1;
  size_t j = i + 2;
  while (j < sql.size() && depth > 0) {
    if (sql.compare(j, 2, "/*") == 0) {
      ++depth;
      j += 2;
    } else if (sql.compare(j, 2, "*/") == 0) {
      --depth;
      j += 2;
    } else {
      ++j;
    }
  }
  out.append(sql.substr(i, j - i));
  return j;
}

}  // namespace

RewrittenSql RewritePlaceholders(std::string_view sql) {
  RewrittenSql r;
  r.sql.reserve(sql.size() + 16);
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      i = CopyQuoted(sql, i, c, r.sql);
    } else if (c == '-' && sql.compare(i, 2, "--") == 0) {
      i = CopyLineComment(sql, i, r.sql);
    } else if (c == '/' && sql.compare(i, 2, "/*") == 0) {
      i = CopyBlockComment(sql, i, r.sql);
    } else if (c == '?') {
      r.sql.push_back('$');
      r.sql.append(std::to_string(++r.param_count));
      ++i;
    } else {
      r.sql.push_back(c);
      ++i;
    }
  }
  return r;
}

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

size_t IFind(std::string_view hay, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (IEquals(hay.substr(i, needle.size()), needle)) return i;
  }
  return std::string_view::npos;
}

bool HasSpecialText(std::string_view s) {
  return s.find_first_of("?'\"") != std::string_view::npos ||
         s.find("--") != std::string_view::npos || s.find("/*") != std::string_view::npos;
}

}  // namespace

std::optional<MultiRowInsert> ParseMultiRowInsert(std::string_view sql) {
  const size_t start = sql.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || !IEquals(sql.substr(start, 6), "INSERT")) {
    return std::nullopt;
  }
  const size_t values = IFind(sql, "VALUES");
  if (values == std::string_view::npos) return std::nullopt;
  MultiRowInsert out;
  out.head = sql.substr(0, values + 6);
  const size_t open = sql.find_first_not_of(" \t\r\n", values + 6);
  if (open == std::string_view::npos || sql[open] != '(') return std::nullopt;
  const size_t close = sql.find(')', open);
  if (close == std::string_view::npos) return std::nullopt;
  bool expect_placeholder = true;
  for (char c : sql.substr(open + 1, close - open - 1)) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c != (expect_placeholder ? '?' : ',')) return std::nullopt;
    if (expect_placeholder) ++out.columns;
    expect_placeholder = !expect_placeholder;
  }
  if (out.columns == 0 || expect_placeholder) return std::nullopt;
  out.tail = sql.substr(close + 1);
  if (HasSpecialText(out.head) || HasSpecialText(out.tail)) return std::nullopt;
  if (IFind(out.tail, "UPDATE") != std::string_view::npos) return std::nullopt;
  return out;
}

std::string BuildMultiRowInsert(const MultiRowInsert& insert, size_t rows) {
  std::string sql(insert.head);
  sql.reserve(sql.size() + rows * static_cast<size_t>(insert.columns) * 7 + insert.tail.size());
  size_t n = 0;
  for (size_t r = 0; r < rows; ++r) {
    sql.append(r == 0 ? " (" : ", (");
    for (int c = 0; c < insert.columns; ++c) {
      if (c > 0) sql.push_back(',');
      sql.push_back('$');
      sql.append(std::to_string(++n));
    }
    sql.push_back(')');
  }
  sql.append(insert.tail);
  return sql;
}

}  // namespace opsbox::store::detail
