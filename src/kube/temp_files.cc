#include "src/kube/temp_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/core/strings.h"

namespace kustodian::kube {

TempFiles::~TempFiles() {
  for (const std::string& path : paths_) {
    ::unlink(path.c_str());
  }
}

absl::StatusOr<std::string> TempFiles::Write(std::string_view label, std::string_view content) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = absl::StrCat((dir != nullptr && dir[0] != '\0') ? dir : "/tmp", "/kustodian-",
                                  Av(label), "-XXXXXX");
  int fd = ::mkstemp(path.data());  // creates the file 0600
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot create a temporary file ", path, ": ", std::strerror(errno)));
  }
  ::fchmod(fd, S_IRUSR | S_IWUSR);
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return absl::InternalError(
          absl::StrCat("cannot write temporary file ", path, ": ", std::strerror(err)));
    }
    written += static_cast<size_t>(n);
  }
  ::close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  paths_.push_back(path);
  return path;
}

}  // namespace kustodian::kube
