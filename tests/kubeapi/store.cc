// ObjectStore: maps, the resourceVersion counter and the watch event log.
#include "tests/kubeapi/store.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kustodian::kubeapi {
namespace {

using json = nlohmann::json;

std::string Key(const std::string& ns, const std::string& name) {
  return absl::StrCat(ns, "/", name);
}

}  // namespace

ObjectStore::ObjectStore(size_t window) : window_(window == 0 ? 1 : window) {}

ObjectStore::Txn::Txn(ObjectStore* store) : store_(store), lock_(store->mu_) {}

ObjectStore::Txn::~Txn() {
  lock_.unlock();
  if (changed_) {
    store_->cv_.notify_all();
  }
}

const json* ObjectStore::Txn::Get(const std::string& storage, const std::string& ns,
                                  const std::string& name) const {
  auto s = store_->objects_.find(storage);
  if (s == store_->objects_.end()) {
    return nullptr;
  }
  auto it = s->second.find(Key(ns, name));
  return it == s->second.end() ? nullptr : &it->second;
}

std::vector<const json*> ObjectStore::Txn::List(const std::string& storage,
                                                const std::string& ns) const {
  std::vector<const json*> out;
  auto s = store_->objects_.find(storage);
  if (s == store_->objects_.end()) {
    return out;
  }
  std::string prefix = ns.empty() ? "" : ns + "/";
  for (auto it = s->second.lower_bound(prefix); it != s->second.end(); ++it) {
    if (!prefix.empty() && it->first.compare(0, prefix.size(), prefix) != 0) {
      break;
    }
    out.push_back(&it->second);
  }
  return out;
}

json ObjectStore::Txn::Put(const std::string& storage, json obj, const std::string& type) {
  int64_t rv = ++store_->rv_;
  obj["metadata"]["resourceVersion"] = std::to_string(rv);
  const json& meta = obj["metadata"];
  std::string key = Key(meta.value("namespace", ""), meta.value("name", ""));
  json& slot = store_->objects_[storage][key];
  StoredEvent event{rv, storage, type, obj, slot.is_null() ? json() : slot};
  slot = obj;
  store_->Append(std::move(event));
  changed_ = true;
  return obj;
}

json ObjectStore::Txn::Erase(const std::string& storage, const std::string& ns,
                             const std::string& name) {
  auto& objects = store_->objects_[storage];
  auto it = objects.find(Key(ns, name));
  if (it == objects.end()) {
    return nullptr;
  }
  json obj = std::move(it->second);
  objects.erase(it);
  int64_t rv = ++store_->rv_;
  json old = obj;
  obj["metadata"]["resourceVersion"] = std::to_string(rv);
  store_->Append(StoredEvent{rv, storage, "DELETED", obj, old});
  changed_ = true;
  return obj;
}

void ObjectStore::Append(StoredEvent event) {
  log_.push_back(std::move(event));
  while (log_.size() > window_) {
    compacted_rv_ = log_.front().rv;
    log_.pop_front();
  }
}

ObjectStore::Wait ObjectStore::WaitEvents(const std::string& storage, int64_t* cursor,
                                          uint64_t epoch, absl::Time deadline,
                                          std::vector<StoredEvent>* out) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stopped_) {
      return Wait::kStopped;
    }
    if (epoch_ != epoch) {
      return Wait::kBroken;
    }
    if (*cursor < compacted_rv_) {
      return Wait::kExpired;
    }
    if (rv_ > *cursor) {
      for (const StoredEvent& e : log_) {
        if (e.rv > *cursor && e.storage == storage) {
          out->push_back(e);
        }
      }
      *cursor = rv_;
      if (!out->empty()) {
        return Wait::kEvents;
      }
    }
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return Wait::kTimeout;
    }
    cv_.wait_for(lock, absl::ToChronoNanoseconds(left));
  }
}

bool ObjectStore::TooOld(int64_t rv) const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv < compacted_rv_;
}

int64_t ObjectStore::OldestWatchable() const {
  std::lock_guard<std::mutex> lock(mu_);
  return compacted_rv_;
}

uint64_t ObjectStore::Epoch() const {
  std::lock_guard<std::mutex> lock(mu_);
  return epoch_;
}

void ObjectStore::BreakWatches() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++epoch_;
  }
  cv_.notify_all();
}

void ObjectStore::Compact() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    compacted_rv_ = rv_;
    log_.clear();
  }
  cv_.notify_all();
}

void ObjectStore::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

size_t ObjectStore::OpenWatches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(watchers_);
}

void ObjectStore::AddWatcher(int delta) {
  std::lock_guard<std::mutex> lock(mu_);
  watchers_ += delta;
}

}  // namespace kustodian::kubeapi
