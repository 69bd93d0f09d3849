#include "src/core/status.h"

#include <cstdlib>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/types/optional.h"

namespace kustodian {
namespace {
constexpr char kRetryAfterUrl[] = "type.kustodian.io/retry-after-ms";
constexpr char kArmCodeUrl[] = "type.kustodian.io/arm-error-code";
}  // namespace

void SetRetryAfter(absl::Status& status, absl::Duration wait) {
  if (status.ok()) {
    return;
  }
  status.SetPayload(kRetryAfterUrl, absl::Cord(std::to_string(absl::ToInt64Milliseconds(wait))));
}

std::optional<absl::Duration> GetRetryAfter(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kRetryAfterUrl);
  if (!payload.has_value()) {
    return std::nullopt;
  }
  int64_t ms = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &ms)) {
    return std::nullopt;
  }
  return absl::Milliseconds(ms);
}

void SetArmErrorCode(absl::Status& status, std::string_view code) {
  if (status.ok() || code.empty()) {
    return;
  }
  status.SetPayload(kArmCodeUrl, absl::Cord(absl::string_view(code.data(), code.size())));
}

std::string GetArmErrorCode(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kArmCodeUrl);
  return payload.has_value() ? std::string(*payload) : std::string();
}

bool IsRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

}  // namespace kustodian
