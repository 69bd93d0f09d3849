#include "controller/eventgrid_coalescer.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace kustodian {

EventCoalescer::EventCoalescer(const Clock& clock, CoalescerOptions options, Fire fire)
    : clock_(clock), options_(options), fire_(std::move(fire)) {}

EventCoalescer::~EventCoalescer() { Stop(); }

bool EventCoalescer::Add(const std::string& key) {
  if (options_.quiet <= absl::ZeroDuration()) {
    fire_(key);
    return true;
  }
  bool opened = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = clock_.Now();
    auto it = windows_.find(key);
    if (it == windows_.end()) {
      windows_.emplace(key, Window{now, now + options_.quiet});
      opened = true;
    } else {
      const absl::Time cap = it->second.first + std::max(options_.max_delay, options_.quiet);
      it->second.due = std::min(std::max(it->second.due, now + options_.quiet), cap);
    }
  }
  if (opened) {
    cv_.notify_all();
  }
  return opened;
}

int EventCoalescer::FireDue() {
  std::vector<std::string> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = clock_.Now();
    for (auto it = windows_.begin(); it != windows_.end();) {
      if (it->second.due <= now) {
        due.push_back(it->first);
        it = windows_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const std::string& key : due) {
    fire_(key);
  }
  return static_cast<int>(due.size());
}

int EventCoalescer::Pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(windows_.size());
}

void EventCoalescer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) {
    return;
  }
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void EventCoalescer::Stop() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  cv_.notify_all();
  if (thread.joinable()) {
    thread.join();
  }
}

void EventCoalescer::Loop() {
  for (;;) {
    FireDue();
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) {
      return;
    }
    absl::Duration wait = options_.max_wait;
    const absl::Time now = clock_.Now();
    for (const auto& [key, w] : windows_) {
      wait = std::min(wait, w.due - now);
    }
    if (windows_.empty()) {
      // Nothing waits: sleep until Add opens a window (or Stop).
      cv_.wait(lock, [this] { return stopping_ || !windows_.empty(); });
    } else if (wait > absl::ZeroDuration()) {
      cv_.wait_for(lock, absl::ToChronoMicroseconds(wait));
    }
    if (stopping_) {
      return;
    }
  }
}

}  // namespace kustodian
