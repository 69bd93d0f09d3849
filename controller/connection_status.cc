#include "controller/connection_status.h"

#include <string>

namespace kustodian {
namespace {

bool IsInProgress(std::string_view phase) {
  return phase == kPhasePending || phase == kPhaseCreating || phase == kPhaseUpdating ||
         phase == kPhaseDeleting || phase == kPhaseError || phase == kPhaseWaitingForPruneGuard;
}

bool IsTerminal(std::string_view phase) {
  return phase == kPhaseStalled || phase == kPhaseConflict;
}

Condition MakeCondition(const char* type, bool value, std::string_view reason,
                        std::string_view message, absl::Time now, int64_t generation) {
  Condition c;
  c.type = type;
  c.status = value ? kTrue : kFalse;
  c.reason = std::string(reason);
  c.message = std::string(message);
  c.last_transition_time = now;
  c.observed_generation = generation;
  return c;
}

}  // namespace

std::string FormatStatusTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

const Condition* ConnectionStatus::FindCondition(std::string_view type) const {
  for (const Condition& c : conditions) {
    if (c.type == type) {
      return &c;
    }
  }
  return nullptr;
}

bool SameExceptSyncTime(const ConnectionStatus& a, const ConnectionStatus& b) {
  if (a.phase != b.phase || a.observed_generation != b.observed_generation ||
      a.spec_hash != b.spec_hash || a.conditions != b.conditions ||
      a.provisioning_state != b.provisioning_state || a.last_error != b.last_error ||
      a.pending_operation != b.pending_operation || a.plan_action != b.plan_action ||
      a.key != b.key || a.arm_id != b.arm_id || a.name != b.name || a.file != b.file ||
      a.kind != b.kind || a.plan_changes.size() != b.plan_changes.size()) {
    return false;
  }
  for (size_t i = 0; i < a.plan_changes.size(); ++i) {
    const FieldChange& x = a.plan_changes[i];
    const FieldChange& y = b.plan_changes[i];
    if (x.path != y.path || x.old_value != y.old_value || x.new_value != y.new_value) {
      return false;
    }
  }
  return true;
}

void SetPhase(ConnectionStatus& status, std::string_view phase, std::string_view reason,
              std::string_view message, absl::Time now) {
  status.phase = std::string(phase);
  int64_t gen = status.observed_generation;
  status.conditions = {
      MakeCondition(kConditionReady, phase == kPhaseReady, reason, message, now, gen),
      MakeCondition(kConditionReconciling, IsInProgress(phase), reason, message, now, gen),
      MakeCondition(kConditionStalled, IsTerminal(phase), reason, message, now, gen),
  };
}

nlohmann::json ConnectionStatus::ToJson() const {
  nlohmann::json j = {
      {"key", key},
      {"armId", arm_id},
      {"name", name},
      {"file", file},
      {"kind", kind},
      {"phase", phase},
      {"observedGeneration", observed_generation},
      {"specHash", spec_hash},
  };
  nlohmann::json conds = nlohmann::json::array();
  for (const Condition& c : conditions) {
    conds.push_back({{"type", c.type},
                     {"status", c.status},
                     {"reason", c.reason},
                     {"message", c.message},
                     {"lastTransitionTime", FormatStatusTime(c.last_transition_time)},
                     {"observedGeneration", c.observed_generation}});
  }
  j["conditions"] = std::move(conds);
  if (!provisioning_state.empty()) {
    j["provisioningState"] = provisioning_state;
  }
  if (last_sync_time.has_value()) {
    j["lastSyncTime"] = FormatStatusTime(*last_sync_time);
  }
  if (!last_error.empty()) {
    j["lastError"] = last_error;
  }
  if (!pending_operation.empty()) {
    j["pendingOperation"] = pending_operation;
  }
  if (!plan_action.empty()) {
    nlohmann::json changes = nlohmann::json::array();
    for (const FieldChange& ch : plan_changes) {
      changes.push_back({{"path", ch.path}, {"old", ch.old_value}, {"new", ch.new_value}});
    }
    j["plan"] = {{"action", plan_action}, {"changes", std::move(changes)}};
  }
  return j;
}

}  // namespace kustodian
