// Prometheus metrics for the whole process: HTTP request counts and latencies recorded by the
// server, plus gauges and counters other modules set by name. Render() produces the text
// exposition format for GET /metrics. prometheus-cpp stays inside metrics.cpp.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace opsbox::server {

// Thread-safe: every member may be called from any thread at any time.
class Metrics {
 public:
  using Labels = std::map<std::string, std::string>;

  // Distinct {route, method, status} series kept for HTTP requests; past this, requests are
  // counted under route "other" (a guard against label explosion, not a normal state).
  static constexpr size_t kRequestSeriesMax = 4096;
  // Label names that carry a tenant identifier.
  static constexpr std::string_view kTenantLabelNames[] = {"tenant", "tenant_id"};

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Hot path, called once per HTTP request. `route_pattern` is the router pattern
  // ("/api/v1/tenants/{tenant}/events") or "unmatched"; `method` outside the standard set is
  // recorded as "other". Feeds counter opsbox_http_requests_total{route,method,status} and
  // histogram opsbox_http_request_duration_seconds{route,method}.
  void ObserveRequest(std::string_view route_pattern, std::string_view method, int status,
                      double seconds);

  // Labels that name a tenant (kTenantLabelNames) are dropped from every gauge and counter
  // unless this was set to true (config metrics.tenant_labels = "on"; issue #9): a scrape then
  // learns nothing about which tenants the server holds. Without them, counters of several
  // tenants add up in one series and gauges keep the last value set, so modules should publish
  // per-tenant figures as counters. Call before the first SetGauge/AddCounter.
  void SetTenantLabelsAllowed(bool allowed);

  // Sets gauge `name` with `labels` to `value`, creating it (with `help`) on first use.
  // A name that is invalid or already used by another metric type is logged and ignored.
  void SetGauge(std::string_view name, std::string_view help, const Labels& labels,
                double value);
  // Adds `delta` (>= 0) to counter `name` with `labels`, creating it on first use; errors as
  // for SetGauge.
  void AddCounter(std::string_view name, std::string_view help, const Labels& labels,
                  double delta = 1.0);

  // Runs before every Render(), in the order added, one Render at a time; for copying figures
  // such as ledger statistics into gauges. A hook must not call Render().
  void AddRefreshHook(std::function<void()> hook);

  // The Prometheus text exposition format (Content-Type text/plain; version=0.0.4).
  std::string Render();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsbox::server
