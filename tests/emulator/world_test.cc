// World YAML parsing: structure, defaults, display-name mapping, and errors naming file + line.
#include "src/emulator/world.h"

#include <fstream>

#include "absl/strings/match.h"
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

TEST(WorldTest, ParsesTheTestWorld) {
  absl::StatusOr<World> world = ParseWorld(kWorldYaml, "w.yaml");
  ASSERT_TRUE(world.ok()) << world.status();
  ASSERT_EQ(world->subscriptions.size(), 1u);
  const WorldResourceGroup& rg = world->subscriptions[0].resource_groups[0];
  EXPECT_EQ(rg.name, "testrg");
  ASSERT_EQ(rg.clusters.size(), 2u);
  EXPECT_EQ(rg.clusters[0].location, "East US 2");
  EXPECT_EQ(rg.clusters[1].location, "West Europe");  // "westeurope" mapped
  EXPECT_EQ(rg.clusters[0].databases.size(), 2u);
  ASSERT_EQ(world->principals.size(), 3u);
  EXPECT_EQ(world->principals[0].client_secret, "s3cret");
  EXPECT_TRUE(world->principals[1].federated);
  EXPECT_TRUE(world->principals[2].managed_identity);
  // objectId defaults to a stable GUID of the client id.
  EXPECT_EQ(world->principals[1].object_id.size(), 36u);
}

TEST(WorldTest, EmptyDocumentIsAnEmptyWorld) {
  absl::StatusOr<World> world = ParseWorld("", "empty.yaml");
  ASSERT_TRUE(world.ok());
  EXPECT_TRUE(world->subscriptions.empty());
}

TEST(WorldTest, ConnectionsKeepTypedProperties) {
  absl::StatusOr<World> world = ParseWorld(R"(subscriptions:
  - id: s
    resourceGroups:
      - name: g
        clusters:
          - name: c
            location: eastus
            databases:
              - d0
              - name: d
                connections:
                  - name: grid
                    kind: EventGrid
                    provisioningState: Failed
                    properties:
                      ignoreFirstRecord: true
                      consumerGroup: "123"
                      eventSystemProperties: [a, b]
)",
                                           "w.yaml");
  ASSERT_TRUE(world.ok()) << world.status();
  const WorldCluster& c = world->subscriptions[0].resource_groups[0].clusters[0];
  EXPECT_EQ(c.databases[0].name, "d0");
  const WorldConnection& conn = c.databases[1].connections[0];
  EXPECT_EQ(conn.line, 12);
  EXPECT_EQ(conn.provisioning_state, "Failed");
  EXPECT_EQ(conn.properties["ignoreFirstRecord"], true);
  EXPECT_EQ(conn.properties["consumerGroup"], "123");
  EXPECT_EQ(conn.properties["eventSystemProperties"], nlohmann::json::array({"a", "b"}));
}

TEST(WorldTest, SyntaxErrorNamesFileAndLine) {
  absl::StatusOr<World> world =
      ParseWorld("subscriptions:\n  - id: a\n    resourceGroups: [\n", "bad.yaml");
  ASSERT_FALSE(world.ok());
  EXPECT_TRUE(absl::StartsWith(world.status().message(), "bad.yaml:")) << world.status();
}

TEST(WorldTest, MissingFieldNamesTheLine) {
  absl::StatusOr<World> world = ParseWorld(R"(subscriptions:
  - id: s
    resourceGroups:
      - name: g
        clusters:
          - name: c
            databases: []
)",
                                           "w.yaml");
  ASSERT_FALSE(world.ok());
  EXPECT_EQ(world.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(world.status().message(),
                               "w.yaml:6: cluster is missing "
                               "'location'"))
      << world.status();
}

TEST(WorldTest, UnknownKeyIsAnError) {
  absl::StatusOr<World> world = ParseWorld("subscriptions:\n  - id: s\n    groups: []\n", "w.yaml");
  ASSERT_FALSE(world.ok());
  EXPECT_TRUE(absl::StartsWith(world.status().message(), "w.yaml:3: unknown key 'groups'"))
      << world.status();
}

TEST(WorldTest, PrincipalNeedsACredential) {
  absl::StatusOr<World> world = ParseWorld("principals:\n  - clientId: x\n", "w.yaml");
  ASSERT_FALSE(world.ok());
  EXPECT_NE(world.status().message().find("w.yaml:2"), absl::string_view::npos);
}

TEST(WorldTest, WrongBoolIsAnError) {
  absl::StatusOr<World> world =
      ParseWorld("principals:\n  - clientId: x\n    federated: maybe\n", "w.yaml");
  ASSERT_FALSE(world.ok());
  EXPECT_NE(world.status().message().find("w.yaml:3"), absl::string_view::npos);
}

TEST(WorldTest, LoadWorldFileReadsAndReportsMissingFiles) {
  EXPECT_EQ(LoadWorldFile("/nonexistent/world.yaml").status().code(), absl::StatusCode::kNotFound);
  std::string path = ::testing::TempDir() + "/emu_world_test.yaml";
  {
    std::ofstream out(path);
    out << kWorldYaml;
  }
  absl::StatusOr<World> world = LoadWorldFile(path);
  ASSERT_TRUE(world.ok()) << world.status();
  EXPECT_EQ(world->principals.size(), 3u);
}

TEST(WorldTest, TheExampleWorldLoads) {
  absl::StatusOr<World> world =
      LoadWorldFile(std::string(KUSTODIAN_SOURCE_DIR) + "/examples/world.yaml");
  ASSERT_TRUE(world.ok()) << world.status();
  FakeClock clock;
  Emulator emulator(TestOptions(), clock);
  EXPECT_TRUE(emulator.LoadWorld(*world).ok());
}

TEST(WorldTest, InvalidSeededConnectionIsRejectedWithItsLine) {
  absl::StatusOr<World> world = ParseWorld(R"(subscriptions:
  - id: s
    resourceGroups:
      - name: g
        clusters:
          - name: c
            location: eastus
            databases:
              - name: d
                connections:
                  - name: bad
                    kind: CosmosDb
)",
                                           "w.yaml");
  ASSERT_TRUE(world.ok()) << world.status();
  FakeClock clock;
  Emulator emulator(TestOptions(), clock);
  absl::Status st = emulator.LoadWorld(*world);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("line 11"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("'bad'"), absl::string_view::npos) << st;
}

TEST(WorldTest, DisplayLocation) {
  EXPECT_EQ(DisplayLocation("eastus2"), "East US 2");
  EXPECT_EQ(DisplayLocation("East US 2"), "East US 2");
  EXPECT_EQ(DisplayLocation("WESTEUROPE"), "West Europe");
  EXPECT_EQ(DisplayLocation("marsnorth"), "marsnorth");
}

}  // namespace
}  // namespace kustodian::emulator::testing
