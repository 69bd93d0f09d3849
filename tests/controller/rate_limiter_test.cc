// Work queue rate limiters: per-item exponential backoff, token bucket, max-of and the
// client-go default, all driven by a FakeClock.
#include "controller/rate_limiter.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

// Delays in microseconds, so float noise in the bucket's arithmetic does not matter.
int64_t Micros(absl::Duration d) { return absl::ToInt64Microseconds(d + absl::Nanoseconds(500)); }

TEST(ItemExponentialFailureRateLimiterTest, DoublesPerKeyAndForgetResets) {
  ItemExponentialFailureRateLimiter limiter(absl::Milliseconds(5), absl::Seconds(1000));
  EXPECT_EQ(limiter.When("a"), absl::Milliseconds(5));
  EXPECT_EQ(limiter.When("a"), absl::Milliseconds(10));
  EXPECT_EQ(limiter.When("a"), absl::Milliseconds(20));
  EXPECT_EQ(limiter.When("b"), absl::Milliseconds(5));  // keys are independent
  EXPECT_EQ(limiter.NumRequeues("a"), 3);
  EXPECT_EQ(limiter.NumRequeues("b"), 1);
  EXPECT_EQ(limiter.NumRequeues("never"), 0);
  limiter.Forget("a");
  EXPECT_EQ(limiter.NumRequeues("a"), 0);
  EXPECT_EQ(limiter.When("a"), absl::Milliseconds(5));
}

TEST(ItemExponentialFailureRateLimiterTest, CapsAtMaxWithoutOverflow) {
  ItemExponentialFailureRateLimiter limiter(absl::Milliseconds(5), absl::Seconds(1000));
  absl::Duration last;
  for (int i = 0; i < 200; ++i) {  // 2^200 would overflow any integer
    last = limiter.When("a");
    ASSERT_LE(last, absl::Seconds(1000)) << "after " << i << " requeues";
  }
  EXPECT_EQ(last, absl::Seconds(1000));
  // 5 ms * 2^17 = 655.36 s is the last step below the cap; 2^18 is above it.
  ItemExponentialFailureRateLimiter fresh;
  for (int i = 0; i < 17; ++i) {
    fresh.When("k");
  }
  EXPECT_EQ(fresh.When("k"), absl::Milliseconds(5 * 131072));
  EXPECT_EQ(fresh.When("k"), absl::Seconds(1000));
}

TEST(BucketRateLimiterTest, BurstIsFreeThenOneTokenPerTenthSecond) {
  FakeClock clock;
  BucketRateLimiter limiter(clock, 10, 100);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(limiter.When("k" + std::to_string(i)), absl::ZeroDuration()) << i;
  }
  EXPECT_EQ(Micros(limiter.When("x")), 100'000);
  EXPECT_EQ(Micros(limiter.When("y")), 200'000);
  EXPECT_EQ(limiter.NumRequeues("x"), 0);

  // One second refills 10 tokens; two were borrowed, so 8 are free again.
  clock.Advance(absl::Seconds(1));
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(limiter.When("z"), absl::ZeroDuration()) << i;
  }
  EXPECT_EQ(Micros(limiter.When("z")), 100'000);
}

TEST(BucketRateLimiterTest, RefillIsCappedAtBurst) {
  FakeClock clock;
  BucketRateLimiter limiter(clock, 10, 100);
  clock.Advance(absl::Hours(1));
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(limiter.When("k"), absl::ZeroDuration()) << i;
  }
  EXPECT_EQ(Micros(limiter.When("k")), 100'000);
}

TEST(MaxOfRateLimiterTest, TakesTheLongestAndForwardsForget) {
  FakeClock clock;
  std::vector<std::unique_ptr<WorkQueueRateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialFailureRateLimiter>(absl::Milliseconds(1),
                                                                         absl::Seconds(10)));
  limiters.push_back(std::make_unique<BucketRateLimiter>(clock, 1, 2));
  MaxOfRateLimiter limiter(std::move(limiters));
  EXPECT_EQ(limiter.When("a"), absl::Milliseconds(1));  // bucket: free
  EXPECT_EQ(limiter.When("a"), absl::Milliseconds(2));  // bucket: free
  EXPECT_EQ(Micros(limiter.When("a")), 1'000'000);      // bucket: 1 s beats 4 ms
  EXPECT_EQ(limiter.NumRequeues("a"), 3);
  limiter.Forget("a");
  EXPECT_EQ(limiter.NumRequeues("a"), 0);
}

TEST(DefaultControllerRateLimiterTest, CombinesBackoffAndBucket) {
  FakeClock clock;
  std::unique_ptr<WorkQueueRateLimiter> limiter = DefaultControllerRateLimiter(clock);
  // 100 distinct keys: each gets the 5 ms first backoff; the bucket's burst absorbs them.
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(limiter->When("k" + std::to_string(i)), absl::Milliseconds(5)) << i;
  }
  // The 101st request overall waits for the bucket (100 ms > 5 ms).
  EXPECT_EQ(Micros(limiter->When("fresh")), 100'000);
  // A key failing repeatedly is dominated by its own backoff once that exceeds the bucket.
  clock.Advance(absl::Hours(1));
  absl::Duration last;
  for (int i = 0; i < 12; ++i) {
    last = limiter->When("k0");
  }
  EXPECT_EQ(last, absl::Milliseconds(5 << 12));  // 13th failure of k0: 5 ms * 2^12
  limiter->Forget("k0");
  EXPECT_EQ(limiter->When("k0"), absl::Milliseconds(5));
}

}  // namespace
}  // namespace kustodian
