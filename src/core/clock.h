// The time seam. Every component that reads the time or waits takes a Clock&, so tests drive
// time with FakeClock (tests/fakes/fake_clock.h) instead of sleeping.
#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kustodian {

// Thread-safe in every implementation.
class Clock {
 public:
  virtual ~Clock() = default;
  // The current wall-clock time.
  virtual absl::Time Now() const = 0;
  // Blocks the calling thread for `d` (a fake clock advances itself instead). Only CLI paths
  // and dedicated timer threads may call this; reconcile workers never do.
  virtual void SleepFor(absl::Duration d) = 0;
};

// The real clock: absl::Now() and absl::SleepFor().
class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  void SleepFor(absl::Duration d) override { absl::SleepFor(d); }
};

}  // namespace kustodian
