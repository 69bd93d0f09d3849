// Kubernetes time formats: metav1.Time (RFC 3339, seconds) and metav1.MicroTime (RFC 3339 with
// exactly six fractional digits, e.g. 2026-12-02T17:00:00.000000Z), always in UTC.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kustodian::kube {

// "2026-12-02T17:00:00.000000Z".
std::string FormatMicroTime(absl::Time t);
// "2026-12-02T17:00:00Z".
std::string FormatKubeTime(absl::Time t);
// Parses RFC 3339 with any (or no) fraction and a "Z" or numeric offset. InvalidArgument
// naming the text otherwise.
absl::StatusOr<absl::Time> ParseKubeTime(std::string_view text);

}  // namespace kustodian::kube
