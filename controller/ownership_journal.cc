#include "controller/ownership_journal.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/atomic_file.h"
#include "nlohmann/json.hpp"

namespace kustodian {
namespace {

using nlohmann::json;

std::string JournalTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::Status Corrupt(const std::string& what) {
  return absl::DataLossError(absl::StrCat("ownership journal is corrupt: ", what));
}

// Reads a required string member of `obj`.
absl::StatusOr<std::string> StringField(const json& obj, const char* name, const std::string& key) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) {
    return Corrupt(absl::StrCat("connection '", key, "': \"", name, "\" missing or not a string"));
  }
  return it->get<std::string>();
}

absl::StatusOr<OwnershipRecord> RecordFromJson(const std::string& key, const json& obj) {
  if (!obj.is_object()) {
    return Corrupt(absl::StrCat("connection '", key, "' is not an object"));
  }
  OwnershipRecord rec;
  absl::StatusOr<std::string> id = StringField(obj, "id", key);
  if (!id.ok()) {
    return id.status();
  }
  rec.id = *std::move(id);
  rec.kind = obj.value("kind", "");
  std::string deletion = obj.value("deletion", "Delete");
  if (deletion == "Delete") {
    rec.deletion = DeletionPolicy::kDelete;
  } else if (deletion == "Orphan") {
    rec.deletion = DeletionPolicy::kOrphan;
  } else {
    return Corrupt(absl::StrCat("connection '", key, "': deletion '", deletion,
                                "' is neither Delete nor Orphan"));
  }
  rec.file = obj.value("file", "");
  rec.last_applied_hash = obj.value("lastAppliedHash", "");
  const char* time_field = "createdAt";
  if (obj.contains("adoptedAt")) {
    rec.origin = OwnershipRecord::Origin::kAdopted;
    time_field = "adoptedAt";
  }
  if (obj.contains(time_field)) {
    absl::StatusOr<std::string> text = StringField(obj, time_field, key);
    if (!text.ok()) {
      return text.status();
    }
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, *text, &rec.since, &err)) {
      return Corrupt(absl::StrCat("connection '", key, "': ", time_field, " '", *text,
                                  "' is not an RFC 3339 time: ", err));
    }
  }
  return rec;
}

}  // namespace

std::string OwnershipJournal::SerializeRecord(const std::string& key, const OwnershipRecord& rec) {
  json obj = {
      {"id", rec.id},
      {"kind", rec.kind},
      {"deletion", rec.deletion == DeletionPolicy::kOrphan ? "Orphan" : "Delete"},
      {"file", rec.file},
      {"lastAppliedHash", rec.last_applied_hash},
  };
  obj[rec.origin == OwnershipRecord::Origin::kAdopted ? "adoptedAt" : "createdAt"] =
      JournalTime(rec.since);
  // Exactly what json::dump(2) writes for this member at depth 2 of the document: the object
  // dumped alone, every line indented by four more spaces.
  std::string body = obj.dump(2, ' ', false, json::error_handler_t::replace);
  std::string out =
      absl::StrCat("    ", json(key).dump(2, ' ', false, json::error_handler_t::replace), ": ");
  out.reserve(out.size() + body.size() + body.size() / 8);
  for (char c : body) {
    out.push_back(c);
    if (c == '\n') {
      out.append("    ");
    }
  }
  return out;
}

std::string OwnershipJournal::Assemble(const std::vector<const std::string*>& fragments) {
  // The document {"connections": {...}, "version": N} as json::dump(2) writes it (keys sorted).
  if (fragments.empty()) {
    return absl::StrCat("{\n  \"connections\": {},\n  \"version\": ", kJournalVersion, "\n}\n");
  }
  size_t size = 64;
  for (const std::string* f : fragments) {
    size += f->size() + 2;
  }
  std::string out;
  out.reserve(size);
  out.append("{\n  \"connections\": {\n");
  for (size_t i = 0; i < fragments.size(); ++i) {
    out.append(*fragments[i]);
    out.append(i + 1 < fragments.size() ? ",\n" : "\n");
  }
  absl::StrAppend(&out, "  },\n  \"version\": ", kJournalVersion, "\n}\n");
  return out;
}

std::string OwnershipJournal::Serialize(const std::map<std::string, OwnershipRecord>& records) {
  std::vector<std::string> fragments;
  fragments.reserve(records.size());
  std::vector<const std::string*> refs;
  refs.reserve(records.size());
  for (const auto& [key, rec] : records) {
    fragments.push_back(SerializeRecord(key, rec));
  }
  for (const std::string& f : fragments) {
    refs.push_back(&f);
  }
  return Assemble(refs);
}

absl::StatusOr<std::map<std::string, OwnershipRecord>> OwnershipJournal::Parse(
    const std::string& text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return Corrupt(absl::StrCat("invalid JSON: ", e.what()));
  }
  if (!doc.is_object()) {
    return Corrupt("the top level is not an object");
  }
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() ||
      version->get<int64_t>() != kJournalVersion) {
    return Corrupt(absl::StrCat("\"version\" is missing or not ", kJournalVersion,
                                " (written by a newer kustodian?)"));
  }
  auto connections = doc.find("connections");
  if (connections == doc.end() || !connections->is_object()) {
    return Corrupt("\"connections\" is missing or not an object");
  }
  std::map<std::string, OwnershipRecord> out;
  try {
    for (const auto& [key, obj] : connections->items()) {
      absl::StatusOr<OwnershipRecord> rec = RecordFromJson(key, obj);
      if (!rec.ok()) {
        return rec.status();
      }
      out.emplace(key, *std::move(rec));
    }
  } catch (const json::exception& e) {  // a member of the wrong type
    return Corrupt(e.what());
  }
  return out;
}

absl::StatusOr<std::unique_ptr<OwnershipJournal>> OwnershipJournal::Open(
    const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create state directory ", state_dir, ": ", ec.message()));
  }
  std::string path = (std::filesystem::path(state_dir) / kJournalFileName).string();
  std::unique_ptr<OwnershipJournal> journal(new OwnershipJournal(path));
  if (!std::filesystem::exists(path, ec)) {
    return journal;  // first start: nothing managed yet
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InternalError(absl::StrCat("cannot read ownership journal ", path));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  absl::StatusOr<std::map<std::string, OwnershipRecord>> records = Parse(buf.str());
  if (!records.ok()) {
    return absl::DataLossError(absl::StrCat(
        path, ": ", records.status().message(),
        ". Refusing to start: reading it as empty would orphan every managed connection. "
        "Restore the file from a backup, or move it away to start with nothing managed "
        "(existing connections then need kustodian.io/adopt or --adopt)."));
  }
  journal->records_ = *std::move(records);
  for (const auto& [key, record] : journal->records_) {
    journal->IndexLocked(key, record);  // not shared yet
  }
  return journal;
}

namespace {

// The database of a record: from its id, else from its key.
std::optional<DatabaseId> DatabaseOf(const std::string& key, const OwnershipRecord& record) {
  absl::StatusOr<DataConnectionId> id = DataConnectionId::Parse(record.id);
  if (!id.ok()) {
    id = DataConnectionId::Parse(key);
  }
  if (!id.ok()) {
    return std::nullopt;
  }
  return id->Database();
}

}  // namespace

void OwnershipJournal::IndexLocked(const std::string& key, const OwnershipRecord& record) {
  std::optional<DatabaseId> db = DatabaseOf(key, record);
  if (!db) {
    return;
  }
  DatabaseIndex& index = by_database_[db->Key()];
  if (index.keys.empty()) {
    index.id = *db;
  }
  index.keys.insert(key);
}

void OwnershipJournal::UnindexLocked(const std::string& key, const OwnershipRecord& record) {
  std::optional<DatabaseId> db = DatabaseOf(key, record);
  if (!db) {
    return;
  }
  auto it = by_database_.find(db->Key());
  if (it == by_database_.end()) {
    return;
  }
  it->second.keys.erase(key);
  if (it->second.keys.empty()) {
    by_database_.erase(it);
  }
}

std::vector<std::string> OwnershipJournal::KeysOfDatabase(const std::string& db_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_database_.find(db_key);
  if (it == by_database_.end()) {
    return {};
  }
  return {it->second.keys.begin(), it->second.keys.end()};
}

std::map<std::string, DatabaseId> OwnershipJournal::Databases() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, DatabaseId> out;
  for (const auto& [db_key, index] : by_database_) {
    out.emplace(db_key, index.id);
  }
  return out;
}

void OwnershipJournal::Add(const std::string& key, OwnershipRecord record) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(key);
  if (it != records_.end() && it->second == record) {
    return;
  }
  if (it != records_.end()) {
    UnindexLocked(key, it->second);
  }
  IndexLocked(key, record);
  records_.insert_or_assign(key, std::move(record));
  fragments_.erase(key);
  ++change_seq_;
}

bool OwnershipJournal::Remove(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) {
    return false;
  }
  UnindexLocked(key, it->second);
  records_.erase(it);
  fragments_.erase(key);
  ++change_seq_;
  return true;
}

bool OwnershipJournal::SetLastAppliedHash(const std::string& key, const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) {
    return false;
  }
  if (it->second.last_applied_hash != hash) {
    it->second.last_applied_hash = hash;
    fragments_.erase(key);
    ++change_seq_;
  }
  return true;
}

bool OwnershipJournal::Contains(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_.count(key) > 0;
}

std::optional<OwnershipRecord> OwnershipJournal::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::map<std::string, OwnershipRecord> OwnershipJournal::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

size_t OwnershipJournal::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_.size();
}

bool OwnershipJournal::Dirty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return change_seq_ != written_seq_.load();
}

absl::Status OwnershipJournal::Flush() {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  uint64_t seq;
  std::string text;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seq = change_seq_;
    if (seq == written_seq_.load()) {
      return absl::OkStatus();
    }
    if (path_.empty()) {
      written_seq_ = seq;
      return absl::OkStatus();
    }
    // Only the records changed since the last flush are serialized again; the others reuse
    // their text (a flush per reconcile must not cost O(records) JSON work).
    std::vector<const std::string*> refs;
    refs.reserve(records_.size());
    for (const auto& [key, rec] : records_) {
      auto it = fragments_.find(key);
      if (it == fragments_.end()) {
        it = fragments_.emplace(key, SerializeRecord(key, rec)).first;
      }
      refs.push_back(&it->second);
    }
    text = Assemble(refs);
  }
  absl::Status status = WriteFileAtomically(path_, text, /*durable=*/true);
  if (status.ok()) {
    written_seq_ = seq;
  }
  return status;
}

}  // namespace kustodian
