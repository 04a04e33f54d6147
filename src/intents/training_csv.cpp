// ParseTrainingCsv (intents.hpp): RFC 4180 records over the whole text, so that a quoted field
// may span lines; one pass, no recursion.
#include <algorithm>
#include <cctype>

#include "intents/intents.hpp"

namespace opsbox::intents {
namespace {

constexpr size_t kColumnsMax = 64;

std::string LineField(size_t line) { return "line " + std::to_string(line); }

// Reads one record starting at `pos`; advances `pos` past its line break and `line` by the
// lines it spans.
Result<std::vector<std::string>> ReadRecord(std::string_view csv, size_t& pos, size_t& line,
                                            std::string_view source) {
  std::vector<std::string> fields(1);
  const size_t first_line = line;
  bool quoted = false, was_quoted = false;
  while (pos < csv.size()) {
    const char c = csv[pos++];
    if (quoted) {
      if (c == '"') {
        if (pos < csv.size() && csv[pos] == '"') {
          fields.back() += '"';
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        fields.back() += c;
      }
      continue;
    }
    if (c == '"' && fields.back().empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      if (fields.size() == kColumnsMax) {
        return Error::Invalid(LineField(first_line), "max_columns",
                              std::string(source) + " line " + std::to_string(first_line) +
                                  ": more than " + std::to_string(kColumnsMax) + " columns");
      }
      fields.emplace_back();
      was_quoted = false;
    } else if (c == '\n') {
      ++line;
      break;
    } else if (c == '\r') {
      continue;
    } else if (was_quoted) {
      return Error::Invalid(LineField(first_line), "csv_quote",
                            std::string(source) + " line " + std::to_string(first_line) +
                                ": text after a closing quote");
    } else {
      fields.back() += c;
    }
  }
  if (quoted) {
    return Error::Invalid(LineField(first_line), "csv_quote",
                          std::string(source) + " line " + std::to_string(first_line) +
                              ": a quoted field is never closed");
  }
  return fields;
}

std::string Lowered(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<std::vector<Example>> ParseTrainingCsv(std::string_view csv, std::string_view source) {
  size_t pos = 0, line = 1;
  if (csv.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;  // a UTF-8 byte order mark
  OPSBOX_ASSIGN_OR_RETURN(auto header, ReadRecord(csv, pos, line, source));
  size_t text_col = kColumnsMax, intent_col = kColumnsMax;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string name = Lowered(header[i]);
    if (name == "text") text_col = i;
    if (name == "category") intent_col = i;
  }
  if (text_col == kColumnsMax || intent_col == kColumnsMax) {
    return Error::Invalid("line 1", "header",
                          std::string(source) + ": the header must name the columns text and "
                                                "category");
  }
  std::vector<Example> out;
  while (pos < csv.size()) {
    const size_t record_line = line;
    OPSBOX_ASSIGN_OR_RETURN(auto fields, ReadRecord(csv, pos, line, source));
    if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line
    const std::string where = std::string(source) + " line " + std::to_string(record_line);
    if (fields.size() <= std::max(text_col, intent_col)) {
      return Error::Invalid(LineField(record_line), "required",
                            where + ": the row has no text or category column");
    }
    Example e{std::move(fields[text_col]), std::move(fields[intent_col])};
    auto trim = [](std::string& s) {
      const auto b = s.find_first_not_of(" \t");
      const auto f = s.find_last_not_of(" \t");
      s = b == std::string::npos ? std::string() : s.substr(b, f - b + 1);
    };
    trim(e.text);
    trim(e.intent);
    if (e.text.empty() || e.intent.empty()) {
      return Error::Invalid(LineField(record_line), "required",
                            where + ": text and category must not be empty");
    }
    if (e.text.size() > kTrainingTextBytesMax) {
      return Error::Invalid(LineField(record_line), "max_bytes",
                            where + ": the text is longer than " +
                                std::to_string(kTrainingTextBytesMax) + " bytes");
    }
    if (e.intent.size() > kIntentNameBytesMax || e.intent == kUnknownIntent) {
      return Error::Invalid(LineField(record_line),
                            e.intent == kUnknownIntent ? "reserved" : "max_bytes",
                            where + ": the category must be at most " +
                                std::to_string(kIntentNameBytesMax) +
                                " bytes and not \"unknown\"");
    }
    if (out.size() == kTrainingRowsMax) {
      return Error::Invalid(LineField(record_line), "max_rows",
                            where + ": more than " + std::to_string(kTrainingRowsMax) + " rows");
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace opsbox::intents
