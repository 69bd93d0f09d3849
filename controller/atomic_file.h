// Whole-file replacement that a crash can never leave half written: the content goes to a
// temporary file in the same directory, which is then renamed over the target. With
// `durable`, the file and then the directory are fsync'ed, so the rename survives power loss.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace kustodian {

// Suffix of the temporary files WriteFileAtomically creates (and removes on failure).
inline constexpr std::string_view kAtomicTempSuffix = ".tmp";

// Replaces `path` with `content`. Returns OK, or Internal naming the path and the failing
// system call (errno text) after removing the temporary file.
absl::Status WriteFileAtomically(const std::string& path, std::string_view content, bool durable);

// Removes `path`; a missing file is OK. Internal with the errno text otherwise.
absl::Status RemoveFileIfExists(const std::string& path);

}  // namespace kustodian
