#include "src/arm/error_mapping.h"

#include "gtest/gtest.h"
#include "src/core/status.h"

namespace kustodian {
namespace {

HttpResponse Response(int status, std::string body, HttpHeaders headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(ParseArmErrorBodyTest, ReadsLowerCaseShape) {
  ArmErrorBody e = ParseArmErrorBody(
      R"({"error":{"code":"ResourceNotFound","message":"The resource was not found."}})");
  EXPECT_EQ(e.code, "ResourceNotFound");
  EXPECT_EQ(e.message, "The resource was not found.");
}

TEST(ParseArmErrorBodyTest, ReadsCapitalizedKeys) {
  ArmErrorBody e = ParseArmErrorBody(R"({"Error":{"Code":"Conflict","Message":"busy"}})");
  EXPECT_EQ(e.code, "Conflict");
  EXPECT_EQ(e.message, "busy");
}

TEST(ParseArmErrorBodyTest, ReadsBareCodeAndMessage) {
  ArmErrorBody e = ParseArmErrorBody(R"({"Code":"BadRequest","Message":"[BadRequest] no"})");
  EXPECT_EQ(e.code, "BadRequest");
  EXPECT_EQ(e.message, "[BadRequest] no");
}

TEST(ParseArmErrorBodyTest, ToleratesGarbage) {
  EXPECT_EQ(ParseArmErrorBody("").code, "");
  EXPECT_EQ(ParseArmErrorBody("<html>").code, "");
  EXPECT_EQ(ParseArmErrorBody("[1,2]").message, "");
}

TEST(StatusCodeForHttpTest, MapsEveryDocumentedStatus) {
  EXPECT_EQ(StatusCodeForHttp(400), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForHttp(401), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(StatusCodeForHttp(403), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusCodeForHttp(404), absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForHttp(409), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusCodeForHttp(412), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusCodeForHttp(429), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForHttp(500), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForHttp(503), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForHttp(504), absl::StatusCode::kUnavailable);
}

TEST(ParseRetryAfterTest, ReadsSecondsAndMilliseconds) {
  EXPECT_EQ(ParseRetryAfter({{"Retry-After", "17"}}), absl::Seconds(17));
  EXPECT_EQ(ParseRetryAfter({{"retry-after-ms", "250"}}), absl::Milliseconds(250));
  EXPECT_EQ(ParseRetryAfter({{"x-ms-retry-after-ms", "1500"}, {"Retry-After", "9"}}),
            absl::Milliseconds(1500));
  EXPECT_FALSE(ParseRetryAfter({{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}).has_value());
  EXPECT_FALSE(ParseRetryAfter({}).has_value());
}

TEST(MapArmErrorTest, BuildsMessageAndAttachesCodeAndRetryAfter) {
  absl::Status s = MapArmError(
      "GET",
      "https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.Kusto/"
      "clusters/c/databases/d/dataConnections/n?api-version=2024-04-13",
      Response(429, R"({"error":{"code":"SubscriptionRequestsThrottled","message":"slow down"}})",
               {{"Retry-After", "12"}}),
      "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(s.message()),
            "ARM GET /subscriptions/s/resourceGroups/g/providers/Microsoft.Kusto/clusters/c/"
            "databases/d/dataConnections/n -> 429 SubscriptionRequestsThrottled: slow down "
            "(client-request-id 11111111-2222-4333-8444-555555555555)");
  EXPECT_EQ(GetArmErrorCode(s), "SubscriptionRequestsThrottled");
  EXPECT_EQ(GetRetryAfter(s), absl::Seconds(12));
}

TEST(MapArmErrorTest, CapitalizedBodyIsRead) {
  absl::Status s = MapArmError("PUT", "https://h/x", Response(409, R"({"Code":"RequestConflict",
      "Message":"provisioning state is not terminal"})"),
                               "id");
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(GetArmErrorCode(s), "RequestConflict");
  EXPECT_NE(std::string(s.message()).find("provisioning state is not terminal"), std::string::npos);
}

TEST(MapTransportErrorTest, IsUnavailableUnlessTheUrlIsBad) {
  absl::Status s = MapTransportError("GET", "https://h/a?b", absl::UnavailableError("reset"), "id");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(s.message()).find("reset"), std::string::npos);
  EXPECT_EQ(MapTransportError("GET", "x", absl::InvalidArgumentError("bad url"), "id").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(OperationFailureStatusTest, BadRequestPrefixIsInvalidArgument) {
  nlohmann::json body = {
      {"status", "Failed"},
      {"error",
       {{"code", "EventHubValidationErorFound"},
        {"message", "[BadRequest] Validation Errors found: table does not exist"}}}};
  absl::Status s = OperationFailureStatus("Failed", body, "ARM PUT");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetArmErrorCode(s), "EventHubValidationErorFound");
  EXPECT_NE(std::string(s.message()).find("table does not exist"), std::string::npos);
}

TEST(OperationFailureStatusTest, OtherFailuresAreInternalAndCancelIsAborted) {
  nlohmann::json error = {{"code", "InternalServerError"}, {"message", "boom"}};
  EXPECT_EQ(OperationFailureStatus("Failed", error, "op").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(OperationFailureStatus("Canceled", error, "op").code(), absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace kustodian
