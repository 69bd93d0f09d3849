#include "controller/live_cache.h"

#include <utility>

namespace kustodian {
namespace {

// The database key of a connection key, or "" when the key does not parse.
std::string DatabaseKeyOf(const std::string& key) {
  absl::StatusOr<DataConnectionId> id = DataConnectionId::Parse(key);
  return id.ok() ? id->Database().Key() : std::string();
}

// For lookups only: the database key of a key as DataConnectionId::Key() writes it, cut off
// the string (Key() is "<DatabaseId::Key()>/dataconnections/<encoded name>" and an encoded
// name has no '/'), without parsing it; any other key goes through DatabaseKeyOf. Parsing every
// key cost a fifth of the resync's CPU. A key Key() did not write is never stored, so a lookup
// under a cut that Parse would not give finds nothing either way.
std::string LookupDatabaseKeyOf(const std::string& key) {
  constexpr std::string_view kPrefix = "/subscriptions/";
  constexpr std::string_view kSeparator = "/dataconnections/";
  const size_t slash = key.rfind('/');
  if (key.compare(0, kPrefix.size(), kPrefix) == 0 && slash != std::string::npos &&
      slash + 1 < key.size() && slash + 1 >= kSeparator.size()) {
    const size_t start = slash + 1 - kSeparator.size();
    if (key.compare(start, kSeparator.size(), kSeparator) == 0) {
      return key.substr(0, start);
    }
  }
  return DatabaseKeyOf(key);
}

}  // namespace

absl::Status LiveCache::Refresh(const DatabaseId& db, ArmClient& arm) {
  const std::string db_key = db.Key();
  uint64_t start_seq;
  {
    std::lock_guard<std::mutex> lock(mu_);
    start_seq = seq_;
  }
  absl::Time started = clock_.Now();
  absl::StatusOr<std::vector<LiveConnection>> listed = arm.List(db);
  if (!listed.ok()) {
    return listed.status();
  }
  std::map<std::string, LiveConnection> fresh;
  for (LiveConnection& live : *listed) {
    std::string key = live.id.Key();
    fresh.insert_or_assign(std::move(key), std::move(live));
  }
  std::lock_guard<std::mutex> lock(mu_);
  DatabaseState& state = databases_[db_key];
  // Writes made after the LIST started know better than the LIST.
  for (const auto& [key, seq] : state.touched) {
    if (seq <= start_seq) {
      continue;
    }
    auto mine = state.connections.find(key);
    if (mine != state.connections.end()) {
      fresh.insert_or_assign(key, mine->second);
    } else {
      fresh.erase(key);
    }
  }
  state.touched.clear();
  state.connections = std::move(fresh);
  state.listed_at = started;
  return absl::OkStatus();
}

void LiveCache::TouchLocked(const std::string& db_key, const std::string& key) {
  databases_[db_key].touched[key] = ++seq_;
}

void LiveCache::Put(const LiveConnection& live) {
  std::string key = live.id.Key();
  std::string db_key = live.id.Database().Key();
  std::lock_guard<std::mutex> lock(mu_);
  TouchLocked(db_key, key);
  databases_[db_key].connections.insert_or_assign(key, live);
}

void LiveCache::Erase(const std::string& key) {
  std::string db_key = DatabaseKeyOf(key);
  std::lock_guard<std::mutex> lock(mu_);
  TouchLocked(db_key, key);
  databases_[db_key].connections.erase(key);
}

std::optional<LiveConnection> LiveCache::Get(const std::string& key) const {
  std::string db_key = LookupDatabaseKeyOf(key);
  std::lock_guard<std::mutex> lock(mu_);
  auto db = databases_.find(db_key);
  if (db == databases_.end()) {
    return std::nullopt;
  }
  auto it = db->second.connections.find(key);
  if (it == db->second.connections.end()) {
    return std::nullopt;
  }
  return it->second;
}

bool LiveCache::HasListed(const std::string& db_key) const { return ListedAt(db_key).has_value(); }

std::optional<absl::Time> LiveCache::ListedAt(const std::string& db_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = databases_.find(db_key);
  if (it == databases_.end()) {
    return std::nullopt;
  }
  return it->second.listed_at;
}

std::vector<std::string> LiveCache::KeysInDatabase(const std::string& db_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  auto it = databases_.find(db_key);
  if (it == databases_.end()) {
    return out;
  }
  for (const auto& [key, live] : it->second.connections) {
    out.push_back(key);
  }
  return out;
}

std::vector<std::string> LiveCache::ListedDatabases() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [db_key, state] : databases_) {
    if (state.listed_at.has_value()) {
      out.push_back(db_key);
    }
  }
  return out;
}

}  // namespace kustodian
