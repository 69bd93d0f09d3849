// SpecFromLive (kustodian export): what a live connection turns into as a manifest spec.
#include <string>

#include "gtest/gtest.h"
#include "src/model/arm_codec.h"
#include "src/model/validation.h"
#include "tests/model/model_test_support.h"

namespace kustodian {
namespace {

LiveConnection GetBody(nlohmann::json properties, std::string kind = "EventHub") {
  nlohmann::json body = {{"id", testing::kDcResponseId},
                         {"location", "East US 2"},
                         {"kind", kind},
                         {"properties", std::move(properties)}};
  absl::StatusOr<LiveConnection> live = DecodeConnection(body);
  EXPECT_TRUE(live.ok()) << live.status();
  return live.ok() ? *live : LiveConnection{};
}

TEST(SpecFromLiveTest, DropsServerDefaultsAndReadOnly) {
  DataConnectionSpec spec =
      SpecFromLive(GetBody({{"eventHubResourceId", testing::kEventHubId},
                            {"consumerGroup", "$Default"},
                            {"tableName", ""},
                            {"mappingRuleName", nullptr},
                            {"dataFormat", "JSON"},
                            {"eventSystemProperties", nlohmann::json::array()},
                            {"compression", "None"},
                            {"databaseRouting", "Single"},
                            {"managedIdentityResourceId", nullptr},
                            {"managedIdentityObjectId", "8765"},
                            {"retrievalStartDate", "2025-06-01T10:00:05Z"},
                            {"provisioningState", "Succeeded"},
                            {"futureProperty", "x"}}));
  nlohmann::json want = {{"eventHubResourceId", testing::kEventHubId},
                         {"consumerGroup", "$Default"},
                         {"dataFormat", "JSON"}};
  EXPECT_EQ(spec.properties, want);
  EXPECT_EQ(spec.kind, ConnectionKind::kEventHub);
  EXPECT_EQ(spec.location, "eastus2");
  EXPECT_EQ(spec.id, testing::DcId());
  EXPECT_TRUE(ValidateSpec(spec).empty());
}

TEST(SpecFromLiveTest, KeepsNonDefaultValues) {
  DataConnectionSpec spec =
      SpecFromLive(GetBody({{"eventHubResourceId", testing::kEventHubId},
                            {"consumerGroup", "$Default"},
                            {"compression", "gzip"},
                            {"databaseRouting", "Multi"},
                            {"eventSystemProperties", {"message-id"}},
                            {"managedIdentityResourceId", testing::kUserMiId}}));
  EXPECT_EQ(spec.properties["compression"], "GZip");  // canonical casing
  EXPECT_EQ(spec.properties["databaseRouting"], "Multi");
  EXPECT_EQ(spec.properties["eventSystemProperties"], nlohmann::json({"message-id"}));
  EXPECT_EQ(spec.properties["managedIdentityResourceId"], testing::kUserMiId);
}

TEST(SpecFromLiveTest, EventGridDefaults) {
  DataConnectionSpec spec =
      SpecFromLive(GetBody({{"storageAccountResourceId", testing::kStorageId},
                            {"eventHubResourceId", testing::kEventHubId},
                            {"consumerGroup", "$Default"},
                            {"ignoreFirstRecord", false},
                            {"eventGridResourceId", nullptr},
                            {"blobStorageEventType", "Microsoft.Storage.BlobCreated"}},
                           "EventGrid"));
  EXPECT_EQ(spec.kind, ConnectionKind::kEventGrid);
  EXPECT_FALSE(spec.properties.contains("ignoreFirstRecord"));
  EXPECT_FALSE(spec.properties.contains("blobStorageEventType"));
  EXPECT_FALSE(spec.properties.contains("eventGridResourceId"));
  EXPECT_EQ(spec.properties.size(), 3u);

  spec = SpecFromLive(GetBody(
      {{"ignoreFirstRecord", true}, {"blobStorageEventType", "Microsoft.Storage.BlobRenamed"}},
      "EventGrid"));
  EXPECT_EQ(spec.properties["ignoreFirstRecord"], true);
  EXPECT_EQ(spec.properties["blobStorageEventType"], "Microsoft.Storage.BlobRenamed");
}

TEST(SpecFromLiveTest, UnknownKindExportsNoProperties) {
  DataConnectionSpec spec = SpecFromLive(GetBody({{"consumerGroup", "$Default"}}, "KafkaStream"));
  EXPECT_TRUE(spec.properties.empty());
}

}  // namespace
}  // namespace kustodian
