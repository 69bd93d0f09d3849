// The CLI end to end with a FakeArmClient: exit codes of plan (0 in sync, 2 changes, 1 error),
// validate, export (and export-then-plan is a no-op), version, usage errors and env variables.
#include "controller/cli.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_replace.h"
#include "controller/cli_internal.h"
#include "controller/ownership_journal.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/fakes/fake_arm_client.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kDb[] =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/testrg/providers/"
    "Microsoft.Kusto/clusters/mykustocluster/databases/telemetry";

std::string Manifest(const std::string& table) {
  return absl::StrReplaceAll(R"(apiVersion: kustodian.io/v1alpha1
kind: DataConnection
metadata:
  name: device-telemetry
spec:
  target:
    subscriptionId: 00000000-0000-0000-0000-000000000001
    resourceGroup: testrg
    cluster: mykustocluster
    database: telemetry
  location: eastus2
  kind: IotHub
  properties:
    iotHubResourceId: /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/testrg/providers/Microsoft.Devices/IotHubs/devicehub
    consumerGroup: $Default
    sharedAccessPolicyName: registryRead
    tableName: TABLE
)",
                             {{"TABLE", table}});
}

LiveConnection Live(const std::string& name, const std::string& table) {
  LiveConnection live;
  live.id = *DataConnectionId::Parse(std::string(kDb) + "/dataConnections/" + name);
  live.location = "East US 2";
  live.kind_name = "IotHub";
  live.kind = ConnectionKind::kIotHub;
  live.properties = {
      {"iotHubResourceId",
       "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/testrg/providers/"
       "Microsoft.Devices/IotHubs/devicehub"},
      {"consumerGroup", "$Default"},
      {"sharedAccessPolicyName", "registryRead"},
      {"tableName", table},
      {"provisioningState", "Succeeded"}};
  live.provisioning_state = "Succeeded";
  return live;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "manifests");
  }
  void TearDown() override { fs::remove_all(dir_); }

  int Cli(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    args.insert(args.begin(), "kustodian");
    std::vector<const char*> argv;
    for (const std::string& a : args) {
      argv.push_back(a.c_str());
    }
    CliEnv env{clock_, out_, err_,
               [this](const ArmFlags& flags, Clock&, Logger&, KustodianMetrics*) {
                 last_flags_ = flags;
                 ArmStack stack;
                 stack.client = &arm_;
                 return absl::StatusOr<ArmStack>(std::move(stack));
               },
               [](std::string_view) {}};
    return RunCli(static_cast<int>(argv.size()), argv.data(), env);
  }
  void WriteManifest(const std::string& table) {
    std::ofstream(dir_ / "manifests" / "telemetry.yaml") << Manifest(table);
  }
  std::string ManifestDir() const { return (dir_ / "manifests").string(); }

  fs::path dir_;
  FakeClock clock_;
  FakeArmClient arm_{&clock_};
  std::ostringstream out_;
  std::ostringstream err_;
  ArmFlags last_flags_;
};

TEST_F(CliTest, VersionAndHelp) {
  EXPECT_EQ(Cli({"version"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("kustodian " + KustodianVersion()));
  EXPECT_EQ(KustodianVersion(), "0.1.0");
  EXPECT_EQ(Cli({"--help"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("plan"));
  EXPECT_EQ(Cli({"run", "--help"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("--max-deletes-per-pass"));
  EXPECT_THAT(out_.str(), HasSubstr("KUSTODIAN_CONFIG_DIR"));
}

TEST_F(CliTest, BadOptionsExitOneWithWhatToFix) {
  EXPECT_EQ(Cli({}), kExitError);
  EXPECT_EQ(Cli({"run"}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("--config-dir"));
  EXPECT_EQ(Cli({"run", "--config-dir", ManifestDir(), "--state-dir", (dir_ / "s").string(),
                 "--workers", "0", "--resync-interval", "5 minutes"}),
            kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("--workers: 0 is out of range"));
  EXPECT_THAT(err_.str(), HasSubstr("--resync-interval:"));
  EXPECT_EQ(Cli({"plan", "--config-dir", ManifestDir(), "--cloud", "Mars"}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("--cloud: \"Mars\""));
  EXPECT_EQ(Cli({"nonsense"}), kExitError);
}

TEST_F(CliTest, PlanExitCodes) {
  WriteManifest("Telemetry");
  EXPECT_EQ(Cli({"plan", "--config-dir", ManifestDir()}), kExitChanges);
  EXPECT_THAT(out_.str(), HasSubstr("+ create  mykustocluster/telemetry/device-telemetry"));
  EXPECT_EQ(arm_.calls(FakeArmClient::Method::kList), 1);
  EXPECT_EQ(arm_.calls(FakeArmClient::Method::kPut), 0) << "plan never writes";

  arm_.SetConnection(Live("device-telemetry", "Telemetry"));
  EXPECT_EQ(Cli({"plan", "--config-dir", ManifestDir()}), kExitOk) << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("= no-op"));

  WriteManifest("Telemetry2");
  EXPECT_EQ(Cli({"plan", "--config-dir", ManifestDir(), "-o", "json"}), kExitChanges);
  nlohmann::json plan = nlohmann::json::parse(out_.str());
  ASSERT_EQ(plan["connections"].size(), 1u);
  EXPECT_EQ(plan["connections"][0]["action"], "update");
  EXPECT_EQ(plan["connections"][0]["changes"][0]["path"], "properties.tableName");
  EXPECT_EQ(plan["connections"][0]["changes"][0]["old"], "Telemetry");
  EXPECT_EQ(plan["connections"][0]["changes"][0]["new"], "Telemetry2");
  EXPECT_FALSE(plan["inSync"].get<bool>());
}

TEST_F(CliTest, PlanWithStateDirShowsConflictsAndDeletes) {
  WriteManifest("Telemetry");
  arm_.SetConnection(Live("device-telemetry", "Telemetry"));
  fs::create_directories(dir_ / "state");
  EXPECT_EQ(Cli({"plan", "--config-dir", ManifestDir(), "--state-dir", (dir_ / "state").string()}),
            kExitChanges);
  EXPECT_THAT(out_.str(), HasSubstr("! conflict"));
  EXPECT_EQ(Cli({"plan", "--config-dir", ManifestDir(), "--state-dir", (dir_ / "state").string(),
                 "--adopt"}),
            kExitOk);

  // A managed connection without a manifest is planned for deletion.
  LiveConnection orphan = Live("old-one", "Old");
  arm_.SetConnection(orphan);
  OwnershipRecord rec;
  rec.id = orphan.id.RequestPath();
  rec.kind = "IotHub";
  std::ofstream(dir_ / "state" / "managed.json")
      << OwnershipJournal::Serialize({{orphan.id.Key(), rec}});
  EXPECT_EQ(Cli({"plan", "--config-dir", ManifestDir(), "--state-dir", (dir_ / "state").string(),
                 "--adopt"}),
            kExitChanges);
  EXPECT_THAT(out_.str(), HasSubstr("- delete  mykustocluster/telemetry/old-one"));
  EXPECT_FALSE(fs::exists(dir_ / "state" / "lock")) << "plan must not touch the state dir";
}

TEST_F(CliTest, PlanFailsOnManifestErrorsAndArmErrors) {
  std::ofstream(dir_ / "manifests" / "bad.yaml") << "kind: [\n";
  EXPECT_EQ(Cli({"plan", "--config-dir", ManifestDir()}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("bad.yaml:"));
  fs::remove(dir_ / "manifests" / "bad.yaml");
  WriteManifest("Telemetry");
  arm_.InjectError(FakeArmClient::Method::kList, absl::PermissionDeniedError("no RBAC"));
  EXPECT_EQ(Cli({"plan", "--config-dir", ManifestDir()}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("no RBAC"));
}

TEST_F(CliTest, ValidateOfflineAndRemote) {
  WriteManifest("Telemetry");
  EXPECT_EQ(Cli({"validate", ManifestDir()}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("1 file(s), 1 connection(s): valid"));
  EXPECT_EQ(arm_.total_calls(), 0);

  arm_.SetValidationErrors({"Event hub not found"});
  EXPECT_EQ(Cli({"validate", ManifestDir(), "--remote"}), kExitError);
  EXPECT_THAT(out_.str(), HasSubstr("telemetry.yaml:1: remote: "));
  EXPECT_THAT(out_.str(), HasSubstr("Event hub not found"));

  std::ofstream(dir_ / "manifests" / "telemetry.yaml")
      << absl::StrReplaceAll(Manifest("T"), {{"consumerGroup", "consumerGrup"}});
  EXPECT_EQ(Cli({"validate", ManifestDir()}), kExitError);
  EXPECT_THAT(out_.str(), HasSubstr("telemetry.yaml:"));
  EXPECT_THAT(out_.str(), HasSubstr("consumerGrup"));
}

TEST_F(CliTest, ExportThenPlanIsANoop) {
  arm_.SetConnection(Live("device-telemetry", "Telemetry"));
  arm_.SetConnection(Live("Second_Conn", "Other"));
  arm_.SetConnection(Live("2024", "Numeric"));  // a name YAML would read as a number
  const std::string out = (dir_ / "exported").string();
  EXPECT_EQ(
      Cli({"export", "--subscription", "00000000-0000-0000-0000-000000000001", "--resource-group",
           "testrg", "--cluster", "mykustocluster", "--database", "telemetry", "--out", out}),
      kExitOk)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("exported 3 connection(s)"));
  std::ifstream in(fs::path(out) / "mykustocluster.telemetry.yaml");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("kustodian.io/adopt: \"true\""));
  EXPECT_THAT(text.str(), HasSubstr("name: second-conn"));
  EXPECT_THAT(text.str(), HasSubstr("name: \"2024\""));

  EXPECT_EQ(Cli({"validate", out}), kExitOk) << out_.str();
  fs::create_directories(dir_ / "state");
  EXPECT_EQ(Cli({"plan", "--config-dir", out, "--state-dir", (dir_ / "state").string()}), kExitOk)
      << out_.str();
}

TEST_F(CliTest, FlagsComeFromTheEnvironment) {
  EXPECT_EQ(FlagEnvName("--config-dir"), "KUSTODIAN_CONFIG_DIR");
  EXPECT_EQ(FlagEnvName("--token"), "KUSTODIAN_TOKEN");
  WriteManifest("Telemetry");
  ::setenv("KUSTODIAN_CONFIG_DIR", ManifestDir().c_str(), 1);
  ::setenv("KUSTODIAN_TOKEN", "dev-token-value", 1);
  ::setenv("KUSTODIAN_ARM_ENDPOINT", "http://127.0.0.1:9999", 1);
  int code = Cli({"plan"});
  ::unsetenv("KUSTODIAN_CONFIG_DIR");
  ::unsetenv("KUSTODIAN_TOKEN");
  ::unsetenv("KUSTODIAN_ARM_ENDPOINT");
  EXPECT_EQ(code, kExitChanges) << err_.str();
  EXPECT_EQ(last_flags_.token, "dev-token-value");
  EXPECT_EQ(last_flags_.endpoint, "http://127.0.0.1:9999");
}

TEST(Dns1123NameTest, MakesValidLabels) {
  EXPECT_EQ(Dns1123Name("myeventhubconnect"), "myeventhubconnect");
  EXPECT_EQ(Dns1123Name("Second_Conn"), "second-conn");
  std::string odd = Dns1123Name("conn#1");
  EXPECT_THAT(odd, ::testing::MatchesRegex("conn-1-[0-9a-f]{8}"));
  EXPECT_NE(Dns1123Name("conn#1"), Dns1123Name("conn@1"));
  EXPECT_LE(Dns1123Name(std::string(100, 'a')).size(), 63u);
}

}  // namespace
}  // namespace kustodian
