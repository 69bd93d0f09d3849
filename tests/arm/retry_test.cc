#include "src/arm/retry.h"

#include "gtest/gtest.h"

namespace kustodian {
namespace {

TEST(RetryBackoffTest, DoublesUpToTheCap) {
  RetryOptions options;
  options.jitter = 0;
  EXPECT_EQ(RetryBackoff(options, 0, std::nullopt, 0), absl::Milliseconds(500));
  EXPECT_EQ(RetryBackoff(options, 1, std::nullopt, 0), absl::Seconds(1));
  EXPECT_EQ(RetryBackoff(options, 2, std::nullopt, 0), absl::Seconds(2));
  EXPECT_EQ(RetryBackoff(options, 6, std::nullopt, 0), absl::Seconds(30));
  EXPECT_EQ(RetryBackoff(options, 60, std::nullopt, 0), absl::Seconds(30));
}

TEST(RetryBackoffTest, JitterStaysWithinItsBand) {
  RetryOptions options;  // jitter 0.2
  EXPECT_EQ(RetryBackoff(options, 1, std::nullopt, -1.0), absl::Milliseconds(800));
  EXPECT_EQ(RetryBackoff(options, 1, std::nullopt, 1.0), absl::Milliseconds(1200));
  EXPECT_EQ(RetryBackoff(options, 1, std::nullopt, 0.5), absl::Milliseconds(1100));
}

TEST(RetryBackoffTest, NeverShorterThanRetryAfter) {
  RetryOptions options;
  EXPECT_EQ(RetryBackoff(options, 0, absl::Seconds(7), 1.0), absl::Seconds(7));
  // A Retry-After shorter than the backoff does not shorten it.
  options.jitter = 0;
  EXPECT_EQ(RetryBackoff(options, 3, absl::Seconds(1), 0), absl::Seconds(4));
}

TEST(RetryTest, RetryableStatuses) {
  for (int code : {429, 500, 502, 503, 504}) {
    EXPECT_TRUE(IsRetryableHttpStatus(code)) << code;
  }
  for (int code : {200, 400, 401, 403, 404, 409, 412, 501}) {
    EXPECT_FALSE(IsRetryableHttpStatus(code)) << code;
  }
  EXPECT_TRUE(IsRetryableTransportError(absl::UnavailableError("reset")));
  EXPECT_TRUE(IsRetryableTransportError(absl::DeadlineExceededError("timeout")));
  EXPECT_FALSE(IsRetryableTransportError(absl::InvalidArgumentError("bad url")));
}

TEST(PollBackoffTest, FollowsTheSchedule) {
  int expected[] = {1, 2, 2, 4, 8, 16, 30, 30, 30};
  for (int polls = 0; polls < 9; ++polls) {
    EXPECT_EQ(PollBackoff(polls), absl::Seconds(expected[polls])) << polls;
  }
  EXPECT_EQ(PollBackoff(-3), absl::Seconds(1));
}

}  // namespace
}  // namespace kustodian
