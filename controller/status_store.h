// StatusStore: the latest ConnectionStatus of every connection, in memory and (optionally) as
// one JSON file per connection in a status directory plus _summary.json, which is the
// directory-mode counterpart of the Kubernetes CR status.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "controller/connection_status.h"
#include "src/core/logging.h"

namespace kustodian {

inline constexpr char kStatusSummaryFileName[] = "_summary.json";

// Thread-safe. File writes are atomic (temp + rename) and happen only when the JSON changed; a
// failed write is logged and retried at the next Set.
class StatusStore {
 public:
  // `status_dir` "" keeps statuses in memory only. The directory is created when missing.
  explicit StatusStore(Logger& logger, std::string status_dir = "");
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
  // Hash of the JSON last written per key (not the text: 10,000 documents of ~1 KiB each would
  // be 10 MiB of RSS); a file is rewritten only when its text changed. Guarded by mu_.
  std::map<std::string, size_t> written_;
  std::map<std::string, std::vector<std::string>> file_errors_;  // guarded by mu_
  std::string written_summary_;                                  // guarded by mu_
};

}  // namespace kustodian
