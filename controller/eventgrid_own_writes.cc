#include "controller/eventgrid_own_writes.h"

#include <utility>

namespace kustodian {

RecentSet::RecentSet(const Clock& clock, absl::Duration ttl, size_t max_entries)
    : clock_(clock), ttl_(ttl), max_entries_(max_entries == 0 ? 1 : max_entries) {}

void RecentSet::ExpireLocked(absl::Time now) const {
  while (!order_.empty()) {
    const auto& [value, at] = order_.front();
    auto it = index_.find(value);
    const bool current = it != index_.end() && it->second == at;
    if (current && now - at < ttl_ && index_.size() <= max_entries_) {
      break;
    }
    if (current) {
      index_.erase(it);
    }
    order_.pop_front();
  }
}

bool RecentSet::Insert(const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_.Now();
  ExpireLocked(now);
  auto [it, inserted] = index_.insert_or_assign(value, now);
  order_.emplace_back(value, now);
  // Refreshing an existing value leaves a stale entry in order_; keep it from growing without
  // bound when one value is refreshed over and over.
  if (order_.size() > 2 * max_entries_ + 16) {
    std::deque<std::pair<std::string, absl::Time>> compact;
    for (auto& entry : order_) {
      auto found = index_.find(entry.first);
      if (found != index_.end() && found->second == entry.second) {
        compact.push_back(std::move(entry));
      }
    }
    order_.swap(compact);
  }
  ExpireLocked(now);
  return inserted;
}

bool RecentSet::Contains(const std::string& value) const {
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLocked(clock_.Now());
  return index_.count(value) > 0;
}

size_t RecentSet::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLocked(clock_.Now());
  return index_.size();
}

OwnWrites::OwnWrites(const Clock& clock, OwnWritesOptions options)
    : clock_(clock), options_(options), ids_(clock, options.ttl, options.max_entries) {}

void OwnWrites::BeginWrite(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  ++in_flight_[key];
}

void OwnWrites::EndWrite(const std::string& key, const std::string& correlation_id) {
  if (!correlation_id.empty()) {
    ids_.Insert(correlation_id);
  }
  std::vector<std::pair<std::function<void(bool)>, bool>> decided;
  std::vector<std::function<void(bool)>> expired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = in_flight_.find(key);
    if (it != in_flight_.end() && --it->second <= 0) {
      in_flight_.erase(it);
    }
    // Decide this key's parked events once no write of it is in flight any more.
    if (in_flight_.count(key) == 0) {
      auto parked = parked_.find(key);
      if (parked != parked_.end()) {
        for (ParkedEvent& e : parked->second) {
          bool own = ids_.Contains(e.correlation_id);
          decided.emplace_back(std::move(e.resolve), own);
        }
        parked_.erase(parked);
      }
    }
    ExpireParkedLocked(clock_.Now(), &expired);
  }
  for (auto& [resolve, own] : decided) {
    resolve(own);
  }
  for (auto& resolve : expired) {
    resolve(false);
  }
}

bool OwnWrites::IsOwn(const std::string& correlation_id) const {
  return !correlation_id.empty() && ids_.Contains(correlation_id);
}

OwnWrites::Verdict OwnWrites::Classify(const std::string& key, const std::string& correlation_id,
                                       std::function<void(bool own)> resolve) {
  if (correlation_id.empty()) {
    return Verdict::kForeign;
  }
  if (ids_.Contains(correlation_id)) {
    return Verdict::kOwn;
  }
  std::vector<std::function<void(bool)>> expired;
  Verdict verdict = Verdict::kForeign;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = clock_.Now();
    ExpireParkedLocked(now, &expired);
    if (in_flight_.count(key) > 0) {
      parked_[key].push_back(ParkedEvent{correlation_id, now, std::move(resolve)});
      verdict = Verdict::kParked;
    } else if (ids_.Contains(correlation_id)) {
      // The write ended between the two looks: EndWrite remembers the id before it drops the
      // in-flight mark, so looking again under the lock cannot miss it.
      verdict = Verdict::kOwn;
    }
  }
  for (auto& r : expired) {
    r(false);
  }
  return verdict;
}

void OwnWrites::ExpireParkedLocked(absl::Time now,
                                   std::vector<std::function<void(bool)>>* expired) {
  for (auto it = parked_.begin(); it != parked_.end();) {
    std::vector<ParkedEvent>& events = it->second;
    for (auto e = events.begin(); e != events.end();) {
      if (now - e->parked_at >= options_.max_park) {
        expired->push_back(std::move(e->resolve));
        e = events.erase(e);
      } else {
        ++e;
      }
    }
    it = events.empty() ? parked_.erase(it) : std::next(it);
  }
}

int OwnWrites::InFlight() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& [key, count] : in_flight_) {
    n += count;
  }
  return n;
}

int OwnWrites::Parked() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& [key, events] : parked_) {
    n += static_cast<int>(events.size());
  }
  return n;
}

absl::StatusOr<WriteResult> OwnWriteRecordingArmClient::Put(const DataConnectionSpec& spec) {
  const std::string key = spec.id.Key();
  own_.BeginWrite(key);
  absl::StatusOr<WriteResult> result = inner_.Put(spec);
  own_.EndWrite(key, result.ok() ? result->correlation_id : "");
  return result;
}

absl::StatusOr<WriteResult> OwnWriteRecordingArmClient::Delete(const DataConnectionId& id) {
  const std::string key = id.Key();
  own_.BeginWrite(key);
  absl::StatusOr<WriteResult> result = inner_.Delete(id);
  own_.EndWrite(key, result.ok() ? result->correlation_id : "");
  return result;
}

}  // namespace kustodian
