// Registry: family registration with conflict checks, and serialization.
#include "src/metrics/registry.h"

#include <set>
#include <utility>

#include "src/metrics/text_format.h"

namespace kustodian {

void Registry::CheckNames(std::string_view name, MetricType type,
                          const std::vector<std::string>& label_names) {
  const std::string metric(name);
  if (!IsValidMetricName(name)) {
    MetricsFatal("invalid metric name \"" + metric + "\"");
  }
  std::set<std::string_view> seen;
  for (const std::string& label : label_names) {
    if (!IsValidLabelName(label)) {
      MetricsFatal("metric " + metric + ": invalid label name \"" + label + "\"");
    }
    if (!seen.insert(label).second) {
      MetricsFatal("metric " + metric + ": duplicate label name \"" + label + "\"");
    }
    if (type == MetricType::kHistogram && label == "le") {
      MetricsFatal("histogram " + metric + ": \"le\" is reserved");
    }
  }
}

FamilyBase* Registry::FindCompatible(std::string_view name, MetricType type,
                                     const std::vector<std::string>& label_names,
                                     const std::vector<double>& buckets) const {
  auto it = families_.find(name);
  if (it == families_.end()) {
    return nullptr;
  }
  const Entry& entry = it->second;
  if (entry.family->type() != type || entry.family->label_names() != label_names ||
      entry.buckets != buckets) {
    MetricsFatal("metric " + std::string(name) +
                 " registered twice with a different type, label names or buckets");
  }
  return entry.family.get();
}

template <typename T>
Family<T>& Registry::AddFamily(std::string_view name, std::string_view help,
                               std::vector<std::string> label_names, std::vector<double> buckets) {
  CheckNames(name, T::kType, label_names);
  std::lock_guard<std::mutex> lock(mu_);
  if (FamilyBase* existing = FindCompatible(name, T::kType, label_names, buckets)) {
    return static_cast<Family<T>&>(*existing);
  }
  typename Family<T>::Factory factory;
  if constexpr (T::kType == MetricType::kHistogram) {
    factory = [buckets] { return std::make_unique<T>(buckets); };
  } else {
    factory = [] { return std::make_unique<T>(); };
  }
  auto family = std::make_unique<Family<T>>(std::string(name), std::string(help),
                                            std::move(label_names), std::move(factory));
  Family<T>& result = *family;
  families_.emplace(std::string(name), Entry{std::move(family), std::move(buckets)});
  return result;
}

Counter& Registry::AddCounter(std::string_view name, std::string_view help) {
  return AddCounter(name, help, std::vector<std::string>{}).WithLabels({});
}

Gauge& Registry::AddGauge(std::string_view name, std::string_view help) {
  return AddGauge(name, help, std::vector<std::string>{}).WithLabels({});
}

Histogram& Registry::AddHistogram(std::string_view name, std::string_view help,
                                  std::vector<double> buckets) {
  return AddHistogram(name, help, {}, std::move(buckets)).WithLabels({});
}

CounterFamily& Registry::AddCounter(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names) {
  return AddFamily<Counter>(name, help, std::move(label_names), {});
}

GaugeFamily& Registry::AddGauge(std::string_view name, std::string_view help,
                                std::vector<std::string> label_names) {
  return AddFamily<Gauge>(name, help, std::move(label_names), {});
}

HistogramFamily& Registry::AddHistogram(std::string_view name, std::string_view help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> buckets) {
  // Validate (and normalize a trailing +Inf) before comparing with an earlier registration.
  buckets = Histogram(std::move(buckets)).bounds();
  return AddFamily<Histogram>(name, help, std::move(label_names), std::move(buckets));
}

std::string Registry::Serialize() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, entry] : families_) {
    entry.family->Serialize(&out);
  }
  return out;
}

}  // namespace kustodian
