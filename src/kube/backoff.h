// Helpers for the kube background loops: capped exponential backoff with jitter, and a sleep
// that a stop flag cuts short.
#pragma once

#include <atomic>

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "src/core/clock.h"

namespace kustodian::kube {

// Not thread-safe; one per loop.
class Backoff {
 public:
  Backoff(absl::Duration min, absl::Duration max) : min_(min), max_(max), current_(min) {}
  // The next wait: the current step scaled by a random factor in [1, 1.5), capped at max; the
  // step then doubles.
  absl::Duration Next();
  // Back to the minimum (after a healthy period).
  void Reset() { current_ = min_; }

 private:
  const absl::Duration min_;
  const absl::Duration max_;
  absl::Duration current_;
  absl::BitGen gen_;
};

// Sleeps `d` on `clock` in slices of at most 50 ms, returning early once `stop` is true.
// Returns false when stopped.
bool SleepUnlessStopped(Clock& clock, const std::atomic<bool>& stop, absl::Duration d);

}  // namespace kustodian::kube
