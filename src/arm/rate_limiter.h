// Client-side token buckets that keep the daemon under ARM's throttling limits: one bucket per
// (subscription, operation type), refilled continuously from the Clock. ARM's
// x-ms-ratelimit-remaining-subscription-* headers lower a bucket when the server counts fewer
// tokens than we do (another client sharing the principal spent them).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "src/core/clock.h"
#include "src/http/http.h"

namespace kustodian {

// ARM's throttling operation types. Reads are GET, LIST and polls; writes are PUT, PATCH, POST.
enum class ArmOpType { kRead, kWrite, kDelete };

struct BucketOptions {
  double burst = 200;      // bucket size in tokens
  double per_second = 10;  // refill rate
};

struct RateLimitOptions {
  bool enabled = true;
  BucketOptions reads{250, 25};
  BucketOptions writes{200, 10};
  BucketOptions deletes{200, 10};
};

// True for the errors RateLimiter::Acquire returns: the call was never sent, because the
// client-side bucket or the shared pause after a 429 holds it back for GetRetryAfter(status).
// A wait, not a failure: callers requeue for that long without reporting an error.
bool IsRateLimitWait(const absl::Status& status);
// Such an error: Unavailable with `message`, Retry-After `wait` and the rate-limit-wait mark.
absl::Status RateLimitWaitError(std::string_view message, absl::Duration wait);

// Thread-safe.
class RateLimiter {
 public:
  RateLimiter(RateLimitOptions options, Clock& clock);

  // Takes one token of (subscription, type). When the bucket is empty and the wait for the next
  // token fits in `*inline_budget`, reserves the token, sleeps on the Clock and subtracts the
  // wait from the budget. Returns OK, or Unavailable with Retry-After = the wait when it does
  // not fit (no token taken).
  absl::Status Acquire(std::string_view subscription, ArmOpType type,
                       absl::Duration* inline_budget);

  // Lowers the bucket to `remaining` when it holds more.
  void ObserveRemaining(std::string_view subscription, ArmOpType type, int64_t remaining);
  // ARM answered 429 with Retry-After `wait`: ARM's bucket for this subscription and type is
  // empty, so no call of that type may go out before `wait` has passed (every caller, not only
  // the one that was throttled). This shared throttling pause holds also when the client-side
  // buckets are disabled (--arm-rate-limits off): ARM asked for it.
  void ObserveThrottled(std::string_view subscription, ArmOpType type, absl::Duration wait);
  // How long calls of (subscription, type) are still paused by a 429; zero when not paused.
  absl::Duration PausedFor(std::string_view subscription, ArmOpType type);
  // Applies every x-ms-ratelimit-remaining-subscription-{reads,writes,deletes} header present.
  void ObserveHeaders(std::string_view subscription, const HttpHeaders& headers);

  // Tokens currently in the bucket (after refill; negative while waits are reserved).
  double Available(std::string_view subscription, ArmOpType type);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  const BucketOptions& OptionsFor(ArmOpType type) const;
  // The refilled bucket for the key, created full. Requires mu_.
  Bucket& Refilled(std::string_view subscription, ArmOpType type);

  const RateLimitOptions options_;
  Clock& clock_;
  std::mutex mu_;
  std::map<std::pair<std::string, ArmOpType>, Bucket> buckets_;  // guarded by mu_
  // The shared throttling pause: no call of (subscription, type) before this time. mu_.
  std::map<std::pair<std::string, ArmOpType>, absl::Time> paused_until_;
};

}  // namespace kustodian
