#include "src/arm/rate_limiter.h"

#include "gtest/gtest.h"
#include "src/core/status.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

constexpr char kSub[] = "sub-1";

RateLimitOptions SmallBuckets() {
  RateLimitOptions options;
  options.reads = {3, 1};     // 3 burst, 1 token/s
  options.writes = {2, 0.5};  // 2 burst, one token every 2 s
  options.deletes = {1, 10};
  return options;
}

TEST(RateLimiterTest, DefaultsMatchArmLimits) {
  RateLimitOptions options;
  EXPECT_EQ(options.reads.burst, 250);
  EXPECT_EQ(options.reads.per_second, 25);
  EXPECT_EQ(options.writes.burst, 200);
  EXPECT_EQ(options.writes.per_second, 10);
  EXPECT_EQ(options.deletes.burst, 200);
  EXPECT_EQ(options.deletes.per_second, 10);
}

TEST(RateLimiterTest, BurstThenWaitsOneRefillPerToken) {
  FakeClock clock;
  RateLimiter limiter(SmallBuckets(), clock);
  absl::Time start = clock.Now();
  absl::Duration budget = absl::Seconds(10);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter.Acquire(kSub, ArmOpType::kRead, &budget).ok());
  }
  EXPECT_EQ(clock.Now(), start);  // the burst costs no time
  ASSERT_TRUE(limiter.Acquire(kSub, ArmOpType::kRead, &budget).ok());
  EXPECT_EQ(clock.Now() - start, absl::Seconds(1));
  ASSERT_TRUE(limiter.Acquire(kSub, ArmOpType::kRead, &budget).ok());
  EXPECT_EQ(clock.Now() - start, absl::Seconds(2));
  EXPECT_EQ(budget, absl::Seconds(8));
}

TEST(RateLimiterTest, WaitBeyondBudgetIsUnavailableAndTakesNoToken) {
  FakeClock clock;
  RateLimiter limiter(SmallBuckets(), clock);
  absl::Duration budget = absl::Seconds(1);
  ASSERT_TRUE(limiter.Acquire(kSub, ArmOpType::kWrite, &budget).ok());
  ASSERT_TRUE(limiter.Acquire(kSub, ArmOpType::kWrite, &budget).ok());
  absl::Time before = clock.Now();
  absl::Status s = limiter.Acquire(kSub, ArmOpType::kWrite, &budget);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryAfter(s), absl::Seconds(2));
  EXPECT_EQ(clock.Now(), before);  // no sleep
  EXPECT_EQ(budget, absl::Seconds(1));
  // After the refill the token is there: the refused call took none.
  clock.Advance(absl::Seconds(2));
  absl::Duration none = absl::ZeroDuration();
  EXPECT_TRUE(limiter.Acquire(kSub, ArmOpType::kWrite, &none).ok());
}

TEST(RateLimiterTest, ServerThrottleHoldsBackEveryCallerForRetryAfter) {
  FakeClock clock;
  RateLimiter limiter(SmallBuckets(), clock);
  // The bucket is full (3 reads), but ARM said 429 with Retry-After 5 s.
  limiter.ObserveThrottled(kSub, ArmOpType::kRead, absl::Seconds(5));
  absl::Duration none = absl::ZeroDuration();
  absl::Status s = limiter.Acquire(kSub, ArmOpType::kRead, &none);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryAfter(s), absl::Seconds(5));
  // Other types and subscriptions are not affected.
  EXPECT_TRUE(limiter.Acquire(kSub, ArmOpType::kWrite, &none).ok());
  EXPECT_TRUE(limiter.Acquire("sub-2", ArmOpType::kRead, &none).ok());
  clock.Advance(absl::Seconds(5));
  EXPECT_TRUE(limiter.Acquire(kSub, ArmOpType::kRead, &none).ok());
}

TEST(RateLimiterTest, BucketsAreKeyedBySubscriptionAndType) {
  FakeClock clock;
  RateLimiter limiter(SmallBuckets(), clock);
  absl::Duration none = absl::ZeroDuration();
  ASSERT_TRUE(limiter.Acquire(kSub, ArmOpType::kDelete, &none).ok());
  EXPECT_FALSE(limiter.Acquire(kSub, ArmOpType::kDelete, &none).ok());
  EXPECT_TRUE(limiter.Acquire("SUB-1", ArmOpType::kRead, &none).ok());     // other type
  EXPECT_TRUE(limiter.Acquire("sub-2", ArmOpType::kDelete, &none).ok());   // other subscription
  EXPECT_FALSE(limiter.Acquire("SUB-1", ArmOpType::kDelete, &none).ok());  // case-insensitive
}

TEST(RateLimiterTest, RefillIsCappedAtTheBurst) {
  FakeClock clock;
  RateLimiter limiter(SmallBuckets(), clock);
  absl::Duration none = absl::ZeroDuration();
  ASSERT_TRUE(limiter.Acquire(kSub, ArmOpType::kRead, &none).ok());
  clock.Advance(absl::Hours(1));
  EXPECT_DOUBLE_EQ(limiter.Available(kSub, ArmOpType::kRead), 3);
}

TEST(RateLimiterTest, RemainingHeaderLowersButNeverRaises) {
  FakeClock clock;
  RateLimiter limiter(RateLimitOptions(), clock);
  limiter.ObserveHeaders(kSub, {{"x-ms-ratelimit-remaining-subscription-reads", "4"},
                                {"x-ms-ratelimit-remaining-subscription-deletes", "199"},
                                {"x-ms-ratelimit-remaining-subscription-global-writes", "0"}});
  EXPECT_DOUBLE_EQ(limiter.Available(kSub, ArmOpType::kRead), 4);
  EXPECT_DOUBLE_EQ(limiter.Available(kSub, ArmOpType::kDelete), 199);
  EXPECT_DOUBLE_EQ(limiter.Available(kSub, ArmOpType::kWrite), 200);  // global header ignored
  limiter.ObserveRemaining(kSub, ArmOpType::kRead, 100);
  EXPECT_DOUBLE_EQ(limiter.Available(kSub, ArmOpType::kRead), 4);
}

TEST(RateLimiterTest, BucketEmptiedByTheServerRefillsAtTheRate) {
  FakeClock clock;
  RateLimiter limiter(SmallBuckets(), clock);
  limiter.ObserveRemaining(kSub, ArmOpType::kRead, 0);
  absl::Duration budget = absl::Seconds(5);
  absl::Time start = clock.Now();
  // The server said the bucket is empty: each read waits one refill.
  ASSERT_TRUE(limiter.Acquire(kSub, ArmOpType::kRead, &budget).ok());
  EXPECT_EQ(clock.Now() - start, absl::Seconds(1));
  ASSERT_TRUE(limiter.Acquire(kSub, ArmOpType::kRead, &budget).ok());
  EXPECT_EQ(clock.Now() - start, absl::Seconds(2));
}

TEST(RateLimiterTest, DisabledStillHonoursTheThrottlePause) {
  FakeClock clock;
  RateLimitOptions options = SmallBuckets();
  options.enabled = false;
  RateLimiter limiter(options, clock);
  limiter.ObserveThrottled(kSub, ArmOpType::kRead, absl::Seconds(4));
  absl::Duration none = absl::ZeroDuration();
  absl::Status s = limiter.Acquire(kSub, ArmOpType::kRead, &none);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryAfter(s), absl::Seconds(4));
  // Within the inline budget the caller waits the rest of the pause on the Clock.
  clock.Advance(absl::Seconds(3));
  absl::Duration budget = absl::Seconds(2);
  absl::Time before = clock.Now();
  ASSERT_TRUE(limiter.Acquire(kSub, ArmOpType::kRead, &budget).ok());
  EXPECT_EQ(clock.Now() - before, absl::Seconds(1));
  EXPECT_EQ(budget, absl::Seconds(1));
  EXPECT_TRUE(limiter.Acquire(kSub, ArmOpType::kRead, &none).ok());  // pause over
}

TEST(RateLimiterTest, DisabledNeverWaits) {
  FakeClock clock;
  RateLimitOptions options = SmallBuckets();
  options.enabled = false;
  RateLimiter limiter(options, clock);
  absl::Duration none = absl::ZeroDuration();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(limiter.Acquire(kSub, ArmOpType::kDelete, &none).ok());
  }
}

}  // namespace
}  // namespace kustodian
