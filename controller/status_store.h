// StatusStore: the latest ConnectionStatus of every connection, in memory and (optionally) as
// one JSON file per connection in a status directory plus _summary.json, which is the
// directory-mode counterpart of the Kubernetes CR status.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "controller/connection_status.h"
#include "src/core/logging.h"

namespace kustodian {

inline constexpr char kStatusSummaryFileName[] = "_summary.json";

// The longest a status file's lastSyncTime may lag behind the in-memory status (GET /status).
inline constexpr absl::Duration kDefaultSyncTimeWriteInterval = absl::Minutes(30);

// Thread-safe. File writes are atomic (temp + rename) and happen only when something a user
// acts on changed (phase, conditions, messages, errors, observedGeneration, hashes, plan...);
// a lastSyncTime that alone moved is written at most once per sync-time write interval, so a
// resync of 10,000 connections in sync writes no file. A failed write is logged and retried at
// the next Set.
class StatusStore {
 public:
  // `status_dir` "" keeps statuses in memory only. The directory is created when missing.
  explicit StatusStore(Logger& logger, std::string status_dir = "");
  // How stale a file's lastSyncTime may get before a Set rewrites the file for it alone
  // (default kDefaultSyncTimeWriteInterval; zero rewrites at every change of lastSyncTime).
  void SetSyncTimeWriteInterval(absl::Duration interval);
  // Status files written since construction (for tests and diagnostics).
  int64_t FileWrites() const;
  StatusStore(const StatusStore&) = delete;
  StatusStore& operator=(const StatusStore&) = delete;

  // Stores `status` under status.key. For each condition whose status (True/False/Unknown) is
  // the same as before, the previous lastTransitionTime is kept.
  void Set(ConnectionStatus status);
  // The status of `key`, or nullopt.
  std::optional<ConnectionStatus> Get(const std::string& key) const;
  // Forgets `key` and deletes its file. Returns false when it was not there.
  bool Remove(const std::string& key);
  // Every status, ordered by key.
  std::vector<ConnectionStatus> All() const;
  // Replaces the manifest file errors shown in _summary.json (DesiredStore::FileErrors()).
  void SetFileErrors(std::map<std::string, std::vector<std::string>> errors);
  // phase -> number of connections in it.
  std::map<std::string, int> PhaseCounts() const;
  // {"connections": N, "phases": {...}, "fileErrors": {...}}.
  nlohmann::json SummaryJson() const;

  // Deletes *.json files in the status directory that belong to no stored key (left over from
  // an earlier run). Returns OK, or Internal when the directory cannot be read.
  absl::Status RemoveUnknownFiles();

  // "<cluster>.<database>.<name>-<8 hex of the key hash>.json", characters outside
  // [a-z0-9._-] replaced by '-'.
  static std::string FileNameFor(const std::string& key);
  const std::string& status_dir() const { return dir_; }

 private:
  void WriteStatusLocked(const ConnectionStatus& status);
  void WriteSummaryLocked();
  // Adds `delta` to the count of `phase` (dropping it at 0). Requires mu_.
  void CountPhaseLocked(const std::string& phase, int delta);
  nlohmann::json SummaryJsonLocked() const;

  Logger& logger_;
  const std::string dir_;
  mutable std::mutex mu_;                             // also serializes file writes
  std::map<std::string, ConnectionStatus> statuses_;  // guarded by mu_
  std::map<std::string, int> phase_counts_;  // guarded by mu_; phase -> statuses in it (> 0)
  // What was last written per key: the hash of the JSON without lastSyncTime (not the text:
  // 10,000 documents of ~1 KiB each would be 10 MiB of RSS) and the lastSyncTime in the file.
  struct Written {
    size_t hash = 0;
    std::optional<absl::Time> sync_time;
  };
  std::map<std::string, Written> written_;                                   // guarded by mu_
  absl::Duration sync_time_write_interval_ = kDefaultSyncTimeWriteInterval;  // guarded by mu_
  int64_t file_writes_ = 0;                                                  // guarded by mu_
  std::map<std::string, std::vector<std::string>> file_errors_;              // guarded by mu_
  std::string written_summary_;                                              // guarded by mu_
};

}  // namespace kustodian
