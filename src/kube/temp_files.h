// Private temporary files for credentials that must reach a library as a path (the CA bundle and
// client certificate/key for TLS): created 0600 under $TMPDIR (or /tmp) and removed when the
// owning TempFiles goes away.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kustodian::kube {

// Thread-safe.
class TempFiles {
 public:
  TempFiles() = default;
  ~TempFiles();  // removes every file written
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;

  // Writes `content` to a new file readable only by this user; returns its path.
  // `label` (e.g. "ca") becomes part of the name. Internal when the file cannot be written.
  absl::StatusOr<std::string> Write(std::string_view label, std::string_view content);

 private:
  std::mutex mu_;
  std::vector<std::string> paths_;  // guarded by mu_
};

}  // namespace kustodian::kube
