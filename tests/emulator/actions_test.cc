// POST dataConnectionValidation and POST checkNameAvailability.
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

class ActionsTest : public EmulatorTest {
 protected:
  ServerResponse Validate(const nlohmann::json& body, const char* api = kApi) {
    return Call("POST", std::string(kDb) + "/dataConnectionValidation" + api, body.dump());
  }
  static nlohmann::json Request(const std::string& kind, const nlohmann::json& props,
                                const std::string& name = "dc1") {
    return {{"dataConnectionName", name}, {"properties", {{"kind", kind}, {"properties", props}}}};
  }
  static std::vector<std::string> Messages(const ServerResponse& r) {
    std::vector<std::string> out;
    nlohmann::json body = BodyJson(r);
    for (const auto& item : body["value"]) {
      out.push_back(item["errorMessage"]);
    }
    return out;
  }
};

TEST_F(ActionsTest, ValidRequestGivesEmptyValue) {
  ServerResponse r = Validate(
      Request("EventHub", {{"eventHubResourceId", kEventHubId}, {"consumerGroup", "$Default"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyJson(r), nlohmann::json::parse(R"({"value":[]})"));
}

TEST_F(ActionsTest, MissingRequiredFieldsAreListed) {
  ServerResponse r = Validate(Request("CosmosDb", {{"tableName", "T"}}));
  ASSERT_EQ(r.status, 200);
  std::vector<std::string> messages = Messages(r);
  ASSERT_EQ(messages.size(), 4u);  // MI id, account, database, container
  EXPECT_NE(messages[0].find("managedIdentityResourceId"), std::string::npos);
  EXPECT_EQ(messages[0].find("[BadRequest]"), std::string::npos);
}

TEST_F(ActionsTest, UnknownOrMissingKindAndApiGate) {
  EXPECT_EQ(Messages(Validate(Request("Kafka", nlohmann::json::object()))).size(), 1u);
  nlohmann::json no_kind = {{"dataConnectionName", "x"}, {"properties", {{"properties", {}}}}};
  EXPECT_EQ(Messages(Validate(no_kind)).size(), 1u);
  nlohmann::json mi =
      Request("EventGridWithManagedIdentity", {{"storageAccountResourceIdForManagedIdentity", "/s"},
                                               {"eventHubResourceIdForManagedIdentity", "/e"},
                                               {"consumerGroup", "c"},
                                               {"managedIdentityResourceId", "/m"}});
  EXPECT_EQ(Messages(Validate(mi)).size(), 1u);
  EXPECT_EQ(Messages(Validate(mi, kApi25)).size(), 0u);
}

TEST_F(ActionsTest, EventHubAndConsumerGroupAlreadyUsed) {
  CreateConnection("existing");
  std::vector<std::string> messages = Messages(Validate(
      Request("EventHub", {{"eventHubResourceId", kEventHubId}, {"consumerGroup", "$default"}})));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("already used"), std::string::npos);
  // The connection itself may keep its own tuple.
  EXPECT_TRUE(
      Messages(Validate(Request(
                   "EventHub", {{"eventHubResourceId", kEventHubId}, {"consumerGroup", "$Default"}},
                   "existing")))
          .empty());
}

TEST_F(ActionsTest, MalformedValidationBodyIs400) {
  EXPECT_EQ(Call("POST", std::string(kDb) + "/dataConnectionValidation" + kApi, "[").status, 400);
  EXPECT_EQ(Validate(nlohmann::json{{"dataConnectionName", "x"}}).status, 400);
}

TEST_F(ActionsTest, CheckNameAvailableTakenAndInvalid) {
  auto check = [&](const std::string& name) {
    nlohmann::json body = {{"name", name},
                           {"type", "Microsoft.Kusto/clusters/databases/dataConnections"}};
    return Call("POST", std::string(kDb) + "/checkNameAvailability" + kApi, body.dump());
  };
  ServerResponse free = check("new-one");
  ASSERT_EQ(free.status, 200) << free.body;
  EXPECT_EQ(BodyJson(free)["nameAvailable"], true);
  CreateConnection("taken");
  nlohmann::json taken = BodyJson(check("TAKEN"));
  EXPECT_EQ(taken["nameAvailable"], false);
  EXPECT_EQ(taken["reason"], "AlreadyExists");
  nlohmann::json invalid = BodyJson(check("bad name!"));
  EXPECT_EQ(invalid["nameAvailable"], false);
  EXPECT_EQ(invalid["reason"], "Invalid");
}

TEST_F(ActionsTest, CheckNameNeedsNameAndType) {
  std::string path = std::string(kDb) + "/checkNameAvailability" + kApi;
  EXPECT_EQ(Call("POST", path, R"({"name":"x"})").status, 400);
  EXPECT_EQ(
      Call("POST", path, R"({"type":"Microsoft.Kusto/clusters/databases/dataConnections"})").status,
      400);
  ServerResponse wrong_type =
      Call("POST", path, R"({"name":"x","type":"Microsoft.Kusto/clusters/databases"})");
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_EQ(ErrorCode(wrong_type), "InvalidRequestContent");
}

}  // namespace
}  // namespace kustodian::emulator::testing
