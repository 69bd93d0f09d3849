// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and a strategic merge patch
// good enough for the built-in types served here (maps merge; metadata.finalizers merge as a
// set; $patch, $deleteFromPrimitiveList and $setElementOrder directives honoured or dropped).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace kustodian::kubeapi {

enum class PatchType { kMerge, kJson, kStrategic, kApply, kUnknown };

// From a Content-Type header value (parameters ignored).
PatchType PatchTypeFromContentType(const std::string& content_type);

// Applies `patch` of `type` to `target`. InvalidArgument with the reason on a malformed patch or
// a failed JSON patch "test" operation.
absl::StatusOr<nlohmann::json> ApplyPatch(const nlohmann::json& target, const std::string& patch,
                                          PatchType type);

}  // namespace kustodian::kubeapi
