// Reconciler: brings one data connection (a key) to its desired state. Level-based and
// idempotent: it reads the current desired state, ownership and live state for the key (never
// the event that woke it), writes to ARM only on a real semantic difference, and never waits:
// long-running operations and backoff come back as requeue_after.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "controller/cluster_lock.h"
#include "controller/desired_store.h"
#include "controller/live_cache.h"
#include "controller/ownership_journal.h"
#include "controller/pending_ops.h"
#include "controller/prune_guard.h"
#include "controller/status_store.h"
#include "src/arm/arm_client.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/model/diff.h"

namespace kustodian {

struct KustodianMetrics;

struct ReconcileResult {
  enum Outcome { kDone, kRequeueAfter, kRetryableError, kTerminalError };
  Outcome outcome = kDone;
  // kRequeueAfter: when to reconcile again (0 = at once). kRetryableError: the server's
  // Retry-After when it sent one, else 0 (the queue's backoff decides). kDone: a hint of when
  // the key's next resync is due (policy.resyncInterval), 0 when none.
  absl::Duration requeue_after = absl::ZeroDuration();
  absl::Status error;  // the error of kRetryableError / kTerminalError

  static ReconcileResult Done(absl::Duration resync_hint = absl::ZeroDuration());
  static ReconcileResult RequeueAfter(absl::Duration after);
  // requeue_after = GetRetryAfter(error) when present.
  static ReconcileResult Retryable(absl::Status error);
  static ReconcileResult Terminal(absl::Status error);
};

// Outcomes of a pass that users should hear about (Kubernetes Events in kubernetes mode).
enum class ReconcileEvent {
  kCreated,
  kUpdated,
  kDriftCorrected,
  kDeleted,
  kOrphaned,
  kAdopted,
  kFailed,       // an ARM error or a blocked write (Warning)
  kInvalidSpec,  // the spec fails validation (Warning)
};
// "Created", "Updated", "DriftCorrected", "Deleted", "Orphaned", "Adopted", "Failed",
// "InvalidSpec".
std::string_view ReconcileEventName(ReconcileEvent event);

// Optional hooks into the reconciler for another source of desired state (kubernetes mode:
// controller/kube_controller.h). Called from reconcile workers, for one key at a time.
class ReconcileObserver {
 public:
  virtual ~ReconcileObserver() = default;
  // Called before kustodian takes ownership of `key`: before the first create PUT and before
  // adopting. A non-OK status stops the pass (retried later) so nothing is created unowned.
  virtual absl::Status BeforeOwn(const std::string& key) = 0;
  // Called before a managed connection whose desired state is gone is deleted or orphaned.
  // False holds it (reported as a Conflict) until something changes.
  virtual bool AllowRemoval(const std::string& key) = 0;
  // The deletion policy that decides a removal, when the observer knows it better than the
  // journal (the policy of a resource at the moment it was deleted: a reconcile that read the
  // spec before the last edit may have written an older policy to the journal). nullopt: the
  // journal's record decides.
  virtual std::optional<DeletionPolicy> DeletionPolicyAtRemoval(const std::string& key) {
    (void)key;
    return std::nullopt;
  }
  // Something users should see happened for `key`; `message` holds no secrets.
  virtual void OnEvent(const std::string& key, ReconcileEvent event, std::string_view message) = 0;
};

// What the reconciler works with; every reference must outlive the Reconciler.
struct ReconcilerDeps {
  Clock& clock;
  Logger& logger;
  ArmClient& arm;
  DesiredStore& desired;
  LiveCache& live;
  OwnershipJournal& journal;
  StatusStore& status;
  ClusterLock& cluster_lock;
  PruneGuard& prune_guard;
  KustodianMetrics* metrics = nullptr;    // optional: kustodian_drift_corrections_total
  ReconcileObserver* observer = nullptr;  // optional: kubernetes mode
};

struct ReconcilerOptions {
  bool adopt_all = false;                        // --adopt: take over every existing match
  absl::Duration lock_retry = absl::Seconds(2);  // cluster busy with another key's write
  // The same when the ClusterLock has a waker (it re-queues the key when the lock is free):
  // only a safety net then.
  absl::Duration lock_retry_woken = absl::Seconds(30);
  absl::Duration default_resync = absl::Minutes(5);  // resync hint when a spec sets none
  // First poll of a new operation when ARM's answer had no Retry-After (else: its Retry-After).
  absl::Duration initial_poll_delay = absl::Seconds(1);
  // The shortest wait between two polls of one operation (a Retry-After of 0 while running).
  absl::Duration min_poll_interval = absl::Milliseconds(100);
  absl::Duration foreign_operation_wait = absl::Seconds(10);  // someone else's LRO running
  absl::Duration prune_guard_wait = absl::Seconds(30);        // deletion held by PruneGuard
};

// Thread-safe: Reconcile may run for different keys at once (the work queue never runs one key
// twice at once; doing so is safe but may duplicate a write).
class Reconciler {
 public:
  Reconciler(ReconcilerDeps deps, ReconcilerOptions options);
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  // One pass for `key` (DataConnectionId::Key()). Returns kDone when converged (or nothing to
  // do), kRequeueAfter while an operation runs or a lock / the prune guard holds it back,
  // kRetryableError for failures a later attempt may cure (ARM 409/429/5xx, auth, I/O), and
  // kTerminalError for problems only a manifest change cures (invalid spec, ARM 400,
  // immutable change under policy Fail, existing connection not managed). Never sleeps.
  ReconcileResult Reconcile(const std::string& key);

  // The plan Reconcile would carry out now, from the caches alone (no ARM call; refresh the
  // LiveCache first). Blocked writes (ObserveOnly, not managed, immutable change under Fail)
  // come back as kNoop with the changes and a reason saying why nothing will be written.
  Plan PlanFor(const std::string& key) const;

  // Operations in flight, by key.
  std::map<std::string, PendingOp> PendingOperations() const { return pending_.All(); }
  // Makes the next pass for `key` read it with one GET instead of trusting the cache (after a
  // drift event, or when an operation ended without a final resource).
  void RequestConfirm(const std::string& key);

 private:
  struct Context;
  struct Failure {
    std::string spec_hash;
    std::string reason;
    std::string message;
    std::string last_error;
  };

  // reconciler.cc: the flow.
  ReconcileResult ReconcileKey(Context& ctx);
  absl::Status LoadLive(Context& ctx);
  ReconcileResult ReconcileAbsent(Context& ctx);
  ReconcileResult ReconcilePresent(Context& ctx);
  ReconcileResult ReconcileObserveOnly(Context& ctx);
  ReconcileResult ReconcileWrite(Context& ctx);
  void UpdateRecord(const Context& ctx);

  // reconciler_writes.cc: ARM writes, operations and their errors.
  std::optional<ReconcileResult> PollPending(Context& ctx, const PendingOp& op);
  ReconcileResult ApplyPut(Context& ctx, bool creating, bool drift);
  ReconcileResult ApplyDelete(Context& ctx, bool recreate);
  ReconcileResult HandleArmError(Context& ctx, const absl::Status& error, std::string_view verb,
                                 const std::string& spec_hash);
  bool AcquireClusterLock(Context& ctx);
  // When a key that found the cluster locked looks again (lock_retry, or lock_retry_woken).
  absl::Duration LockRetry() const;
  // When to poll a new operation first: its Retry-After, else initial_poll_delay.
  absl::Duration FirstPoll(const ArmOperation& op) const;
  // When to look again after a call the ARM rate limiter held back (IsRateLimitWait): its
  // Retry-After, at least min_poll_interval.
  absl::Duration RateLimitDelay(const absl::Status& wait) const;
  void CountDrift(const Context& ctx);

  // reconciler_status.cc: status output.
  ConnectionStatus BaseStatus(const Context& ctx) const;
  void Report(const Context& ctx, std::string_view phase, std::string_view reason,
              std::string_view message);
  void ForgetStatus(const Context& ctx);
  // Stops managing ctx.key without touching Azure: journal record, prune guard and status.
  void ForgetOwned(const Context& ctx);
  absl::Duration ResyncHint(const Context& ctx) const;
  void Notify(const Context& ctx, ReconcileEvent event, std::string_view message);

  bool TakeConfirm(const std::string& key);
  void RememberFailure(const std::string& key, Failure failure);
  std::optional<Failure> RememberedFailure(const std::string& key) const;
  void ForgetFailure(const std::string& key);

  ReconcilerDeps deps_;
  const ReconcilerOptions options_;
  PendingOps pending_;

  mutable std::mutex mu_;
  std::set<std::string> confirm_;            // guarded by mu_: keys to GET next pass
  std::map<std::string, Failure> failures_;  // guarded by mu_: terminal failures by spec hash
};

}  // namespace kustodian
