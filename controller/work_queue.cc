// WorkQueue: dirty/processing sets, delayed adds and client-go metrics.
#include "controller/work_queue.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "src/metrics/kustodian_metrics.h"

namespace kustodian {

namespace {

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

}  // namespace

WorkQueueMetrics WorkQueueMetrics::From(KustodianMetrics& metrics) {
  WorkQueueMetrics m;
  m.depth = &metrics.workqueue_depth;
  m.adds = &metrics.workqueue_adds;
  m.retries = &metrics.workqueue_retries;
  m.queue_duration = &metrics.workqueue_queue_duration;
  m.work_duration = &metrics.workqueue_work_duration;
  m.unfinished_work = &metrics.workqueue_unfinished_work;
  m.longest_running_processor = &metrics.workqueue_longest_running_processor;
  return m;
}

WorkQueue::WorkQueue(const Clock& clock, std::unique_ptr<WorkQueueRateLimiter> rate_limiter,
                     WorkQueueMetrics metrics)
    : clock_(clock),
      rate_limiter_(rate_limiter != nullptr ? std::move(rate_limiter)
                                            : DefaultControllerRateLimiter(clock)),
      metrics_(metrics) {}

void WorkQueue::Add(const std::string& key) {
  const absl::Time now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  AddLocked(key, now);
}

void WorkQueue::AddLocked(const std::string& key, absl::Time now) {
  if (shutting_down_ || dirty_.count(key) > 0) {
    return;
  }
  if (metrics_.adds != nullptr) {
    metrics_.adds->Inc();
  }
  if (metrics_.depth != nullptr) {
    metrics_.depth->Inc();
  }
  auto dirty = dirty_.emplace(key, now).first;
  if (processing_.count(key) > 0) {
    return;  // queued again by Done
  }
  queue_.push_back(&dirty->first);
  ready_cv_.notify_one();
}

void WorkQueue::AddAfter(const std::string& key, absl::Duration delay) {
  const absl::Time now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) {
    return;
  }
  if (metrics_.retries != nullptr) {
    metrics_.retries->Inc();
  }
  if (delay <= absl::ZeroDuration()) {
    AddLocked(key, now);
    return;
  }
  const absl::Time ready = now + delay;
  const uint64_t seq = next_delay_seq_++;
  auto [it, inserted] = delayed_index_.try_emplace(key, ready, seq);
  if (!inserted) {
    if (ready >= it->second.first) {
      return;  // the earlier ready time wins
    }
    delayed_.erase({it->second.first, it->second.second, &it->first});
    it->second = {ready, seq};
  }
  delayed_.emplace(ready, seq, &it->first);
  ready_cv_.notify_all();  // waiters re-plan their wait around the new ready time
}

void WorkQueue::AddRateLimited(const std::string& key) { AddAfter(key, rate_limiter_->When(key)); }

void WorkQueue::Forget(const std::string& key) { rate_limiter_->Forget(key); }

int WorkQueue::NumRequeues(const std::string& key) { return rate_limiter_->NumRequeues(key); }

bool WorkQueue::Get(std::string* key) {
  std::unique_lock<std::mutex> lock(mu_);
  absl::Time now = clock_.Now();
  for (;;) {
    MoveDueLocked(now);
    if (!queue_.empty()) {
      break;
    }
    if (shutting_down_) {
      return false;
    }
    UpdateUnfinishedLocked(now);
    const absl::Duration budget = WaitBudgetLocked(now);
    if (budget == absl::InfiniteDuration()) {
      ready_cv_.wait(lock);
    } else {
      ready_cv_.wait_for(lock, absl::ToChronoNanoseconds(budget));
    }
    now = clock_.Now();
  }
  auto dirty = dirty_.extract(*queue_.front());
  queue_.pop_front();
  if (metrics_.depth != nullptr) {
    metrics_.depth->Dec();
  }
  if (metrics_.queue_duration != nullptr) {
    metrics_.queue_duration->Observe(Seconds(now - dirty.mapped()));
  }
  *key = std::move(dirty.key());
  start_times_[*key] = now;
  processing_.insert(*key);
  return true;
}

void WorkQueue::Done(const std::string& key) {
  const absl::Time now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (processing_.erase(key) == 0) {
    return;
  }
  auto started = start_times_.find(key);
  if (started != start_times_.end()) {
    if (metrics_.work_duration != nullptr) {
      metrics_.work_duration->Observe(Seconds(now - started->second));
    }
    start_times_.erase(started);
  }
  if (auto dirty = dirty_.find(key); dirty != dirty_.end()) {
    queue_.push_back(&dirty->first);
    ready_cv_.notify_one();
  } else if (processing_.empty()) {
    drain_cv_.notify_all();
  }
}

int WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(queue_.size());
}

int WorkQueue::NumDelayed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(delayed_.size());
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  draining_ = false;
  ready_cv_.notify_all();
  drain_cv_.notify_all();
}

void WorkQueue::ShutDownWithDrain() {
  std::unique_lock<std::mutex> lock(mu_);
  shutting_down_ = true;
  draining_ = true;
  ready_cv_.notify_all();
  drain_cv_.wait(lock, [this] { return processing_.empty() || !draining_; });
  draining_ = false;
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

void WorkQueue::Tick() {
  const absl::Time now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  MoveDueLocked(now);
  UpdateUnfinishedLocked(now);
}

void WorkQueue::MoveDueLocked(absl::Time now) {
  if (shutting_down_) {
    delayed_.clear();
    delayed_index_.clear();
    return;
  }
  while (!delayed_.empty() && std::get<0>(*delayed_.begin()) <= now) {
    auto node = delayed_index_.extract(*std::get<2>(*delayed_.begin()));
    delayed_.erase(delayed_.begin());
    AddLocked(node.key(), now);
  }
}

void WorkQueue::UpdateUnfinishedLocked(absl::Time now) {
  if (metrics_.unfinished_work == nullptr && metrics_.longest_running_processor == nullptr) {
    return;
  }
  double total = 0;
  double longest = 0;
  for (const auto& [key, started] : start_times_) {
    const double running = std::max(0.0, Seconds(now - started));
    total += running;
    longest = std::max(longest, running);
  }
  if (metrics_.unfinished_work != nullptr) {
    metrics_.unfinished_work->Set(total);
  }
  if (metrics_.longest_running_processor != nullptr) {
    metrics_.longest_running_processor->Set(longest);
  }
}

absl::Duration WorkQueue::WaitBudgetLocked(absl::Time now) const {
  const bool tracks_unfinished =
      metrics_.unfinished_work != nullptr || metrics_.longest_running_processor != nullptr;
  if (delayed_.empty() && (processing_.empty() || !tracks_unfinished)) {
    return absl::InfiniteDuration();
  }
  absl::Duration budget = kPollInterval;
  if (!delayed_.empty()) {
    budget = std::min(budget, std::get<0>(*delayed_.begin()) - now);
  }
  return std::max(budget, absl::Milliseconds(1));
}

}  // namespace kustodian
