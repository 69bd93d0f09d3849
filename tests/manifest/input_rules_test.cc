// Rules a manifest must follow beyond the YAML shape, found by the bad-manifest corpus (issue 7):
// every quoted string closed, kinds in their one spelling, Azure's naming rules for the target,
// the whole of Kubernetes' metadata and no other field there. Each error names the file, the
// line and the field, and says what to write instead.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/manifest/manifest.h"
#include "tests/manifest/manifest_test_util.h"

namespace kustodian {
namespace {

using testing::ErrorsOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::Replace;
using ::testing::SizeIs;

FileLoadResult Load(const std::string& yaml) {
  return LoadManifestText(yaml, "m.yaml", LoadOptions{});
}

// The single error of `yaml`, which must not load.
ManifestError OnlyError(const std::string& yaml) {
  FileLoadResult r = Load(yaml);
  EXPECT_THAT(r.manifests, IsEmpty());
  EXPECT_THAT(r.errors, SizeIs(1)) << ErrorsOf(r);
  return r.errors.empty() ? ManifestError{} : r.errors[0];
}

// The manifest with target line `key: value` replaced (key is subscriptionId, resourceGroup,
// cluster or database; the value is written as is, so quote it when YAML needs that).
std::string WithTarget(const std::string& key, const std::string& value) {
  const std::string yaml = testing::EventHubYaml();
  const size_t at = yaml.find("    " + key + ": ");
  EXPECT_NE(at, std::string::npos) << key;
  const size_t end = yaml.find('\n', at);
  return yaml.substr(0, at) + "    " + key + ": " + value + yaml.substr(end);
}

void ExpectLoads(const std::string& yaml) {
  FileLoadResult r = Load(yaml);
  EXPECT_THAT(r.errors, IsEmpty()) << ErrorsOf(r);
  EXPECT_THAT(r.manifests, SizeIs(1));
}

TEST(UnterminatedQuoteTest, DoubleQuoteFailsTheFileWhereTheStringStarts) {
  const std::string yaml =
      Replace(testing::EventHubYaml(), "tableName: StormEvents", "tableName: \"StormEvents");
  FileLoadResult r = Load(yaml);
  EXPECT_TRUE(r.parse_failed);
  EXPECT_THAT(r.manifests, IsEmpty());
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].line, 17);
  EXPECT_EQ(r.errors[0].column, 16);
  EXPECT_THAT(r.errors[0].message, HasSubstr("never closed"));
  EXPECT_THAT(r.errors[0].message, HasSubstr("add the closing \""));
}

TEST(UnterminatedQuoteTest, SingleQuoteWithDoubledQuoteInsideIsStillUnterminated) {
  FileLoadResult r =
      Load(Replace(testing::EventHubYaml(), "tableName: StormEvents", "tableName: 'it''s"));
  EXPECT_TRUE(r.parse_failed);
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].line, 17);
  EXPECT_THAT(r.errors[0].message, HasSubstr("single-quoted"));
}

TEST(UnterminatedQuoteTest, ClosedQuotesWithEscapesAndLineBreaksLoad) {
  std::string yaml = Replace(testing::EventHubYaml(), "tableName: StormEvents",
                             "tableName: \"Storm\\\"Events\\\\\"");
  yaml = Replace(yaml, "consumerGroup: $Default", "consumerGroup: 'it''s'");
  yaml = Replace(yaml, "dataFormat: CSV", "mappingRuleName: \"a\n      b\"\n    dataFormat: 'CSV'");
  FileLoadResult r = Load(yaml);
  ASSERT_THAT(r.errors, IsEmpty()) << ErrorsOf(r);
  ASSERT_THAT(r.manifests, SizeIs(1));
  EXPECT_EQ(r.manifests[0].spec.properties["tableName"], "Storm\"Events\\");
  EXPECT_EQ(r.manifests[0].spec.properties["consumerGroup"], "it's");
  EXPECT_EQ(r.manifests[0].spec.properties["mappingRuleName"], "a b");
}

TEST(UnterminatedQuoteTest, QuotesInsideCommentsPlainAndBlockScalarsAreNotStrings) {
  std::string yaml = Replace(testing::EventHubYaml(), "tableName: StormEvents",
                             "tableName: it's  # the \"storm\" table");
  yaml = Replace(yaml, "  location: eastus2\n", "  location: eastus2 # don't \"\n");
  yaml += "status:\n  note: |\n    it's \"open\n";
  ExpectLoads(yaml);
}

TEST(UnterminatedQuoteTest, FoundAfterMultiByteCharactersAndAByteOrderMark) {
  std::string yaml = Replace(testing::EventHubYaml(), "consumerGroup: $Default",
                             "consumerGroup: \"gr\xc3\xbc\xc3\x9f"
                             "e \xe2\x82\xac\"");
  yaml = Replace(yaml, "tableName: StormEvents", "tableName: 'Storm");
  for (const std::string& text : {yaml, "\xEF\xBB\xBF" + yaml}) {
    FileLoadResult r = Load(text);
    EXPECT_TRUE(r.parse_failed);
    ASSERT_THAT(r.errors, SizeIs(1));
    EXPECT_EQ(r.errors[0].line, 17);
    EXPECT_THAT(r.errors[0].message, HasSubstr("single-quoted"));
  }
}

// Kubernetes mode hands the loader JSON, where every key and string is double-quoted.
TEST(UnterminatedQuoteTest, JsonDocumentLoads) {
  ExpectLoads(R"({"apiVersion":"kustodian.io/v1alpha1","kind":"DataConnection",)"
              R"("metadata":{"name":"grid","namespace":"adx"},"spec":{"target":{)"
              R"("subscriptionId":"00000000-0000-0000-0000-000000000001","resourceGroup":"testrg",)"
              R"("cluster":"mykustocluster","database":"mykustodatabase"},"location":"eastus2",)"
              R"("kind":"EventHub","properties":{"eventHubResourceId":")" +
              std::string(testing::kHubId) +
              R"(","consumerGroup":"$Default","tableName":"St\"orm \u00fc\\"}}})");
}

TEST(KindSpellingTest, CaseVariantNamesTheCanonicalSpelling) {
  for (const char* variant : {"eventhub", "EVENTHUB", "Eventhub"}) {
    SCOPED_TRACE(variant);
    ManifestError e = OnlyError(
        Replace(testing::EventHubYaml(), "kind: EventHub", std::string("kind: ") + variant));
    EXPECT_EQ(e.field, "spec.kind");
    EXPECT_EQ(e.line, 13);
    EXPECT_THAT(e.message, HasSubstr("write \"EventHub\""));
  }
}

TEST(KindSpellingTest, KindThatIsAMapSaysAStringIsExpected) {
  ManifestError e = OnlyError(Replace(testing::EventHubYaml(), "kind: EventHub", "kind: {a: 1}"));
  EXPECT_EQ(e.field, "spec.kind");
  EXPECT_THAT(e.message, HasSubstr("expected a string, got a map"));
  EXPECT_THAT(e.message, HasSubstr("CosmosDb"));
}

TEST(TargetNamesTest, SubscriptionIdMustBeAGuid) {
  for (const char* bad : {"my-subscription", "12345", "\"{00000000-0000-0000-0000-000000000001}\"",
                          "00000000-0000-0000-0000-00000000000g"}) {
    SCOPED_TRACE(bad);
    ManifestError e = OnlyError(WithTarget("subscriptionId", bad));
    EXPECT_EQ(e.field, "spec.target.subscriptionId");
    EXPECT_EQ(e.line, 8);
    EXPECT_THAT(e.message, HasSubstr("GUID"));
  }
  ExpectLoads(WithTarget("subscriptionId", "ABCDEF01-2345-6789-abcd-ef0123456789"));
}

TEST(TargetNamesTest, ClusterNameFollowsKustoRules) {
  struct Case {
    const char* value;
    const char* says;
  };
  for (const Case& c :
       {Case{"my-cluster", "contains '-'"}, Case{"1cluster", "start with a letter"},
        Case{"\"my cluster\"", "contains a space"},
        Case{"abcdefghijklmnopqrstuvw", "23 characters long, more than 22"},
        Case{"https://mycluster.eastus2.kusto.windows.net", "not the cluster's URI"},
        Case{"my_cluster", "contains '_'"}}) {
    SCOPED_TRACE(c.value);
    ManifestError e = OnlyError(WithTarget("cluster", c.value));
    EXPECT_EQ(e.field, "spec.target.cluster");
    EXPECT_EQ(e.line, 10);
    EXPECT_THAT(e.message, HasSubstr(c.says));
    EXPECT_THAT(e.message, HasSubstr("letters and digits"));
  }
  ExpectLoads(WithTarget("cluster", "abcdefghijklmnopqrstuv"));  // 22
  ExpectLoads(WithTarget("cluster", "MyKustoCluster"));          // ARM compares names ignoring case
}

TEST(TargetNamesTest, DatabaseNameFollowsArmRules) {
  for (const char* bad : {"db/x", "db:x", "\"db#1\"", "\"db\\tx\""}) {
    SCOPED_TRACE(bad);
    ManifestError e = OnlyError(WithTarget("database", bad));
    EXPECT_EQ(e.field, "spec.target.database");
    EXPECT_EQ(e.line, 11);
    EXPECT_THAT(e.message, HasSubstr("database name"));
  }
  ManifestError e = OnlyError(WithTarget("database", std::string(261, 'd')));
  EXPECT_THAT(e.message, HasSubstr("261 characters long, more than 260"));
  ExpectLoads(WithTarget("database", std::string(260, 'd')));
  ExpectLoads(WithTarget("database", "\"My Db_2.v-1\""));
}

TEST(TargetNamesTest, ResourceGroupFollowsArmRules) {
  for (const char* bad : {"rg/x", "rg.", "\"rg x\"", "\"rg#1\""}) {
    SCOPED_TRACE(bad);
    ManifestError e = OnlyError(WithTarget("resourceGroup", bad));
    EXPECT_EQ(e.field, "spec.target.resourceGroup");
    EXPECT_EQ(e.line, 9);
    EXPECT_THAT(e.message, HasSubstr("resource group"));
  }
  ManifestError e = OnlyError(WithTarget("resourceGroup", std::string(91, 'r')));
  EXPECT_THAT(e.message, HasSubstr("more than 90"));
  ExpectLoads(WithTarget("resourceGroup", std::string(90, 'r')));
  ExpectLoads(WithTarget("resourceGroup", "My_RG-(prod).v2"));
  ExpectLoads(WithTarget("resourceGroup", "gruppe-\xc3\xbc\xc3\xb1"));  // Unicode letters
  // 90 characters of two bytes each: the limit counts characters.
  std::string wide;
  for (int i = 0; i < 90; ++i) {
    wide += "\xc3\xa9";
  }
  ExpectLoads(WithTarget("resourceGroup", wide));
}

TEST(TargetNamesTest, ConnectionNameFromMetadataIsCheckedAtMetadataName) {
  const std::string long_name = "storm-events-" + std::string(30, 'x');  // 43 characters
  ManifestError e = OnlyError(testing::EventHubYaml(long_name));
  EXPECT_EQ(e.field, "spec.target.name");
  EXPECT_EQ(e.line, 4);  // metadata.name, where the name came from
  EXPECT_THAT(e.message, HasSubstr("more than 40"));
  EXPECT_THAT(e.message, HasSubstr("set spec.target.name"));
  // An explicit, shorter target name fixes it.
  ExpectLoads(Replace(testing::EventHubYaml(long_name), "    database: mykustodatabase\n",
                      "    database: mykustodatabase\n    name: storm-events\n"));
}

TEST(TargetNamesTest, ExplicitConnectionNameWithSlashIsRefused) {
  ManifestError e = OnlyError(Replace(testing::EventHubYaml(), "    database: mykustodatabase\n",
                                      "    database: mykustodatabase\n    name: a/b\n"));
  EXPECT_EQ(e.field, "spec.target.name");
  EXPECT_EQ(e.line, 12);
  EXPECT_THAT(e.message, HasSubstr("contains '/'"));
}

TEST(MetadataTest, MissingMetadataNamesMetadata) {
  ManifestError e = OnlyError(
      Replace(testing::EventHubYaml(), "metadata:\n  name: storm-events\n  namespace: adx\n", ""));
  EXPECT_EQ(e.field, "metadata");
  EXPECT_THAT(e.message, HasSubstr("required"));
}

TEST(MetadataTest, UnknownFieldSuggestsTheNearMiss) {
  ManifestError e = OnlyError(
      Replace(testing::EventHubYaml(), "  namespace: adx\n", "  namespace: adx\n  nmae: x\n"));
  EXPECT_EQ(e.field, "metadata.nmae");
  EXPECT_EQ(e.line, 6);
  EXPECT_THAT(e.message, HasSubstr("did you mean \"name\""));
}

TEST(MetadataTest, KubectlGetOutputWithServerFieldsLoads) {
  ExpectLoads(Replace(testing::EventHubYaml(), "  namespace: adx\n",
                      "  namespace: adx\n"
                      "  uid: 0b6a3b2e-0000-4000-8000-000000000001\n"
                      "  resourceVersion: \"12345\"\n"
                      "  generation: 2\n"
                      "  creationTimestamp: \"2026-01-01T00:00:00Z\"\n"
                      "  labels: {app: ingest}\n"
                      "  finalizers: [kustodian.io/finalizer]\n"
                      "  managedFields: [{manager: kubectl, operation: Update}]\n"));
}

TEST(MetadataTest, NameWithEmptyOrBadLabelIsRefused) {
  for (const char* bad : {"dots..x", "a.-b", "a-.b", "ab."}) {
    SCOPED_TRACE(bad);
    ManifestError e = OnlyError(testing::EventHubYaml(bad));
    EXPECT_EQ(e.field, "metadata.name");
    EXPECT_THAT(e.message, HasSubstr("'.'-separated part"));
  }
  ExpectLoads(testing::EventHubYaml("storm.events-1.v2"));
}

TEST(PropertiesTest, MissingPropertiesBlockListsWhatTheKindRequires) {
  const std::string yaml = testing::EventHubYaml();
  const size_t from = yaml.find("  properties:\n");
  const size_t to = yaml.find("  policy:\n");
  ManifestError e = OnlyError(yaml.substr(0, from) + yaml.substr(to));
  EXPECT_EQ(e.field, "spec.properties");
  EXPECT_THAT(e.message, HasSubstr("required for kind EventHub"));
  EXPECT_THAT(e.message, HasSubstr("eventHubResourceId, consumerGroup"));
  e = OnlyError(yaml.substr(0, from) + "  properties: {}\n" + yaml.substr(to));
  EXPECT_EQ(e.field, "spec.properties");
  EXPECT_EQ(e.line, 14);
}

TEST(PropertiesTest, EmptyEnumValueIsRefusedWithTheValidValues) {
  ManifestError e =
      OnlyError(Replace(testing::EventHubYaml(), "dataFormat: CSV", "dataFormat: \"\""));
  EXPECT_EQ(e.field, "spec.properties.dataFormat");
  EXPECT_EQ(e.line, 18);
  EXPECT_THAT(e.message, HasSubstr("remove the line"));
  EXPECT_THAT(e.message, HasSubstr("MULTIJSON"));
  // Written as null (or left out) it is simply unset.
  ExpectLoads(Replace(testing::EventHubYaml(), "dataFormat: CSV", "dataFormat: ~"));
}

TEST(PropertiesTest, ResourceIdWithSubscriptionThatIsNoGuid) {
  ManifestError e = OnlyError(Replace(testing::EventHubYaml(),
                                      "/subscriptions/00000000-0000-0000-0000-000000000001/",
                                      "/subscriptions/mysub/"));
  EXPECT_EQ(e.field, "spec.properties.eventHubResourceId");
  EXPECT_EQ(e.line, 15);
  EXPECT_THAT(e.message, HasSubstr("\"mysub\""));
}

}  // namespace
}  // namespace kustodian
