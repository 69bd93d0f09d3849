// The emulator's state: the topology loaded from the world (subscriptions, resource groups,
// clusters with their location display names, databases) and the data connections that exist,
// keyed case-insensitively the way ARM compares ids.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "src/emulator/http_util.h"
#include "src/emulator/world.h"

namespace kustodian::emulator {

struct ClusterInfo {
  std::string subscription;  // canonical casing (as in the world file)
  std::string resource_group;
  std::string name;
  std::string location;                          // display name, e.g. "East US 2"
  std::map<std::string, std::string> databases;  // lower-case name -> canonical name
};

// Not thread-safe (the Emulator guards it).
class Topology {
 public:
  // Merges the subscriptions, groups, clusters and databases of `world` (existing entries are
  // kept; a cluster listed again takes the new location).
  void Add(const World& world);
  // The canonical subscription id, or nullptr.
  const std::string* FindSubscription(std::string_view subscription) const;
  // The canonical resource group name, or nullptr.
  const std::string* FindResourceGroup(std::string_view subscription,
                                       std::string_view resource_group) const;
  const ClusterInfo* FindCluster(std::string_view subscription, std::string_view resource_group,
                                 std::string_view cluster) const;
  // The canonical database name, or nullptr.
  static const std::string* FindDatabase(const ClusterInfo& cluster, std::string_view database);
  // Every cluster, for the admin dump.
  std::vector<const ClusterInfo*> Clusters() const;

 private:
  struct Group {
    std::string name;
    std::map<std::string, ClusterInfo> clusters;  // lower-case name ->
  };
  struct Subscription {
    std::string id;
    std::map<std::string, Group> groups;  // lower-case name ->
  };
  std::map<std::string, Subscription> subscriptions_;  // lower-case id ->
};

struct StoredConnection {
  std::string subscription;  // canonical casings (world names; the connection name as created)
  std::string resource_group;
  std::string cluster;
  std::string database;
  std::string name;
  std::string kind;                                     // canonical ARM spelling
  nlohmann::json requested = nlohmann::json::object();  // properties the client set
  OrderedJson properties = OrderedJson::object();       // as returned, without provisioningState
  std::string provisioning_state = "Succeeded";
  std::string operation_id;  // the operation in flight, "" when none

  // /subscriptions/../providers/Microsoft.Kusto/Clusters/c/Databases/d/DataConnections/n
  std::string ResponseId() const;
  // "c/d/n"
  std::string ArmName() const;
};

// Lower-case keys: "sub/rg/cluster/db/name", "sub/rg/cluster/db", "sub/rg/cluster".
std::string ConnectionKey(std::string_view subscription, std::string_view resource_group,
                          std::string_view cluster, std::string_view database,
                          std::string_view name);
std::string DatabaseKey(std::string_view subscription, std::string_view resource_group,
                        std::string_view cluster, std::string_view database);
std::string ClusterKey(std::string_view subscription, std::string_view resource_group,
                       std::string_view cluster);

// Not thread-safe (the Emulator guards it).
class ConnectionStore {
 public:
  // The connection with `key`, or nullptr.
  StoredConnection* Find(const std::string& key);
  // Inserts or replaces; returns the stored copy.
  StoredConnection& Put(const std::string& key, StoredConnection connection);
  // True when something was removed.
  bool Erase(const std::string& key);
  // The connections of one database (DatabaseKey), ordered by key.
  std::vector<const StoredConnection*> InDatabase(const std::string& database_key) const;
  std::vector<const StoredConnection*> All() const;

 private:
  std::map<std::string, StoredConnection> connections_;
};

}  // namespace kustodian::emulator

namespace kustodian::emulator {

// The resource body ARM returns: {id, name, type, location, kind, properties{...,
// provisioningState}} with PascalCase id segments and the "c/d/n" name.
OrderedJson ConnectionBody(const StoredConnection& connection, std::string_view location,
                           std::string_view provisioning_state);

// "East US 2" -> "eastus2" (lower case, spaces removed).
std::string NormalizedLocation(std::string_view location);

}  // namespace kustodian::emulator
