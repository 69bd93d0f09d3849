// ClusterLock: at most one write in flight per Kusto cluster. Kusto answers 409 Conflict to a
// second operation on a cluster while one runs, so the reconciler takes the cluster's lock
// before a PUT or DELETE and releases it when the operation is done. Never blocks.
//
// Keys that find the lock taken are remembered as waiters (first come, first served); when the
// lock becomes free the first waiter is handed to the waker (the work queue's Add), so a
// cluster's writes follow each other at once instead of on a fixed retry timer.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "src/core/arm_id.h"

namespace kustodian {

// The lock key of the cluster holding `id`: the lower-case cluster resource id.
std::string ClusterKeyOf(const DataConnectionId& id);

// Thread-safe.
class ClusterLock {
 public:
  using Waker = std::function<void(const std::string& owner_key)>;

  ClusterLock() = default;
  ClusterLock(const ClusterLock&) = delete;
  ClusterLock& operator=(const ClusterLock&) = delete;

  // Called (outside the lock) with the first waiter of a cluster whose lock became free, e.g.
  // `[&queue](const std::string& key) { queue.Add(key); }`. Without a waker, waiters retry on
  // their own timer.
  void SetWaker(Waker waker);
  bool HasWaker() const;

  // Takes the lock of `cluster_key` for `owner_key`. Returns true when it is now held by
  // `owner_key` (also when it already was), false when another owner holds it; `owner_key` is
  // then a waiter of that cluster until it takes the lock or calls Release.
  bool TryAcquire(const std::string& cluster_key, const std::string& owner_key);
  // Releases the lock when `owner_key` holds it, and stops `owner_key` waiting for it. When the
  // lock is free afterwards, wakes the first waiter. Returns true when it released.
  bool Release(const std::string& cluster_key, const std::string& owner_key);
  // The owner holding `cluster_key`, or nullopt.
  std::optional<std::string> Holder(const std::string& cluster_key) const;
  // Number of clusters currently locked.
  size_t HeldCount() const;
  // Keys waiting for `cluster_key`, first come first.
  std::deque<std::string> Waiters(const std::string& cluster_key) const;

 private:
  struct Entry {
    std::optional<std::string> holder;
    std::deque<std::string> waiters;  // unique
    // The waiter already woken for the current free period (not woken twice in a row).
    std::string woken;
  };

  mutable std::mutex mu_;
  std::map<std::string, Entry> clusters_;  // guarded by mu_; empty entries are erased
  size_t held_ = 0;                        // guarded by mu_
  Waker waker_;                            // guarded by mu_
};

}  // namespace kustodian
