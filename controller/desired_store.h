// DesiredStore: the desired state of every data connection, as read from manifest files
// (directory mode), keyed by DataConnectionId::Key(). Files are applied as a whole; a file that
// fails to load keeps its last good entries, because a parse error is never a deletion.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "controller/key_ref_set.h"
#include "src/core/arm_id.h"
#include "src/model/data_connection.h"

namespace kustodian {

struct DesiredEntry {
  DataConnectionSpec spec;
  std::string spec_hash;  // SpecHash(spec) (controller/stable_hash.h)
  std::string file;       // the manifest that declares it

  bool operator==(const DesiredEntry& o) const {
    return spec_hash == o.spec_hash && file == o.file && spec.adopt == o.spec.adopt &&
           spec.source.generation == o.spec.source.generation;
  }
};

// What DesiredStore keeps of an entry: the spec with its properties as compact JSON text
// instead of a tree (a third of the memory: 10,000 trees took about 10 MiB). Immutable, and
// shared between a file's claim and the effective entry (one copy of each spec, not two).
struct DesiredStoreStored {
  DesiredEntry entry;      // entry.spec.properties is null
  std::string properties;  // the spec's properties, json::dump() without indentation
};

// Thread-safe. A key claimed by two files is a conflict: neither new claim applies (an entry
// applied before the conflict stays, so a conflict is never a deletion) and both files get an
// error in FileErrors() until one of them gives the key up.
class DesiredStore {
 public:
  DesiredStore() = default;
  DesiredStore(const DesiredStore&) = delete;
  DesiredStore& operator=(const DesiredStore&) = delete;

  // Replaces the entries of `file` with `specs`. `rejected_keys` are keys the file still
  // declares but whose documents failed to load: their previous entries from this file are
  // kept. `errors` (document errors of a partly loaded file) are recorded for FileErrors(); a
  // key declared twice in `specs` is excluded like a rejected one, with an error.
  // Returns the keys whose effective entry changed (added, removed or modified), sorted.
  std::vector<std::string> ApplyFile(const std::string& file, std::vector<DataConnectionSpec> specs,
                                     const std::vector<std::string>& rejected_keys = {},
                                     std::vector<std::string> errors = {});

  // A spec packed for this store (its properties as compact text) ahead of ApplyFile: a
  // loader that packs each file's specs right after parsing it frees their trees at once,
  // so a first pass over 10,000 files does not hold every tree until it applies them.
  class PackedSpec {
   public:
    const DataConnectionSpec& spec() const;  // properties null

   private:
    friend class DesiredStore;
    std::shared_ptr<const DesiredStoreStored> stored_;
  };
  // Packs `spec` (declared in `file`): takes its properties (left null, their tree freed) and
  // copies the rest, so the copy lies next to the text and the loader's strings die with it.
  static PackedSpec Pack(DataConnectionSpec& spec, const std::string& file);
  // ApplyFile with specs packed by Pack (for the same file).
  std::vector<std::string> ApplyFile(const std::string& file, std::vector<PackedSpec> specs,
                                     const std::vector<std::string>& rejected_keys,
                                     std::vector<std::string> errors);

  // Records that `file` failed to load as a whole: its previous entries stay as they are and
  // `errors` are reported by FileErrors() until the next ApplyFile or RemoveFile of it.
  void KeepFile(const std::string& file, std::vector<std::string> errors);

  // `file` was deleted from disk: its keys disappear. Returns the keys that changed, sorted.
  std::vector<std::string> RemoveFile(const std::string& file);

  // file -> errors, for files with any (load errors and duplicate-key conflicts).
  std::map<std::string, std::vector<std::string>> FileErrors() const;

  // The effective entry of `key` (a copy, its properties parsed back from the stored text),
  // or nullopt when no file declares it.
  std::optional<DesiredEntry> Get(const std::string& key) const;
  // Whether a file declares `key` (nothing is copied or parsed).
  bool Contains(const std::string& key) const;
  // The spec_hash of the effective entry of `key`, or nullopt (nothing else is copied).
  std::optional<std::string> SpecHash(const std::string& key) const;
  // The smallest positive spec.policy.resync_interval of the entries of database `db_key`,
  // or ZeroDuration() when it has none. Copies no spec.
  absl::Duration MinResyncInterval(const std::string& db_key) const;
  // Every key with an effective entry, sorted.
  std::vector<std::string> Keys() const;
  // Keys whose target database has DatabaseId::Key() == `db_key`, sorted.
  std::vector<std::string> ForDatabase(const std::string& db_key) const;
  // Every database that has at least one entry, ordered by key.
  std::vector<DatabaseId> Databases() const;
  // The same with their DatabaseId::Key() (already known here; no need to compute it again).
  std::vector<std::pair<std::string, DatabaseId>> DatabasesByKey() const;
  // Every file known to the store (applied or kept), sorted.
  std::vector<std::string> Files() const;
  // The files of Files() for which `present` is false (it is called under the store's lock and
  // must not call the store), sorted: what a pass that saw only the present files lost.
  std::vector<std::string> FilesExcept(
      const std::function<bool(const std::string&)>& present) const;
  size_t size() const;

 private:
  using Stored = DesiredStoreStored;
  using EntryPtr = std::shared_ptr<const Stored>;
  struct FileState {
    std::map<std::string, EntryPtr> claims;  // key -> what this file declares
    std::vector<std::string> errors;
  };
  struct DatabaseIndex {
    DatabaseId id;
    KeyRefSet keys;  // the keys of entries_' nodes
  };

  // Recomputes the effective entry of `key` from the claims; true when it changed.
  bool RecomputeLocked(const std::string& key);
  // Adds / removes the entries_ node `it` in databases_ (by the database of its entry).
  void IndexLocked(std::map<std::string, EntryPtr>::const_iterator it);
  void UnindexLocked(std::map<std::string, EntryPtr>::const_iterator it);
  // Keeps claimants_ in step when `file`'s claims change from `before` to `after`.
  void IndexClaimsLocked(const std::string& file, const std::map<std::string, EntryPtr>& before,
                         const std::map<std::string, EntryPtr>& after);

  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;          // guarded by mu_
  std::map<std::string, EntryPtr> entries_;         // guarded by mu_; effective entries
  std::map<std::string, DatabaseIndex> databases_;  // guarded by mu_; db key -> keys
  // guarded by mu_; key -> the files that claim it (usually one). Points at files_' keys, which
  // stay put while the file is known. Without it, each recompute looked at every file: a pass
  // over n files cost n x n lookups.
  std::map<std::string, std::vector<const std::string*>> claimants_;
};

}  // namespace kustodian
