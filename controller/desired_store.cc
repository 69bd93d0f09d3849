#include "controller/desired_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/stable_hash.h"

namespace kustodian {

const DataConnectionSpec& DesiredStore::PackedSpec::spec() const { return stored_->entry.spec; }

DesiredStore::PackedSpec DesiredStore::Pack(DataConnectionSpec& spec, const std::string& file) {
  auto stored = std::make_shared<Stored>();
  stored->entry.spec_hash = kustodian::SpecHash(spec);
  // Manifest text is valid UTF-8 (the loader refuses any other), so `replace` never changes
  // it; it only keeps dump() from throwing.
  stored->properties =
      spec.properties.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  stored->properties.shrink_to_fit();
  spec.properties = nullptr;
  stored->entry.spec = spec;
  stored->entry.file = file;
  PackedSpec out;
  out.stored_ = std::move(stored);
  return out;
}

std::vector<std::string> DesiredStore::ApplyFile(const std::string& file,
                                                 std::vector<DataConnectionSpec> specs,
                                                 const std::vector<std::string>& rejected_keys,
                                                 std::vector<std::string> errors) {
  std::vector<PackedSpec> packed;
  packed.reserve(specs.size());
  for (DataConnectionSpec& spec : specs) {
    packed.push_back(Pack(spec, file));
  }
  return ApplyFile(file, std::move(packed), rejected_keys, std::move(errors));
}

std::vector<std::string> DesiredStore::ApplyFile(const std::string& file,
                                                 std::vector<PackedSpec> specs,
                                                 const std::vector<std::string>& rejected_keys,
                                                 std::vector<std::string> errors) {
  std::map<std::string, EntryPtr> claims;
  std::set<std::string> duplicates;
  for (PackedSpec& packed : specs) {
    std::string key = packed.spec().id.Key();
    if (claims.count(key) > 0 || duplicates.count(key) > 0) {
      duplicates.insert(key);
      claims.erase(key);
      continue;
    }
    claims.emplace(std::move(key), std::move(packed.stored_));
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto [file_it, inserted] = files_.try_emplace(file);
  FileState& state = file_it->second;
  std::map<std::string, EntryPtr> old_claims = std::move(state.claims);
  std::set<std::string> keep(rejected_keys.begin(), rejected_keys.end());
  for (const std::string& key : duplicates) {
    errors.push_back(absl::StrCat(
        "data connection ", key, " is declared more than once in this file; none of them applies"));
    keep.insert(key);
  }
  for (const std::string& key : keep) {
    auto it = old_claims.find(key);
    if (it != old_claims.end()) {
      claims.insert(*it);  // last good state of a document that failed to load
    }
  }
  std::set<std::string> affected;
  for (const auto& [key, entry] : old_claims) {
    affected.insert(key);
  }
  for (const auto& [key, entry] : claims) {
    affected.insert(key);
  }
  IndexClaimsLocked(file_it->first, old_claims, claims);
  state.claims = std::move(claims);
  state.errors = std::move(errors);
  std::vector<std::string> changed;
  for (const std::string& key : affected) {
    if (RecomputeLocked(key)) {
      changed.push_back(key);
    }
  }
  return changed;
}

void DesiredStore::KeepFile(const std::string& file, std::vector<std::string> errors) {
  std::lock_guard<std::mutex> lock(mu_);
  files_[file].errors = std::move(errors);
}

std::vector<std::string> DesiredStore::RemoveFile(const std::string& file) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(file);
  if (it == files_.end()) {
    return {};
  }
  std::map<std::string, EntryPtr> old_claims = std::move(it->second.claims);
  IndexClaimsLocked(it->first, old_claims, {});
  files_.erase(it);
  std::vector<std::string> changed;
  for (const auto& [key, entry] : old_claims) {
    if (RecomputeLocked(key)) {
      changed.push_back(key);
    }
  }
  return changed;
}

void DesiredStore::IndexClaimsLocked(const std::string& file,
                                     const std::map<std::string, EntryPtr>& before,
                                     const std::map<std::string, EntryPtr>& after) {
  for (const auto& [key, entry] : before) {
    if (after.count(key) > 0) {
      continue;
    }
    auto it = claimants_.find(key);
    if (it == claimants_.end()) {
      continue;
    }
    std::erase(it->second, &file);
    if (it->second.empty()) {
      claimants_.erase(it);
    }
  }
  for (const auto& [key, entry] : after) {
    if (before.count(key) == 0) {
      claimants_[key].push_back(&file);
    }
  }
}

bool DesiredStore::RecomputeLocked(const std::string& key) {
  std::vector<const EntryPtr*> claimants;
  if (auto c = claimants_.find(key); c != claimants_.end()) {
    for (const std::string* file : c->second) {
      const FileState& state = files_.at(*file);
      claimants.push_back(&state.claims.at(key));
    }
  }
  auto current = entries_.find(key);
  if (claimants.size() > 1) {
    return false;  // conflict: whatever applied before stays; FileErrors() reports it
  }
  if (claimants.empty()) {
    if (current == entries_.end()) {
      return false;
    }
    UnindexLocked(current);
    entries_.erase(current);
    return true;
  }
  const EntryPtr& next = *claimants.front();
  if (current != entries_.end() && current->second->entry == next->entry) {
    current->second = next;  // refresh fields the comparison ignores (e.g. source line)
    return false;
  }
  if (current != entries_.end()) {
    UnindexLocked(current);  // by the old entry's database
  } else {
    current = entries_.emplace(key, nullptr).first;
  }
  current->second = next;
  IndexLocked(current);
  return true;
}

void DesiredStore::IndexLocked(std::map<std::string, EntryPtr>::const_iterator it) {
  const DatabaseId db = it->second->entry.spec.id.Database();
  DatabaseIndex& index = databases_[db.Key()];
  if (index.keys.empty()) {
    index.id = db;
  }
  index.keys.insert(&it->first);
}

void DesiredStore::UnindexLocked(std::map<std::string, EntryPtr>::const_iterator it) {
  auto db = databases_.find(it->second->entry.spec.id.Database().Key());
  if (db == databases_.end()) {
    return;
  }
  db->second.keys.erase(&it->first);
  if (db->second.keys.empty()) {
    databases_.erase(db);
  }
}

std::map<std::string, std::vector<std::string>> DesiredStore::FileErrors() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [file, state] : files_) {
    if (!state.errors.empty()) {
      out[file] = state.errors;
    }
  }
  // From the claimants index: building a key -> files map here copied every key at every
  // files pass (about 10 ms per edited manifest at 10,000 connections).
  for (const auto& [key, claimants] : claimants_) {
    if (claimants.size() < 2) {
      continue;
    }
    std::vector<std::string> files;
    for (const std::string* file : claimants) {
      files.push_back(*file);
    }
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
      std::vector<std::string> others;
      for (const std::string& other : files) {
        if (other != file) {
          others.push_back(other);
        }
      }
      out[file].push_back(absl::StrCat("data connection ", key, " is also declared in ",
                                       absl::StrJoin(others, ", "),
                                       "; neither declaration applies until one is removed"));
    }
  }
  return out;
}

std::optional<DesiredEntry> DesiredStore::Get(const std::string& key) const {
  EntryPtr stored;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      return std::nullopt;
    }
    stored = it->second;  // immutable: copied and parsed outside the lock
  }
  DesiredEntry out = stored->entry;
  out.spec.properties =
      nlohmann::json::parse(stored->properties, nullptr, /*allow_exceptions=*/false);
  if (out.spec.properties.is_discarded()) {  // never for a dump; an object beats a discarded value
    out.spec.properties = nlohmann::json::object();
  }
  return out;
}

bool DesiredStore::Contains(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.count(key) > 0;
}

std::optional<std::string> DesiredStore::SpecHash(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    return std::nullopt;
  }
  return it->second->entry.spec_hash;
}

absl::Duration DesiredStore::MinResyncInterval(const std::string& db_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Duration out = absl::ZeroDuration();
  auto db = databases_.find(db_key);
  if (db == databases_.end()) {
    return out;
  }
  for (const std::string* key : db->second.keys) {
    auto it = entries_.find(*key);
    if (it == entries_.end()) {
      continue;
    }
    absl::Duration d = it->second->entry.spec.policy.resync_interval;
    if (d > absl::ZeroDuration() && (out == absl::ZeroDuration() || d < out)) {
      out = d;
    }
  }
  return out;
}

std::vector<std::string> DesiredStore::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) {
    out.push_back(key);
  }
  return out;
}

std::vector<std::string> DesiredStore::ForDatabase(const std::string& db_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = databases_.find(db_key);
  if (it == databases_.end()) {
    return {};
  }
  return KeyRefCopies(it->second.keys);
}

std::vector<DatabaseId> DesiredStore::Databases() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DatabaseId> out;
  out.reserve(databases_.size());
  for (const auto& [db_key, index] : databases_) {
    out.push_back(index.id);
  }
  return out;
}

std::vector<std::pair<std::string, DatabaseId>> DesiredStore::DatabasesByKey() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, DatabaseId>> out;
  out.reserve(databases_.size());
  for (const auto& [db_key, index] : databases_) {
    out.emplace_back(db_key, index.id);
  }
  return out;
}

std::vector<std::string> DesiredStore::Files() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [file, state] : files_) {
    out.push_back(file);
  }
  return out;
}

std::vector<std::string> DesiredStore::FilesExcept(
    const std::function<bool(const std::string&)>& present) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [file, state] : files_) {
    if (!present(file)) {
      out.push_back(file);
    }
  }
  return out;
}

size_t DesiredStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace kustodian
