#include "src/model/schema.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

// Resource types of the ids the connections point at (compared case-insensitively).
constexpr std::string_view kEventHubType = "Microsoft.EventHub/namespaces/eventhubs";
constexpr std::string_view kStorageType = "Microsoft.Storage/storageAccounts";
constexpr std::string_view kIotHubType = "Microsoft.Devices/IotHubs";
constexpr std::string_view kCosmosDbType = "Microsoft.DocumentDB/databaseAccounts";
// managedIdentityResourceId: a user-assigned identity, or for the cluster's system-assigned
// identity the cluster's own id (shared/docs/arm-kusto-api.md, EventHub properties).
constexpr std::string_view kUserIdentityType = "Microsoft.ManagedIdentity/userAssignedIdentities";
constexpr std::string_view kKustoClusterType = "Microsoft.Kusto/clusters";

// EventHubDataFormat / IotHubDataFormat / EventGridDataFormat: the 16 values of 2024-04-13
// plus AZMONSTREAM (2025-02-14), for every kind (the union of both 2025 spec versions).
const std::vector<std::string>& DataFormats() {
  static const auto* const values = new std::vector<std::string>{
      "MULTIJSON", "JSON", "CSV",        "TSV",        "SCSV",       "SOHSV",
      "PSV",       "TXT",  "RAW",        "SINGLEJSON", "AVRO",       "TSVE",
      "PARQUET",   "ORC",  "APACHEAVRO", "W3CLOGFILE", "AZMONSTREAM"};
  return *values;
}

PropertySchema Str(std::string name, bool required = false) {
  PropertySchema p;
  p.name = std::move(name);
  p.required = required;
  return p;
}

// A resource id of one of `resource_types` (none: any type).
PropertySchema Id(std::string name, std::vector<std::string_view> resource_types,
                  bool required = false) {
  PropertySchema p = Str(std::move(name), required);
  p.type = PropertyType::kResourceId;
  for (std::string_view t : resource_types) {
    p.resource_types.emplace_back(t);
  }
  return p;
}

PropertySchema ManagedIdentityId(bool required) {
  return Id("managedIdentityResourceId", {kUserIdentityType, kKustoClusterType}, required);
}

PropertySchema Enum(std::string name, std::vector<std::string> values) {
  PropertySchema p = Str(std::move(name));
  p.type = PropertyType::kEnum;
  p.enum_values = std::move(values);
  return p;
}

PropertySchema Typed(std::string name, PropertyType type) {
  PropertySchema p = Str(std::move(name));
  p.type = type;
  return p;
}

PropertySchema ReadOnly(std::string name) {
  PropertySchema p = Str(std::move(name));
  p.read_only = true;
  return p;
}

PropertySchema DataFormat() { return Enum("dataFormat", DataFormats()); }
PropertySchema Compression() { return Enum("compression", {"None", "GZip"}); }
PropertySchema DatabaseRouting() { return Enum("databaseRouting", {"Single", "Multi"}); }
PropertySchema BlobStorageEventType() {
  return Enum("blobStorageEventType",
              {"Microsoft.Storage.BlobCreated", "Microsoft.Storage.BlobRenamed"});
}

// §2.2 (and §2.6 for the managed-identity variant, which renames the event hub id).
KindSchema EventHubSchema(ConnectionKind kind, bool with_mi) {
  return KindSchema{kind,
                    {
                        with_mi ? Id("eventHubResourceIdForManagedIdentity", {kEventHubType}, true)
                                : Id("eventHubResourceId", {kEventHubType}, true),
                        Str("consumerGroup", true),
                        Str("tableName"),
                        Str("mappingRuleName"),
                        DataFormat(),
                        Typed("eventSystemProperties", PropertyType::kStringList),
                        Compression(),
                        ReadOnly("provisioningState"),
                        ManagedIdentityId(with_mi),
                        ReadOnly("managedIdentityObjectId"),
                        DatabaseRouting(),
                        Typed("retrievalStartDate", PropertyType::kDateTime),
                    }};
}

// §2.3 (and §2.6).
KindSchema EventGridSchema(ConnectionKind kind, bool with_mi) {
  return KindSchema{
      kind,
      {
          with_mi ? Id("storageAccountResourceIdForManagedIdentity", {kStorageType}, true)
                  : Id("storageAccountResourceId", {kStorageType}, true),
          // An event subscription id, an extension resource under the storage account.
          Id("eventGridResourceId", {}),
          with_mi ? Id("eventHubResourceIdForManagedIdentity", {kEventHubType}, true)
                  : Id("eventHubResourceId", {kEventHubType}, true),
          Str("consumerGroup", true),
          Str("tableName"),
          Str("mappingRuleName"),
          DataFormat(),
          Typed("ignoreFirstRecord", PropertyType::kBool),
          BlobStorageEventType(),
          ManagedIdentityId(with_mi),
          ReadOnly("managedIdentityObjectId"),
          DatabaseRouting(),
          ReadOnly("provisioningState"),
      }};
}

// §2.4.
KindSchema IotHubSchema() {
  return KindSchema{ConnectionKind::kIotHub,
                    {
                        Id("iotHubResourceId", {kIotHubType}, true),
                        Str("consumerGroup", true),
                        Str("sharedAccessPolicyName", true),
                        Str("tableName"),
                        Str("mappingRuleName"),
                        DataFormat(),
                        Typed("eventSystemProperties", PropertyType::kStringList),
                        DatabaseRouting(),
                        Typed("retrievalStartDate", PropertyType::kDateTime),
                        ReadOnly("provisioningState"),
                    }};
}

// §2.5.
KindSchema CosmosDbSchema() {
  return KindSchema{ConnectionKind::kCosmosDb,
                    {
                        Str("tableName", true),
                        Str("mappingRuleName"),
                        ManagedIdentityId(true),
                        ReadOnly("managedIdentityObjectId"),
                        Id("cosmosDbAccountResourceId", {kCosmosDbType}, true),
                        Str("cosmosDbDatabase", true),
                        Str("cosmosDbContainer", true),
                        Typed("retrievalStartDate", PropertyType::kDateTime),
                        ReadOnly("provisioningState"),
                    }};
}

// Built once, never modified: indexed by the ConnectionKind value.
const std::vector<KindSchema>& AllSchemas() {
  static const auto* const schemas = new std::vector<KindSchema>{
      EventHubSchema(ConnectionKind::kEventHub, false),
      EventGridSchema(ConnectionKind::kEventGrid, false),
      IotHubSchema(),
      CosmosDbSchema(),
      EventHubSchema(ConnectionKind::kEventHubWithManagedIdentity, true),
      EventGridSchema(ConnectionKind::kEventGridWithManagedIdentity, true),
  };
  return *schemas;
}

}  // namespace

const KindSchema& SchemaFor(ConnectionKind kind) { return AllSchemas()[static_cast<size_t>(kind)]; }

const PropertySchema* FindProperty(ConnectionKind kind, std::string_view name) {
  for (const PropertySchema& p : SchemaFor(kind).properties) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

std::string CanonicalEnumValue(const PropertySchema& schema, std::string_view value) {
  for (const std::string& v : schema.enum_values) {
    if (absl::EqualsIgnoreCase(v, Av(value))) {
      return v;
    }
  }
  return "";
}

bool IsUnsetValue(const nlohmann::json& value, PropertyType type) {
  if (value.is_null()) {
    return true;
  }
  switch (type) {
    case PropertyType::kString:
    case PropertyType::kResourceId:
    case PropertyType::kEnum:
    case PropertyType::kDateTime:
      return value.is_string() && value.get_ref<const std::string&>().empty();
    case PropertyType::kStringList:
      return value.is_array() && value.empty();
    case PropertyType::kBool:
      return false;
  }
  return false;
}

}  // namespace kustodian
