// ConnectionStatus: what kustodian reports about one data connection (the same fields the
// Kubernetes CR status has), with kstatus conditions Ready / Reconciling / Stalled derived from
// a phase, and its JSON form for status files and `kustodian status`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/model/diff.h"

namespace kustodian {

// Phases.
inline constexpr char kPhasePending[] = "Pending";
inline constexpr char kPhaseCreating[] = "Creating";
inline constexpr char kPhaseUpdating[] = "Updating";
inline constexpr char kPhaseDeleting[] = "Deleting";
inline constexpr char kPhaseReady[] = "Ready";
inline constexpr char kPhaseStalled[] = "Stalled";
inline constexpr char kPhaseError[] = "Error";
inline constexpr char kPhaseOrphaned[] = "Orphaned";
inline constexpr char kPhaseConflict[] = "Conflict";
inline constexpr char kPhaseDrifted[] = "Drifted";
inline constexpr char kPhaseWaitingForPruneGuard[] = "WaitingForPruneGuard";
inline constexpr char kPhaseDeleted[] = "Deleted";

// Condition types and statuses.
inline constexpr char kConditionReady[] = "Ready";
inline constexpr char kConditionReconciling[] = "Reconciling";
inline constexpr char kConditionStalled[] = "Stalled";
inline constexpr char kTrue[] = "True";
inline constexpr char kFalse[] = "False";
inline constexpr char kUnknown[] = "Unknown";

struct Condition {
  std::string type;    // Ready | Reconciling | Stalled
  std::string status;  // True | False | Unknown
  std::string reason;  // CamelCase
  std::string message;
  absl::Time last_transition_time = absl::UnixEpoch();
  int64_t observed_generation = 0;

  bool operator==(const Condition&) const = default;
};

struct ConnectionStatus {
  std::string key;     // DataConnectionId::Key()
  std::string arm_id;  // DataConnectionId::ResponseId() (ARM's response casing)
  std::string name;    // manifest metadata.name, else the connection name
  std::string file;    // manifest file ("" when none)
  std::string kind;
  std::string phase = kPhasePending;
  std::vector<Condition> conditions;  // Ready, Reconciling, Stalled in that order
  std::string provisioning_state;
  std::optional<absl::Time> last_sync_time;  // last time live state was read for it
  std::string last_error;                    // "<ArmCode or status code>: <message>"
  std::string pending_operation;             // "PUT https://..." (query removed), "" when none
  std::string plan_action;                   // PlanActionName of the last plan, "" when none
  std::vector<FieldChange> plan_changes;     // the last plan's changes
  int64_t observed_generation = 0;
  std::string spec_hash;

  // The condition of `type`, or nullptr.
  const Condition* FindCondition(std::string_view type) const;
  // JSON with camelCase field names; times in RFC 3339 UTC; absent optional fields omitted.
  nlohmann::json ToJson() const;
};

// True when `a` and `b` have the same content in every field but last_sync_time (then their
// status files differ at most in lastSyncTime). Cheap: no JSON is built.
bool SameExceptSyncTime(const ConnectionStatus& a, const ConnectionStatus& b);

// Sets `status.phase` and its three conditions the kstatus way: Ready=True only in phase Ready;
// Reconciling=True while work is in progress (Pending, Creating, Updating, Deleting, Error,
// WaitingForPruneGuard); Stalled=True for terminal problems (Stalled, Conflict). Every
// condition gets `reason` (CamelCase) and `message`, lastTransitionTime `now` and
// observedGeneration status.observed_generation. StatusStore::Set keeps the previous
// lastTransitionTime of a condition whose status did not change.
void SetPhase(ConnectionStatus& status, std::string_view phase, std::string_view reason,
              std::string_view message, absl::Time now);

// RFC 3339 UTC with seconds ("2026-11-23T08:00:00Z").
std::string FormatStatusTime(absl::Time t);

}  // namespace kustodian
