// Per-type object rules: the storage <-> served conversions (events.k8s.io/v1 Events are stored
// as core v1 Events: regarding<->involvedObject, note<->message, ...), creation defaults
// (Secret stringData, Namespace phase), and the metadata / type-specific validation.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/kubeapi/api_error.h"
#include "tests/kubeapi/resource_types.h"

namespace kustodian::kubeapi {

// The stored object as `type` serves it (kind/apiVersion set, converted if needed).
nlohmann::json ToServed(const ResourceType& type, const nlohmann::json& stored);
// A served-form object as stored.
nlohmann::json ToStorage(const ResourceType& type, const nlohmann::json& served);

// Defaults applied on every write (stored form).
void ApplyTypeDefaults(const ResourceType& type, nlohmann::json* stored);

// metadata.name checks and type-specific rules (served form, as the client sent it).
std::vector<FieldError> ValidateObject(const ResourceType& type, const nlohmann::json& served,
                                       bool create);

// A random RFC 4122 v4 UUID.
std::string NewUid();
// generateName suffix: 5 characters from the API server's alphabet.
std::string RandomSuffix();

}  // namespace kustodian::kubeapi
