// YAML to JSON for CRD files and YAML request bodies, with the YAML 1.1 plain-scalar typing
// Kubernetes uses (true/false, integers, floats, null; quoted scalars stay strings).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace kustodian::kubeapi {

// Every document of `text` as JSON (empty documents skipped). InvalidArgument naming `source`
// and the line on a YAML syntax error.
absl::StatusOr<std::vector<nlohmann::json>> YamlToJson(const std::string& text,
                                                       const std::string& source);

// Parses a request body that is JSON or (when it does not start with '{') YAML; one document.
absl::StatusOr<nlohmann::json> ParseBody(const std::string& body);

}  // namespace kustodian::kubeapi
