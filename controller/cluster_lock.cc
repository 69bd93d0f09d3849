#include "controller/cluster_lock.h"

#include "absl/strings/str_cat.h"

namespace kustodian {

std::string ClusterKeyOf(const DataConnectionId& id) {
  return AsciiLower(absl::StrCat("/subscriptions/", id.subscription_id, "/resourcegroups/",
                                 id.resource_group, "/providers/microsoft.kusto/clusters/",
                                 id.cluster));
}

bool ClusterLock::TryAcquire(const std::string& cluster_key, const std::string& owner_key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = holders_.try_emplace(cluster_key, owner_key);
  return inserted || it->second == owner_key;
}

bool ClusterLock::Release(const std::string& cluster_key, const std::string& owner_key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = holders_.find(cluster_key);
  if (it == holders_.end() || it->second != owner_key) {
    return false;
  }
  holders_.erase(it);
  return true;
}

std::optional<std::string> ClusterLock::Holder(const std::string& cluster_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = holders_.find(cluster_key);
  if (it == holders_.end()) {
    return std::nullopt;
  }
  return it->second;
}

size_t ClusterLock::HeldCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return holders_.size();
}

}  // namespace kustodian
