// Offline validation of a desired spec against its kind's schema.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "src/model/data_connection.h"

namespace kustodian {

struct ValidationError {
  std::string field;    // path, e.g. "spec.properties.consumerGroup"
  std::string message;  // what is wrong and what to do, e.g. "required for kind EventHub"
};

// Every problem found in `spec` (empty when valid): required properties, unknown properties,
// types, enum values (case-insensitive), resource-id shapes, location present, target names.
std::vector<ValidationError> ValidateSpec(const DataConnectionSpec& spec);

// OK, or InvalidArgument whose message lists every error as "field: message" joined by "; ".
absl::Status ValidateSpecStatus(const DataConnectionSpec& spec);

}  // namespace kustodian
