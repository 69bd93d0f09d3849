// Maps a request path onto the emulator's routes. ARM matches literal segments
// case-insensitively (clusters/Clusters, dataConnections/DataConnections, resourceGroups/
// resourcegroups), so this parser does too; names are kept as sent.
#pragma once

#include <string>
#include <string_view>

namespace kustodian::emulator {

enum class RouteKind {
  kUnknown,
  kConnection,      // {DB}/dataConnections/{name}
  kConnectionList,  // {DB}/dataConnections
  kValidation,      // {DB}/dataConnectionValidation
  kCheckName,       // {DB}/checkNameAvailability
  kOperationResult,  // /subscriptions/{s}/providers/Microsoft.Kusto/locations/{l}/operationResults/{id}
  kToken,            // /{tenant}/oauth2/v2.0/token
  kImds,             // /metadata/identity/oauth2/token
  kAdmin,            // /_admin/...
};

struct Route {
  RouteKind kind = RouteKind::kUnknown;
  std::string subscription;
  std::string resource_group;
  std::string cluster;
  std::string database;
  std::string name;      // data connection name
  std::string location;  // operationResults location segment (decoded)
  std::string operation_id;
  std::string tenant;      // token endpoint
  std::string admin_path;  // the path after "/_admin" (e.g. "/requests")
  // For kUnknown paths under a subscription: the subscription, so its existence can be checked.
};

// Parses `path` (decoded, no query). Never fails: unmatched paths give kUnknown (with
// `subscription` set when the path starts with /subscriptions/{s}).
Route ParseRoute(std::string_view path);

// "METHOD template" for stats, e.g. "PUT dataConnection", "GET list", "GET operationResult",
// "GET operationResultLocation" (when `location_form`), "POST token", "GET unknown".
std::string RouteTemplate(const Route& route, std::string_view method, bool location_form);

}  // namespace kustodian::emulator
