// The /_admin API: out-of-band edits and deletes, state dump, request log, stats, faults, world
// loading, health, and the loopback-only rule.
#include "absl/strings/str_cat.h"
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

class AdminTest : public EmulatorTest {
 protected:
  ServerResponse Admin(const std::string& method, const std::string& target,
                       const std::string& body = "") {
    return Call(MakeRequest(method, "/_admin" + target, body, false));
  }
};

TEST_F(AdminTest, HealthzNeedsNoAuth) {
  ServerResponse r = Admin("GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
}

TEST_F(AdminTest, OnlyLoopbackClients) {
  ServerRequest request = MakeRequest("GET", "/_admin/healthz", "", false);
  request.remote_addr = "10.1.2.3";
  EXPECT_EQ(Call(request).status, 403);
  request.remote_addr = "::1";
  EXPECT_EQ(Call(request).status, 200);
}

TEST_F(AdminTest, OutOfBandCreateHasNoOperationAndServerDefaults) {
  nlohmann::json body = {
      {"kind", "EventHub"},
      {"properties", {{"eventHubResourceId", kEventHubId}, {"consumerGroup", "portal"}}}};
  ServerResponse r = Admin("PUT", std::string("/connections") + kDc, body.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json got = BodyJson(Call("GET", std::string(kDc) + kApi));
  EXPECT_EQ(got["properties"]["provisioningState"], "Succeeded");
  EXPECT_EQ(got["properties"]["consumerGroup"], "portal");
  EXPECT_EQ(got["properties"]["compression"], "None");
  EXPECT_EQ(got["location"], "East US 2");
  // No operation: a write right away is not a conflict.
  EXPECT_EQ(Call("PUT", std::string(kDc) + kApi, EventHubBody()).status, 200);
}

TEST_F(AdminTest, OutOfBandEditMergesProperties) {
  CreateConnection("dc1", {{"tableName", "T1"}});
  nlohmann::json edit = {{"properties", {{"tableName", "Drifted"}, {"dataFormat", "csv"}}}};
  ASSERT_EQ(Admin("PUT", std::string("/connections") + kDc, edit.dump()).status, 200);
  nlohmann::json p = BodyJson(Call("GET", std::string(kDc) + kApi))["properties"];
  EXPECT_EQ(p["tableName"], "Drifted");
  EXPECT_EQ(p["dataFormat"], "CSV");
  EXPECT_EQ(p["consumerGroup"], "$Default");  // kept
}

TEST_F(AdminTest, OutOfBandEditCanSetProvisioningState) {
  CreateConnection();
  ASSERT_EQ(
      Admin("PUT", std::string("/connections") + kDc, R"({"provisioningState":"Failed"})").status,
      200);
  EXPECT_EQ(BodyJson(Call("GET", std::string(kDc) + kApi))["properties"]["provisioningState"],
            "Failed");
}

TEST_F(AdminTest, OutOfBandErrors) {
  EXPECT_EQ(Admin("PUT", "/connections/not/an/id", "{}").status, 400);
  std::string other_db = std::string("/connections/subscriptions/") + kSub +
                         "/resourceGroups/testrg/providers/Microsoft.Kusto/clusters/"
                         "mykustocluster/databases/nope/dataConnections/x";
  EXPECT_EQ(Admin("PUT", other_db, R"({"kind":"EventHub"})").status, 404);
  EXPECT_EQ(Admin("PUT", std::string("/connections") + kDc, R"({"properties":{}})").status, 400);
  EXPECT_EQ(Admin("PUT", std::string("/connections") + kDc, R"({"kind":"EventHub"})").status,
            400);  // required properties still apply
}

TEST_F(AdminTest, OutOfBandDelete) {
  CreateConnection();
  EXPECT_EQ(Admin("DELETE", std::string("/connections") + kDc).status, 204);
  EXPECT_EQ(Call("GET", std::string(kDc) + kApi).status, 404);
  EXPECT_EQ(Admin("DELETE", std::string("/connections") + kDc).status, 404);
}

TEST_F(AdminTest, OutOfBandDeleteDuringAnOperationWins) {
  Call("PUT", std::string(kDc) + kApi, EventHubBody());
  ASSERT_EQ(Admin("DELETE", std::string("/connections") + kDc).status, 204);
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(Call("GET", std::string(kDc) + kApi).status, 404);
}

TEST_F(AdminTest, DumpListsClustersConnectionsAndOperations) {
  Call("PUT", std::string(kDc) + kApi, EventHubBody());
  nlohmann::json dump = BodyJson(Admin("GET", "/connections"));
  ASSERT_EQ(dump["clusters"].size(), 2u);
  EXPECT_EQ(dump["clusters"][0]["location"], "East US 2");
  EXPECT_EQ(dump["clusters"][1]["location"], "West Europe");
  ASSERT_EQ(dump["connections"].size(), 1u);
  EXPECT_EQ(dump["connections"][0]["properties"]["provisioningState"], "Creating");
  EXPECT_FALSE(dump["connections"][0]["operationId"].get<std::string>().empty());
  ASSERT_EQ(dump["operations"].size(), 1u);
  EXPECT_EQ(dump["operations"][0]["status"], "Running");
  EXPECT_EQ(dump["operations"][0]["kind"], "create");
}

TEST_F(AdminTest, RequestLogSinceSeq) {
  ServerRequest get = MakeRequest("GET", std::string(kDc) + kApi);
  get.headers.emplace_back("x-ms-client-request-id", "cid-1");
  get.headers.emplace_back("x-ms-correlation-request-id", "corr-1");
  Call(get);
  Call("PUT", std::string(kDc) + kApi, EventHubBody());
  nlohmann::json all = BodyJson(Admin("GET", "/requests"));
  ASSERT_EQ(all["requests"].size(), 2u);
  nlohmann::json first = all["requests"][0];
  EXPECT_EQ(first["method"], "GET");
  EXPECT_EQ(first["path"], kDc);
  EXPECT_EQ(first["apiVersion"], "2024-04-13");
  EXPECT_EQ(first["status"], 404);
  EXPECT_EQ(first["clientRequestId"], "cid-1");
  EXPECT_EQ(first["correlationId"], "corr-1");
  EXPECT_EQ(first["route"], "GET dataConnection");
  EXPECT_EQ(all["lastSeq"], 2);
  nlohmann::json since = BodyJson(Admin("GET", "/requests?since=1"));
  ASSERT_EQ(since["requests"].size(), 1u);
  EXPECT_EQ(since["requests"][0]["method"], "PUT");
  EXPECT_EQ(Admin("GET", "/requests?since=x").status, 400);
}

TEST_F(AdminTest, StatsByMethodAndRouteThenReset) {
  ServerResponse put = Call("PUT", std::string(kDc) + kApi, EventHubBody());
  Call(PollRequest(*Hdr(put, "Azure-AsyncOperation")));
  Call(PollRequest(*Hdr(put, "Azure-AsyncOperation") + "&operationResultResponseType=Location"));
  Call("GET", std::string(kDb) + "/dataConnections" + kApi);
  nlohmann::json stats = BodyJson(Admin("GET", "/stats"));
  EXPECT_EQ(stats["total"], 4);
  EXPECT_EQ(stats["byMethod"]["GET"], 3);
  EXPECT_EQ(stats["byMethod"]["PUT"], 1);
  EXPECT_EQ(stats["byRoute"]["PUT dataConnection"], 1);
  EXPECT_EQ(stats["byRoute"]["GET operationResult"], 1);
  EXPECT_EQ(stats["byRoute"]["GET operationResultLocation"], 1);
  EXPECT_EQ(stats["byRoute"]["GET list"], 1);
  EXPECT_EQ(stats["byStatus"]["201"], 1);
  EXPECT_EQ(Admin("POST", "/reset-stats").status, 204);
  EXPECT_EQ(BodyJson(Admin("GET", "/stats"))["total"], 0);
}

TEST_F(AdminTest, FaultsAddListClear) {
  ServerResponse added =
      Admin("POST", "/faults", R"([{"spec":"503:x5"},{"kind":"500","probability":0}])");
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(BodyJson(added)["ids"].size(), 2u);
  EXPECT_EQ(BodyJson(Admin("GET", "/faults"))["faults"].size(), 2u);
  EXPECT_EQ(Call("GET", std::string(kDc) + kApi).status, 503);
  EXPECT_EQ(Admin("DELETE", "/faults").status, 204);
  EXPECT_EQ(Call("GET", std::string(kDc) + kApi).status, 404);
  EXPECT_EQ(Admin("POST", "/faults", R"({"kind":"nope"})").status, 400);
  EXPECT_EQ(Admin("POST", "/faults", "{").status, 400);
}

TEST_F(AdminTest, AdminCallsAreNotFaultedOrLogged) {
  emulator_->AddFault(*ParseFaultSpec("503:1"));
  EXPECT_EQ(Admin("GET", "/healthz").status, 200);
  EXPECT_EQ(BodyJson(Admin("GET", "/requests"))["requests"].size(), 0u);
}

TEST_F(AdminTest, WorldLoadsMoreTopologyAndSeeds) {
  std::string yaml = R"(
subscriptions:
  - id: 00000000-0000-0000-0000-000000000002
    resourceGroups:
      - name: rg2
        clusters:
          - name: c2
            location: japaneast
            databases:
              - name: d2
                connections:
                  - name: seeded
                    kind: EventHub
                    properties: {eventHubResourceId: /x, consumerGroup: cg}
)";
  ASSERT_EQ(Admin("POST", "/world", yaml).status, 204);
  ServerResponse r =
      Call("GET",
           "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg2/providers/"
           "Microsoft.Kusto/clusters/c2/databases/d2/dataConnections/seeded" +
               std::string(kApi));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyJson(r)["location"], "Japan East");
  EXPECT_EQ(BodyJson(r)["properties"]["tableName"], "");

  ServerResponse bad = Admin("POST", "/world", "subscriptions:\n  - id: [\n");
  EXPECT_EQ(bad.status, 400);
  ServerResponse bad_conn = Admin("POST", "/world", R"(
subscriptions:
  - id: s3
    resourceGroups:
      - name: g
        clusters:
          - name: c
            location: westus
            databases:
              - name: d
                connections:
                  - name: broken
                    kind: EventHub
)");
  EXPECT_EQ(bad_conn.status, 400);
  EXPECT_NE(BodyJson(bad_conn)["error"]["message"].get<std::string>().find("line 12"),
            std::string::npos)
      << bad_conn.body;
  // Nothing of the failed world was applied.
  EXPECT_EQ(Call("GET",
                 "/subscriptions/s3/resourceGroups/g/providers/Microsoft.Kusto/clusters/"
                 "c/databases/d/dataConnections" +
                     std::string(kApi))
                .status,
            404);
}

TEST_F(AdminTest, UnknownAdminRouteIs404) { EXPECT_EQ(Admin("GET", "/nope").status, 404); }

}  // namespace
}  // namespace kustodian::emulator::testing
