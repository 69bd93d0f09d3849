// ArmClientImpl::Validate: synchronous answers (both body shapes) and the 202 + polling path.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/model/arm_codec.h"
#include "tests/arm/arm_test_util.h"

namespace kustodian::testing_arm {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string ValidationUrl(const DatabaseId& db, const std::string& api = kApi) {
  return absl::StrCat(kEndpoint, db.RequestPath(), "/dataConnectionValidation?api-version=", api);
}

TEST_F(ArmClientTest, ValidateSynchronousSchemaForm) {
  DataConnectionSpec spec = TestSpec();
  transport_.Expect("POST", ValidationUrl(spec.id.Database()),
                    ScriptedTransport::Json(200, {{"value", {{{"errorMessage", "no such hub"}}}}}));
  absl::StatusOr<std::vector<std::string>> errors = Client().Validate(spec);
  ASSERT_TRUE(errors.ok()) << errors.status();
  EXPECT_THAT(*errors, ElementsAre("no such hub"));
  HttpRequest sent = transport_.Request(0);
  EXPECT_EQ(nlohmann::json::parse(sent.body), EncodeValidationRequest(spec));
  EXPECT_EQ(Header(sent, "Content-Type"), "application/json");
  EXPECT_TRUE(IsGuid(Header(sent, "x-ms-correlation-request-id")));
}

TEST_F(ArmClientTest, ValidateSynchronousBareArrayAndMiKind) {
  DataConnectionSpec spec = TestSpec(ConnectionKind::kEventGridWithManagedIdentity);
  transport_.Expect("POST", ValidationUrl(spec.id.Database(), kApi2025),
                    ScriptedTransport::Json(200, nlohmann::json::array()));
  absl::StatusOr<std::vector<std::string>> errors = Client().Validate(spec);
  ASSERT_TRUE(errors.ok()) << errors.status();
  EXPECT_THAT(*errors, IsEmpty());
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, ValidateAcceptedPollsThenReadsTheLocation) {
  DataConnectionSpec spec = TestSpec();
  std::string async = OperationUrl("op-val");
  std::string location = absl::StrCat(async, "&operationResultResponseType=Location");
  transport_.Expect(
      "POST", ValidationUrl(spec.id.Database()),
      ScriptedTransport::Empty(
          202, {{"Azure-AsyncOperation", async}, {"Location", location}, {"Retry-After", "10"}}));
  transport_.Expect("GET", async,
                    ScriptedTransport::Json(200, {{"status", "Running"}}, {{"Retry-After", "4"}}));
  transport_.Expect("GET", async, ScriptedTransport::Json(200, {{"status", "Succeeded"}}));
  transport_.Expect("GET", location,
                    ScriptedTransport::Json(200, {{{"errorMessage", "table does not exist"}}}));
  absl::Time start = clock_.Now();
  absl::StatusOr<std::vector<std::string>> errors = Client().Validate(spec);
  ASSERT_TRUE(errors.ok()) << errors.status();
  EXPECT_THAT(*errors, ElementsAre("table does not exist"));
  EXPECT_EQ(clock_.Now() - start, absl::Seconds(14));  // slept 10 s, then 4 s
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, ValidateLocationOnly) {
  DataConnectionSpec spec = TestSpec();
  std::string location = OperationUrl("op-val");
  transport_.Expect("POST", ValidationUrl(spec.id.Database()),
                    ScriptedTransport::Empty(202, {{"Location", location}}));
  transport_.Expect("GET", location, ScriptedTransport::Empty(202));
  transport_.Expect("GET", location,
                    ScriptedTransport::Json(200, {{"value", nlohmann::json::array()}}));
  absl::StatusOr<std::vector<std::string>> errors = Client().Validate(spec);
  ASSERT_TRUE(errors.ok()) << errors.status();
  EXPECT_THAT(*errors, IsEmpty());
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, ValidateFailedOperationIsReturned) {
  DataConnectionSpec spec = TestSpec();
  std::string async = OperationUrl("op-val");
  transport_.Expect("POST", ValidationUrl(spec.id.Database()),
                    ScriptedTransport::Empty(202, {{"Azure-AsyncOperation", async}}));
  transport_.Expect(
      "GET", async,
      ScriptedTransport::Json(
          200, {{"status", "Failed"},
                {"error", {{"code", "BadRequest"}, {"message", "[BadRequest] no"}}}}));
  EXPECT_EQ(Client().Validate(spec).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ArmClientTest, ValidateGivesUpAfterFiveMinutes) {
  DataConnectionSpec spec = TestSpec();
  std::string location = OperationUrl("op-val");
  transport_.Expect(
      "POST", ValidationUrl(spec.id.Database()),
      ScriptedTransport::Empty(202, {{"Location", location}, {"Retry-After", "100"}}));
  for (int i = 0; i < 3; ++i) {  // polls at +100 s, +200 s, +300 s
    transport_.Expect("GET", location, ScriptedTransport::Empty(202, {{"Retry-After", "100"}}));
  }
  absl::Time start = clock_.Now();
  absl::StatusOr<std::vector<std::string>> errors = Client().Validate(spec);
  EXPECT_EQ(errors.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(clock_.Now() - start, absl::Minutes(5));  // never sleeps past the deadline
  EXPECT_TRUE(transport_.Verify());
}

}  // namespace
}  // namespace kustodian::testing_arm
