#include "src/arm/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/core/arm_id.h"
#include "src/core/status.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

std::string_view TypeName(ArmOpType type) {
  switch (type) {
    case ArmOpType::kRead:
      return "reads";
    case ArmOpType::kWrite:
      return "writes";
    case ArmOpType::kDelete:
      return "deletes";
  }
  return "reads";
}

constexpr char kRateLimitWaitUrl[] = "type.kustodian.io/rate-limit-wait";

}  // namespace

absl::Status RateLimitWaitError(std::string_view message, absl::Duration wait) {
  absl::Status status = absl::UnavailableError(Av(message));
  SetRetryAfter(status, wait);
  status.SetPayload(kRateLimitWaitUrl, absl::Cord("1"));
  return status;
}

bool IsRateLimitWait(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kRateLimitWaitUrl).has_value();
}

RateLimiter::RateLimiter(RateLimitOptions options, Clock& clock)
    : options_(options), clock_(clock) {}

const BucketOptions& RateLimiter::OptionsFor(ArmOpType type) const {
  switch (type) {
    case ArmOpType::kRead:
      return options_.reads;
    case ArmOpType::kWrite:
      return options_.writes;
    case ArmOpType::kDelete:
      return options_.deletes;
  }
  return options_.reads;
}

RateLimiter::Bucket& RateLimiter::Refilled(std::string_view subscription, ArmOpType type) {
  const BucketOptions& opts = OptionsFor(type);
  absl::Time now = clock_.Now();
  auto [it, inserted] =
      buckets_.try_emplace({AsciiLower(subscription), type}, Bucket{opts.burst, now});
  Bucket& bucket = it->second;
  if (!inserted && now > bucket.updated) {
    double elapsed = absl::ToDoubleSeconds(now - bucket.updated);
    bucket.tokens = std::min(opts.burst, bucket.tokens + elapsed * opts.per_second);
    bucket.updated = now;
  }
  return bucket;
}

absl::Status RateLimiter::Acquire(std::string_view subscription, ArmOpType type,
                                  absl::Duration* inline_budget) {
  absl::Duration wait = absl::ZeroDuration();
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The shared throttling pause first: ARM's own answer, honoured even with buckets off.
    if (!paused_until_.empty()) {
      auto it = paused_until_.find({AsciiLower(subscription), type});
      if (it != paused_until_.end()) {
        absl::Time now = clock_.Now();
        if (now >= it->second) {
          paused_until_.erase(it);
        } else {
          absl::Duration pause = it->second - now;
          if (pause > *inline_budget) {
            return RateLimitWaitError(
                absl::StrCat("ARM throttled ", Av(TypeName(type)), " for subscription ",
                             Av(subscription), " (429); waiting ", absl::FormatDuration(pause),
                             " as its Retry-After asked"),
                pause);
          }
          wait = pause;
        }
      }
    }
    if (options_.enabled) {
      Bucket& bucket = Refilled(subscription, type);
      if (wait == absl::ZeroDuration() && bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        return absl::OkStatus();
      }
      const BucketOptions& opts = OptionsFor(type);
      double rate = opts.per_second > 0 ? opts.per_second : 1e-9;
      // Tokens at the end of the pause; whole milliseconds, rounded up, so the token is surely
      // there after the wait.
      double at_end = bucket.tokens + absl::ToDoubleSeconds(wait) * rate;
      if (at_end < 1.0) {
        double ms = std::ceil((1.0 - at_end) / rate * 1000.0 - 1e-6);
        wait += absl::Milliseconds(static_cast<int64_t>(std::max(ms, 1.0)));
      }
      if (wait > *inline_budget) {
        return RateLimitWaitError(
            absl::StrCat("client-side ARM rate limit: no ", Av(TypeName(type)),
                         " token for subscription ", Av(subscription), " for ",
                         absl::FormatDuration(wait)),
            wait);
      }
      bucket.tokens -= 1.0;  // reserved: the bucket goes negative until it refills
    }
  }
  if (wait > absl::ZeroDuration()) {
    clock_.SleepFor(wait);
    *inline_budget -= wait;
  }
  return absl::OkStatus();
}

void RateLimiter::ObserveRemaining(std::string_view subscription, ArmOpType type,
                                   int64_t remaining) {
  if (!options_.enabled || remaining < 0) {
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  Bucket& bucket = Refilled(subscription, type);
  bucket.tokens = std::min(bucket.tokens, static_cast<double>(remaining));
}

void RateLimiter::ObserveThrottled(std::string_view subscription, ArmOpType type,
                                   absl::Duration wait) {
  if (wait <= absl::ZeroDuration()) {
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  absl::Time until = clock_.Now() + wait;
  auto [it, inserted] = paused_until_.try_emplace({AsciiLower(subscription), type}, until);
  if (!inserted) {
    it->second = std::max(it->second, until);
  }
  if (options_.enabled) {
    // ARM's bucket is empty: ours holds exactly one token when the pause ends, so the callers
    // held back go out at the refill rate rather than in a burst.
    Bucket& bucket = Refilled(subscription, type);
    double floor = 1.0 - OptionsFor(type).per_second * absl::ToDoubleSeconds(wait);
    bucket.tokens = std::min(bucket.tokens, floor);
  }
}

absl::Duration RateLimiter::PausedFor(std::string_view subscription, ArmOpType type) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = paused_until_.find({AsciiLower(subscription), type});
  if (it == paused_until_.end()) {
    return absl::ZeroDuration();
  }
  return std::max(absl::ZeroDuration(), it->second - clock_.Now());
}

void RateLimiter::ObserveHeaders(std::string_view subscription, const HttpHeaders& headers) {
  for (ArmOpType type : {ArmOpType::kRead, ArmOpType::kWrite, ArmOpType::kDelete}) {
    std::optional<std::string> value = FindHeader(
        headers, absl::StrCat("x-ms-ratelimit-remaining-subscription-", Av(TypeName(type))));
    int64_t remaining = 0;
    if (value.has_value() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*value), &remaining)) {
      ObserveRemaining(subscription, type, remaining);
    }
  }
}

double RateLimiter::Available(std::string_view subscription, ArmOpType type) {
  std::lock_guard<std::mutex> lock(mu_);
  return Refilled(subscription, type).tokens;
}

}  // namespace kustodian
