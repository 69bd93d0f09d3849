// The three metric kinds the daemon exports (counter, gauge, histogram) and the bucket
// helpers. Instances are created and owned by a Family (family.h) inside a Registry
// (registry.h); callers keep references, which stay valid for the Registry's lifetime.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "src/core/clock.h"

namespace kustodian {

enum class MetricType { kCounter, kGauge, kHistogram };

// "counter", "gauge" or "histogram", as written on the # TYPE line.
const char* MetricTypeName(MetricType type);

// A monotonically increasing value. Thread-safe (lock-free).
class Counter {
 public:
  static constexpr MetricType kType = MetricType::kCounter;

  // Adds `delta`. A negative or NaN delta is ignored (counters never go down).
  void Inc(double delta = 1);
  double Value() const { return value_.load(std::memory_order_relaxed); }

  // Appends "<name>{<labels>} <value>\n"; `labels` is the rendered label list without braces.
  void AppendSamples(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down. Thread-safe (lock-free).
class Gauge {
 public:
  static constexpr MetricType kType = MetricType::kGauge;

  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Inc(double delta = 1) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void Dec(double delta = 1) { value_.fetch_sub(delta, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }
  // Sets the gauge to clock.Now() in (fractional) seconds since the Unix epoch.
  void SetToCurrentTime(const Clock& clock);

  void AppendSamples(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  std::atomic<double> value_{0};
};

// Counts observations into cumulative buckets (le = upper bound, inclusive) plus +Inf, with
// their sum and count. Thread-safe (a small mutex keeps a scrape consistent).
class Histogram {
 public:
  static constexpr MetricType kType = MetricType::kHistogram;

  // `bounds` must be strictly increasing and free of NaN (a trailing +Inf is dropped: it is
  // always implied); otherwise MetricsFatal.
  explicit Histogram(std::vector<double> bounds);

  void Observe(double value);
  // Observation count and sum so far.
  uint64_t Count() const;
  double Sum() const;
  // Cumulative count of observations <= bounds()[i]; i == bounds().size() means +Inf.
  uint64_t CumulativeCount(size_t i) const;
  const std::vector<double>& bounds() const { return bounds_; }

  // Appends the _bucket (each bound, then +Inf), _sum and _count lines.
  void AppendSamples(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // guarded by mu_; per bucket (not cumulative), last is +Inf
  double sum_ = 0;                // guarded by mu_
  uint64_t count_ = 0;            // guarded by mu_
};

// `count` bounds: start, start*factor, start*factor^2, ... (start > 0, factor > 1, count >= 1;
// otherwise MetricsFatal). Computed by repeated multiplication, like the Go client.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// controller-runtime's reconcile_time_seconds buckets (0.005 .. 60 s).
std::vector<double> DefaultReconcileBuckets();

// client-go's workqueue duration buckets: ExponentialBuckets(1e-8, 10, 10), i.e. 10 ns .. 10 s.
std::vector<double> WorkQueueDurationBuckets();

}  // namespace kustodian
