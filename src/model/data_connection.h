// The DataConnection model: the desired spec (from a manifest or a custom resource), the live
// connection (as ARM returns it), the kinds ARM has, and the policies that steer the reconciler.
// Properties are kept as JSON objects with exactly ARM's property names; src/model/schema.h
// describes, per kind, which properties exist, their types, defaults and constraints.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/core/arm_id.h"

namespace kustodian {

enum class ConnectionKind {
  kEventHub,
  kEventGrid,
  kIotHub,
  kCosmosDb,
  kEventHubWithManagedIdentity,   // api-version 2025-02-14 only
  kEventGridWithManagedIdentity,  // api-version 2025-02-14 only
};

// Every kind, in declaration order (for listing valid kinds in messages and iterating schemas).
inline constexpr std::array<ConnectionKind, 6> kAllKinds = {
    ConnectionKind::kEventHub,
    ConnectionKind::kEventGrid,
    ConnectionKind::kIotHub,
    ConnectionKind::kCosmosDb,
    ConnectionKind::kEventHubWithManagedIdentity,
    ConnectionKind::kEventGridWithManagedIdentity,
};

// ARM's spelling of a kind, e.g. "EventHub".
std::string_view KindName(ConnectionKind kind);
// Case-insensitive parse of ARM's spelling. InvalidArgument listing the valid kinds otherwise.
absl::StatusOr<ConnectionKind> ParseKind(std::string_view name);
// True for the two *WithManagedIdentity kinds, which need api-version 2025-02-14.
bool KindNeedsApi2025(ConnectionKind kind);

enum class DeletionPolicy { kDelete, kOrphan };
enum class ImmutableChangePolicy { kFail, kRecreate };
enum class ManagementPolicy { kManage, kObserveOnly };

struct Policy {
  DeletionPolicy deletion = DeletionPolicy::kDelete;
  ImmutableChangePolicy immutable_change = ImmutableChangePolicy::kFail;
  ManagementPolicy management = ManagementPolicy::kManage;
  absl::Duration resync_interval = absl::Minutes(5);
};

// Where a desired spec came from, for error messages and status.
struct SourceRef {
  std::string file;        // manifest path (directory mode), "" in Kubernetes mode
  int line = 0;            // 1-based line of the document start, 0 when unknown
  std::string name;        // metadata.name
  std::string namespace_;  // metadata.namespace ("" when absent)
  int64_t generation = 0;  // metadata.generation (Kubernetes mode)
};

// The desired state of one data connection.
struct DataConnectionSpec {
  DataConnectionId id;   // spec.target (+ metadata.name when target.name is absent)
  std::string location;  // spec.location, as written
  ConnectionKind kind = ConnectionKind::kEventHub;
  nlohmann::json properties = nlohmann::json::object();  // spec.properties, ARM names
  Policy policy;
  bool adopt = false;  // annotation kustodian.io/adopt: "true"
  // spec.credentialRef.name (Kubernetes mode): a Secret in the resource's namespace with keys
  // clientId, tenantId and clientSecret; "" = the daemon's own credentials.
  std::string credential_ref;
  SourceRef source;
};

// A data connection as ARM reports it (GET or LIST).
struct LiveConnection {
  DataConnectionId id;
  std::string location;   // may be a display name ("East US 2")
  std::string kind_name;  // as returned; kind is set when it is one we know
  std::optional<ConnectionKind> kind;
  nlohmann::json properties = nlohmann::json::object();  // everything under "properties"
  std::string provisioning_state;                        // "" when absent (= Succeeded)
};

// True when provisioningState is terminal: Succeeded, Failed, Canceled, or absent.
bool IsTerminalProvisioningState(std::string_view state);

// "East US 2" -> "eastus2": lower case, spaces removed.
std::string NormalizeLocation(std::string_view location);

}  // namespace kustodian
