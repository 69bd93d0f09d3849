// DirectorySource: turns the manifest directory into desired state. One pass scans --config-dir,
// loads every file, applies each good file to the DesiredStore, keeps the last good state of a
// file that fails to load (reporting why), removes files that are gone and enqueues every key
// whose desired state changed. The DirWatcher (or a timer) decides when passes run.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

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

  const std::string dir_;
  DirectorySourceDeps deps_;
  const LoadOptions load_options_;
  const ScanOptions scan_options_;

  std::mutex pass_mu_;  // serializes Pass()
  mutable std::mutex mu_;
  int passes_ = 0;                                          // guarded by mu_
  std::map<std::string, std::vector<std::string>> errors_;  // guarded by mu_
  std::map<std::string, std::vector<std::string>> logged_;  // guarded by pass_mu_
};

}  // namespace kustodian
