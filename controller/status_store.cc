#include "controller/status_store.h"

#include <filesystem>
#include <functional>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "controller/atomic_file.h"
#include "controller/stable_hash.h"
#include "src/core/arm_id.h"

namespace kustodian {
namespace {

std::string Slug(std::string_view text) {
  std::string out;
  for (unsigned char c : AsciiLower(text)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    out.push_back(ok ? static_cast<char>(c) : '-');
  }
  return out;
}

}  // namespace

StatusStore::StatusStore(Logger& logger, std::string status_dir)
    : logger_(logger), dir_(std::move(status_dir)) {
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
      logger_.Warn("cannot create status directory", {{"dir", dir_}, {"error", ec.message()}});
    }
  }
}

std::string StatusStore::FileNameFor(const std::string& key) {
  absl::StatusOr<DataConnectionId> id = DataConnectionId::Parse(key);
  std::string base = id.ok() ? absl::StrCat(id->cluster, ".", id->database, ".", id->name) : key;
  return absl::StrCat(Slug(base), "-", StableHashHex(key).substr(0, 8), ".json");
}

void StatusStore::Set(ConnectionStatus status) {
  std::lock_guard<std::mutex> lock(mu_);
  auto prev = statuses_.find(status.key);
  if (prev != statuses_.end()) {
    for (Condition& c : status.conditions) {
      const Condition* old = prev->second.FindCondition(c.type);
      if (old != nullptr && old->status == c.status) {
        c.last_transition_time = old->last_transition_time;
      }
    }
  }
  const std::string key = status.key;
  if (prev != statuses_.end()) {
    CountPhaseLocked(prev->second.phase, -1);
  }
  CountPhaseLocked(status.phase, +1);
  ConnectionStatus& stored = statuses_.insert_or_assign(key, std::move(status)).first->second;
  WriteStatusLocked(stored);
  WriteSummaryLocked();
}

std::optional<ConnectionStatus> StatusStore::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = statuses_.find(key);
  if (it == statuses_.end()) {
    return std::nullopt;
  }
  return it->second;
}

bool StatusStore::Remove(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = statuses_.find(key);
  if (it == statuses_.end()) {
    return false;
  }
  CountPhaseLocked(it->second.phase, -1);
  statuses_.erase(it);
  written_.erase(key);
  if (!dir_.empty()) {
    std::string path = (std::filesystem::path(dir_) / FileNameFor(key)).string();
    absl::Status st = RemoveFileIfExists(path);
    if (!st.ok()) {
      logger_.Warn("cannot remove status file", {{"error", std::string(st.message())}});
    }
  }
  WriteSummaryLocked();
  return true;
}

std::vector<ConnectionStatus> StatusStore::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ConnectionStatus> out;
  out.reserve(statuses_.size());
  for (const auto& [key, status] : statuses_) {
    out.push_back(status);
  }
  return out;
}

void StatusStore::SetFileErrors(std::map<std::string, std::vector<std::string>> errors) {
  std::lock_guard<std::mutex> lock(mu_);
  file_errors_ = std::move(errors);
  WriteSummaryLocked();
}

std::map<std::string, int> StatusStore::PhaseCounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return phase_counts_;
}

void StatusStore::CountPhaseLocked(const std::string& phase, int delta) {
  auto it = phase_counts_.try_emplace(phase, 0).first;
  it->second += delta;
  if (it->second == 0) {
    phase_counts_.erase(it);
  }
}

nlohmann::json StatusStore::SummaryJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  return SummaryJsonLocked();
}

nlohmann::json StatusStore::SummaryJsonLocked() const {
  // From the running counts: walking 10,000 statuses at every Set made convergence O(n^2).
  nlohmann::json phases = nlohmann::json::object();
  for (const auto& [phase, count] : phase_counts_) {
    phases[phase] = count;
  }
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [file, list] : file_errors_) {
    errors[file] = list;
  }
  return {{"connections", statuses_.size()}, {"phases", phases}, {"fileErrors", errors}};
}

void StatusStore::SetSyncTimeWriteInterval(absl::Duration interval) {
  std::lock_guard<std::mutex> lock(mu_);
  sync_time_write_interval_ = interval;
}

int64_t StatusStore::FileWrites() const {
  std::lock_guard<std::mutex> lock(mu_);
  return file_writes_;
}

void StatusStore::WriteStatusLocked(const ConnectionStatus& status) {
  if (dir_.empty()) {
    return;
  }
  nlohmann::json json = status.ToJson();
  json.erase("lastSyncTime");
  const size_t hash =
      std::hash<std::string>{}(json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  auto it = written_.find(status.key);
  if (it != written_.end() && it->second.hash == hash) {
    // Only lastSyncTime may have moved: write it when it is gone or too stale in the file.
    const std::optional<absl::Time>& was = it->second.sync_time;
    const std::optional<absl::Time>& now = status.last_sync_time;
    bool stale = now.has_value() &&
                 (!was.has_value() ||
                  (*now != *was && (*now < *was || *now - *was >= sync_time_write_interval_)));
    if (now.has_value() == was.has_value() && !stale) {
      return;
    }
  }
  if (status.last_sync_time.has_value()) {
    json["lastSyncTime"] = FormatStatusTime(*status.last_sync_time);
  }
  std::string text = json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::string path = (std::filesystem::path(dir_) / FileNameFor(status.key)).string();
  absl::Status st = WriteFileAtomically(path, text, /*durable=*/false);
  if (!st.ok()) {
    logger_.Warn("cannot write status file", {{"error", std::string(st.message())}});
    written_.erase(status.key);
    return;
  }
  ++file_writes_;
  written_[status.key] = Written{hash, status.last_sync_time};
}

void StatusStore::WriteSummaryLocked() {
  if (dir_.empty()) {
    return;
  }
  std::string text =
      SummaryJsonLocked().dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (text == written_summary_) {
    return;
  }
  std::string path = (std::filesystem::path(dir_) / kStatusSummaryFileName).string();
  absl::Status st = WriteFileAtomically(path, text, /*durable=*/false);
  if (!st.ok()) {
    logger_.Warn("cannot write status summary", {{"error", std::string(st.message())}});
    written_summary_.clear();
    return;
  }
  written_summary_ = std::move(text);
}

absl::Status StatusStore::RemoveUnknownFiles() {
  if (dir_.empty()) {
    return absl::OkStatus();
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::string> known = {kStatusSummaryFileName};
  for (const auto& [key, status] : statuses_) {
    known.insert(FileNameFor(key));
  }
  std::error_code ec;
  std::filesystem::directory_iterator it(dir_, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot read status directory ", dir_, ": ", ec.message()));
  }
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !absl::EndsWith(name, ".json") || known.count(name) > 0) {
      continue;
    }
    std::filesystem::remove(entry.path(), ec);
  }
  return absl::OkStatus();
}

}  // namespace kustodian
