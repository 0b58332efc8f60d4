#include "http/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace keyline::http {
namespace {

TEST(MetricsRegistryTest, RendersCountersAndGaugesWithLabels) {
  MetricsRegistry registry;
  absl::StatusOr<Counter*> ok =
      registry.AddCounter("requests_total", "Requests.", {{"code", "2xx"}});
  absl::StatusOr<Counter*> bad =
      registry.AddCounter("requests_total", "Requests.", {{"code", "5xx"}});
  absl::StatusOr<Gauge*> open = registry.AddGauge("open_connections", "Open\nconnections \\ now");
  ASSERT_TRUE(ok.ok() && bad.ok() && open.ok());
  (*ok)->Increment();
  (*ok)->Increment(2);
  (*open)->Set(1.5);
  EXPECT_EQ(registry.Render(),
            "# HELP requests_total Requests.\n"
            "# TYPE requests_total counter\n"
            "requests_total{code=\"2xx\"} 3\n"
            "requests_total{code=\"5xx\"} 0\n"
            "# HELP open_connections Open\\nconnections \\\\ now\n"
            "# TYPE open_connections gauge\n"
            "open_connections 1.5\n");
}

TEST(MetricsRegistryTest, SameSeriesTwiceIsTheSameObject) {
  MetricsRegistry registry;
  absl::StatusOr<Counter*> first = registry.AddCounter("a_total", "A.", {{"x", "1"}});
  absl::StatusOr<Counter*> again = registry.AddCounter("a_total", "A.", {{"x", "1"}});
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(*first, *again);
}

TEST(MetricsRegistryTest, EscapesLabelValues) {
  MetricsRegistry registry;
  absl::StatusOr<Counter*> counter = registry.AddCounter("c_total", "C.", {{"path", "a\"b\\c\nd"}});
  ASSERT_TRUE(counter.ok());
  EXPECT_NE(registry.Render().find("c_total{path=\"a\\\"b\\\\c\\nd\"} 0\n"), std::string::npos);
}

TEST(MetricsRegistryTest, RendersCumulativeHistogram) {
  MetricsRegistry registry;
  absl::StatusOr<Histogram*> histogram =
      registry.AddHistogram("latency_seconds", "Latency.", {0.1, 0.5}, {{"route", "ocsp"}});
  ASSERT_TRUE(histogram.ok());
  (*histogram)->Observe(0.05);
  (*histogram)->Observe(0.1);  // on the bound: counts in le="0.1"
  (*histogram)->Observe(0.3);
  (*histogram)->Observe(7);
  EXPECT_EQ(registry.Render(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{route=\"ocsp\",le=\"0.1\"} 2\n"
            "latency_seconds_bucket{route=\"ocsp\",le=\"0.5\"} 3\n"
            "latency_seconds_bucket{route=\"ocsp\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{route=\"ocsp\"} 7.45\n"
            "latency_seconds_count{route=\"ocsp\"} 4\n");
}

TEST(MetricsRegistryTest, RejectsBadNamesLabelsBoundsAndTypeClashes) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.AddCounter("1abc", "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("a-b", "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("", "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("ok", "x", {{"a:b", "v"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("ok", "x", {{"__reserved", "v"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h", "x", {1, 2}, {{"le", "1"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h", "x", {2, 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h", "x", {1, 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(registry.AddCounter("taken", "x").ok());
  EXPECT_EQ(registry.AddGauge("taken", "x").status().code(), absl::StatusCode::kAlreadyExists);
  // Nothing half-registered is rendered.
  EXPECT_EQ(registry.Render(), "# HELP taken x\n# TYPE taken counter\ntaken 0\n");
}

TEST(MetricsRegistryTest, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry registry;
  absl::StatusOr<Counter*> counter = registry.AddCounter("n_total", "N.");
  absl::StatusOr<Histogram*> histogram = registry.AddHistogram("h", "H.", {1});
  ASSERT_TRUE(counter.ok() && histogram.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        (*counter)->Increment();
        (*histogram)->Observe(0.5);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ((*counter)->value(), 40000u);
  EXPECT_EQ((*histogram)->CumulativeCounts().back(), 40000u);
  EXPECT_DOUBLE_EQ((*histogram)->sum(), 20000);
}

TEST(MetricsHandlerTest, ServesTheRenderedText) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry.AddCounter("x_total", "X.").ok());
  const HttpResponse response = MetricsHandler(&registry)(HttpRequest{});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, kPrometheusContentType);
  ASSERT_NE(response.body, nullptr);
  EXPECT_EQ(*response.body, registry.Render());
}

}  // namespace
}  // namespace keyline::http
