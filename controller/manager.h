// Manager: one standalone daemon put together. It owns the work queue, the stores, the
// reconciler, the directory source with its watcher, the resync loop, the reconcile workers and
// the HTTP endpoint (/metrics, /healthz, /readyz, /status, /status/{key}), starts them in an
// order that loses no change, and stops them cleanly. The ArmClient, Clock, Logger and metrics
// come from the composition root (controller/main.cc via the CLI).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "controller/cluster_lock.h"
#include "controller/desired_store.h"
#include "controller/dir_watcher.h"
#include "controller/directory_source.h"
#include "controller/eventgrid_receiver.h"
#include "controller/kube_controller.h"
#include "controller/live_cache.h"
#include "controller/options.h"
#include "controller/ownership_journal.h"
#include "controller/prune_guard.h"
#include "controller/reconciler.h"
#include "controller/resync.h"
#include "controller/state_lock.h"
#include "controller/status_store.h"
#include "controller/work_queue.h"
#include "src/arm/arm_client.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/http/server.h"
#include "src/metrics/kustodian_metrics.h"
#include "src/metrics/registry.h"

namespace kustodian {

// malloc arenas of the daemon process (see LimitMallocArenas).
inline constexpr int kMallocArenas = 1;
// Threads serving /metrics, /healthz, /readyz and /status (a scraper and two probes at a time;
// each idle thread is a stack and, once it allocated, a share of an arena).
inline constexpr size_t kHttpWorkerThreads = 4;
// Freed memory goes back to the kernel at most this often, when the work queue runs empty.
inline constexpr absl::Duration kTrimInterval = absl::Seconds(30);

// What the manager is given; every reference must outlive it.
struct ManagerDeps {
  Clock& clock;
  Logger& logger;
  ArmClient& arm;
  Registry& registry;
  KustodianMetrics& metrics;
  // --source=kubernetes: the API server client (required in that mode).
  kube::KubeClient* kube = nullptr;
  // Called (from the elector thread) when this replica loses leadership; null = log and exit
  // the process at once with status 1, as controller-runtime does.
  std::function<void()> on_lost_leadership = nullptr;
};

// Start() and Stop() from one thread; the accessors and HTTP handlers are thread-safe.
class Manager {
 public:
  // `options` must have passed ValidateDaemonOptions.
  Manager(DaemonOptions options, ManagerDeps deps);
  ~Manager();  // Stop()s
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Takes the state-directory lock, opens the ownership journal, binds the HTTP endpoint,
  // starts watching --config-dir, runs the first directory pass and the first LIST of every
  // known database, then starts the workers and the resync loop. Returns OK; FailedPrecondition
  // when another daemon holds the state directory; DataLoss when the journal is corrupt;
  // Unavailable when the endpoint cannot bind; NotFound/Internal when the config directory
  // cannot be watched. On error everything started so far is stopped again.
  absl::Status Start();
  // Stops watching and resyncing, shuts the queue down, lets workers finish the reconcile in
  // progress, flushes the journal and stops the HTTP endpoint. Idempotent.
  void Stop();

  // True after the first directory pass and once every known database has been listed.
  bool Ready() const;
  // The bound HTTP port (0 when the endpoint is disabled or not started).
  int http_port() const { return http_port_; }

  // The HTTP handlers (public for tests).
  ServerResponse HandleMetrics(const ServerRequest& request);
  ServerResponse HandleHealthz(const ServerRequest& request) const;
  ServerResponse HandleReadyz(const ServerRequest& request) const;
  ServerResponse HandleStatus(const ServerRequest& request) const;

  // Recomputes kustodian_managed_connections{kind,state} and kustodian_pending_deletes from
  // the status store and prune guard (done before every scrape).
  void UpdateGauges();

  // The parts, for tests and the CLI.
  DesiredStore& desired() { return desired_; }
  StatusStore& status() { return *status_; }
  WorkQueue& queue() { return *queue_; }
  OwnershipJournal* journal() { return journal_.get(); }
  // The Kubernetes side (--source=kubernetes), else nullptr.
  KubeController* kube() { return kube_.get(); }
  // The bound Event Grid webhook port (0 when --eventgrid-bind-address is off or not started).
  int eventgrid_port() const { return eventgrid_ ? eventgrid_->port() : 0; }

 private:
  void Worker();
  void ProcessOne(const std::string& key);
  // malloc_trim: gives freed heap pages back to the kernel. The Maybe variant does it at most
  // once per kTrimInterval (called by a worker that found the queue empty).
  void ReleaseFreeMemory();
  void MaybeReleaseFreeMemory();
  void FlushJournal();
  absl::Status StartHttp();
  // manager_kube.cc: Start() of --source=kubernetes, its workers and resource work items.
  absl::Status StartKubernetes();
  void StartWorkers();
  void ProcessKubeRef(const std::string& ref);
  // eventgrid_wiring.cc: with --eventgrid-bind-address, the ArmClient the reconciler writes
  // through (recording our correlation ids) and the webhook; otherwise deps_.arm and no-op.
  ArmClient& PrepareEventGrid();
  absl::Status StartEventGrid();

  const DaemonOptions options_;
  ManagerDeps deps_;

  std::unique_ptr<StateLock> state_lock_;
  std::unique_ptr<OwnershipJournal> journal_;
  std::unique_ptr<StatusStore> status_;
  std::unique_ptr<WorkQueue> queue_;
  DesiredStore desired_;
  LiveCache live_;
  ClusterLock cluster_lock_;
  PruneGuard prune_guard_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<DirectorySource> source_;
  std::unique_ptr<ResyncLoop> resync_;
  std::unique_ptr<DirWatcher> watcher_;
  std::unique_ptr<HttpServer> http_;
  std::vector<std::thread> workers_;
  std::atomic<bool> started_{false};
  std::atomic<bool> first_pass_done_{false};
  int http_port_ = 0;
  std::unique_ptr<KubeController> kube_;  // --source=kubernetes
  std::atomic<bool> workers_started_{false};
  std::mutex trim_mu_;
  absl::Time next_trim_ = absl::InfinitePast();  // guarded by trim_mu_
  // Event Grid (declared last: destroyed first).
  std::unique_ptr<OwnWrites> own_writes_;
  std::unique_ptr<OwnWriteRecordingArmClient> recording_arm_;
  std::unique_ptr<EventGridReceiver> eventgrid_;
};

// Runs `kustodian run`: validates nothing (the CLI did), blocks SIGINT and SIGTERM, starts a
// Manager and waits for one of those signals, then stops it. Returns the process exit code: 0
// after a clean stop, 1 when startup failed (the reason is logged).
int RunDaemon(const DaemonOptions& options, ManagerDeps deps);

// Caps glibc's malloc arenas at kMallocArenas for this process unless MALLOC_ARENA_MAX is set.
// Call before starting threads (RunDaemon does).
void LimitMallocArenas();

}  // namespace kustodian
