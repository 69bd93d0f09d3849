// Kubernetes time formats: metav1.Time (RFC 3339, seconds), metav1.MicroTime (microseconds),
// and kubectl's human-readable ages ("5s", "3m20s", "4h", "2d").
#pragma once

#include <optional>
#include <string>

#include "absl/time/time.h"

namespace kustodian::kubeapi {

std::string FormatK8sTime(absl::Time t);    // 2024-01-02T03:04:05Z
std::string FormatMicroTime(absl::Time t);  // 2024-01-02T03:04:05.000000Z
// Parses either form; nullopt when `s` is not RFC 3339.
std::optional<absl::Time> ParseTime(const std::string& s);
// duration.HumanDuration of k8s.io/apimachinery.
std::string HumanDuration(absl::Duration d);

}  // namespace kustodian::kubeapi
