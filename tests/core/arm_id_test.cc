#include "src/core/arm_id.h"

#include "gtest/gtest.h"

namespace kustodian {
namespace {

constexpr char kId[] =
    "/subscriptions/sub1/resourceGroups/rg-a/providers/Microsoft.Kusto/clusters/adx1/databases/"
    "db1/dataConnections/dc-orders";

TEST(DataConnectionIdTest, ParsesRequestCasing) {
  absl::StatusOr<DataConnectionId> id = DataConnectionId::Parse(kId);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->subscription_id, "sub1");
  EXPECT_EQ(id->resource_group, "rg-a");
  EXPECT_EQ(id->cluster, "adx1");
  EXPECT_EQ(id->database, "db1");
  EXPECT_EQ(id->name, "dc-orders");
  EXPECT_EQ(id->RequestPath(), kId);
}

TEST(DataConnectionIdTest, ResponseCasingParsesToSameKey) {
  absl::StatusOr<DataConnectionId> a = DataConnectionId::Parse(kId);
  absl::StatusOr<DataConnectionId> b = DataConnectionId::Parse(
      "/subscriptions/SUB1/resourcegroups/RG-A/providers/microsoft.kusto/Clusters/ADX1/"
      "Databases/DB1/DataConnections/DC-Orders");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->Key(), b->Key());
  EXPECT_EQ(a->ResponseId(),
            "/subscriptions/sub1/resourceGroups/rg-a/providers/Microsoft.Kusto/Clusters/adx1/"
            "Databases/db1/DataConnections/dc-orders");
  EXPECT_EQ(a->ArmName(), "adx1/db1/dc-orders");
}

TEST(DataConnectionIdTest, RejectsWrongShapesNamingTheSegment) {
  EXPECT_FALSE(DataConnectionId::Parse("").ok());
  EXPECT_FALSE(DataConnectionId::Parse("subscriptions/x").ok());
  absl::StatusOr<DataConnectionId> bad = DataConnectionId::Parse(
      "/subscriptions/s/resourceGroups/g/providers/Microsoft.Kusto/clusters/c/tables/t/"
      "dataConnections/n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("databases"), std::string::npos);
  EXPECT_FALSE(DataConnectionId::Parse(
                   "/subscriptions/s/resourceGroups/g/providers/Microsoft.EventHub/clusters/c/"
                   "databases/d/dataConnections/n")
                   .ok());
}

TEST(DataConnectionIdTest, PercentEncodesNames) {
  DataConnectionId id{"s", "my rg", "c", "d", "a b"};
  EXPECT_EQ(id.RequestPath(),
            "/subscriptions/s/resourceGroups/my%20rg/providers/Microsoft.Kusto/clusters/c/"
            "databases/d/dataConnections/a%20b");
  absl::StatusOr<DataConnectionId> back = DataConnectionId::Parse(id.RequestPath());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, "a b");
}

TEST(ResourceIdTest, ParsesNestedTypes) {
  absl::StatusOr<ResourceId> id = ResourceId::Parse(
      "/subscriptions/s/resourceGroups/g/providers/Microsoft.EventHub/namespaces/ns/eventhubs/h");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->FullType(), "Microsoft.EventHub/namespaces/eventhubs");
  EXPECT_FALSE(ResourceId::Parse("/subscriptions/s/resourceGroups/g/providers/Microsoft.EventHub/"
                                 "namespaces")
                   .ok());
}

TEST(ArmIdTest, CompareIgnoresCaseAndTrailingSlash) {
  EXPECT_TRUE(
      ArmIdsEqual("/subscriptions/A/resourceGroups/B/", "/SUBSCRIPTIONS/a/resourcegroups/b"));
  EXPECT_FALSE(ArmIdsEqual("/subscriptions/A", "/subscriptions/B"));
}

TEST(ArmIdTest, EncodesOnlySpaces) {
  EXPECT_EQ(EncodeSpacesInUrl("https://h/locations/East US 2/operationResults/x?api-version=1"),
            "https://h/locations/East%20US%202/operationResults/x?api-version=1");
  EXPECT_EQ(EncodeSpacesInUrl("https://h/a%20b?x=1&y=2"), "https://h/a%20b?x=1&y=2");
}

}  // namespace
}  // namespace kustodian
