// The emulator's "world": the subscriptions, resource groups, Kusto clusters (with their
// location display names) and databases that exist, optional pre-seeded data connections, and
// the service principals the fake token endpoint knows. Loaded from YAML (see docs/emulator.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "src/emulator/eventgrid_config.h"

namespace kustodian::emulator {

struct WorldConnection {
  std::string name;
  std::string kind;      // ARM spelling, e.g. "EventHub"
  std::string location;  // optional; "" = the cluster's location
  nlohmann::json properties = nlohmann::json::object();
  std::string provisioning_state;  // optional; "" = Succeeded
  int line = 0;                    // 1-based line in the world file, for error messages
};

struct WorldDatabase {
  std::string name;
  std::vector<WorldConnection> connections;
};

struct WorldCluster {
  std::string name;
  std::string location;  // display name, e.g. "East US 2" ("eastus2" is mapped to it)
  std::vector<WorldDatabase> databases;
};

struct WorldResourceGroup {
  std::string name;
  std::vector<WorldCluster> clusters;
};

struct WorldSubscription {
  std::string id;
  std::vector<WorldResourceGroup> resource_groups;
};

struct Principal {
  std::string client_id;
  std::string client_secret;      // "" = no secret (federated or managed identity only)
  std::string tenant_id;          // "" = any tenant
  std::string object_id;          // the token's oid; defaults to a stable GUID of client_id
  bool federated = false;         // accepts client_assertion (workload identity)
  bool managed_identity = false;  // served by the IMDS endpoint
};

struct World {
  std::vector<WorldSubscription> subscriptions;
  std::vector<Principal> principals;
  std::vector<EventGridSubscriptionConfig> eventgrid_subscriptions;  // eventGridSubscriptions:
};

// Parses world YAML. InvalidArgument "FILE:LINE: what is wrong" on syntax errors, unknown or
// missing keys and wrong types. `file_name` only labels messages.
absl::StatusOr<World> ParseWorld(std::string_view yaml_text, std::string_view file_name);

// Reads and parses `path`. NotFound when it cannot be read; otherwise as ParseWorld.
absl::StatusOr<World> LoadWorldFile(const std::string& path);

// "eastus2" -> "East US 2" for the regions the emulator knows; anything else is returned as is
// (so "East US 2" stays "East US 2").
std::string DisplayLocation(std::string_view location);

}  // namespace kustodian::emulator
