// Per-key requeue delays for the WorkQueue, with client-go's semantics: per-item exponential
// failure backoff, an overall token bucket, and the max of several limiters. (Named
// WorkQueueRateLimiter because src/arm/rate_limiter.h already has the ARM-request RateLimiter.)
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "src/core/clock.h"

namespace kustodian {

// Thread-safe in every implementation.
class WorkQueueRateLimiter {
 public:
  virtual ~WorkQueueRateLimiter() = default;
  // How long to wait before `key` is retried; records one more requeue of `key`.
  virtual absl::Duration When(const std::string& key) = 0;
  // Stops tracking `key` (call when it was processed successfully): its backoff restarts.
  virtual void Forget(const std::string& key) = 0;
  // How many times `key` has been requeued since the last Forget.
  virtual int NumRequeues(const std::string& key) = 0;
};

// base * 2^failures, capped at max (client-go: 5 ms .. 1000 s).
class ItemExponentialFailureRateLimiter final : public WorkQueueRateLimiter {
 public:
  ItemExponentialFailureRateLimiter(absl::Duration base = absl::Milliseconds(5),
                                    absl::Duration max = absl::Seconds(1000));
  absl::Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int NumRequeues(const std::string& key) override;

 private:
  const absl::Duration base_;
  const absl::Duration max_;
  std::mutex mu_;
  std::map<std::string, int> failures_;  // guarded by mu_
};

// One token bucket for all keys (golang.org/x/time/rate semantics): starts full with `burst`
// tokens, refills at `qps` from the Clock; each When takes a token (the balance may go
// negative) and returns how long until that token exists (zero while tokens remain).
class BucketRateLimiter final : public WorkQueueRateLimiter {
 public:
  BucketRateLimiter(const Clock& clock, double qps = 10, int burst = 100);
  absl::Duration When(const std::string& key) override;
  void Forget(const std::string& /*key*/) override {}
  int NumRequeues(const std::string& /*key*/) override { return 0; }

 private:
  const Clock& clock_;
  const double qps_;
  const double burst_;
  std::mutex mu_;
  double tokens_;    // guarded by mu_
  absl::Time last_;  // guarded by mu_; time tokens_ was last refilled
};

// The longest delay of its limiters (each When is called, so each records the requeue).
class MaxOfRateLimiter final : public WorkQueueRateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<WorkQueueRateLimiter>> limiters);
  absl::Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int NumRequeues(const std::string& key) override;

 private:
  const std::vector<std::unique_ptr<WorkQueueRateLimiter>> limiters_;
};

// client-go's DefaultControllerRateLimiter: max of per-item exponential backoff (5 ms .. 1000 s)
// and a 10 qps / burst 100 bucket. `clock` must outlive the limiter.
std::unique_ptr<WorkQueueRateLimiter> DefaultControllerRateLimiter(const Clock& clock);

}  // namespace kustodian
