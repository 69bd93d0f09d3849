#include "controller/pending_ops.h"

#include "absl/strings/str_cat.h"
#include "src/core/logging.h"
#include "src/core/strings.h"

namespace kustodian {

std::string PendingOp::Describe() const {
  std::string url = !op.async_url.empty() ? op.async_url : op.location_url;
  size_t query = url.find('?');
  if (query != std::string::npos) {
    url.resize(query);
  }
  if (url.empty()) {
    url = op.id.RequestPath();
  }
  return Redact(absl::StrCat(Av(ArmVerbName(op.verb)), " ", url));
}

void PendingOps::Put(const std::string& key, PendingOp op) {
  std::lock_guard<std::mutex> lock(mu_);
  ops_.insert_or_assign(key, std::move(op));
}

std::optional<PendingOp> PendingOps::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(key);
  if (it == ops_.end()) {
    return std::nullopt;
  }
  return it->second;
}

bool PendingOps::Contains(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_.count(key) > 0;
}

bool PendingOps::Erase(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_.erase(key) > 0;
}

void PendingOps::CountPoll(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(key);
  if (it != ops_.end()) {
    ++it->second.op.polls;
  }
}

std::map<std::string, PendingOp> PendingOps::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_;
}

size_t PendingOps::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_.size();
}

}  // namespace kustodian
