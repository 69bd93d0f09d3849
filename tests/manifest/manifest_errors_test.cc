// Each class of manifest error names the file, the 1-based line and the field path, and a
// document with an error yields no manifest while its neighbours still load.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/manifest/manifest.h"
#include "tests/manifest/manifest_test_util.h"

namespace kustodian {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::Replace;
using ::testing::SizeIs;

MATCHER_P3(IsError, line, field, message_part, "") {
  return arg.file == "bad.yaml" && arg.line == line && arg.field == field &&
         arg.message.find(message_part) != std::string::npos;
}

ManifestError FirstError(const std::string& yaml) {
  FileLoadResult r = LoadManifestText(yaml, "bad.yaml", LoadOptions{});
  EXPECT_FALSE(r.parse_failed);
  EXPECT_THAT(r.manifests, IsEmpty());
  EXPECT_THAT(r.errors, SizeIs(1));
  return r.errors.empty() ? ManifestError{} : r.errors[0];
}

TEST(ManifestErrorsTest, MissingName) {
  ManifestError e = FirstError(Replace(testing::EventHubYaml(), "  name: storm-events\n", ""));
  EXPECT_THAT(e, IsError(3, "metadata.name", "required"));
}

TEST(ManifestErrorsTest, InvalidName) {
  ManifestError e = FirstError(testing::EventHubYaml("Storm_Events"));
  EXPECT_THAT(e, IsError(4, "metadata.name", "not a valid name"));
  EXPECT_EQ(e.column, 3);
}

TEST(ManifestErrorsTest, UnknownKindListsValidKinds) {
  ManifestError e = FirstError(Replace(testing::EventHubYaml(), "kind: EventHub", "kind: Kafka"));
  EXPECT_THAT(e, IsError(13, "spec.kind", "Kafka"));
  EXPECT_THAT(e.message, HasSubstr("CosmosDb"));
}

TEST(ManifestErrorsTest, MissingKind) {
  ManifestError e = FirstError(Replace(testing::EventHubYaml(), "  kind: EventHub\n", ""));
  EXPECT_THAT(e, IsError(6, "spec.kind", "required"));
}

TEST(ManifestErrorsTest, UnknownSpecFieldSuggestsNearMiss) {
  ManifestError e = FirstError(Replace(testing::EventHubYaml(), "  location:", "  locaton:"));
  EXPECT_THAT(e, IsError(12, "spec.locaton", "did you mean \"location\"?"));
}

TEST(ManifestErrorsTest, UnknownTargetField) {
  FileLoadResult r = LoadManifestText(
      Replace(testing::EventHubYaml(), "    cluster:", "    clusterName:"), "bad.yaml", {});
  ASSERT_THAT(r.errors, SizeIs(2));
  EXPECT_THAT(r.errors[0], IsError(10, "spec.target.clusterName", "did you mean \"cluster\"?"));
  EXPECT_THAT(r.errors[1], IsError(7, "spec.target.cluster", "required"));
  EXPECT_THAT(r.manifests, IsEmpty());
}

TEST(ManifestErrorsTest, UnknownPolicyField) {
  ManifestError e =
      FirstError(Replace(testing::EventHubYaml(), "    deletion: Delete", "    deleton: Delete"));
  EXPECT_THAT(e, IsError(20, "spec.policy.deleton", "did you mean \"deletion\"?"));
}

TEST(ManifestErrorsTest, BadPolicyValue) {
  ManifestError e =
      FirstError(Replace(testing::EventHubYaml(), "deletion: Delete", "deletion: Keep"));
  EXPECT_THAT(e, IsError(20, "spec.policy.deletion", "Delete, Orphan"));
}

TEST(ManifestErrorsTest, ResyncIntervalTooShortOrMalformed) {
  const std::string base = testing::EventHubYaml() + "    resyncInterval: 5s\n";
  EXPECT_THAT(FirstError(base), IsError(21, "spec.policy.resyncInterval", "at least 10s"));
  EXPECT_THAT(FirstError(Replace(base, "5s", "300")),
              IsError(21, "spec.policy.resyncInterval", "missing unit"));
  EXPECT_THAT(FirstError(Replace(base, "5s", "5 minutes")),
              IsError(21, "spec.policy.resyncInterval", "unknown unit"));
}

TEST(ManifestErrorsTest, MissingRequiredTargetField) {
  ManifestError e = FirstError(Replace(testing::EventHubYaml(), "    resourceGroup: testrg\n", ""));
  EXPECT_THAT(e, IsError(7, "spec.target.resourceGroup", "required"));
}

TEST(ManifestErrorsTest, WrongNodeType) {
  ManifestError e = FirstError(
      Replace(testing::EventHubYaml(), "    cluster: mykustocluster", "    cluster: [a, b]"));
  EXPECT_THAT(e, IsError(10, "spec.target.cluster", "expected a string, got a list"));
}

TEST(ManifestErrorsTest, BoolPropertyNotBool) {
  std::string yaml = R"(apiVersion: kustodian.io/v1alpha1
kind: DataConnection
metadata: {name: grid}
spec:
  target: {subscriptionId: s, resourceGroup: testrg, cluster: c, database: d}
  location: westeurope
  kind: EventGrid
  properties:
    ignoreFirstRecord: maybe
)";
  FileLoadResult r = LoadManifestText(yaml, "bad.yaml", LoadOptions{});
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0],
              IsError(9, "spec.properties.ignoreFirstRecord", "expected true or false"));
}

TEST(ManifestErrorsTest, StringListPropertyNotList) {
  ManifestError e = FirstError(Replace(testing::EventHubYaml(), "    dataFormat: CSV\n",
                                       "    dataFormat: CSV\n    eventSystemProperties: one\n"));
  EXPECT_THAT(e, IsError(19, "spec.properties.eventSystemProperties", "expected a list"));
}

TEST(ManifestErrorsTest, ValidationErrorMappedToFieldLine) {
  // consumerGroup is required for EventHub: the error points at spec.properties (line 14).
  ManifestError missing =
      FirstError(Replace(testing::EventHubYaml(), "    consumerGroup: $Default\n", ""));
  EXPECT_THAT(missing, IsError(14, "spec.properties.consumerGroup", ""));
  // A bad enum value: the error points at the property's own line.
  ManifestError bad_format =
      FirstError(Replace(testing::EventHubYaml(), "dataFormat: CSV", "dataFormat: XLSX"));
  EXPECT_THAT(bad_format, IsError(18, "spec.properties.dataFormat", ""));
  // An unknown property name.
  ManifestError unknown =
      FirstError(Replace(testing::EventHubYaml(), "    tableName:", "    tablename:"));
  EXPECT_THAT(unknown, IsError(17, "spec.properties.tablename", ""));
}

TEST(ManifestErrorsTest, WrongApiVersionForDataConnection) {
  FileLoadResult r =
      LoadManifestText(Replace(testing::EventHubYaml(), "kustodian.io/v1alpha1", "kustodian.io/v2"),
                       "bad.yaml", LoadOptions{});
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0], IsError(1, "apiVersion", "kustodian.io/v2"));
  EXPECT_THAT(r.errors[0].message, HasSubstr("supported: kustodian.io/v1alpha1"));
  EXPECT_THAT(r.manifests, IsEmpty());
  // The target was readable, so the caller learns which key must keep its last good state.
  ASSERT_THAT(r.rejected_keys, SizeIs(1));
  EXPECT_THAT(r.rejected_keys[0], HasSubstr("dataconnections/storm-events"));
}

TEST(ManifestErrorsTest, MisspeltKindInOurGroupIsAnErrorNotASkip) {
  FileLoadResult r = LoadManifestText(
      Replace(testing::EventHubYaml(), "kind: DataConnection", "kind: DataConection"), "bad.yaml",
      LoadOptions{});
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0], IsError(1, "kind", "did you mean \"DataConnection\"?"));
  EXPECT_THAT(r.warnings, IsEmpty());
}

TEST(ManifestErrorsTest, DuplicateKeyInMap) {
  ManifestError e = FirstError(Replace(testing::EventHubYaml(), "  location: eastus2\n",
                                       "  location: eastus2\n  location: westus\n"));
  EXPECT_THAT(e, IsError(13, "spec.location", "duplicate key"));
}

TEST(ManifestErrorsTest, BadDocumentDoesNotStopOthers) {
  const std::string yaml = testing::EventHubYaml("good-one") + "---\n" +
                           testing::EventHubYaml("Bad!") + "---\n" +
                           testing::EventHubYaml("good-two", "telemetry");
  FileLoadResult r = LoadManifestText(yaml, "bad.yaml", LoadOptions{});
  EXPECT_FALSE(r.parse_failed);
  ASSERT_THAT(r.manifests, SizeIs(2));
  EXPECT_EQ(r.manifests[0].spec.id.name, "good-one");
  EXPECT_EQ(r.manifests[1].spec.id.name, "good-two");
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0], IsError(25, "metadata.name", "not a valid name"));
}

TEST(ManifestErrorsTest, DocumentThatIsNotAMap) {
  FileLoadResult r = LoadManifestText("- a\n- b\n", "bad.yaml", LoadOptions{});
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0], IsError(1, "", "expected a map"));
}

TEST(ManifestErrorsTest, SyntaxErrorFailsTheWholeFile) {
  const std::string yaml = testing::EventHubYaml("good-one") + "---\n" +
                           "apiVersion: kustodian.io/v1alpha1\n"
                           "kind: DataConnection\n"
                           "metadata: {name: [unclosed\n";
  FileLoadResult r = LoadManifestText(yaml, "bad.yaml", LoadOptions{});
  EXPECT_TRUE(r.parse_failed);
  EXPECT_THAT(r.manifests, IsEmpty());
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].file, "bad.yaml");
  EXPECT_GE(r.errors[0].line, 24);
  EXPECT_THAT(r.errors[0].message, HasSubstr("YAML syntax error"));
}

TEST(ManifestErrorsTest, BadIndentationSyntaxError) {
  FileLoadResult r = LoadManifestText("a: b\nc: d\n e: f\n", "bad.yaml", LoadOptions{});
  EXPECT_TRUE(r.parse_failed);
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].line, 3);
}

}  // namespace
}  // namespace kustodian
