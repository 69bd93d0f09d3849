// The Manager in Kubernetes mode (--source=kubernetes): the same queue, reconciler, resync loop
// and HTTP endpoint as directory mode, with the KubeController instead of the directory source.
// Ownership is the finalizer, so the journal lives in memory and no state directory is locked;
// with --leader-elect the workers start only when this replica leads (a standby keeps its cache
// synced and serves /healthz and /readyz), and losing the lease ends the process.
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/manager.h"
#include "src/arm/principal_clients.h"
#include "src/core/status.h"

namespace kustodian {

absl::Status Manager::StartKubernetes() {
  Logger& log = deps_.logger;
  if (deps_.kube == nullptr) {
    return absl::FailedPreconditionError("--source=kubernetes needs a Kubernetes client");
  }
  journal_ = std::make_unique<OwnershipJournal>();  // in memory: ownership is the finalizer
  status_ = std::make_unique<StatusStore>(log, EffectiveStatusDir(options_));
  deps_.metrics.max_concurrent_reconciles.Set(options_.workers);
  queue_ = std::make_unique<WorkQueue>(deps_.clock, DefaultControllerRateLimiter(deps_.clock),
                                       WorkQueueMetrics::From(deps_.metrics));
  WorkQueue* queue = queue_.get();
  auto enqueue = [queue](const std::string& key) { queue->Add(key); };
  cluster_lock_.SetWaker(enqueue);  // lock waiters are queued as soon as the lock is free

  KubeControllerOptions kube_options;
  kube_options.kube = options_.kube;
  kube_options.identity =
      options_.kube.identity.empty() ? DefaultIdentity() : options_.kube.identity;
  kube_options.lease_namespace = options_.kube.leader_election_namespace.empty()
                                     ? DefaultLeaseNamespace()
                                     : options_.kube.leader_election_namespace;
  KubeControllerDeps kube_deps{*deps_.kube,
                               deps_.clock,
                               log,
                               desired_,
                               *journal_,
                               *status_,
                               &deps_.metrics,
                               enqueue,
                               [this] {
                                 if (resync_) resync_->Wake();  // a new database's first LIST
                               }};
  // spec.credentialRef: the real ArmClient (arm_stack.h) can also act as other principals; a
  // client that cannot (a test fake) makes such resources fail with CredentialUnavailable.
  kube_deps.arm = &PrepareEventGrid();
  kube_deps.principals = dynamic_cast<PrincipalClientFactory*>(&deps_.arm);
  if (options_.eventgrid.enabled()) {
    // The principals' writes are the daemon's own writes too.
    kube_deps.decorate_principal_client = [this](ArmClient& inner) -> std::unique_ptr<ArmClient> {
      return std::make_unique<OwnWriteRecordingArmClient>(inner, *own_writes_);
    };
  }
  kube_ = std::make_unique<KubeController>(std::move(kube_deps), std::move(kube_options));

  ReconcilerOptions reconciler_options;
  reconciler_options.adopt_all = options_.adopt;
  if (options_.resync_interval > absl::ZeroDuration()) {
    reconciler_options.default_resync = options_.resync_interval;
  }
  // Writes and confirming GETs as each resource's credential; LISTs as the daemon's identity.
  ReconcilerDeps reconciler_deps{deps_.clock,  log,           kube_->arm(), desired_,
                                 live_,        *journal_,     *status_,     cluster_lock_,
                                 prune_guard_, &deps_.metrics};
  reconciler_deps.observer = kube_.get();
  reconciler_ = std::make_unique<Reconciler>(reconciler_deps, reconciler_options);

  ResyncOptions resync_options;
  resync_options.interval = options_.resync_interval;
  resync_ =
      std::make_unique<ResyncLoop>(ResyncDeps{deps_.clock, log, deps_.arm, live_, desired_,
                                              *journal_, &deps_.metrics, enqueue, status_.get()},
                                   resync_options);

  if (absl::Status st = StartHttp(); !st.ok()) {
    return st;
  }
  if (absl::Status st = StartEventGrid(); !st.ok()) {
    Stop();
    return st;
  }
  started_ = true;
  KubeLeaderCallbacks callbacks;
  callbacks.on_started_leading = [this] { StartWorkers(); };
  callbacks.on_stopped_leading = [this] {
    deps_.metrics.leader_election_master_status.Set(0);
    if (deps_.on_lost_leadership) {
      deps_.on_lost_leadership();
      return;
    }
    deps_.logger.Error("leader election lost; exiting so that no two replicas write",
                       {{"lease", kube_->lease_name()}});
    std::_Exit(1);
  };
  resync_->Start();
  kube_->Start(std::move(callbacks));
  log.Info("kustodian is running",
           {{"source", "kubernetes"},
            {"namespaces", options_.kube.watch_namespaces.empty()
                               ? std::string("(all)")
                               : absl::StrJoin(options_.kube.watch_namespaces, ",")},
            {"shard", absl::StrCat(options_.kube.shard_index, "/", options_.kube.shard_count)},
            {"leader_elect", options_.kube.leader_elect ? "true" : "false"},
            {"lease", kube_->lease_name()},
            {"workers", std::to_string(options_.workers)},
            {"metrics_bind_address", options_.metrics_bind_address}});
  return absl::OkStatus();
}

void Manager::StartWorkers() {
  if (workers_started_.exchange(true)) {
    return;
  }
  if (options_.kube.leader_elect) {
    // A new leader's LISTs may predate the old leader's last writes: read again before acting,
    // so it does not repeat them.
    for (const DatabaseId& db : desired_.Databases()) {
      if (absl::Status st = live_.Refresh(db, deps_.arm); !st.ok()) {
        for (const std::string& key : desired_.ForDatabase(db.Key())) {
          reconciler_->RequestConfirm(key);
        }
      }
    }
  }
  deps_.logger.Info("starting reconcile workers", {{"workers", std::to_string(options_.workers)}});
  for (int i = 0; i < options_.workers; ++i) {
    workers_.emplace_back([this] { Worker(); });
  }
}

void Manager::ProcessKubeRef(const std::string& ref) {
  ReconcileResult result = kube_->SyncObject(ref);
  if (result.outcome == ReconcileResult::kRetryableError) {
    queue_->AddRateLimited(ref);
  } else {
    queue_->Forget(ref);
  }
}

}  // namespace kustodian
