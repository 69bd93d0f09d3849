// ResyncLoop: keeps the LiveCache fresh with ONE LIST per database per resync interval (never a
// GET per connection) and then enqueues every desired or managed key of that database that may
// need a reconcile, so drift made behind kustodian's back is corrected within one interval. A
// desired key whose live entry the LIST left unchanged and which the reconciler last found in
// sync with the same spec (LiveCache::InSyncWith) is not enqueued: the LIST was its drift check;
// its status only gets the LIST's time as lastSyncTime. The interval of a database is
// --resync-interval, shortened by the smallest spec.policy.resyncInterval of its connections,
// with +-10% jitter so databases do not LIST in lockstep.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "controller/desired_store.h"
#include "controller/live_cache.h"
#include "controller/ownership_journal.h"
#include "controller/status_store.h"
#include "src/arm/arm_client.h"
#include "src/core/clock.h"
#include "src/core/logging.h"

namespace kustodian {

struct KustodianMetrics;

struct ResyncOptions {
  // The longest interval between two LISTs of a database; 0 disables periodic resync (each
  // database is then listed once, when first seen).
  absl::Duration interval = absl::Minutes(5);
  double jitter = 0.1;  // each interval is scaled by a random factor in [1 - j, 1 + j]
  // Wait after a failed LIST when ARM sent no Retry-After (doubles per failure, capped at the
  // interval or 5 minutes when periodic resync is off).
  absl::Duration error_backoff = absl::Seconds(5);
  // Longest real-time wait of the loop thread between looks at the Clock.
  absl::Duration max_wait = absl::Seconds(1);
};

// What the loop works with; every reference must outlive it.
struct ResyncDeps {
  Clock& clock;
  Logger& logger;
  ArmClient& arm;
  LiveCache& live;
  DesiredStore& desired;
  OwnershipJournal& journal;
  KustodianMetrics* metrics = nullptr;  // kustodian_last_resync_timestamp_seconds when set
  std::function<void(const std::string& key)> enqueue;
  // Optional: the lastSyncTime of keys a LIST confirmed in sync (not enqueued) moves to the
  // LIST's time here. Without it they keep the time of their last reconcile.
  StatusStore* status = nullptr;
};

// Thread-safe.
class ResyncLoop {
 public:
  ResyncLoop(ResyncDeps deps, ResyncOptions options);
  ~ResyncLoop();  // Stop()s
  ResyncLoop(const ResyncLoop&) = delete;
  ResyncLoop& operator=(const ResyncLoop&) = delete;

  // LISTs every known database (desired or managed) whose resync is due on the Clock — a
  // database never listed is due at once — and enqueues its desired and managed keys after a
  // successful LIST, except those the LIST confirmed in sync. Returns the number of successful
  // LISTs. A failed LIST is logged and
  // retried after a backoff.
  int RunDue();

  // Runs RunDue on a background thread until Stop. Wake() makes it look again at once (e.g.
  // after a directory pass added a database).
  void Start();
  void Wake();
  void Stop();
  // Makes every known database whose key is `scope` or lies under it (a cluster key) due now,
  // then Wake()s (an Event Grid event for a database or cluster). Returns how many matched.
  int ListSoon(const std::string& scope);

  // True when every known database has been listed successfully at least once (readiness).
  bool AllListed() const;
  // Databases (keys) known but never listed successfully, sorted.
  std::vector<std::string> Unlisted() const;
  // The resync interval of database `db_key` as configured now (before jitter); 0 = off.
  absl::Duration IntervalFor(const std::string& db_key) const;

 private:
  struct Schedule {
    absl::Time next_due;
    int failures = 0;
  };
  // db key -> id of every database with a desired or managed connection.
  std::map<std::string, DatabaseId> KnownDatabases() const;
  // Desired and managed keys of `db_key`, sorted and unique.
  std::vector<std::string> KeysOf(const std::string& db_key) const;
  absl::Duration Jittered(absl::Duration d);
  // After a successful LIST of `db`: enqueues its keys that may need a reconcile; the others'
  // statuses get the LIST's time as lastSyncTime.
  void EnqueueUnconfirmed(const std::string& db_key, const DatabaseId& db,
                          const LiveCache::RefreshResult& refreshed);
  void Loop();

  ResyncDeps deps_;
  const ResyncOptions options_;

  mutable std::mutex mu_;
  std::map<std::string, Schedule> schedule_;  // guarded by mu_
  absl::BitGen rng_;                          // guarded by mu_
  std::mutex run_mu_;                         // serializes RunDue
  std::condition_variable wake_cv_;
  bool wake_ = false;      // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace kustodian
