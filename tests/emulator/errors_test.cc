// ARM's and the RP's error answers: api-version, body problems, kind rules, missing parents,
// missing resources (404 on GET, 204 on DELETE), unknown routes.
#include "absl/strings/match.h"
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

using ErrorsTest = EmulatorTest;

std::string Message(const ServerResponse& r) {
  return BodyJson(r)["error"]["message"].get<std::string>();
}

TEST_F(ErrorsTest, BothApiVersionsAreAccepted) {
  EXPECT_EQ(Call("GET", std::string(kDb) + "/dataConnections" + kApi).status, 200);
  EXPECT_EQ(Call("GET", std::string(kDb) + "/dataConnections" + kApi25).status, 200);
}

TEST_F(ErrorsTest, MissingApiVersion) {
  ServerResponse r = Call("GET", std::string(kDb) + "/dataConnections");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "MissingApiVersionParameter");
}

TEST_F(ErrorsTest, UnsupportedApiVersionListsTheSupportedOnes) {
  ServerResponse r = Call("GET", std::string(kDb) + "/dataConnections?api-version=2023-08-15");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "InvalidApiVersionParameter");
  EXPECT_NE(Message(r).find("2023-08-15"), std::string::npos);
  EXPECT_NE(Message(r).find("2024-04-13"), std::string::npos);
  EXPECT_NE(Message(r).find("2025-02-14"), std::string::npos);
}

TEST_F(ErrorsTest, ManagedIdentityKindsNeed2025) {
  nlohmann::json body = {{"location", "eastus2"},
                         {"kind", "EventHubWithManagedIdentity"},
                         {"properties",
                          {{"eventHubResourceIdForManagedIdentity", kEventHubId},
                           {"consumerGroup", "$Default"},
                           {"managedIdentityResourceId",
                            "/subscriptions/x/resourceGroups/r/providers/"
                            "Microsoft.ManagedIdentity/userAssignedIdentities/mi"}}}};
  ServerResponse old = Call("PUT", std::string(kDc) + kApi, body.dump());
  EXPECT_EQ(old.status, 400);
  EXPECT_TRUE(absl::StartsWith(Message(old), "[BadRequest]"));
  ServerResponse ok = Call("PUT", std::string(kDc) + kApi25, body.dump());
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(BodyJson(ok)["kind"], "EventHubWithManagedIdentity");
}

TEST_F(ErrorsTest, AzMonStreamFormatOnlyIn2025) {
  std::string body = EventHubBody("eastus2", {{"dataFormat", "AZMONSTREAM"}});
  EXPECT_EQ(Call("PUT", std::string(kDc) + kApi, body).status, 400);
  EXPECT_EQ(Call("PUT", std::string(kDc) + kApi25, body).status, 201);
}

TEST_F(ErrorsTest, MalformedJsonIsInvalidRequestContent) {
  ServerResponse r = Call("PUT", std::string(kDc) + kApi, R"({"kind": "EventHub",)");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "InvalidRequestContent");
  EXPECT_TRUE(absl::StartsWith(Message(r),
                               "The request content was invalid and could not be "
                               "deserialized"));
}

TEST_F(ErrorsTest, MissingKindIs400) {
  ServerResponse r = Call("PUT", std::string(kDc) + kApi,
                          R"({"location":"eastus2","properties":{"consumerGroup":"x"}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "InvalidRequestContent");
  EXPECT_NE(Message(r).find("'kind'"), std::string::npos);
}

TEST_F(ErrorsTest, UnknownKindIs400BadRequest) {
  ServerResponse r = Call("PUT", std::string(kDc) + kApi,
                          R"({"location":"eastus2","kind":"Kafka","properties":{}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "BadRequest");
}

TEST_F(ErrorsTest, MissingRequiredPropertyIsKustoBadRequest) {
  nlohmann::json body = {{"location", "eastus2"},
                         {"kind", "EventHub"},
                         {"properties", {{"eventHubResourceId", kEventHubId}}}};
  ServerResponse r = Call("PUT", std::string(kDc) + kApi, body.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "BadRequest");
  EXPECT_TRUE(absl::StartsWith(Message(r), "[BadRequest] "));
  EXPECT_NE(Message(r).find("consumerGroup"), std::string::npos);
  // Nothing was created.
  EXPECT_EQ(Call("GET", std::string(kDc) + kApi).status, 404);
}

TEST_F(ErrorsTest, WrongJsonTypeIsInvalidRequestContent) {
  ServerResponse r =
      Call("PUT", std::string(kDc) + kApi, EventHubBody("eastus2", {{"consumerGroup", 5}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "InvalidRequestContent");
  EXPECT_NE(Message(r).find("properties.consumerGroup"), std::string::npos);
}

TEST_F(ErrorsTest, EnumOutsideItsValuesIs400) {
  ServerResponse r =
      Call("PUT", std::string(kDc) + kApi, EventHubBody("eastus2", {{"compression", "Zstd"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "BadRequest");
}

TEST_F(ErrorsTest, ChangingKindIs400) {
  CreateConnection();
  nlohmann::json body = {{"location", "eastus2"},
                         {"kind", "IotHub"},
                         {"properties",
                          {{"iotHubResourceId",
                            "/subscriptions/x/resourceGroups/r/providers/"
                            "Microsoft.Devices/IotHubs/hub"},
                           {"consumerGroup", "$Default"},
                           {"sharedAccessPolicyName", "p"}}}};
  ServerResponse r = Call("PUT", std::string(kDc) + kApi, body.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Message(r).find("cannot be changed"), std::string::npos);
}

TEST_F(ErrorsTest, UnknownSubscription) {
  ServerResponse r =
      Call("GET",
           "/subscriptions/99999999-0000-0000-0000-000000000000/resourceGroups/testrg/providers/"
           "Microsoft.Kusto/clusters/mykustocluster/databases/mydb/dataConnections/dc1" +
               std::string(kApi));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), "SubscriptionNotFound");
}

TEST_F(ErrorsTest, UnknownResourceGroup) {
  std::string path = std::string("/subscriptions/") + kSub +
                     "/resourceGroups/nope/providers/Microsoft.Kusto/clusters/mykustocluster/"
                     "databases/mydb/dataConnections/dc1" +
                     kApi;
  for (const char* method : {"GET", "PUT", "DELETE"}) {
    ServerResponse r = Call(method, path, EventHubBody());
    EXPECT_EQ(r.status, 404) << method;
    EXPECT_EQ(ErrorCode(r), "ResourceGroupNotFound") << method;
  }
}

TEST_F(ErrorsTest, UnknownClusterIsParentResourceNotFoundOnWriteResourceNotFoundOnRead) {
  std::string path = std::string("/subscriptions/") + kSub +
                     "/resourceGroups/testrg/providers/Microsoft.Kusto/clusters/nope/"
                     "databases/mydb/dataConnections/dc1" +
                     kApi;
  ServerResponse put = Call("PUT", path, EventHubBody());
  EXPECT_EQ(put.status, 404);
  EXPECT_EQ(ErrorCode(put), "ParentResourceNotFound");
  ServerResponse del = Call("DELETE", path);
  EXPECT_EQ(ErrorCode(del), "ParentResourceNotFound");
  ServerResponse get = Call("GET", path);
  EXPECT_EQ(get.status, 404);
  EXPECT_EQ(ErrorCode(get), "ResourceNotFound");
  EXPECT_NE(Message(get).find("Microsoft.Kusto/clusters/nope"), std::string::npos);
}

TEST_F(ErrorsTest, UnknownDatabaseIsNotFound) {
  std::string path = std::string("/subscriptions/") + kSub +
                     "/resourceGroups/testrg/providers/Microsoft.Kusto/clusters/mykustocluster/"
                     "databases/nope/dataConnections" +
                     kApi;
  ServerResponse r = Call("GET", path);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), "NotFound");
}

TEST_F(ErrorsTest, GetOfMissingConnectionIsResourceNotFoundWithId) {
  ServerResponse r = Call("GET", std::string(kDc) + kApi);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), "ResourceNotFound");
  EXPECT_EQ(Message(r), std::string("The resource with identifier '") + kDc + "' is not found.");
}

TEST_F(ErrorsTest, DeleteOfMissingConnectionIs204) {
  ServerResponse r = Call("DELETE", std::string(kDc) + kApi);
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(r.content_type.empty());
}

TEST_F(ErrorsTest, UnknownRouteAndMethod) {
  EXPECT_EQ(Call("GET", "/nothing/here").status, 404);
  ServerResponse r = Call("POST", std::string(kDb) + "/dataConnections" + kApi, "{}");
  EXPECT_EQ(r.status, 405);
}

}  // namespace
}  // namespace kustodian::emulator::testing
