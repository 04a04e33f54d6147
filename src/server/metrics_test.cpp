// Goal: Metrics renders request series under route patterns with normalised methods, lets
// other modules set gauges and counters by name (refreshed by hooks just before rendering), and
// survives misuse such as an invalid or conflicting metric name without throwing; tenant
// identifiers stay out of labels unless allowed (issue #9).
#include "server/metrics.hpp"

#include <gtest/gtest.h>

namespace opsbox::server {
namespace {

bool Contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

TEST(MetricsTest, CountsRequestsPerRoutePatternMethodAndStatus) {
  Metrics metrics;
  metrics.ObserveRequest("/api/v1/x/{id}", "GET", 200, 0.001);
  metrics.ObserveRequest("/api/v1/x/{id}", "GET", 200, 0.002);
  metrics.ObserveRequest("/api/v1/x/{id}", "BREW", 404, 0.001);
  std::string text = metrics.Render();
  EXPECT_TRUE(Contains(text, R"(opsbox_http_requests_total{method="GET",route="/api/v1/x/{id}",status="200"} 2)"))
      << text;
  EXPECT_TRUE(Contains(text, R"(method="other",route="/api/v1/x/{id}",status="404")"));
  EXPECT_TRUE(Contains(
      text, R"(opsbox_http_request_duration_seconds_count{method="GET",route="/api/v1/x/{id}"} 2)"));
}

TEST(MetricsTest, RefreshHooksRunBeforeRenderingAndSetGauges) {
  Metrics metrics;
  metrics.SetTenantLabelsAllowed(true);
  int refreshed = 0;
  metrics.AddRefreshHook([&] {
    ++refreshed;
    metrics.SetGauge("opsbox_ledger_events", "Events in the ledger.", {{"tenant", "acme"}},
                     refreshed * 10);
  });
  metrics.Render();
  std::string text = metrics.Render();
  EXPECT_EQ(refreshed, 2);
  EXPECT_TRUE(Contains(text, R"(opsbox_ledger_events{tenant="acme"} 20)")) << text;
}

TEST(MetricsTest, TenantLabelsAreDroppedUnlessAllowed) {
  Metrics metrics;
  metrics.AddCounter("opsbox_rejected_total", "Rejections.", {{"tenant", "acme"}, {"why", "sig"}});
  metrics.AddCounter("opsbox_rejected_total", "Rejections.", {{"tenant", "beta"}, {"why", "sig"}});
  metrics.SetGauge("opsbox_backlog", "Backlog.", {{"tenant_id", "acme"}}, 7);
  std::string text = metrics.Render();
  EXPECT_FALSE(Contains(text, "acme")) << text;
  EXPECT_FALSE(Contains(text, "beta")) << text;
  EXPECT_TRUE(Contains(text, R"(opsbox_rejected_total{why="sig"} 2)")) << text;
  EXPECT_TRUE(Contains(text, "opsbox_backlog 7")) << text;
}

TEST(MetricsTest, TenantLabelsAreKeptWhenConfigured) {
  Metrics metrics;
  metrics.SetTenantLabelsAllowed(true);
  metrics.AddCounter("opsbox_rejected_total", "Rejections.", {{"tenant", "acme"}});
  EXPECT_TRUE(Contains(metrics.Render(), R"(opsbox_rejected_total{tenant="acme"} 1)"));
}

TEST(MetricsTest, CountersAccumulate) {
  Metrics metrics;
  metrics.AddCounter("opsbox_outbox_sent_total", "Webhooks sent.", {});
  metrics.AddCounter("opsbox_outbox_sent_total", "Webhooks sent.", {}, 2);
  EXPECT_TRUE(Contains(metrics.Render(), "opsbox_outbox_sent_total 3"));
}

TEST(MetricsTest, InvalidOrConflictingNamesAreIgnoredWithoutThrowing) {
  Metrics metrics;
  metrics.AddCounter("opsbox_things_total", "Things.", {});
  EXPECT_NO_THROW(metrics.SetGauge("opsbox_things_total", "Now a gauge?", {}, 1));
  EXPECT_NO_THROW(metrics.SetGauge("bad name!", "Invalid.", {}, 1));
  EXPECT_NO_THROW(metrics.SetGauge("opsbox_ok", "Bad label.", {{"bad label", "v"}}, 1));
  std::string text = metrics.Render();
  EXPECT_TRUE(Contains(text, "opsbox_things_total 1"));
  EXPECT_FALSE(Contains(text, "bad name"));
}

TEST(MetricsTest, SeriesPastTheLimitAreCountedUnderRouteOther) {
  Metrics metrics;
  for (size_t i = 0; i <= Metrics::kRequestSeriesMax; ++i) {
    metrics.ObserveRequest("/r" + std::to_string(i), "GET", 200, 0);
  }
  std::string text = metrics.Render();
  EXPECT_TRUE(Contains(text, R"(route="other",status="200"} 1)"));
}

}  // namespace
}  // namespace opsbox::server
