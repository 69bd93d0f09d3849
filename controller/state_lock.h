// StateLock: an exclusive flock on <state-dir>/lock, so two daemons never share one state
// directory (and one ownership journal). The holder's pid is written into the lock file so
// the second daemon can say who holds it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace kustodian {

inline constexpr char kStateLockFileName[] = "lock";

// Not copyable; the lock is released when the object is destroyed (or the process exits).
class StateLock {
 public:
  // Creates `state_dir` when missing and takes the lock without waiting. Returns
  // FailedPrecondition "state directory ... is in use by another kustodian (pid N)" when it is
  // held (also by another StateLock in this process), Internal on I/O errors.
  static absl::StatusOr<std::unique_ptr<StateLock>> Acquire(const std::string& state_dir);
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  StateLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace kustodian
