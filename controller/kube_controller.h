// KubeController: the Kubernetes side of `kustodian run --source=kubernetes`. It owns the
// KubeSource (resources -> DesiredStore), writes every resource's status through the status
// subresource (kstatus conditions), adds and removes the finalizer kustodian.io/finalizer,
// records Events, and runs leader election. It plugs into the reconciler as its
// ReconcileObserver (BeforeOwn adds the finalizer before the first create PUT, AllowRemoval
// holds deletes of targets still claimed, OnEvent records Events) and into the Manager's workers
// (SyncObject for resource refs, AfterReconcile for connection keys).
//
// Status mapping (status.* of a DataConnection):
//   observedGeneration   the metadata.generation the status describes
//   phase                the reconciler's phase (Ready, Creating, Stalled, ...)
//   conditions           Ready, Reconciling, Stalled (type, status, reason, message,
//                        lastTransitionTime, observedGeneration), the kstatus way
//   armId, provisioningState, lastSyncTime, lastError (never secrets)
// A failure to use spec.credentialRef (Secret missing, a key missing or empty, no RBAC to read
// it, refused by Entra ID) keeps the reconciler's Error phase (Ready=False, Reconciling=True,
// Stalled=False: retried with backoff) with the condition reason CredentialNotFound,
// CredentialInvalid, CredentialForbidden, CredentialRejected or CredentialUnavailable.
// An invalid spec is Stalled=True reason InvalidSpec with the field paths in the message, at
// the resource's generation, without touching the last good desired state. A status is written
// only when it differs from the resource's current status apart from lastSyncTime and
// lastTransitionTime of unchanged conditions; a 409 re-reads the resource and retries.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controller/connection_status.h"
#include "controller/credential_arm_client.h"
#include "controller/credential_ref.h"
#include "controller/desired_store.h"
#include "controller/kube_source.h"
#include "controller/options.h"
#include "controller/ownership_journal.h"
#include "controller/reconciler.h"
#include "controller/status_store.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/kube/event_recorder.h"
#include "src/kube/kube_client.h"
#include "src/kube/leader_election.h"

namespace kustodian {

struct KustodianMetrics;

struct KubeControllerDeps {
  kube::KubeClient& client;
  Clock& clock;
  Logger& logger;
  DesiredStore& desired;
  OwnershipJournal& journal;
  StatusStore& status;
  KustodianMetrics* metrics = nullptr;                  // leader_election_master_status
  std::function<void(const std::string& key)> enqueue;  // the work queue's Add
  std::function<void()> on_desired_changed;             // optional: wake the resync loop
  // spec.credentialRef: the daemon's ArmClient the reconciler writes through (null = arm()
  // is unavailable), the factory of clients for other principals (null = credentialRef fails
  // with CredentialUnavailable) and an optional decorator of those clients.
  ArmClient* arm = nullptr;
  PrincipalClientFactory* principals = nullptr;
  std::function<std::unique_ptr<ArmClient>(ArmClient& inner)> decorate_principal_client = nullptr;
};

struct KubeControllerOptions {
  KubeOptions kube;
  std::string identity;         // resolved (never "")
  std::string lease_namespace;  // resolved (never "")
  absl::Duration watch_timeout = absl::Minutes(5);
  absl::Duration min_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(30);
  CredentialRefsOptions credentials;
};

struct KubeLeaderCallbacks {
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
};

// The identity used when --identity is empty: the host name plus a random suffix.
std::string DefaultIdentity();
// The Lease namespace when --leader-election-namespace is empty: the in-cluster namespace
// (service account namespace file) when present, else "kustodian-system".
std::string DefaultLeaseNamespace(
    const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// The CR status for a connection status (see the file comment); `generation` is used when the
// status carries none (a resource being deleted).
nlohmann::json KubeStatusJson(const ConnectionStatus& status, int64_t generation);
// A Stalled status for a problem only a spec change cures.
nlohmann::json KubeStalledStatus(const std::string& reason, const std::string& message,
                                 int64_t generation, absl::Time now);
// `desired` with the lastTransitionTime of each condition whose status is the same in
// `current` taken from `current`.
nlohmann::json KeepTransitionTimes(nlohmann::json desired, const nlohmann::json& current);
// True when two statuses differ only in lastSyncTime.
bool SameKubeStatus(const nlohmann::json& a, const nlohmann::json& b);

class KubeController final : public ReconcileObserver {
 public:
  KubeController(KubeControllerDeps deps, KubeControllerOptions options);
  ~KubeController() override;  // Stop()s
  KubeController(const KubeController&) = delete;
  KubeController& operator=(const KubeController&) = delete;

  // Starts the reflectors; with leader election also the elector (callbacks from its thread),
  // else `callbacks.on_started_leading` is called at once.
  void Start(KubeLeaderCallbacks callbacks);
  // Stops the elector (a leader releases its Lease) and the reflectors. Idempotent.
  void Stop();
  // Every reflector delivered its first list.
  bool Synced() const { return source_.Synced(); }
  // True while this replica may write (always without leader election, once started).
  bool Leading() const { return leading_.load(); }
  const std::string& lease_name() const { return lease_name_; }
  KubeSource& source() { return source_; }
  // The ArmClient for the reconciler: each connection's calls go out as its resource's
  // spec.credentialRef principal, or as deps.arm (see credential_arm_client.h). Requires
  // deps.arm.
  ArmClient& arm() { return *arm_; }
  CredentialRefs& credentials() { return credentials_; }

  // A work-queue item for a resource ("k8s:<ns>/<name>"): writes its status, removes the
  // finalizer once nothing it owns remains in Azure. kDone, or kRetryableError on API errors.
  ReconcileResult SyncObject(const std::string& ref);
  // After the reconciler ran for connection `key`: SyncObject for each resource of `key`.
  // Returns the refs whose sync failed (to be retried with backoff).
  std::vector<std::string> AfterReconcile(const std::string& key);

  // --- ReconcileObserver ---
  absl::Status BeforeOwn(const std::string& key) override;
  bool AllowRemoval(const std::string& key) override;
  std::optional<DeletionPolicy> DeletionPolicyAtRemoval(const std::string& key) override;
  void OnEvent(const std::string& key, ReconcileEvent event, std::string_view message) override;

 private:
  // The status the resource should have now, or nullopt when there is nothing (new) to say.
  std::optional<nlohmann::json> DesiredStatus(const KubeObjectState& state) const;
  absl::Status WriteStatus(nlohmann::json object, const nlohmann::json& status);
  // Adds (`add`) or removes our finalizer with a resourceVersion precondition; a 409 re-reads.
  absl::Status SetFinalizer(nlohmann::json object, bool add);
  void SetLeading(bool leading);

  KubeControllerDeps deps_;
  const KubeControllerOptions options_;
  const std::string lease_name_;
  KubeSource source_;
  kube::EventRecorder recorder_;
  CredentialRefs credentials_;
  std::unique_ptr<CredentialRefArmClient> arm_;  // null without deps.arm
  std::unique_ptr<kube::LeaderElector> elector_;
  std::atomic<bool> leading_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace kustodian
