// Replays the official ARM examples (tests/emulator/testdata, from azure-rest-api-specs) against
// the emulator and compares response shapes: names, types, property sets and their order.
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

constexpr const char* kExampleWorld = R"(
subscriptions:
  - id: 12345678-1234-1234-1234-123456789098
    resourceGroups:
      - name: kustorptest
        clusters:
          - name: kustoCluster
            location: westus
            databases: [KustoDatabase8, KustoDatabase1]
)";

OrderedJson LoadExample(const std::string& name) {
  std::ifstream in(std::string(KUSTODIAN_SOURCE_DIR) + "/tests/emulator/testdata/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return OrderedJson::parse(text.str());
}

std::vector<std::string> Keys(const OrderedJson& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) {
    keys.push_back(key);
  }
  return keys;
}

class ExamplesTest : public EmulatorTest {
 protected:
  void SetUp() override { Reset(); }
  // A fresh emulator (the examples reuse one connection name across kinds).
  void Reset() {
    EmulatorOptions options = TestOptions();
    options.serialize_cluster_writes = false;
    emulator_ = std::make_unique<Emulator>(options, clock_);
    ASSERT_TRUE(emulator_->LoadWorld(*ParseWorld(kExampleWorld, "examples.yaml")).ok());
  }
  static std::string DbPath(const OrderedJson& params) {
    return absl::StrCat("/subscriptions/", params["subscriptionId"].get<std::string>(),
                        "/resourceGroups/", params["resourceGroupName"].get<std::string>(),
                        "/providers/Microsoft.Kusto/clusters/",
                        params["clusterName"].get<std::string>(), "/databases/",
                        params["databaseName"].get<std::string>());
  }
  // PUTs a connection built from an example response body (read-only properties dropped).
  void Seed(const OrderedJson& params, const std::string& name, const OrderedJson& resource) {
    OrderedJson body = {{"location", resource["location"]}, {"kind", resource["kind"]}};
    body["properties"] = resource["properties"];
    body["properties"].erase("provisioningState");
    body["properties"].erase("managedIdentityObjectId");
    ServerResponse r = Call("PUT", DbPath(params) + "/dataConnections/" + name + kApi, body.dump());
    ASSERT_EQ(r.status, 201) << r.body;
  }
  // Expects `ours` to have exactly the example's properties, in its order, with its values
  // (managedIdentityObjectId is resolved by the server, so only its presence is compared).
  static void ExpectSameProperties(const OrderedJson& ours, const OrderedJson& example) {
    EXPECT_EQ(Keys(ours), Keys(example));
    for (const auto& [key, value] : example.items()) {
      if (key != "managedIdentityObjectId") {
        EXPECT_EQ(ours[key], value) << key;
      }
    }
  }
};

TEST_F(ExamplesTest, CreateOrUpdateExamplesAnswer201WithTheExampleProperties) {
  for (const char* file : {"2022-12-29/KustoDataConnectionsCreateOrUpdate.json",
                           "2023-05-02/KustoDataConnectionsEventGridCreateOrUpdate.json",
                           "KustoDataConnectionsCosmosDbCreateOrUpdate.json"}) {
    SCOPED_TRACE(file);
    Reset();
    OrderedJson example = LoadExample(file);
    const OrderedJson& params = example["parameters"];
    ServerResponse r = Call("PUT",
                            DbPath(params) + "/dataConnections/" +
                                params["dataConnectionName"].get<std::string>() + kApi,
                            params["parameters"].dump());
    ASSERT_EQ(r.status, 201) << r.body;
    OrderedJson ours = OrderedJson::parse(r.body);
    const OrderedJson& expected = example["responses"]["201"]["body"];
    EXPECT_EQ(ours["name"], expected["name"]);
    EXPECT_EQ(ours["type"], expected["type"]);
    EXPECT_EQ(ours["kind"], expected["kind"]);
    EXPECT_EQ(ours["location"], expected["location"]);
    for (const auto& [key, value] : expected["properties"].items()) {
      ASSERT_TRUE(ours["properties"].contains(key)) << key;
      if (key != "managedIdentityObjectId") {
        EXPECT_EQ(ours["properties"][key], value) << key;
      }
    }
  }
}

TEST_F(ExamplesTest, EventHubCreateExampleIdMatches) {
  OrderedJson example = LoadExample("2022-12-29/KustoDataConnectionsCreateOrUpdate.json");
  const OrderedJson& params = example["parameters"];
  ServerResponse r = Call("PUT", DbPath(params) + "/dataConnections/dataConnectionTest" + kApi,
                          params["parameters"].dump());
  EXPECT_EQ(OrderedJson::parse(r.body)["id"], example["responses"]["201"]["body"]["id"]);
}

TEST_F(ExamplesTest, GetExamplesHaveTheSamePropertiesInTheSameOrder) {
  for (const char* file : {"2023-08-15/KustoDataConnectionsGet.json",
                           "2022-12-29/KustoDataConnectionsEventGridGet.json",
                           "2023-08-15/KustoDataConnectionsCosmosDbGet.json"}) {
    SCOPED_TRACE(file);
    Reset();
    OrderedJson example = LoadExample(file);
    const OrderedJson& params = example["parameters"];
    const OrderedJson& expected = example["responses"]["200"]["body"];
    std::string name = params["dataConnectionName"];
    Seed(params, name, expected);
    clock_.Advance(absl::Seconds(10));
    ServerResponse r = Call("GET", DbPath(params) + "/dataConnections/" + name + kApi);
    ASSERT_EQ(r.status, 200) << r.body;
    OrderedJson ours = OrderedJson::parse(r.body);
    EXPECT_EQ(ours["type"], expected["type"]);
    EXPECT_EQ(ours["location"], "West US");  // §6: reads return the display name
    ExpectSameProperties(ours["properties"], expected["properties"]);
  }
}

TEST_F(ExamplesTest, ListExampleHasEveryKindWithTheSameProperties) {
  OrderedJson example = LoadExample("2023-08-15/KustoDataConnectionsListByDatabase.json");
  const OrderedJson& params = example["parameters"];
  const OrderedJson& expected = example["responses"]["200"]["body"]["value"];
  for (const OrderedJson& item : expected) {
    std::string name = item["name"].get<std::string>();
    Seed(params, name.substr(name.rfind('/') + 1), item);
  }
  clock_.Advance(absl::Seconds(10));
  ServerResponse r = Call("GET", DbPath(params) + "/dataConnections" + kApi);
  ASSERT_EQ(r.status, 200);
  OrderedJson ours = OrderedJson::parse(r.body);
  EXPECT_EQ(Keys(ours), std::vector<std::string>{"value"});
  ASSERT_EQ(ours["value"].size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i]["name"].get<std::string>());
    EXPECT_EQ(ours["value"][i]["name"], expected[i]["name"]);
    EXPECT_EQ(ours["value"][i]["kind"], expected[i]["kind"]);
    ExpectSameProperties(ours["value"][i]["properties"], expected[i]["properties"]);
  }
}

TEST_F(ExamplesTest, CheckNameAvailabilityExample) {
  OrderedJson example = LoadExample("2023-08-15/KustoDataConnectionsCheckNameAvailability.json");
  const OrderedJson& params = example["parameters"];
  ASSERT_EQ(Call("PUT", DbPath(params) + "/dataConnections/DataConnections8" + kApi,
                 EventHubBody("westus"))
                .status,
            201);
  ServerResponse r = Call("POST", DbPath(params) + "/checkNameAvailability" + kApi,
                          params["dataConnectionName"].dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body),
            nlohmann::json::parse(example["responses"]["200"]["body"].dump()));
}

TEST_F(ExamplesTest, ValidationExamplesAnswerTheSchemaForm) {
  for (const char* file : {"KustoDataConnectionValidationAsync.json",
                           "KustoDataConnectionEventGridValidationAsync.json"}) {
    SCOPED_TRACE(file);
    OrderedJson example = LoadExample(file);
    const OrderedJson& params = example["parameters"];
    ServerResponse r = Call("POST", DbPath(params) + "/dataConnectionValidation" + kApi,
                            params["parameters"].dump());
    ASSERT_EQ(r.status, 200) << r.body;
    // The examples show a bare array; the schema (and the emulator) use {"value": [...]}.
    nlohmann::json body = nlohmann::json::parse(r.body);
    ASSERT_TRUE(body.is_object());
    EXPECT_EQ(body["value"], nlohmann::json::array());
  }
}

}  // namespace
}  // namespace kustodian::emulator::testing
