#include "src/emulator/eventgrid_delivery.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/core/strings.h"
#include "src/emulator/eventgrid_webhook.h"
#include "src/emulator/ids.h"

namespace kustodian::emulator {

namespace {

constexpr size_t kDeadLettersKept = 100;

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(Av(s)); }

std::string FormatWall(absl::Time t) { return t == absl::InfinitePast() ? "" : EventTime(t); }

}  // namespace

struct EventGridDispatcher::Pending {
  ResourceEvent event;
  std::string event_grid;   // rendered in the Event Grid schema
  std::string cloud_event;  // rendered as a CloudEvent
  SteadyTime enqueued;
  const std::string& Rendered(EventSchema schema) const {
    return schema == EventSchema::kCloudEvents ? cloud_event : event_grid;
  }
};

struct EventGridDispatcher::DeadLetter {
  std::string id, event_type, subject, reason, last_outcome;
  int attempts = 0;
  absl::Time publish_time, last_attempt_time, dead_letter_time;
};

struct EventGridDispatcher::Sub {
  EventGridSubscriptionConfig config;
  std::string topic;
  uint64_t generation = 0;
  std::thread thread;
  std::condition_variable cv;
  bool stop = false;
  enum class State { kAwaiting, kValidated, kFailed } state = State::kAwaiting;
  int validation_attempts = 0;  // failed ones, since the last Upsert
  SteadyTime next_validation;
  std::string last_validation_error;
  std::deque<Pending> queue;
  size_t batch_count = 0;  // > 0: the first batch_count queued events are the batch being sent
  int batch_attempts = 0;  // failed attempts of that batch
  SteadyTime next_attempt;
  int64_t matched = 0, delivered = 0, delivered_batches = 0, failed_attempts = 0, dead_lettered = 0;
  std::string last_outcome;
  absl::Time last_attempt_time = absl::InfinitePast();
  std::deque<DeadLetter> dead_letters;
};

EventGridDispatcher::EventGridDispatcher(EventGridOptions options, uint64_t seed, Logger* logger)
    : options_(std::move(options)),
      logger_(logger),
      transport_(NewHttpTransport(options_.transport)),
      rng_(seed) {}

EventGridDispatcher::~EventGridDispatcher() { Stop(); }

void EventGridDispatcher::SetTicker(std::function<void()> tick) {
  std::lock_guard<std::mutex> lock(mu_);
  tick_ = std::move(tick);
}

void EventGridDispatcher::Upsert(EventGridSubscriptionConfig config, std::string topic) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    return;
  }
  std::shared_ptr<Sub>& slot = subs_[Lower(config.name)];
  bool fresh = slot == nullptr;
  if (fresh) {
    slot = std::make_shared<Sub>();
  }
  Sub& s = *slot;
  s.config = std::move(config);
  s.topic = std::move(topic);
  ++s.generation;
  s.state = Sub::State::kAwaiting;
  s.validation_attempts = 0;
  s.last_validation_error.clear();
  s.next_validation = std::chrono::steady_clock::now();
  s.next_attempt = s.next_validation;
  if (fresh) {
    std::shared_ptr<Sub> keep = slot;
    s.thread = std::thread([this, keep] { Worker(keep); });
  }
  s.cv.notify_all();
  if (tick_ && !ticker_.joinable()) {
    ticker_ = std::thread([this] { Ticker(); });
  }
}

bool EventGridDispatcher::Remove(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = subs_.find(Lower(name));
  if (it == subs_.end()) {
    return false;
  }
  it->second->stop = true;
  it->second->cv.notify_all();
  retired_.push_back(std::move(it->second->thread));
  subs_.erase(it);
  return true;
}

void EventGridDispatcher::Publish(const ResourceEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  ++published_;
  std::optional<Pending> pending;
  for (auto& [key, s] : subs_) {
    if (s->state == Sub::State::kFailed || !s->config.Includes(event.event_type)) {
      continue;
    }
    if (!pending.has_value()) {
      pending.emplace();
      pending->event = event;
      pending->event_grid = EventGridJson(event).dump();
      pending->cloud_event = CloudEventJson(event).dump();
      pending->enqueued = std::chrono::steady_clock::now();
    }
    s->queue.push_back(*pending);
    ++s->matched;
    s->cv.notify_all();
  }
}

void EventGridDispatcher::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [key, s] : subs_) {
      s->stop = true;
      s->cv.notify_all();
      threads.push_back(std::move(s->thread));
    }
    for (std::thread& t : retired_) {
      threads.push_back(std::move(t));
    }
    retired_.clear();
    threads.push_back(std::move(ticker_));
    ticker_cv_.notify_all();
  }
  for (std::thread& t : threads) {
    if (t.joinable()) {
      t.join();
    }
  }
}

void EventGridDispatcher::Ticker() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    ticker_cv_.wait_for(lock,
                        std::chrono::nanoseconds(absl::ToInt64Nanoseconds(options_.tick_interval)));
    if (stopping_) {
      break;
    }
    std::function<void()> tick = tick_;
    lock.unlock();
    tick();
    lock.lock();
  }
}

EventGridDispatcher::SteadyTime::duration EventGridDispatcher::Scaled(absl::Duration d) {
  double factor = options_.retry_scale;
  if (options_.jitter) {
    factor *= std::uniform_real_distribution<double>(0.9, 1.1)(rng_);
  }
  return std::chrono::duration_cast<SteadyTime::duration>(
      std::chrono::nanoseconds(absl::ToInt64Nanoseconds(d * factor)));
}

int EventGridDispatcher::MaxAttempts(const Sub& s) const {
  return s.config.max_delivery_attempts > 0 ? s.config.max_delivery_attempts
                                            : options_.max_attempts;
}

absl::Duration EventGridDispatcher::Ttl(const Sub& s) const {
  return s.config.event_ttl > absl::ZeroDuration() ? s.config.event_ttl : options_.ttl;
}

void EventGridDispatcher::Worker(const std::shared_ptr<Sub>& sp) {
  Sub& s = *sp;
  std::unique_lock<std::mutex> lock(mu_);
  while (!s.stop) {
    SteadyTime now = std::chrono::steady_clock::now();
    ExpireFront(s, now);
    SteadyTime wake = SteadyTime::max();
    if (!s.queue.empty()) {
      wake = s.queue.front().enqueued + std::chrono::nanoseconds(absl::ToInt64Nanoseconds(Ttl(s))) +
             std::chrono::milliseconds(1);
    }
    if (s.state == Sub::State::kAwaiting) {
      if (now >= s.next_validation) {
        RunValidation(s, lock);
        continue;
      }
      wake = std::min(wake, s.next_validation);
    } else if (s.state == Sub::State::kValidated && !s.queue.empty()) {
      if (s.batch_count == 0) {
        auto [count, full] = NextBatch(s);
        SteadyTime ready =
            s.queue.front().enqueued +
            std::chrono::nanoseconds(absl::ToInt64Nanoseconds(options_.batch_window));
        if (full || now >= ready) {
          s.batch_count = count;
          s.batch_attempts = 0;
          s.next_attempt = now;
        } else {
          wake = std::min(wake, ready);
        }
      }
      if (s.batch_count > 0) {
        if (now >= s.next_attempt) {
          RunDelivery(s, lock);
          continue;
        }
        wake = std::min(wake, s.next_attempt);
      }
    }
    if (wake == SteadyTime::max()) {
      s.cv.wait(lock);
    } else {
      s.cv.wait_until(lock, wake);
    }
  }
}

std::pair<size_t, bool> EventGridDispatcher::NextBatch(const Sub& s) const {
  size_t limit_bytes = static_cast<size_t>(s.config.preferred_batch_size_kb) * 1024;
  size_t max_events = static_cast<size_t>(s.config.max_events_per_batch);
  size_t count = 0;
  size_t bytes = 0;
  while (count < s.queue.size() && count < max_events) {
    size_t size = s.queue[count].Rendered(s.config.schema).size();
    if (count > 0 && bytes + size > limit_bytes) {
      break;
    }
    bytes += size;
    ++count;
  }
  return {count, count == max_events || count < s.queue.size()};
}

void EventGridDispatcher::ExpireFront(Sub& s, SteadyTime now) {
  auto ttl = std::chrono::nanoseconds(absl::ToInt64Nanoseconds(Ttl(s)));
  size_t expired = 0;
  while (expired < s.queue.size() && now - s.queue[expired].enqueued >= ttl) {
    ++expired;
  }
  if (expired > 0) {
    int attempts = s.batch_count > 0 ? s.batch_attempts : 0;
    DeadLetterFront(s, expired, "TimeToLiveExceeded", attempts);
  }
}

void EventGridDispatcher::DeadLetterFront(Sub& s, size_t count, std::string_view reason,
                                          int attempts) {
  count = std::min(count, s.queue.size());
  for (size_t i = 0; i < count; ++i) {
    const Pending& p = s.queue.front();
    DeadLetter dl;
    dl.id = p.event.id;
    dl.event_type = p.event.event_type;
    dl.subject = p.event.subject;
    dl.reason = std::string(reason);
    dl.attempts = i < s.batch_count ? attempts : 0;
    dl.last_outcome = i < s.batch_count ? s.last_outcome : "";
    dl.publish_time = p.event.time;
    dl.last_attempt_time = i < s.batch_count ? s.last_attempt_time : absl::InfinitePast();
    dl.dead_letter_time = absl::Now();
    s.dead_letters.push_back(std::move(dl));
    if (s.dead_letters.size() > kDeadLettersKept) {
      s.dead_letters.pop_front();
    }
    s.queue.pop_front();
  }
  s.batch_count = count >= s.batch_count ? 0 : s.batch_count - count;
  if (s.batch_count == 0) {
    s.batch_attempts = 0;
  }
  s.dead_lettered += static_cast<int64_t>(count);
  dead_lettered_ += static_cast<int64_t>(count);
  if (logger_ != nullptr && count > 0) {
    logger_->Warn("eventgrid events dead-lettered", {{"subscription", s.config.name},
                                                     {"count", std::to_string(count)},
                                                     {"reason", std::string(reason)}});
  }
}

void EventGridDispatcher::RunValidation(Sub& s, std::unique_lock<std::mutex>& lock) {
  EventGridSubscriptionConfig config = s.config;
  uint64_t generation = s.generation;
  int attempt = s.validation_attempts;
  std::string code = StableGuid(absl::StrCat(std::uniform_int_distribution<uint64_t>()(rng_), ":",
                                             std::uniform_int_distribution<uint64_t>()(rng_)));
  std::string topic = s.topic;
  lock.unlock();
  absl::Status result =
      RunHandshake(*transport_, config, topic, code, attempt, options_.delivery_timeout);
  lock.lock();
  if (s.stop || s.generation != generation) {
    return;  // removed or replaced meanwhile: the new configuration validates afresh
  }
  if (result.ok()) {
    s.state = Sub::State::kValidated;
    s.last_validation_error.clear();
    if (logger_ != nullptr) {
      logger_->Info("eventgrid subscription validated", {{"subscription", config.name}});
    }
    return;
  }
  ++s.validation_attempts;
  s.last_validation_error = std::string(result.message());
  if (s.validation_attempts >= MaxAttempts(s)) {
    s.state = Sub::State::kFailed;
    s.batch_count = 0;
    DeadLetterFront(s, s.queue.size(), "SubscriptionValidationFailed", 0);
  } else {
    s.next_validation =
        std::chrono::steady_clock::now() + Scaled(RetryDelay(s.validation_attempts, 0));
  }
  if (logger_ != nullptr) {
    logger_->Warn("eventgrid subscription validation failed",
                  {{"subscription", config.name},
                   {"attempt", std::to_string(s.validation_attempts)},
                   {"error", s.last_validation_error}});
  }
}

void EventGridDispatcher::RunDelivery(Sub& s, std::unique_lock<std::mutex>& lock) {
  size_t count = s.batch_count;
  std::vector<std::string> rendered;
  for (size_t i = 0; i < count; ++i) {
    rendered.push_back(s.queue[i].Rendered(s.config.schema));
  }
  HttpRequest request =
      NotificationRequest(s.config, rendered, s.batch_attempts, s.queue.front().event.data_version,
                          options_.delivery_timeout);
  std::string name = s.config.name;
  lock.unlock();
  absl::StatusOr<HttpResponse> response = transport_->Send(request);
  lock.lock();
  if (s.stop) {
    return;
  }
  int status = response.ok() ? response->status : 0;
  s.last_attempt_time = absl::Now();
  // The worker is the only one taking events off the queue, so the batch is still its front.
  if (IsDeliverySuccess(status)) {
    s.last_outcome = absl::StrCat("HTTP ", status);
    s.queue.erase(s.queue.begin(), s.queue.begin() + static_cast<std::ptrdiff_t>(count));
    s.batch_count = 0;
    s.batch_attempts = 0;
    s.delivered += static_cast<int64_t>(count);
    ++s.delivered_batches;
    delivered_ += static_cast<int64_t>(count);
    return;
  }
  s.last_outcome =
      response.ok() ? absl::StrCat("HTTP ", status) : std::string(response.status().message());
  ++s.batch_attempts;
  ++s.failed_attempts;
  ++failed_attempts_;
  if (IsNonRetriedStatus(status)) {
    DeadLetterFront(s, count, "NonRetriableStatusCode", s.batch_attempts);
  } else if (s.batch_attempts >= MaxAttempts(s)) {
    DeadLetterFront(s, count, "MaxDeliveryAttemptsExceeded", s.batch_attempts);
  } else {
    s.next_attempt =
        std::chrono::steady_clock::now() + Scaled(RetryDelay(s.batch_attempts, status));
  }
  if (logger_ != nullptr) {
    logger_->Info(
        "eventgrid delivery failed",
        {{"subscription", name}, {"outcome", s.last_outcome}, {"events", std::to_string(count)}});
  }
}

nlohmann::ordered_json EventGridDispatcher::SubJson(const Sub& s) const {
  nlohmann::ordered_json out = SubscriptionToJson(s.config);
  out["state"] = s.state == Sub::State::kValidated ? "Validated"
                 : s.state == Sub::State::kFailed  ? "ValidationFailed"
                                                   : "AwaitingValidation";
  out["validated"] = s.state == Sub::State::kValidated;
  out["validationAttempts"] = s.validation_attempts;
  out["lastValidationError"] = s.last_validation_error;
  out["matched"] = s.matched;
  out["delivered"] = s.delivered;
  out["deliveredBatches"] = s.delivered_batches;
  out["failedAttempts"] = s.failed_attempts;
  out["pending"] = s.queue.size();
  out["inFlight"] = s.batch_count;
  out["deadLettered"] = s.dead_lettered;
  out["lastDeliveryOutcome"] = s.last_outcome;
  out["lastDeliveryAttemptTime"] = FormatWall(s.last_attempt_time);
  nlohmann::ordered_json dead = nlohmann::ordered_json::array();
  for (const DeadLetter& dl : s.dead_letters) {
    dead.push_back({{"id", dl.id},
                    {"eventType", dl.event_type},
                    {"subject", dl.subject},
                    {"deadLetterReason", dl.reason},
                    {"deliveryAttempts", dl.attempts},
                    {"lastDeliveryOutcome", dl.last_outcome},
                    {"publishTime", FormatWall(dl.publish_time)},
                    {"lastDeliveryAttemptTime", FormatWall(dl.last_attempt_time)},
                    {"deadLetterTime", FormatWall(dl.dead_letter_time)}});
  }
  out["deadLetters"] = dead;
  return out;
}

nlohmann::ordered_json EventGridDispatcher::SubscriptionsJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& [key, s] : subs_) {
    list.push_back(SubJson(*s));
  }
  return nlohmann::ordered_json{{"subscriptions", list}};
}

std::optional<nlohmann::ordered_json> EventGridDispatcher::SubscriptionJson(
    std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = subs_.find(Lower(name));
  if (it == subs_.end()) {
    return std::nullopt;
  }
  return SubJson(*it->second);
}

nlohmann::ordered_json EventGridDispatcher::CountersJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  return nlohmann::ordered_json{{"published", published_},
                                {"delivered", delivered_},
                                {"failedAttempts", failed_attempts_},
                                {"deadLettered", dead_lettered_},
                                {"subscriptions", subs_.size()}};
}

void EventGridDispatcher::ResetCounters() {
  std::lock_guard<std::mutex> lock(mu_);
  published_ = delivered_ = failed_attempts_ = dead_lettered_ = 0;
}

}  // namespace kustodian::emulator
