// Goal: the configuration file is declared: defaults apply, every known key parses with its
// unit and range, and an unknown key, wrong type or out-of-range value fails naming the key;
// the metrics token file holds a token within its bounds (issue #9).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/config.hpp"
#include "pii/pii.hpp"

namespace opsbox::app {
namespace {

TEST(Config, EmptyFileGivesTheDefaults) {
  auto c = ParseConfig("", "test.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server_listen, "127.0.0.1:8080");
  EXPECT_EQ(c->database_sqlite_synchronous, "FULL");
  EXPECT_EQ(c->SigningKeyPath(), "opsbox-data/ledger-signing.key");
}

TEST(Config, NestedTablesSetDottedKeys) {
  auto c = ParseConfig("[server]\nthreads = 4\nlisten = \"0.0.0.0:9000\"\n"
                       "[ledger]\nbatch_max = 64\n[database]\nsqlite_synchronous = \"NORMAL\"\n",
                       "test.toml");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->server_threads, 4);
  EXPECT_EQ(c->server_listen, "0.0.0.0:9000");
  EXPECT_EQ(c->ledger_batch_max, 64);
  EXPECT_EQ(c->database_sqlite_synchronous, "NORMAL");
}

TEST(Config, UnknownKeyFailsNamingTheKey) {
  auto c = ParseConfig("[server]\nthreds = 4\n", "test.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "server.threds");
  EXPECT_EQ(c.error().rule, "unknown_key");
  EXPECT_NE(c.error().message.find("test.toml"), std::string::npos);
}

TEST(Config, WrongTypeAndRangeAreNamed) {
  auto t = ParseConfig("[server]\nthreads = \"four\"\n", "x");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().rule, "type");
  auto r = ParseConfig("[server]\nthreads = 0\n", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "server.threads");
  EXPECT_EQ(r.error().rule, "range");
  EXPECT_TRUE(ParseConfig("[server]\nthreads = 256\n", "x").ok());
  EXPECT_FALSE(ParseConfig("[server]\nthreads = 257\n", "x").ok());
  auto e = ParseConfig("[database]\nsqlite_synchronous = \"OFF\"\n", "x");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().rule, "enum");
}

TEST(Config, BackupScheduleKeysAreBoundedAtTheirLimits) {
  auto d = ParseConfig("data_dir = \"/srv/ops\"\n", "x");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->backup_interval_s, 86400);
  EXPECT_EQ(d->BackupFolder(), "/srv/ops/backups");
  EXPECT_TRUE(ParseConfig("[backup]\ninterval_s = 0\n", "x").ok());
  EXPECT_TRUE(ParseConfig("[backup]\ninterval_s = 2592000\n", "x").ok());
  auto over = ParseConfig("[backup]\ninterval_s = 2592001\n", "x");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().field, "backup.interval_s");
  EXPECT_TRUE(ParseConfig("[backup]\nkeep_count = 1000\n", "x").ok());
  EXPECT_FALSE(ParseConfig("[backup]\nkeep_count = 1001\n", "x").ok());
  EXPECT_FALSE(ParseConfig("[backup]\nkeep_count = 0\n", "x").ok());
  auto folder = ParseConfig("[backup]\nfolder = \"/mnt/other-disk\"\n", "x");
  ASSERT_TRUE(folder.ok());
  EXPECT_EQ(folder->BackupFolder(), "/mnt/other-disk");
}

TEST(Config, OutboundPolicyDefaultsToHttpsAndPublicAddressesOnly) {
  auto c = ParseConfig("", "x");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->outbound_allow_http);
  EXPECT_FALSE(c->outbound_allow_loopback);
  EXPECT_TRUE(c->outbound_allow_networks.empty());
}

TEST(Config, OutboundExceptionsParseAndBadOnesAreNamed) {
  auto c = ParseConfig("[outbound]\nallow_http = true\nallow_loopback = true\n"
                       "allow_networks = [\"10.20.0.0/16\", \"fd00:1::/32\"]\n",
                       "x");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_TRUE(c->outbound_allow_http);
  EXPECT_TRUE(c->outbound_allow_loopback);
  EXPECT_EQ(c->outbound_allow_networks,
            (std::vector<std::string>{"10.20.0.0/16", "fd00:1::/32"}));
  auto flag = ParseConfig("[outbound]\nallow_http = \"yes\"\n", "x");
  ASSERT_FALSE(flag.ok());
  EXPECT_EQ(flag.error().field, "outbound.allow_http");
  EXPECT_EQ(flag.error().rule, "type");
  auto scalar = ParseConfig("[outbound]\nallow_networks = \"10.0.0.0/8\"\n", "x");
  ASSERT_FALSE(scalar.ok());
  EXPECT_EQ(scalar.error().rule, "type");
  EXPECT_TRUE(ParseConfig("[outbound]\nallow_networks = [\"10.0.0.1/32\"]\n", "x").ok());
  auto past = ParseConfig("[outbound]\nallow_networks = [\"10.0.0.1/33\"]\n", "x");
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().field, "outbound.allow_networks");
  EXPECT_EQ(past.error().rule, "cidr");
  EXPECT_NE(past.error().message.find("x: "), std::string::npos) << past.error().message;
}

TEST(Config, IntentModelPathsParseAndAnEntryWithoutTenantIsNamed) {
  auto c = ParseConfig("[intents]\nmodel_path = \"/m/default.model\"\n"
                       "tenant_model_paths = [\"acme=/m/acme.model\"]\n",
                       "x");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->intents_model_path, "/m/default.model");
  EXPECT_EQ(c->intents_tenant_model_paths, (std::vector<std::string>{"acme=/m/acme.model"}));
  auto bad = ParseConfig("[intents]\ntenant_model_paths = [\"/m/acme.model\"]\n", "x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "intents.tenant_model_paths");
  EXPECT_EQ(bad.error().rule, "format");
}

TEST(Config, ListenAddressNeedsHostAndPort) {
  EXPECT_FALSE(ParseConfig("[server]\nlisten = \"localhost\"\n", "x").ok());
  EXPECT_FALSE(ParseConfig("[server]\nlisten = \"localhost:70000\"\n", "x").ok());
  auto lp = ParseListen("127.0.0.1:0");
  ASSERT_TRUE(lp.ok());
  EXPECT_EQ(lp->second, 0);
}

TEST(Config, SyntaxErrorsSayWhere) {
  auto c = ParseConfig("[server\n", "broken.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().rule, "toml_syntax");
  EXPECT_NE(c.error().message.find("broken.toml"), std::string::npos);
}

}  // namespace
}  // namespace opsbox::app

namespace opsbox::app {
namespace {

// The token read from a file holding `text` (the file is removed again).
Result<std::string> TokenFrom(const std::string& text) {
  const std::string path =
      ::testing::TempDir() + "opsbox-metrics-token-" + std::to_string(getpid());
  std::ofstream(path) << text;
  Config c;
  c.metrics_bearer_token_file = path;
  auto token = LoadMetricsToken(c);
  std::remove(path.c_str());
  return token;
}

TEST(Config, MetricsTokenIsReadWithinItsBoundsAndTrimmed) {
  Config none;
  ASSERT_TRUE(LoadMetricsToken(none).ok());
  EXPECT_EQ(*LoadMetricsToken(none), "");  // unset: /metrics stays public
  const std::string shortest(kMetricsTokenBytesMin, 'a');
  const std::string longest(kMetricsTokenBytesMax, 'b');
  auto at_min = TokenFrom("  " + shortest + "\n");
  ASSERT_TRUE(at_min.ok()) << at_min.error().ToString();
  EXPECT_EQ(*at_min, shortest);
  auto at_max = TokenFrom(longest);
  ASSERT_TRUE(at_max.ok()) << at_max.error().ToString();
  EXPECT_EQ(*at_max, longest);
  for (const auto& bad : {shortest.substr(1), longest + "b"}) {
    auto r = TokenFrom(bad);
    ASSERT_FALSE(r.ok()) << bad.size();
    EXPECT_EQ(r.error().field, "metrics.bearer_token_file");
    EXPECT_EQ(r.error().rule, "length");
  }
  auto spaced = TokenFrom("abcdefgh ijklmnopq");
  ASSERT_FALSE(spaced.ok());
  EXPECT_EQ(spaced.error().rule, "format");
  Config missing;
  missing.metrics_bearer_token_file = "/nonexistent/opsbox/metrics.token";
  ASSERT_FALSE(LoadMetricsToken(missing).ok());
  EXPECT_EQ(LoadMetricsToken(missing).error().rule, "readable");
}

TEST(Config, EveryDeclaredKeyIsDocumented) {
  std::ifstream in(std::string(OPSBOX_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md is missing";
  std::stringstream doc;
  doc << in.rdbuf();
  for (const auto& k : ConfigKeys()) {
    EXPECT_NE(doc.str().find("`" + k.name + "`"), std::string::npos)
        << k.name << " is not in docs/configuration.md";
  }
}

}  // namespace
}  // namespace opsbox::app

namespace opsbox::app {
namespace {

TEST(Config, PiiPhoneRegionsDefaultToIndiaAndBadOnesAreNamed) {
  auto c = ParseConfig("", "x");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->pii_phone_regions, (std::vector<std::string>{"IN"}));
  auto two = ParseConfig("[pii]\nphone_regions = [\"US\", \"IL\"]\n", "x");
  ASSERT_TRUE(two.ok()) << two.error().ToString();
  EXPECT_EQ(two->pii_phone_regions, (std::vector<std::string>{"US", "IL"}));
  auto unknown = ParseConfig("[pii]\nphone_regions = [\"IN\", \"XX\"]\n", "x");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "pii.phone_regions");
  EXPECT_EQ(unknown.error().rule, "region");
  auto lower = ParseConfig("[pii]\nphone_regions = [\"in\"]\n", "x");
  ASSERT_FALSE(lower.ok());
  EXPECT_EQ(lower.error().rule, "region");
  auto empty = ParseConfig("[pii]\nphone_regions = []\n", "x");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().field, "pii.phone_regions");
  EXPECT_EQ(empty.error().rule, "min_items");
}

TEST(Config, PiiPhoneRegionsAcceptSixteenAndRejectSeventeen) {
  const std::vector<std::string> codes = {"IN", "US", "GB", "IL", "CN", "AE", "SG", "AU", "DE",
                                          "FR", "CA", "JP", "SA", "QA", "KW", "OM", "BH"};
  ASSERT_EQ(codes.size(), pii::kPhoneRegionsMax + 1);
  auto list = [&](size_t n) {
    std::string toml = "[pii]\nphone_regions = [";
    for (size_t i = 0; i < n; ++i) toml += (i ? ", \"" : "\"") + codes[i] + "\"";
    return toml + "]\n";
  };
  EXPECT_TRUE(ParseConfig(list(pii::kPhoneRegionsMax), "x").ok());
  auto over = ParseConfig(list(pii::kPhoneRegionsMax + 1), "x");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().rule, "max_items");
}

}  // namespace
}  // namespace opsbox::app
