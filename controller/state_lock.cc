#include "controller/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace kustodian {
namespace {

// The pid text the current holder wrote, or "" when unreadable.
std::string ReadHolderPid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) {
    return "";
  }
  return std::string(absl::StripAsciiWhitespace(std::string(buf, static_cast<size_t>(n))));
}

}  // namespace

absl::StatusOr<std::unique_ptr<StateLock>> StateLock::Acquire(const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create state directory ", state_dir, ": ", ec.message()));
  }
  std::string path = (std::filesystem::path(state_dir) / kStateLockFileName).string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string pid = ReadHolderPid(fd);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("state directory ", state_dir, " is in use by another kustodian",
                       pid.empty() ? std::string() : absl::StrCat(" (pid ", pid, ")"),
                       "; stop it or give this daemon its own --state-dir"));
    }
    return absl::InternalError(absl::StrCat("cannot lock ", path, ": ", std::strerror(err)));
  }
  std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    int err = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(err)));
  }
  return std::unique_ptr<StateLock>(new StateLock(fd, path));
}

StateLock::~StateLock() {
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace kustodian
