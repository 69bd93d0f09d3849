#include "src/kube/backoff.h"

#include <algorithm>

namespace kustodian::kube {

absl::Duration Backoff::Next() {
  double factor = absl::Uniform(gen_, 1.0, 1.5);
  absl::Duration wait = std::min(current_ * factor, max_);
  current_ = std::min(current_ * 2, max_);
  return wait;
}

bool SleepUnlessStopped(Clock& clock, const std::atomic<bool>& stop, absl::Duration d) {
  constexpr absl::Duration kSlice = absl::Milliseconds(50);
  const absl::Time end = clock.Now() + d;
  while (!stop.load()) {
    absl::Duration left = end - clock.Now();
    if (left <= absl::ZeroDuration()) {
      return true;
    }
    clock.SleepFor(std::min(left, kSlice));
  }
  return false;
}

}  // namespace kustodian::kube
