// Offline validation of a desired spec against its kind's schema.
#pragma once

#include <string>
#include <string_view>
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

// True when `s` is a GUID written as 8-4-4-4-12 hexadecimal digits (either case), the way Azure
// writes subscription ids.
bool IsGuid(std::string_view s);

// Azure's naming rules for the target of a desired connection (spec.target, whose name defaults
// to metadata.name): the subscription id is a GUID; resource group, cluster, database and data
// connection names use the characters and lengths ARM accepts when it creates them. Empty parts
// are left to ValidateSpec ("required"). Fields are "spec.target.<part>".
//
// Applied to manifests only (src/manifest), never to ids read back from ARM: live state is what
// it is, and ARM may return names in another casing. Cluster names are checked ignoring case for
// the same reason (ARM compares names case-insensitively). A cluster name shorter than 4 is an
// error: no such cluster can exist, so the manifest is wrong whatever the emulator's world says.
std::vector<ValidationError> ValidateTargetNames(const DataConnectionId& id);

}  // namespace kustodian
