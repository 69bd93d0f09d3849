// A metric family: one name, HELP text, type and label names, with one child metric per
// distinct tuple of label values. Children are created on first use and never removed, so the
// references WithLabels returns stay valid for the family's (the Registry's) lifetime.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "src/metrics/metric.h"
#include "src/metrics/text_format.h"

namespace kustodian {

// Type-independent part of a family. Thread-safe.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends "# HELP", "# TYPE" and every child's samples, children ordered by label values.
  // Appends nothing for a family without children (as the Go client does).
  void Serialize(std::string* out) const;

 protected:
  // Renders `values` as name="value",... (escaped); MetricsFatal if the count is wrong.
  std::string RenderLabels(const std::vector<std::string>& values) const;
  // Appends every child's samples; returns false if there are no children.
  virtual bool AppendChildren(std::string* out) const = 0;

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// Family of Counter, Gauge or Histogram. Thread-safe.
template <typename T>
class Family final : public FamilyBase {
 public:
  using Factory = std::function<std::unique_ptr<T>()>;

  Family(std::string name, std::string help, std::vector<std::string> label_names, Factory factory)
      : FamilyBase(std::move(name), std::move(help), T::kType, std::move(label_names)),
        factory_(std::move(factory)) {}

  // The child for `values` (one per label name, in order), created at zero on first use.
  // A wrong number of values is a programming error (MetricsFatal).
  T& WithLabels(const std::vector<std::string>& values) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = children_.find(values);
    if (it == children_.end()) {
      it = children_.emplace(values, Child{RenderLabels(values), factory_()}).first;
    }
    return *it->second.metric;
  }

 private:
  struct Child {
    std::string rendered_labels;
    std::unique_ptr<T> metric;
  };

  bool AppendChildren(std::string* out) const override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [values, child] : children_) {
      child.metric->AppendSamples(name(), child.rendered_labels, out);
    }
    return !children_.empty();
  }

  const Factory factory_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, Child> children_;  // guarded by mu_
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

}  // namespace kustodian
