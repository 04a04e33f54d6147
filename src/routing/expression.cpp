// Routing expressions: an iterative lexer and a shunting-yard parser (no recursion on input)
// producing postfix code over a small stack machine. See expression.hpp for the language.
#include "routing/expression.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <vector>

#include "core/assert.hpp"

namespace opsbox::routing {
namespace detail {

enum class Root : uint8_t { kTask, kWorker, kEither };

struct AttributePath {
  Root root = Root::kEither;
  std::vector<std::string> segments;
};

enum class Op : uint8_t {
  kPushConst, kPushAttr,
  kEq, kNe, kLt, kLe, kGt, kGe, kIn, kHas, kContains,
  kAnd, kOr, kNot,
};

struct Instr {
  Op op;
  uint32_t arg = 0;
};

struct ExpressionProgram {
  std::string text;
  std::vector<Instr> code;
  std::vector<Json> constants;  // [0] = false, [1] = true, then literals
  std::vector<AttributePath> paths;
  bool uses_task = false;
  bool uses_worker = false;
  bool always_true = false;
};

namespace {

// ---- lexer -----------------------------------------------------------------------------------

enum class Tok : uint8_t {
  kEnd, kNumber, kString, kTrue, kFalse, kIdent, kLParen, kRParen, kLBracket, kRBracket, kComma,
  kEq, kNe, kLt, kLe, kGt, kGe, kIn, kHas, kContains, kAnd, kOr, kNot,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t column = 1;       // 1-based byte column
  std::string_view raw;    // source text of the token
  Json value;              // number or string literal
};

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9') || c == '-'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd: return "end of input";
    case Tok::kString: return "string " + std::string(t.raw);
    case Tok::kNumber: return "number " + std::string(t.raw);
    case Tok::kIdent: return "attribute '" + std::string(t.raw) + "'";
    default: return "'" + std::string(t.raw) + "'";
  }
}

class Lexer {
 public:
  Lexer(std::string_view text, std::string_view field) : text_(text), field_(field) {}

  Result<Token> Next() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
    Token t;
    t.column = pos_ + 1;
    if (pos_ >= text_.size()) return t;
    const char c = text_[pos_];
    if (c == '\'' || c == '"') return String(t);
    if (IsDigit(c) || (c == '-' && pos_ + 1 < text_.size() && IsDigit(text_[pos_ + 1]))) {
      return Number(t);
    }
    if (IsNameStart(c)) return Word(t);
    return Punct(t);
  }

  Error Fail(size_t column, std::string message) const {
    return Error::Invalid(std::string(field_), "syntax",
                          "column " + std::to_string(column) + ": " + message);
  }

 private:
  Result<Token> String(Token t) {
    const char quote = text_[pos_];
    std::string out;
    size_t i = pos_ + 1;
    for (; i < text_.size() && text_[i] != quote; ++i) {
      if (text_[i] == '\\' && i + 1 < text_.size() &&
          (text_[i + 1] == quote || text_[i + 1] == '\\')) {
        ++i;
      }
      out.push_back(text_[i]);
    }
    if (i >= text_.size()) {
      return Fail(t.column, std::string("expected a closing ") + quote + " for the string");
    }
    t.kind = Tok::kString;
    t.raw = text_.substr(pos_, i + 1 - pos_);
    t.value = std::move(out);
    pos_ = i + 1;
    return t;
  }

  Result<Token> Number(Token t) {
    size_t i = pos_ + (text_[pos_] == '-' ? 1 : 0);
    bool is_float = false;
    while (i < text_.size() && IsDigit(text_[i])) ++i;
    if (i < text_.size() && text_[i] == '.') {
      is_float = true;
      ++i;
      if (i >= text_.size() || !IsDigit(text_[i])) return Fail(i + 1, "expected a digit after '.'");
      while (i < text_.size() && IsDigit(text_[i])) ++i;
    }
    if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
      is_float = true;
      ++i;
      if (i < text_.size() && (text_[i] == '+' || text_[i] == '-')) ++i;
      if (i >= text_.size() || !IsDigit(text_[i])) return Fail(i + 1, "expected an exponent");
      while (i < text_.size() && IsDigit(text_[i])) ++i;
    }
    if (i < text_.size() && IsNameStart(text_[i])) {
      return Fail(i + 1, "expected an operator after the number, found '" +
                             std::string(1, text_[i]) + "'");
    }
    t.kind = Tok::kNumber;
    t.raw = text_.substr(pos_, i - pos_);
    const char* first = t.raw.data();
    const char* last = first + t.raw.size();
    if (!is_float) {
      int64_t v = 0;
      auto r = std::from_chars(first, last, v);
      if (r.ec == std::errc() && r.ptr == last) {
        t.value = v;
        pos_ = i;
        return t;
      }
    }
    double d = 0;
    auto r = std::from_chars(first, last, d);
    if (r.ec != std::errc() || r.ptr != last) return Fail(t.column, "number out of range");
    t.value = d;
    pos_ = i;
    return t;
  }

  Result<Token> Word(Token t) {
    size_t i = pos_;
    size_t segments = 0;
    while (true) {
      if (i >= text_.size() || !IsNameStart(text_[i])) {
        return Fail(i + 1, "expected a name after '.'");
      }
      while (i < text_.size() && IsNameChar(text_[i])) ++i;
      if (++segments > kExpressionPathSegmentsMax + 1) {
        return Error::Invalid(std::string(field_), "path_segments_max",
                              "column " + std::to_string(t.column) + ": an attribute path has at most " +
                                  std::to_string(kExpressionPathSegmentsMax) + " segments");
      }
      if (i < text_.size() && text_[i] == '.') {
        ++i;
        continue;
      }
      break;
    }
    t.raw = text_.substr(pos_, i - pos_);
    pos_ = i;
    t.kind = Tok::kIdent;
    struct Keyword { std::string_view word; Tok kind; };
    static constexpr std::array<Keyword, 8> kKeywords{{
        {"and", Tok::kAnd}, {"or", Tok::kOr}, {"not", Tok::kNot}, {"in", Tok::kIn},
        {"has", Tok::kHas}, {"contains", Tok::kContains}, {"true", Tok::kTrue},
        {"false", Tok::kFalse}}};
    for (const auto& k : kKeywords) {
      if (EqualsIgnoreCase(t.raw, k.word)) t.kind = k.kind;
    }
    return t;
  }

  Result<Token> Punct(Token t) {
    const char c = text_[pos_];
    const char n = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    size_t len = 1;
    switch (c) {
      case '(': t.kind = Tok::kLParen; break;
      case ')': t.kind = Tok::kRParen; break;
      case '[': t.kind = Tok::kLBracket; break;
      case ']': t.kind = Tok::kRBracket; break;
      case ',': t.kind = Tok::kComma; break;
      case '<': t.kind = n == '=' ? Tok::kLe : Tok::kLt; len = n == '=' ? 2 : 1; break;
      case '>': t.kind = n == '=' ? Tok::kGe : Tok::kGt; len = n == '=' ? 2 : 1; break;
      case '=':
        if (n != '=') return Fail(t.column, "expected '==' (a single '=' is not an operator)");
        t.kind = Tok::kEq;
        len = 2;
        break;
      case '!':
        if (n != '=') return Fail(t.column, "expected '!=' ('!' alone is not an operator, use NOT)");
        t.kind = Tok::kNe;
        len = 2;
        break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        std::string shown = (u >= 0x20 && u < 0x7f) ? std::string(1, c) : "byte " + std::to_string(u);
        return Fail(t.column, "unexpected character '" + shown + "'");
      }
    }
    t.raw = text_.substr(pos_, len);
    pos_ += len;
    return t;
  }

  std::string_view text_;
  std::string_view field_;
  size_t pos_ = 0;
};

// ---- parser ----------------------------------------------------------------------------------

bool IsComparison(Tok k) {
  return k == Tok::kEq || k == Tok::kNe || k == Tok::kLt || k == Tok::kLe || k == Tok::kGt ||
         k == Tok::kGe || k == Tok::kIn || k == Tok::kHas || k == Tok::kContains;
}

Op OpFor(Tok k) {
  switch (k) {
    case Tok::kEq: return Op::kEq;
    case Tok::kNe: return Op::kNe;
    case Tok::kLt: return Op::kLt;
    case Tok::kLe: return Op::kLe;
    case Tok::kGt: return Op::kGt;
    case Tok::kGe: return Op::kGe;
    case Tok::kIn: return Op::kIn;
    case Tok::kHas: return Op::kHas;
    case Tok::kContains: return Op::kContains;
    case Tok::kAnd: return Op::kAnd;
    case Tok::kOr: return Op::kOr;
    default: return Op::kNot;
  }
}

int Precedence(Tok k) {
  if (k == Tok::kOr) return 1;
  if (k == Tok::kAnd) return 2;
  if (k == Tok::kNot) return 3;
  if (IsComparison(k)) return 4;
  return 0;  // '('
}

constexpr std::string_view kExpectValue =
    "expected a value (number, string, true, false, list, attribute, NOT or '(')";
constexpr std::string_view kExpectOperator =
    "expected an operator (==, !=, <, <=, >, >=, IN, HAS, CONTAINS), AND, OR or ')'";

class Parser {
 public:
  Parser(std::string_view text, std::string_view field) : lex_(text, field), field_(field) {
    prog_.text = std::string(text);
    prog_.constants = {Json(false), Json(true)};
    levels_.push_back(Level{});
  }

  Result<ExpressionProgram> Run() {
    if (prog_.text.size() > kExpressionTextBytesMax) {
      return Error::Invalid(std::string(field_), "bytes_max",
                            "an expression has at most " +
                                std::to_string(kExpressionTextBytesMax) + " bytes");
    }
    bool expect_value = true;
    bool first = true;
    while (true) {
      OPSBOX_ASSIGN_OR_RETURN(Token t, lex_.Next());
      if (first && t.kind == Tok::kEnd) {
        Emit(Op::kPushConst, 1);
        break;
      }
      first = false;
      if (expect_value) {
        OPSBOX_ASSIGN_OR_RETURN(expect_value, OnValue(std::move(t)));
      } else {
        if (t.kind == Tok::kEnd) {
          OPSBOX_TRY(Finish());
          break;
        }
        OPSBOX_ASSIGN_OR_RETURN(expect_value, OnOperator(t));
      }
      if (prog_.code.size() + ops_.size() > kExpressionTermsMax) {
        return Error::Invalid(std::string(field_), "terms_max",
                              "column " + std::to_string(t.column) + ": an expression has at most " +
                                  std::to_string(kExpressionTermsMax) + " operands and operators");
      }
    }
    return std::move(prog_);
  }

 private:
  struct Pending {
    Tok kind;
    size_t column;
    std::string_view raw;
  };
  struct Level {
    bool has_comparison = false;  // a comparison since the last AND/OR at this nesting level
  };

  void Emit(Op op, uint32_t arg = 0) { prog_.code.push_back(Instr{op, arg}); }

  Status CheckDepth(const Token& t) {
    if (++depth_ > kExpressionDepthMax) {
      return Error::Invalid(std::string(field_), "depth_max",
                            "column " + std::to_string(t.column) + ": nesting of '(' and NOT is at most " +
                                std::to_string(kExpressionDepthMax));
    }
    return Ok();
  }

  // Handles a token where a value is expected; returns whether a value is still expected.
  Result<bool> OnValue(Token t) {
    const bool after_cmp = !ops_.empty() && IsComparison(ops_.back().kind);
    const bool after_in = after_cmp && ops_.back().kind == Tok::kIn;
    std::string what = after_cmp ? "expected a value after '" + std::string(ops_.back().raw) + "'"
                                 : std::string(kExpectValue);
    if (after_in && t.kind != Tok::kLBracket && t.kind != Tok::kIdent) {
      return lex_.Fail(t.column, "expected a list or an attribute after IN, found " + Describe(t));
    }
    switch (t.kind) {
      case Tok::kNot:
        if (after_cmp) return lex_.Fail(t.column, what + ", found " + Describe(t));
        OPSBOX_TRY(CheckDepth(t));
        ops_.push_back(Pending{t.kind, t.column, t.raw});
        return true;
      case Tok::kLParen:
        OPSBOX_TRY(CheckDepth(t));
        ops_.push_back(Pending{t.kind, t.column, t.raw});
        levels_.push_back(Level{});
        return true;
      case Tok::kNumber:
      case Tok::kString:
        PushConstant(std::move(t.value));
        return false;
      case Tok::kTrue:
      case Tok::kFalse:
        Emit(Op::kPushConst, t.kind == Tok::kTrue ? 1 : 0);
        return false;
      case Tok::kIdent:
        PushPath(t.raw);
        return false;
      case Tok::kLBracket: {
        OPSBOX_TRY(ParseList(t));
        return false;
      }
      default:
        return lex_.Fail(t.column, what + ", found " + Describe(t));
    }
  }

  Status ParseList(const Token& open) {
    Json list = Json::array();
    OPSBOX_ASSIGN_OR_RETURN(Token t, lex_.Next());
    if (t.kind == Tok::kRBracket) {
      PushConstant(std::move(list));
      return Ok();
    }
    while (true) {
      if (t.kind == Tok::kNumber || t.kind == Tok::kString) {
        list.push_back(std::move(t.value));
      } else if (t.kind == Tok::kTrue || t.kind == Tok::kFalse) {
        list.push_back(t.kind == Tok::kTrue);
      } else {
        return lex_.Fail(t.column, "expected a number, string, true or false in the list, found " +
                                       Describe(t));
      }
      if (list.size() > kExpressionListItemsMax) {
        return Error::Invalid(std::string(field_), "list_items_max",
                              "column " + std::to_string(open.column) + ": a list has at most " +
                                  std::to_string(kExpressionListItemsMax) + " items");
      }
      OPSBOX_ASSIGN_OR_RETURN(Token sep, lex_.Next());
      if (sep.kind == Tok::kRBracket) break;
      if (sep.kind != Tok::kComma) {
        return lex_.Fail(sep.column, "expected ',' or ']' in the list opened at column " +
                                         std::to_string(open.column) + ", found " + Describe(sep));
      }
      OPSBOX_ASSIGN_OR_RETURN(t, lex_.Next());
    }
    PushConstant(std::move(list));
    return Ok();
  }

  void PushConstant(Json value) {
    prog_.constants.push_back(std::move(value));
    Emit(Op::kPushConst, static_cast<uint32_t>(prog_.constants.size() - 1));
  }

  void PushPath(std::string_view raw) {
    AttributePath path;
    size_t start = 0;
    while (start <= raw.size()) {
      size_t dot = raw.find('.', start);
      if (dot == std::string_view::npos) dot = raw.size();
      path.segments.emplace_back(raw.substr(start, dot - start));
      start = dot + 1;
    }
    if (path.segments.front() == "task" || path.segments.front() == "worker") {
      path.root = path.segments.front() == "task" ? Root::kTask : Root::kWorker;
      path.segments.erase(path.segments.begin());
    }
    prog_.uses_task |= path.root != Root::kWorker;
    prog_.uses_worker |= path.root != Root::kTask;
    prog_.paths.push_back(std::move(path));
    Emit(Op::kPushAttr, static_cast<uint32_t>(prog_.paths.size() - 1));
  }

  // Pops operators of precedence >= `prec` (stopping at '(') to the output.
  void PopWhile(int prec) {
    while (!ops_.empty() && ops_.back().kind != Tok::kLParen &&
           Precedence(ops_.back().kind) >= prec) {
      if (ops_.back().kind == Tok::kNot) --depth_;
      Emit(OpFor(ops_.back().kind));
      ops_.pop_back();
    }
  }

  // Handles a token where an operator is expected; returns whether a value is expected next.
  Result<bool> OnOperator(const Token& t) {
    if (IsComparison(t.kind)) {
      if (levels_.back().has_comparison) {
        return lex_.Fail(t.column, "comparisons do not chain: expected AND, OR or ')', found " +
                                       Describe(t));
      }
      PopWhile(4);
      levels_.back().has_comparison = true;
      ops_.push_back(Pending{t.kind, t.column, t.raw});
      return true;
    }
    if (t.kind == Tok::kAnd || t.kind == Tok::kOr) {
      PopWhile(Precedence(t.kind));
      levels_.back().has_comparison = false;
      ops_.push_back(Pending{t.kind, t.column, t.raw});
      return true;
    }
    if (t.kind == Tok::kRParen) {
      PopWhile(0);
      if (ops_.empty()) return lex_.Fail(t.column, "found ')' without a matching '('");
      ops_.pop_back();
      levels_.pop_back();
      --depth_;
      return false;
    }
    return lex_.Fail(t.column, std::string(kExpectOperator) + ", found " + Describe(t));
  }

  Status Finish() {
    PopWhile(0);
    if (!ops_.empty()) {
      return lex_.Fail(prog_.text.size() + 1,
                       "expected ')' to close the '(' at column " +
                           std::to_string(ops_.back().column) + ", found end of input");
    }
    return Ok();
  }

  Lexer lex_;
  std::string_view field_;
  ExpressionProgram prog_;
  std::vector<Pending> ops_;
  std::vector<Level> levels_;
  size_t depth_ = 0;
};

// ---- evaluation ------------------------------------------------------------------------------

const Json* Lookup(const Json* root, const std::vector<std::string>& segments) noexcept {
  const Json* cur = root;
  for (const auto& seg : segments) {
    if (cur == nullptr || !cur->is_object()) return nullptr;
    auto it = cur->find(seg);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  if (cur != nullptr && cur->is_null()) return nullptr;
  return cur;
}

// -1/0/1 for ordered values, 2 for equality-comparable values that differ, 3 for values of
// different types (or missing): every comparison is false.
constexpr int kUnequal = 2;
constexpr int kIncomparable = 3;

int CompareNumbers(const Json& a, const Json& b) noexcept {
  if (a.is_number_float() || b.is_number_float()) {
    const double x = a.get<double>(), y = b.get<double>();
    if (x != x || y != y) return kIncomparable;
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  const __int128 x = a.is_number_unsigned() ? static_cast<__int128>(a.get<uint64_t>())
                                            : static_cast<__int128>(a.get<int64_t>());
  const __int128 y = b.is_number_unsigned() ? static_cast<__int128>(b.get<uint64_t>())
                                            : static_cast<__int128>(b.get<int64_t>());
  return x < y ? -1 : (x > y ? 1 : 0);
}

int Compare(const Json* a, const Json* b) noexcept {
  if (a == nullptr || b == nullptr) return kIncomparable;
  if (a->is_number() && b->is_number()) return CompareNumbers(*a, *b);
  if (a->is_string() && b->is_string()) {
    const int c = a->get_ref<const std::string&>().compare(b->get_ref<const std::string&>());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a->is_boolean() && b->is_boolean()) return *a == *b ? 0 : kUnequal;
  if ((a->is_array() && b->is_array()) || (a->is_object() && b->is_object())) {
    return *a == *b ? 0 : kUnequal;
  }
  return kIncomparable;
}

bool ListHas(const Json* list, const Json* item) noexcept {
  if (list == nullptr || item == nullptr || !list->is_array()) return false;
  for (const auto& e : *list) {
    if (Compare(&e, item) == 0) return true;
  }
  return false;
}

bool Has(const Json* a, const Json* b) noexcept {
  if (a != nullptr && b != nullptr && a->is_object() && b->is_string()) {
    return a->contains(b->get_ref<const std::string&>());
  }
  return ListHas(a, b);
}

bool Contains(const Json* a, const Json* b) noexcept {
  if (a == nullptr || b == nullptr || !a->is_string() || !b->is_string()) return false;
  return a->get_ref<const std::string&>().find(b->get_ref<const std::string&>()) !=
         std::string::npos;
}

bool Truthy(const Json* v) noexcept { return v != nullptr && v->is_boolean() && v->get<bool>(); }

bool Apply(Op op, const Json* a, const Json* b) noexcept {
  switch (op) {
    case Op::kEq: return Compare(a, b) == 0;
    case Op::kNe: { const int c = Compare(a, b); return c == -1 || c == 1 || c == kUnequal; }
    case Op::kLt: return Compare(a, b) == -1;
    case Op::kLe: { const int c = Compare(a, b); return c == -1 || c == 0; }
    case Op::kGt: return Compare(a, b) == 1;
    case Op::kGe: { const int c = Compare(a, b); return c == 1 || c == 0; }
    case Op::kIn: return ListHas(b, a);
    case Op::kHas: return Has(a, b);
    case Op::kContains: return Contains(a, b);
    case Op::kAnd: return Truthy(a) && Truthy(b);
    case Op::kOr: return Truthy(a) || Truthy(b);
    default: return false;
  }
}

bool Run(const ExpressionProgram& p, const Json* task, const Json* worker) noexcept {
  std::array<const Json*, kExpressionTermsMax + 1> stack;
  size_t top = 0;
  const Json* const kFalse = &p.constants[0];
  const Json* const kTrue = &p.constants[1];
  for (const Instr& in : p.code) {
    switch (in.op) {
      case Op::kPushConst:
        stack[top++] = &p.constants[in.arg];
        break;
      case Op::kPushAttr: {
        const AttributePath& path = p.paths[in.arg];
        const Json* v = nullptr;
        if (path.root != Root::kTask) v = worker ? Lookup(worker, path.segments) : nullptr;
        if (v == nullptr && path.root != Root::kWorker && task) v = Lookup(task, path.segments);
        stack[top++] = v;
        break;
      }
      case Op::kNot:
        stack[top - 1] = Truthy(stack[top - 1]) ? kFalse : kTrue;
        break;
      default: {
        const Json* b = stack[--top];
        stack[top - 1] = Apply(in.op, stack[top - 1], b) ? kTrue : kFalse;
        break;
      }
    }
  }
  return top == 1 && Truthy(stack[0]);
}

}  // namespace
}  // namespace detail

namespace {
const std::shared_ptr<const detail::ExpressionProgram>& AlwaysTrueProgram() {
  static const auto program = [] {
    auto p = std::make_shared<detail::ExpressionProgram>();
    p->constants = {Json(false), Json(true)};
    p->code = {detail::Instr{detail::Op::kPushConst, 1}};
    p->always_true = true;
    return std::shared_ptr<const detail::ExpressionProgram>(std::move(p));
  }();
  return program;
}
}  // namespace

Expression::Expression() : program_(AlwaysTrueProgram()) {}

Result<Expression> Expression::Compile(std::string_view text, std::string_view field) {
  detail::Parser parser(text, field);
  auto program = parser.Run();
  if (!program.ok()) return std::move(program).error();
  OPSBOX_ASSERT(!program->code.empty());
  if (!program->uses_task && !program->uses_worker) {
    program->always_true = detail::Run(*program, nullptr, nullptr);
  }
  Expression e;
  e.program_ = std::make_shared<const detail::ExpressionProgram>(std::move(program).value());
  return e;
}

bool Expression::Evaluate(const Json* task, const Json* worker) const noexcept {
  if (program_->always_true) return true;
  return detail::Run(*program_, task, worker);
}

const std::string& Expression::text() const { return program_->text; }
bool Expression::UsesTask() const { return program_->uses_task; }
bool Expression::UsesWorker() const { return program_->uses_worker; }
bool Expression::IsAlwaysTrue() const { return program_->always_true; }

}  // namespace opsbox::routing
