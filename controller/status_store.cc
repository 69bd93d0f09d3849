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
#include "controller/status_pack.h"
#include "src/core/arm_id.h"
#include "src/metrics/kustodian_metrics.h"

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
  std::string key = std::move(status.key);
  status.key.clear();
  auto prev = statuses_.find(key);
  if (prev != statuses_.end()) {
    Entry& entry = prev->second;
    ConnectionStatus old = UnpackStatus(entry.packed);
    for (Condition& c : status.conditions) {
      const Condition* was = old.FindCondition(c.type);
      if (was != nullptr && was->status == c.status) {
        c.last_transition_time = was->last_transition_time;
      }
    }
    if (SameExceptSyncTime(old, status)) {
      // Only lastSyncTime moved: no count, summary or packed text changes; the file is
      // written only when it is missing or its lastSyncTime is due.
      entry.last_sync_time = status.last_sync_time;
      old.last_sync_time = status.last_sync_time;
      if (!dir_.empty() && (!entry.written || SyncTimeWriteDueLocked(entry))) {
        WriteStatusLocked(key, entry, &old);
      }
      if (!dir_.empty() && written_summary_.empty()) {
        WriteSummaryLocked();  // retry a failed summary write
      }
      return;
    }
    CountPhaseLocked(old.phase, -1);
    CountKindStateLocked(old, -1);
  }
  CountPhaseLocked(status.phase, +1);
  CountKindStateLocked(status, +1);
  Entry& entry = prev != statuses_.end() ? prev->second : statuses_[key];
  entry.packed = PackStatus(status);
  entry.last_sync_time = status.last_sync_time;
  WriteStatusLocked(key, entry, &status);
  WriteSummaryLocked();
}

void StatusStore::AdvanceSyncTime(const std::vector<std::string>& keys, absl::Time time) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& key : keys) {
    auto it = statuses_.find(key);
    if (it == statuses_.end()) {
      continue;
    }
    Entry& entry = it->second;
    if (entry.last_sync_time.has_value() && *entry.last_sync_time >= time) {
      continue;
    }
    entry.last_sync_time = time;
    if (!dir_.empty() && (!entry.written || SyncTimeWriteDueLocked(entry))) {
      WriteStatusLocked(key, entry);
    }
  }
}

ConnectionStatus StatusStore::Unpack(const std::string& key, const Entry& entry) {
  ConnectionStatus out = UnpackStatus(entry.packed);
  out.key = key;
  out.last_sync_time = entry.last_sync_time;
  return out;
}

std::optional<ConnectionStatus> StatusStore::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = statuses_.find(key);
  if (it == statuses_.end()) {
    return std::nullopt;
  }
  return Unpack(it->first, it->second);
}

bool StatusStore::Remove(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = statuses_.find(key);
  if (it == statuses_.end()) {
    return false;
  }
  const ConnectionStatus old = UnpackStatus(it->second.packed);
  CountPhaseLocked(old.phase, -1);
  CountKindStateLocked(old, -1);
  statuses_.erase(it);
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
  for (const auto& [key, entry] : statuses_) {
    out.push_back(Unpack(key, entry));
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

std::map<std::pair<std::string, std::string>, int> StatusStore::KindStateCounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return kind_state_counts_;
}

const char* StatusStore::MetricState(const ConnectionStatus& status) {
  if (status.phase == kPhaseDeleted || status.phase == kPhaseOrphaned) {
    return "";
  }
  const Condition* ready = status.FindCondition(kConditionReady);
  if (ready != nullptr && ready->status == kTrue) {
    return kStateReady;
  }
  const Condition* stalled = status.FindCondition(kConditionStalled);
  if (stalled != nullptr && stalled->status == kTrue) {
    return kStateStalled;
  }
  return kStateReconciling;
}

void StatusStore::CountKindStateLocked(const ConnectionStatus& status, int delta) {
  const char* state = MetricState(status);
  if (*state == '\0') {
    return;
  }
  auto it = kind_state_counts_.try_emplace({status.kind, state}, 0).first;
  it->second += delta;
  if (it->second == 0) {
    kind_state_counts_.erase(it);
  }
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

bool StatusStore::SyncTimeWriteDueLocked(const Entry& entry) const {
  const std::optional<absl::Time>& was = entry.written_sync_time;
  const std::optional<absl::Time>& now = entry.last_sync_time;
  if (now.has_value() != was.has_value()) {
    return true;
  }
  return now.has_value() && *now != *was &&
         (*now < *was || *now - *was >= sync_time_write_interval_);
}

void StatusStore::WriteStatusLocked(const std::string& key, Entry& entry,
                                    const ConnectionStatus* unpacked) {
  if (dir_.empty()) {
    return;
  }
  ConnectionStatus own;
  if (unpacked == nullptr) {
    own = Unpack(key, entry);
    unpacked = &own;
  }
  const ConnectionStatus& status = *unpacked;
  nlohmann::json json = status.ToJson();
  json["key"] = key;  // status.key is empty while stored
  json.erase("lastSyncTime");
  const size_t hash =
      std::hash<std::string>{}(json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (entry.written && entry.hash == hash && !SyncTimeWriteDueLocked(entry)) {
    return;  // only lastSyncTime moved, and not far enough to be written
  }
  if (status.last_sync_time.has_value()) {
    json["lastSyncTime"] = FormatStatusTime(*status.last_sync_time);
  }
  std::string text = json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::string path = (std::filesystem::path(dir_) / FileNameFor(key)).string();
  absl::Status st = WriteFileAtomically(path, text, /*durable=*/false);
  if (!st.ok()) {
    logger_.Warn("cannot write status file", {{"error", std::string(st.message())}});
    entry.written = false;
    return;
  }
  ++file_writes_;
  entry.written = true;
  entry.hash = hash;
  entry.written_sync_time = status.last_sync_time;
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
  for (const auto& [key, entry] : statuses_) {
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
