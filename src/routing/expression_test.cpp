// Goal: the routing expression language parses what engine.hpp/expression.hpp document, evaluates
// it over task and worker attributes with missing attributes making comparisons false, and
// rejects malformed input with the 1-based column and what was expected — at every limit and one
// past it.
#include "routing/expression.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace opsbox::routing {
namespace {

const Json kWorker = Json::parse(R"({
  "skills": {"billing": 5, "cards": 2}, "languages": ["en", "hi"], "team": "north",
  "certifications": ["pci"], "senior": true, "rating": 4.5, "name": "Asha Rao"})");
const Json kTask = Json::parse(R"({
  "type": "complaint", "language": "hi", "amount": 1500, "vip": false, "team": "south",
  "tags": ["fraud", "urgent"]})");

bool Eval(std::string_view text) {
  auto e = Expression::Compile(text);
  EXPECT_TRUE(e.ok()) << text << ": " << (e.ok() ? "" : e.error().ToString());
  return e.ok() && e->Evaluate(&kTask, &kWorker);
}

std::string ErrorOf(std::string_view text) {
  auto e = Expression::Compile(text, "target_expression");
  if (e.ok()) return "compiled";
  EXPECT_EQ(e.error().field, "target_expression");
  return e.error().rule + ": " + e.error().message;
}

TEST(ExpressionTest, ComparesNumbersStringsAndBoolsOverBothAttributeSets) {
  EXPECT_TRUE(Eval("worker.skills.billing >= 3"));
  EXPECT_FALSE(Eval("worker.skills.cards > 2"));
  EXPECT_TRUE(Eval("worker.skills.cards <= 2 AND worker.skills.cards >= 2"));
  EXPECT_TRUE(Eval("task.amount < 2000.5"));
  EXPECT_TRUE(Eval("worker.rating == 4.5"));
  EXPECT_TRUE(Eval("task.type == 'complaint'"));
  EXPECT_TRUE(Eval("task.type != \"query\""));
  EXPECT_TRUE(Eval("worker.team < 'south'"));
  EXPECT_TRUE(Eval("worker.senior == true AND task.vip == false"));
  EXPECT_TRUE(Eval("worker.senior"));
  EXPECT_FALSE(Eval("task.vip"));
  EXPECT_TRUE(Eval("-3 < 2 AND 1e3 == 1000"));
}

TEST(ExpressionTest, MissingAttributesMakeEveryComparisonFalseIncludingNotEqual) {
  EXPECT_FALSE(Eval("worker.skills.loans >= 0"));
  EXPECT_FALSE(Eval("worker.skills.loans != 3"));
  EXPECT_FALSE(Eval("task.nothing == task.nothing"));
  EXPECT_FALSE(Eval("task.nothing IN [1, 2]"));
  EXPECT_FALSE(Eval("worker.skills.billing.level == 5"));  // walking into a number
  EXPECT_TRUE(Eval("NOT worker.skills.loans >= 0"));
  auto e = Expression::Compile("worker.skills.billing >= 3");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->Evaluate(nullptr, nullptr));
}

TEST(ExpressionTest, ValuesOfDifferentTypesAreNeverEqualNorUnequal) {
  EXPECT_FALSE(Eval("task.amount == '1500'"));
  EXPECT_FALSE(Eval("task.amount != '1500'"));
  EXPECT_FALSE(Eval("worker.senior == 1"));
  EXPECT_FALSE(Eval("worker.senior < true"));
}

TEST(ExpressionTest, BareNamesResolveAgainstTheWorkerFirstThenTheTask) {
  EXPECT_TRUE(Eval("team == 'north'"));       // both have team: the worker's wins
  EXPECT_TRUE(Eval("type == 'complaint'"));   // only the task has type
  EXPECT_TRUE(Eval("skills.billing == 5"));   // only the worker has skills
  auto e = Expression::Compile("team == 'south'");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->Evaluate(&kTask, nullptr));  // a workflow filter has no worker
  EXPECT_TRUE(e->UsesTask());
  EXPECT_TRUE(e->UsesWorker());
}

TEST(ExpressionTest, InHasAndContainsWorkOnListsObjectsAndStrings) {
  EXPECT_TRUE(Eval("task.language IN worker.languages"));
  EXPECT_TRUE(Eval("task.language IN ['ta', 'hi']"));
  EXPECT_FALSE(Eval("task.language IN ['ta', 'en']"));
  EXPECT_TRUE(Eval("task.amount IN [1500.0, 7]"));
  EXPECT_TRUE(Eval("worker.languages HAS 'en'"));
  EXPECT_TRUE(Eval("worker.skills HAS 'billing'"));
  EXPECT_FALSE(Eval("worker.skills HAS 'loans'"));
  EXPECT_TRUE(Eval("task.tags HAS 'fraud'"));
  EXPECT_TRUE(Eval("worker.name CONTAINS 'Rao'"));
  EXPECT_FALSE(Eval("worker.name CONTAINS 'rao'"));
  EXPECT_FALSE(Eval("worker.languages CONTAINS 'en'"));  // CONTAINS is for strings
  EXPECT_TRUE(Eval("task.language IN []") == false);
}

TEST(ExpressionTest, KeywordsAreCaseInsensitiveAndPrecedenceIsNotThenAndThenOr) {
  EXPECT_TRUE(Eval("worker.team == 'x' or WORKER.TEAM == 'y' Or True"));
  EXPECT_TRUE(Eval("task.language in worker.languages aNd worker.languages Has 'en'"));
  EXPECT_TRUE(Eval("TRUE OR FALSE AND FALSE"));     // OR binds looser than AND
  EXPECT_FALSE(Eval("(TRUE OR FALSE) AND FALSE"));
  EXPECT_FALSE(Eval("NOT task.type == 'complaint'"));  // NOT (a == b)
  EXPECT_TRUE(Eval("NOT NOT task.type == 'complaint'"));
  EXPECT_TRUE(Eval("NOT (task.vip OR worker.team == 'east') AND worker.senior"));
  EXPECT_TRUE(Eval("((((worker.senior))))"));
}

TEST(ExpressionTest, ConstantExpressionsAreRecognisedAsAlwaysTrue) {
  for (std::string_view text : {"", "   ", "true", "1 == 1", "'a' != 'b' OR false"}) {
    auto e = Expression::Compile(text);
    ASSERT_TRUE(e.ok()) << text;
    EXPECT_TRUE(e->IsAlwaysTrue()) << text;
    EXPECT_TRUE(e->Evaluate(nullptr, nullptr));
  }
  auto e = Expression::Compile("1 == 2");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->IsAlwaysTrue());
  EXPECT_FALSE(e->Evaluate(&kTask, &kWorker));
  EXPECT_TRUE(Expression().IsAlwaysTrue());
}

TEST(ExpressionTest, IntegersCompareExactlyBeyondDoublePrecision) {
  const Json big = Json::parse(R"({"n": 9007199254740993, "u": 18446744073709551615})");
  auto e = Expression::Compile("task.n == 9007199254740992");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->Evaluate(&big, nullptr));
  auto u = Expression::Compile("task.u > 9223372036854775807");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->Evaluate(&big, nullptr));
}

TEST(ExpressionTest, MalformedInputNamesTheColumnAndWhatWasExpected) {
  struct Case { std::string_view text; std::string_view error; };
  const Case cases[] = {
      {"a ==", "syntax: column 5: expected a value after '==', found end of input"},
      {"a == 1 == 2", "syntax: column 8: comparisons do not chain: expected AND, OR or ')', found '=='"},
      {"a = 1", "syntax: column 3: expected '==' (a single '=' is not an operator)"},
      {"a ! 1", "syntax: column 3: expected '!=' ('!' alone is not an operator, use NOT)"},
      {"a == 'x", "syntax: column 6: expected a closing ' for the string"},
      {"a IN 5", "syntax: column 6: expected a list or an attribute after IN, found number 5"},
      {"a == 1)", "syntax: column 7: found ')' without a matching '('"},
      {"(a == 1", "syntax: column 8: expected ')' to close the '(' at column 1, found end of input"},
      {"a IN [1, 2", "syntax: column 11: expected ',' or ']' in the list opened at column 6, found end of input"},
      {"a IN [1, b]", "syntax: column 10: expected a number, string, true or false in the list, found attribute 'b'"},
      {"a b", "syntax: column 3: expected an operator (==, !=, <, <=, >, >=, IN, HAS, CONTAINS), AND, OR or ')', found attribute 'b'"},
      {"a == NOT b", "syntax: column 6: expected a value after '==', found 'NOT'"},
      {"AND a", "syntax: column 1: expected a value (number, string, true, false, list, attribute, NOT or '('), found 'AND'"},
      {"()", "syntax: column 2: expected a value (number, string, true, false, list, attribute, NOT or '('), found ')'"},
      {"worker. == 1", "syntax: column 8: expected a name after '.'"},
      {"a == 1.", "syntax: column 8: expected a digit after '.'"},
      {"a == 12ab", "syntax: column 8: expected an operator after the number, found 'a'"},
      {"a # 1", "syntax: column 3: unexpected character '#'"},
      {"a == 1 AND", "syntax: column 11: expected a value (number, string, true, false, list, attribute, NOT or '('), found end of input"},
  };
  for (const auto& c : cases) EXPECT_EQ(ErrorOf(c.text), c.error) << c.text;
}

TEST(ExpressionTest, LimitsHoldAtTheLimitAndFailOnePast) {
  std::string at_bytes = "a == '" + std::string(kExpressionTextBytesMax - 7, 'x') + "'";
  ASSERT_EQ(at_bytes.size(), kExpressionTextBytesMax);
  EXPECT_EQ(ErrorOf(at_bytes), "compiled");
  EXPECT_EQ(ErrorOf(at_bytes + " "), "bytes_max: an expression has at most 4096 bytes");

  auto nested = [](size_t depth) {
    return std::string(depth, '(') + "true" + std::string(depth, ')');
  };
  EXPECT_EQ(ErrorOf(nested(kExpressionDepthMax)), "compiled");
  EXPECT_EQ(ErrorOf(nested(kExpressionDepthMax + 1)),
            "depth_max: column 33: nesting of '(' and NOT is at most 32");
  std::string nots;
  for (size_t i = 0; i <= kExpressionDepthMax; ++i) nots += "NOT ";
  EXPECT_EQ(ErrorOf(nots + "true").substr(0, 9), "depth_max");

  auto terms = [](size_t n) {  // n operands joined by OR: 2n - 1 terms
    std::string s = "a";
    for (size_t i = 1; i < n; ++i) s += " OR a";
    return s;
  };
  EXPECT_EQ(ErrorOf(terms(kExpressionTermsMax / 2)), "compiled");
  EXPECT_EQ(ErrorOf(terms(kExpressionTermsMax / 2 + 2)).substr(0, 9), "terms_max");

  std::string list = "a IN [";
  for (size_t i = 0; i < kExpressionListItemsMax; ++i) list += (i ? ",1" : "1");
  EXPECT_EQ(ErrorOf(list + "]"), "compiled");
  EXPECT_EQ(ErrorOf(list + ",1]").substr(0, 14), "list_items_max");

  std::string path = "worker";
  for (size_t i = 0; i < kExpressionPathSegmentsMax; ++i) path += ".s";
  EXPECT_EQ(ErrorOf(path + " == 1"), "compiled");
  EXPECT_EQ(ErrorOf(path + ".s == 1").substr(0, 17), "path_segments_max");
}

TEST(ExpressionTest, CopiesShareTheCompiledProgramAndKeepTheText) {
  auto e = Expression::Compile("worker.team == 'north'");
  ASSERT_TRUE(e.ok());
  Expression copy = *e;
  EXPECT_EQ(copy.text(), "worker.team == 'north'");
  EXPECT_TRUE(copy.Evaluate(nullptr, &kWorker));
  EXPECT_FALSE(copy.UsesTask());
  EXPECT_TRUE(copy.UsesWorker());
}

TEST(ExpressionTest, StringEscapesKeepQuotesAndBackslashes) {
  const Json task = Json::parse(R"({"s": "it's \\ ok"})");
  auto e = Expression::Compile(R"(task.s == 'it\'s \\ ok')");
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  EXPECT_TRUE(e->Evaluate(&task, nullptr));
}

}  // namespace
}  // namespace opsbox::routing
