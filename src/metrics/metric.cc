// Counter, Gauge and Histogram, and the bucket helpers.
#include "src/metrics/metric.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "src/metrics/text_format.h"

namespace kustodian {

namespace {

// Appends "<name><suffix>{<labels>} <value>\n" (no braces when there are no labels).
void AppendLine(const std::string& name, const char* suffix, const std::string& labels,
                double value, std::string* out) {
  out->append(name).append(suffix);
  if (!labels.empty()) {
    out->append("{").append(labels).append("}");
  }
  out->append(" ").append(FormatMetricValue(value)).append("\n");
}

}  // namespace

const char* MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void Counter::Inc(double delta) {
  if (!(delta >= 0)) {  // also false for NaN
    return;
  }
  value_.fetch_add(delta, std::memory_order_relaxed);
}

void Counter::AppendSamples(const std::string& name, const std::string& labels,
                            std::string* out) const {
  AppendLine(name, "", labels, Value(), out);
}

void Gauge::SetToCurrentTime(const Clock& clock) {
  // Whole seconds plus the fraction: exact for millisecond times, unlike ToDoubleSeconds.
  const absl::Time now = clock.Now();
  const int64_t seconds = absl::ToUnixSeconds(now);
  const int64_t nanos = absl::ToInt64Nanoseconds(now - absl::FromUnixSeconds(seconds));
  Set(static_cast<double>(seconds) + static_cast<double>(nanos) / 1e9);
}

void Gauge::AppendSamples(const std::string& name, const std::string& labels,
                          std::string* out) const {
  AppendLine(name, "", labels, Value(), out);
}

namespace {

std::vector<double> CheckedBounds(std::vector<double> bounds) {
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) {
    bounds.pop_back();
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (std::isnan(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
      MetricsFatal("histogram buckets must be strictly increasing and not NaN");
    }
  }
  return bounds;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(CheckedBounds(std::move(bounds))), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  // First bound >= value; NaN belongs to no finite bucket, only to +Inf.
  size_t index = std::isnan(value)
                     ? bounds_.size()
                     : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                           bounds_.begin());
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[index];
  sum_ += value;
  ++count_;
}

uint64_t Histogram::Count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

double Histogram::Sum() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sum_;
}

uint64_t Histogram::CumulativeCount(size_t i) const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t total = 0;
  for (size_t j = 0; j <= i && j < counts_.size(); ++j) {
    total += counts_[j];
  }
  return total;
}

void Histogram::AppendSamples(const std::string& name, const std::string& labels,
                              std::string* out) const {
  std::vector<uint64_t> counts;
  double sum = 0;
  uint64_t count = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    counts = counts_;
    sum = sum_;
    count = count_;
  }
  const std::string prefix = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    const std::string le = i < bounds_.size() ? FormatMetricValue(bounds_[i]) : std::string("+Inf");
    AppendLine(name, "_bucket", prefix + "le=\"" + le + "\"", static_cast<double>(cumulative), out);
  }
  AppendLine(name, "_sum", labels, sum, out);
  AppendLine(name, "_count", labels, static_cast<double>(count), out);
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1) {
    MetricsFatal("ExponentialBuckets needs start > 0, factor > 1 and count >= 1");
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<size_t>(count));
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

std::vector<double> DefaultReconcileBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1,  0.15, 0.2,  0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6,
          0.7,   0.8,  0.9,   1.0,  1.25, 1.5,  1.75, 2.0,  2.5, 3.0,  3.5, 4.0,  4.5, 5,
          6,     7,    8,     9,    10,   15,   20,   25,   30,  40,   50,  60};
}

std::vector<double> WorkQueueDurationBuckets() { return ExponentialBuckets(1e-8, 10, 10); }

}  // namespace kustodian
