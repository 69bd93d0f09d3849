#include "src/model/schema.h"

#include <set>
#include <string>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace kustodian {
namespace {

std::set<std::string> Names(ConnectionKind kind, bool (*pick)(const PropertySchema&)) {
  std::set<std::string> out;
  for (const PropertySchema& p : SchemaFor(kind).properties) {
    if (pick(p)) {
      out.insert(p.name);
    }
  }
  return out;
}

bool IsRequired(const PropertySchema& p) { return p.required; }
bool IsReadOnly(const PropertySchema& p) { return p.read_only; }
bool Any(const PropertySchema&) { return true; }

TEST(SchemaTest, EveryKindHasItsOwnSchema) {
  for (ConnectionKind kind : kAllKinds) {
    EXPECT_EQ(SchemaFor(kind).kind, kind) << KindName(kind);
    EXPECT_FALSE(SchemaFor(kind).properties.empty());
  }
}

TEST(SchemaTest, RequiredPropertiesPerKind) {
  using S = std::set<std::string>;
  EXPECT_EQ(Names(ConnectionKind::kEventHub, IsRequired),
            (S{"eventHubResourceId", "consumerGroup"}));
  EXPECT_EQ(Names(ConnectionKind::kEventGrid, IsRequired),
            (S{"storageAccountResourceId", "eventHubResourceId", "consumerGroup"}));
  EXPECT_EQ(Names(ConnectionKind::kIotHub, IsRequired),
            (S{"iotHubResourceId", "consumerGroup", "sharedAccessPolicyName"}));
  EXPECT_EQ(Names(ConnectionKind::kCosmosDb, IsRequired),
            (S{"tableName", "managedIdentityResourceId", "cosmosDbAccountResourceId",
               "cosmosDbDatabase", "cosmosDbContainer"}));
  EXPECT_EQ(
      Names(ConnectionKind::kEventHubWithManagedIdentity, IsRequired),
      (S{"eventHubResourceIdForManagedIdentity", "consumerGroup", "managedIdentityResourceId"}));
  EXPECT_EQ(Names(ConnectionKind::kEventGridWithManagedIdentity, IsRequired),
            (S{"storageAccountResourceIdForManagedIdentity", "eventHubResourceIdForManagedIdentity",
               "consumerGroup", "managedIdentityResourceId"}));
}

TEST(SchemaTest, ReadOnlyPropertiesPerKind) {
  using S = std::set<std::string>;
  for (ConnectionKind kind : kAllKinds) {
    S want = kind == ConnectionKind::kIotHub ? S{"provisioningState"}
                                             : S{"provisioningState", "managedIdentityObjectId"};
    EXPECT_EQ(Names(kind, IsReadOnly), want) << KindName(kind);
  }
}

TEST(SchemaTest, PropertiesAbsentFromSomeKinds) {
  // §2.3: no retrievalStartDate and no compression on EventGrid.
  EXPECT_EQ(FindProperty(ConnectionKind::kEventGrid, "retrievalStartDate"), nullptr);
  EXPECT_EQ(FindProperty(ConnectionKind::kEventGrid, "compression"), nullptr);
  // §2.4: IoT Hub has no managed identity.
  EXPECT_EQ(FindProperty(ConnectionKind::kIotHub, "managedIdentityResourceId"), nullptr);
  // §2.5: CosmosDb has no dataFormat, consumerGroup or databaseRouting.
  std::set<std::string> cosmos = Names(ConnectionKind::kCosmosDb, Any);
  EXPECT_EQ(
      cosmos.count("dataFormat") + cosmos.count("consumerGroup") + cosmos.count("databaseRouting"),
      0u);
  // §2.6: the MI variants rename the id fields.
  EXPECT_EQ(FindProperty(ConnectionKind::kEventHubWithManagedIdentity, "eventHubResourceId"),
            nullptr);
  EXPECT_NE(FindProperty(ConnectionKind::kEventHubWithManagedIdentity, "retrievalStartDate"),
            nullptr);
  EXPECT_EQ(FindProperty(ConnectionKind::kEventGridWithManagedIdentity, "storageAccountResourceId"),
            nullptr);
  EXPECT_EQ(FindProperty(ConnectionKind::kEventHub, "ignoreFirstRecord"), nullptr);
}

TEST(SchemaTest, LookupIsExactCase) {
  EXPECT_NE(FindProperty(ConnectionKind::kEventHub, "consumerGroup"), nullptr);
  EXPECT_EQ(FindProperty(ConnectionKind::kEventHub, "consumergroup"), nullptr);
}

TEST(SchemaTest, DataFormatIsTheUnionForEveryKind) {
  for (ConnectionKind kind : kAllKinds) {
    const PropertySchema* p = FindProperty(kind, "dataFormat");
    if (kind == ConnectionKind::kCosmosDb) {
      EXPECT_EQ(p, nullptr);
      continue;
    }
    ASSERT_NE(p, nullptr) << KindName(kind);
    EXPECT_EQ(p->type, PropertyType::kEnum);
    EXPECT_EQ(p->enum_values.size(), 17u);
    EXPECT_EQ(CanonicalEnumValue(*p, "azmonstream"), "AZMONSTREAM");
    EXPECT_EQ(CanonicalEnumValue(*p, "w3clogfile"), "W3CLOGFILE");
  }
}

TEST(SchemaTest, EnumValues) {
  const PropertySchema* compression = FindProperty(ConnectionKind::kEventHub, "compression");
  ASSERT_NE(compression, nullptr);
  EXPECT_EQ(compression->enum_values, (std::vector<std::string>{"None", "GZip"}));
  EXPECT_EQ(CanonicalEnumValue(*compression, "gzip"), "GZip");
  EXPECT_EQ(CanonicalEnumValue(*compression, "zip"), "");
  const PropertySchema* routing = FindProperty(ConnectionKind::kIotHub, "databaseRouting");
  ASSERT_NE(routing, nullptr);
  EXPECT_EQ(routing->enum_values, (std::vector<std::string>{"Single", "Multi"}));
  const PropertySchema* blob = FindProperty(ConnectionKind::kEventGrid, "blobStorageEventType");
  ASSERT_NE(blob, nullptr);
  EXPECT_EQ(blob->enum_values, (std::vector<std::string>{"Microsoft.Storage.BlobCreated",
                                                         "Microsoft.Storage.BlobRenamed"}));
}

TEST(SchemaTest, ResourceIdTypes) {
  auto type_of = [](ConnectionKind kind, const char* name) {
    const PropertySchema* p = FindProperty(kind, name);
    EXPECT_NE(p, nullptr) << name;
    EXPECT_EQ(p ? p->type : PropertyType::kString, PropertyType::kResourceId) << name;
    return p ? absl::StrJoin(p->resource_types, "|") : std::string("<missing>");
  };
  EXPECT_EQ(type_of(ConnectionKind::kEventHub, "eventHubResourceId"),
            "Microsoft.EventHub/namespaces/eventhubs");
  EXPECT_EQ(type_of(ConnectionKind::kEventGrid, "storageAccountResourceId"),
            "Microsoft.Storage/storageAccounts");
  EXPECT_EQ(type_of(ConnectionKind::kIotHub, "iotHubResourceId"), "Microsoft.Devices/IotHubs");
  EXPECT_EQ(type_of(ConnectionKind::kCosmosDb, "cosmosDbAccountResourceId"),
            "Microsoft.DocumentDB/databaseAccounts");
  EXPECT_EQ(type_of(ConnectionKind::kEventGrid, "eventGridResourceId"), "");
  // A user-assigned identity, or the cluster itself for its system-assigned identity.
  for (ConnectionKind kind : kAllKinds) {
    if (FindProperty(kind, "managedIdentityResourceId") != nullptr) {
      EXPECT_EQ(type_of(kind, "managedIdentityResourceId"),
                "Microsoft.ManagedIdentity/userAssignedIdentities|Microsoft.Kusto/clusters");
    }
  }
  EXPECT_EQ(type_of(ConnectionKind::kEventGridWithManagedIdentity,
                    "storageAccountResourceIdForManagedIdentity"),
            "Microsoft.Storage/storageAccounts");
}

TEST(SchemaTest, OtherTypes) {
  EXPECT_EQ(FindProperty(ConnectionKind::kEventGrid, "ignoreFirstRecord")->type,
            PropertyType::kBool);
  EXPECT_EQ(FindProperty(ConnectionKind::kIotHub, "eventSystemProperties")->type,
            PropertyType::kStringList);
  EXPECT_EQ(FindProperty(ConnectionKind::kCosmosDb, "retrievalStartDate")->type,
            PropertyType::kDateTime);
}

TEST(SchemaTest, UnsetValues) {
  EXPECT_TRUE(IsUnsetValue(nullptr, PropertyType::kBool));
  EXPECT_TRUE(IsUnsetValue("", PropertyType::kString));
  EXPECT_TRUE(IsUnsetValue("", PropertyType::kEnum));
  EXPECT_TRUE(IsUnsetValue(nlohmann::json::array(), PropertyType::kStringList));
  EXPECT_FALSE(IsUnsetValue("x", PropertyType::kString));
  EXPECT_FALSE(IsUnsetValue(false, PropertyType::kBool));
  EXPECT_FALSE(IsUnsetValue(nlohmann::json::array({"a"}), PropertyType::kStringList));
}

}  // namespace
}  // namespace kustodian
