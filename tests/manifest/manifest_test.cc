// Loading good manifests: every kind, multi-document files, defaults, skipped documents.
#include "src/manifest/manifest.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/manifest/directory.h"
#include "tests/manifest/manifest_test_util.h"

namespace kustodian {
namespace {

using ::testing::ElementsAre;
using testing::ErrorsOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST(LoadManifestTextTest, EventHubAllFields) {
  FileLoadResult r = LoadManifestText(testing::EventHubYaml(), "m.yaml", LoadOptions{});
  ASSERT_THAT(r.errors, IsEmpty()) << ErrorsOf(r);
  ASSERT_THAT(r.manifests, SizeIs(1));
  EXPECT_FALSE(r.parse_failed);
  const DataConnectionSpec& s = r.manifests[0].spec;
  EXPECT_EQ(s.id.subscription_id, "00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(s.id.resource_group, "testrg");
  EXPECT_EQ(s.id.cluster, "mykustocluster");
  EXPECT_EQ(s.id.database, "mykustodatabase");
  EXPECT_EQ(s.id.name, "storm-events");  // defaults to metadata.name
  EXPECT_EQ(s.location, "eastus2");
  EXPECT_EQ(s.kind, ConnectionKind::kEventHub);
  EXPECT_EQ(s.properties["consumerGroup"], "$Default");
  EXPECT_EQ(s.properties["eventHubResourceId"], testing::kHubId);
  EXPECT_EQ(s.properties.size(), 4u);
  EXPECT_EQ(s.policy.deletion, DeletionPolicy::kDelete);
  EXPECT_EQ(s.policy.resync_interval, absl::Minutes(5));  // default
  EXPECT_FALSE(s.adopt);
  EXPECT_EQ(s.source.file, "m.yaml");
  EXPECT_EQ(s.source.line, 1);
  EXPECT_EQ(s.source.name, "storm-events");
  EXPECT_EQ(s.source.namespace_, "adx");
}

TEST(LoadManifestTextTest, PolicyAdoptTargetNameAndTypedProperties) {
  const std::string yaml = R"(apiVersion: kustodian.io/v1alpha1
kind: DataConnection
metadata:
  name: grid
  annotations:
    kustodian.io/adopt: "true"
    other: x
  labels: {app: a}
spec:
  target: {subscriptionId: 00000000-0000-0000-0000-000000000001, resourceGroup: testrg,
           cluster: analyticscluster, database: logs, name: MyGridConnection}
  location: westeurope
  kind: EventGrid
  properties:
    storageAccountResourceId: /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/testrg/providers/Microsoft.Storage/storageAccounts/st
    eventHubResourceId: /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/testrg/providers/Microsoft.EventHub/namespaces/ns/eventhubs/h
    consumerGroup: "123"
    tableName: 456
    ignoreFirstRecord: TRUE
    mappingRuleName: false
    dataFormat: ~
  policy:
    deletion: orphan
    immutableChange: Recreate
    management: ObserveOnly
    resyncInterval: 1h30m
status:
  observedGeneration: 3
  anything: [goes, here]
)";
  FileLoadResult r = LoadManifestText(yaml, "g.yaml", LoadOptions{});
  ASSERT_THAT(r.errors, IsEmpty()) << ErrorsOf(r);
  ASSERT_THAT(r.manifests, SizeIs(1));
  const DataConnectionSpec& s = r.manifests[0].spec;
  EXPECT_EQ(s.kind, ConnectionKind::kEventGrid);
  EXPECT_EQ(s.id.name, "MyGridConnection");
  EXPECT_TRUE(s.adopt);
  EXPECT_EQ(s.source.namespace_, "");
  EXPECT_EQ(s.properties["ignoreFirstRecord"], true);   // kBool -> JSON bool
  EXPECT_EQ(s.properties["consumerGroup"], "123");      // strings stay strings
  EXPECT_EQ(s.properties["tableName"], "456");          // plain number kept as written
  EXPECT_EQ(s.properties["mappingRuleName"], "false");  // a string property, not a bool
  EXPECT_FALSE(s.properties.contains("dataFormat"));    // null means not set
  EXPECT_EQ(s.policy.deletion, DeletionPolicy::kOrphan);
  EXPECT_EQ(s.policy.immutable_change, ImmutableChangePolicy::kRecreate);
  EXPECT_EQ(s.policy.management, ManagementPolicy::kObserveOnly);
  EXPECT_EQ(s.policy.resync_interval, absl::Minutes(90));
}

TEST(LoadManifestTextTest, StringListProperty) {
  std::string yaml = testing::EventHubYaml();
  yaml.replace(yaml.find("    dataFormat: CSV\n"), 0,
               "    eventSystemProperties: [x-opt-enqueued-time, x-opt-offset]\n");
  FileLoadResult r = LoadManifestText(yaml, "m.yaml", LoadOptions{});
  ASSERT_THAT(r.errors, IsEmpty()) << ErrorsOf(r);
  ASSERT_THAT(r.manifests, SizeIs(1));
  EXPECT_EQ(r.manifests[0].spec.properties["eventSystemProperties"],
            nlohmann::json::array({"x-opt-enqueued-time", "x-opt-offset"}));
}

TEST(LoadManifestTextTest, MultiDocumentWithEmptyAndForeignDocuments) {
  const std::string yaml = "---\n" + testing::EventHubYaml("one") +
                           "---\n"
                           "---\n"
                           "# only a comment\n"
                           "---\n"
                           "apiVersion: apps/v1\n"
                           "kind: Deployment\n"
                           "metadata: {name: web}\n"
                           "---\n" +
                           testing::EventHubYaml("two", "telemetry");
  FileLoadResult r = LoadManifestText(yaml, "multi.yaml", LoadOptions{});
  ASSERT_THAT(r.errors, IsEmpty()) << ErrorsOf(r);
  ASSERT_THAT(r.manifests, SizeIs(2));
  EXPECT_EQ(r.manifests[0].spec.id.name, "one");
  EXPECT_EQ(r.manifests[0].spec.source.line, 2);
  EXPECT_EQ(r.manifests[1].spec.id.name, "two");
  EXPECT_EQ(r.manifests[1].spec.id.database, "telemetry");
  EXPECT_EQ(r.manifests[1].spec.source.line, 30);
  EXPECT_THAT(r.warnings, ElementsAre("multi.yaml:26: skipping Deployment apps/v1 (not a "
                                      "kustodian.io/v1alpha1 DataConnection)"));
}

TEST(LoadManifestTextTest, EmptyTextHasNothing) {
  FileLoadResult r = LoadManifestText("", "e.yaml", LoadOptions{});
  EXPECT_FALSE(r.parse_failed);
  EXPECT_THAT(r.manifests, IsEmpty());
  EXPECT_THAT(r.errors, IsEmpty());
}

TEST(LoadManifestTextTest, ValidationCanBeTurnedOff) {
  std::string yaml = testing::EventHubYaml();
  yaml.replace(yaml.find("    consumerGroup: $Default\n"), 0, "    bogusProperty: 1\n");
  EXPECT_THAT(LoadManifestText(yaml, "m.yaml", LoadOptions{}).manifests, IsEmpty());
  LoadOptions no_validation;
  no_validation.validate = false;
  FileLoadResult r = LoadManifestText(yaml, "m.yaml", no_validation);
  ASSERT_THAT(r.manifests, SizeIs(1)) << ErrorsOf(r);
  EXPECT_EQ(r.manifests[0].spec.properties["bogusProperty"], "1");
}

TEST(LoadManifestFileTest, ReadsFromDisk) {
  testing::ScopedTempDir dir;
  testing::WriteFile(dir.Path() / "a.yaml", testing::EventHubYaml());
  FileLoadResult r = LoadManifestFile((dir.Path() / "a.yaml").string(), LoadOptions{});
  ASSERT_THAT(r.manifests, SizeIs(1)) << ErrorsOf(r);
  EXPECT_EQ(r.manifests[0].spec.source.file, (dir.Path() / "a.yaml").string());
}

TEST(LoadManifestFileTest, MissingFileFailsAsAWhole) {
  FileLoadResult r = LoadManifestFile("/nonexistent/kustodian/x.yaml", LoadOptions{});
  EXPECT_TRUE(r.parse_failed);
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message, HasSubstr("cannot open"));
}

TEST(ManifestErrorTest, ToString) {
  EXPECT_EQ((ManifestError{"a.yaml", 3, 5, "spec.kind", "bad"}).ToString(),
            "a.yaml:3:5: spec.kind: bad");
  EXPECT_EQ((ManifestError{"a.yaml", 0, 0, "", "too big"}).ToString(), "a.yaml: too big");
}

// The shipped examples load cleanly: one per kind plus the managed-identity variant.
TEST(ExamplesTest, ExampleManifestsLoadWithoutErrors) {
  DirectoryLoadResult r =
      LoadDirectory(KUSTODIAN_SOURCE_DIR "/examples/manifests", LoadOptions{}, ScanOptions{});
  std::string all_errors;
  for (const ManifestError& e : r.errors) {
    all_errors += e.ToString() + "\n";
  }
  int count = 0;
  std::set<ConnectionKind> kinds;
  bool has_orphan = false;
  for (const FileLoadResult& f : r.files) {
    all_errors += ErrorsOf(f);
    EXPECT_FALSE(f.parse_failed) << f.file;
    EXPECT_THAT(f.warnings, IsEmpty()) << f.file;
    for (const LoadedManifest& m : f.manifests) {
      ++count;
      kinds.insert(m.spec.kind);
      has_orphan |= m.spec.policy.deletion == DeletionPolicy::kOrphan;
      EXPECT_EQ(m.spec.id.subscription_id, "00000000-0000-0000-0000-000000000001");
      EXPECT_EQ(m.spec.id.resource_group, "testrg");
      if (m.spec.id.cluster == "mykustocluster") {
        EXPECT_EQ(m.spec.location, "eastus2");
        EXPECT_THAT((std::set<std::string>{"mykustodatabase", "telemetry"}),
                    ::testing::Contains(m.spec.id.database));
      } else {
        EXPECT_EQ(m.spec.id.cluster, "analyticscluster");
        EXPECT_EQ(m.spec.location, "westeurope");
        EXPECT_THAT((std::set<std::string>{"events", "logs"}),
                    ::testing::Contains(m.spec.id.database));
      }
    }
  }
  EXPECT_EQ(all_errors, "");
  EXPECT_EQ(r.files.size(), 4u);
  EXPECT_EQ(count, 5);
  EXPECT_TRUE(has_orphan);
  EXPECT_EQ(kinds, (std::set<ConnectionKind>{ConnectionKind::kEventHub, ConnectionKind::kEventGrid,
                                             ConnectionKind::kIotHub, ConnectionKind::kCosmosDb,
                                             ConnectionKind::kEventHubWithManagedIdentity}));
}

}  // namespace
}  // namespace kustodian
