#include "controller/live_cache.h"

#include <algorithm>
#include <functional>
#include <iterator>
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

LiveCache::Entry LiveCache::Entry::Pack(LiveConnection live) {
  Entry e;
  e.id = std::move(live.id);
  e.location = std::move(live.location);
  e.kind_name = std::move(live.kind_name);
  e.kind = live.kind;
  // Parsed JSON is valid UTF-8, so `replace` never changes it; it only keeps dump() from
  // throwing should a caller ever build properties from bytes that are not.
  e.properties = live.properties.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  e.properties.shrink_to_fit();
  e.provisioning_state = std::move(live.provisioning_state);
  return e;
}

LiveConnection LiveCache::Entry::Unpack() && {
  LiveConnection live;
  live.id = std::move(id);
  live.location = std::move(location);
  live.kind_name = std::move(kind_name);
  live.kind = kind;
  live.properties = nlohmann::json::parse(properties, nullptr, /*allow_exceptions=*/false);
  if (!live.properties.is_object()) {  // never for a dump of an object; no tree is no answer
    live.properties = nlohmann::json::object();
  }
  live.provisioning_state = std::move(provisioning_state);
  return live;
}

bool LiveCache::Entry::SameAs(const Entry& other) const {
  // The text of equal trees is equal (dump sorts object keys). The only unequal texts of equal
  // trees are numbers written differently (1 and 1.0): such a key is called changed and is
  // compared once more by the reconciler, which is harmless.
  return provisioning_state == other.provisioning_state && location == other.location &&
         kind_name == other.kind_name && kind == other.kind && id == other.id &&
         properties == other.properties;
}

absl::Status LiveCache::Refresh(const DatabaseId& db, ArmClient& arm, RefreshResult* result) {
  const std::string db_key = db.Key();
  uint64_t start_seq;
  ListFingerprint previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    start_seq = seq_;
    auto it = databases_.find(db_key);
    // A Put or Erase since the last LIST: this LIST must overwrite it, so it must be decoded.
    if (it != databases_.end() && it->second.listed_at.has_value() && it->second.touched.empty()) {
      previous = it->second.fingerprint;
    }
  }
  absl::Time started = clock_.Now();
  absl::StatusOr<ListAnswer> listed = arm.ListIfChanged(db, &previous);
  if (!listed.ok()) {
    return listed.status();
  }
  RefreshResult out;
  if (listed->unchanged) {
    std::lock_guard<std::mutex> lock(mu_);
    DatabaseState& state = databases_[db_key];
    if (state.fingerprint == previous) {
      // The entries are the answer, plus writes made since it started (which win over it). Those
      // stay in `touched`: the next LIST is then decoded and overwrites them, as it would have
      // if this one had been decoded.
      state.listed_at = started;
      out.unchanged = true;
      if (result != nullptr) {
        *result = std::move(out);
      }
      return absl::OkStatus();
    }
    // Another Refresh of the database replaced the entries meanwhile with a different answer.
    // Ours is as recent; keep theirs, but call every key changed (its marks go) to be safe.
    for (auto& [key, entry] : state.connections) {
      entry.in_sync = 0;
      out.changed.push_back(key);
    }
    state.listed_at = std::max(started, state.listed_at.value_or(started));
    if (result != nullptr) {
      *result = std::move(out);
    }
    return absl::OkStatus();
  }
  std::map<std::string, Entry> fresh;
  for (LiveConnection& live : listed->items) {
    std::string key = live.id.Key();
    fresh.insert_or_assign(std::move(key), Entry::Pack(std::move(live)));
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
  // Entries the LIST confirmed keep their marks; the others are changed (both maps are sorted).
  auto old = state.connections.begin();
  for (auto& [key, entry] : fresh) {
    for (; old != state.connections.end() && old->first < key; ++old) {
      out.changed.push_back(old->first);  // vanished
    }
    if (old != state.connections.end() && old->first == key) {
      if (old->second.SameAs(entry)) {
        entry.in_sync = old->second.in_sync;
      } else {
        out.changed.push_back(key);
      }
      ++old;
    } else {
      out.changed.push_back(key);  // appeared
    }
  }
  for (; old != state.connections.end(); ++old) {
    out.changed.push_back(old->first);  // vanished
  }
  std::sort(out.changed.begin(), out.changed.end());
  // Writes made after the LIST started stay recorded, so the next LIST is decoded and overwrites
  // them (compared with this answer's fingerprint, an unchanged answer would keep them).
  for (auto it = state.touched.begin(); it != state.touched.end();) {
    it = it->second <= start_seq ? state.touched.erase(it) : std::next(it);
  }
  state.connections = std::move(fresh);
  state.fingerprint = std::move(listed->fingerprint);
  state.listed_at = started;
  if (result != nullptr) {
    *result = std::move(out);
  }
  return absl::OkStatus();
}

void LiveCache::TouchLocked(const std::string& db_key, const std::string& key) {
  databases_[db_key].touched[key] = ++seq_;
}

uint64_t LiveCache::InSyncMark(const std::string& spec_hash) {
  return std::hash<std::string>{}(spec_hash) | 1;  // never 0 (= no mark)
}

void LiveCache::Put(const LiveConnection& live) {
  std::string key = live.id.Key();
  std::string db_key = live.id.Database().Key();
  Entry entry = Entry::Pack(live);  // outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  TouchLocked(db_key, key);
  databases_[db_key].connections.insert_or_assign(key, std::move(entry));
}

void LiveCache::Erase(const std::string& key) {
  std::string db_key = DatabaseKeyOf(key);
  std::lock_guard<std::mutex> lock(mu_);
  TouchLocked(db_key, key);
  databases_[db_key].connections.erase(key);
}

void LiveCache::MarkInSync(const std::string& key, const std::string& spec_hash) {
  const uint64_t mark = InSyncMark(spec_hash);
  std::string db_key = LookupDatabaseKeyOf(key);
  std::lock_guard<std::mutex> lock(mu_);
  auto db = databases_.find(db_key);
  if (db == databases_.end()) {
    return;
  }
  auto it = db->second.connections.find(key);
  if (it != db->second.connections.end()) {
    it->second.in_sync = mark;
  }
}

void LiveCache::ClearInSync(const std::string& key) {
  std::string db_key = LookupDatabaseKeyOf(key);
  std::lock_guard<std::mutex> lock(mu_);
  auto db = databases_.find(db_key);
  if (db == databases_.end()) {
    return;
  }
  auto it = db->second.connections.find(key);
  if (it != db->second.connections.end()) {
    it->second.in_sync = 0;
  }
}

bool LiveCache::InSyncWith(const std::string& key, const std::string& spec_hash) const {
  const uint64_t mark = InSyncMark(spec_hash);
  std::string db_key = LookupDatabaseKeyOf(key);
  std::lock_guard<std::mutex> lock(mu_);
  auto db = databases_.find(db_key);
  if (db == databases_.end()) {
    return false;
  }
  auto it = db->second.connections.find(key);
  return it != db->second.connections.end() && it->second.in_sync == mark;
}

std::optional<LiveConnection> LiveCache::Get(const std::string& key) const {
  std::string db_key = LookupDatabaseKeyOf(key);
  Entry entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto db = databases_.find(db_key);
    if (db == databases_.end()) {
      return std::nullopt;
    }
    auto it = db->second.connections.find(key);
    if (it == db->second.connections.end()) {
      return std::nullopt;
    }
    entry = it->second;
  }
  return std::move(entry).Unpack();  // the parse outside the lock
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
