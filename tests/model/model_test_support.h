// Helpers shared by the model tests: ids, spec builders and reading the ARM example files from
// ${KUSTODIAN_SOURCE_DIR}/../shared/testdata/arm-examples (CI keeps a copy of shared/ beside
// the repository, so the path is always relative to the source dir).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/model/data_connection.h"

namespace kustodian::testing {

inline constexpr char kSub[] = "12345678-1234-1234-1234-123456789098";
// Request-casing data connection id, as a manifest target produces it.
inline constexpr char kDcRequestId[] =
    "/subscriptions/12345678-1234-1234-1234-123456789098/resourceGroups/kustorptest/providers/"
    "Microsoft.Kusto/clusters/kustoCluster/databases/KustoDatabase8/dataConnections/dc1";
// The same id as ARM returns it (PascalCase type segments).
inline constexpr char kDcResponseId[] =
    "/subscriptions/12345678-1234-1234-1234-123456789098/resourceGroups/kustorptest/providers/"
    "Microsoft.Kusto/Clusters/kustoCluster/Databases/KustoDatabase8/DataConnections/dc1";
inline constexpr char kEventHubId[] =
    "/subscriptions/12345678-1234-1234-1234-123456789098/resourceGroups/kustorptest/providers/"
    "Microsoft.EventHub/namespaces/eventhubTestns1/eventhubs/eventhubTest1";
inline constexpr char kStorageId[] =
    "/subscriptions/12345678-1234-1234-1234-123456789098/resourceGroups/kustorptest/providers/"
    "Microsoft.Storage/storageAccounts/teststorageaccount";
inline constexpr char kEventSubscriptionId[] =
    "/subscriptions/12345678-1234-1234-1234-123456789098/resourceGroups/kustorptest/providers/"
    "Microsoft.Storage/storageAccounts/teststorageaccount/providers/Microsoft.EventGrid/"
    "eventSubscriptions/eventSubscriptionTest";
inline constexpr char kIotHubId[] =
    "/subscriptions/12345678-1234-1234-1234-123456789098/resourceGroups/kustorptest/providers/"
    "Microsoft.Devices/IotHubs/iothub1";
inline constexpr char kCosmosId[] =
    "/subscriptions/12345678-1234-1234-1234-123456789098/resourceGroups/kustorptest/providers/"
    "Microsoft.DocumentDB/databaseAccounts/cosmosDbAccountTest1";
inline constexpr char kUserMiId[] =
    "/subscriptions/12345678-1234-1234-1234-123456789098/resourceGroups/kustorptest/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/managedidentityTest1";

inline DataConnectionId DcId() {
  absl::StatusOr<DataConnectionId> id = DataConnectionId::Parse(kDcRequestId);
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? *id : DataConnectionId{};
}

inline DataConnectionSpec MakeSpec(ConnectionKind kind, nlohmann::json properties,
                                   std::string location = "eastus2") {
  DataConnectionSpec spec;
  spec.id = DcId();
  spec.location = std::move(location);
  spec.kind = kind;
  spec.properties = std::move(properties);
  return spec;
}

// A minimal valid property set for `kind` (the required properties only).
inline nlohmann::json MinimalProperties(ConnectionKind kind) {
  switch (kind) {
    case ConnectionKind::kEventHub:
      return {{"eventHubResourceId", kEventHubId}, {"consumerGroup", "$Default"}};
    case ConnectionKind::kEventGrid:
      return {{"storageAccountResourceId", kStorageId},
              {"eventHubResourceId", kEventHubId},
              {"consumerGroup", "$Default"}};
    case ConnectionKind::kIotHub:
      return {{"iotHubResourceId", kIotHubId},
              {"consumerGroup", "$Default"},
              {"sharedAccessPolicyName", "registryRead"}};
    case ConnectionKind::kCosmosDb:
      return {{"tableName", "TestTable"},
              {"managedIdentityResourceId", kUserMiId},
              {"cosmosDbAccountResourceId", kCosmosId},
              {"cosmosDbDatabase", "db"},
              {"cosmosDbContainer", "container"}};
    case ConnectionKind::kEventHubWithManagedIdentity:
      return {{"eventHubResourceIdForManagedIdentity", kEventHubId},
              {"consumerGroup", "$Default"},
              {"managedIdentityResourceId", kUserMiId}};
    case ConnectionKind::kEventGridWithManagedIdentity:
      return {{"storageAccountResourceIdForManagedIdentity", kStorageId},
              {"eventHubResourceIdForManagedIdentity", kEventHubId},
              {"consumerGroup", "$Default"},
              {"managedIdentityResourceId", kUserMiId}};
  }
  return nlohmann::json::object();
}

// Full path of an example file under shared/testdata/arm-examples.
inline std::string ExamplePath(const std::string& relative) {
  return std::string(KUSTODIAN_SOURCE_DIR "/../shared/testdata/arm-examples/") + relative;
}

// Parses an example file; fails the test (and returns null) when it cannot be read.
inline nlohmann::json ReadExample(const std::string& relative) {
  std::ifstream in(ExamplePath(relative));
  EXPECT_TRUE(in.good()) << "cannot open " << ExamplePath(relative);
  if (!in.good()) {
    return nullptr;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return nlohmann::json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace kustodian::testing
