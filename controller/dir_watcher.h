// DirWatcher: tells its owner "something under this directory changed" so the owner rescans.
// Recursive inotify (a watch on every subdirectory, added as directories appear), debounced to
// one callback per burst of events, plus a periodic "rescan anyway" timer as a safety net for
// missed events. Follows the Kubernetes ConfigMap / git-sync pattern: a `..data` symlink swapped
// by rename, and a root that is itself a symlink re-pointed (the watches are rebuilt).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "src/core/clock.h"
#include "src/core/logging.h"

namespace kustodian {

struct DirWatcherOptions {
  // Quiet period: the callback fires once no event arrived for this long.
  absl::Duration debounce = absl::Milliseconds(200);
  // Upper bound on how long a continuous stream of events may delay the callback.
  absl::Duration max_delay = absl::Seconds(5);
  // Periodic full rescan (callback with kPeriodic); ZeroDuration() disables it.
  absl::Duration rescan_interval = absl::Seconds(60);
  // Longest the thread blocks in poll() before looking at the Clock again (bounds how late a
  // FakeClock advance is noticed; with the real clock deadlines are met exactly).
  absl::Duration max_poll_wait = absl::Milliseconds(500);
};

enum class ChangeReason {
  kEvents,    // inotify events arrived (debounced)
  kPeriodic,  // the rescan timer fired
  kOverflow,  // the kernel queue overflowed or the root was replaced: watches were rebuilt
};
std::string_view ChangeReasonName(ChangeReason reason);

// Thread-safe: Start/Stop may be called from any thread; the callback runs on the watcher's
// own thread, never concurrently with itself.
class DirWatcher {
 public:
  using Callback = std::function<void(ChangeReason reason)>;

  DirWatcher(std::string root, DirWatcherOptions options, Clock& clock, Logger& logger,
             Callback callback);
  ~DirWatcher();  // Stop()s
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  // Sets up the watches (the root must exist) and starts the thread. Returns OK; NotFound when
  // the root does not exist; Internal when inotify or the stop eventfd cannot be created;
  // FailedPrecondition when already started.
  absl::Status Start();
  // Stops the thread (waking it through the eventfd) and closes every descriptor. A callback in
  // progress finishes first. Idempotent.
  void Stop();

  // Number of inotify events read so far (for tests that must know an event was seen).
  uint64_t events_seen() const { return events_seen_.load(); }
  // Number of directories currently watched.
  size_t watched_dirs() const;

 private:
  // The thread's loop; `started` is the Clock time of Start() (the rescan timer's origin).
  void Run(absl::Time started);
  // Drains the inotify fd; returns true when a relevant event arrived; sets *rebuild when the
  // watches must be rebuilt (overflow, root gone or replaced).
  bool ReadEvents(bool* rebuild);
  // Adds a watch on `dir` and, recursively, on every subdirectory (symlinks to directories are
  // followed; the kernel returns the same wd for an inode already watched, which stops loops).
  // `.git` directories are skipped. Requires mu_.
  void AddTreeLocked(const std::string& dir);
  // Removes every watch and adds them again from the root (which may now be another inode).
  // Returns false when the root does not exist (the caller retries later). Requires mu_.
  bool RebuildLocked();
  // True when the root now resolves to another inode than when it was watched. Requires mu_.
  bool RootReplacedLocked() const;

  const std::string root_;
  const DirWatcherOptions options_;
  Clock& clock_;
  Logger& logger_;
  const Callback callback_;

  mutable std::mutex mu_;
  int inotify_fd_ = -1;                             // guarded by mu_ (written only in Start/Stop)
  int stop_fd_ = -1;                                // eventfd; guarded by mu_
  std::map<int, std::string> watches_;              // wd -> directory path; guarded by mu_
  int root_wd_ = -1;                                // guarded by mu_
  std::pair<uint64_t, uint64_t> root_inode_{0, 0};  // (dev, ino) when watched; guarded by mu_
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> events_seen_{0};
};

}  // namespace kustodian
