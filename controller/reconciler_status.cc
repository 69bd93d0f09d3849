// The Reconciler's status output: one ConnectionStatus per key, built from what the pass knows.
#include <string>

#include "controller/reconciler.h"
#include "controller/reconciler_context.h"

namespace kustodian {

ConnectionStatus Reconciler::BaseStatus(const Context& ctx) const {
  ConnectionStatus s;
  s.key = ctx.key;
  s.arm_id = ctx.live ? ctx.live->id.ResponseId() : ctx.id.ResponseId();
  s.name = ctx.id.name;
  if (ctx.desired) {
    const DataConnectionSpec& spec = ctx.desired->spec;
    if (!spec.source.name.empty()) {
      s.name = spec.source.name;
    }
    s.file = ctx.desired->file;
    s.kind = std::string(KindName(spec.kind));
    s.observed_generation = spec.source.generation;
    s.spec_hash = ctx.desired->spec_hash;
  } else if (ctx.record) {
    s.file = ctx.record->file;
    s.kind = ctx.record->kind;
  }
  if (s.kind.empty() && ctx.live) {
    s.kind = ctx.live->kind_name;
  }
  if (ctx.live) {
    s.provisioning_state =
        ctx.live->provisioning_state.empty() ? "Succeeded" : ctx.live->provisioning_state;
  }
  s.last_sync_time = ctx.synced_at;
  s.last_error = ctx.last_error;
  if (std::optional<PendingOp> op = pending_.Get(ctx.key)) {
    s.pending_operation = op->Describe();
  }
  if (ctx.plan) {
    s.plan_action = std::string(PlanActionName(ctx.plan->action));
    s.plan_changes = ctx.plan->changes;
  }
  return s;
}

void Reconciler::Report(const Context& ctx, std::string_view phase, std::string_view reason,
                        std::string_view message) {
  ConnectionStatus s = BaseStatus(ctx);
  SetPhase(s, phase, reason, message, ctx.now);
  deps_.status.Set(std::move(s));
}

std::string_view ReconcileEventName(ReconcileEvent event) {
  switch (event) {
    case ReconcileEvent::kCreated:
      return "Created";
    case ReconcileEvent::kUpdated:
      return "Updated";
    case ReconcileEvent::kDriftCorrected:
      return "DriftCorrected";
    case ReconcileEvent::kDeleted:
      return "Deleted";
    case ReconcileEvent::kOrphaned:
      return "Orphaned";
    case ReconcileEvent::kAdopted:
      return "Adopted";
    case ReconcileEvent::kFailed:
      return "Failed";
    case ReconcileEvent::kInvalidSpec:
      return "InvalidSpec";
  }
  return "Unknown";
}

void Reconciler::Notify(const Context& ctx, ReconcileEvent event, std::string_view message) {
  if (deps_.observer != nullptr) {
    deps_.observer->OnEvent(ctx.key, event, message);
  }
}

void Reconciler::ForgetStatus(const Context& ctx) { deps_.status.Remove(ctx.key); }

void Reconciler::ForgetOwned(const Context& ctx) {
  deps_.journal.Remove(ctx.key);
  deps_.prune_guard.Forget(ctx.key);
  ForgetStatus(ctx);
}

absl::Duration Reconciler::ResyncHint(const Context& ctx) const {
  if (ctx.desired && ctx.desired->spec.policy.resync_interval > absl::ZeroDuration()) {
    return ctx.desired->spec.policy.resync_interval;
  }
  return options_.default_resync;
}

}  // namespace kustodian
