// The controller's work queue of keys, with client-go's semantics: a dirty set and a
// processing set so a key is never handed to two workers at once and repeated adds collapse;
// delayed adds ordered by ready time on the injected Clock; rate-limited requeues; and the
// client-go workqueue_* metrics.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "absl/time/time.h"
#include "controller/rate_limiter.h"
#include "src/core/clock.h"
#include "src/metrics/metric.h"

namespace kustodian {

struct KustodianMetrics;

// Optional metric hooks; any pointer may be null. Updated as client-go does: adds/depth on an
// accepted Add, queue_duration on Get, work_duration on Done, retries on every AddAfter (and so
// every AddRateLimited), unfinished_work/longest_running on Tick and while Get waits.
struct WorkQueueMetrics {
  Gauge* depth = nullptr;
  Counter* adds = nullptr;
  Counter* retries = nullptr;
  Histogram* queue_duration = nullptr;
  Histogram* work_duration = nullptr;
  Gauge* unfinished_work = nullptr;
  Gauge* longest_running_processor = nullptr;

  // The workqueue_*{name="dataconnection"} series of `metrics`.
  static WorkQueueMetrics From(KustodianMetrics& metrics);
};

// Thread-safe. Typical worker loop:
//   std::string key;
//   while (queue.Get(&key)) { ...; error ? queue.AddRateLimited(key) : queue.Forget(key);
//                             queue.Done(key); }
//
// Delayed items move to the queue when their ready time passes on the Clock. Nobody is told
// when a FakeClock advances, so that move happens in Tick(): Get calls it each time it wakes,
// and while keys are delayed (or in flight, when the unfinished-work gauges are wired) it waits
// at most kPollInterval of real time per round, less when the Clock says the first delayed key
// is due sooner; otherwise it waits until notified. Tests call Tick() right after
// FakeClock::Advance; the manager may call it from a timer to refresh the gauges.
class WorkQueue {
 public:
  static constexpr absl::Duration kPollInterval = absl::Milliseconds(10);

  // `rate_limiter` null means DefaultControllerRateLimiter(clock). `clock` must outlive the
  // queue, as must the metrics the pointers refer to.
  WorkQueue(const Clock& clock, std::unique_ptr<WorkQueueRateLimiter> rate_limiter,
            WorkQueueMetrics metrics = {});
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` unless it is already waiting in the queue (collapse). If it is being
  // processed it is marked dirty and queued again on Done. Ignored after ShutDown.
  void Add(const std::string& key);
  // Adds `key` once `delay` has passed (at once if delay <= 0). If `key` is already delayed,
  // the earlier ready time wins. Ignored after ShutDown.
  void AddAfter(const std::string& key, absl::Duration delay);
  // AddAfter(key, rate_limiter.When(key)).
  void AddRateLimited(const std::string& key);
  // Resets the rate limiter's backoff for `key` (call after a successful reconcile).
  void Forget(const std::string& key);
  // Requeues of `key` recorded by the rate limiter since its last Forget.
  int NumRequeues(const std::string& key);

  // Blocks until a key is available, then stores it in `*key`, marks it processing and returns
  // true. Returns false once the queue is shut down and holds no ready key (keys queued before
  // ShutDown are still handed out, as in client-go; delayed keys are dropped).
  bool Get(std::string* key);
  // Marks `key` no longer processing; re-queues it if it was added meanwhile. Call exactly once
  // per successful Get. A key that is not being processed is ignored.
  void Done(const std::string& key);

  // Keys ready to be handed out (not counting delayed or processing keys).
  int Len() const;
  // Keys waiting for their delay to pass.
  int NumDelayed() const;

  // Stops accepting keys and wakes every Get; idempotent.
  void ShutDown();
  // ShutDown, then blocks until no key is being processed (or until ShutDown is called).
  void ShutDownWithDrain();
  bool ShuttingDown() const;

  // Moves delayed keys whose time has come into the queue and refreshes the unfinished-work
  // gauges.
  void Tick();

 private:
  // Each requires mu_.
  void AddLocked(const std::string& key, absl::Time now);
  void MoveDueLocked(absl::Time now);
  void UpdateUnfinishedLocked(absl::Time now);
  // Real time Get may wait before looking again: at most kPollInterval while keys are delayed
  // (or processing, when the unfinished-work gauges are wired), else InfiniteDuration (until
  // notified).
  absl::Duration WaitBudgetLocked(absl::Time now) const;

  const Clock& clock_;
  const std::unique_ptr<WorkQueueRateLimiter> rate_limiter_;
  const WorkQueueMetrics metrics_;

  mutable std::mutex mu_;
  std::condition_variable ready_cv_;  // a key was queued, or shutdown
  std::condition_variable drain_cv_;  // processing_ became empty, or ShutDown
  // Each key is held once: the queue and the delayed order point at the keys of dirty_ and
  // delayed_index_ (whose nodes never move). At the first pass over 10,000 manifests, three
  // copies of every ~170-byte key cost about 4 MiB.
  // guarded by mu_; need processing -> first add time (for queue_duration)
  std::unordered_map<std::string, absl::Time> dirty_;
  // guarded by mu_; ready keys, FIFO; each one a key of dirty_ (queued keys are dirty)
  std::deque<const std::string*> queue_;
  std::unordered_set<std::string> processing_;  // guarded by mu_; handed out, not Done
  // Delayed keys with their (ready time, insertion number); delayed_ orders them, pointing at
  // delayed_index_'s keys.
  std::unordered_map<std::string, std::pair<absl::Time, uint64_t>> delayed_index_;  // mu_
  std::set<std::tuple<absl::Time, uint64_t, const std::string*>> delayed_;  // guarded by mu_
  uint64_t next_delay_seq_ = 0;                                             // guarded by mu_
  std::unordered_map<std::string, absl::Time> start_times_;  // guarded by mu_; for metrics
  bool shutting_down_ = false;                               // guarded by mu_
  bool draining_ = false;                                    // guarded by mu_
};

}  // namespace kustodian
