// EventCoalescer: turns a burst of drift events for one key into one wake-up. The first event
// for a key schedules it `quiet` later; each further event pushes that back to `quiet` after
// itself, but never beyond `max_delay` after the first one. When the time comes the key is
// handed to `fire` (once) and forgotten, so a later event starts a new window. A continuous
// storm therefore wakes a key at most once per max_delay, and a lone event costs `quiet`.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "src/core/clock.h"

namespace kustodian {

struct CoalescerOptions {
  absl::Duration quiet = absl::Milliseconds(30);       // 0 = fire at once, from Add
  absl::Duration max_delay = absl::Milliseconds(300);  // >= quiet
  // Longest real-time wait of the timer thread between looks at the Clock (a FakeClock
  // advance is noticed within this; tests may also call FireDue directly).
  absl::Duration max_wait = absl::Milliseconds(10);
};

// Thread-safe. `fire` runs on the timer thread (or the caller of FireDue / Add), never under
// the coalescer's lock.
class EventCoalescer {
 public:
  using Fire = std::function<void(const std::string& key)>;
  EventCoalescer(const Clock& clock, CoalescerOptions options, Fire fire);
  ~EventCoalescer();  // Stop()s
  EventCoalescer(const EventCoalescer&) = delete;
  EventCoalescer& operator=(const EventCoalescer&) = delete;

  // Schedules or extends the window of `key`. Returns true when this opened a new window.
  bool Add(const std::string& key);
  // Fires every key whose time has come on the Clock; returns how many.
  int FireDue();
  // Keys waiting.
  int Pending() const;

  // Runs FireDue on a background thread until Stop (keys still waiting are dropped).
  void Start();
  void Stop();

 private:
  struct Window {
    absl::Time first;
    absl::Time due;
  };
  void Loop();

  const Clock& clock_;
  const CoalescerOptions options_;
  const Fire fire_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Window> windows_;  // guarded by mu_
  bool stopping_ = false;                  // guarded by mu_
  std::thread thread_;
};

}  // namespace kustodian
