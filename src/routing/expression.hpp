// Routing expressions (issue #4): the small language of queue target expressions, workflow
// filters and refining expressions, parsed once into a compiled form and evaluated many times.
//
// Grammar (keywords are case-insensitive; whitespace is free):
//   expr     := term { OR term }
//   term     := factor { AND factor }
//   factor   := NOT factor | compare
//   compare  := operand [ op operand ]         op: == != < <= > >= IN HAS CONTAINS
//   operand  := number | string | TRUE | FALSE | list | identifier | '(' expr ')'
//   list     := '[' [ literal { ',' literal } ] ']'     (literals only: number, string, bool)
//   number   := ['-'] digits ['.' digits] [('e'|'E') ['+'|'-'] digits]
//   string   := '...' or "..." (backslash escapes the quote character and the backslash)
//   identifier := name { '.' name }, name := [A-Za-z_][A-Za-z0-9_-]*  (not a keyword)
// Comparisons do not chain (`a == b == c` is a syntax error); NOT binds looser than a
// comparison (`NOT a == 1` is `NOT (a == 1)`). An operand alone is true when it is the JSON
// value true.
//
// Identifiers name JSON attributes by path:
//   task.<path>    the task's attributes (the engine adds "channel" when the task lacks it)
//   worker.<path>  the worker's attributes (skills, languages, team, certifications, ...)
//   <path>         bare: resolved against the worker first, then the task (as TaskRouter does
//                  in a queue's target expression); in a workflow filter there is no worker,
//                  so bare names mean task attributes.
//   A path walks objects key by key: worker.skills.billing is attributes["skills"]["billing"].
//
// Operators:
//   == != < <= > >=  numbers compare numerically (integers exactly), strings byte-wise, bools
//                    with == and != only. Any other pair of types is false for every operator,
//                    including != (a missing attribute makes every comparison false).
//   a IN b           b is a list that has an element equal to a.
//   a HAS b          a is a list with an element equal to b, or an object with key b.
//   a CONTAINS b     a and b are strings and b is a substring of a.
//   AND OR NOT       on truth values; a missing attribute or a non-bool value is false.
//
// Evaluation never throws and never allocates. Compile is the only place that reports errors:
// Error{kInvalidArgument, field, rule, "column N: expected X, found Y"} with a 1-based column
// (in bytes) and rule "syntax" or one of the limits below ("bytes_max", "depth_max",
// "terms_max").
//
// Thread-safety: a compiled Expression is immutable; copies share the compiled program and may
// be evaluated concurrently.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/result.hpp"

namespace opsbox::routing {

inline constexpr size_t kExpressionTextBytesMax = 4096;   // source text
inline constexpr size_t kExpressionDepthMax = 32;          // nesting of '(' and NOT
inline constexpr size_t kExpressionTermsMax = 512;         // operands + operators
inline constexpr size_t kExpressionListItemsMax = 256;     // elements of one list literal
inline constexpr size_t kExpressionPathSegmentsMax = 8;    // a.b.c... in one identifier

namespace detail {
struct ExpressionProgram;
}

class Expression {
 public:
  // An expression that is always true (an empty text compiles to it too).
  Expression();

  // Parses `text` once. Errors name `field` (e.g. "target_expression" or
  // "filters[2].expression") and the rule; the message starts with "column N: ".
  static Result<Expression> Compile(std::string_view text, std::string_view field = "expression");

  // Evaluates against a task's and a worker's attributes; either may be nullptr (absent, so
  // every attribute under it is missing). Never throws.
  bool Evaluate(const Json* task, const Json* worker) const noexcept;

  // The source text as given to Compile.
  const std::string& text() const;
  // Whether an identifier resolves against the task (task.* or a bare name) / the worker
  // (worker.* or a bare name). An expression that uses neither is constant.
  bool UsesTask() const;
  bool UsesWorker() const;
  // True when the expression is the constant true (empty text, "true", "1 == 1", ...), so the
  // engine can skip evaluating it.
  bool IsAlwaysTrue() const;

 private:
  std::shared_ptr<const detail::ExpressionProgram> program_;
};

}  // namespace opsbox::routing
