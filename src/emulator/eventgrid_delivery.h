// Event Grid delivery for the emulator (arm-kusto-api.md §5): each subscription gets its own
// worker thread that first runs the validation handshake (Event Grid schema: the
// SubscriptionValidationEvent; CloudEvents: the OPTIONS abuse-protection preflight), then POSTs
// the published events in order, in batches, retrying failures on Azure's schedule (scaled for
// tests) and dead-lettering after max attempts or the time-to-live. Delivery waits use the real
// steady clock (never the emulator's injected Clock); event times come from the publisher.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/core/logging.h"
#include "src/emulator/eventgrid_config.h"
#include "src/emulator/eventgrid_events.h"
#include "src/http/http.h"

namespace kustodian::emulator {

struct EventGridOptions {
  double retry_scale = 1.0;  // multiplies every retry delay of §5.5 (tests use e.g. 0.001)
  absl::Duration batch_window = absl::Milliseconds(10);  // how long to gather a batch
  int max_attempts = 30;                 // default maxDeliveryAttempts (per subscription 1..30)
  absl::Duration ttl = absl::Hours(24);  // default event time-to-live
  absl::Duration delivery_timeout = absl::Seconds(30);  // per POST / OPTIONS, as Azure
  bool jitter = true;                                   // +-10% on each retry delay
  // While a subscription exists, the ticker (see SetTicker) runs this often.
  absl::Duration tick_interval = absl::Milliseconds(100);
  TransportOptions transport;
};

// Thread-safe. Stop() (or the destructor) ends every worker; no callback runs afterwards.
class EventGridDispatcher {
 public:
  // `logger` (optional) must outlive the dispatcher.
  EventGridDispatcher(EventGridOptions options, uint64_t seed, Logger* logger = nullptr);
  ~EventGridDispatcher();
  EventGridDispatcher(const EventGridDispatcher&) = delete;
  EventGridDispatcher& operator=(const EventGridDispatcher&) = delete;

  // `tick` runs every tick_interval on a thread of its own, without any dispatcher lock held,
  // from the first subscription on until Stop(). Call before adding subscriptions.
  void SetTicker(std::function<void()> tick);

  // Adds a subscription, or replaces the one of the same name (case-insensitive): either way
  // the validation handshake starts (again) at once and nothing is delivered until it passes.
  // The queued events of a replaced subscription are kept. `topic` is the validation event's.
  void Upsert(EventGridSubscriptionConfig config, std::string topic);
  // Removes a subscription and drops its queued events. False when there is none.
  bool Remove(std::string_view name);

  // Queues `event` for every subscription that includes its type and has not failed validation.
  void Publish(const ResourceEvent& event);

  // {"subscriptions":[config + state + counters + deadLetters]}, in name order.
  nlohmann::ordered_json SubscriptionsJson() const;
  // One subscription's entry, or nullopt.
  std::optional<nlohmann::ordered_json> SubscriptionJson(std::string_view name) const;
  // {published, delivered, failedAttempts, deadLettered, subscriptions}.
  nlohmann::ordered_json CountersJson() const;
  void ResetCounters();

  // Ends the workers and the ticker, waiting for an attempt in progress (at most
  // delivery_timeout). Idempotent.
  void Stop();

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct Pending;
  struct DeadLetter;
  struct Sub;

  void Worker(const std::shared_ptr<Sub>& s);
  void Ticker();
  // Runs one handshake attempt; called and returns with `lock` held (released meanwhile).
  void RunValidation(Sub& s, std::unique_lock<std::mutex>& lock);
  // Sends the current batch once; same locking as RunValidation.
  void RunDelivery(Sub& s, std::unique_lock<std::mutex>& lock);
  // Dead-letters the queued events whose time-to-live has passed.
  void ExpireFront(Sub& s, SteadyTime now);
  // Dead-letters the first `count` queued events.
  void DeadLetterFront(Sub& s, size_t count, std::string_view reason, int attempts);
  // The number of queued events the next batch takes, and whether that batch is full.
  std::pair<size_t, bool> NextBatch(const Sub& s) const;
  SteadyTime::duration Scaled(absl::Duration d);
  int MaxAttempts(const Sub& s) const;
  absl::Duration Ttl(const Sub& s) const;
  nlohmann::ordered_json SubJson(const Sub& s) const;

  const EventGridOptions options_;
  Logger* const logger_;
  const std::unique_ptr<HttpTransport> transport_;

  mutable std::mutex mu_;
  std::mt19937_64 rng_;                               // guarded by mu_
  std::map<std::string, std::shared_ptr<Sub>> subs_;  // guarded by mu_; lower-case name ->
  std::vector<std::thread> retired_;                  // guarded by mu_; workers of removed subs
  std::function<void()> tick_;                        // guarded by mu_
  std::thread ticker_;                                // guarded by mu_
  std::condition_variable ticker_cv_;
  bool stopping_ = false;        // guarded by mu_
  int64_t published_ = 0;        // guarded by mu_
  int64_t delivered_ = 0;        // guarded by mu_
  int64_t failed_attempts_ = 0;  // guarded by mu_
  int64_t dead_lettered_ = 0;    // guarded by mu_
};

}  // namespace kustodian::emulator
