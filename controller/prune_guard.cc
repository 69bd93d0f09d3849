#include "controller/prune_guard.h"

namespace kustodian {

void PruneGuard::BeginPass() {
  std::lock_guard<std::mutex> lock(mu_);
  granted_.clear();
}

bool PruneGuard::TryConsume(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (granted_.count(key) > 0) {
    return true;
  }
  if (max_ >= 0 && static_cast<int>(granted_.size()) >= max_) {
    held_.insert(key);
    return false;
  }
  granted_.insert(key);
  held_.erase(key);
  return true;
}

void PruneGuard::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  held_.erase(key);
}

std::vector<std::string> PruneGuard::Held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::vector<std::string>(held_.begin(), held_.end());
}

int PruneGuard::Used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(granted_.size());
}

}  // namespace kustodian
