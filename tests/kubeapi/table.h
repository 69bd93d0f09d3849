// meta.k8s.io/v1 Table output (what `kubectl get` asks for with
// Accept: application/json;as=Table;v=v1;g=meta.k8s.io): a Name column, then the CRD's
// additionalPrinterColumns or the built-in type's usual columns, cells formatted by the server.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tests/kubeapi/resource_types.h"

namespace kustodian::kubeapi {

// True when an Accept header asks for a Table.
bool WantsTable(const std::string& accept);

// A Table of `objects` (served form). include_object: "None", "Metadata" (default) or "Object".
nlohmann::json BuildTable(const ResourceType& type, const std::vector<nlohmann::json>& objects,
                          const std::string& include_object, const std::string& resource_version,
                          absl::Time now);

}  // namespace kustodian::kubeapi
