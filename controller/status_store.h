// StatusStore: the latest ConnectionStatus of every connection, in memory and (optionally) as
// one JSON file per connection in a status directory plus _summary.json, which is the
// directory-mode counterpart of the Kubernetes CR status.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
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
// the next Set. A Set that changes nothing but lastSyncTime builds no JSON at all (every
// resync sets every status, so that path must stay cheap).
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
  // Moves the lastSyncTime of every key of `keys` that has a status to `time`, unless it is
  // already later (a LIST confirmed them unchanged and in sync, with no reconcile). As cheap as
  // a Set that moves only lastSyncTime: a file is rewritten only when its time is due.
  void AdvanceSyncTime(const std::vector<std::string>& keys, absl::Time time);
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
  // (kind, MetricState) -> number of connections, for kustodian_managed_connections; kept up
  // to date by Set and Remove, so reading it costs O(kinds), not O(connections).
  std::map<std::pair<std::string, std::string>, int> KindStateCounts() const;
  // The state label kustodian_managed_connections counts `status` under ("ready",
  // "reconciling", "stalled"), or "" for a connection that is not managed (Deleted, Orphaned).
  static const char* MetricState(const ConnectionStatus& status);
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
  // One stored status. The key lives only in the map, and the status is packed
  // (controller/status_pack.h: about a third of the struct's memory) but for its
  // lastSyncTime, which moves alone at every resync. With it, what was last written to its
  // file: the hash of the JSON without lastSyncTime (not the text: 10,000 documents of ~1 KiB
  // each would be 10 MiB of RSS) and the lastSyncTime in the file.
  struct Entry {
    std::string packed;  // PackStatus(status)
    std::optional<absl::Time> last_sync_time;
    bool written = false;  // the file holds this status (but maybe an older lastSyncTime)
    size_t hash = 0;
    std::optional<absl::Time> written_sync_time;
  };
  // Writes the file of `entry` (key `key`) when its content or a stale lastSyncTime needs it.
  // `status` is the entry unpacked (UnpackLocked), or null to unpack it only when a write may
  // be due.
  void WriteStatusLocked(const std::string& key, Entry& entry,
                         const ConnectionStatus* status = nullptr);
  // True when the file of `entry` (written with its current content) must be rewritten for its
  // lastSyncTime alone: the time appeared, went backwards or is a write interval stale.
  bool SyncTimeWriteDueLocked(const Entry& entry) const;
  void WriteSummaryLocked();
  // Adds `delta` to the count of `phase` (dropping it at 0). Requires mu_.
  void CountPhaseLocked(const std::string& phase, int delta);
  // Adds `delta` to the (kind, MetricState) count of `status`. Requires mu_.
  void CountKindStateLocked(const ConnectionStatus& status, int delta);
  // The stored status of `entry` with its key and lastSyncTime.
  static ConnectionStatus Unpack(const std::string& key, const Entry& entry);
  nlohmann::json SummaryJsonLocked() const;

  Logger& logger_;
  const std::string dir_;
  mutable std::mutex mu_;                    // also serializes file writes
  std::map<std::string, Entry> statuses_;    // guarded by mu_
  std::map<std::string, int> phase_counts_;  // guarded by mu_; phase -> statuses in it (> 0)
  // guarded by mu_; (kind, MetricState) -> statuses in it (> 0)
  std::map<std::pair<std::string, std::string>, int> kind_state_counts_;
  absl::Duration sync_time_write_interval_ = kDefaultSyncTimeWriteInterval;  // guarded by mu_
  int64_t file_writes_ = 0;                                                  // guarded by mu_
  std::map<std::string, std::vector<std::string>> file_errors_;              // guarded by mu_
  std::string written_summary_;                                              // guarded by mu_
};

}  // namespace kustodian
