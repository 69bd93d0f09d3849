// OwnershipJournal: the set of data connections kustodian manages in directory mode (the
// Kubernetes mode uses finalizers instead). Kustodian deletes only what is in it.
//
// On disk, in the state directory:
//   managed.json  a snapshot of every record (the format of earlier versions, which wrote only
//                 this file), replaced atomically (temp file, fsync, rename, fsync of the dir);
//   managed.log   the changes since the snapshot, one JSON object per line, appended and
//                 fsync'ed at Flush: {"op":"put","key":K,"record":{...}} or
//                 {"op":"remove","key":K}.
// Loading reads the snapshot, then replays the log. A line sets or removes one key, so replaying
// a line whose change the snapshot already holds is harmless. When the log outgrows the snapshot
// (and a floor), Flush compacts: it writes a new snapshot, then truncates the log. A record is in
// the snapshot or the log at every instant, so kill -9 at any step loses nothing acknowledged.
//
// A torn last log line (a crash in the middle of an append, never acknowledged by Flush) is
// ignored with a warning and cut off at Open. A corrupt snapshot, or a corrupt log line before
// the last, stops the daemon rather than being skipped, because losing a record would orphan a
// connection (never deleted) or let it be created twice.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/key_ref_set.h"
#include "src/core/arm_id.h"
#include "src/model/data_connection.h"

namespace kustodian {

inline constexpr char kJournalFileName[] = "managed.json";
inline constexpr char kJournalLogFileName[] = "managed.log";
inline constexpr int kJournalVersion = 1;

struct OwnershipRecord {
  enum class Origin { kCreated, kAdopted };
  std::string id;    // DataConnectionId::RequestPath()
  std::string kind;  // ARM's kind name
  DeletionPolicy deletion = DeletionPolicy::kDelete;
  std::string file;  // manifest that declared it when last seen
  Origin origin = Origin::kCreated;
  absl::Time since = absl::UnixEpoch();  // createdAt / adoptedAt
  // SpecHash of the last spec kustodian applied successfully (or found in sync); "" when none.
  std::string last_applied_hash;

  bool operator==(const OwnershipRecord& o) const {
    return id == o.id && kind == o.kind && deletion == o.deletion && file == o.file &&
           origin == o.origin && since == o.since && last_applied_hash == o.last_applied_hash;
  }
};

struct OwnershipJournalOptions {
  // Flush compacts when the log is larger than the snapshot and than this.
  uint64_t compact_min_bytes = 1 << 20;
};

// What a state directory holds (OwnershipJournal::Load).
struct JournalContents {
  std::map<std::string, OwnershipRecord> records;
  // Problems that lose nothing acknowledged (a torn last log line), for the log.
  std::vector<std::string> warnings;
  uint64_t snapshot_bytes = 0;
  uint64_t log_bytes = 0;        // size of managed.log
  uint64_t log_valid_bytes = 0;  // its complete, valid lines (less than log_bytes when torn)
};

// Thread-safe. Mutations change memory and mark the journal dirty; Flush() writes it. Flushes
// coalesce: one Flush writes every change made before it, and a Flush that finds nothing new
// returns at once.
class OwnershipJournal {
 public:
  // A journal without a file (Flush is a no-op): for tests and dry runs.
  OwnershipJournal() = default;
  OwnershipJournal(const OwnershipJournal&) = delete;
  OwnershipJournal& operator=(const OwnershipJournal&) = delete;
  ~OwnershipJournal();

  // Loads the journal of `state_dir` (snapshot, then log), creating `state_dir` when it is
  // missing, and cuts a torn last log line off the file (see load_warnings()). Missing files are
  // an empty journal. Returns DataLoss naming the file (and line) and the problem when it
  // cannot be parsed or has an unknown version (the caller must stop), Internal on I/O errors.
  static absl::StatusOr<std::unique_ptr<OwnershipJournal>> Open(
      const std::string& state_dir, OwnershipJournalOptions options = {});
  // Reads the journal of `state_dir` without changing anything (for CLI commands). A missing
  // directory or file is empty; errors as Open.
  static absl::StatusOr<JournalContents> Load(const std::string& state_dir);

  // Inserts or replaces the record of `key` (DataConnectionId::Key()).
  void Add(const std::string& key, OwnershipRecord record);
  // Removes `key`; returns false when it was not there.
  bool Remove(const std::string& key);
  // Sets the record's last_applied_hash; returns false when `key` is not managed.
  bool SetLastAppliedHash(const std::string& key, const std::string& hash);
  bool Contains(const std::string& key) const;
  std::optional<OwnershipRecord> Get(const std::string& key) const;
  std::map<std::string, OwnershipRecord> All() const;
  size_t size() const;
  // Managed keys of database `db_key` (DatabaseId::Key()), sorted; from an index kept with the
  // records, so a resync does not copy the whole journal.
  std::vector<std::string> KeysOfDatabase(const std::string& db_key) const;
  // Every database holding a managed connection, by key.
  std::map<std::string, DatabaseId> Databases() const;

  // Makes every change made so far durable: appends one log line per changed key and fsyncs
  // the log (compacting when the log has grown past its bound). Returns OK (also when nothing
  // changed or there is no file), or Internal with the path and the system error; the changes
  // then stay pending for the next Flush.
  absl::Status Flush();
  // Writes every record to a new snapshot and empties the log (a clean shutdown does this, so
  // the state directory is one file again). OK when there is no file; errors as Flush.
  absl::Status Compact();
  // True when a change has not been written yet.
  bool Dirty() const;
  // The snapshot file ("" for a journal without a file).
  const std::string& path() const { return path_; }
  // The log file ("" for a journal without a file).
  const std::string& log_path() const { return log_path_; }
  // What Open found and repaired without losing anything acknowledged (a torn last log line).
  const std::vector<std::string>& load_warnings() const { return load_warnings_; }

  // The snapshot's JSON text for `records` (exposed for tests and `kustodian state show`).
  static std::string Serialize(const std::map<std::string, OwnershipRecord>& records);
  // The same text, handed to `sink` in pieces (a snapshot is written without ever being one
  // string in memory).
  static void SerializeTo(const std::map<std::string, OwnershipRecord>& records,
                          const std::function<void(std::string_view)>& sink);
  // Parses the snapshot's JSON text. DataLoss describing the problem when it is malformed.
  static absl::StatusOr<std::map<std::string, OwnershipRecord>> Parse(const std::string& text);
  // The log line (with its newline) that sets `key` to `record`, or removes it (nullopt).
  static std::string LogLine(const std::string& key, const std::optional<OwnershipRecord>& record);

  // Test hook: the steps of a compaction. A hook that returns an error stops the compaction
  // there, leaving the files as a crash at that moment would.
  enum class CompactionStep { kBeforeSnapshot, kAfterSnapshot, kAfterTruncate };
  void SetCompactionHookForTest(std::function<absl::Status(CompactionStep)> hook);

 private:
  OwnershipJournal(std::string path, std::string log_path, OwnershipJournalOptions options)
      : path_(std::move(path)), log_path_(std::move(log_path)), options_(options) {}

  // The text of one member of "connections" in Serialize's output (indented, no separator).
  static std::string SerializeRecord(const std::string& key, const OwnershipRecord& record);

  // Marks `key` changed. Requires mu_.
  void ChangedLocked(const std::string& key);
  // Appends `text` to the log and fsyncs it; on failure cuts the log back to its last good
  // size (or, when that fails too, forces the next Flush to compact). Requires write_mu_.
  absl::Status AppendLocked(const std::string& text);
  // Writes the records as they are now as the snapshot (streamed under mu_, so the journal is
  // never copied), then truncates the log. Requires write_mu_ (and not mu_).
  absl::Status CompactLocked();
  // Replays the log `text` (read from `log_path`) over out->records; a torn last line is a
  // warning, any other bad line DataLoss (ownership_journal_format.cc).
  static absl::Status ReplayLog(const std::string& log_path, const std::string& text,
                                JournalContents* out);
  // Opens (creating) the log for appending. Requires write_mu_.
  absl::Status OpenLogLocked();
  absl::Status Hook(CompactionStep step);

  const std::string path_;
  const std::string log_path_;
  const OwnershipJournalOptions options_;
  std::vector<std::string> load_warnings_;  // set by Open only

  mutable std::mutex mu_;
  struct DatabaseIndex {
    DatabaseId id;
    KeyRefSet keys;  // the keys of records_' nodes
  };
  // Index of records_ by database. `key` must be the key of records_' node of `record`, which
  // stays in the index until UnindexLocked. Require mu_.
  void IndexLocked(const std::string& key, const OwnershipRecord& record);
  void UnindexLocked(const std::string& key, const OwnershipRecord& record);

  std::map<std::string, OwnershipRecord> records_;    // guarded by mu_
  std::map<std::string, DatabaseIndex> by_database_;  // guarded by mu_; db key -> its keys
  std::set<std::string> changed_;  // guarded by mu_; keys changed since the last write
  uint64_t change_seq_ = 0;        // guarded by mu_

  std::mutex write_mu_;                   // serializes Flush and Compact; taken before mu_
  std::atomic<uint64_t> written_seq_{0};  // written under write_mu_
  // The rest is guarded by write_mu_.
  int log_fd_ = -1;
  uint64_t log_bytes_ = 0;       // the log's size: complete lines only
  uint64_t snapshot_bytes_ = 0;  // the snapshot's size
  // The log's tail is unknown (an append failed and could not be undone): the next Flush
  // writes a snapshot and truncates the log instead of appending.
  bool must_compact_ = false;
  std::function<absl::Status(CompactionStep)> compaction_hook_;
};

}  // namespace kustodian
