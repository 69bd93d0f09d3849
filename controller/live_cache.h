// LiveCache: what ARM last said about each data connection. Reads are batched: one LIST per
// database refreshes every connection in it; the reconciler writes through it after a PUT,
// DELETE or confirming GET, so it never has to LIST again to see its own writes.
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

  // Does ONE List of `db` and replaces that database's entries with the answer. Returns OK, or
  // the List error (the cache is then left as it was and HasListed does not change).
  absl::Status Refresh(const DatabaseId& db, ArmClient& arm);

  // Inserts or replaces the connection under live.id.Key().
  void Put(const LiveConnection& live);
  // Forgets `key` (the connection is known not to exist).
  void Erase(const std::string& key);

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
  struct DatabaseState {
    std::optional<absl::Time> listed_at;
    std::map<std::string, LiveConnection> connections;
    // key -> sequence number of its last Put/Erase (for the in-flight LIST rule).
    std::map<std::string, uint64_t> touched;
  };
  void TouchLocked(const std::string& db_key, const std::string& key);

  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, DatabaseState> databases_;  // guarded by mu_
  uint64_t seq_ = 0;                                // guarded by mu_
};

}  // namespace kustodian
