// DirectorySource: turns the manifest directory into desired state. One pass scans --config-dir,
// loads every file, applies each good file to the DesiredStore, keeps the last good state of a
// file that fails to load (reporting why), removes files that are gone and enqueues every key
// whose desired state changed. A files pass (PassFiles) does the same for a few files the
// DirWatcher saw completed, without scanning the directory, and only when nothing is removed by
// it. The DirWatcher (or a timer) decides when passes run.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "controller/desired_store.h"
#include "controller/dir_watcher.h"
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
  // PassFiles only: true when the files were not applied (one is gone, or the change would take
  // a connection out of the desired state): a full Pass() must take them, after the debounce.
  bool deferred = false;
};

// Thread-safe: passes are serialized.
class DirectorySource {
 public:
  // The specs of the files loaded in one pass, packed for the DesiredStore right after each
  // file is parsed (their property trees freed at once), by file.
  using PackedFiles = std::map<std::string, std::vector<DesiredStore::PackedSpec>>;
  DirectorySource(std::string dir, DirectorySourceDeps deps, LoadOptions load_options = {},
                  ScanOptions scan_options = {});
  DirectorySource(const DirectorySource&) = delete;
  DirectorySource& operator=(const DirectorySource&) = delete;

  // Runs one pass (see the file comment). Every file error is logged once, when it first
  // appears, as "file:line:col: field: message". Never fails as a whole: problems are in the
  // result, the logs, the status store and the metric.
  DirectoryPassResult Pass();

  // A files pass: `files` (paths as the scan names them, "dir/sub/x.yaml") were written
  // completely. Loads them again (and the files that share a key with them, for duplicate
  // targets), applies them and enqueues the changed keys, with the same error reporting as
  // Pass(), but without scanning the directory or starting a new prune budget. Applies nothing
  // and returns `deferred` when a file is gone or when the change would remove a connection
  // from the desired state (removals go through a full pass and the prune guard). Paths that
  // are not manifest files (Classify() != kFile) are skipped.
  DirectoryPassResult PassFiles(const std::vector<std::string>& files);

  // How the DirWatcher should treat events on `path` (a non-directory under dir()): kFile for a
  // manifest file the scan would list, kIgnore for a name it never loads (other extension),
  // kRescan for a manifest name under a hidden directory (seen only through a symlink) or when
  // the scan does not follow symlinked directories. Thread-safe.
  PathKind Classify(const std::string& path) const;
  // Number of completed passes.
  int passes() const;
  // Number of files parsed so far (a file whose bytes did not change is not parsed again).
  int64_t files_parsed() const;
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
    // Size and std::hash of the bytes last loaded, when they were read here (has_content): a
    // file whose stamp changed, or was too recent to trust, is read again but parsed and
    // applied only when they differ (10,000 files written just before the start cost a read
    // each at the next rescan, not 10,000 parses and applications).
    bool has_content = false;
    uint64_t content_size = 0;
    size_t content_hash = 0;
    // std::hash of the DataConnectionId::Key() of each manifest loaded (for finding keys
    // declared twice; a hash, not the ~170-byte key: 10,000 files would hold 2 MB of keys).
    std::vector<size_t> key_hashes;
    std::vector<std::string> load_rejected;  // FileLoadResult::rejected_keys of the load
    std::vector<std::string> load_errors;    // FileLoadResult::errors of the load, as text
    bool applied = false;
    std::vector<std::string> applied_rejected;  // rejected keys given to ApplyFile/KeepFile
    std::vector<std::string> applied_errors;    // errors given to ApplyFile/KeepFile
  };
  // True when `file` has a reusable cache entry with the same stamp, or (with `check_content`)
  // when its stamp changed or was too recent but its bytes are those last loaded (the entry
  // then takes the new stamp); otherwise resets (or, when stat fails, drops) its entry and
  // returns false. The stamp is taken before the bytes are read, so a write after it shows in
  // the next stamp or, within the racy window, in the next content check. Requires pass_mu_.
  bool Unchanged(const std::string& file, absl::Time pass_start, bool check_content = true);
  // Reads and loads `file`, recording the hash of the bytes loaded in its cache entry (after
  // Unchanged() returned false for it), and packs its specs into (*packed)[file]: the result's
  // specs keep everything but their properties (null). Requires pass_mu_.
  FileLoadResult Load(const std::string& file, PackedFiles* packed);
  // Records the keys, rejected keys and errors of a fresh load in its cache entry. Requires
  // pass_mu_.
  void Remember(const FileLoadResult& f);
  // Applies loaded `files` (after RejectDuplicateTargets) to the DesiredStore, recording what
  // was applied in the cache; adds the changed keys to *changed and counts into *result.
  // Requires pass_mu_.
  void ApplyLoaded(std::vector<FileLoadResult>& files, PackedFiles& packed,
                   std::vector<ManifestError> duplicates, std::set<std::string>* changed,
                   DirectoryPassResult* result);
  // Logs new errors, updates the status store, the metric and Errors(), enqueues `changed`.
  // Requires pass_mu_.
  // `files_pass`: PassFiles (the status store is updated only when the errors changed).
  // `started`: when the pass began (its duration is logged).
  void Finish(std::set<std::string> changed, DirectoryPassResult* result, bool files_pass,
              absl::Time started);

  const std::string dir_;
  DirectorySourceDeps deps_;
  const LoadOptions load_options_;
  const ScanOptions scan_options_;

  std::mutex pass_mu_;  // serializes Pass()
  mutable std::mutex mu_;
  int passes_ = 0;                                          // guarded by mu_
  int64_t files_parsed_ = 0;                                // guarded by mu_
  std::map<std::string, std::vector<std::string>> errors_;  // guarded by mu_
  std::map<std::string, std::vector<std::string>> logged_;  // guarded by pass_mu_
  std::map<std::string, CachedFile> cache_;                 // guarded by pass_mu_
  std::vector<ManifestError> scan_errors_;  // of the last full pass; guarded by pass_mu_
};

}  // namespace kustodian
