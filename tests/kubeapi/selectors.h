// Label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors (=, ==, !=) as
// the API server parses them from ?labelSelector= and ?fieldSelector=.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace kustodian::kubeapi {

struct SelectorRequirement {
  std::string key;
  std::string op;  // "=", "!=", "in", "notin", "exists", "!exists"
  std::vector<std::string> values;
};

class LabelSelector {
 public:
  // InvalidArgument with the reason on bad syntax.
  static absl::StatusOr<LabelSelector> Parse(const std::string& text);
  // `labels` is metadata.labels (may be null).
  bool Matches(const nlohmann::json& labels) const;

 private:
  std::vector<SelectorRequirement> reqs_;
};

class FieldSelector {
 public:
  static absl::StatusOr<FieldSelector> Parse(const std::string& text);
  // Compares against the object's field at each dotted key; "source" on core events reads
  // source.component. A missing field is "".
  bool Matches(const nlohmann::json& obj) const;
  const std::vector<SelectorRequirement>& requirements() const { return reqs_; }

 private:
  std::vector<SelectorRequirement> reqs_;
};

}  // namespace kustodian::kubeapi
