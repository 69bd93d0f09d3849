#include "src/arm/retry.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace kustodian {

bool IsRetryableHttpStatus(int http_status) {
  switch (http_status) {
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

bool IsRetryableTransportError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

absl::Duration RetryBackoff(const RetryOptions& options, int retry,
                            std::optional<absl::Duration> retry_after, double unit_sample) {
  absl::Duration base = options.initial_backoff;
  for (int i = 0; i < retry && base < options.max_backoff; ++i) {
    base *= 2;
  }
  base = std::min(base, options.max_backoff);
  double sample = std::clamp(unit_sample, -1.0, 1.0);
  double factor = std::max(0.0, 1.0 + options.jitter * sample);
  // Whole milliseconds keep waits exact on a fake clock.
  absl::Duration wait = absl::Milliseconds(std::llround(absl::ToDoubleMilliseconds(base) * factor));
  if (retry_after.has_value()) {
    wait = std::max(wait, *retry_after);
  }
  return wait;
}

absl::Duration PollBackoff(int polls) {
  static constexpr std::array<int, 7> kSeconds = {1, 2, 2, 4, 8, 16, 30};
  constexpr int kSteps = static_cast<int>(kSeconds.size());
  int index = std::clamp(polls, 0, kSteps - 1);
  return absl::Seconds(kSeconds[index]);
}

}  // namespace kustodian
