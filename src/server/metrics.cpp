#include "server/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace opsbox::server {
namespace {

struct RequestKeyView {
  std::string_view route;
  std::string_view method;
  int status;
};

struct RequestKey {
  std::string route;
  std::string method;
  int status;
  operator RequestKeyView() const { return {route, method, status}; }  // NOLINT(implicit)
};

// Transparent hashing lets the hot path look up with string_views, without building a key.
struct RequestKeyHash {
  using is_transparent = void;
  size_t operator()(RequestKeyView key) const {
    size_t h = std::hash<std::string_view>{}(key.route);
    h = h * 31 + std::hash<std::string_view>{}(key.method);
    return h * 31 + static_cast<size_t>(key.status);
  }
};

struct RequestKeyEqual {
  using is_transparent = void;
  bool operator()(RequestKeyView a, RequestKeyView b) const {
    return a.status == b.status && a.route == b.route && a.method == b.method;
  }
};

struct RequestSeries {
  prometheus::Counter* requests;
  prometheus::Histogram* duration;
};

constexpr std::array<std::string_view, 7> kKnownMethods = {"GET",    "HEAD",  "POST",   "PUT",
                                                           "DELETE", "PATCH", "OPTIONS"};

std::string_view NormalizeMethod(std::string_view method) {
  for (std::string_view known : kKnownMethods) {
    if (method == known) return known;
  }
  return "other";
}

const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return buckets;
}

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("opsbox_http_requests_total")
          .Help("HTTP requests answered, by route pattern, method and status.")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& durations =
      prometheus::BuildHistogram()
          .Name("opsbox_http_request_duration_seconds")
          .Help("Time from a request's complete header until its response is ready to write.")
          .Register(*registry);

  std::mutex series_mutex;
  std::unordered_map<RequestKey, RequestSeries, RequestKeyHash, RequestKeyEqual> series;

  std::mutex named_mutex;
  std::unordered_map<std::string, prometheus::Family<prometheus::Gauge>*> gauges;
  std::unordered_map<std::string, prometheus::Family<prometheus::Counter>*> counters;

  std::atomic<bool> tenant_labels_allowed{false};

  // The labels as exported: tenant labels dropped unless allowed.
  Labels Exported(const Labels& labels) const {
    if (tenant_labels_allowed.load()) return labels;
    Labels out = labels;
    for (auto name : kTenantLabelNames) out.erase(std::string(name));
    return out;
  }

  std::mutex render_mutex;  // also guards hooks
  std::vector<std::function<void()>> hooks;

  RequestSeries& SeriesFor(RequestKeyView key) {
    std::lock_guard lock(series_mutex);
    auto it = series.find(key);
    if (it != series.end()) return it->second;
    if (series.size() >= kRequestSeriesMax) key.route = "other";
    it = series.find(key);
    if (it != series.end()) return it->second;
    std::string route(key.route);
    std::string method(key.method);
    RequestSeries created{
        &requests.Add({{"route", route}, {"method", method}, {"status", std::to_string(key.status)}}),
        &durations.Add({{"route", route}, {"method", method}}, DurationBuckets())};
    return series.emplace(RequestKey{std::move(route), std::move(method), key.status}, created)
        .first->second;
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::ObserveRequest(std::string_view route_pattern, std::string_view method,
                             int status, double seconds) {
  if (status < 100 || status > 599) status = 0;
  RequestSeries& series = impl_->SeriesFor({route_pattern, NormalizeMethod(method), status});
  series.requests->Increment();
  series.duration->Observe(seconds < 0 ? 0 : seconds);
}

void Metrics::SetTenantLabelsAllowed(bool allowed) { impl_->tenant_labels_allowed.store(allowed); }

void Metrics::SetGauge(std::string_view name, std::string_view help, const Labels& labels,
                       double value) {
  std::lock_guard lock(impl_->named_mutex);
  try {
    auto it = impl_->gauges.find(std::string(name));
    if (it == impl_->gauges.end()) {
      auto& family = prometheus::BuildGauge()
                         .Name(std::string(name))
                         .Help(std::string(help))
                         .Register(*impl_->registry);
      it = impl_->gauges.emplace(std::string(name), &family).first;
    }
    it->second->Add(impl_->Exported(labels)).Set(value);
  } catch (const std::exception& e) {
    spdlog::error("metrics: cannot set gauge {}: {}", name, e.what());
  }
}

void Metrics::AddCounter(std::string_view name, std::string_view help, const Labels& labels,
                         double delta) {
  std::lock_guard lock(impl_->named_mutex);
  try {
    auto it = impl_->counters.find(std::string(name));
    if (it == impl_->counters.end()) {
      auto& family = prometheus::BuildCounter()
                         .Name(std::string(name))
                         .Help(std::string(help))
                         .Register(*impl_->registry);
      it = impl_->counters.emplace(std::string(name), &family).first;
    }
    it->second->Add(impl_->Exported(labels)).Increment(delta);
  } catch (const std::exception& e) {
    spdlog::error("metrics: cannot add to counter {}: {}", name, e.what());
  }
}

void Metrics::AddRefreshHook(std::function<void()> hook) {
  std::lock_guard lock(impl_->render_mutex);
  impl_->hooks.push_back(std::move(hook));
}

std::string Metrics::Render() {
  std::lock_guard lock(impl_->render_mutex);
  for (auto& hook : impl_->hooks) {
    try {
      hook();
    } catch (const std::exception& e) {
      spdlog::error("metrics: refresh hook failed: {}", e.what());
    }
  }
  try {
    return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
  } catch (const std::exception& e) {
    spdlog::error("metrics: rendering failed: {}", e.what());
    return {};
  }
}

}  // namespace opsbox::server
