// ArmClientImpl retries, throttling, the inline wait budget, the client-side token bucket and
// token refresh after a 401.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/core/status.h"
#include "tests/arm/arm_test_util.h"

namespace kustodian::testing_arm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

HttpResponse Throttled(const std::string& retry_after) {
  return ScriptedTransport::Json(
      429, ArmError("SubscriptionRequestsThrottled", "Number of 'read' requests exceeded"),
      {{"Retry-After", retry_after}});
}

TEST_F(ArmClientTest, ThrottledThenSuccessWaitsExactlyRetryAfter) {
  DataConnectionId id = TestId();
  transport_.Expect("GET", ResourceUrl(id), Throttled("1"));
  transport_.Expect("GET", ResourceUrl(id), ScriptedTransport::Json(200, ConnectionJson(id)));
  absl::Time start = clock_.Now();
  absl::StatusOr<LiveConnection> live = Client().Get(id);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(clock_.Now() - start, absl::Seconds(1));  // Retry-After (> the 500 ms backoff)
  EXPECT_EQ(throttled_, 1);
  EXPECT_THAT(requests_seen_, ElementsAre("GET 429", "GET 200"));
  // The retry is the same logical call: same client request id.
  EXPECT_EQ(Header(transport_.Request(0), "x-ms-client-request-id"),
            Header(transport_.Request(1), "x-ms-client-request-id"));
  EXPECT_TRUE(transport_.Verify());
}

// The shared throttling pause holds with the client-side buckets off (--arm-rate-limits off):
// after ARM's 429 with Retry-After 3 s, no read goes out for 3 s, from any caller.
TEST_F(ArmClientTest, ThrottlePauseHoldsWithBucketsOff) {
  ArmClientOptions options = TestOptions();
  options.rate_limit.enabled = false;
  options.retry.max_attempts = 1;
  DataConnectionId id = TestId();
  transport_.Expect("GET", ResourceUrl(id), Throttled("3"));
  transport_.Expect("GET", ResourceUrl(id), ScriptedTransport::Json(200, ConnectionJson(id)));
  ArmClientImpl& client = Client(options);
  absl::StatusOr<LiveConnection> first = client.Get(id);
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  // Another caller right after: held back (3 s > the 2 s inline budget), nothing sent.
  absl::StatusOr<LiveConnection> second = client.Get(TestId("other"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryAfter(second.status()), absl::Seconds(3));
  EXPECT_EQ(transport_.RequestCount(), 1u);
  // Writes are another bucket at ARM: not paused.
  EXPECT_EQ(client.Limiter().PausedFor(kSub, ArmOpType::kWrite), absl::ZeroDuration());
  clock_.Advance(absl::Seconds(3));
  absl::StatusOr<LiveConnection> third = client.Get(id);
  EXPECT_TRUE(third.ok()) << third.status();
  EXPECT_TRUE(transport_.Verify());
}

// A caller held back by the shared pause gets a rate-limit wait (nothing was sent), which the
// reconciler treats as a wait; ARM's own 429 answer is not one.
TEST_F(ArmClientTest, HeldBackCallerGetsRateLimitWaitNotArmError) {
  ArmClientOptions options = TestOptions();
  options.retry.max_attempts = 1;
  DataConnectionId id = TestId();
  transport_.Expect("GET", ResourceUrl(id), Throttled("3"));
  ArmClientImpl& client = Client(options);
  absl::StatusOr<LiveConnection> first = client.Get(id);
  EXPECT_FALSE(IsRateLimitWait(first.status())) << first.status();
  absl::StatusOr<LiveConnection> second = client.Get(TestId("other"));
  EXPECT_TRUE(IsRateLimitWait(second.status())) << second.status();
  EXPECT_EQ(GetRetryAfter(second.status()), absl::Seconds(3));
  EXPECT_EQ(transport_.RequestCount(), 1u);
}

// A 429 without Retry-After is not ARM's subscription throttling (ARM always says when to come
// back; resource providers answer 429 for their own "busy"): that request backs off on its own
// schedule, and other callers are not paused. At 3% of requests under the fault soak, pausing
// every read for 1 s on each of them halved the daemon's read rate.
TEST_F(ArmClientTest, ThrottledWithoutRetryAfterBacksOffAloneWithoutPausingOthers) {
  DataConnectionId id = TestId();
  transport_.Expect("GET", ResourceUrl(id),
                    ScriptedTransport::Json(429, ArmError("TooManyRequests", "busy")));
  transport_.Expect("GET", ResourceUrl(id), ScriptedTransport::Json(200, ConnectionJson(id)));
  ArmClientImpl& client = Client();
  absl::Time start = clock_.Now();
  absl::StatusOr<LiveConnection> live = client.Get(id);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(clock_.Now() - start, absl::Milliseconds(500));  // the request's own backoff
  EXPECT_EQ(throttled_, 1);
  EXPECT_EQ(client.Limiter().PausedFor(kSub, ArmOpType::kRead), absl::ZeroDuration());
  // Another read goes out at once.
  transport_.Expect("GET", ResourceUrl(TestId("other")),
                    ScriptedTransport::Json(200, ConnectionJson(TestId("other"))));
  start = clock_.Now();
  EXPECT_TRUE(client.Get(TestId("other")).ok());
  EXPECT_EQ(clock_.Now(), start);
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, ServiceUnavailableRetriedUpToMaxAttempts) {
  ArmClientOptions options = TestOptions();
  options.max_inline_wait = absl::Minutes(1);
  DataConnectionSpec spec = TestSpec();
  for (int i = 0; i < 4; ++i) {
    transport_.Expect("PUT", ResourceUrl(spec.id),
                      ScriptedTransport::Json(503, ArmError("ServiceUnavailable", "busy")));
  }
  absl::Time start = clock_.Now();
  absl::StatusOr<WriteResult> put = Client(options).Put(spec);
  EXPECT_EQ(put.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetArmErrorCode(put.status()), "ServiceUnavailable");
  EXPECT_EQ(transport_.RequestCount(), 4u);
  EXPECT_EQ(clock_.Now() - start, absl::Milliseconds(500 + 1000 + 2000));
  EXPECT_EQ(GetRetryAfter(put.status()), absl::Seconds(4));  // the next backoff
  EXPECT_TRUE(transport_.Verify());
  // PUT retries are the same request: same body and correlation id.
  EXPECT_EQ(transport_.Request(0).body, transport_.Request(3).body);
  EXPECT_EQ(Header(transport_.Request(0), "x-ms-correlation-request-id"),
            Header(transport_.Request(3), "x-ms-correlation-request-id"));
}

TEST_F(ArmClientTest, DefaultBudgetStopsRetryingEarly) {
  DataConnectionId id = TestId();
  for (int i = 0; i < 3; ++i) {
    transport_.Expect("DELETE", ResourceUrl(id),
                      ScriptedTransport::Json(502, ArmError("BadGateway", "x")));
  }
  absl::Time start = clock_.Now();
  absl::StatusOr<WriteResult> del = Client().Delete(id);  // max_inline_wait 2 s
  EXPECT_EQ(del.status().code(), absl::StatusCode::kUnavailable);
  // 0.5 s + 1 s fit in 2 s; the next 2 s wait does not and goes back to the caller.
  EXPECT_EQ(clock_.Now() - start, absl::Milliseconds(1500));
  EXPECT_EQ(GetRetryAfter(del.status()), absl::Seconds(2));
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, LongRetryAfterGoesBackToTheCallerWithoutSleeping) {
  DataConnectionId id = TestId();
  transport_.Expect("GET", ResourceUrl(id), Throttled("17"));
  absl::Time start = clock_.Now();
  absl::StatusOr<LiveConnection> live = Client().Get(id);
  EXPECT_EQ(live.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryAfter(live.status()), absl::Seconds(17));
  EXPECT_EQ(GetArmErrorCode(live.status()), "SubscriptionRequestsThrottled");
  EXPECT_EQ(clock_.Now(), start);
  EXPECT_EQ(transport_.RequestCount(), 1u);
  EXPECT_EQ(throttled_, 1);
}

TEST_F(ArmClientTest, TransportErrorRetried) {
  DataConnectionId id = TestId();
  transport_.ExpectError("GET", ResourceUrl(id), absl::UnavailableError("connection reset"));
  transport_.Expect("GET", ResourceUrl(id), ScriptedTransport::Json(200, ConnectionJson(id)));
  absl::Time start = clock_.Now();
  absl::StatusOr<LiveConnection> live = Client().Get(id);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(clock_.Now() - start, absl::Milliseconds(500));
  EXPECT_THAT(requests_seen_, ElementsAre("GET 0", "GET 200"));
}

TEST_F(ArmClientTest, TransportErrorsExhaustedAreUnavailable) {
  ArmClientOptions options = TestOptions();
  options.retry.max_attempts = 2;
  DataConnectionId id = TestId();
  transport_.ExpectError("GET", ResourceUrl(id), absl::DeadlineExceededError("timeout"));
  transport_.ExpectError("GET", ResourceUrl(id), absl::UnavailableError("refused"));
  absl::StatusOr<LiveConnection> live = Client(options).Get(id);
  EXPECT_EQ(live.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(live.status().message()), HasSubstr("refused"));
  EXPECT_TRUE(GetRetryAfter(live.status()).has_value());
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, BadUrlFromTransportIsNotRetried) {
  DataConnectionId id = TestId();
  transport_.ExpectError("GET", ResourceUrl(id), absl::InvalidArgumentError("plain http"));
  EXPECT_EQ(Client().Get(id).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(transport_.RequestCount(), 1u);
}

TEST_F(ArmClientTest, ExpiredTokenIsRefreshedAndRetriedOnce) {
  // An Entra ID client-secret source on the same scripted transport.
  AadTokenSource::Config config{"https://login.microsoftonline.com/",    "tenant-1", "client-1",
                                "https://management.azure.com/.default", "s3cret",   ""};
  AadTokenSource aad(config, transport_, clock_);
  const std::string token_url = "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token";
  DataConnectionId id = TestId();
  transport_.Expect(
      "POST", token_url,
      ScriptedTransport::Json(
          200, {{"access_token", "token-one"}, {"expires_in", 3599}, {"token_type", "Bearer"}}));
  transport_.Expect("GET", ResourceUrl(id),
                    ScriptedTransport::Json(401, ArmError("ExpiredAuthenticationToken",
                                                          "The access token expiry ...")));
  transport_.Expect(
      "POST", token_url,
      ScriptedTransport::Json(200, {{"access_token", "token-two"}, {"expires_in", 3599}}));
  transport_.Expect("GET", ResourceUrl(id), ScriptedTransport::Json(200, ConnectionJson(id)));
  absl::StatusOr<LiveConnection> live = Client(TestOptions(), &aad).Get(id);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_TRUE(transport_.Verify());
  EXPECT_EQ(Header(transport_.Request(1), "Authorization"), "Bearer token-one");
  EXPECT_EQ(Header(transport_.Request(3), "Authorization"), "Bearer token-two");
}

TEST_F(ArmClientTest, SecondExpiredTokenAnswerIsReturned) {
  DataConnectionId id = TestId();
  for (int i = 0; i < 2; ++i) {
    transport_.Expect("GET", ResourceUrl(id),
                      ScriptedTransport::Json(401, ArmError("InvalidAuthenticationToken", "bad")));
  }
  absl::StatusOr<LiveConnection> live = Client().Get(id);
  EXPECT_EQ(live.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(GetArmErrorCode(live.status()), "InvalidAuthenticationToken");
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, OtherUnauthenticatedIsNotRetried) {
  DataConnectionId id = TestId();
  transport_.Expect("GET", ResourceUrl(id),
                    ScriptedTransport::Json(
                        401, ArmError("InvalidAuthenticationTokenAudience", "wrong audience")));
  EXPECT_EQ(Client().Get(id).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(transport_.RequestCount(), 1u);
}

TEST_F(ArmClientTest, TokenNeverReachesTheLog) {
  DataConnectionSpec spec = TestSpec();
  transport_.Expect("PUT", ResourceUrl(spec.id), ScriptedTransport::Json(503, ArmError("x", "y")));
  transport_.ExpectError("PUT", ResourceUrl(spec.id), absl::UnavailableError("reset"));
  transport_.Expect("PUT", ResourceUrl(spec.id),
                    ScriptedTransport::Json(201, ConnectionJson(spec.id, "Creating"),
                                            {{"Azure-AsyncOperation", OperationUrl("op")}}));
  ArmClientOptions options = TestOptions();
  options.max_inline_wait = absl::Seconds(10);
  absl::StatusOr<WriteResult> put = Client(options).Put(spec);
  ASSERT_TRUE(put.ok()) << put.status();
  std::vector<std::string> lines = LogLines();
  ASSERT_FALSE(lines.empty());
  bool saw_request_id = false;
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find("SECRET-TOKEN-VALUE"), std::string::npos) << line;
    EXPECT_EQ(line.find("Bearer"), std::string::npos) << line;
    if (line.find(put->client_request_id) != std::string::npos) {
      saw_request_id = true;
    }
  }
  EXPECT_TRUE(saw_request_id);
}

TEST_F(ArmClientTest, TokenBucketWaitsWhenTheBurstIsSpent) {
  ArmClientOptions options = TestOptions();
  options.rate_limit.reads = {2, 1};  // 2 burst, 1 per second
  DataConnectionId id = TestId();
  for (int i = 0; i < 3; ++i) {
    transport_.Expect("GET", ResourceUrl(id), ScriptedTransport::Json(200, ConnectionJson(id)));
  }
  ArmClientImpl& client = Client(options);
  absl::Time start = clock_.Now();
  ASSERT_TRUE(client.Get(id).ok());
  ASSERT_TRUE(client.Get(id).ok());
  EXPECT_EQ(clock_.Now(), start);
  ASSERT_TRUE(client.Get(id).ok());
  EXPECT_EQ(clock_.Now() - start, absl::Seconds(1));
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, TokenBucketWaitBeyondBudgetSendsNothing) {
  ArmClientOptions options = TestOptions();
  options.rate_limit.writes = {1, 0.1};  // one token every 10 s
  DataConnectionSpec spec = TestSpec();
  transport_.Expect("PUT", ResourceUrl(spec.id),
                    ScriptedTransport::Json(200, ConnectionJson(spec.id)));
  ArmClientImpl& client = Client(options);
  ASSERT_TRUE(client.Put(spec).ok());
  absl::Time start = clock_.Now();
  absl::StatusOr<WriteResult> second = client.Put(spec);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryAfter(second.status()), absl::Seconds(10));
  EXPECT_EQ(clock_.Now(), start);
  EXPECT_EQ(transport_.RequestCount(), 1u);
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, RemainingHeaderLowersTheBucket) {
  DataConnectionId id = TestId();
  transport_.Expect(
      "GET", ResourceUrl(id),
      ScriptedTransport::Json(200, ConnectionJson(id),
                              {{"x-ms-ratelimit-remaining-subscription-reads", "0"}}));
  transport_.Expect("GET", ResourceUrl(id), ScriptedTransport::Json(200, ConnectionJson(id)));
  ArmClientImpl& client = Client();
  ASSERT_TRUE(client.Get(id).ok());
  EXPECT_DOUBLE_EQ(client.Limiter().Available(kSub, ArmOpType::kRead), 0);
  absl::Time start = clock_.Now();
  ASSERT_TRUE(client.Get(id).ok());
  // Another client spent the server's tokens: ours waits one refill (1/25 s).
  EXPECT_EQ(clock_.Now() - start, absl::Milliseconds(40));
}

}  // namespace
}  // namespace kustodian::testing_arm
