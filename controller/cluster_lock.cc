#include "controller/cluster_lock.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kustodian {

std::string ClusterKeyOf(const DataConnectionId& id) {
  return AsciiLower(absl::StrCat("/subscriptions/", id.subscription_id, "/resourcegroups/",
                                 id.resource_group, "/providers/microsoft.kusto/clusters/",
                                 id.cluster));
}

void ClusterLock::SetWaker(Waker waker) {
  std::lock_guard<std::mutex> lock(mu_);
  waker_ = std::move(waker);
}

bool ClusterLock::HasWaker() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<bool>(waker_);
}

bool ClusterLock::TryAcquire(const std::string& cluster_key, const std::string& owner_key) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& entry = clusters_[cluster_key];
  std::deque<std::string>& waiters = entry.waiters;
  auto waiting = std::find(waiters.begin(), waiters.end(), owner_key);
  if (!entry.holder) {
    entry.holder = owner_key;
    ++held_;
    if (waiting != waiters.end()) {
      waiters.erase(waiting);
    }
    entry.woken.clear();
    return true;
  }
  if (*entry.holder == owner_key) {
    return true;
  }
  if (waiting == waiters.end()) {
    waiters.push_back(owner_key);
  }
  return false;
}

bool ClusterLock::Release(const std::string& cluster_key, const std::string& owner_key) {
  std::string wake;
  Waker waker;
  bool released = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = clusters_.find(cluster_key);
    if (it == clusters_.end()) {
      return false;
    }
    Entry& entry = it->second;
    if (entry.holder == owner_key) {
      entry.holder.reset();
      --held_;
      released = true;
    }
    auto waiting = std::find(entry.waiters.begin(), entry.waiters.end(), owner_key);
    if (waiting != entry.waiters.end()) {
      entry.waiters.erase(waiting);
    }
    if (entry.woken == owner_key) {
      entry.woken.clear();  // it had its turn and did not take the lock: pass it on
    }
    if (!entry.holder && !entry.waiters.empty() && entry.woken.empty()) {
      entry.woken = entry.waiters.front();
      wake = entry.woken;
      waker = waker_;
    }
    if (!entry.holder && entry.waiters.empty()) {
      clusters_.erase(it);
    }
  }
  if (!wake.empty() && waker) {
    waker(wake);
  }
  return released;
}

std::optional<std::string> ClusterLock::Holder(const std::string& cluster_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = clusters_.find(cluster_key);
  if (it == clusters_.end()) {
    return std::nullopt;
  }
  return it->second.holder;
}

size_t ClusterLock::HeldCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_;
}

std::deque<std::string> ClusterLock::Waiters(const std::string& cluster_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = clusters_.find(cluster_key);
  if (it == clusters_.end()) {
    return {};
  }
  return it->second.waiters;
}

}  // namespace kustodian
