// One test per real-ARM behaviour of shared/docs/arm-kusto-api.md §6 that the diff must absorb,
// plus the plan shapes (create, delete, update, recreate).
#include "src/model/diff.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/model/model_test_support.h"

namespace kustodian {
namespace {

using testing::kEventHubId;
using testing::MakeSpec;
using testing::MinimalProperties;

LiveConnection Live(ConnectionKind kind, nlohmann::json properties,
                    std::string location = "East US 2") {
  LiveConnection live;
  live.id = testing::DcId();
  live.kind = kind;
  live.kind_name = std::string(KindName(kind));
  live.location = std::move(location);
  live.properties = std::move(properties);
  return live;
}

// Diff of an EventHub spec {minimal + desired_extra} against live {minimal + live_extra}.
Plan DiffEventHub(const nlohmann::json& desired_extra, const nlohmann::json& live_extra) {
  nlohmann::json desired = MinimalProperties(ConnectionKind::kEventHub);
  if (!desired_extra.is_null()) {  // `{}` in a call is JSON null, not an empty object
    desired.update(desired_extra);
  }
  nlohmann::json live = MinimalProperties(ConnectionKind::kEventHub);
  if (!live_extra.is_null()) {
    live.update(live_extra);
  }
  DataConnectionSpec spec = MakeSpec(ConnectionKind::kEventHub, desired);
  LiveConnection l = Live(ConnectionKind::kEventHub, live);
  return Diff(&spec, &l);
}

TEST(DiffTest, NothingOnEitherSideIsNoop) {
  EXPECT_EQ(Diff(nullptr, nullptr).action, PlanAction::kNoop);
}

TEST(DiffTest, DesiredOnlyIsCreate) {
  DataConnectionSpec spec =
      MakeSpec(ConnectionKind::kEventHub, MinimalProperties(ConnectionKind::kEventHub));
  EXPECT_EQ(Diff(&spec, nullptr).action, PlanAction::kCreate);
}

TEST(DiffTest, LiveOnlyIsDelete) {
  LiveConnection live = Live(ConnectionKind::kEventHub, {});
  EXPECT_EQ(Diff(nullptr, &live).action, PlanAction::kDelete);
}

TEST(DiffTest, ActionNames) {
  EXPECT_EQ(PlanActionName(PlanAction::kNoop), "no-op");
  EXPECT_EQ(PlanActionName(PlanAction::kCreate), "create");
  EXPECT_EQ(PlanActionName(PlanAction::kUpdate), "update");
  EXPECT_EQ(PlanActionName(PlanAction::kRecreate), "recreate");
  EXPECT_EQ(PlanActionName(PlanAction::kDelete), "delete");
}

TEST(DiffFactsTest, LocationDisplayNameIsNotDrift) {
  DataConnectionSpec spec =
      MakeSpec(ConnectionKind::kEventHub, MinimalProperties(ConnectionKind::kEventHub), "eastus2");
  LiveConnection live =
      Live(ConnectionKind::kEventHub, MinimalProperties(ConnectionKind::kEventHub), "East US 2");
  EXPECT_EQ(Diff(&spec, &live).action, PlanAction::kNoop);
}

TEST(DiffFactsTest, RealLocationChangeIsRecreate) {
  DataConnectionSpec spec =
      MakeSpec(ConnectionKind::kEventHub, MinimalProperties(ConnectionKind::kEventHub), "westus");
  LiveConnection live =
      Live(ConnectionKind::kEventHub, MinimalProperties(ConnectionKind::kEventHub), "East US 2");
  Plan plan = Diff(&spec, &live);
  EXPECT_EQ(plan.action, PlanAction::kRecreate);
  EXPECT_NE(plan.reason.find("location is fixed at creation"), std::string::npos) << plan.reason;
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].path, "location");
  EXPECT_EQ(plan.changes[0].old_value, "East US 2");
  EXPECT_EQ(plan.changes[0].new_value, "westus");
}

TEST(DiffFactsTest, KindChangeIsRecreate) {
  DataConnectionSpec spec =
      MakeSpec(ConnectionKind::kIotHub, MinimalProperties(ConnectionKind::kIotHub));
  LiveConnection live =
      Live(ConnectionKind::kEventHub, MinimalProperties(ConnectionKind::kEventHub));
  Plan plan = Diff(&spec, &live);
  EXPECT_EQ(plan.action, PlanAction::kRecreate);
  EXPECT_EQ(plan.reason, "kind changed from EventHub to IotHub");
  ASSERT_FALSE(plan.changes.empty());
  EXPECT_EQ(plan.changes[0].path, "kind");
}

TEST(DiffFactsTest, UnknownLiveKindIsRecreate) {
  DataConnectionSpec spec =
      MakeSpec(ConnectionKind::kEventHub, MinimalProperties(ConnectionKind::kEventHub));
  LiveConnection live =
      Live(ConnectionKind::kEventHub, MinimalProperties(ConnectionKind::kEventHub));
  live.kind.reset();
  live.kind_name = "KafkaStream";
  Plan plan = Diff(&spec, &live);
  EXPECT_EQ(plan.action, PlanAction::kRecreate);
  EXPECT_EQ(plan.reason, "kind changed from KafkaStream to EventHub");
}

TEST(DiffFactsTest, EmptyNullAndAbsentStringsAreEqual) {
  EXPECT_EQ(DiffEventHub({{"tableName", ""}}, {{"tableName", nullptr}}).action, PlanAction::kNoop);
  EXPECT_EQ(DiffEventHub({{"tableName", ""}}, {}).action, PlanAction::kNoop);
  EXPECT_EQ(DiffEventHub({{"mappingRuleName", ""}}, {{"mappingRuleName", ""}}).action,
            PlanAction::kNoop);
  // Clearing a value that is set is a real change.
  EXPECT_EQ(DiffEventHub({{"tableName", ""}}, {{"tableName", "T"}}).action, PlanAction::kUpdate);
}

TEST(DiffFactsTest, UnsetDesiredPropertiesAreNotCompared) {
  EXPECT_EQ(DiffEventHub({}, {{"tableName", "ServerSide"}, {"dataFormat", "CSV"}}).action,
            PlanAction::kNoop);
  EXPECT_EQ(DiffEventHub({{"tableName", nullptr}}, {{"tableName", "T"}}).action, PlanAction::kNoop);
}

TEST(DiffFactsTest, EmptyListEqualsAbsent) {
  EXPECT_EQ(DiffEventHub({{"eventSystemProperties", nlohmann::json::array()}}, {}).action,
            PlanAction::kNoop);
  EXPECT_EQ(DiffEventHub({{"eventSystemProperties", nlohmann::json::array()}},
                         {{"eventSystemProperties", nullptr}})
                .action,
            PlanAction::kNoop);
  EXPECT_EQ(DiffEventHub({{"eventSystemProperties", {"message-id"}}},
                         {{"eventSystemProperties", nlohmann::json::array()}})
                .action,
            PlanAction::kUpdate);
  EXPECT_EQ(
      DiffEventHub({{"eventSystemProperties", {"a", "b"}}}, {{"eventSystemProperties", {"b", "a"}}})
          .action,
      PlanAction::kNoop);
}

TEST(DiffFactsTest, EnumValuesIgnoreCase) {
  EXPECT_EQ(DiffEventHub({{"dataFormat", "json"}}, {{"dataFormat", "JSON"}}).action,
            PlanAction::kNoop);
  EXPECT_EQ(DiffEventHub({{"compression", "gzip"}}, {{"compression", "GZip"}}).action,
            PlanAction::kNoop);
  EXPECT_EQ(DiffEventHub({{"dataFormat", "csv"}}, {{"dataFormat", "JSON"}}).action,
            PlanAction::kUpdate);
}

TEST(DiffFactsTest, ResourceIdsIgnoreCase) {
  std::string shouting = kEventHubId;
  for (char& c : shouting) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  EXPECT_EQ(DiffEventHub({{"eventHubResourceId", shouting}}, {}).action, PlanAction::kNoop);
  EXPECT_EQ(
      DiffEventHub({{"managedIdentityResourceId",
                     "/subscriptions/s/resourcegroups/g/providers/microsoft.kusto/clusters/c"}},
                   {{"managedIdentityResourceId",
                     "/subscriptions/s/resourceGroups/g/providers/Microsoft.Kusto/Clusters/c/"}})
          .action,
      PlanAction::kNoop);
  EXPECT_EQ(DiffEventHub({{"eventHubResourceId", std::string(kEventHubId) + "x"}}, {}).action,
            PlanAction::kUpdate);
}

TEST(DiffFactsTest, YearOneTimestampSpellingsAreTheSameInstant) {
  EXPECT_EQ(DiffEventHub({{"retrievalStartDate", "0001-01-01T00:00:00.0000000Z"}},
                         {{"retrievalStartDate", "0001-01-01T00:00:00Z"}})
                .action,
            PlanAction::kNoop);
}

TEST(DiffFactsTest, SevenFractionalDigitsCompareAsInstants) {
  EXPECT_EQ(DiffEventHub({{"retrievalStartDate", "2022-07-29T12:00:00.6554610Z"}},
                         {{"retrievalStartDate", "2022-07-29T12:00:00.655461Z"}})
                .action,
            PlanAction::kNoop);
  // 100 ns apart: a real change.
  EXPECT_EQ(DiffEventHub({{"retrievalStartDate", "2022-07-29T12:00:00.6554617Z"}},
                         {{"retrievalStartDate", "2022-07-29T12:00:00.6554616Z"}})
                .action,
            PlanAction::kUpdate);
}

TEST(DiffFactsTest, ReadOnlyPropertiesAreNeverCompared) {
  EXPECT_EQ(DiffEventHub({{"provisioningState", "Creating"}, {"managedIdentityObjectId", "a"}},
                         {{"provisioningState", "Succeeded"}, {"managedIdentityObjectId", "b"}})
                .action,
            PlanAction::kNoop);
}

TEST(DiffFactsTest, ServerFilledDefaultsAreNotDrift) {
  EXPECT_EQ(DiffEventHub({}, {{"compression", "None"},
                              {"databaseRouting", "Single"},
                              {"eventSystemProperties", nlohmann::json::array()},
                              {"managedIdentityResourceId", nullptr},
                              {"managedIdentityObjectId", nullptr},
                              {"retrievalStartDate", "2025-06-01T10:00:05.1234567Z"}})
                .action,
            PlanAction::kNoop);
  // Desired values equal to those defaults are not drift either.
  EXPECT_EQ(DiffEventHub({{"compression", "None"}, {"databaseRouting", "single"}},
                         {{"compression", "None"}, {"databaseRouting", "Single"}})
                .action,
            PlanAction::kNoop);
}

TEST(DiffFactsTest, FalseBoolEqualsAbsent) {
  nlohmann::json props = MinimalProperties(ConnectionKind::kEventGrid);
  nlohmann::json desired = props;
  desired["ignoreFirstRecord"] = false;
  DataConnectionSpec spec = MakeSpec(ConnectionKind::kEventGrid, desired);
  LiveConnection live = Live(ConnectionKind::kEventGrid, props);
  EXPECT_EQ(Diff(&spec, &live).action, PlanAction::kNoop);
  spec.properties["ignoreFirstRecord"] = true;
  Plan plan = Diff(&spec, &live);
  EXPECT_EQ(plan.action, PlanAction::kUpdate);
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].old_value, nullptr);
  EXPECT_EQ(plan.changes[0].new_value, true);
}

TEST(DiffFactsTest, TableNameChangeIsExactlyOneUpdateField) {
  Plan plan = DiffEventHub({{"tableName", "OrdersV2"}, {"dataFormat", "json"}},
                           {{"tableName", "Orders"},
                            {"dataFormat", "JSON"},
                            {"compression", "None"},
                            {"provisioningState", "Succeeded"}});
  EXPECT_EQ(plan.action, PlanAction::kUpdate);
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].path, "properties.tableName");
  EXPECT_EQ(plan.changes[0].old_value, "Orders");
  EXPECT_EQ(plan.changes[0].new_value, "OrdersV2");
  EXPECT_TRUE(plan.reason.empty());
}

TEST(DiffFactsTest, TableNameIsCaseSensitive) {
  EXPECT_EQ(DiffEventHub({{"tableName", "orders"}}, {{"tableName", "Orders"}}).action,
            PlanAction::kUpdate);
}

TEST(DiffTest, ChangesFollowSchemaOrder) {
  // JSON keys sort as consumerGroup, dataFormat, tableName; the schema order is consumerGroup,
  // tableName, dataFormat.
  Plan plan = DiffEventHub({{"consumerGroup", "b"}, {"tableName", "T2"}, {"dataFormat", "CSV"}},
                           {{"consumerGroup", "a"}, {"tableName", "T1"}, {"dataFormat", "JSON"}});
  ASSERT_EQ(plan.changes.size(), 3u);
  EXPECT_EQ(plan.changes[0].path, "properties.consumerGroup");
  EXPECT_EQ(plan.changes[1].path, "properties.tableName");
  EXPECT_EQ(plan.changes[2].path, "properties.dataFormat");
}

TEST(DiffTest, UnknownDesiredPropertiesCompareAsJson) {
  EXPECT_EQ(DiffEventHub({{"futureFlag", "on"}}, {{"futureFlag", "on"}}).action, PlanAction::kNoop);
  EXPECT_EQ(DiffEventHub({{"futureFlag", ""}}, {}).action, PlanAction::kNoop);
  Plan plan = DiffEventHub({{"futureFlag", "on"}}, {{"futureFlag", "off"}});
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].path, "properties.futureFlag");
}

TEST(PropertyValuesEqualTest, TypeMismatchesAreDifferences) {
  const PropertySchema* table = FindProperty(ConnectionKind::kEventHub, "tableName");
  ASSERT_NE(table, nullptr);
  EXPECT_FALSE(PropertyValuesEqual("5", 5, table));
  const PropertySchema* date = FindProperty(ConnectionKind::kEventHub, "retrievalStartDate");
  EXPECT_FALSE(PropertyValuesEqual("not a date", "2025-01-01T00:00:00Z", date));
  EXPECT_TRUE(PropertyValuesEqual("not a date", "not a date", date));
  EXPECT_FALSE(PropertyValuesEqual("x", nullptr, nullptr));
}

}  // namespace
}  // namespace kustodian
