// LiveCache: what ARM last said about each data connection. Reads are batched: one LIST per
// database refreshes every connection in it; the reconciler writes through it after a PUT,
// DELETE or confirming GET, so it never has to LIST again to see its own writes.
//
// A LIST whose answer is byte-identical to the database's previous one (ArmClient's
// ListIfChanged) is not decoded: the cache keeps its entries and only ListedAt moves. The cache
// also remembers which keys the reconciler last found in sync with their spec (MarkInSync); a
// LIST, Put or Erase that changes a key's entry drops its mark, so a resync can leave alone the
// keys a LIST has just confirmed.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "src/arm/arm_client.h"
#include "src/core/clock.h"
#include "src/model/data_connection.h"

namespace kustodian {

// Thread-safe. A Put or Erase made while a LIST of the same database is in flight wins over the
// LIST's (older) answer for that key.
class LiveCache {
 public:
  explicit LiveCache(const Clock& clock) : clock_(clock) {}
  LiveCache(const LiveCache&) = delete;
  LiveCache& operator=(const LiveCache&) = delete;

  // What a Refresh changed.
  struct RefreshResult {
    // The answer was byte-identical to the previous LIST of the database (nothing decoded).
    bool unchanged = false;
    // Keys whose entry the LIST changed: appeared, vanished or different (sorted). Their
    // in-sync marks are gone.
    std::vector<std::string> changed;
  };

  // Does ONE List of `db` and replaces that database's entries with the answer. Returns OK, or
  // the List error (the cache is then left as it was and HasListed does not change). The answer
  // is compared with the previous LIST's (ListIfChanged) unless a Put or Erase touched the
  // database since that LIST: the LIST must then overwrite what they wrote before it started.
  absl::Status Refresh(const DatabaseId& db, ArmClient& arm, RefreshResult* result = nullptr);

  // Inserts or replaces the connection under live.id.Key().
  void Put(const LiveConnection& live);
  // Forgets `key` (the connection is known not to exist).
  void Erase(const std::string& key);

  // The reconciler found the cached entry of `key` matching the spec whose hash (SpecHash) is
  // `spec_hash`. No-op when `key` has no entry. The mark lasts until the entry changes (a LIST
  // that differs for it, Put, Erase) or ClearInSync.
  void MarkInSync(const std::string& key, const std::string& spec_hash);
  void ClearInSync(const std::string& key);
  // True when `key` is marked in sync with `spec_hash` and its entry has not changed since.
  bool InSyncWith(const std::string& key, const std::string& spec_hash) const;

  // The cached connection, or nullopt when it is not known to exist.
  std::optional<LiveConnection> Get(const std::string& key) const;
  // True once a Refresh of database `db_key` (DatabaseId::Key()) succeeded.
  bool HasListed(const std::string& db_key) const;
  // When the last successful Refresh of `db_key` started, or nullopt.
  std::optional<absl::Time> ListedAt(const std::string& db_key) const;
  // The cached keys of database `db_key`, sorted.
  std::vector<std::string> KeysInDatabase(const std::string& db_key) const;
  // Every database key with a successful Refresh, sorted.
  std::vector<std::string> ListedDatabases() const;

 private:
  // A LiveConnection with its properties kept as their compact JSON text: as a JSON tree they
  // took about 1.5 KB per connection (14.7 MiB of the heap at 10,000 connections), as text a
  // third of that. Get() parses them again (a few microseconds, once per reconcile).
  struct Entry {
    DataConnectionId id;
    std::string location;
    std::string kind_name;
    std::optional<ConnectionKind> kind;
    std::string properties;  // properties.dump()
    std::string provisioning_state;
    uint64_t in_sync = 0;  // InSyncMark of the spec hash it was found in sync with; 0 = none

    static Entry Pack(LiveConnection live);
    LiveConnection Unpack() &&;  // consumes the (copied) entry: no second copy of its strings
    // True when both say the same (what the reconciler compares: id, location, kind,
    // properties, provisioningState).
    bool SameAs(const Entry& other) const;
  };
  struct DatabaseState {
    std::optional<absl::Time> listed_at;
    ListFingerprint fingerprint;  // of the last LIST (empty: decode the next one)
    std::map<std::string, Entry> connections;
    // key -> sequence number of its last Put/Erase (for the in-flight LIST rule).
    std::map<std::string, uint64_t> touched;
  };
  void TouchLocked(const std::string& db_key, const std::string& key);
  static uint64_t InSyncMark(const std::string& spec_hash);

  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, DatabaseState> databases_;  // guarded by mu_
  uint64_t seq_ = 0;                                // guarded by mu_
};

}  // namespace kustodian
