// Work queue rate limiters (client-go semantics).
#include "controller/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace kustodian {

ItemExponentialFailureRateLimiter::ItemExponentialFailureRateLimiter(absl::Duration base,
                                                                     absl::Duration max)
    : base_(base), max_(max) {}

absl::Duration ItemExponentialFailureRateLimiter::When(const std::string& key) {
  int exponent = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    exponent = failures_[key]++;
  }
  // In double nanoseconds, so a large exponent saturates instead of overflowing.
  const double backoff_ns = absl::ToDoubleNanoseconds(base_) * std::pow(2.0, exponent);
  if (!(backoff_ns < absl::ToDoubleNanoseconds(max_))) {
    return max_;
  }
  return absl::Nanoseconds(static_cast<int64_t>(backoff_ns));
}

void ItemExponentialFailureRateLimiter::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int ItemExponentialFailureRateLimiter::NumRequeues(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(const Clock& clock, double qps, int burst)
    : clock_(clock), qps_(qps), burst_(burst), tokens_(burst), last_(clock.Now()) {}

absl::Duration BucketRateLimiter::When(const std::string& /*key*/) {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_.Now();
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + qps_ * absl::ToDoubleSeconds(now - last_));
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) {
    return absl::ZeroDuration();
  }
  return absl::Seconds(-tokens_ / qps_);
}

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<WorkQueueRateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

absl::Duration MaxOfRateLimiter::When(const std::string& key) {
  absl::Duration longest = absl::ZeroDuration();
  for (const auto& limiter : limiters_) {
    longest = std::max(longest, limiter->When(key));
  }
  return longest;
}

void MaxOfRateLimiter::Forget(const std::string& key) {
  for (const auto& limiter : limiters_) {
    limiter->Forget(key);
  }
}

int MaxOfRateLimiter::NumRequeues(const std::string& key) {
  int most = 0;
  for (const auto& limiter : limiters_) {
    most = std::max(most, limiter->NumRequeues(key));
  }
  return most;
}

std::unique_ptr<WorkQueueRateLimiter> DefaultControllerRateLimiter(const Clock& clock) {
  std::vector<std::unique_ptr<WorkQueueRateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialFailureRateLimiter>(absl::Milliseconds(5),
                                                                         absl::Seconds(1000)));
  limiters.push_back(std::make_unique<BucketRateLimiter>(clock, 10, 100));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace kustodian
