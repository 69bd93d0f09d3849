#include "controller/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "src/core/status.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

// Append gathers this much before it writes.
constexpr size_t kWriteChunk = 64 * 1024;

}  // namespace

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

absl::Status SyncDirectoryOf(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoError("open directory", dir, errno);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : ErrnoError("fsync directory", dir, err);
}

AtomicFileWriter::AtomicFileWriter(std::string path)
    : path_(std::move(path)), temp_(absl::StrCat(path_, ".", ::getpid(), Av(kAtomicTempSuffix))) {}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  if (created_ && !committed_) {
    ::unlink(temp_.c_str());
  }
}

absl::Status AtomicFileWriter::Open() {
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    status_ = ErrnoError("create", temp_, errno);
  }
  created_ = fd_ >= 0;
  return status_;
}

void AtomicFileWriter::Append(std::string_view text) {
  size_ += text.size();
  if (!status_.ok()) {
    return;
  }
  if (buffer_.size() + text.size() < kWriteChunk) {
    buffer_.append(text);
    return;
  }
  status_ = FlushBuffer();
  if (!status_.ok()) {
    return;
  }
  if (text.size() < kWriteChunk) {
    buffer_.append(text);
  } else {
    status_ = WriteAll(fd_, text, temp_);  // a large piece goes out without a copy
  }
}

absl::Status AtomicFileWriter::FlushBuffer() {
  absl::Status status = WriteAll(fd_, buffer_, temp_);
  buffer_.clear();
  return status;
}

absl::Status AtomicFileWriter::Commit(bool durable) {
  if (fd_ < 0 && status_.ok()) {
    status_ = absl::FailedPreconditionError(absl::StrCat("write ", temp_, ": not opened"));
  }
  if (status_.ok()) {
    status_ = FlushBuffer();
  }
  if (status_.ok() && durable && ::fsync(fd_) != 0) {
    status_ = ErrnoError("fsync", temp_, errno);
  }
  if (fd_ >= 0) {
    if (::close(fd_) != 0 && status_.ok()) {
      status_ = ErrnoError("close", temp_, errno);
    }
    fd_ = -1;
  }
  if (status_.ok() && ::rename(temp_.c_str(), path_.c_str()) != 0) {
    status_ = ErrnoError("rename", absl::StrCat(temp_, " -> ", path_), errno);
  }
  if (!status_.ok()) {
    if (created_) {
      ::unlink(temp_.c_str());
      created_ = false;
    }
    return status_;
  }
  committed_ = true;
  return durable ? SyncDirectoryOf(path_) : absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view content, bool durable) {
  AtomicFileWriter writer(path);
  KUS_RETURN_IF_ERROR(writer.Open());
  writer.Append(content);
  return writer.Commit(durable);
}

absl::Status RemoveFileIfExists(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError("remove", path, errno);
  }
  return absl::OkStatus();
}

}  // namespace kustodian
