#include "controller/dir_watcher.h"

#include <dirent.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kustodian {
namespace {

// IN_MODIFY tells a writer is still writing (its IN_CLOSE_WRITE says it is done).
constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB | IN_MODIFY;

bool StatDir(const std::string& path, std::pair<uint64_t, uint64_t>* inode) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return false;
  }
  if (inode != nullptr) {
    *inode = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  }
  return true;
}

bool IsSymlink(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

std::string JoinPath(const std::string& dir, const char* name) {
  if (!dir.empty() && dir.back() == '/') {
    return dir + name;
  }
  return absl::StrCat(dir, "/", name);
}

int PollTimeoutMs(absl::Duration d) {
  if (d <= absl::ZeroDuration()) {
    return 0;
  }
  return static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1))));
}

}  // namespace

std::string_view ChangeReasonName(ChangeReason reason) {
  switch (reason) {
    case ChangeReason::kEvents:
      return "events";
    case ChangeReason::kPeriodic:
      return "periodic";
    case ChangeReason::kOverflow:
      return "rewatch";
  }
  return "unknown";
}

DirWatcher::DirWatcher(std::string root, DirWatcherOptions options, Clock& clock, Logger& logger,
                       Callback callback, FilesCallback files_callback)
    : root_(std::move(root)),
      options_(std::move(options)),
      clock_(clock),
      logger_(logger),
      callback_(std::move(callback)),
      files_callback_(std::move(files_callback)) {}

DirWatcher::~DirWatcher() { Stop(); }

absl::Status DirWatcher::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) {
    return absl::FailedPreconditionError("directory watcher already started");
  }
  if (!StatDir(root_, nullptr)) {
    return absl::NotFoundError(absl::StrCat(root_, ": not an existing directory"));
  }
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    return absl::InternalError(absl::StrCat("inotify_init1: ", std::strerror(errno)));
  }
  stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  RebuildLocked();
  stopping_ = false;
  const absl::Time started = clock_.Now();
  thread_ = std::thread([this, started] { Run(started); });
  return absl::OkStatus();
}

void DirWatcher::Stop() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) {
      return;
    }
    stopping_ = true;
    uint64_t one = 1;
    if (::write(stop_fd_, &one, sizeof(one)) < 0) {
      // The loop also checks stopping_ at least every max_poll_wait.
    }
    thread = std::move(thread_);
  }
  thread.join();
  std::lock_guard<std::mutex> lock(mu_);
  ::close(inotify_fd_);
  ::close(stop_fd_);
  inotify_fd_ = -1;
  stop_fd_ = -1;
  watches_.clear();
  root_wd_ = -1;
}

size_t DirWatcher::watched_dirs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return watches_.size();
}

void DirWatcher::AddTreeLocked(const std::string& dir) {
  int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(), kWatchMask | IN_ONLYDIR);
  if (wd < 0) {
    if (errno != ENOENT && errno != ENOTDIR) {
      logger_.Warn("cannot watch directory", {{"dir", dir}, {"error", std::strerror(errno)}});
    }
    return;
  }
  if (!watches_.emplace(wd, dir).second) {
    return;  // this inode is already watched (a symlink loop or a second path to it)
  }
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return;
  }
  std::vector<std::string> subdirs;
  while (struct dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == ".." || name == ".git") {
      continue;
    }
    if (e->d_type == DT_DIR || e->d_type == DT_LNK || e->d_type == DT_UNKNOWN) {
      std::string path = JoinPath(dir, e->d_name);
      if (StatDir(path, nullptr)) {
        subdirs.push_back(std::move(path));
      }
    }
  }
  ::closedir(d);
  for (const std::string& sub : subdirs) {
    AddTreeLocked(sub);
  }
}

bool DirWatcher::RebuildLocked() {
  for (const auto& [wd, path] : watches_) {
    ::inotify_rm_watch(inotify_fd_, wd);
  }
  watches_.clear();
  root_wd_ = -1;
  if (!StatDir(root_, &root_inode_)) {
    return false;
  }
  AddTreeLocked(root_);
  for (const auto& [wd, path] : watches_) {
    if (path == root_) {
      root_wd_ = wd;
    }
  }
  return true;
}

bool DirWatcher::RootReplacedLocked() const {
  std::pair<uint64_t, uint64_t> now{0, 0};
  if (!StatDir(root_, &now)) {
    return root_wd_ >= 0;  // gone (will be rebuilt once it is back)
  }
  return root_wd_ < 0 || now != root_inode_;
}

PathKind DirWatcher::Classify(const std::string& path) const {
  return options_.classify ? options_.classify(path) : PathKind::kFile;
}

void DirWatcher::ReadEvents(Batch* batch) {
  alignas(struct inotify_event) char buf[16 * 1024];
  std::lock_guard<std::mutex> lock(mu_);
  for (;;) {
    ssize_t n = ::read(inotify_fd_, buf, sizeof(buf));
    if (n <= 0) {
      break;  // EAGAIN: drained
    }
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(p);
      p += sizeof(struct inotify_event) + ev->len;
      events_seen_.fetch_add(1);
      if (ev->mask & IN_Q_OVERFLOW) {
        batch->rebuild = true;
        continue;
      }
      auto it = watches_.find(ev->wd);
      if (ev->mask & IN_IGNORED) {
        if (ev->wd == root_wd_) {
          batch->rebuild = true;
        }
        if (it != watches_.end()) {
          watches_.erase(it);
        }
        continue;
      }
      if ((ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) && ev->wd == root_wd_) {
        batch->rebuild = true;
        continue;
      }
      if (it == watches_.end() || ev->len == 0) {
        batch->full = true;  // about a watched directory itself
        continue;
      }
      std::string path = JoinPath(it->second, ev->name);
      const bool is_git = std::string_view(ev->name) == ".git";
      bool is_dir = (ev->mask & IN_ISDIR) != 0;
      if (!is_dir && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
        is_dir = StatDir(path, nullptr);  // a symlink to a directory, e.g. ..data
      }
      if (is_dir) {
        if (is_git) {
          continue;
        }
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
          AddTreeLocked(path);  // a new directory (or a symlink to one)
        }
        if (ev->mask & IN_MOVED_TO) {
          batch->urgent = true;  // renamed into place complete, like a ConfigMap's ..data swap
        } else if (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB)) {
          batch->full = true;
        }
        continue;
      }
      switch (Classify(path)) {
        case PathKind::kIgnore:
          continue;
        case PathKind::kRescan:
          batch->full = true;
          continue;
        case PathKind::kFile:
          break;
      }
      FileState state;
      if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
        state = FileState::kGone;
        batch->full = true;  // a removal waits for the debounce (and the full pass)
      } else if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
        state = FileState::kReady;
      } else if ((ev->mask & IN_CREATE) && IsSymlink(path)) {
        state = FileState::kReady;  // a symlink is complete once created (no close follows)
      } else if (ev->mask & (IN_CREATE | IN_MODIFY)) {
        state = FileState::kDirty;
      } else if (ev->mask & IN_ATTRIB) {
        // chmod, touch: complete unless a writer is known to be writing it.
        auto known = batch->files.find(path);
        state = known != batch->files.end() && known->second == FileState::kDirty
                    ? FileState::kDirty
                    : FileState::kReady;
      } else {
        continue;
      }
      batch->files[path] = state;
    }
  }
}

void DirWatcher::Run(absl::Time started) {
  // A debounced full rescan: pending when `full` or a file is still being written.
  bool full = false;
  bool urgent = false;
  ChangeReason full_reason = ChangeReason::kEvents;
  absl::Time first_event;
  absl::Time last_event;
  std::set<std::string> dirty;  // kFile paths written but not closed yet
  // Completed files waiting for the settle window.
  std::set<std::string> ready;
  absl::Time first_ready;
  absl::Time last_ready;
  const bool periodic = options_.rescan_interval > absl::ZeroDuration();
  absl::Time next_rescan = started + options_.rescan_interval;
  int inotify_fd;
  int stop_fd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    inotify_fd = inotify_fd_;
    stop_fd = stop_fd_;
  }
  auto debounced = [&] { return full || !dirty.empty(); };
  auto settling = [&] { return urgent || !ready.empty(); };
  while (!stopping_) {
    absl::Time now = clock_.Now();
    absl::Duration wait = options_.max_poll_wait;
    if (debounced()) {
      wait = std::min(
          wait, std::min(last_event + options_.debounce, first_event + options_.max_delay) - now);
    }
    if (settling()) {
      wait = std::min(
          wait, std::min(last_ready + options_.settle, first_ready + options_.max_settle) - now);
    }
    if (periodic) {
      wait = std::min(wait, next_rescan - now);
    }
    struct pollfd fds[2] = {{stop_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
    int rc = ::poll(fds, 2, PollTimeoutMs(wait));
    if (stopping_ || (rc > 0 && (fds[0].revents & POLLIN))) {
      break;
    }
    // Stamped before the events are read, so an event counted in events_seen() is never
    // stamped with a later time than a clock advance that follows it.
    const absl::Time woke = clock_.Now();
    Batch batch;
    if (rc > 0 && (fds[1].revents & POLLIN)) {
      ReadEvents(&batch);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!batch.rebuild && RootReplacedLocked()) {
        batch.rebuild = true;
      }
      if (batch.rebuild) {
        bool ok = RebuildLocked();
        logger_.Info(ok ? "config directory replaced or event queue overflowed; watches rebuilt"
                        : "config directory is gone; waiting for it to come back",
                     {{"dir", root_}, {"watched_dirs", std::to_string(watches_.size())}});
      }
    }
    const bool was_debounced = debounced();
    const bool was_settling = settling();
    bool new_ready = batch.urgent;
    for (const auto& [path, state] : batch.files) {
      switch (state) {
        case FileState::kReady:
          dirty.erase(path);
          ready.insert(path);
          new_ready = true;
          break;
        case FileState::kDirty:
          ready.erase(path);
          dirty.insert(path);
          break;
        case FileState::kGone:
          ready.erase(path);
          dirty.erase(path);
          break;
      }
    }
    full = full || batch.full || batch.rebuild;
    if (batch.rebuild) {
      full_reason = ChangeReason::kOverflow;
    }
    const bool more_debounced =
        batch.full || batch.rebuild ||
        std::any_of(batch.files.begin(), batch.files.end(),
                    [](const auto& f) { return f.second == FileState::kDirty; });
    if (more_debounced) {
      if (!was_debounced) {
        first_event = woke;
      }
      last_event = woke;
    }
    if (new_ready) {
      if (!was_settling) {
        first_ready = woke;
      }
      urgent = urgent || batch.urgent;
      last_ready = woke;
    }
    now = clock_.Now();
    const bool full_due = debounced() && (now - last_event >= options_.debounce ||
                                          now - first_event >= options_.max_delay);
    const bool settled = settling() && (now - last_ready >= options_.settle ||
                                        now - first_ready >= options_.max_settle);
    if (full_due || (settled && (urgent || !files_callback_))) {
      // A full rescan covers every pending file too.
      const ChangeReason reason = full ? full_reason : ChangeReason::kEvents;
      full = urgent = false;
      full_reason = ChangeReason::kEvents;
      dirty.clear();
      ready.clear();
      callback_(reason);
      next_rescan = clock_.Now() + options_.rescan_interval;
    } else if (settled) {
      std::vector<std::string> files(ready.begin(), ready.end());
      ready.clear();
      if (!files_callback_(files)) {
        // Not taken alone (a removal, say): the full rescan after the quiet period takes it.
        // The quiet period counts from `now`, read before the callback, so a clock advance
        // made after the callback has been seen to run cannot push the rescan further out.
        if (!debounced()) {
          first_event = now;
        }
        full = true;
        last_event = now;
      }
    } else if (periodic && now >= next_rescan) {
      callback_(ChangeReason::kPeriodic);
      next_rescan = clock_.Now() + options_.rescan_interval;
    }
  }
}

}  // namespace kustodian
