// Internal to the Reconciler (reconciler*.cc only): what one pass knows about its key.
#pragma once

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "controller/reconciler.h"

namespace kustodian {

struct Reconciler::Context {
  std::string key;
  DataConnectionId id;
  std::string cluster_key;  // ClusterKeyOf(id)
  absl::Time now;
  std::optional<DesiredEntry> desired;
  std::optional<OwnershipRecord> record;  // present when managed
  std::optional<LiveConnection> live;
  std::optional<absl::Time> synced_at;  // when the live state was last read or written
  std::optional<Plan> plan;             // the plan of this pass, for status
  std::string last_error;               // "<code>: <message>" of this pass's failure
  bool waiting_for_lock = false;        // this pass found the cluster locked by another key
  bool in_sync = false;  // this pass found ctx.live matching the spec (status InSync)
};

// True for provisioningState "Failed" (any case).
inline bool IsFailedProvisioningState(const std::string& state) {
  return absl::EqualsIgnoreCase(state, "Failed");
}

// "<ARM code or status code>: <message>" for status.last_error.
std::string FormatArmError(const absl::Status& error);

}  // namespace kustodian
