// Token-bucket throttling (§3.4): per principal and global buckets, refill, Retry-After, the
// rate-limit headers, and 429 SubscriptionRequestsThrottled from the emulator.
#include "src/emulator/throttle.h"

#include "absl/strings/str_cat.h"
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

constexpr absl::Time kT0 = absl::FromUnixSeconds(1'000'000);

TEST(ThrottlerTest, FullBucketCountsDown) {
  Throttler throttler{ThrottleOptions{}};
  ThrottleDecision first = throttler.Take("sub", "p1", OpType::kRead, kT0);
  EXPECT_TRUE(first.allowed);
  EXPECT_EQ(first.remaining, 249);
  EXPECT_EQ(first.global_remaining, 3749);
  ThrottleDecision write = throttler.Take("sub", "p1", OpType::kWrite, kT0);
  EXPECT_EQ(write.remaining, 199);
  EXPECT_EQ(write.global_remaining, 2999);
  EXPECT_EQ(throttler.Take("sub", "p1", OpType::kRead, kT0).remaining, 248);
}

TEST(ThrottlerTest, EmptyBucketThrottlesWithRetryAfterAndTakesNoToken) {
  ThrottleOptions options;
  options.writes = {2, 0.5};  // one token every 2 s
  Throttler throttler{options};
  EXPECT_TRUE(throttler.Take("sub", "p1", OpType::kWrite, kT0).allowed);
  EXPECT_TRUE(throttler.Take("sub", "p1", OpType::kWrite, kT0).allowed);
  ThrottleDecision third = throttler.Take("sub", "p1", OpType::kWrite, kT0);
  EXPECT_FALSE(third.allowed);
  EXPECT_EQ(third.retry_after, absl::Seconds(2));
  EXPECT_FALSE(third.global_limited);
  // After 1 s half a token is back: still throttled, the wait shrinks to 1 s.
  ThrottleDecision later = throttler.Take("sub", "p1", OpType::kWrite, kT0 + absl::Seconds(1));
  EXPECT_FALSE(later.allowed);
  EXPECT_EQ(later.retry_after, absl::Seconds(1));
  EXPECT_TRUE(throttler.Take("sub", "p1", OpType::kWrite, kT0 + absl::Seconds(2)).allowed);
}

TEST(ThrottlerTest, RetryAfterIsAtLeastOneSecond) {
  ThrottleOptions options;
  options.reads = {1, 100};
  Throttler throttler{options};
  throttler.Take("sub", "p", OpType::kRead, kT0);
  ThrottleDecision d = throttler.Take("sub", "p", OpType::kRead, kT0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, absl::Seconds(1));
}

TEST(ThrottlerTest, PrincipalsAndOperationTypesHaveSeparateBuckets) {
  ThrottleOptions options;
  options.deletes = {1, 0};
  Throttler throttler{options};
  EXPECT_TRUE(throttler.Take("sub", "p1", OpType::kDelete, kT0).allowed);
  EXPECT_FALSE(throttler.Take("sub", "p1", OpType::kDelete, kT0).allowed);
  EXPECT_TRUE(throttler.Take("sub", "p2", OpType::kDelete, kT0).allowed);
  EXPECT_TRUE(throttler.Take("sub", "p1", OpType::kWrite, kT0).allowed);
  EXPECT_TRUE(throttler.Take("SUB2", "p1", OpType::kDelete, kT0).allowed);
}

TEST(ThrottlerTest, GlobalBucketIsSharedByPrincipals) {
  ThrottleOptions options;
  options.writes = {2, 0};
  options.global_multiplier = 1.5;  // global capacity 3
  Throttler throttler{options};
  EXPECT_TRUE(throttler.Take("sub", "a", OpType::kWrite, kT0).allowed);
  EXPECT_TRUE(throttler.Take("sub", "b", OpType::kWrite, kT0).allowed);
  EXPECT_TRUE(throttler.Take("sub", "c", OpType::kWrite, kT0).allowed);
  ThrottleDecision d = throttler.Take("sub", "d", OpType::kWrite, kT0);
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(d.global_limited);
}

TEST(ThrottlerTest, RefillScaleSpeedsRefill) {
  ThrottleOptions options;
  options.reads = {1, 1};
  options.refill_scale = 10;
  Throttler throttler{options};
  throttler.Take("sub", "p", OpType::kRead, kT0);
  EXPECT_FALSE(throttler.Take("sub", "p", OpType::kRead, kT0).allowed);
  EXPECT_TRUE(throttler.Take("sub", "p", OpType::kRead, kT0 + absl::Milliseconds(100)).allowed);
}

TEST(ThrottlerTest, DisabledNeverThrottles) {
  ThrottleOptions options;
  options.enabled = false;
  options.reads = {1, 0};
  Throttler throttler{options};
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(throttler.Take("sub", "p", OpType::kRead, kT0).allowed);
  }
}

using ThrottleEmulatorTest = EmulatorTest;

TEST_F(ThrottleEmulatorTest, RateLimitHeadersPerOperationType) {
  std::string list = absl::StrCat(kDb, "/dataConnections", kApi);
  ServerResponse get = Call("GET", list);
  EXPECT_EQ(Hdr(get, "x-ms-ratelimit-remaining-subscription-reads"), "249");
  EXPECT_EQ(Hdr(get, "x-ms-ratelimit-remaining-subscription-global-reads"), "3749");
  EXPECT_EQ(Hdr(get, "x-ms-ratelimit-remaining-subscription-resource-requests"), "249");
  EXPECT_FALSE(Hdr(get, "x-ms-ratelimit-remaining-subscription-writes").has_value());

  ServerResponse put = Call("PUT", std::string(kDc) + kApi, EventHubBody());
  EXPECT_EQ(Hdr(put, "x-ms-ratelimit-remaining-subscription-writes"), "199");
  EXPECT_EQ(Hdr(put, "x-ms-ratelimit-remaining-subscription-global-writes"), "2999");
  EXPECT_TRUE(Hdr(put, "x-ms-ratelimit-remaining-subscription-resource-requests").has_value());

  clock_.Advance(absl::Seconds(10));
  ServerResponse del = Call("DELETE", std::string(kDc) + kApi);
  EXPECT_EQ(Hdr(del, "x-ms-ratelimit-remaining-subscription-deletes"), "199");
  EXPECT_FALSE(Hdr(del, "x-ms-ratelimit-remaining-subscription-resource-requests").has_value());

  // Polls spend read tokens (the read bucket refilled during the 10 s).
  std::string url = *Hdr(del, "Azure-AsyncOperation");
  EXPECT_EQ(Hdr(Call(PollRequest(url)), "x-ms-ratelimit-remaining-subscription-reads"), "249");
  EXPECT_EQ(Hdr(Call(PollRequest(url)), "x-ms-ratelimit-remaining-subscription-reads"), "248");
}

TEST_F(ThrottleEmulatorTest, EmptyBucketAnswers429WithRetryAfter) {
  EmulatorOptions options = TestOptions();
  options.throttle.reads = {3, 1};
  Start(options);
  std::string list = absl::StrCat(kDb, "/dataConnections", kApi);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Call("GET", list).status, 200);
  }
  ServerResponse r = Call("GET", list);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(ErrorCode(r), "SubscriptionRequestsThrottled");
  EXPECT_EQ(Hdr(r, "Retry-After"), "1");
  EXPECT_EQ(Hdr(r, "x-ms-ratelimit-remaining-subscription-reads"), "0");
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Call("GET", list).status, 200);

  nlohmann::json stats = BodyJson(Call(MakeRequest("GET", "/_admin/stats", "", false)));
  EXPECT_EQ(stats["throttled"], 1);
}

TEST_F(ThrottleEmulatorTest, ThrottlingIsPerPrincipal) {
  EmulatorOptions options = TestOptions();
  options.throttle.writes = {1, 0.1};
  options.serialize_cluster_writes = false;
  Start(options);
  EXPECT_EQ(Call("PUT", std::string(kDc) + kApi, EventHubBody()).status, 201);
  EXPECT_EQ(Call("PUT", absl::StrCat(kDb, "/dataConnections/dc2", kApi), EventHubBody()).status,
            429);
  // Another principal (a token from the token endpoint) has its own bucket.
  ServerRequest token =
      MakeRequest("POST", std::string("/") + kTenant + "/oauth2/v2.0/token",
                  "grant_type=client_credentials&client_id=11111111-1111-1111-1111-111111111111&"
                  "client_secret=s3cret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
                  false);
  std::string access = BodyJson(Call(token))["access_token"];
  ServerRequest put =
      MakeRequest("PUT", absl::StrCat(kDb, "/dataConnections/dc2", kApi), EventHubBody(), false);
  put.headers.emplace_back("Authorization", "Bearer " + access);
  EXPECT_EQ(Call(put).status, 201);
}

TEST_F(ThrottleEmulatorTest, NoThrottleNeverAnswers429) {
  EmulatorOptions options = TestOptions();
  options.throttle.enabled = false;
  options.throttle.reads = {1, 0};
  Start(options);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Call("GET", absl::StrCat(kDb, "/dataConnections", kApi)).status, 200);
  }
}

}  // namespace
}  // namespace kustodian::emulator::testing
