#include "controller/reconciler.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/reconciler_context.h"
#include "src/arm/rate_limiter.h"
#include "src/core/status.h"
#include "src/model/validation.h"

namespace kustodian {
namespace {

constexpr char kNotManagedMessage[] =
    "connection already exists in Azure and is not managed by kustodian; add annotation "
    "kustodian.io/adopt: \"true\" to take it over, or remove the manifest";

}  // namespace

ReconcileResult ReconcileResult::Done(absl::Duration resync_hint) {
  return ReconcileResult{kDone, resync_hint, absl::OkStatus()};
}
ReconcileResult ReconcileResult::RequeueAfter(absl::Duration after) {
  return ReconcileResult{kRequeueAfter, after, absl::OkStatus()};
}
ReconcileResult ReconcileResult::Retryable(absl::Status error) {
  absl::Duration after = GetRetryAfter(error).value_or(absl::ZeroDuration());
  return ReconcileResult{kRetryableError, after, std::move(error)};
}
ReconcileResult ReconcileResult::Terminal(absl::Status error) {
  return ReconcileResult{kTerminalError, absl::ZeroDuration(), std::move(error)};
}

Reconciler::Reconciler(ReconcilerDeps deps, ReconcilerOptions options)
    : deps_(deps), options_(options) {}

ReconcileResult Reconciler::Reconcile(const std::string& key) {
  Context ctx;
  ctx.key = key;
  ctx.now = deps_.clock.Now();
  ctx.desired = deps_.desired.Get(key);
  ctx.record = deps_.journal.Get(key);
  absl::StatusOr<DataConnectionId> id =
      ctx.desired ? absl::StatusOr<DataConnectionId>(ctx.desired->spec.id)
                  : DataConnectionId::Parse(ctx.record ? ctx.record->id : key);
  if (!id.ok()) {
    return ReconcileResult::Terminal(id.status());
  }
  ctx.id = *std::move(id);
  ctx.cluster_key = ClusterKeyOf(ctx.id);
  ReconcileResult result = ReconcileKey(ctx);
  // The resync leaves a key alone while its cached live state and spec stay as this pass found
  // them in sync; any other outcome makes it reconcile the key after every LIST again.
  if (ctx.in_sync) {
    deps_.live.MarkInSync(key, ctx.desired->spec_hash);
  } else {
    deps_.live.ClearInSync(key);
  }
  if (!pending_.Contains(key) && !ctx.waiting_for_lock) {
    // No operation in flight: never hold the cluster's lock, nor wait for it (a waiter woken
    // for its turn that no longer writes passes the turn on).
    deps_.cluster_lock.Release(ctx.cluster_key, key);
  }
  return result;
}

ReconcileResult Reconciler::ReconcileKey(Context& ctx) {
  const std::string& key = ctx.key;
  bool completed = false;  // an operation of this key finished in this pass
  if (std::optional<PendingOp> op = pending_.Get(key)) {
    ctx.live = deps_.live.Get(key);  // for the status while the operation runs
    if (std::optional<ReconcileResult> result = PollPending(ctx, *op)) {
      return *result;
    }
    completed = !pending_.Contains(key);
    ctx.record = deps_.journal.Get(key);  // the finished operation may have changed it
  }
  if (!ctx.desired && !ctx.record && !pending_.Contains(key)) {
    return ReconcileAbsent(ctx);  // neither wanted nor owned: no need to read ARM
  }
  absl::Status loaded = LoadLive(ctx);
  if (IsRateLimitWait(loaded)) {
    // Not sent (the read bucket is empty or a 429 paused reads): a wait, not a failure. The
    // status changes only when there is none yet, or to say a finished write is being read
    // back, with messages that name no duration (no rewrite per attempt).
    if (completed) {
      Report(ctx, kPhasePending, "ReadingBack",
             "the ARM operation succeeded; reading the connection back when ARM's rate limit "
             "allows");
    } else if ((ctx.desired || ctx.record) && !deps_.status.Get(key)) {
      Report(ctx, kPhasePending, "Throttled",
             "reading the live state waits for ARM's rate limit (client-side token bucket or a "
             "429's Retry-After)");
    }
    return ReconcileResult::RequeueAfter(RateLimitDelay(loaded));
  }
  if (!loaded.ok()) {
    if (completed && IsRetryable(loaded)) {
      // The write is done and stays done; only its read-back waits (throttled, most often).
      absl::Duration after = GetRetryAfter(loaded).value_or(options_.initial_poll_delay);
      Report(ctx, kPhasePending, "ReadingBack",
             absl::StrCat("the ARM operation succeeded; reading the connection back in ",
                          absl::FormatDuration(after), " (", loaded.message(), ")"));
      return ReconcileResult::RequeueAfter(after);
    }
    if (ctx.desired && absl::IsNotFound(loaded)) {
      // ARM answered 404 to the database's LIST: the subscription, resource group, cluster or
      // database of the target does not exist. As for a 404 to a PUT: Stalled, as the spec
      // must change (or the parent be created); not remembered, so a later pass tries again.
      ctx.last_error = FormatArmError(loaded);
      std::string message = absl::StrCat(
          "the database in spec.target does not exist (ARM answered 404): ", loaded.message(),
          "; fix spec.target (subscriptionId, resourceGroup, cluster, database) or create it");
      Report(ctx, kPhaseStalled, "ParentNotFound", message);
      Notify(ctx, ReconcileEvent::kFailed, message);
      return ReconcileResult::Terminal(loaded);
    }
    if (!ctx.desired && ctx.record && absl::IsNotFound(loaded) &&
        GetArmErrorCode(loaded) != "SubscriptionNotFound") {
      // Owned, no longer wanted, and its database (or cluster, or resource group) is gone: so
      // is the connection. Forget it as when it is missing (nothing is deleted in Azure), so a
      // DataConnection's finalizer is not held forever. A SubscriptionNotFound may come from
      // the wrong tenant and stays a read failure.
      ForgetOwned(ctx);
      deps_.logger.Info(
          "managed connection's database no longer exists and it has no manifest; forgetting it",
          {{"key", key}, {"error", std::string(loaded.message())}});
      return ReconcileResult::Done();
    }
    if (ctx.desired || ctx.record) {
      ctx.last_error = FormatArmError(loaded);
      Report(ctx, kPhaseError, "ReadFailed",
             absl::StrCat("cannot read the live state from ARM: ", loaded.message()));
    }
    return ReconcileResult::Retryable(loaded);
  }
  return ctx.desired ? ReconcilePresent(ctx) : ReconcileAbsent(ctx);
}

absl::Status Reconciler::LoadLive(Context& ctx) {
  if (TakeConfirm(ctx.key)) {
    absl::StatusOr<LiveConnection> got = deps_.arm.Get(ctx.id);
    if (got.ok()) {
      deps_.live.Put(*got);
    } else if (absl::IsNotFound(got.status())) {
      deps_.live.Erase(ctx.key);
    } else {
      RequestConfirm(ctx.key);  // still unconfirmed
      return got.status();
    }
    ctx.synced_at = ctx.now;
  } else {
    DatabaseId db = ctx.id.Database();
    if (!deps_.live.HasListed(db.Key())) {
      KUS_RETURN_IF_ERROR(deps_.live.Refresh(db, deps_.arm));
    }
    ctx.synced_at = deps_.live.ListedAt(db.Key());
  }
  ctx.live = deps_.live.Get(ctx.key);
  return absl::OkStatus();
}

ReconcileResult Reconciler::ReconcileAbsent(Context& ctx) {
  ForgetFailure(ctx.key);
  if (!ctx.record) {
    deps_.prune_guard.Forget(ctx.key);
    ForgetStatus(ctx);
    return ReconcileResult::Done();
  }
  if (!ctx.live) {
    ForgetOwned(ctx);
    deps_.logger.Info("managed connection no longer exists and has no manifest; forgetting it",
                      {{"key", ctx.key}});
    return ReconcileResult::Done();
  }
  if (deps_.observer != nullptr && !deps_.observer->AllowRemoval(ctx.key)) {
    Report(ctx, kPhaseConflict, "RemovalHeld",
           "the connection is managed and still claimed by a resource; not deleted or forgotten");
    return ReconcileResult::Done();
  }
  if (deps_.observer != nullptr) {
    if (std::optional<DeletionPolicy> policy = deps_.observer->DeletionPolicyAtRemoval(ctx.key);
        policy && *policy != ctx.record->deletion) {
      ctx.record->deletion = *policy;
      deps_.journal.Add(ctx.key, *ctx.record);
    }
  }
  if (ctx.record->deletion == DeletionPolicy::kOrphan) {
    Notify(ctx, ReconcileEvent::kOrphaned,
           "deletion policy Orphan: the connection was left in Azure");
    ForgetOwned(ctx);
    deps_.logger.Info("manifest removed; deletion policy Orphan: leaving the connection in Azure",
                      {{"key", ctx.key}, {"id", ctx.record->id}});
    return ReconcileResult::Done();
  }
  ctx.plan = Diff(nullptr, &*ctx.live);
  if (!IsTerminalProvisioningState(ctx.live->provisioning_state)) {
    Report(ctx, kPhasePending, "OperationInProgress",
           absl::StrCat("ARM reports provisioningState ", ctx.live->provisioning_state,
                        " (another client's operation); waiting before deleting"));
    return ReconcileResult::RequeueAfter(options_.foreign_operation_wait);
  }
  if (!deps_.prune_guard.TryConsume(ctx.key)) {
    Report(ctx, kPhaseWaitingForPruneGuard, "PruneGuard",
           absl::StrCat(deps_.prune_guard.Used(), " deletions already made in this pass (max ",
                        deps_.prune_guard.max_per_pass(), "); will continue next pass"));
    return ReconcileResult::RequeueAfter(options_.prune_guard_wait);
  }
  return ApplyDelete(ctx, /*recreate=*/false);
}

ReconcileResult Reconciler::ReconcilePresent(Context& ctx) {
  const DataConnectionSpec& spec = ctx.desired->spec;
  deps_.prune_guard.Forget(ctx.key);
  if (std::optional<Failure> failure = RememberedFailure(ctx.key);
      failure && failure->spec_hash != ctx.desired->spec_hash) {
    ForgetFailure(ctx.key);  // the spec changed: try again
  }
  if (spec.policy.management == ManagementPolicy::kObserveOnly) {
    return ReconcileObserveOnly(ctx);
  }
  if (ctx.live && !IsTerminalProvisioningState(ctx.live->provisioning_state)) {
    Report(ctx, kPhasePending, "OperationInProgress",
           absl::StrCat("ARM reports provisioningState ", ctx.live->provisioning_state,
                        " (another client's operation); waiting for it to finish"));
    return ReconcileResult::RequeueAfter(options_.foreign_operation_wait);
  }
  if (ctx.live && !ctx.record) {
    if (!spec.adopt && !options_.adopt_all) {
      Report(ctx, kPhaseConflict, "NotManaged", kNotManagedMessage);
      Notify(ctx, ReconcileEvent::kFailed, kNotManagedMessage);
      return ReconcileResult::Terminal(absl::FailedPreconditionError(kNotManagedMessage));
    }
    if (deps_.observer != nullptr) {
      if (absl::Status own = deps_.observer->BeforeOwn(ctx.key); !own.ok()) {
        ctx.last_error = std::string(own.message());
        Report(ctx, kPhaseError, "OwnershipFailed",
               absl::StrCat("cannot record ownership before adopting: ", own.message()));
        return ReconcileResult::Retryable(own);
      }
    }
    OwnershipRecord rec;
    rec.id = ctx.id.RequestPath();
    rec.kind = std::string(KindName(spec.kind));
    rec.deletion = spec.policy.deletion;
    rec.file = ctx.desired->file;
    rec.origin = OwnershipRecord::Origin::kAdopted;
    rec.since = ctx.now;
    deps_.journal.Add(ctx.key, rec);
    ctx.record = rec;
    deps_.logger.Info("adopted existing connection",
                      {{"key", ctx.key}, {"reason", spec.adopt ? "annotation" : "--adopt"}});
    Notify(ctx, ReconcileEvent::kAdopted, "adopted the existing connection");
  }
  if (std::optional<Failure> failure = RememberedFailure(ctx.key)) {
    if (!deps_.status.Get(ctx.key)) {
      ctx.last_error = failure->last_error;
      Report(ctx, kPhaseStalled, failure->reason, failure->message);
    }
    return ReconcileResult::Done();  // not retried until the spec changes
  }
  ctx.plan = Diff(&spec, ctx.live ? &*ctx.live : nullptr);
  if (ctx.plan->action == PlanAction::kNoop && ctx.live &&
      IsFailedProvisioningState(ctx.live->provisioning_state)) {
    ctx.plan->action = PlanAction::kUpdate;  // re-apply: ARM left it Failed
    ctx.plan->reason = "provisioningState is Failed";
  }
  if (ctx.plan->action == PlanAction::kNoop) {
    UpdateRecord(ctx);
    deps_.journal.SetLastAppliedHash(ctx.key, ctx.desired->spec_hash);
    Report(ctx, kPhaseReady, "InSync", "the connection matches its manifest");
    ctx.in_sync = ctx.live.has_value();
    return ReconcileResult::Done(ResyncHint(ctx));
  }
  return ReconcileWrite(ctx);
}

ReconcileResult Reconciler::ReconcileObserveOnly(Context& ctx) {
  ctx.plan = Diff(&ctx.desired->spec, ctx.live ? &*ctx.live : nullptr);
  if (ctx.plan->action == PlanAction::kNoop) {
    Report(ctx, kPhaseReady, "InSync", "observe-only: the connection matches its manifest");
    ctx.in_sync = ctx.live.has_value();
  } else if (!ctx.live) {
    Report(ctx, kPhaseDrifted, "NotFound",
           "observe-only: the connection does not exist in Azure; kustodian never writes it");
  } else {
    Report(ctx, kPhaseDrifted, "Drifted",
           absl::StrCat("observe-only: ", ctx.plan->changes.size(),
                        " field(s) differ from the manifest; kustodian never writes it"));
  }
  return ReconcileResult::Done(ResyncHint(ctx));
}

ReconcileResult Reconciler::ReconcileWrite(Context& ctx) {
  const DataConnectionSpec& spec = ctx.desired->spec;
  if (absl::Status valid = ValidateSpecStatus(spec); !valid.ok()) {
    ctx.last_error = std::string(valid.message());
    Report(ctx, kPhaseStalled, "InvalidSpec", ctx.last_error);
    Notify(ctx, ReconcileEvent::kInvalidSpec, ctx.last_error);
    return ReconcileResult::Terminal(valid);
  }
  if (ctx.plan->action == PlanAction::kRecreate) {
    if (spec.policy.immutable_change == ImmutableChangePolicy::kFail) {
      std::string message = absl::StrCat(
          ctx.plan->reason,
          ": ARM cannot change this in place. Set policy.immutableChange: Recreate to delete and "
          "re-create the connection, or revert the manifest");
      Report(ctx, kPhaseStalled, "ImmutableFieldChanged", message);
      Notify(ctx, ReconcileEvent::kFailed, message);
      return ReconcileResult::Terminal(absl::FailedPreconditionError(message));
    }
    UpdateRecord(ctx);
    return ApplyDelete(ctx, /*recreate=*/true);
  }
  if (!AcquireClusterLock(ctx)) {
    return ReconcileResult::RequeueAfter(LockRetry());
  }
  if (ctx.plan->action == PlanAction::kCreate) {
    if (deps_.observer != nullptr) {
      if (absl::Status own = deps_.observer->BeforeOwn(ctx.key); !own.ok()) {
        ctx.last_error = std::string(own.message());
        Report(ctx, kPhaseError, "OwnershipFailed",
               absl::StrCat("cannot record ownership before creating: ", own.message()));
        return ReconcileResult::Retryable(own);
      }
    }
    // Ownership is on disk before the resource exists: a crash never leaves an unowned one.
    OwnershipRecord rec;
    rec.id = ctx.id.RequestPath();
    rec.kind = std::string(KindName(spec.kind));
    rec.deletion = spec.policy.deletion;
    rec.file = ctx.desired->file;
    rec.origin = OwnershipRecord::Origin::kCreated;
    rec.since = ctx.now;
    deps_.journal.Add(ctx.key, rec);
    ctx.record = rec;
    if (absl::Status flushed = deps_.journal.Flush(); !flushed.ok()) {
      ctx.last_error = std::string(flushed.message());
      Report(ctx, kPhaseError, "JournalWriteFailed",
             absl::StrCat("cannot record ownership before creating: ", flushed.message()));
      return ReconcileResult::Retryable(flushed);
    }
    return ApplyPut(ctx, /*creating=*/true, /*drift=*/false);
  }
  bool drift = ctx.record && !ctx.record->last_applied_hash.empty() &&
               ctx.record->last_applied_hash == ctx.desired->spec_hash && ctx.plan->reason.empty();
  UpdateRecord(ctx);
  return ApplyPut(ctx, /*creating=*/false, drift);
}

// Keeps the journal record's policy, file and kind in step with the manifest.
void Reconciler::UpdateRecord(const Context& ctx) {
  if (!ctx.record || !ctx.desired) {
    return;
  }
  OwnershipRecord rec = *ctx.record;
  rec.deletion = ctx.desired->spec.policy.deletion;
  rec.file = ctx.desired->file;
  rec.kind = std::string(KindName(ctx.desired->spec.kind));
  if (!(rec == *ctx.record)) {
    deps_.journal.Add(ctx.key, std::move(rec));
  }
}

Plan Reconciler::PlanFor(const std::string& key) const {
  std::optional<DesiredEntry> desired = deps_.desired.Get(key);
  std::optional<OwnershipRecord> record = deps_.journal.Get(key);
  std::optional<LiveConnection> live = deps_.live.Get(key);
  const LiveConnection* live_ptr = live ? &*live : nullptr;
  if (!desired) {
    Plan plan;
    if (!record || !live) {
      plan.reason = !record ? "not managed by kustodian: left alone" : "";
      return plan;
    }
    if (record->deletion == DeletionPolicy::kOrphan) {
      plan.reason = "deletion policy Orphan: forgotten, left in Azure";
      return plan;
    }
    return Diff(nullptr, live_ptr);
  }
  const DataConnectionSpec& spec = desired->spec;
  Plan plan = Diff(&spec, live_ptr);
  auto blocked = [&plan](std::string reason) {
    plan.action = PlanAction::kNoop;
    plan.reason = std::move(reason);
    return plan;
  };
  if (plan.action == PlanAction::kNoop) {
    return plan;
  }
  if (spec.policy.management == ManagementPolicy::kObserveOnly) {
    return blocked("management is ObserveOnly: differences are reported, never corrected");
  }
  if (live && !record && !spec.adopt && !options_.adopt_all) {
    return blocked(kNotManagedMessage);
  }
  if (plan.action == PlanAction::kRecreate &&
      spec.policy.immutable_change == ImmutableChangePolicy::kFail) {
    return blocked(absl::StrCat(plan.reason, "; blocked by policy.immutableChange: Fail"));
  }
  return plan;
}

void Reconciler::RequestConfirm(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  confirm_.insert(key);
}

bool Reconciler::TakeConfirm(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return confirm_.erase(key) > 0;
}

void Reconciler::RememberFailure(const std::string& key, Failure failure) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.insert_or_assign(key, std::move(failure));
}

std::optional<Reconciler::Failure> Reconciler::RememberedFailure(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  if (it == failures_.end()) {
    return std::nullopt;
  }
  return it->second;
}

void Reconciler::ForgetFailure(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

}  // namespace kustodian
