// ArmClientImpl long-running operations: the shapes real ARM sends (§6) and the polling
// algorithm (Azure-AsyncOperation, else Location, else provisioningState).
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/core/status.h"
#include "tests/arm/arm_test_util.h"

namespace kustodian::testing_arm {
namespace {

using ::testing::HasSubstr;

nlohmann::json Status(const std::string& status) {
  return {
      {"id", "/subscriptions/x/providers/Microsoft.Kusto/locations/westeurope/operationResults/op"},
      {"name", "op"},
      {"status", status},
      {"startTime", "2025-06-01T10:00:00Z"},
      {"percentComplete", 0.0},
      {"properties", nlohmann::json::object()}};
}

TEST_F(ArmClientTest, CreateWithAsyncOperationThenRunningThenSucceededThenGet) {
  DataConnectionSpec spec = TestSpec();
  std::string op_url = OperationUrl("op-create");
  transport_.Expect("PUT", ResourceUrl(spec.id),
                    ScriptedTransport::Json(201, ConnectionJson(spec.id, "Creating"),
                                            {{"Azure-AsyncOperation", op_url}}));
  transport_.Expect("GET", op_url, ScriptedTransport::Json(200, Status("Running")));
  transport_.Expect("GET", op_url, ScriptedTransport::Json(200, Status("Succeeded")));
  transport_.Expect("GET", ResourceUrl(spec.id),
                    ScriptedTransport::Json(200, ConnectionJson(spec.id, "Succeeded")));
  ArmClientImpl& client = Client();
  absl::Time start = clock_.Now();

  absl::StatusOr<WriteResult> put = client.Put(spec);
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_TRUE(put->resource.has_value());
  EXPECT_EQ(put->resource->provisioning_state, "Creating");
  ASSERT_TRUE(put->operation.has_value());
  ArmOperation op = *put->operation;
  EXPECT_EQ(op.verb, ArmOperation::Verb::kPut);
  EXPECT_EQ(op.async_url, op_url);
  EXPECT_EQ(op.location_url, "");
  EXPECT_EQ(op.api_version, kApi);
  EXPECT_EQ(op.correlation_id, put->correlation_id);
  EXPECT_EQ(op.started, start);

  absl::StatusOr<PollResult> running = client.Poll(op);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_FALSE(running->done);
  EXPECT_EQ(running->retry_after, absl::Seconds(1));  // no Retry-After: backoff for polls=0
  op.polls++;

  absl::StatusOr<PollResult> done = client.Poll(op);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->done);
  EXPECT_TRUE(done->outcome.ok());
  ASSERT_TRUE(done->resource.has_value());
  EXPECT_EQ(done->resource->provisioning_state, "Succeeded");
  EXPECT_EQ(clock_.Now(), start);  // Poll never sleeps
  EXPECT_TRUE(transport_.Verify());
  // Polls carry auth but no correlation header of their own.
  HttpRequest poll = transport_.Request(1);
  EXPECT_EQ(Header(poll, "Authorization"), absl::StrCat("Bearer ", kToken));
}

TEST_F(ArmClientTest, UpdateAnswers200AcceptedWithAsyncOperation) {
  DataConnectionSpec spec = TestSpec();
  std::string op_url = OperationUrl("op-update");
  transport_.Expect("PUT", ResourceUrl(spec.id),
                    ScriptedTransport::Json(200, ConnectionJson(spec.id, "Accepted"),
                                            {{"Azure-AsyncOperation", op_url}}));
  absl::StatusOr<WriteResult> put = Client().Put(spec);
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_TRUE(put->operation.has_value());
  EXPECT_EQ(put->operation->async_url, op_url);
  EXPECT_EQ(put->resource->provisioning_state, "Accepted");
}

TEST_F(ArmClientTest, NonTerminalStateWithoutHeadersStillYieldsAnOperation) {
  DataConnectionSpec spec = TestSpec();
  transport_.Expect("PUT", ResourceUrl(spec.id),
                    ScriptedTransport::Json(201, ConnectionJson(spec.id, "Creating")));
  // Polling falls back to the resource's provisioningState.
  transport_.Expect("GET", ResourceUrl(spec.id),
                    ScriptedTransport::Json(200, ConnectionJson(spec.id, "Creating")));
  transport_.Expect("GET", ResourceUrl(spec.id),
                    ScriptedTransport::Json(200, ConnectionJson(spec.id, "")));
  ArmClientImpl& client = Client();
  absl::StatusOr<WriteResult> put = client.Put(spec);
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_TRUE(put->operation.has_value());
  ArmOperation op = *put->operation;
  EXPECT_EQ(op.async_url, "");
  EXPECT_EQ(op.location_url, "");
  op.polls = 3;
  absl::StatusOr<PollResult> first = client.Poll(op);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->done);
  EXPECT_EQ(first->retry_after, absl::Seconds(4));  // backoff for polls=3
  absl::StatusOr<PollResult> second = client.Poll(op);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->done);  // absent provisioningState counts as Succeeded
  EXPECT_TRUE(second->outcome.ok());
  EXPECT_TRUE(second->resource.has_value());
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, ProvisioningStateFailedIsTheOutcome) {
  DataConnectionSpec spec = TestSpec();
  ArmOperation op;
  op.verb = ArmOperation::Verb::kPut;
  op.id = spec.id;
  op.api_version = kApi;
  transport_.Expect("GET", ResourceUrl(spec.id),
                    ScriptedTransport::Json(200, ConnectionJson(spec.id, "Failed")));
  absl::StatusOr<PollResult> poll = Client().Poll(op);
  ASSERT_TRUE(poll.ok()) << poll.status();
  EXPECT_TRUE(poll->done);
  EXPECT_EQ(poll->outcome.code(), absl::StatusCode::kInternal);
}

TEST_F(ArmClientTest, DeleteAccepted202WithBothHeadersPollsTheAsyncOperation) {
  DataConnectionId id = TestId();
  // Real ARM: the async URL carries the display location with literal spaces.
  std::string raw_async = absl::StrCat(
      kEndpoint, "/subscriptions/", kSub,
      "/providers/Microsoft.Kusto/locations/East US 2/operationResults/op-del?api-version=", kApi);
  std::string encoded_async = absl::StrCat(
      kEndpoint, "/subscriptions/", kSub,
      "/providers/Microsoft.Kusto/locations/East%20US%202/operationResults/op-del?api-version=",
      kApi);
  std::string location = absl::StrCat(
      kEndpoint, "/subscriptions/", kSub,
      "/providers/Microsoft.Kusto/locations/East%20US%202/operationResults/op-del?api-version=",
      kApi, "&operationResultResponseType=Location");
  transport_.Expect(
      "DELETE", ResourceUrl(id),
      ScriptedTransport::Empty(202, {{"Azure-AsyncOperation", raw_async}, {"Location", location}}));
  transport_.Expect("GET", encoded_async, ScriptedTransport::Json(200, Status("Running")));
  transport_.Expect("GET", encoded_async, ScriptedTransport::Json(200, Status("Succeeded")));
  ArmClientImpl& client = Client();
  absl::StatusOr<WriteResult> del = client.Delete(id);
  ASSERT_TRUE(del.ok()) << del.status();
  EXPECT_TRUE(del->existed);
  ASSERT_TRUE(del->operation.has_value());
  ArmOperation op = *del->operation;
  EXPECT_EQ(op.verb, ArmOperation::Verb::kDelete);
  EXPECT_EQ(op.async_url, encoded_async);
  EXPECT_EQ(op.location_url, location);
  absl::StatusOr<PollResult> running = client.Poll(op);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_FALSE(running->done);
  op.polls++;
  absl::StatusOr<PollResult> done = client.Poll(op);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->done);
  EXPECT_TRUE(done->outcome.ok());
  EXPECT_FALSE(done->resource.has_value());
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, PollEncodesLiteralSpacesAndNothingElse) {
  ArmOperation op;
  op.verb = ArmOperation::Verb::kDelete;
  op.id = TestId();
  // Handed in unencoded (e.g. restored from a journal); stale api-version kept as is.
  op.async_url = absl::StrCat(kEndpoint, "/subscriptions/", kSub,
                              "/providers/Microsoft.Kusto/locations/East US 2/operationResults/"
                              "a%2Fb?api-version=2021-02-01&x=1+2");
  transport_.Expect("GET", "*", ScriptedTransport::Json(200, Status("InProgress")));
  absl::StatusOr<PollResult> poll = Client().Poll(op);
  ASSERT_TRUE(poll.ok()) << poll.status();
  EXPECT_FALSE(poll->done);
  EXPECT_EQ(transport_.Request(0).url,
            absl::StrCat(kEndpoint, "/subscriptions/", kSub,
                         "/providers/Microsoft.Kusto/locations/East%20US%202/operationResults/"
                         "a%2Fb?api-version=2021-02-01&x=1+2"));
}

TEST_F(ArmClientTest, DeleteNoContentIsDoneWithoutOperation) {
  DataConnectionId id = TestId();
  // The spec examples attach Azure-AsyncOperation even to 204; it means nothing there.
  transport_.Expect("DELETE", ResourceUrl(id),
                    ScriptedTransport::Empty(204, {{"Azure-AsyncOperation", OperationUrl("x")}}));
  absl::StatusOr<WriteResult> del = Client().Delete(id);
  ASSERT_TRUE(del.ok()) << del.status();
  EXPECT_FALSE(del->existed);
  EXPECT_FALSE(del->operation.has_value());
}

TEST_F(ArmClientTest, LocationOnlyPolling202Then200) {
  DataConnectionSpec spec = TestSpec();
  std::string location =
      absl::StrCat(OperationUrl("op-loc"), "&operationResultResponseType=Location");
  transport_.Expect("PUT", ResourceUrl(spec.id),
                    ScriptedTransport::Empty(202, {{"Location", location}, {"Retry-After", "3"}}));
  transport_.Expect("GET", location, ScriptedTransport::Empty(202, {{"Retry-After", "5"}}));
  transport_.Expect("GET", location, ScriptedTransport::Empty(200));
  transport_.Expect("GET", ResourceUrl(spec.id),
                    ScriptedTransport::Json(200, ConnectionJson(spec.id)));
  ArmClientImpl& client = Client();
  absl::StatusOr<WriteResult> put = client.Put(spec);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_FALSE(put->resource.has_value());
  ASSERT_TRUE(put->operation.has_value());
  ArmOperation op = *put->operation;
  EXPECT_EQ(op.async_url, "");
  EXPECT_EQ(op.location_url, location);
  absl::StatusOr<PollResult> running = client.Poll(op);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_FALSE(running->done);
  EXPECT_EQ(running->retry_after, absl::Seconds(5));
  op.polls++;
  absl::StatusOr<PollResult> done = client.Poll(op);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->done);
  EXPECT_TRUE(done->outcome.ok());
  ASSERT_TRUE(done->resource.has_value());  // no body: read back with a GET
  EXPECT_EQ(done->resource->id, spec.id);
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, LocationResultBodyIsUsedWithoutAnotherGet) {
  DataConnectionSpec spec = TestSpec();
  ArmOperation op;
  op.verb = ArmOperation::Verb::kPut;
  op.id = spec.id;
  op.location_url = OperationUrl("op");
  transport_.Expect("GET", op.location_url,
                    ScriptedTransport::Json(200, ConnectionJson(spec.id, "Succeeded")));
  absl::StatusOr<PollResult> done = Client().Poll(op);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->done);
  EXPECT_TRUE(done->resource.has_value());
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, LocationClientErrorIsTheOperationOutcome) {
  ArmOperation op;
  op.verb = ArmOperation::Verb::kPut;
  op.id = TestId();
  op.location_url = OperationUrl("op");
  transport_.Expect("GET", op.location_url,
                    ScriptedTransport::Json(400, ArmError("BadRequest", "[BadRequest] nope")));
  absl::StatusOr<PollResult> done = Client().Poll(op);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->done);
  EXPECT_EQ(done->outcome.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetArmErrorCode(done->outcome), "BadRequest");
}

TEST_F(ArmClientTest, DeletePolledThroughTheResourceEndsOn404) {
  ArmOperation op;
  op.verb = ArmOperation::Verb::kDelete;
  op.id = TestId();
  op.api_version = kApi;
  transport_.Expect("GET", ResourceUrl(op.id),
                    ScriptedTransport::Json(200, ConnectionJson(op.id, "Deleting")));
  transport_.Expect("GET", ResourceUrl(op.id),
                    ScriptedTransport::Json(404, ArmError("ResourceNotFound", "gone")));
  ArmClientImpl& client = Client();
  absl::StatusOr<PollResult> first = client.Poll(op);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->done);
  absl::StatusOr<PollResult> second = client.Poll(op);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->done);
  EXPECT_TRUE(second->outcome.ok());
}

TEST_F(ArmClientTest, FailedOperationWithBadRequestIsInvalidArgument) {
  ArmOperation op;
  op.verb = ArmOperation::Verb::kPut;
  op.id = TestId();
  op.async_url = OperationUrl("op-fail");
  nlohmann::json body = Status("Failed");
  body["error"] = {{"code", "EventHubValidationErorFound"},
                   {"message", "[BadRequest] Validation Errors found: table does not exist"}};
  transport_.Expect("GET", op.async_url, ScriptedTransport::Json(200, body));
  absl::StatusOr<PollResult> poll = Client().Poll(op);
  ASSERT_TRUE(poll.ok()) << poll.status();
  EXPECT_TRUE(poll->done);
  EXPECT_EQ(poll->outcome.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetArmErrorCode(poll->outcome), "EventHubValidationErorFound");
  EXPECT_THAT(std::string(poll->outcome.message()), HasSubstr("table does not exist"));
  EXPECT_FALSE(poll->resource.has_value());
  EXPECT_TRUE(transport_.Verify());  // no GET of the resource after a failure
}

TEST_F(ArmClientTest, FailedOperationOtherwiseInternalAndCanceledAborted) {
  ArmOperation op;
  op.verb = ArmOperation::Verb::kDelete;
  op.id = TestId();
  op.async_url = OperationUrl("op");
  nlohmann::json failed = Status("Failed");
  failed["error"] = {{"code", "InternalError"}, {"message", "something broke"}};
  nlohmann::json canceled = Status("Canceled");
  canceled["error"] = {{"code", "OperationCanceled"}, {"message", "canceled by user"}};
  transport_.Expect("GET", op.async_url, ScriptedTransport::Json(200, failed));
  transport_.Expect("GET", op.async_url, ScriptedTransport::Json(200, canceled));
  ArmClientImpl& client = Client();
  absl::StatusOr<PollResult> first = client.Poll(op);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->outcome.code(), absl::StatusCode::kInternal);
  absl::StatusOr<PollResult> second = client.Poll(op);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->outcome.code(), absl::StatusCode::kAborted);
}

TEST_F(ArmClientTest, RetryAfterOnTheStatusMonitorIsTheNextPollsWait) {
  ArmOperation op;
  op.verb = ArmOperation::Verb::kPut;
  op.id = TestId();
  op.async_url = OperationUrl("op");
  op.polls = 5;
  transport_.Expect("GET", op.async_url,
                    ScriptedTransport::Json(200, Status("Running"), {{"Retry-After", "23"}}));
  transport_.Expect("GET", op.async_url, ScriptedTransport::Json(200, Status("Accepted")));
  ArmClientImpl& client = Client();
  absl::StatusOr<PollResult> poll = client.Poll(op);
  ASSERT_TRUE(poll.ok()) << poll.status();
  EXPECT_FALSE(poll->done);
  EXPECT_EQ(poll->retry_after, absl::Seconds(23));
  absl::StatusOr<PollResult> again = client.Poll(op);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->retry_after, absl::Seconds(16));  // backoff for polls=5
}

TEST_F(ArmClientTest, PollNeverSleepsOnThrottling) {
  ArmOperation op;
  op.verb = ArmOperation::Verb::kPut;
  op.id = TestId();
  op.async_url = OperationUrl("op");
  transport_.Expect(
      "GET", op.async_url,
      ScriptedTransport::Json(429, ArmError("TooManyRequests", "slow"), {{"Retry-After", "1"}}));
  absl::Time start = clock_.Now();
  absl::StatusOr<PollResult> poll = Client().Poll(op);
  EXPECT_EQ(poll.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryAfter(poll.status()), absl::Seconds(1));
  EXPECT_EQ(clock_.Now(), start);
  EXPECT_EQ(throttled_, 1);
  EXPECT_TRUE(transport_.Verify());
}

// Issue 6 livelock: the operation succeeded, but its read-back GET finds the read bucket empty
// (Poll never waits). The outcome must stand ("done", no resource: read it later); an error
// here kept the operation pending, and each later poll spent the one read token on the status
// monitor before the read-back failed again, for ever.
TEST_F(ArmClientTest, SucceededOperationStaysDoneWhenTheReadBackIsThrottled) {
  ArmClientOptions options = TestOptions();
  options.rate_limit.reads = {1, 1};  // one read, then one per second
  ArmClientImpl& client = Client(options);
  ArmOperation op;
  op.verb = ArmOperation::Verb::kPut;
  op.id = TestId();
  op.async_url = OperationUrl("op");
  op.api_version = kApi;
  transport_.Expect("GET", op.async_url, ScriptedTransport::Json(200, Status("Succeeded")));
  absl::StatusOr<PollResult> poll = client.Poll(op);
  ASSERT_TRUE(poll.ok()) << poll.status();
  EXPECT_TRUE(poll->done);
  EXPECT_TRUE(poll->outcome.ok());
  EXPECT_FALSE(poll->resource.has_value());
  EXPECT_EQ(transport_.RequestCount(), 1u);  // the read-back did not go out
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, SucceededOperationStaysDoneWhenArmThrottlesTheReadBack) {
  ArmOperation op;
  op.verb = ArmOperation::Verb::kPut;
  op.id = TestId();
  op.location_url = OperationUrl("op");
  op.api_version = kApi;
  transport_.Expect("GET", op.location_url, ScriptedTransport::Empty(200));
  transport_.Expect("GET", ResourceUrl(op.id),
                    ScriptedTransport::Json(429, ArmError("TooManyRequests", "slow down"),
                                            {{"Retry-After", "7"}}));
  ArmClientImpl& client = Client();
  absl::StatusOr<PollResult> poll = client.Poll(op);
  ASSERT_TRUE(poll.ok()) << poll.status();
  EXPECT_TRUE(poll->done);
  EXPECT_TRUE(poll->outcome.ok());
  EXPECT_FALSE(poll->resource.has_value());
  // The 429 paused reads for every caller, as its Retry-After asked.
  EXPECT_EQ(client.Limiter().PausedFor(kSub, ArmOpType::kRead), absl::Seconds(7));
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, RetryAfterOfTheWriteIsTheFirstPollsWait) {
  DataConnectionSpec spec = TestSpec();
  transport_.Expect(
      "PUT", ResourceUrl(spec.id),
      ScriptedTransport::Json(201, ConnectionJson(spec.id, "Creating"),
                              {{"Azure-AsyncOperation", OperationUrl("a")}, {"Retry-After", "0"}}));
  transport_.Expect("PUT", ResourceUrl(spec.id),
                    ScriptedTransport::Json(201, ConnectionJson(spec.id, "Creating"),
                                            {{"Azure-AsyncOperation", OperationUrl("b")}}));
  ArmClientImpl& client = Client();
  absl::StatusOr<WriteResult> first = client.Put(spec);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->operation.has_value());
  EXPECT_EQ(first->operation->first_poll_after, absl::ZeroDuration());
  absl::StatusOr<WriteResult> second = client.Put(spec);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(second->operation.has_value());
  EXPECT_FALSE(second->operation->first_poll_after.has_value());  // none sent: caller's default
}

TEST_F(ArmClientTest, PollRefusesAnOperationUrlOnAnotherHost) {
  ArmOperation op;
  op.verb = ArmOperation::Verb::kPut;
  op.id = TestId();
  op.async_url = "https://management.azure.com.evil.example/operationResults/x";
  EXPECT_FALSE(Client().Poll(op).ok());
  EXPECT_EQ(transport_.RequestCount(), 0u);
}

}  // namespace
}  // namespace kustodian::testing_arm
