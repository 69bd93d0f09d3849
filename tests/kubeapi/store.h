// The object store of the test API server: objects by storage key, a global resourceVersion
// counter, and a bounded log of recent events that watches read (older versions are 410 Gone).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kustodian::kubeapi {

struct StoredEvent {
  int64_t rv = 0;
  std::string storage;
  std::string type;       // ADDED, MODIFIED, DELETED
  nlohmann::json object;  // the object after the change (for DELETED: as last stored, new rv)
  nlohmann::json old;     // the object before (null for ADDED)
};

// Thread-safe: every access goes through a Txn (holding the one mutex) or the watch methods.
class ObjectStore {
 public:
  explicit ObjectStore(size_t window);

  // A read-modify-write transaction; holds the store lock until destroyed.
  class Txn {
   public:
    explicit Txn(ObjectStore* store);
    ~Txn();
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    // The stored object or nullptr.
    const nlohmann::json* Get(const std::string& storage, const std::string& ns,
                              const std::string& name) const;
    // Objects of `storage` in `ns` ("" = every namespace), ordered by namespace then name.
    std::vector<const nlohmann::json*> List(const std::string& storage,
                                            const std::string& ns) const;
    // Stores `obj` under a new resourceVersion (set in obj.metadata) and logs an event of `type`
    // (ADDED or MODIFIED). Returns the stored object.
    nlohmann::json Put(const std::string& storage, nlohmann::json obj, const std::string& type);
    // Removes the object, logging DELETED with a new resourceVersion. Returns the deleted object.
    nlohmann::json Erase(const std::string& storage, const std::string& ns,
                         const std::string& name);
    int64_t CurrentRv() const { return store_->rv_; }

   private:
    ObjectStore* store_;
    std::unique_lock<std::mutex> lock_;
    bool changed_ = false;
  };

  enum class Wait { kEvents, kTimeout, kExpired, kBroken, kStopped };
  // Blocks until events newer than *cursor exist (appending those of `storage` to *out and
  // moving *cursor past every event seen), `deadline` passes, BreakWatches() runs after
  // `epoch` was read, or Stop(). kExpired when events after *cursor were already dropped.
  Wait WaitEvents(const std::string& storage, int64_t* cursor, uint64_t epoch, absl::Time deadline,
                  std::vector<StoredEvent>* out);
  // True when a watch from `rv` cannot be served (events after it were dropped).
  bool TooOld(int64_t rv) const;
  // The oldest resourceVersion a watch can start from.
  int64_t OldestWatchable() const;
  uint64_t Epoch() const;
  // Ends every open watch (they see kBroken).
  void BreakWatches();
  // Drops the whole event log: every version before now becomes 410 Gone.
  void Compact();
  // Ends all waits for good (server shutdown).
  void Stop();
  size_t OpenWatches() const;
  void AddWatcher(int delta);

 private:
  void Append(StoredEvent event);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t window_;
  int64_t rv_ = 0;                                                        // guarded by mu_
  int64_t compacted_rv_ = 0;                                              // guarded by mu_
  uint64_t epoch_ = 0;                                                    // guarded by mu_
  bool stopped_ = false;                                                  // guarded by mu_
  int watchers_ = 0;                                                      // guarded by mu_
  std::map<std::string, std::map<std::string, nlohmann::json>> objects_;  // guarded by mu_
  std::deque<StoredEvent> log_;                                           // guarded by mu_
};

}  // namespace kustodian::kubeapi
