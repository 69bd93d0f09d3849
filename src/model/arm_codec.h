// The ARM JSON codec for data connections: the PUT body out, GET/LIST bodies in.
// Unknown properties in responses are kept (not an error); unknown kinds decode with kind unset.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "src/model/data_connection.h"

namespace kustodian {

// {"location":..., "kind":..., "properties":{...}}: location as written, the kind in ARM's
// spelling, the spec's properties minus read-only and null ones, enum values in the schema's
// canonical casing ("json" -> "JSON"). Unknown properties pass through (validation rejects them).
nlohmann::json EncodePutBody(const DataConnectionSpec& spec);

// Decodes one DataConnection resource (GET body or a LIST element). InvalidArgument when `id`
// or `kind` is missing or `id` is not a data-connection id.
absl::StatusOr<LiveConnection> DecodeConnection(const nlohmann::json& body);

struct ConnectionPage {
  std::vector<LiveConnection> items;
  std::string next_link;  // "" when absent or null
};
// Decodes a LIST body {"value":[...], "nextLink"?}. Elements that fail to decode are an error.
absl::StatusOr<ConnectionPage> DecodeList(const nlohmann::json& body);

// Validation results: accepts both {"value":[{"errorMessage":...}]} and a bare array.
// Returns the error messages (empty = valid).
absl::StatusOr<std::vector<std::string>> DecodeValidationResult(const nlohmann::json& body);

// The `body` for POST .../dataConnectionValidation:
// {"dataConnectionName": n, "properties": {"kind": k, "properties": {...}}}.
nlohmann::json EncodeValidationRequest(const DataConnectionSpec& spec);

// Builds a desired spec from a live connection (for `kustodian export`): keeps only
// properties the kind's schema knows and that are not read-only; drops values equal to the
// server-filled defaults (§6: ""/null/[], compression None, databaseRouting Single,
// ignoreFirstRecord false, blobStorageEventType BlobCreated) and retrievalStartDate (server time
// when unset); enum values in canonical casing; location normalized. A live connection of an
// unknown kind yields kind EventHub and no properties: callers should skip those.
DataConnectionSpec SpecFromLive(const LiveConnection& live);

}  // namespace kustodian
