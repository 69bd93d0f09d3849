// Discovery and OpenAPI documents: /version, /api, /api/v1, /apis, /apis/<g>/<v> (the legacy,
// unaggregated forms: kubectl falls back to them when the response is plain application/json),
// and /openapi/v3 with one document per group version whose PATCH operations declare the
// fieldValidation parameter, so kubectl uses server-side field validation.
#pragma once

#include <string>

#include "nlohmann/json.hpp"
#include "tests/kubeapi/resource_types.h"

namespace kustodian::kubeapi {

nlohmann::json VersionInfo();
nlohmann::json CoreApiVersions(const std::string& server_address);
nlohmann::json ApiGroupList(const Registry& registry);
// The APIResourceList of group/version, or null when nothing is served there.
nlohmann::json ApiResourceList(const Registry& registry, const std::string& group,
                               const std::string& version);
// /openapi/v3: {"paths": {"apis/g/v": {"serverRelativeURL": "/openapi/v3/apis/g/v?hash=..."}}}
nlohmann::json OpenApiV3Root(const Registry& registry);
// The OpenAPI v3 document of one group version ("api/v1" or "apis/g/v"), or null.
nlohmann::json OpenApiV3Document(const Registry& registry, const std::string& gv_path);

}  // namespace kustodian::kubeapi
