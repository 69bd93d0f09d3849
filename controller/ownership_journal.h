// OwnershipJournal: the set of data connections kustodian manages in directory mode (the
// Kubernetes mode uses finalizers instead). Kustodian deletes only what is in it. Persisted as
// <state-dir>/managed.json, replaced atomically; a corrupt file stops the daemon rather than
// being read as empty, because an empty managed set would silently orphan everything.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/core/arm_id.h"
#include "src/model/data_connection.h"

namespace kustodian {

inline constexpr char kJournalFileName[] = "managed.json";
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

// Thread-safe. Mutations change memory and mark the journal dirty; Flush() writes it. Flushes
// coalesce: one Flush writes every change made before it, and a Flush that finds nothing new
// returns at once.
class OwnershipJournal {
 public:
  // A journal without a file (Flush is a no-op): for tests and dry runs.
  OwnershipJournal() = default;
  OwnershipJournal(const OwnershipJournal&) = delete;
  OwnershipJournal& operator=(const OwnershipJournal&) = delete;

  // Loads <state_dir>/managed.json, creating `state_dir` when it is missing. A missing file is
  // an empty journal. Returns DataLoss naming the file and the problem when it cannot be parsed
  // or has an unknown version (the caller must stop), Internal on I/O errors.
  static absl::StatusOr<std::unique_ptr<OwnershipJournal>> Open(const std::string& state_dir);

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

  // Writes every change made so far (temp file, fsync, rename, fsync of the directory).
  // Returns OK (also when nothing changed or there is no file), or Internal with the path and
  // the system error; the changes then stay pending for the next Flush.
  absl::Status Flush();
  // True when a change has not been written yet.
  bool Dirty() const;
  // The journal file ("" for a journal without a file).
  const std::string& path() const { return path_; }

  // The file's JSON text for `records` (exposed for tests and `kustodian state show`).
  static std::string Serialize(const std::map<std::string, OwnershipRecord>& records);
  // Parses the file's JSON text. DataLoss describing the problem when it is malformed.
  static absl::StatusOr<std::map<std::string, OwnershipRecord>> Parse(const std::string& text);

 private:
  explicit OwnershipJournal(std::string path) : path_(std::move(path)) {}

  // The text of one member of "connections" in Serialize's output (indented, no separator).
  static std::string SerializeRecord(const std::string& key, const OwnershipRecord& record);
  // The whole document from the members' texts, in key order.
  static std::string Assemble(const std::vector<const std::string*>& fragments);

  const std::string path_;
  mutable std::mutex mu_;
  struct DatabaseIndex {
    DatabaseId id;
    std::set<std::string> keys;
  };
  // Index of records_ by database. Require mu_.
  void IndexLocked(const std::string& key, const OwnershipRecord& record);
  void UnindexLocked(const std::string& key, const OwnershipRecord& record);

  std::map<std::string, OwnershipRecord> records_;    // guarded by mu_
  std::map<std::string, DatabaseIndex> by_database_;  // guarded by mu_; db key -> its keys
  // SerializeRecord of the records unchanged since they were last written; guarded by mu_.
  std::map<std::string, std::string> fragments_;
  uint64_t change_seq_ = 0;               // guarded by mu_
  std::mutex write_mu_;                   // serializes Flush; taken before mu_
  std::atomic<uint64_t> written_seq_{0};  // written under write_mu_
};

}  // namespace kustodian
