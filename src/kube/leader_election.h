// LeaderElector: leader election over a coordination.k8s.io/v1 Lease, with client-go's
// semantics. A candidate acquires the Lease when it is free or its holder has not renewed
// within leaseDurationSeconds (by the candidate's own clock since it last saw the record
// change); the leader renews every retry_period and gives up leadership when it could not renew
// for renew_deadline. Writes use the Lease's resourceVersion, so two candidates never both win.
// On Stop() a leader releases the Lease (holderIdentity cleared) so a standby takes over at once.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/kube/kube_client.h"

namespace kustodian::kube {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name;  // e.g. "kustodian" or "kustodian-shard-1-of-3"
  std::string identity;    // unique per replica: pod name + random suffix
  absl::Duration lease_duration = absl::Seconds(15);
  absl::Duration renew_deadline = absl::Seconds(10);
  absl::Duration retry_period = absl::Seconds(2);
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;  // called from the elector thread
  std::function<void()> on_stopped_leading;  // lost the lease or Stop() while leading
  std::function<void(const std::string& identity)> on_new_leader;  // optional
};

class LeaderElector {
 public:
  LeaderElector(KubeClient& client, Clock& clock, Logger& logger, LeaderElectionConfig config,
                LeaderCallbacks callbacks);
  ~LeaderElector();  // Stop()s
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Starts the election thread. After losing the lease (renew deadline passed) the elector
  // calls on_stopped_leading and becomes a candidate again. Callbacks run on the elector thread
  // and must return promptly (renewals wait for them).
  void Start();
  // Stops trying; a leader releases the Lease (holderIdentity "", leaseDurationSeconds 1) and
  // then gets on_stopped_leading. Idempotent; blocks until the thread has ended.
  void Stop();
  bool IsLeader() const { return leader_.load(); }
  std::string CurrentHolder() const;

 private:
  void Run();
  // One client-go tryAcquireOrRenew round: true when the lease is ours after it.
  bool TryAcquireOrRenew();
  // Clears holderIdentity when we still hold the lease.
  void Release();
  // Records the holder seen; calls on_new_leader when it changed to someone.
  void ObserveHolder(const std::string& holder);
  std::string LeaseKey() const;

  KubeClient& client_;
  Clock& clock_;
  Logger& logger_;
  const LeaderElectionConfig config_;
  LeaderCallbacks callbacks_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> leader_{false};
  mutable std::mutex mu_;
  std::string holder_;  // guarded by mu_
  // The last lease spec seen and when (by our clock) it was seen to change; elector thread only.
  nlohmann::json observed_spec_;
  absl::Time observed_time_ = absl::InfinitePast();
};

}  // namespace kustodian::kube
