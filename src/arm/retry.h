// Retry policy for ARM calls: which answers are worth another attempt and how long to wait
// before it (exponential backoff with jitter, never shorter than the server's Retry-After), plus
// the backoff between polls of a long-running operation.
#pragma once

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace kustodian {

struct RetryOptions {
  int max_attempts = 4;  // attempts in total, the first one included
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  double jitter = 0.2;  // the backoff is scaled by a random factor in [1 - jitter, 1 + jitter]
};

// True for the HTTP statuses retried inline: 429, 500, 502, 503, 504.
bool IsRetryableHttpStatus(int http_status);

// True for transport failures worth another attempt (Unavailable, DeadlineExceeded).
bool IsRetryableTransportError(const absl::Status& status);

// The wait before retry number `retry` (0 = the first retry):
// min(max_backoff, initial_backoff * 2^retry) * (1 + jitter * unit_sample), where unit_sample
// is in [-1, 1], but never less than `retry_after` when the server sent one.
absl::Duration RetryBackoff(const RetryOptions& options, int retry,
                            std::optional<absl::Duration> retry_after, double unit_sample);

// The wait before the next poll of a long-running operation that has been polled `polls`
// times, when the server sent no Retry-After: 1, 2, 2, 4, 8, 16, then 30 s.
absl::Duration PollBackoff(int polls);

}  // namespace kustodian
