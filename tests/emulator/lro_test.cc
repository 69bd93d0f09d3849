// §6 "LRO shape": PUT/PATCH/DELETE initial responses, the status monitor, the Location form,
// time-based completion on the FakeClock, and 409 while an operation is in flight.
#include "absl/strings/match.h"
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

using LroTest = EmulatorTest;

TEST_F(LroTest, PutNewAnswers201CreatingWithOnlyAzureAsyncOperation) {
  ServerResponse r = Call("PUT", std::string(kDc) + kApi, EventHubBody("eastus2"));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(BodyJson(r)["properties"]["provisioningState"], "Creating");
  std::optional<std::string> async = Hdr(r, "Azure-AsyncOperation");
  ASSERT_TRUE(async.has_value());
  EXPECT_TRUE(absl::StartsWith(
      *async,
      "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000001/"
      "providers/Microsoft.Kusto/locations/eastus2/operationResults/"))
      << *async;
  EXPECT_TRUE(absl::EndsWith(*async, "?api-version=2024-04-13")) << *async;
  EXPECT_FALSE(Hdr(r, "Location").has_value());
  EXPECT_FALSE(Hdr(r, "Retry-After").has_value());
}

TEST_F(LroTest, PutNewWithDisplayNameLocationUsesNormalizedSegment) {
  ServerResponse r = Call("PUT", std::string(kDc) + kApi, EventHubBody("East US 2"));
  ASSERT_EQ(r.status, 201);
  EXPECT_NE(Hdr(r, "Azure-AsyncOperation")->find("/locations/eastus2/"), std::string::npos);
  EXPECT_EQ(BodyJson(r)["location"], "East US 2");  // echoed as sent
}

TEST_F(LroTest, PutExistingAnswers200AcceptedWithLiteralSpacesInUrl) {
  CreateConnection();
  ServerResponse r = Call("PUT", std::string(kDc) + kApi, EventHubBody("eastus2"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(BodyJson(r)["properties"]["provisioningState"], "Accepted");
  std::optional<std::string> async = Hdr(r, "Azure-AsyncOperation");
  ASSERT_TRUE(async.has_value());
  EXPECT_NE(async->find("/locations/East US 2/operationResults/"), std::string::npos) << *async;
  EXPECT_FALSE(Hdr(r, "Location").has_value());
  EXPECT_FALSE(Hdr(r, "Retry-After").has_value());
}

TEST_F(LroTest, PatchAnswers200AcceptedAndNeedsKind) {
  CreateConnection();
  nlohmann::json patch = {{"kind", "EventHub"}, {"properties", {{"tableName", "T2"}}}};
  ServerResponse r = Call("PATCH", std::string(kDc) + kApi, patch.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json body = BodyJson(r);
  EXPECT_EQ(body["properties"]["provisioningState"], "Accepted");
  EXPECT_EQ(body["properties"]["tableName"], "T2");
  EXPECT_EQ(body["properties"]["consumerGroup"], "$Default");  // merged with what was there
  EXPECT_NE(Hdr(r, "Azure-AsyncOperation")->find("/locations/East US 2/"), std::string::npos);

  clock_.Advance(absl::Seconds(11));
  ServerResponse no_kind =
      Call("PATCH", std::string(kDc) + kApi, R"({"properties":{"tableName":"T3"}})");
  EXPECT_EQ(no_kind.status, 400);
}

TEST_F(LroTest, PatchOfMissingConnectionIs404) {
  ServerResponse r = Call("PATCH", std::string(kDc) + kApi, EventHubBody());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), "ResourceNotFound");
}

TEST_F(LroTest, DeleteAnswers202EmptyWithBothHeaders) {
  CreateConnection();
  ServerResponse r = Call("DELETE", std::string(kDc) + kApi);
  EXPECT_EQ(r.status, 202);
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(r.content_type.empty());
  std::optional<std::string> async = Hdr(r, "Azure-AsyncOperation");
  std::optional<std::string> location = Hdr(r, "Location");
  ASSERT_TRUE(async.has_value());
  ASSERT_TRUE(location.has_value());
  EXPECT_NE(async->find("/locations/East US 2/operationResults/"), std::string::npos);
  EXPECT_NE(location->find("/locations/East%20US%202/operationResults/"), std::string::npos);
  EXPECT_TRUE(
      absl::EndsWith(*location, "?api-version=2024-04-13&operationResultResponseType=Location"));
  EXPECT_EQ(location->find(' '), std::string::npos);
  EXPECT_FALSE(Hdr(r, "Retry-After").has_value());
}

TEST_F(LroTest, RetryAfterOnlyWithTheFlag) {
  EmulatorOptions options = TestOptions();
  options.lro_retry_after_seconds = 7;
  Start(options);
  ServerResponse r = Call("PUT", std::string(kDc) + kApi, EventHubBody());
  EXPECT_EQ(Hdr(r, "Retry-After"), "7");
}

TEST_F(LroTest, StatusMonitorRunningThenSucceeded) {
  ServerResponse put = Call("PUT", std::string(kDc) + kApi, EventHubBody());
  std::string url = *Hdr(put, "Azure-AsyncOperation");
  clock_.Advance(absl::Seconds(5));
  ServerResponse running = Call(PollRequest(url));
  ASSERT_EQ(running.status, 200) << running.body;
  nlohmann::json body = BodyJson(running);
  EXPECT_EQ(body["status"], "Running");
  EXPECT_TRUE(body["endTime"].is_null());
  EXPECT_DOUBLE_EQ(body["percentComplete"].get<double>(), 50.0);
  EXPECT_EQ(body["properties"]["operationState"], "InProgress");
  EXPECT_EQ(body["properties"]["operationKind"], "DataConnectionCreate");
  EXPECT_FALSE(body["startTime"].get<std::string>().empty());

  clock_.Advance(absl::Seconds(5));
  ServerResponse done = Call(PollRequest(url));
  ASSERT_EQ(done.status, 200);
  body = BodyJson(done);
  EXPECT_EQ(body["status"], "Succeeded");
  EXPECT_EQ(body["properties"]["operationState"], "Completed");
  EXPECT_EQ(body["properties"]["provisioningState"], "Succeeded");
  EXPECT_DOUBLE_EQ(body["percentComplete"].get<double>(), 100.0);
  EXPECT_TRUE(body["endTime"].is_string());
  EXPECT_EQ(body["name"], url.substr(url.find("operationResults/") + 17, 36));
}

TEST_F(LroTest, StatusMonitorAcceptsEncodedDisplayNameLocation) {
  CreateConnection();
  ServerResponse del = Call("DELETE", std::string(kDc) + kApi);
  ServerResponse poll = Call(PollRequest(*Hdr(del, "Azure-AsyncOperation")));
  ASSERT_EQ(poll.status, 200) << poll.body;
  EXPECT_EQ(BodyJson(poll)["status"], "Running");
  EXPECT_EQ(BodyJson(poll)["properties"], nlohmann::json::object());
}

TEST_F(LroTest, StatusMonitorRejectsOtherLocationOrUnknownId) {
  ServerResponse put = Call("PUT", std::string(kDc) + kApi, EventHubBody());
  std::string url = *Hdr(put, "Azure-AsyncOperation");
  std::string wrong = url;
  wrong.replace(wrong.find("/eastus2/"), 9, "/westeurope/");
  EXPECT_EQ(Call(PollRequest(wrong)).status, 404);
  std::string unknown = std::string("/subscriptions/") + kSub +
                        "/providers/Microsoft.Kusto/locations/eastus2/operationResults/"
                        "00000000-0000-0000-0000-0000000000ff" +
                        kApi;
  EXPECT_EQ(Call("GET", unknown).status, 404);
}

TEST_F(LroTest, LocationFormAnswers202ThenResourceForPut) {
  ServerResponse put = Call("PUT", std::string(kDc) + kApi, EventHubBody());
  std::string url = *Hdr(put, "Azure-AsyncOperation") + "&operationResultResponseType=Location";
  ServerResponse running = Call(PollRequest(url));
  EXPECT_EQ(running.status, 202);
  EXPECT_TRUE(running.body.empty());
  EXPECT_TRUE(Hdr(running, "Location").has_value());
  EXPECT_TRUE(Hdr(running, "Azure-AsyncOperation").has_value());
  clock_.Advance(absl::Seconds(10));
  ServerResponse done = Call(PollRequest(url));
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(BodyJson(done)["properties"]["provisioningState"], "Succeeded");
}

TEST_F(LroTest, LocationFormAnswers202Then204ForDelete) {
  CreateConnection();
  ServerResponse del = Call("DELETE", std::string(kDc) + kApi);
  std::string url = *Hdr(del, "Location");
  EXPECT_EQ(Call(PollRequest(url)).status, 202);
  clock_.Advance(absl::Seconds(10));
  ServerResponse done = Call(PollRequest(url));
  EXPECT_EQ(done.status, 204);
  EXPECT_TRUE(done.body.empty());
}

TEST_F(LroTest, GetDuringCreateShowsCreatingThenSucceeded) {
  Call("PUT", std::string(kDc) + kApi, EventHubBody());
  clock_.Advance(absl::Seconds(9));
  EXPECT_EQ(BodyJson(Call("GET", std::string(kDc) + kApi))["properties"]["provisioningState"],
            "Creating");
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(BodyJson(Call("GET", std::string(kDc) + kApi))["properties"]["provisioningState"],
            "Succeeded");
}

TEST_F(LroTest, GetAndListDuringUpdateShowUpdating) {
  CreateConnection();
  Call("PUT", std::string(kDc) + kApi, EventHubBody());
  EXPECT_EQ(BodyJson(Call("GET", std::string(kDc) + kApi))["properties"]["provisioningState"],
            "Updating");
  nlohmann::json list = BodyJson(Call("GET", std::string(kDb) + "/dataConnections" + kApi));
  EXPECT_EQ(list["value"][0]["properties"]["provisioningState"], "Updating");
}

TEST_F(LroTest, DeleteInProgressShowsDeletingThenVanishes) {
  CreateConnection();
  Call("DELETE", std::string(kDc) + kApi);
  EXPECT_EQ(BodyJson(Call("GET", std::string(kDc) + kApi))["properties"]["provisioningState"],
            "Deleting");
  clock_.Advance(absl::Seconds(10));
  ServerResponse gone = Call("GET", std::string(kDc) + kApi);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(BodyJson(Call("GET", std::string(kDb) + "/dataConnections" + kApi))["value"].size(),
            0u);
}

TEST_F(LroTest, ZeroDurationCompletesAtTheNextRequest) {
  EmulatorOptions options = TestOptions();
  options.lro_duration = absl::ZeroDuration();
  Start(options);
  ServerResponse put = Call("PUT", std::string(kDc) + kApi, EventHubBody());
  EXPECT_EQ(BodyJson(put)["properties"]["provisioningState"], "Creating");
  ServerResponse poll = Call(PollRequest(*Hdr(put, "Azure-AsyncOperation")));
  EXPECT_EQ(BodyJson(poll)["status"], "Succeeded");
}

TEST_F(LroTest, WriteWhileOperationInFlightIs409RequestConflict) {
  Call("PUT", std::string(kDc) + kApi, EventHubBody());
  for (const char* method : {"PUT", "PATCH", "DELETE"}) {
    ServerResponse r = Call(method, std::string(kDc) + kApi, EventHubBody());
    EXPECT_EQ(r.status, 409) << method;
    EXPECT_EQ(ErrorCode(r), "RequestConflict") << method;
    EXPECT_NE(BodyJson(r)["error"]["message"].get<std::string>().find(
                  "provisioning state is not terminal"),
              std::string::npos);
  }
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(Call("PUT", std::string(kDc) + kApi, EventHubBody()).status, 200);
}

TEST_F(LroTest, SerializedClusterWritesConflictAcrossConnections) {
  Call("PUT", std::string(kDc) + kApi, EventHubBody());
  std::string other = std::string(kDb) + "/dataConnections/dc2" + kApi;
  EXPECT_EQ(Call("PUT", other, EventHubBody()).status, 409);
  // Another cluster is not affected.
  std::string weu = std::string("/subscriptions/") + kSub +
                    "/resourceGroups/testrg/providers/Microsoft.Kusto/clusters/weucluster/"
                    "databases/weudb/dataConnections/dc9" +
                    kApi;
  EXPECT_EQ(Call("PUT", weu, EventHubBody("westeurope")).status, 201);
}

TEST_F(LroTest, ClusterSerializationCanBeTurnedOff) {
  EmulatorOptions options = TestOptions();
  options.serialize_cluster_writes = false;
  Start(options);
  Call("PUT", std::string(kDc) + kApi, EventHubBody());
  EXPECT_EQ(Call("PUT", std::string(kDb) + "/dataConnections/dc2" + kApi, EventHubBody()).status,
            201);
}

TEST_F(LroTest, OperationUrlsCarryTheCallsApiVersion) {
  ServerResponse r = Call("PUT", std::string(kDc) + kApi25, EventHubBody());
  EXPECT_TRUE(absl::EndsWith(*Hdr(r, "Azure-AsyncOperation"), "?api-version=2025-02-14"));
}

TEST_F(LroTest, LroFailFaultEndsTheOperationFailed) {
  emulator_->AddFault(*ParseFaultSpec("lro-fail:x1:PUT"));
  ServerResponse put = Call("PUT", std::string(kDc) + kApi, EventHubBody());
  std::string url = *Hdr(put, "Azure-AsyncOperation");
  clock_.Advance(absl::Seconds(10));
  nlohmann::json status = BodyJson(Call(PollRequest(url)));
  EXPECT_EQ(status["status"], "Failed");
  EXPECT_EQ(status["error"]["code"], "EventHubValidationErorFound");
  EXPECT_TRUE(absl::StartsWith(status["error"]["message"].get<std::string>(), "[BadRequest]"));
  EXPECT_EQ(BodyJson(Call("GET", std::string(kDc) + kApi))["properties"]["provisioningState"],
            "Failed");
  ServerResponse location = Call(PollRequest(url + "&operationResultResponseType=Location"));
  EXPECT_EQ(location.status, 400);
  // A failed connection is terminal: it can be written again.
  EXPECT_EQ(Call("PUT", std::string(kDc) + kApi, EventHubBody()).status, 200);
}

}  // namespace
}  // namespace kustodian::emulator::testing
