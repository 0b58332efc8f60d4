// Counters, gauges and histograms registered by name, rendered in the Prometheus text exposition
// format 0.0.4 for /metrics (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Updating a metric is a relaxed atomic operation: safe from any thread, no lock, no allocation.
// Registering and rendering take the registry's mutex. Metrics live as long as the registry; the
// pointers Add* return stay valid until then.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "http/http_message.h"

namespace keyline::http {

// Label name/value pairs of one time series, e.g. {{"code", "2xx"}}.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Increment(uint64_t amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative buckets with fixed upper bounds (an implicit +Inf bucket on top).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double value);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Observations <= upper_bounds()[i] for each bound, then the total count (the +Inf bucket).
  std::vector<uint64_t> CumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; +Inf last
  std::atomic<double> sum_{0};
};

class MetricsRegistry {
 public:
  // Bounds for request latencies in seconds, 50 µs to 10 s.
  static std::vector<double> LatencyBuckets();

  // Registers a time series, or returns the one already registered under the same name, type and
  // labels. InvalidArgument for a name or label name outside the Prometheus grammar, or histogram
  // bounds that are not strictly increasing and finite; AlreadyExists when the name belongs to a
  // metric of another type.
  [[nodiscard]] absl::StatusOr<Counter*> AddCounter(std::string_view name, std::string_view help,
                                                    MetricLabels labels = {});
  [[nodiscard]] absl::StatusOr<Gauge*> AddGauge(std::string_view name, std::string_view help,
                                                MetricLabels labels = {});
  [[nodiscard]] absl::StatusOr<Histogram*> AddHistogram(std::string_view name,
                                                        std::string_view help,
                                                        std::vector<double> upper_bounds,
                                                        MetricLabels labels = {});

  // Every family in registration order, with HELP and TYPE lines.
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    MetricLabels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string name;
    std::string help;
    Type type;
    std::vector<Series> series;
  };

  absl::StatusOr<Series*> FindOrAdd(std::string_view name, std::string_view help, Type type,
                                    MetricLabels labels, bool* added);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;  // guarded by mutex_
};

// The content type of Render's output.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// A GET handler that renders `registry`, which must outlive the server.
HttpHandler MetricsHandler(const MetricsRegistry* registry);

}  // namespace keyline::http
