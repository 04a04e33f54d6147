// Goal: `opsbox pii scan` prints exactly one {"start","end","type"} JSON object per finding and
// line, or the redacted text with --redact (tag and partial styles), and refuses oversized input.
#include <gtest/gtest.h>

#include <sstream>

#include "app/pii_cli.hpp"
#include "core/crypto.hpp"

namespace opsbox::app {
namespace {

TEST(PiiCliTest, PrintsOneJsonObjectPerFindingAndLine) {
  InitCrypto();
  std::istringstream in("card 4111111111111111\nmail a@b.co\n");
  std::ostringstream out;
  EXPECT_EQ(RunPiiScan({}, in, out), 0);
  EXPECT_EQ(out.str(),
            "{\"start\":5,\"end\":21,\"type\":\"card\"}\n"
            "{\"start\":27,\"end\":33,\"type\":\"email\"}\n");
}

TEST(PiiCliTest, PrintsNothingForTextWithoutPii) {
  std::istringstream in("hello, how can I help you today?\n");
  std::ostringstream out;
  EXPECT_EQ(RunPiiScan({}, in, out), 0);
  EXPECT_EQ(out.str(), "");
}

TEST(PiiCliTest, RedactPrintsTheTextWithTags) {
  std::istringstream in("call 9876543210 now\n");
  std::ostringstream out;
  EXPECT_EQ(RunPiiScan({.redact = true}, in, out), 0);
  EXPECT_EQ(out.str(), "call [PHONE] now\n");
}

TEST(PiiCliTest, RedactWithPartialStyleMasksTheMiddle) {
  std::istringstream in("card 4111111111111111");
  std::ostringstream out;
  EXPECT_EQ(RunPiiScan({.redact = true, .style = pii::RedactStyle::kPartial}, in, out), 0);
  EXPECT_EQ(out.str(), "card 411111******1111");
}

TEST(PiiCliTest, ParsesTheSubcommandAndItsFlags) {
  CLI::App app;
  AddPiiCommands(app);
  EXPECT_THROW(app.parse(std::vector<std::string>{"partial", "--style", "scan", "pii"}),
               CLI::ParseError);  // --style needs --redact (arguments in reverse order)
  EXPECT_THROW(app.parse(std::vector<std::string>{"bold", "--style", "--redact", "scan", "pii"}),
               CLI::ParseError);
}

}  // namespace
}  // namespace opsbox::app
