#include "src/model/validation.h"

#include <functional>
#include <string>

#include "gtest/gtest.h"
#include "tests/model/model_test_support.h"

namespace kustodian {
namespace {

using testing::kCosmosId;
using testing::kEventHubId;
using testing::kStorageId;
using testing::MakeSpec;
using testing::MinimalProperties;

std::string Dump(const std::vector<ValidationError>& errors) {
  std::string out;
  for (const ValidationError& e : errors) {
    out += e.field + ": " + e.message + "\n";
  }
  return out;
}

TEST(ValidationTest, MinimalSpecOfEveryKindIsValid) {
  for (ConnectionKind kind : kAllKinds) {
    std::vector<ValidationError> errors = ValidateSpec(MakeSpec(kind, MinimalProperties(kind)));
    EXPECT_TRUE(errors.empty()) << KindName(kind) << "\n" << Dump(errors);
  }
}

TEST(ValidationTest, AcceptsCaseVariantsAndOptionalValues) {
  nlohmann::json props = MinimalProperties(ConnectionKind::kEventHub);
  props["dataFormat"] = "multijson";  // enum values are case-insensitive
  props["compression"] = "gzip";
  props["databaseRouting"] = "multi";
  props["tableName"] = "";  // "" means unset for optional strings
  props["mappingRuleName"] = nullptr;
  props["eventSystemProperties"] = {"x-opt-enqueued-time"};
  props["retrievalStartDate"] = "0001-01-01T00:00:00.0000000Z";
  props["managedIdentityResourceId"] =  // the cluster itself (system-assigned identity)
      "/subscriptions/12345678-1234-1234-1234-123456789098/resourceGroups/g/providers/"
      "Microsoft.Kusto/clusters/adx1";
  props["eventHubResourceId"] =  // any casing, the subscription GUID included
      "/subscriptions/ABCDEF01-1234-1234-1234-123456789098/resourcegroups/G/providers/"
      "microsoft.eventhub/Namespaces/ns/EventHubs/h";
  std::vector<ValidationError> errors = ValidateSpec(MakeSpec(ConnectionKind::kEventHub, props));
  EXPECT_TRUE(errors.empty()) << Dump(errors);

  nlohmann::json cosmos = MinimalProperties(ConnectionKind::kCosmosDb);
  // The examples spell the provider Microsoft.DocumentDb; types compare case-insensitively.
  cosmos["cosmosDbAccountResourceId"] =
      "/subscriptions/12345678-1234-1234-1234-123456789098/resourceGroups/g/providers/"
      "Microsoft.DocumentDb/databaseAccounts/a";
  errors = ValidateSpec(MakeSpec(ConnectionKind::kCosmosDb, cosmos));
  EXPECT_TRUE(errors.empty()) << Dump(errors);

  nlohmann::json iot = MinimalProperties(ConnectionKind::kIotHub);
  iot["dataFormat"] = "AZMONSTREAM";  // the union of both 2025 spec versions, for every kind
  errors = ValidateSpec(MakeSpec(ConnectionKind::kIotHub, iot));
  EXPECT_TRUE(errors.empty()) << Dump(errors);

  nlohmann::json grid = MinimalProperties(ConnectionKind::kEventGrid);
  grid["eventGridResourceId"] = testing::kEventSubscriptionId;  // an extension resource id
  grid["ignoreFirstRecord"] = true;
  grid["blobStorageEventType"] = "microsoft.storage.blobrenamed";
  errors = ValidateSpec(MakeSpec(ConnectionKind::kEventGrid, grid));
  EXPECT_TRUE(errors.empty()) << Dump(errors);
}

struct BadSpecCase {
  const char* name;
  ConnectionKind kind;
  std::function<void(DataConnectionSpec&)> mutate;
  const char* field;
  const char* hint;  // a substring the message must contain
};

void PrintTo(const BadSpecCase& c, std::ostream* os) { *os << c.name; }

void SetProp(DataConnectionSpec& spec, const char* name, nlohmann::json value) {
  spec.properties[name] = std::move(value);
}

const BadSpecCase kBadSpecs[] = {
    {"MissingRequired", ConnectionKind::kEventHub,
     [](auto& s) { s.properties.erase("consumerGroup"); }, "spec.properties.consumerGroup",
     "required for kind EventHub"},
    {"EmptyRequired", ConnectionKind::kEventHub, [](auto& s) { SetProp(s, "consumerGroup", ""); },
     "spec.properties.consumerGroup", "required for kind EventHub"},
    {"NullRequired", ConnectionKind::kIotHub,
     [](auto& s) { SetProp(s, "sharedAccessPolicyName", nullptr); },
     "spec.properties.sharedAccessPolicyName", "required for kind IotHub"},
    {"CosmosNeedsIdentity", ConnectionKind::kCosmosDb,
     [](auto& s) { s.properties.erase("managedIdentityResourceId"); },
     "spec.properties.managedIdentityResourceId", "required for kind CosmosDb"},
    {"MiKindNeedsIdentity", ConnectionKind::kEventHubWithManagedIdentity,
     [](auto& s) { s.properties.erase("managedIdentityResourceId"); },
     "spec.properties.managedIdentityResourceId", "required for kind EventHubWithManagedIdentity"},
    {"UnknownDiffersByCase", ConnectionKind::kEventHub,
     [](auto& s) { SetProp(s, "TableName", "T"); }, "spec.properties.TableName",
     "did you mean 'tableName'?"},
    {"UnknownTypo", ConnectionKind::kEventHub, [](auto& s) { SetProp(s, "mapingRuleName", "M"); },
     "spec.properties.mapingRuleName", "did you mean 'mappingRuleName'?"},
    {"UnknownLongTypo", ConnectionKind::kEventGrid,
     [](auto& s) { SetProp(s, "storageAcountResourceIds", kStorageId); },
     "spec.properties.storageAcountResourceIds", "did you mean 'storageAccountResourceId'?"},
    {"PropertyOfAnotherKind", ConnectionKind::kEventGrid,
     [](auto& s) { SetProp(s, "compression", "GZip"); }, "spec.properties.compression",
     "only kinds EventHub, EventHubWithManagedIdentity have it"},
    {"MiKindRenamedId", ConnectionKind::kEventHubWithManagedIdentity,
     [](auto& s) { SetProp(s, "eventHubResourceId", kEventHubId); },
     "spec.properties.eventHubResourceId", "did you mean 'eventHubResourceIdForManagedIdentity'?"},
    {"UnknownFarFromAll", ConnectionKind::kCosmosDb, [](auto& s) { SetProp(s, "color", "blue"); },
     "spec.properties.color", "valid properties: tableName, mappingRuleName"},
    {"BoolAsString", ConnectionKind::kEventGrid,
     [](auto& s) { SetProp(s, "ignoreFirstRecord", "false"); }, "spec.properties.ignoreFirstRecord",
     "must be true or false"},
    {"ListAsString", ConnectionKind::kIotHub,
     [](auto& s) { SetProp(s, "eventSystemProperties", "message-id"); },
     "spec.properties.eventSystemProperties", "must be a list of strings"},
    {"ListOfNumbers", ConnectionKind::kEventHub,
     [](auto& s) {
       SetProp(s, "eventSystemProperties", {1, 2});
     },
     "spec.properties.eventSystemProperties", "must be a list of strings"},
    {"StringAsNumber", ConnectionKind::kEventHub, [](auto& s) { SetProp(s, "tableName", 5); },
     "spec.properties.tableName", "must be a string, not number"},
    {"DataFormatTypo", ConnectionKind::kEventHub,
     [](auto& s) { SetProp(s, "dataFormat", "JSONN"); }, "spec.properties.dataFormat",
     "did you mean 'JSON'? Valid values: MULTIJSON, JSON, CSV"},
    {"DataFormatUnknown", ConnectionKind::kIotHub, [](auto& s) { SetProp(s, "dataFormat", "XML"); },
     "spec.properties.dataFormat", "W3CLOGFILE, AZMONSTREAM"},
    {"CompressionUnknown", ConnectionKind::kEventHub,
     [](auto& s) { SetProp(s, "compression", "zip7"); }, "spec.properties.compression",
     "Valid values: None, GZip"},
    {"RoutingUnknown", ConnectionKind::kEventGrid,
     [](auto& s) { SetProp(s, "databaseRouting", "Many"); }, "spec.properties.databaseRouting",
     "Valid values: Single, Multi"},
    {"BlobEventShortName", ConnectionKind::kEventGrid,
     [](auto& s) { SetProp(s, "blobStorageEventType", "BlobCreated"); },
     "spec.properties.blobStorageEventType", "Microsoft.Storage.BlobCreated"},
    {"IdNotAnId", ConnectionKind::kEventHub,
     [](auto& s) { SetProp(s, "eventHubResourceId", "eventhubTest1"); },
     "spec.properties.eventHubResourceId", "write a full ARM id"},
    {"IdWrongType", ConnectionKind::kEventHub,
     [](auto& s) { SetProp(s, "eventHubResourceId", kStorageId); },
     "spec.properties.eventHubResourceId",
     "must be the id of a Microsoft.EventHub/namespaces/eventhubs resource"},
    {"StorageIdWrongType", ConnectionKind::kEventGrid,
     [](auto& s) { SetProp(s, "storageAccountResourceId", kEventHubId); },
     "spec.properties.storageAccountResourceId", "Microsoft.Storage/storageAccounts"},
    {"IotHubIdWrongType", ConnectionKind::kIotHub,
     [](auto& s) { SetProp(s, "iotHubResourceId", kEventHubId); },
     "spec.properties.iotHubResourceId", "Microsoft.Devices/IotHubs"},
    {"CosmosIdWrongType", ConnectionKind::kCosmosDb,
     [](auto& s) { SetProp(s, "cosmosDbAccountResourceId", kStorageId); },
     "spec.properties.cosmosDbAccountResourceId", "Microsoft.DocumentDB/databaseAccounts"},
    {"IdentityIsNoResource", ConnectionKind::kEventHub,
     [](auto& s) { SetProp(s, "managedIdentityResourceId", "/subscriptions/s"); },
     "spec.properties.managedIdentityResourceId", "names no resource"},
    {"DateNotRfc3339", ConnectionKind::kEventHub,
     [](auto& s) { SetProp(s, "retrievalStartDate", "2024-13-01T00:00:00Z"); },
     "spec.properties.retrievalStartDate", "write it like 2024-01-31T12:00:00Z"},
    {"DateWithoutZone", ConnectionKind::kCosmosDb,
     [](auto& s) { SetProp(s, "retrievalStartDate", "2024-01-01T00:00:00"); },
     "spec.properties.retrievalStartDate", "time zone"},
    {"ReadOnlyState", ConnectionKind::kEventHub,
     [](auto& s) { SetProp(s, "provisioningState", "Succeeded"); },
     "spec.properties.provisioningState", "read-only: the service sets it; remove it"},
    {"ReadOnlyObjectId", ConnectionKind::kCosmosDb,
     [](auto& s) { SetProp(s, "managedIdentityObjectId", "87654321"); },
     "spec.properties.managedIdentityObjectId", "read-only"},
    {"MissingLocation", ConnectionKind::kEventHub, [](auto& s) { s.location = " "; },
     "spec.location", "set the Azure region"},
    {"MissingCluster", ConnectionKind::kEventHub, [](auto& s) { s.id.cluster = ""; },
     "spec.target.cluster", "set spec.target.cluster"},
    {"MissingSubscription", ConnectionKind::kIotHub, [](auto& s) { s.id.subscription_id = ""; },
     "spec.target.subscriptionId", "set spec.target.subscriptionId"},
    {"MissingName", ConnectionKind::kEventGrid, [](auto& s) { s.id.name = ""; }, "spec.target.name",
     "metadata.name"},
    {"EmptyEnum", ConnectionKind::kEventHub, [](auto& s) { SetProp(s, "dataFormat", ""); },
     "spec.properties.dataFormat", "empty value: remove the line"},
    {"EmptyBlobEventType", ConnectionKind::kEventGrid,
     [](auto& s) { SetProp(s, "blobStorageEventType", ""); },
     "spec.properties.blobStorageEventType", "Microsoft.Storage.BlobRenamed"},
    {"IdSubscriptionNotAGuid", ConnectionKind::kEventHub,
     [](auto& s) {
       SetProp(s, "eventHubResourceId",
               "/subscriptions/not-a-guid/resourceGroups/g/providers/Microsoft.EventHub/"
               "namespaces/ns/eventhubs/h");
     },
     "spec.properties.eventHubResourceId", "subscription \"not-a-guid\" in the id"},
    {"IdentityOfAnotherType", ConnectionKind::kCosmosDb,
     [](auto& s) { SetProp(s, "managedIdentityResourceId", kEventHubId); },
     "spec.properties.managedIdentityResourceId",
     "Microsoft.ManagedIdentity/userAssignedIdentities or a Microsoft.Kusto/clusters"},
    {"PropertiesNotAMap", ConnectionKind::kEventHub,
     [](auto& s) { s.properties = nlohmann::json::array(); }, "spec.properties", "must be a map"},
};

class BadSpecTest : public ::testing::TestWithParam<BadSpecCase> {};

TEST_P(BadSpecTest, ReportsFieldAndHint) {
  const BadSpecCase& c = GetParam();
  DataConnectionSpec spec = MakeSpec(c.kind, MinimalProperties(c.kind));
  c.mutate(spec);
  std::vector<ValidationError> errors = ValidateSpec(spec);
  const ValidationError* found = nullptr;
  for (const ValidationError& e : errors) {
    if (e.field == c.field) {
      found = &e;
    }
  }
  ASSERT_NE(found, nullptr) << "no error for " << c.field << "; got:\n" << Dump(errors);
  EXPECT_NE(found->message.find(c.hint), std::string::npos)
      << "message: " << found->message << "\nwanted: " << c.hint;
  // Exactly one problem was introduced, so exactly one error is reported.
  EXPECT_EQ(errors.size(), 1u) << Dump(errors);
}

INSTANTIATE_TEST_SUITE_P(Table, BadSpecTest, ::testing::ValuesIn(kBadSpecs),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ValidationTest, StatusJoinsEveryError) {
  DataConnectionSpec spec = MakeSpec(ConnectionKind::kEventHub, nlohmann::json::object(), "");
  absl::Status status = ValidateSpecStatus(spec);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  std::string message(status.message());
  EXPECT_NE(message.find("spec.location: required"), std::string::npos) << message;
  EXPECT_NE(message.find("; spec.properties.eventHubResourceId: required for kind EventHub"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("spec.properties.consumerGroup: required"), std::string::npos) << message;
  EXPECT_TRUE(ValidateSpecStatus(
                  MakeSpec(ConnectionKind::kEventHub, MinimalProperties(ConnectionKind::kEventHub)))
                  .ok());
}

TEST(IsGuidTest, EightFourFourFourTwelveHexDigits) {
  EXPECT_TRUE(IsGuid("00000000-0000-0000-0000-000000000001"));
  EXPECT_TRUE(IsGuid("ABCDEF01-abcd-EF01-2345-6789abcdef01"));
  EXPECT_FALSE(IsGuid(""));
  EXPECT_FALSE(IsGuid("00000000-0000-0000-0000-00000000000"));    // 35 characters
  EXPECT_FALSE(IsGuid("00000000-0000-0000-0000-0000000000001"));  // 37
  EXPECT_FALSE(IsGuid("00000000000000000000000000000000"));       // no dashes
  EXPECT_FALSE(IsGuid("{0000000-0000-0000-0000-000000000001}"));
  EXPECT_FALSE(IsGuid("0000000g-0000-0000-0000-000000000001"));
  EXPECT_FALSE(IsGuid("00000000-00000-000-0000-000000000001"));  // dash misplaced
}

DataConnectionId GoodTarget() {
  return DataConnectionId{testing::kSub, "rg", "mykustocluster", "mydb", "conn"};
}

std::vector<std::string> FieldsOf(const std::vector<ValidationError>& errors) {
  std::vector<std::string> fields;
  for (const ValidationError& e : errors) {
    fields.push_back(e.field);
  }
  return fields;
}

TEST(TargetNamesTest, ValidTargetsPass) {
  EXPECT_TRUE(ValidateTargetNames(GoodTarget()).empty());
  DataConnectionId id = GoodTarget();
  id.resource_group = "My_RG-(prod).v2";
  id.cluster = "MyKustoCluster22chars1";  // case-insensitive, 22 characters
  id.database = "My Db_2.v-1";
  id.name = "My Connection_1.v2";  // "_" too, as `kustodian export` may write it
  EXPECT_TRUE(ValidateTargetNames(id).empty()) << Dump(ValidateTargetNames(id));
  // Empty parts are ValidateSpec's "required" errors, not naming errors.
  EXPECT_TRUE(ValidateTargetNames(DataConnectionId{}).empty());
}

TEST(TargetNamesTest, EachPartIsCheckedAndNamed) {
  DataConnectionId id{"sub", "rg/x", "-cluster", "db/x", std::string(41, 'n')};
  const std::vector<ValidationError> errors = ValidateTargetNames(id);
  EXPECT_EQ(
      FieldsOf(errors),
      (std::vector<std::string>{"spec.target.subscriptionId", "spec.target.resourceGroup",
                                "spec.target.cluster", "spec.target.database", "spec.target.name"}))
      << Dump(errors);
  for (const ValidationError& e : errors) {
    EXPECT_NE(e.message.find(": "), std::string::npos) << "says what to do: " << e.message;
  }
}

TEST(TargetNamesTest, LengthLimits) {
  DataConnectionId id = GoodTarget();
  id.resource_group = std::string(90, 'r');
  id.cluster = "c" + std::string(21, '1');
  id.database = std::string(260, 'd');
  id.name = std::string(40, 'n');
  EXPECT_TRUE(ValidateTargetNames(id).empty()) << Dump(ValidateTargetNames(id));
  id.resource_group += "r";
  id.cluster += "1";
  id.database += "d";
  id.name += "n";
  EXPECT_EQ(ValidateTargetNames(id).size(), 4u) << Dump(ValidateTargetNames(id));
}

TEST(TargetNamesTest, ResourceGroupMayNotEndInAPeriod) {
  DataConnectionId id = GoodTarget();
  id.resource_group = "rg.";
  const std::vector<ValidationError> errors = ValidateTargetNames(id);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("ends with a period"), std::string::npos) << errors[0].message;
}

TEST(TargetNamesTest, LongValuesAreShortenedInMessages) {
  DataConnectionId id = GoodTarget();
  id.database = std::string(5000, 'd');
  const std::vector<ValidationError> errors = ValidateTargetNames(id);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_LT(errors[0].message.size(), 300u);
  EXPECT_NE(errors[0].message.find("(5000 bytes)"), std::string::npos);
}

// The naming rules are not part of ValidateSpec, which the reconciler also runs on what it
// holds: names are the manifest loader's business.
TEST(TargetNamesTest, NotPartOfValidateSpec) {
  DataConnectionSpec spec =
      MakeSpec(ConnectionKind::kEventHub, MinimalProperties(ConnectionKind::kEventHub));
  spec.id.cluster = "c1";
  spec.id.resource_group = "rg/x";
  EXPECT_TRUE(ValidateSpec(spec).empty()) << Dump(ValidateSpec(spec));
  EXPECT_EQ(FieldsOf(ValidateTargetNames(spec.id)),
            (std::vector<std::string>{"spec.target.resourceGroup", "spec.target.cluster"}));
}

// Azure's cluster names are 4 to 22 characters: a shorter one cannot exist.
TEST(TargetNamesTest, ClusterNameShorterThanFourIsRefused) {
  DataConnectionId id = GoodTarget();
  id.cluster = "abc";
  std::vector<ValidationError> errors = ValidateTargetNames(id);
  ASSERT_EQ(errors.size(), 1u) << Dump(errors);
  EXPECT_EQ(errors[0].field, "spec.target.cluster");
  EXPECT_NE(errors[0].message.find("shorter than 4 characters"), std::string::npos)
      << errors[0].message;
  id.cluster = "abcd";
  EXPECT_TRUE(ValidateTargetNames(id).empty()) << Dump(ValidateTargetNames(id));
}

TEST(ValidationTest, IdentityMayBeTheClusterOrAUserAssignedIdentity) {
  for (const char* id : {testing::kUserMiId,
                         "/subscriptions/12345678-1234-1234-1234-123456789098/resourceGroups/g/"
                         "providers/Microsoft.Kusto/Clusters/adx1"}) {
    nlohmann::json props = MinimalProperties(ConnectionKind::kCosmosDb);
    props["managedIdentityResourceId"] = id;
    std::vector<ValidationError> errors = ValidateSpec(MakeSpec(ConnectionKind::kCosmosDb, props));
    EXPECT_TRUE(errors.empty()) << id << "\n" << Dump(errors);
  }
}

}  // namespace
}  // namespace kustodian
