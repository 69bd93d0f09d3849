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

constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB;

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
                       Callback callback)
    : root_(std::move(root)),
      options_(options),
      clock_(clock),
      logger_(logger),
      callback_(std::move(callback)) {}

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

bool DirWatcher::ReadEvents(bool* rebuild) {
  alignas(struct inotify_event) char buf[16 * 1024];
  bool relevant = false;
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
        *rebuild = true;
        continue;
      }
      auto it = watches_.find(ev->wd);
      if (ev->mask & IN_IGNORED) {
        if (ev->wd == root_wd_) {
          *rebuild = true;
        }
        if (it != watches_.end()) {
          watches_.erase(it);
        }
        continue;
      }
      relevant = true;
      if ((ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) && ev->wd == root_wd_) {
        *rebuild = true;
        continue;
      }
      if (it == watches_.end() || ev->len == 0) {
        continue;
      }
      if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
        std::string path = JoinPath(it->second, ev->name);
        if (std::string_view(ev->name) != ".git" && StatDir(path, nullptr)) {
          AddTreeLocked(path);  // a new directory (or a symlink to one, e.g. ..data)
        }
      }
    }
  }
  return relevant;
}

void DirWatcher::Run(absl::Time started) {
  bool pending = false;
  ChangeReason pending_reason = ChangeReason::kEvents;
  absl::Time first_event;
  absl::Time last_event;
  const bool periodic = options_.rescan_interval > absl::ZeroDuration();
  absl::Time next_rescan = started + options_.rescan_interval;
  int inotify_fd;
  int stop_fd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    inotify_fd = inotify_fd_;
    stop_fd = stop_fd_;
  }
  while (!stopping_) {
    absl::Time now = clock_.Now();
    absl::Duration wait = options_.max_poll_wait;
    if (pending) {
      wait = std::min(
          wait, std::min(last_event + options_.debounce, first_event + options_.max_delay) - now);
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
    bool rebuild = false;
    bool changed = rc > 0 && (fds[1].revents & POLLIN) && ReadEvents(&rebuild);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!rebuild && RootReplacedLocked()) {
        rebuild = true;
      }
      if (rebuild) {
        bool ok = RebuildLocked();
        logger_.Info(ok ? "config directory replaced or event queue overflowed; watches rebuilt"
                        : "config directory is gone; waiting for it to come back",
                     {{"dir", root_}, {"watched_dirs", std::to_string(watches_.size())}});
      }
    }
    if (changed || rebuild) {
      if (!pending) {
        first_event = woke;
        pending_reason = ChangeReason::kEvents;
      }
      if (rebuild) {
        pending_reason = ChangeReason::kOverflow;
      }
      pending = true;
      last_event = woke;
    }
    now = clock_.Now();
    if (pending &&
        (now - last_event >= options_.debounce || now - first_event >= options_.max_delay)) {
      pending = false;
      callback_(pending_reason);
      next_rescan = clock_.Now() + options_.rescan_interval;
    } else if (periodic && now >= next_rescan) {
      callback_(ChangeReason::kPeriodic);
      next_rescan = clock_.Now() + options_.rescan_interval;
    }
  }
}

}  // namespace kustodian
