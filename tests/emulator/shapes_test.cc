// §6 "Identity and casing", "Location" and "Server-filled properties": the JSON the emulator
// returns, kind by kind, and the headers every response carries.
#include "absl/strings/match.h"
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

using ShapesTest = EmulatorTest;

std::string Db(const std::string& rest) { return std::string(kDb) + rest; }

TEST_F(ShapesTest, IdIsPascalCaseNameIsClusterDbConnectionTypeIsPascalCase) {
  CreateConnection();
  nlohmann::json body = BodyJson(Call("GET", std::string(kDc) + kApi));
  EXPECT_EQ(body["id"],
            "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/testrg/providers/"
            "Microsoft.Kusto/Clusters/mykustocluster/Databases/mydb/DataConnections/dc1");
  EXPECT_EQ(body["name"], "mykustocluster/mydb/dc1");
  EXPECT_EQ(body["type"], "Microsoft.Kusto/Clusters/Databases/DataConnections");
  EXPECT_FALSE(body.contains("etag"));
  EXPECT_FALSE(body.contains("tags"));
  EXPECT_FALSE(body.contains("systemData"));
}

TEST_F(ShapesTest, RoutesMatchEitherCasing) {
  CreateConnection();
  std::string pascal =
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/TESTRG/providers/"
      "microsoft.kusto/Clusters/MyKustoCluster/Databases/MYDB/DataConnections/DC1";
  ServerResponse r = Call("GET", pascal + kApi);
  ASSERT_EQ(r.status, 200) << r.body;
  // The id keeps the world's casing and the name as created.
  EXPECT_EQ(BodyJson(r)["name"], "mykustocluster/mydb/dc1");
}

TEST_F(ShapesTest, CreateEchoesLocationLaterReadsReturnDisplayName) {
  ServerResponse put = Call("PUT", std::string(kDc) + kApi, EventHubBody("eastus2"));
  EXPECT_EQ(BodyJson(put)["location"], "eastus2");
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(BodyJson(Call("GET", std::string(kDc) + kApi))["location"], "East US 2");
  EXPECT_EQ(BodyJson(Call("GET", Db("/dataConnections") + kApi))["value"][0]["location"],
            "East US 2");
  EXPECT_EQ(BodyJson(Call("PUT", std::string(kDc) + kApi, EventHubBody("eastus2")))["location"],
            "East US 2");
}

TEST_F(ShapesTest, EventHubServerFilledAfterCreate) {
  ServerResponse put = Call("PUT", std::string(kDc) + kApi, EventHubBody());
  clock_.Advance(absl::Seconds(10));
  nlohmann::json p = BodyJson(Call("GET", std::string(kDc) + kApi))["properties"];
  EXPECT_EQ(p["tableName"], "");
  EXPECT_EQ(p["mappingRuleName"], "");
  EXPECT_EQ(p["dataFormat"], "");
  EXPECT_EQ(p["eventSystemProperties"], nlohmann::json::array());
  EXPECT_EQ(p["compression"], "None");
  EXPECT_EQ(p["databaseRouting"], "Single");
  EXPECT_TRUE(p["managedIdentityResourceId"].is_null());
  EXPECT_TRUE(p["managedIdentityObjectId"].is_null());
  // retrievalStartDate = the server time of the write (FakeClock start, whole seconds).
  EXPECT_EQ(p["retrievalStartDate"], "2026-09-21T14:13:20Z");
  EXPECT_EQ(p["provisioningState"], "Succeeded");
}

TEST_F(ShapesTest, EventHubUnsetStringsAreNullAfterUpdate) {
  CreateConnection();
  Call("PUT", std::string(kDc) + kApi, EventHubBody());
  clock_.Advance(absl::Seconds(10));
  nlohmann::json p = BodyJson(Call("GET", std::string(kDc) + kApi))["properties"];
  EXPECT_TRUE(p["tableName"].is_null());
  EXPECT_TRUE(p["mappingRuleName"].is_null());
  EXPECT_TRUE(p["dataFormat"].is_null());
  EXPECT_EQ(p["compression"], "None");
  // The start date chosen at create time is kept.
  EXPECT_EQ(p["retrievalStartDate"], "2026-09-21T14:13:20Z");
}

TEST_F(ShapesTest, EventHubManagedIdentityObjectIdIsResolvedAndStable) {
  std::string mi =
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/testrg/"
      "providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";
  CreateConnection("dc1", {{"managedIdentityResourceId", mi}});
  CreateConnection("dc2", {{"managedIdentityResourceId", mi}});
  nlohmann::json p1 = BodyJson(Call("GET", Db("/dataConnections/dc1") + kApi))["properties"];
  nlohmann::json p2 = BodyJson(Call("GET", Db("/dataConnections/dc2") + kApi))["properties"];
  EXPECT_EQ(p1["managedIdentityResourceId"], mi);
  ASSERT_TRUE(p1["managedIdentityObjectId"].is_string());
  EXPECT_EQ(p1["managedIdentityObjectId"].get<std::string>().size(), 36u);
  EXPECT_EQ(p1["managedIdentityObjectId"], p2["managedIdentityObjectId"]);
}

TEST_F(ShapesTest, EventGridServerFilled) {
  nlohmann::json body = {{"location", "eastus2"},
                         {"kind", "EventGrid"},
                         {"properties",
                          {{"storageAccountResourceId",
                            "/subscriptions/x/resourceGroups/r/providers/"
                            "Microsoft.Storage/storageAccounts/sa"},
                           {"eventHubResourceId", kEventHubId},
                           {"consumerGroup", "$Default"}}}};
  ASSERT_EQ(Call("PUT", std::string(kDc) + kApi, body.dump()).status, 201);
  clock_.Advance(absl::Seconds(10));
  nlohmann::json p = BodyJson(Call("GET", std::string(kDc) + kApi))["properties"];
  EXPECT_EQ(p["ignoreFirstRecord"], false);
  EXPECT_TRUE(p["eventGridResourceId"].is_null());
  EXPECT_EQ(p["blobStorageEventType"], "Microsoft.Storage.BlobCreated");
  EXPECT_EQ(p["databaseRouting"], "Single");
  EXPECT_TRUE(p["tableName"].is_null());
  EXPECT_TRUE(p["mappingRuleName"].is_null());
  EXPECT_TRUE(p["dataFormat"].is_null());
  EXPECT_TRUE(p.contains("managedIdentityResourceId"));
  EXPECT_TRUE(p.contains("managedIdentityObjectId"));
  EXPECT_FALSE(p.contains("retrievalStartDate"));
  EXPECT_FALSE(p.contains("compression"));
}

TEST_F(ShapesTest, IotHubServerFilled) {
  nlohmann::json body = {{"location", "eastus2"},
                         {"kind", "IotHub"},
                         {"properties",
                          {{"iotHubResourceId",
                            "/subscriptions/x/resourceGroups/r/providers/"
                            "Microsoft.Devices/IotHubs/hub"},
                           {"consumerGroup", "$Default"},
                           {"sharedAccessPolicyName", "iothubowner"}}}};
  ASSERT_EQ(Call("PUT", std::string(kDc) + kApi, body.dump()).status, 201);
  clock_.Advance(absl::Seconds(10));
  nlohmann::json p = BodyJson(Call("GET", std::string(kDc) + kApi))["properties"];
  EXPECT_EQ(p["tableName"], "");
  EXPECT_EQ(p["mappingRuleName"], "");
  EXPECT_EQ(p["dataFormat"], "");
  EXPECT_EQ(p["eventSystemProperties"], nlohmann::json::array());
  EXPECT_EQ(p["databaseRouting"], "Single");
  EXPECT_TRUE(p["retrievalStartDate"].is_string());
  EXPECT_FALSE(p.contains("managedIdentityResourceId"));
}

TEST_F(ShapesTest, CosmosDbServerFilled) {
  nlohmann::json body = {{"location", "eastus2"},
                         {"kind", "CosmosDb"},
                         {"properties",
                          {{"tableName", "T"},
                           {"managedIdentityResourceId",
                            "/subscriptions/x/resourceGroups/r/providers/"
                            "Microsoft.ManagedIdentity/userAssignedIdentities/mi"},
                           {"cosmosDbAccountResourceId",
                            "/subscriptions/x/resourceGroups/r/providers/"
                            "Microsoft.DocumentDb/databaseAccounts/acct"},
                           {"cosmosDbDatabase", "db"},
                           {"cosmosDbContainer", "c"}}}};
  ASSERT_EQ(Call("PUT", std::string(kDc) + kApi, body.dump()).status, 201);
  clock_.Advance(absl::Seconds(10));
  nlohmann::json p = BodyJson(Call("GET", std::string(kDc) + kApi))["properties"];
  EXPECT_TRUE(p["mappingRuleName"].is_null());
  EXPECT_TRUE(p["managedIdentityObjectId"].is_string());
  EXPECT_TRUE(p["retrievalStartDate"].is_string());
  EXPECT_FALSE(p.contains("databaseRouting"));
  EXPECT_FALSE(p.contains("dataFormat"));
  EXPECT_FALSE(p.contains("consumerGroup"));
}

TEST_F(ShapesTest, RetrievalStartDateEchoedVerbatimThenCanonical) {
  ServerResponse put =
      Call("PUT", std::string(kDc) + kApi,
           EventHubBody("eastus2", {{"retrievalStartDate", "0001-01-01T00:00:00.0000000Z"}}));
  EXPECT_EQ(BodyJson(put)["properties"]["retrievalStartDate"], "0001-01-01T00:00:00.0000000Z");
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(BodyJson(Call("GET", std::string(kDc) + kApi))["properties"]["retrievalStartDate"],
            "0001-01-01T00:00:00Z");
}

TEST_F(ShapesTest, TimestampsKeepSevenDigitsTrimmed) {
  CreateConnection("dc1", {{"retrievalStartDate", "2022-07-29T12:00:00.6554610+00:00"}});
  EXPECT_EQ(BodyJson(Call("GET", std::string(kDc) + kApi))["properties"]["retrievalStartDate"],
            "2022-07-29T12:00:00.655461Z");
}

TEST_F(ShapesTest, ReadOnlyPropertiesSentAreIgnored) {
  CreateConnection("dc1", {{"provisioningState", "Failed"},
                           {"managedIdentityObjectId", "11111111-0000-0000-0000-000000000000"},
                           {"unknownThing", 5}});
  nlohmann::json p = BodyJson(Call("GET", std::string(kDc) + kApi))["properties"];
  EXPECT_EQ(p["provisioningState"], "Succeeded");
  EXPECT_TRUE(p["managedIdentityObjectId"].is_null());
  EXPECT_FALSE(p.contains("unknownThing"));
}

TEST_F(ShapesTest, EnumValuesComeBackInTheirOwnSpelling) {
  CreateConnection(
      "dc1", {{"compression", "gzip"}, {"dataFormat", "multijson"}, {"databaseRouting", "multi"}});
  nlohmann::json p = BodyJson(Call("GET", std::string(kDc) + kApi))["properties"];
  EXPECT_EQ(p["compression"], "GZip");
  EXPECT_EQ(p["dataFormat"], "MULTIJSON");
  EXPECT_EQ(p["databaseRouting"], "Multi");
}

TEST_F(ShapesTest, ListReturnsEveryKindWithoutNextLink) {
  CreateConnection("a");
  nlohmann::json grid = {{"location", "eastus2"},
                         {"kind", "EventGrid"},
                         {"properties",
                          {{"storageAccountResourceId",
                            "/subscriptions/x/resourceGroups/r/"
                            "providers/Microsoft.Storage/"
                            "storageAccounts/sa"},
                           {"eventHubResourceId", kEventHubId},
                           {"consumerGroup", "other"}}}};
  ASSERT_EQ(Call("PUT", Db("/dataConnections/b") + kApi, grid.dump()).status, 201);
  clock_.Advance(absl::Seconds(10));
  nlohmann::json list = BodyJson(Call("GET", Db("/DataConnections") + kApi));
  ASSERT_EQ(list["value"].size(), 2u);
  EXPECT_EQ(list["value"][0]["kind"], "EventHub");
  EXPECT_EQ(list["value"][1]["kind"], "EventGrid");
  EXPECT_FALSE(list.contains("nextLink"));
}

TEST_F(ShapesTest, ListPagingEmitsNextLinkWhenConfigured) {
  EmulatorOptions options = TestOptions();
  options.list_page_size = 2;
  options.serialize_cluster_writes = false;
  Start(options);
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_EQ(Call("PUT", Db("/dataConnections/") + name + kApi, EventHubBody()).status, 201);
  }
  nlohmann::json page1 = BodyJson(Call("GET", Db("/dataConnections") + kApi));
  ASSERT_EQ(page1["value"].size(), 2u);
  ASSERT_TRUE(page1["nextLink"].is_string());
  nlohmann::json page2 = BodyJson(Call(PollRequest(page1["nextLink"].get<std::string>())));
  ASSERT_EQ(page2["value"].size(), 1u);
  EXPECT_EQ(page2["value"][0]["name"], "mykustocluster/mydb/c");
  EXPECT_FALSE(page2.contains("nextLink"));
}

TEST_F(ShapesTest, JsonIsCompactWithCharsetContentType) {
  CreateConnection();
  ServerResponse r = Call("GET", std::string(kDc) + kApi);
  EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
  EXPECT_EQ(r.body.find('\n'), std::string::npos);
  EXPECT_EQ(r.body.find(": "), std::string::npos);
}

TEST_F(ShapesTest, StandardHeadersOnEveryResponse) {
  for (const ServerResponse& r :
       {Call("GET", std::string(kDc) + kApi), Call("GET", std::string(kDc)),
        Call("PUT", std::string(kDc) + kApi, EventHubBody())}) {
    EXPECT_EQ(Hdr(r, "x-ms-request-id").value_or("").size(), 36u) << r.status;
    EXPECT_TRUE(Hdr(r, "x-ms-correlation-request-id").has_value());
    EXPECT_TRUE(absl::StartsWith(Hdr(r, "x-ms-routing-request-id").value_or(""), "LOCAL:"));
    EXPECT_TRUE(absl::EndsWith(Hdr(r, "Date").value_or(""), " GMT"));
    EXPECT_EQ(Hdr(r, "Cache-Control"), "no-cache");
    EXPECT_EQ(Hdr(r, "Pragma"), "no-cache");
    EXPECT_EQ(Hdr(r, "Expires"), "-1");
  }
}

TEST_F(ShapesTest, CorrelationAndClientRequestIdsAreEchoed) {
  ServerRequest request = MakeRequest("GET", std::string(kDb) + "/dataConnections" + kApi);
  request.headers.emplace_back("x-ms-correlation-request-id", "corr-1");
  request.headers.emplace_back("x-ms-client-request-id", "client-1");
  ServerResponse r = Call(request);
  EXPECT_EQ(Hdr(r, "x-ms-correlation-request-id"), "corr-1");
  EXPECT_FALSE(Hdr(r, "x-ms-client-request-id").has_value());  // not asked for
  request.headers.emplace_back("x-ms-return-client-request-id", "true");
  EXPECT_EQ(Hdr(Call(request), "x-ms-client-request-id"), "client-1");
}

}  // namespace
}  // namespace kustodian::emulator::testing
