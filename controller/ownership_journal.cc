#include "controller/ownership_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/atomic_file.h"
#include "src/core/status.h"

namespace kustodian {
namespace {

// Reads the whole file at `path` into `text`; `found` is false (and OK returned) when it does
// not exist.
absl::Status ReadWholeFile(const std::string& path, std::string* text, bool* found) {
  text->clear();
  *found = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::OkStatus();
    }
    return ErrnoError("cannot read ownership journal", path, errno);
  }
  *found = true;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      ::close(fd);
      return ErrnoError("cannot read ownership journal", path, err);
    }
    if (n == 0) {
      break;
    }
    text->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<JournalContents> OwnershipJournal::Load(const std::string& state_dir) {
  const std::string path = (std::filesystem::path(state_dir) / kJournalFileName).string();
  const std::string log_path = (std::filesystem::path(state_dir) / kJournalLogFileName).string();
  JournalContents out;
  std::string text;
  bool found = false;
  KUS_RETURN_IF_ERROR(ReadWholeFile(path, &text, &found));
  if (found) {
    out.snapshot_bytes = text.size();
    absl::StatusOr<std::map<std::string, OwnershipRecord>> records = Parse(text);
    if (!records.ok()) {
      return absl::DataLossError(absl::StrCat(
          path, ": ", records.status().message(),
          ". Refusing to start: reading it as empty would orphan every managed connection. "
          "Restore the file from a backup, or move it (and ",
          kJournalLogFileName,
          ") away to start with nothing managed (existing connections then need "
          "kustodian.io/adopt or --adopt)."));
    }
    out.records = *std::move(records);
  }
  KUS_RETURN_IF_ERROR(ReadWholeFile(log_path, &text, &found));
  if (found) {
    out.log_bytes = text.size();
    KUS_RETURN_IF_ERROR(ReplayLog(log_path, text, &out));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<OwnershipJournal>> OwnershipJournal::Open(
    const std::string& state_dir, OwnershipJournalOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create state directory ", state_dir, ": ", ec.message()));
  }
  KUS_ASSIGN_OR_RETURN(JournalContents contents, Load(state_dir));
  std::unique_ptr<OwnershipJournal> journal(new OwnershipJournal(
      (std::filesystem::path(state_dir) / kJournalFileName).string(),
      (std::filesystem::path(state_dir) / kJournalLogFileName).string(), options));
  journal->records_ = std::move(contents.records);
  for (const auto& [key, record] : journal->records_) {
    journal->IndexLocked(key, record);  // not shared yet
  }
  journal->snapshot_bytes_ = contents.snapshot_bytes;
  journal->log_bytes_ = contents.log_valid_bytes;
  journal->load_warnings_ = std::move(contents.warnings);
  if (contents.log_bytes > contents.log_valid_bytes) {
    // Cut the torn line off, so that the next append does not turn it into a corrupt line in
    // the middle of the log.
    std::lock_guard<std::mutex> lock(journal->write_mu_);
    KUS_RETURN_IF_ERROR(journal->OpenLogLocked());
    if (::ftruncate(journal->log_fd_, static_cast<off_t>(contents.log_valid_bytes)) != 0 ||
        ::fsync(journal->log_fd_) != 0) {
      return ErrnoError("cannot cut the incomplete last line off", journal->log_path_, errno);
    }
    journal->load_warnings_.push_back(
        absl::StrCat("cut ", contents.log_bytes - contents.log_valid_bytes,
                     " bytes of an incomplete last line off ", journal->log_path_));
  }
  return journal;
}

OwnershipJournal::~OwnershipJournal() {
  if (log_fd_ >= 0) {
    ::close(log_fd_);
  }
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
  index.keys.insert(&key);
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
  if (auto k = it->second.keys.find(std::string_view(key)); k != it->second.keys.end()) {
    it->second.keys.erase(k);
  }
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
  return KeyRefCopies(it->second.keys);
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
    UnindexLocked(it->first, it->second);
    it->second = std::move(record);
  } else {
    it = records_.emplace(key, std::move(record)).first;
  }
  IndexLocked(it->first, it->second);  // the node's key: the index points at it
  ChangedLocked(key);
}

bool OwnershipJournal::Remove(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) {
    return false;
  }
  UnindexLocked(it->first, it->second);
  records_.erase(it);
  ChangedLocked(key);
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
    ChangedLocked(key);
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

void OwnershipJournal::ChangedLocked(const std::string& key) {
  ++change_seq_;
  if (!path_.empty()) {
    changed_.insert(key);
  }
}

bool OwnershipJournal::Dirty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return change_seq_ != written_seq_.load();
}

void OwnershipJournal::SetCompactionHookForTest(std::function<absl::Status(CompactionStep)> hook) {
  std::lock_guard<std::mutex> lock(write_mu_);
  compaction_hook_ = std::move(hook);
}

absl::Status OwnershipJournal::Hook(CompactionStep step) {
  return compaction_hook_ ? compaction_hook_(step) : absl::OkStatus();
}

absl::Status OwnershipJournal::OpenLogLocked() {
  if (log_fd_ >= 0) {
    return absl::OkStatus();
  }
  int fd = ::open(log_path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(log_path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      // The new file's directory entry must survive a power loss along with its lines.
      if (absl::Status st = SyncDirectoryOf(log_path_); !st.ok()) {
        ::close(fd);
        return st;
      }
    }
  }
  if (fd < 0) {
    return ErrnoError("open", log_path_, errno);
  }
  log_fd_ = fd;
  return absl::OkStatus();
}

absl::Status OwnershipJournal::AppendLocked(const std::string& text) {
  KUS_RETURN_IF_ERROR(OpenLogLocked());
  absl::Status status = WriteAll(log_fd_, text, log_path_);
  if (status.ok() && ::fdatasync(log_fd_) != 0) {
    status = ErrnoError("fsync", log_path_, errno);
  }
  if (!status.ok()) {
    // Cut the partial append off, so that later lines do not follow a torn one; if that fails
    // the tail is unknown and the next Flush rewrites everything instead.
    if (::ftruncate(log_fd_, static_cast<off_t>(log_bytes_)) != 0) {
      must_compact_ = true;
    }
    return status;
  }
  log_bytes_ += text.size();
  return absl::OkStatus();
}

// Order, each step safe against kill -9: (1) the new snapshot is written to a temporary file,
// fsync'ed, renamed over the old one and the directory fsync'ed (a crash before the rename
// leaves the old snapshot and the whole log); (2) the log is truncated and fsync'ed (a crash
// before that leaves the new snapshot and the old log, whose lines only set keys to the values
// the snapshot already has). Every acknowledged record is in the snapshot or the log throughout.
absl::Status OwnershipJournal::CompactLocked() {
  KUS_RETURN_IF_ERROR(Hook(CompactionStep::kBeforeSnapshot));
  AtomicFileWriter snapshot(path_);
  KUS_RETURN_IF_ERROR(snapshot.Open());
  {
    // Mutations wait while the text is produced (about 30 ms at 10,000 records), not during
    // the fsyncs. A state newer than the Flush's lines is fine: their keys are still in
    // changed_, and the next Flush appends their lines again after the truncation.
    std::lock_guard<std::mutex> lock(mu_);
    SerializeTo(records_, [&snapshot](std::string_view piece) { snapshot.Append(piece); });
  }
  KUS_RETURN_IF_ERROR(snapshot.Commit(/*durable=*/true));
  snapshot_bytes_ = snapshot.size();
  KUS_RETURN_IF_ERROR(Hook(CompactionStep::kAfterSnapshot));
  KUS_RETURN_IF_ERROR(OpenLogLocked());
  if (::ftruncate(log_fd_, 0) != 0) {
    return ErrnoError("truncate", log_path_, errno);
  }
  if (::fsync(log_fd_) != 0) {
    return ErrnoError("fsync", log_path_, errno);
  }
  log_bytes_ = 0;
  must_compact_ = false;
  return Hook(CompactionStep::kAfterTruncate);
}

absl::Status OwnershipJournal::Flush() {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  uint64_t seq;
  std::string lines;
  std::set<std::string> keys;
  bool compact = false;
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
    // One line per changed key with its current value: O(changes), not O(records).
    for (const std::string& key : changed_) {
      auto it = records_.find(key);
      lines.append(LogLine(
          key, it == records_.end() ? std::nullopt : std::optional<OwnershipRecord>(it->second)));
    }
    keys.swap(changed_);
    compact = must_compact_ || log_bytes_ + lines.size() >
                                   std::max<uint64_t>(options_.compact_min_bytes, snapshot_bytes_);
  }
  absl::Status status;
  if (!must_compact_) {
    status = AppendLocked(lines);
    if (status.ok()) {
      written_seq_ = seq;  // durable in the log; compaction only bounds the log's size
      if (compact) {
        CompactLocked().IgnoreError();  // retried at the next Flush
      }
      return absl::OkStatus();
    }
  } else {
    status = CompactLocked();
    if (status.ok()) {
      written_seq_ = seq;
      return absl::OkStatus();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  changed_.insert(keys.begin(), keys.end());  // still pending
  return status;
}

absl::Status OwnershipJournal::Compact() {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  uint64_t seq;
  std::set<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seq = change_seq_;
    if (path_.empty()) {
      written_seq_ = seq;
      return absl::OkStatus();
    }
    if (seq == written_seq_.load() && log_bytes_ == 0 && !must_compact_) {
      return absl::OkStatus();  // the snapshot holds everything already
    }
    keys.swap(changed_);
  }
  absl::Status status = CompactLocked();
  if (status.ok()) {
    written_seq_ = seq;
    return status;
  }
  std::lock_guard<std::mutex> lock(mu_);
  changed_.insert(keys.begin(), keys.end());
  return status;
}

}  // namespace kustodian
