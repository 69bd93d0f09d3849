// Registry: exact exposition text, escaping, histogram buckets, re-registration, misuse and
// concurrent updates.
#include "src/metrics/registry.h"

#include <cmath>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

TEST(RegistryTest, SerializesSmallRegistryExactly) {
  Registry registry;
  CounterFamily& requests =
      registry.AddCounter("b_requests_total", "Requests sent.", {"method", "code"});
  requests.WithLabels({"PUT", "200"}).Inc(2);
  requests.WithLabels({"GET", "404"}).Inc();
  Gauge& depth = registry.AddGauge("a_depth", "Queue depth.");
  depth.Set(3);
  depth.Dec();
  Histogram& latency = registry.AddHistogram("c_latency_seconds", "Latency.", {0.1, 1});
  latency.Observe(0.05);
  latency.Observe(0.5);
  latency.Observe(7);
  registry.AddGauge("d_empty", "No children yet.", {"kind"});  // not written

  EXPECT_EQ(registry.Serialize(),
            "# HELP a_depth Queue depth.\n"
            "# TYPE a_depth gauge\n"
            "a_depth 2\n"
            "# HELP b_requests_total Requests sent.\n"
            "# TYPE b_requests_total counter\n"
            "b_requests_total{method=\"GET\",code=\"404\"} 1\n"
            "b_requests_total{method=\"PUT\",code=\"200\"} 2\n"
            "# HELP c_latency_seconds Latency.\n"
            "# TYPE c_latency_seconds histogram\n"
            "c_latency_seconds_bucket{le=\"0.1\"} 1\n"
            "c_latency_seconds_bucket{le=\"1\"} 2\n"
            "c_latency_seconds_bucket{le=\"+Inf\"} 3\n"
            "c_latency_seconds_sum 7.55\n"
            "c_latency_seconds_count 3\n");
}

TEST(RegistryTest, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry.AddGauge("g", "Line one\nback\\slash \"quoted\"", {"path"})
      .WithLabels({"C:\\dir \"x\"\nnext"})
      .Set(1);
  EXPECT_EQ(registry.Serialize(),
            "# HELP g Line one\\nback\\\\slash \"quoted\"\n"
            "# TYPE g gauge\n"
            "g{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n");
}

TEST(RegistryTest, HistogramBucketsAreCumulativeWithLabels) {
  Registry registry;
  HistogramFamily& family = registry.AddHistogram("h_seconds", "H.", {"controller"}, {0.5, 1, 2});
  Histogram& h = family.WithLabels({"dc"});
  for (double v : {0.25, 0.5, 0.75, 1.0, 1.5, 3.0, 30.0}) {
    h.Observe(v);
  }
  EXPECT_EQ(h.Count(), 7u);
  EXPECT_EQ(h.CumulativeCount(0), 2u);  // le is inclusive: 0.5 counts in 0.5
  EXPECT_EQ(h.CumulativeCount(1), 4u);
  EXPECT_EQ(h.CumulativeCount(2), 5u);
  EXPECT_EQ(h.CumulativeCount(3), 7u);
  const std::string text = registry.Serialize();
  EXPECT_NE(text.find("h_seconds_bucket{controller=\"dc\",le=\"0.5\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("h_seconds_bucket{controller=\"dc\",le=\"1\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("h_seconds_bucket{controller=\"dc\",le=\"2\"} 5\n"), std::string::npos);
  EXPECT_NE(text.find("h_seconds_bucket{controller=\"dc\",le=\"+Inf\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("h_seconds_sum{controller=\"dc\"} 37\n"), std::string::npos);
  EXPECT_NE(text.find("h_seconds_count{controller=\"dc\"} 7\n"), std::string::npos);
}

TEST(RegistryTest, BucketHelpers) {
  EXPECT_EQ(ExponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  std::vector<double> wq = WorkQueueDurationBuckets();
  ASSERT_EQ(wq.size(), 10u);
  EXPECT_DOUBLE_EQ(wq.front(), 1e-8);
  EXPECT_DOUBLE_EQ(wq.back(), 10);
  std::vector<double> reconcile = DefaultReconcileBuckets();
  ASSERT_EQ(reconcile.size(), 40u);
  EXPECT_EQ(reconcile.front(), 0.005);
  EXPECT_EQ(reconcile.back(), 60);
}

TEST(RegistryTest, CounterIgnoresNegativeIncrements) {
  Registry registry;
  Counter& c = registry.AddCounter("c_total", "C.");
  c.Inc(2.5);
  c.Inc(-1);
  EXPECT_EQ(c.Value(), 2.5);
}

TEST(RegistryTest, GaugeOperationsAndCurrentTime) {
  Registry registry;
  Gauge& g = registry.AddGauge("g", "G.");
  g.Inc(5);
  g.Dec(2);
  EXPECT_EQ(g.Value(), 3);
  FakeClock clock(absl::FromUnixMillis(1'790'000'000'250));
  g.SetToCurrentTime(clock);
  EXPECT_EQ(g.Value(), 1790000000.25);
  EXPECT_NE(registry.Serialize().find("g 1790000000.25\n"), std::string::npos);
}

TEST(RegistryTest, SameRegistrationReturnsSameFamily) {
  Registry registry;
  CounterFamily& a = registry.AddCounter("x_total", "First help.", {"k"});
  CounterFamily& b = registry.AddCounter("x_total", "Second help.", {"k"});
  EXPECT_EQ(&a, &b);
  Counter& child = a.WithLabels({"v"});
  EXPECT_EQ(&child, &b.WithLabels({"v"}));
  Counter& plain1 = registry.AddCounter("y_total", "Y.");
  Counter& plain2 = registry.AddCounter("y_total", "Y.");
  EXPECT_EQ(&plain1, &plain2);
  HistogramFamily& h1 = registry.AddHistogram("h", "H.", {"k"}, {1, 2});
  HistogramFamily& h2 = registry.AddHistogram("h", "H.", {"k"}, {1, 2, INFINITY});
  EXPECT_EQ(&h1, &h2);
  EXPECT_NE(registry.Serialize().find("# HELP x_total First help.\n"), std::string::npos);
}

TEST(RegistryDeathTest, MisuseAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddCounter("x_total", "X.", {"a"});
        registry.AddGauge("x_total", "X.", {"a"});
      },
      "registered twice");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddCounter("x_total", "X.", {"a"});
        registry.AddCounter("x_total", "X.", {"b"});
      },
      "registered twice");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddHistogram("h", "H.", {1});
        registry.AddHistogram("h", "H.", {2});
      },
      "registered twice");
  EXPECT_DEATH({ Registry().AddGauge("bad-name", "B."); }, "invalid metric name");
  EXPECT_DEATH({ Registry().AddGauge("g", "G.", {"a-b"}); }, "invalid label name");
  EXPECT_DEATH({ Registry().AddGauge("g", "G.", {"a", "a"}); }, "duplicate label name");
  EXPECT_DEATH({ Registry().AddHistogram("h", "H.", {"le"}, {1}); }, "reserved");
  EXPECT_DEATH({ Registry().AddHistogram("h", "H.", {2, 1}); }, "strictly increasing");
  EXPECT_DEATH(
      {
        Registry().AddGauge("g", "G.", {"a"}).WithLabels({"1", "2"});
      },
      "label names but got 2 values");
}

TEST(RegistryTest, ConcurrentUpdatesAreNotLost) {
  Registry registry;
  CounterFamily& family = registry.AddCounter("hits_total", "Hits.", {"worker"});
  Histogram& h = registry.AddHistogram("obs_seconds", "Obs.", {0.5});
  Gauge& g = registry.AddGauge("level", "Level.");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& shared = family.WithLabels({"shared"});
      Counter& own = family.WithLabels({std::to_string(t)});
      for (int i = 0; i < kPerThread; ++i) {
        shared.Inc();
        own.Inc();
        h.Observe(i % 2 == 0 ? 0.25 : 1.0);
        g.Inc();
        if (i % 1000 == 0) {
          (void)registry.Serialize();  // scrapes race with updates
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(family.WithLabels({"shared"}).Value(), kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(family.WithLabels({std::to_string(t)}).Value(), kPerThread);
  }
  EXPECT_EQ(h.Count(), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(h.CumulativeCount(0), static_cast<uint64_t>(kThreads * kPerThread / 2));
  EXPECT_EQ(g.Value(), kThreads * kPerThread);
}

}  // namespace
}  // namespace kustodian
