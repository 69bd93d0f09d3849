// The Reconciler's ARM writes: PUT, DELETE, polling their operations, and what each ARM error
// means for the connection (see the error table in reconciler.h).
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/reconciler.h"
#include "controller/reconciler_context.h"
#include "src/arm/rate_limiter.h"
#include "src/core/status.h"
#include "src/core/strings.h"
#include "src/metrics/kustodian_metrics.h"

namespace kustodian {
namespace {

const char* OperationPhase(const PendingOp& op) {
  if (op.op.verb == ArmOperation::Verb::kDelete) {
    return kPhaseDeleting;
  }
  return op.creating ? kPhaseCreating : kPhaseUpdating;
}

const char* OperationReason(const PendingOp& op) {
  if (op.op.verb == ArmOperation::Verb::kDelete) {
    return op.recreate ? "Recreating" : "Deleting";
  }
  return op.creating ? "Creating" : "Updating";
}

}  // namespace

std::string FormatArmError(const absl::Status& error) {
  std::string code = GetArmErrorCode(error);
  if (code.empty()) {
    code = absl::StatusCodeToString(error.code());
  }
  return Redact(absl::StrCat(code, ": ", error.message()));
}

bool Reconciler::AcquireClusterLock(Context& ctx) {
  if (deps_.cluster_lock.TryAcquire(ctx.cluster_key, ctx.key)) {
    return true;
  }
  ctx.waiting_for_lock = true;
  // The message does not name the holder: it would change (and the status be rewritten) for
  // every waiting connection each time the holder changes. The log says who holds it.
  if (deps_.logger.Enabled(LogLevel::kDebug)) {
    deps_.logger.Debug(
        "waiting for the cluster lock",
        {{"key", ctx.key}, {"holder", deps_.cluster_lock.Holder(ctx.cluster_key).value_or("")}});
  }
  Report(ctx, kPhasePending, "WaitingForClusterLock",
         absl::StrCat("another write on cluster ", ctx.id.cluster,
                      " is in progress; Kusto runs one operation per cluster at a time"));
  return false;
}

absl::Duration Reconciler::LockRetry() const {
  return deps_.cluster_lock.HasWaker() ? std::max(options_.lock_retry, options_.lock_retry_woken)
                                       : options_.lock_retry;
}

absl::Duration Reconciler::FirstPoll(const ArmOperation& op) const {
  return op.first_poll_after ? std::max(*op.first_poll_after, absl::ZeroDuration())
                             : options_.initial_poll_delay;
}

absl::Duration Reconciler::RateLimitDelay(const absl::Status& wait) const {
  return std::max(GetRetryAfter(wait).value_or(options_.min_poll_interval),
                  options_.min_poll_interval);
}

std::optional<ReconcileResult> Reconciler::PollPending(Context& ctx, const PendingOp& op) {
  absl::StatusOr<PollResult> poll = deps_.arm.Poll(op.op);
  if (IsRateLimitWait(poll.status())) {
    // Not sent: the read bucket is empty or a 429 paused reads. The operation's status stays as
    // it is (the poll is only late), and nothing failed.
    return ReconcileResult::RequeueAfter(RateLimitDelay(poll.status()));
  }
  if (!poll.ok()) {
    if (absl::IsNotFound(poll.status())) {
      // The operation URL is gone: drop it and read the resource itself.
      pending_.Erase(ctx.key);
      deps_.cluster_lock.Release(ctx.cluster_key, ctx.key);
      RequestConfirm(ctx.key);
      deps_.logger.Warn("operation status is gone; reading the connection instead",
                        {{"key", ctx.key}});
      return std::nullopt;
    }
    ctx.last_error = FormatArmError(poll.status());
    Report(ctx, OperationPhase(op), "PollFailed",
           absl::StrCat("cannot read the operation status; will poll again: ",
                        poll.status().message()));
    return ReconcileResult::Retryable(poll.status());
  }
  if (!poll->done) {
    pending_.CountPoll(ctx.key);
    Report(ctx, OperationPhase(op), OperationReason(op),
           absl::StrCat("waiting for the ARM operation (", op.op.polls + 1, " poll(s) so far)"));
    return ReconcileResult::RequeueAfter(std::max(poll->retry_after, options_.min_poll_interval));
  }
  pending_.Erase(ctx.key);
  deps_.cluster_lock.Release(ctx.cluster_key, ctx.key);
  if (!poll->outcome.ok()) {
    RequestConfirm(ctx.key);  // what the failed operation left behind is unknown
    deps_.logger.Warn("ARM operation failed", {{"key", ctx.key},
                                               {"verb", std::string(ArmVerbName(op.op.verb))},
                                               {"error", FormatArmError(poll->outcome)}});
    return HandleArmError(ctx, poll->outcome, ArmVerbName(op.op.verb), op.spec_hash);
  }
  if (op.op.verb == ArmOperation::Verb::kDelete) {
    deps_.live.Erase(ctx.key);
    if (!op.recreate) {
      deps_.journal.Remove(ctx.key);
    }
    deps_.logger.Info(op.recreate ? "deleted for re-creation" : "deleted", {{"key", ctx.key}});
    if (!op.recreate) {
      Notify(ctx, ReconcileEvent::kDeleted, "deleted the connection in Azure");
    }
  } else {
    if (poll->resource) {
      deps_.live.Put(*poll->resource);
    } else {
      RequestConfirm(ctx.key);
    }
    deps_.journal.SetLastAppliedHash(ctx.key, op.spec_hash);
    deps_.logger.Info(op.creating ? "created" : "updated", {{"key", ctx.key}});
    Notify(ctx, op.creating ? ReconcileEvent::kCreated : ReconcileEvent::kUpdated,
           op.creating ? "created the connection in Azure" : "updated the connection in Azure");
  }
  return std::nullopt;  // continue with the normal flow, which sees the new state
}

ReconcileResult Reconciler::ApplyPut(Context& ctx, bool creating, bool drift) {
  const std::string& spec_hash = ctx.desired->spec_hash;
  absl::StatusOr<WriteResult> put = deps_.arm.Put(ctx.desired->spec);
  if (!put.ok()) {
    return HandleArmError(ctx, put.status(), "PUT", spec_hash);
  }
  ctx.synced_at = ctx.now;
  if (drift) {
    CountDrift(ctx);
    Notify(ctx, ReconcileEvent::kDriftCorrected,
           "the connection in Azure differed from the spec; re-applied it");
  }
  if (put->resource) {
    deps_.live.Put(*put->resource);
    ctx.live = *put->resource;
  }
  if (put->operation) {
    PendingOp op{*put->operation, creating, /*recreate=*/false, spec_hash};
    pending_.Put(ctx.key, op);
    Report(ctx, OperationPhase(op), OperationReason(op),
           "ARM accepted the PUT; waiting for the operation");
    return ReconcileResult::RequeueAfter(FirstPoll(op.op));
  }
  if (!put->resource || !IsTerminalProvisioningState(put->resource->provisioning_state)) {
    RequestConfirm(ctx.key);  // no operation to poll: read the resource until it settles
    Report(ctx, creating ? kPhaseCreating : kPhaseUpdating, creating ? "Creating" : "Updating",
           "ARM accepted the PUT; reading the connection until it settles");
    return ReconcileResult::RequeueAfter(options_.initial_poll_delay);
  }
  if (IsFailedProvisioningState(put->resource->provisioning_state)) {
    absl::Status failed = absl::InternalError("ARM reports provisioningState Failed after the PUT");
    ctx.last_error = FormatArmError(failed);
    Report(ctx, kPhaseError, "ProvisioningFailed",
           "ARM reports provisioningState Failed; will retry");
    return ReconcileResult::Retryable(failed);
  }
  deps_.journal.SetLastAppliedHash(ctx.key, spec_hash);
  deps_.logger.Info(creating ? "created" : "updated", {{"key", ctx.key}});
  Notify(ctx, creating ? ReconcileEvent::kCreated : ReconcileEvent::kUpdated,
         creating ? "created the connection in Azure" : "updated the connection in Azure");
  Report(ctx, kPhaseReady, "InSync", creating ? "created" : "updated");
  return ReconcileResult::Done(ResyncHint(ctx));
}

ReconcileResult Reconciler::ApplyDelete(Context& ctx, bool recreate) {
  if (!AcquireClusterLock(ctx)) {
    return ReconcileResult::RequeueAfter(LockRetry());
  }
  absl::StatusOr<WriteResult> del = deps_.arm.Delete(ctx.id);
  if (!del.ok() && !absl::IsNotFound(del.status())) {
    return HandleArmError(ctx, del.status(), "DELETE", "");
  }
  ctx.synced_at = ctx.now;
  if (del.ok() && del->operation) {
    PendingOp op{*del->operation, /*creating=*/false, recreate,
                 recreate ? ctx.desired->spec_hash : std::string()};
    pending_.Put(ctx.key, op);
    Report(ctx, kPhaseDeleting, OperationReason(op),
           recreate ? "deleting to re-create with the changed immutable fields"
                    : "manifest removed; deleting the connection");
    return ReconcileResult::RequeueAfter(FirstPoll(op.op));
  }
  deps_.live.Erase(ctx.key);
  ctx.live.reset();
  if (recreate) {
    deps_.logger.Info("deleted for re-creation", {{"key", ctx.key}});
    Report(ctx, kPhasePending, "Recreating", "deleted; creating it again");
    return ReconcileResult::RequeueAfter(absl::ZeroDuration());
  }
  deps_.journal.Remove(ctx.key);
  deps_.logger.Info("deleted", {{"key", ctx.key}});
  Notify(ctx, ReconcileEvent::kDeleted, "deleted the connection in Azure");
  ForgetStatus(ctx);
  return ReconcileResult::Done();
}

ReconcileResult Reconciler::HandleArmError(Context& ctx, const absl::Status& error,
                                           std::string_view verb, const std::string& spec_hash) {
  if (IsRateLimitWait(error)) {
    // The write was not sent (client-side bucket, or a 429's pause): a wait, not a failure. The
    // message names no duration, so a connection that waits several times is written once.
    Report(ctx, kPhasePending, "Throttled",
           absl::StrCat("the ", Av(verb),
                        " waits for ARM's rate limit (client-side token bucket or a 429's "
                        "Retry-After)"));
    return ReconcileResult::RequeueAfter(RateLimitDelay(error));
  }
  ctx.last_error = FormatArmError(error);
  std::string arm_message = std::string(error.message());
  if (absl::IsNotFound(error) && verb == "PUT") {
    std::string message = absl::StrCat(
        "ARM answered 404 to the PUT (the cluster or database does not exist?): ", arm_message);
    Report(ctx, kPhaseStalled, "ParentNotFound", message);
    Notify(ctx, ReconcileEvent::kFailed, message);
    return ReconcileResult::Terminal(error);
  }
  if (absl::IsInvalidArgument(error)) {
    std::string message = absl::StrCat("ARM rejected the ", Av(verb),
                                       " (not retried until the manifest changes): ", arm_message);
    if (!spec_hash.empty()) {
      RememberFailure(ctx.key, Failure{spec_hash, "ArmRejected", message, ctx.last_error});
    }
    Report(ctx, kPhaseStalled, "ArmRejected", message);
    Notify(ctx, ReconcileEvent::kFailed, message);
    return ReconcileResult::Terminal(error);
  }
  std::string reason = "ArmError";
  if (absl::IsAborted(error)) {
    reason = "Conflict";
  } else if (absl::IsUnavailable(error) || absl::IsResourceExhausted(error) ||
             absl::IsDeadlineExceeded(error)) {
    reason = "ArmUnavailable";
  } else if (absl::IsPermissionDenied(error)) {
    reason = "PermissionDenied";
  } else if (absl::IsUnauthenticated(error)) {
    reason = "Unauthenticated";
  }
  std::string message = absl::StrCat(Av(verb), " failed; will retry: ", arm_message);
  Report(ctx, kPhaseError, reason, message);
  Notify(ctx, ReconcileEvent::kFailed, message);
  return ReconcileResult::Retryable(error);
}

void Reconciler::CountDrift(const Context& ctx) {
  std::string kind = std::string(KindName(ctx.desired->spec.kind));
  std::vector<std::string> fields;
  for (const FieldChange& change : ctx.plan->changes) {
    fields.push_back(change.path);
  }
  if (deps_.metrics != nullptr) {
    deps_.metrics->drift_corrections.WithLabels({kind}).Inc();
  }
  deps_.logger.Info("drift corrected",
                    {{"key", ctx.key}, {"kind", kind}, {"fields", absl::StrJoin(fields, ",")}});
}

}  // namespace kustodian
