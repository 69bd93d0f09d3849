// DirectorySource: turns the manifest directory into desired state. One pass scans --config-dir,
// loads every file, applies each good file to the DesiredStore, keeps the last good state of a
// file that fails to load (reporting why), removes files that are gone and enqueues every key
// whose desired state changed. The DirWatcher (or a timer) decides when passes run.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "controller/desired_store.h"
#include "controller/prune_guard.h"
#include "controller/status_store.h"
#include "src/core/logging.h"
#include "src/manifest/directory.h"
#include "src/manifest/manifest.h"

namespace kustodian {

struct KustodianMetrics;

// What a DirectorySource works with; every reference must outlive it.
struct DirectorySourceDeps {
  DesiredStore& desired;
  Logger& logger;
  PruneGuard* prune_guard = nullptr;    // BeginPass() at every pass when set
  StatusStore* status = nullptr;        // file errors for _summary.json and /status when set
  KustodianMetrics* metrics = nullptr;  // kustodian_manifest_errors when set
  std::function<void(const std::string& key)> enqueue;  // called for every changed key
};

struct DirectoryPassResult {
  int files = 0;                          // manifest files seen
  int files_with_errors = 0;              // files (and unreadable paths) with at least one error
  int manifests = 0;                      // connections loaded from good documents
  std::vector<std::string> changed_keys;  // sorted; each was enqueued
  // False when the scan itself was incomplete (unreadable directory, broken link, loop): then
  // no file was removed from the DesiredStore in this pass, since a missing file may only be
  // unreadable.
  bool complete = true;
};

// Thread-safe: passes are serialized.
class DirectorySource {
 public:
  DirectorySource(std::string dir, DirectorySourceDeps deps, LoadOptions load_options = {},
                  ScanOptions scan_options = {});
  DirectorySource(const DirectorySource&) = delete;
  DirectorySource& operator=(const DirectorySource&) = delete;

  // Runs one pass (see the file comment). Every file error is logged once, when it first
  // appears, as "file:line:col: field: message". Never fails as a whole: problems are in the
  // result, the logs, the status store and the metric.
  DirectoryPassResult Pass();

  // Number of completed passes.
  int passes() const;
  // Every current problem as "file:line:col: field: message", by file (load errors, duplicate
  // targets, scan errors).
  std::map<std::string, std::vector<std::string>> Errors() const;
  const std::string& dir() const { return dir_; }

 private:
  // Logs the errors of `file` that were not there in the previous pass. Requires pass_mu_.
  void LogNewErrors(const std::string& file, const std::vector<std::string>& errors);

  // What stat() says about a file: when any of it changes, the file is loaded again.
  struct FileStamp {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  // What the last pass knew of a file, reused while its stamp is unchanged (a pass over 10,000
  // files then parses only the edited ones), and what was last given to the DesiredStore for it.
  struct CachedFile {
    FileStamp stamp;
    bool reusable = false;  // false when it changed too recently to trust the stamp
    // std::hash of the DataConnectionId::Key() of each manifest loaded (for finding keys
    // declared twice; a hash, not the ~170-byte key: 10,000 files would hold 2 MB of keys).
    std::vector<size_t> key_hashes;
    std::vector<std::string> load_rejected;  // FileLoadResult::rejected_keys of the load
    std::vector<std::string> load_errors;    // FileLoadResult::errors of the load, as text
    bool applied = false;
    std::vector<std::string> applied_rejected;  // rejected keys given to ApplyFile/KeepFile
    std::vector<std::string> applied_errors;    // errors given to ApplyFile/KeepFile
  };
  // True when `file` has a reusable cache entry with the same stamp; otherwise resets (or, when
  // stat fails, drops) its entry and returns false. Requires pass_mu_.
  bool Unchanged(const std::string& file, absl::Time pass_start);
  // Records the keys, rejected keys and errors of a fresh load in its cache entry. Requires
  // pass_mu_.
  void Remember(const FileLoadResult& f);

  const std::string dir_;
  DirectorySourceDeps deps_;
  const LoadOptions load_options_;
  const ScanOptions scan_options_;

  std::mutex pass_mu_;  // serializes Pass()
  mutable std::mutex mu_;
  int passes_ = 0;                                          // guarded by mu_
  std::map<std::string, std::vector<std::string>> errors_;  // guarded by mu_
  std::map<std::string, std::vector<std::string>> logged_;  // guarded by pass_mu_
  std::map<std::string, CachedFile> cache_;                 // guarded by pass_mu_
};

}  // namespace kustodian
