// ARM resource ids for Kusto data connections: parsing, normalization to a lower-case key,
// and the request path / response id casings ARM uses. Ids compare case-insensitively.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kustodian {

// /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Kusto/clusters/{c}/databases/{d}
struct DatabaseId {
  std::string subscription_id;
  std::string resource_group;
  std::string cluster;
  std::string database;

  // Parses a database id in any casing. InvalidArgument naming the bad segment otherwise.
  static absl::StatusOr<DatabaseId> Parse(std::string_view id);
  // Lower-case canonical id; equal for ids that ARM treats as the same resource.
  std::string Key() const;
  // Path to send in requests: lower-camel type segments, names percent-encoded.
  std::string RequestPath() const;
  // The id as ARM returns it: PascalCase type segments (Clusters/Databases).
  std::string ResponseId() const;
  bool operator==(const DatabaseId& other) const { return Key() == other.Key(); }
};

// {DatabaseId}/dataConnections/{name}
struct DataConnectionId {
  std::string subscription_id;
  std::string resource_group;
  std::string cluster;
  std::string database;
  std::string name;

  // Parses a data-connection id in any casing (clusters/Clusters, dataConnections/...).
  // InvalidArgument naming the bad or missing segment otherwise.
  static absl::StatusOr<DataConnectionId> Parse(std::string_view id);
  DatabaseId Database() const;
  // Lower-case canonical id: the work-queue key.
  std::string Key() const;
  // Request path: .../clusters/{c}/databases/{d}/dataConnections/{n}, names percent-encoded.
  std::string RequestPath() const;
  // As ARM returns it: .../Clusters/{c}/Databases/{d}/DataConnections/{n}.
  std::string ResponseId() const;
  // ARM's `name` field: "{cluster}/{database}/{name}".
  std::string ArmName() const;
  bool operator==(const DataConnectionId& other) const { return Key() == other.Key(); }
};

// A generic ARM resource id
// (/subscriptions/{s}[/resourceGroups/{g}[/providers/{ns}/{type}/{name}...]]).
struct ResourceId {
  std::string subscription_id;
  std::string resource_group;
  std::string provider_namespace;  // e.g. "Microsoft.EventHub"
  // type/name pairs after the provider namespace, e.g. {{"namespaces","ns1"},{"eventhubs","h"}}.
  std::vector<std::pair<std::string, std::string>> types_and_names;

  // Parses any well-formed ARM id. InvalidArgument with what is wrong otherwise.
  static absl::StatusOr<ResourceId> Parse(std::string_view id);
  // "Microsoft.EventHub/namespaces/eventhubs" (types joined, as written).
  std::string FullType() const;
};

// Case-insensitive comparison of two ids (trailing slashes ignored).
bool ArmIdsEqual(std::string_view a, std::string_view b);
// ASCII lower-case copy.
std::string AsciiLower(std::string_view s);
// Percent-encodes one path segment (RFC 3986 unreserved characters kept as they are).
std::string PercentEncodeSegment(std::string_view s);
// Decodes %XX escapes; invalid escapes are kept verbatim.
std::string PercentDecode(std::string_view s);
// Replaces literal spaces in a URL with %20 and changes nothing else (real ARM sends operation
// URLs with spaces in the location segment).
std::string EncodeSpacesInUrl(std::string_view url);

}  // namespace kustodian
