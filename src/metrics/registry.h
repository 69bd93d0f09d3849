// The metric registry: owns every metric family the daemon exports and renders them in the
// Prometheus text exposition format 0.0.4 (Content-Type "text/plain; version=0.0.4"). Built
// once by the composition root and passed by reference; there is no global registry.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "src/metrics/family.h"
#include "src/metrics/metric.h"

namespace kustodian {

// The Content-Type a /metrics handler should send with Serialize()'s output.
inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Thread-safe. Registration mistakes are programming errors and abort via MetricsFatal: an
// invalid metric or label name, a duplicate label name, "le" as a histogram label, or the same
// metric name registered again with a different type, label names or buckets. Registering a
// name again with the same type, label names (and buckets) returns the existing family; the
// first HELP text wins. Counter names should end in "_total" (promtool insists).
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Unlabelled metrics: the single child of a family without label names.
  Counter& AddCounter(std::string_view name, std::string_view help);
  Gauge& AddGauge(std::string_view name, std::string_view help);
  Histogram& AddHistogram(std::string_view name, std::string_view help,
                          std::vector<double> buckets);

  // Labelled families; children come from WithLabels({values...}).
  CounterFamily& AddCounter(std::string_view name, std::string_view help,
                            std::vector<std::string> label_names);
  GaugeFamily& AddGauge(std::string_view name, std::string_view help,
                        std::vector<std::string> label_names);
  HistogramFamily& AddHistogram(std::string_view name, std::string_view help,
                                std::vector<std::string> label_names, std::vector<double> buckets);

  // Every family with at least one child, sorted by name; children sorted by label values.
  std::string Serialize() const;

 private:
  struct Entry {
    std::unique_ptr<FamilyBase> family;
    std::vector<double> buckets;  // histograms only
  };

  // Returns the existing family registered as `name` after checking it matches, or nullptr.
  // Requires mu_.
  FamilyBase* FindCompatible(std::string_view name, MetricType type,
                             const std::vector<std::string>& label_names,
                             const std::vector<double>& buckets) const;
  // Validates the names; MetricsFatal on a bad one.
  static void CheckNames(std::string_view name, MetricType type,
                         const std::vector<std::string>& label_names);

  template <typename T>
  Family<T>& AddFamily(std::string_view name, std::string_view help,
                       std::vector<std::string> label_names, std::vector<double> buckets);

  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> families_;  // guarded by mu_
};

}  // namespace kustodian
