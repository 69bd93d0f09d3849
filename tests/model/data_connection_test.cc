#include "src/model/data_connection.h"

#include "gtest/gtest.h"

namespace kustodian {
namespace {

TEST(KindTest, NamesRoundTripThroughParse) {
  for (ConnectionKind kind : kAllKinds) {
    absl::StatusOr<ConnectionKind> parsed = ParseKind(KindName(kind));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_EQ(KindName(ConnectionKind::kEventHub), "EventHub");
  EXPECT_EQ(KindName(ConnectionKind::kCosmosDb), "CosmosDb");
  EXPECT_EQ(KindName(ConnectionKind::kEventGridWithManagedIdentity),
            "EventGridWithManagedIdentity");
}

TEST(KindTest, ParseIgnoresCase) {
  absl::StatusOr<ConnectionKind> parsed = ParseKind("iothub");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, ConnectionKind::kIotHub);
}

TEST(KindTest, UnknownKindListsTheValidOnes) {
  absl::StatusOr<ConnectionKind> parsed = ParseKind("EventHubs");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  std::string message(parsed.status().message());
  EXPECT_NE(message.find("'EventHubs'"), std::string::npos) << message;
  EXPECT_NE(message.find("EventHub, EventGrid, IotHub, CosmosDb"), std::string::npos) << message;
}

TEST(KindTest, OnlyManagedIdentityKindsNeedApi2025) {
  EXPECT_TRUE(KindNeedsApi2025(ConnectionKind::kEventHubWithManagedIdentity));
  EXPECT_TRUE(KindNeedsApi2025(ConnectionKind::kEventGridWithManagedIdentity));
  EXPECT_FALSE(KindNeedsApi2025(ConnectionKind::kEventHub));
  EXPECT_FALSE(KindNeedsApi2025(ConnectionKind::kCosmosDb));
}

TEST(ProvisioningStateTest, TerminalStates) {
  EXPECT_TRUE(IsTerminalProvisioningState("Succeeded"));
  EXPECT_TRUE(IsTerminalProvisioningState("Failed"));
  EXPECT_TRUE(IsTerminalProvisioningState("Canceled"));
  EXPECT_TRUE(IsTerminalProvisioningState(""));  // absent means Succeeded
  EXPECT_FALSE(IsTerminalProvisioningState("Creating"));
  EXPECT_FALSE(IsTerminalProvisioningState("Running"));
  EXPECT_FALSE(IsTerminalProvisioningState("Accepted"));  // real ARM, not in the spec enum
  EXPECT_FALSE(IsTerminalProvisioningState("Deleting"));
}

TEST(LocationTest, NormalizesDisplayNames) {
  EXPECT_EQ(NormalizeLocation("East US 2"), "eastus2");
  EXPECT_EQ(NormalizeLocation("eastus2"), "eastus2");
  EXPECT_EQ(NormalizeLocation("West Europe"), "westeurope");
  EXPECT_NE(NormalizeLocation("East US"), NormalizeLocation("East US 2"));
}

}  // namespace
}  // namespace kustodian
