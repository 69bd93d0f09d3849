#include "controller/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

absl::Status ErrnoError(std::string_view what, const std::string& path, int err) {
  return absl::InternalError(absl::StrCat(Av(what), " ", path, ": ", std::strerror(err)));
}

absl::Status WriteAll(int fd, std::string_view content, const std::string& path) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoError("write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoError("open directory", dir, errno);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : ErrnoError("fsync directory", dir, err);
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, std::string_view content, bool durable) {
  const std::string temp = absl::StrCat(path, ".", ::getpid(), Av(kAtomicTempSuffix));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return ErrnoError("create", temp, errno);
  }
  absl::Status status = WriteAll(fd, content, temp);
  if (status.ok() && durable && ::fsync(fd) != 0) {
    status = ErrnoError("fsync", temp, errno);
  }
  if (::close(fd) != 0 && status.ok()) {
    status = ErrnoError("close", temp, errno);
  }
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("rename", absl::StrCat(temp, " -> ", path), errno);
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  if (durable) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    return SyncDirectory(dir.empty() ? "." : dir);
  }
  return absl::OkStatus();
}

absl::Status RemoveFileIfExists(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError("remove", path, errno);
  }
  return absl::OkStatus();
}

}  // namespace kustodian
