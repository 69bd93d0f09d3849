// ClusterLock: at most one write in flight per Kusto cluster. Kusto answers 409 Conflict to a
// second operation on a cluster while one runs, so the reconciler takes the cluster's lock
// before a PUT or DELETE and releases it when the operation is done. Never blocks.
#pragma once

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
  ClusterLock() = default;
  ClusterLock(const ClusterLock&) = delete;
  ClusterLock& operator=(const ClusterLock&) = delete;

  // Takes the lock of `cluster_key` for `owner_key`. Returns true when it is now held by
  // `owner_key` (also when it already was), false when another owner holds it.
  bool TryAcquire(const std::string& cluster_key, const std::string& owner_key);
  // Releases the lock when `owner_key` holds it; otherwise does nothing. Returns true when it
  // released.
  bool Release(const std::string& cluster_key, const std::string& owner_key);
  // The owner holding `cluster_key`, or nullopt.
  std::optional<std::string> Holder(const std::string& cluster_key) const;
  // Number of clusters currently locked.
  size_t HeldCount() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> holders_;  // guarded by mu_; cluster key -> owner key
};

}  // namespace kustodian
