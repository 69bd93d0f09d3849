#include "controller/manager.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/core/status.h"

namespace kustodian {

Manager::Manager(DaemonOptions options, ManagerDeps deps)
    : options_(std::move(options)),
      deps_(deps),
      live_(deps.clock),
      // Kubernetes mode deletes only what a deleted resource asks for: no per-pass budget.
      prune_guard_(options_.source == SourceKind::kKubernetes ? -1
                                                              : options_.max_deletes_per_pass) {}

Manager::~Manager() { Stop(); }

absl::Status Manager::Start() {
  if (options_.source == SourceKind::kKubernetes) {
    return StartKubernetes();
  }
  Logger& log = deps_.logger;
  KUS_ASSIGN_OR_RETURN(state_lock_, StateLock::Acquire(options_.state_dir));
  KUS_ASSIGN_OR_RETURN(journal_, OwnershipJournal::Open(options_.state_dir));
  for (const std::string& warning : journal_->load_warnings()) {
    log.Warn("ownership journal repaired", {{"detail", warning}});
  }
  status_ = std::make_unique<StatusStore>(log, EffectiveStatusDir(options_));
  if (absl::Status st = status_->RemoveUnknownFiles(); !st.ok()) {
    log.Warn("cannot clean the status directory", {{"error", std::string(st.message())}});
  }
  deps_.metrics.max_concurrent_reconciles.Set(options_.workers);
  queue_ = std::make_unique<WorkQueue>(deps_.clock, DefaultControllerRateLimiter(deps_.clock),
                                       WorkQueueMetrics::From(deps_.metrics));
  // A key waiting for its cluster's write lock is queued as soon as the lock is free.
  cluster_lock_.SetWaker([queue = queue_.get()](const std::string& key) { queue->Add(key); });
  ReconcilerOptions reconciler_options;
  reconciler_options.adopt_all = options_.adopt;
  if (options_.resync_interval > absl::ZeroDuration()) {
    reconciler_options.default_resync = options_.resync_interval;
  }
  reconciler_ = std::make_unique<Reconciler>(
      ReconcilerDeps{deps_.clock, log, PrepareEventGrid(), desired_, live_, *journal_, *status_,
                     cluster_lock_, prune_guard_, &deps_.metrics},
      reconciler_options);

  WorkQueue* queue = queue_.get();
  auto enqueue = [queue](const std::string& key) { queue->Add(key); };
  source_ = std::make_unique<DirectorySource>(
      options_.config_dir,
      DirectorySourceDeps{desired_, log, &prune_guard_, status_.get(), &deps_.metrics, enqueue});
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

  // Watch first, then scan: a change made during the first pass triggers another pass.
  DirWatcherOptions watch_options;
  watch_options.debounce = options_.debounce;
  watch_options.rescan_interval = options_.rescan_interval;
  DirectorySource* source = source_.get();
  ResyncLoop* resync = resync_.get();
  watch_options.classify = [source](const std::string& path) { return source->Classify(path); };
  watcher_ = std::make_unique<DirWatcher>(
      options_.config_dir, watch_options, deps_.clock, log,
      [source, resync](ChangeReason) {
        source->Pass();
        resync->Wake();  // a new database gets its first LIST now
      },
      [source, resync](const std::vector<std::string>& files) {
        DirectoryPassResult r = source->PassFiles(files);
        if (!r.changed_keys.empty()) {
          resync->Wake();
        }
        return !r.deferred;
      });
  if (absl::Status st = watcher_->Start(); !st.ok()) {
    Stop();
    return st;
  }
  DirectoryPassResult first = source_->Pass();
  first_pass_done_ = true;
  ReleaseFreeMemory();  // the first pass parsed every manifest; most of that is garbage now
  log.Info("first directory pass done",
           {{"dir", options_.config_dir},
            {"files", std::to_string(first.files)},
            {"connections", std::to_string(first.manifests)},
            {"files_with_errors", std::to_string(first.files_with_errors)}});
  int listed = resync_->RunDue();
  log.Info("first resync done",
           {{"databases_listed", std::to_string(listed)},
            {"databases_unlisted", std::to_string(resync_->Unlisted().size())}});

  started_ = true;
  for (int i = 0; i < options_.workers; ++i) {
    workers_.emplace_back([this] { Worker(); });
  }
  resync_->Start();
  log.Info("kustodian is running", {{"config_dir", options_.config_dir},
                                    {"state_dir", options_.state_dir},
                                    {"status_dir", status_->status_dir()},
                                    {"workers", std::to_string(options_.workers)},
                                    {"metrics_bind_address", options_.metrics_bind_address}});
  return absl::OkStatus();
}

absl::Status Manager::StartHttp() {
  if (options_.metrics_bind_address == "0") {
    return absl::OkStatus();
  }
  KUS_ASSIGN_OR_RETURN(HostPort hp,
                       ParseBindAddress("--metrics-bind-address", options_.metrics_bind_address));
  http_ = std::make_unique<HttpServer>();
  http_->SetWorkerThreads(kHttpWorkerThreads);
  http_->Route("GET", "/metrics", [this](const ServerRequest& r) { return HandleMetrics(r); });
  http_->Route("GET", "/healthz", [this](const ServerRequest& r) { return HandleHealthz(r); });
  http_->Route("GET", "/readyz", [this](const ServerRequest& r) { return HandleReadyz(r); });
  http_->Route("GET", "/status", [this](const ServerRequest& r) { return HandleStatus(r); });
  absl::StatusOr<int> port = http_->Start(hp.host, hp.port);
  if (!port.ok()) {
    http_.reset();
    return absl::UnavailableError(
        absl::StrCat("--metrics-bind-address: cannot listen on ", options_.metrics_bind_address,
                     ": ", std::string(port.status().message()),
                     "; choose a free port (or 0 to let the system pick one)"));
  }
  http_port_ = *port;
  deps_.logger.Info("serving /metrics, /healthz, /readyz and /status",
                    LogFields{{"address", absl::StrCat(hp.host, ":", http_port_)}});
  return absl::OkStatus();
}

void Manager::Stop() {
  if (kube_) {
    kube_->Stop();  // first: no more workers start, a leader releases its Lease
  }
  if (eventgrid_) {
    eventgrid_->Stop();
  }
  if (watcher_) {
    watcher_->Stop();
  }
  if (resync_) {
    resync_->Stop();
  }
  if (queue_) {
    queue_->ShutDown();
  }
  for (std::thread& t : workers_) {
    t.join();
  }
  workers_.clear();
  if (journal_) {
    // Folds the log into the snapshot (flushing what is pending): the next start reads one file.
    if (absl::Status st = journal_->Compact(); !st.ok()) {
      deps_.logger.Error("cannot write the ownership journal",
                         {{"path", journal_->path()}, {"error", std::string(st.message())}});
    }
  }
  if (http_) {
    http_->Stop();
    http_.reset();
  }
  if (started_.exchange(false)) {
    deps_.logger.Info("kustodian stopped");
  }
}

bool Manager::Ready() const {
  if (kube_) {
    return kube_->Synced() && resync_ != nullptr && resync_->AllListed();
  }
  return first_pass_done_ && resync_ != nullptr && resync_->AllListed();
}

void Manager::Worker() {
  std::string key;
  while (queue_->Get(&key)) {
    ProcessOne(key);
    queue_->Done(key);
    if (queue_->Len() == 0) {
      MaybeReleaseFreeMemory();
    }
  }
}

void Manager::MaybeReleaseFreeMemory() {
  const absl::Time now = deps_.clock.Now();
  {
    std::lock_guard<std::mutex> lock(trim_mu_);
    if (now < next_trim_) {
      return;
    }
    next_trim_ = now + kTrimInterval;
  }
  ReleaseFreeMemory();
}

void Manager::ReleaseFreeMemory() {
#ifdef __GLIBC__
  // Returns the pages of freed chunks (in every arena) to the kernel: a burst of work (the
  // first pass, a convergence, a resync round) leaves most of its memory free but resident.
  malloc_trim(0);
#endif
}

void Manager::ProcessOne(const std::string& key) {
  if (kube_ && KubeSource::IsRef(key)) {
    ProcessKubeRef(key);
    return;
  }
  KustodianMetrics& m = deps_.metrics;
  m.active_workers.Inc();
  const absl::Time start = deps_.clock.Now();
  ReconcileResult result = reconciler_->Reconcile(key);
  m.reconcile_time.Observe(absl::ToDoubleSeconds(deps_.clock.Now() - start));
  m.active_workers.Dec();
  switch (result.outcome) {
    case ReconcileResult::kDone:
      // The resync loop brings the key back; the resync hint is not needed here.
      queue_->Forget(key);
      m.ReconcileResult(kResultSuccess).Inc();
      break;
    case ReconcileResult::kRequeueAfter:
      queue_->Forget(key);
      queue_->AddAfter(key, result.requeue_after);
      m.ReconcileResult(kResultRequeueAfter).Inc();
      break;
    case ReconcileResult::kRetryableError:
      m.ReconcileResult(kResultError).Inc();
      m.reconcile_errors.Inc();
      if (result.requeue_after > absl::ZeroDuration()) {
        queue_->AddAfter(key, result.requeue_after);
      } else {
        queue_->AddRateLimited(key);
      }
      deps_.logger.Warn("reconcile failed; will retry",
                        {{"key", key},
                         {"error", std::string(result.error.message())},
                         {"requeues", std::to_string(queue_->NumRequeues(key))}});
      break;
    case ReconcileResult::kTerminalError:
      // Not retried: a manifest change (or the next resync) brings the key back.
      queue_->Forget(key);
      m.ReconcileResult(kResultError).Inc();
      m.reconcile_errors.Inc();
      deps_.logger.Error("reconcile failed; fix the manifest",
                         {{"key", key}, {"error", std::string(result.error.message())}});
      break;
  }
  if (kube_) {
    for (const std::string& ref : kube_->AfterReconcile(key)) {
      queue_->AddRateLimited(ref);  // the resource's status or finalizer write failed
    }
  }
  FlushJournal();
}

void Manager::FlushJournal() {
  if (!journal_->Dirty()) {
    return;
  }
  if (absl::Status st = journal_->Flush(); !st.ok()) {
    deps_.logger.Error("cannot write the ownership journal; will retry",
                       {{"path", journal_->path()}, {"error", std::string(st.message())}});
  }
}

void LimitMallocArenas() {
#ifdef __GLIBC__
  // glibc gives threads up to 8 x cores malloc arenas; each keeps its own free memory, which
  // more than doubled the RSS of 10,000 connections (392 MiB vs 190 MiB with 2 arenas). One
  // arena saves another 5 MiB of peak RSS at 10,000 connections (bench: 107 -> 102 MiB) with
  // the same cold-convergence time (16.1 s both): the daemon's threads mostly wait on the
  // network, so they hardly ever contend for the arena's lock.
  // MALLOC_ARENA_MAX in the environment still wins (mallopt is skipped when it is set).
  if (getenv("MALLOC_ARENA_MAX") == nullptr) {
    mallopt(M_ARENA_MAX, kMallocArenas);
  }
#endif
}

int RunDaemon(const DaemonOptions& options, ManagerDeps deps) {
  LimitMallocArenas();
  // Block the stop signals in this thread before any other starts, so every thread inherits the
  // mask and sigwait below is the only place they arrive.
  // A shell without job control starts background jobs with SIGINT ignored; an ignored signal
  // never reaches sigwait, so restore the default disposition first.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A client hanging up on the HTTP endpoint must not kill the process.
  signal(SIGPIPE, SIG_IGN);

  Manager manager(options, deps);
  if (absl::Status st = manager.Start(); !st.ok()) {
    deps.logger.Error("cannot start", {{"error", std::string(st.message())}});
    manager.Stop();
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  // A second signal while stopping kills the process the default way.
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  deps.logger.Info("stopping", {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
  manager.Stop();
  return 0;
}

}  // namespace kustodian
