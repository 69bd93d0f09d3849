// For every kind: the GET body real ARM returns after creating (and after updating) a connection
// from a spec, with every server-side quirk of shared/docs/arm-kusto-api.md §6 (server-filled
// defaults, "" after create, null after update, display-name location, PascalCase id,
// retrievalStartDate at server time, managedIdentityObjectId, provisioningState), diffed against
// the spec that produced it, must be a no-op.
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "src/model/arm_codec.h"
#include "src/model/diff.h"
#include "tests/model/model_test_support.h"

namespace kustodian {
namespace {

using testing::kCosmosId;
using testing::kDcResponseId;
using testing::kEventHubId;
using testing::kIotHubId;
using testing::kStorageId;
using testing::kUserMiId;

constexpr char kClusterId[] =
    "/subscriptions/12345678-1234-1234-1234-123456789098/resourceGroups/kustorptest/providers/"
    "Microsoft.Kusto/clusters/kustoCluster";
constexpr char kObjectId[] = "87654321-1234-1234-1234-123456789123";
constexpr char kServerTime[] = "2025-06-01T10:00:05.1234567Z";

struct RecordedCase {
  const char* name;
  ConnectionKind kind;
  nlohmann::json spec_properties;  // what the manifest says
  nlohmann::json live_properties;  // what GET returns afterwards
  const char* changed_property;    // a property the spec sets, for the negative check
};

void PrintTo(const RecordedCase& c, std::ostream* os) { *os << c.name; }

nlohmann::json Envelope(ConnectionKind kind, nlohmann::json properties) {
  return {{"id", kDcResponseId},
          {"name", "kustoCluster/KustoDatabase8/dc1"},
          {"type", "Microsoft.Kusto/Clusters/Databases/DataConnections"},
          {"location", "East US 2"},
          {"kind", std::string(KindName(kind))},
          {"properties", std::move(properties)}};
}

std::vector<RecordedCase> Cases() {
  using J = nlohmann::json;
  return {
      {"EventHubAfterCreate",
       ConnectionKind::kEventHub,
       {{"eventHubResourceId", kEventHubId}, {"consumerGroup", "$Default"}},
       {{"eventHubResourceId", kEventHubId},
        {"consumerGroup", "$Default"},
        {"tableName", ""},
        {"mappingRuleName", ""},
        {"dataFormat", ""},
        {"eventSystemProperties", J::array()},
        {"compression", "None"},
        {"managedIdentityResourceId", nullptr},
        {"managedIdentityObjectId", nullptr},
        {"databaseRouting", "Single"},
        {"retrievalStartDate", kServerTime},
        {"provisioningState", "Succeeded"}},
       "consumerGroup"},
      {"EventHubAfterUpdate",
       ConnectionKind::kEventHub,
       {{"eventHubResourceId", kEventHubId},
        {"consumerGroup", "adx"},
        {"tableName", "Orders"},
        {"managedIdentityResourceId", kClusterId}},
       {{"eventHubResourceId", kEventHubId},
        {"consumerGroup", "adx"},
        {"tableName", "Orders"},
        {"mappingRuleName", nullptr},
        {"dataFormat", nullptr},
        {"eventSystemProperties", J::array()},
        {"compression", "None"},
        {"managedIdentityResourceId", kClusterId},
        {"managedIdentityObjectId", kObjectId},
        {"databaseRouting", "Single"},
        {"retrievalStartDate", kServerTime},
        {"provisioningState", "Succeeded"}},
       "tableName"},
      {"EventGridAfterCreate",
       ConnectionKind::kEventGrid,
       {{"storageAccountResourceId", kStorageId},
        {"eventHubResourceId", kEventHubId},
        {"consumerGroup", "$Default"}},
       {{"storageAccountResourceId", kStorageId},
        {"eventHubResourceId", kEventHubId},
        {"consumerGroup", "$Default"},
        {"tableName", nullptr},
        {"mappingRuleName", nullptr},
        {"dataFormat", nullptr},
        {"ignoreFirstRecord", false},
        {"eventGridResourceId", nullptr},
        {"blobStorageEventType", "Microsoft.Storage.BlobCreated"},
        {"managedIdentityResourceId", nullptr},
        {"managedIdentityObjectId", nullptr},
        {"databaseRouting", "Single"},
        {"provisioningState", "Succeeded"}},
       "eventHubResourceId"},
      {"EventGridAfterUpdate",
       ConnectionKind::kEventGrid,
       {{"storageAccountResourceId", kStorageId},
        {"eventHubResourceId", kEventHubId},
        {"consumerGroup", "$Default"},
        {"tableName", "Blobs"},
        {"dataFormat", "CSV"},
        {"managedIdentityResourceId", kUserMiId}},
       {{"storageAccountResourceId", kStorageId},
        {"eventHubResourceId", kEventHubId},
        {"consumerGroup", "$Default"},
        {"tableName", "Blobs"},
        {"mappingRuleName", nullptr},
        {"dataFormat", "CSV"},
        {"ignoreFirstRecord", false},
        {"eventGridResourceId", nullptr},
        {"blobStorageEventType", "Microsoft.Storage.BlobCreated"},
        {"managedIdentityResourceId", kUserMiId},
        {"managedIdentityObjectId", kObjectId},
        {"databaseRouting", "Single"},
        {"provisioningState", "Succeeded"}},
       "dataFormat"},
      {"IotHubAfterCreate",
       ConnectionKind::kIotHub,
       {{"iotHubResourceId", kIotHubId},
        {"consumerGroup", "$Default"},
        {"sharedAccessPolicyName", "registryRead"}},
       {{"iotHubResourceId", kIotHubId},
        {"consumerGroup", "$Default"},
        {"sharedAccessPolicyName", "registryRead"},
        {"tableName", ""},
        {"mappingRuleName", ""},
        {"dataFormat", ""},
        {"eventSystemProperties", J::array()},
        {"databaseRouting", "Single"},
        {"retrievalStartDate", kServerTime},
        {"provisioningState", "Succeeded"}},
       "sharedAccessPolicyName"},
      {"IotHubAfterUpdate",
       ConnectionKind::kIotHub,
       {{"iotHubResourceId", kIotHubId},
        {"consumerGroup", "$Default"},
        {"sharedAccessPolicyName", "registryRead"},
        {"mappingRuleName", "Telemetry"}},
       {{"iotHubResourceId", kIotHubId},
        {"consumerGroup", "$Default"},
        {"sharedAccessPolicyName", "registryRead"},
        {"tableName", nullptr},
        {"mappingRuleName", "Telemetry"},
        {"dataFormat", nullptr},
        {"eventSystemProperties", J::array()},
        {"databaseRouting", "Single"},
        {"retrievalStartDate", kServerTime},
        {"provisioningState", "Succeeded"}},
       "mappingRuleName"},
      {"CosmosDbAfterCreate",
       ConnectionKind::kCosmosDb,
       {{"tableName", "TestTable"},
        {"managedIdentityResourceId", kUserMiId},
        {"cosmosDbAccountResourceId", kCosmosId},
        {"cosmosDbDatabase", "db"},
        {"cosmosDbContainer", "container"}},
       {{"tableName", "TestTable"},
        {"mappingRuleName", nullptr},
        {"managedIdentityResourceId", kUserMiId},
        {"managedIdentityObjectId", kObjectId},
        {"cosmosDbAccountResourceId", kCosmosId},
        {"cosmosDbDatabase", "db"},
        {"cosmosDbContainer", "container"},
        {"retrievalStartDate", kServerTime},
        {"provisioningState", "Succeeded"}},
       "cosmosDbContainer"},
      {"EventHubWithManagedIdentityAfterCreate",
       ConnectionKind::kEventHubWithManagedIdentity,
       {{"eventHubResourceIdForManagedIdentity", kEventHubId},
        {"consumerGroup", "$Default"},
        {"managedIdentityResourceId", kClusterId}},
       {{"eventHubResourceIdForManagedIdentity", kEventHubId},
        {"consumerGroup", "$Default"},
        {"tableName", ""},
        {"mappingRuleName", ""},
        {"dataFormat", ""},
        {"eventSystemProperties", J::array()},
        {"compression", "None"},
        {"managedIdentityResourceId", kClusterId},
        {"managedIdentityObjectId", kObjectId},
        {"databaseRouting", "Single"},
        {"retrievalStartDate", kServerTime},
        {"provisioningState", "Succeeded"}},
       "managedIdentityResourceId"},
      {"EventGridWithManagedIdentityAfterCreate",
       ConnectionKind::kEventGridWithManagedIdentity,
       {{"storageAccountResourceIdForManagedIdentity", kStorageId},
        {"eventHubResourceIdForManagedIdentity", kEventHubId},
        {"consumerGroup", "$Default"},
        {"managedIdentityResourceId", kUserMiId}},
       {{"storageAccountResourceIdForManagedIdentity", kStorageId},
        {"eventHubResourceIdForManagedIdentity", kEventHubId},
        {"eventGridResourceId", nullptr},
        {"consumerGroup", "$Default"},
        {"tableName", nullptr},
        {"mappingRuleName", nullptr},
        {"dataFormat", nullptr},
        {"ignoreFirstRecord", false},
        {"blobStorageEventType", "Microsoft.Storage.BlobCreated"},
        {"managedIdentityResourceId", kUserMiId},
        {"managedIdentityObjectId", kObjectId},
        {"databaseRouting", "Single"},
        {"provisioningState", "Succeeded"}},
       "storageAccountResourceIdForManagedIdentity"},
  };
}

class RecordedShapeTest : public ::testing::TestWithParam<RecordedCase> {
 protected:
  LiveConnection Decoded() {
    absl::StatusOr<LiveConnection> live =
        DecodeConnection(Envelope(GetParam().kind, GetParam().live_properties));
    EXPECT_TRUE(live.ok()) << live.status();
    return live.ok() ? *live : LiveConnection{};
  }
};

TEST_P(RecordedShapeTest, DiffAgainstTheCreatingSpecIsNoop) {
  const RecordedCase& c = GetParam();
  DataConnectionSpec spec = testing::MakeSpec(c.kind, c.spec_properties, "eastus2");
  LiveConnection live = Decoded();
  // The recorded shape differs from the spec as raw JSON (so a naive diff would fire).
  ASSERT_NE(live.location, spec.location);
  ASSERT_NE(live.properties, spec.properties);
  ASSERT_NE(std::string(kDcResponseId), spec.id.RequestPath());
  EXPECT_EQ(live.id, spec.id);  // PascalCase response id, same connection
  Plan plan = Diff(&spec, &live);
  EXPECT_EQ(plan.action, PlanAction::kNoop)
      << (plan.changes.empty() ? plan.reason : plan.changes[0].path);
  EXPECT_TRUE(plan.changes.empty());
}

TEST_P(RecordedShapeTest, ARealChangeOnTopIsOneUpdate) {
  const RecordedCase& c = GetParam();
  nlohmann::json properties = c.spec_properties;
  const std::string name = c.changed_property;
  ASSERT_TRUE(properties.contains(name));
  std::string changed = properties[name].get<std::string>() + "2";
  properties[name] = changed;
  DataConnectionSpec spec = testing::MakeSpec(c.kind, properties, "eastus2");
  LiveConnection live = Decoded();
  Plan plan = Diff(&spec, &live);
  EXPECT_EQ(plan.action, PlanAction::kUpdate);
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].path, "properties." + name);
  EXPECT_EQ(plan.changes[0].old_value, c.live_properties[name]);
  EXPECT_EQ(plan.changes[0].new_value, changed);
}

TEST_P(RecordedShapeTest, ExportedSpecDiffsAsNoop) {
  LiveConnection live = Decoded();
  DataConnectionSpec exported = SpecFromLive(live);
  EXPECT_EQ(exported.location, "eastus2");
  EXPECT_FALSE(exported.properties.contains("provisioningState"));
  EXPECT_FALSE(exported.properties.contains("retrievalStartDate"));
  Plan plan = Diff(&exported, &live);
  EXPECT_EQ(plan.action, PlanAction::kNoop);
}

INSTANTIATE_TEST_SUITE_P(AllKinds, RecordedShapeTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(RecordedShapeCoverageTest, EveryKindHasARecordedShape) {
  std::set<ConnectionKind> covered;
  for (const RecordedCase& c : Cases()) {
    covered.insert(c.kind);
  }
  EXPECT_EQ(covered.size(), std::size(kAllKinds));
}

}  // namespace
}  // namespace kustodian
