// The Manager put together with a FakeArmClient: a manifest in the config dir becomes a PUT,
// the connection turns Ready, and the HTTP endpoint serves /metrics, /healthz, /readyz,
// /status and /status/{key}; Stop is clean and flushes the journal.
#include "controller/manager.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/core/arm_id.h"
#include "tests/fakes/fake_arm_client.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kManifest[] = R"(apiVersion: kustodian.io/v1alpha1
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
    tableName: Telemetry
)";

constexpr char kKey[] =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/testrg/providers/"
    "microsoft.kusto/clusters/mykustocluster/databases/telemetry/dataconnections/"
    "device-telemetry";

bool WaitUntil(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

ServerRequest Get(const std::string& path) {
  ServerRequest r;
  r.method = "GET";
  r.path = PercentDecode(path);
  r.raw_target = path;
  return r;
}

class ManagerTest : public ::testing::Test {
 protected:
  ManagerTest() : metrics_(registry_, "test") {}

  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "manager-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "manifests");
    std::ofstream(dir_ / "manifests" / "telemetry.yaml") << kManifest;
    options_.config_dir = (dir_ / "manifests").string();
    options_.state_dir = (dir_ / "state").string();
    options_.metrics_bind_address = "127.0.0.1:0";
    options_.workers = 2;
    ASSERT_TRUE(ValidateDaemonOptions(options_).ok());
  }
  void TearDown() override {
    manager_.reset();
    fs::remove_all(dir_);
  }

  void StartManager() {
    manager_ = std::make_unique<Manager>(
        options_, ManagerDeps{clock_, Logger::Null(), arm_, registry_, metrics_});
    absl::Status st = manager_->Start();
    ASSERT_TRUE(st.ok()) << st;
  }
  std::string Phase() {
    std::optional<ConnectionStatus> s = manager_->status().Get(kKey);
    return s ? s->phase : "";
  }

  fs::path dir_;
  FakeClock clock_;
  FakeArmClient arm_{&clock_};
  Registry registry_;
  KustodianMetrics metrics_;
  DaemonOptions options_;
  std::unique_ptr<Manager> manager_;
};

TEST_F(ManagerTest, ManifestBecomesAReadyConnection) {
  StartManager();
  EXPECT_TRUE(manager_->Ready());
  EXPECT_GT(manager_->http_port(), 0);
  ASSERT_TRUE(WaitUntil([&] { return Phase() == kPhaseReady; })) << Phase();
  EXPECT_EQ(arm_.put_specs().size(), 1u);
  EXPECT_EQ(arm_.calls(FakeArmClient::Method::kList), 1) << "one LIST for the database";
  ASSERT_TRUE(WaitUntil([&] { return metrics_.ReconcileResult(kResultSuccess).Value() >= 1; }));

  manager_->Stop();
  std::ifstream journal(dir_ / "state" / "managed.json");
  std::stringstream text;
  text << journal.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("device-telemetry"));
  EXPECT_EQ(metrics_.active_workers.Value(), 0);
}

TEST_F(ManagerTest, HttpHandlers) {
  StartManager();
  ASSERT_TRUE(WaitUntil([&] { return Phase() == kPhaseReady; }));

  ServerResponse metrics = manager_->HandleMetrics(Get("/metrics"));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, kPrometheusContentType);
  EXPECT_THAT(metrics.body,
              HasSubstr("kustodian_managed_connections{kind=\"IotHub\",state=\"ready\"} 1"));
  EXPECT_THAT(metrics.body,
              HasSubstr("kustodian_managed_connections{kind=\"EventHub\",state=\"ready\"} 0"));
  EXPECT_THAT(metrics.body, HasSubstr("controller_runtime_reconcile_total"));

  EXPECT_EQ(manager_->HandleHealthz(Get("/healthz")).status, 200);
  EXPECT_EQ(manager_->HandleReadyz(Get("/readyz")).status, 200);

  ServerResponse all = manager_->HandleStatus(Get("/status"));
  ASSERT_EQ(all.status, 200);
  nlohmann::json body = nlohmann::json::parse(all.body);
  EXPECT_TRUE(body["ready"].get<bool>());
  ASSERT_EQ(body["connections"].size(), 1u);
  EXPECT_EQ(body["summary"]["managed"], 1);

  // The key raw, URL-encoded, or in another casing.
  EXPECT_EQ(manager_->HandleStatus(Get(std::string("/status") + kKey)).status, 200);
  std::string encoded = absl::StrReplaceAll(kKey, {{"/", "%2F"}});
  EXPECT_EQ(manager_->HandleStatus(Get("/status/" + encoded)).status, 200);
  EXPECT_EQ(manager_
                ->HandleStatus(Get(absl::StrReplaceAll(std::string("/status") + kKey,
                                                       {{"dataconnections", "DataConnections"}})))
                .status,
            200);
  ServerResponse missing = manager_->HandleStatus(Get("/status/subscriptions/x"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, HasSubstr("NotFound"));
}

TEST_F(ManagerTest, NotReadyWhileTheDatabaseCannotBeListed) {
  for (int i = 0; i < 3; ++i) {
    arm_.InjectError(FakeArmClient::Method::kList, absl::UnavailableError("ARM is down"));
  }
  StartManager();
  EXPECT_FALSE(manager_->Ready());
  ServerResponse readyz = manager_->HandleReadyz(Get("/readyz"));
  EXPECT_EQ(readyz.status, 503);
  EXPECT_THAT(readyz.body, HasSubstr("the first LIST of"));
  EXPECT_EQ(manager_->HandleHealthz(Get("/healthz")).status, 200);
}

TEST_F(ManagerTest, SecondDaemonOnTheSameStateDirFails) {
  StartManager();
  Manager second(options_, ManagerDeps{clock_, Logger::Null(), arm_, registry_, metrics_});
  absl::Status st = second.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
}

}  // namespace
}  // namespace kustodian
