// The small JSONPath subset CRD additionalPrinterColumns use: .a.b, [n], [*], ['key'] and
// filters [?(@.field=="literal")] / != ; enough for
// `.status.conditions[?(@.type=="Ready")].status`.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace kustodian::kubeapi {

class JsonPath {
 public:
  // Parses `expr` (with or without surrounding {}); InvalidArgument naming the unsupported part.
  static absl::StatusOr<JsonPath> Parse(const std::string& expr);
  // Every value the path selects in `doc`, in document order (empty when nothing matches).
  std::vector<nlohmann::json> Find(const nlohmann::json& doc) const;

 private:
  struct Step {
    enum Kind { kField, kIndex, kWildcard, kFilter } kind;
    std::string field;                     // kField; for kFilter the @.path (dotted)
    int index = 0;                         // kIndex
    bool negate = false;                   // kFilter: != instead of ==
    nlohmann::json literal;                // kFilter
    std::vector<std::string> filter_path;  // kFilter
  };
  std::vector<Step> steps_;
};

}  // namespace kustodian::kubeapi
