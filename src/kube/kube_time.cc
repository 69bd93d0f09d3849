#include "src/kube/kube_time.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/core/strings.h"

namespace kustodian::kube {

std::string FormatMicroTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

std::string FormatKubeTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseKubeTime(std::string_view text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", Av(text), &t, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", Av(text), "\" is not an RFC 3339 time: ", error));
  }
  return t;
}

}  // namespace kustodian::kube
