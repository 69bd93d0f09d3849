// DirWatcher: tells its owner what changed under a directory. Recursive inotify (a watch on
// every subdirectory, added as directories appear), plus a periodic "rescan anyway" timer as a
// safety net for missed events. Follows the Kubernetes ConfigMap / git-sync pattern: a `..data`
// symlink swapped by rename, and a root that is itself a symlink re-pointed (the watches are
// rebuilt).
//
// Two speeds:
//  - A completed file (IN_CLOSE_WRITE: its writer closed it; IN_MOVED_TO: renamed into place, as
//    editors, git and atomic writers do) is reported at once to the files callback, after a
//    few-ms `settle` window that gathers a burst (a git checkout of many files) into one call.
//  - Everything else waits for `debounce` (a quiet period, at most `max_delay`) and then asks
//    for a full rescan: a file modified or created but not closed yet (a writer still writing),
//    a deletion or a rename out (a removal must not be acted on in the middle of a burst), a new
//    directory, an event under a hidden directory (ConfigMap internals), an overflow. A file
//    closed after its modification no longer needs the debounce.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "src/core/clock.h"
#include "src/core/logging.h"

namespace kustodian {

// What the owner makes of a (non-directory) path under the root.
enum class PathKind {
  kFile,    // a file the owner reads: completed writes go to the files callback at once
  kIgnore,  // never read by the owner (an editor's swap file, `x.yaml.tmp`): no callback
  kRescan,  // may matter indirectly (a file in a hidden directory behind a symlink): debounced
            // full rescan
};

struct DirWatcherOptions {
  // Quiet period before a full rescan for events that do not say a file is complete (see the
  // file comment): the callback fires once no such event arrived for this long.
  absl::Duration debounce = absl::Milliseconds(200);
  // Upper bound on how long a continuous stream of events may delay the full rescan.
  absl::Duration max_delay = absl::Seconds(5);
  // Quiet period after a completed file before the files callback (gathers a burst), and the
  // most a continuous burst may delay it.
  absl::Duration settle = absl::Milliseconds(2);
  absl::Duration max_settle = absl::Milliseconds(25);
  // Classifies non-directory paths; null: every path is kFile. Called on the watcher's thread.
  std::function<PathKind(const std::string& path)> classify;
  // Periodic full rescan (callback with kPeriodic); ZeroDuration() disables it.
  absl::Duration rescan_interval = absl::Seconds(60);
  // Longest the thread blocks in poll() before looking at the Clock again (bounds how late a
  // FakeClock advance is noticed; with the real clock deadlines are met exactly).
  absl::Duration max_poll_wait = absl::Milliseconds(500);
};

enum class ChangeReason {
  kEvents,    // inotify events arrived (debounced, or a directory renamed into place)
  kPeriodic,  // the rescan timer fired
  kOverflow,  // the kernel queue overflowed or the root was replaced: watches were rebuilt
};
std::string_view ChangeReasonName(ChangeReason reason);

// Thread-safe: Start/Stop may be called from any thread; the callback runs on the watcher's
// own thread, never concurrently with itself.
class DirWatcher {
 public:
  // A full rescan is wanted.
  using Callback = std::function<void(ChangeReason reason)>;
  // These files (kFile paths, sorted, each complete: closed or renamed into place) changed.
  // Returns false when the owner could not take them alone (e.g. the change removes something):
  // a full rescan then follows after the debounce. Without a files callback, completed files
  // cause a full rescan (Callback with kEvents) after the settle window instead.
  using FilesCallback = std::function<bool(const std::vector<std::string>& files)>;

  DirWatcher(std::string root, DirWatcherOptions options, Clock& clock, Logger& logger,
             Callback callback, FilesCallback files_callback = nullptr);
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
  // What ReadEvents found.
  enum class FileState { kReady, kDirty, kGone };
  struct Batch {
    bool rebuild = false;  // overflow, root gone or replaced: rebuild the watches
    bool full = false;     // something needs a debounced full rescan (see the file comment)
    bool urgent = false;   // a directory renamed into place: a full rescan after `settle`
    // kFile paths by their last event: complete (closed or renamed in), being written (created
    // or modified, not closed yet), or removed.
    std::map<std::string, FileState> files;
  };
  // Drains the inotify fd into *batch (events in order: a later event on a path overrides an
  // earlier one).
  void ReadEvents(Batch* batch);
  PathKind Classify(const std::string& path) const;
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
  const FilesCallback files_callback_;

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
