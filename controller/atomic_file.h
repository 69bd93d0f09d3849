// Whole-file replacement that a crash can never leave half written: the content goes to a
// temporary file in the same directory, which is then renamed over the target. With
// `durable`, the file and then the directory are fsync'ed, so the rename survives power loss.
// Also the small POSIX helpers the state files share (full writes, directory fsync).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace kustodian {

// Suffix of the temporary files WriteFileAtomically creates (and removes on failure).
inline constexpr std::string_view kAtomicTempSuffix = ".tmp";

// Replaces `path` with `content`. Returns OK, or Internal naming the path and the failing
// system call (errno text) after removing the temporary file.
absl::Status WriteFileAtomically(const std::string& path, std::string_view content, bool durable);

// The same, for content produced piece by piece (a large snapshot need not exist in memory
// as one string). Not thread-safe. Append buffers; the first failure is kept and returned by
// Commit. A failed Commit removes the temporary file; so does the destructor of a writer never
// committed. Either way the target is untouched.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Creates the temporary file. Internal (create, with the errno text) on failure.
  absl::Status Open();
  void Append(std::string_view text);
  // Writes what is buffered, (durable: fsyncs,) renames over the target, (durable: fsyncs the
  // directory). OK, or the first error (Internal, naming the path and the system call).
  absl::Status Commit(bool durable);
  // Bytes appended so far.
  uint64_t size() const { return size_; }

 private:
  absl::Status FlushBuffer();

  const std::string path_;
  const std::string temp_;
  int fd_ = -1;
  bool created_ = false;  // the temporary file exists (until Commit renames it)
  bool committed_ = false;
  absl::Status status_;
  std::string buffer_;
  uint64_t size_ = 0;
};

// Writes all of `content` to `fd` (retrying short writes and EINTR). Internal naming `path`.
absl::Status WriteAll(int fd, std::string_view content, const std::string& path);

// fsyncs the directory that holds `path` ("." for a bare name), so a rename or a creation in
// it survives power loss. Internal naming the directory.
absl::Status SyncDirectoryOf(const std::string& path);

// Internal "<what> <path>: <strerror(err)>".
absl::Status ErrnoError(std::string_view what, const std::string& path, int err);

// Removes `path`; a missing file is OK. Internal with the errno text otherwise.
absl::Status RemoveFileIfExists(const std::string& path);

}  // namespace kustodian
