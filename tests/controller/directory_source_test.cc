// DirectorySource over a real temporary directory and the real DesiredStore: good files apply,
// broken files keep their last good state and report errors, deleted files remove their keys,
// duplicate targets are an error on both files, and every changed key is enqueued.
#include "controller/directory_source.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/metrics/kustodian_metrics.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kKey[] =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/testrg/providers/"
    "microsoft.kusto/clusters/mykustocluster/databases/telemetry/dataconnections/"
    "device-telemetry";

// A valid IotHub manifest named `name` with table `table`.
std::string Manifest(const std::string& name, const std::string& table) {
  return absl::StrReplaceAll(R"(apiVersion: kustodian.io/v1alpha1
kind: DataConnection
metadata:
  name: NAME
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
                             {{"NAME", name}, {"TABLE", table}});
}

class DirectorySourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "dirsource-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    source_ = std::make_unique<DirectorySource>(
        dir_.string(),
        DirectorySourceDeps{desired_, logger_, &prune_guard_, nullptr, &metrics_,
                            [this](const std::string& key) { enqueued_.push_back(key); }});
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  std::string TableOf(const std::string& key) {
    std::optional<DesiredEntry> e = desired_.Get(key);
    return e ? e->spec.properties.value("tableName", "") : "";
  }

  fs::path dir_;
  FakeClock clock_;
  std::vector<std::string> log_lines_;
  Logger logger_{LogLevel::kInfo, LogFormat::kText, clock_,
                 [this](std::string_view line) { log_lines_.emplace_back(line); }};
  Registry registry_;
  KustodianMetrics metrics_{registry_};
  DesiredStore desired_;
  PruneGuard prune_guard_{1};
  std::vector<std::string> enqueued_;
  std::unique_ptr<DirectorySource> source_;
};

TEST_F(DirectorySourceTest, AppliesFilesAndEnqueuesOnlyChanges) {
  Write("team/telemetry.yaml", Manifest("device-telemetry", "Telemetry"));
  DirectoryPassResult r = source_->Pass();
  EXPECT_EQ(r.files, 1);
  EXPECT_EQ(r.manifests, 1);
  EXPECT_THAT(r.changed_keys, ElementsAre(kKey));
  EXPECT_THAT(enqueued_, ElementsAre(kKey));
  EXPECT_EQ(TableOf(kKey), "Telemetry");
  EXPECT_EQ(source_->passes(), 1);

  enqueued_.clear();
  source_->Pass();  // nothing changed on disk
  EXPECT_THAT(enqueued_, IsEmpty());

  Write("team/telemetry.yaml", Manifest("device-telemetry", "Telemetry2"));
  source_->Pass();
  EXPECT_THAT(enqueued_, ElementsAre(kKey));
  EXPECT_EQ(TableOf(kKey), "Telemetry2");
}

TEST_F(DirectorySourceTest, BrokenFileKeepsLastGoodStateAndReportsOnce) {
  Write("telemetry.yaml", Manifest("device-telemetry", "Telemetry"));
  source_->Pass();
  enqueued_.clear();

  Write("telemetry.yaml", "apiVersion: kustodian.io/v1alpha1\nkind: [unclosed\n");
  DirectoryPassResult r = source_->Pass();
  EXPECT_EQ(r.files_with_errors, 1);
  EXPECT_THAT(enqueued_, IsEmpty()) << "a parse error must never look like a deletion";
  EXPECT_EQ(TableOf(kKey), "Telemetry");
  auto errors = source_->Errors();
  ASSERT_EQ(errors.size(), 1u);
  const std::string file = (dir_ / "telemetry.yaml").string();
  ASSERT_EQ(errors.count(file), 1u);
  EXPECT_THAT(errors[file][0], HasSubstr(file + ":"));
  EXPECT_EQ(metrics_.manifest_errors.Value(), 1);

  size_t logged = 0;
  for (const std::string& line : log_lines_) {
    logged += line.find("manifest error: " + file + ":") != std::string::npos;
  }
  EXPECT_EQ(logged, 1u);
  source_->Pass();  // same error again: not logged again
  size_t logged_again = 0;
  for (const std::string& line : log_lines_) {
    logged_again += line.find("manifest error: " + file + ":") != std::string::npos;
  }
  EXPECT_EQ(logged_again, 1u);

  Write("telemetry.yaml", Manifest("device-telemetry", "Fixed"));
  source_->Pass();
  EXPECT_THAT(enqueued_, ElementsAre(kKey));
  EXPECT_EQ(TableOf(kKey), "Fixed");
  EXPECT_THAT(source_->Errors(), IsEmpty());
  EXPECT_EQ(metrics_.manifest_errors.Value(), 0);
}

TEST_F(DirectorySourceTest, InvalidDocumentIsReportedWithFieldAndKeepsState) {
  Write("telemetry.yaml", Manifest("device-telemetry", "Telemetry"));
  source_->Pass();
  enqueued_.clear();
  Write("telemetry.yaml",
        absl::StrReplaceAll(Manifest("device-telemetry", "Telemetry2"), {{"IotHub", "IotHubb"}}));
  source_->Pass();
  EXPECT_THAT(enqueued_, IsEmpty());
  EXPECT_EQ(TableOf(kKey), "Telemetry");
  auto errors = source_->Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors.begin()->second[0], HasSubstr("spec.kind"));
}

TEST_F(DirectorySourceTest, DeletedFileRemovesItsKeys) {
  Write("telemetry.yaml", Manifest("device-telemetry", "Telemetry"));
  source_->Pass();
  enqueued_.clear();
  fs::remove(dir_ / "telemetry.yaml");
  DirectoryPassResult r = source_->Pass();
  EXPECT_TRUE(r.complete);
  EXPECT_THAT(enqueued_, ElementsAre(kKey));
  EXPECT_FALSE(desired_.Get(kKey).has_value());
}

TEST_F(DirectorySourceTest, DuplicateTargetIsAnErrorOnBothFiles) {
  Write("a.yaml", Manifest("device-telemetry", "A"));
  Write("b.yaml", Manifest("device-telemetry", "B"));
  source_->Pass();
  EXPECT_FALSE(desired_.Get(kKey).has_value());
  auto errors = source_->Errors();
  EXPECT_EQ(errors.count((dir_ / "a.yaml").string()), 1u);
  EXPECT_EQ(errors.count((dir_ / "b.yaml").string()), 1u);
  EXPECT_EQ(metrics_.manifest_errors.Value(), 2);

  fs::remove(dir_ / "b.yaml");
  source_->Pass();
  EXPECT_EQ(TableOf(kKey), "A");
  EXPECT_THAT(source_->Errors(), IsEmpty());
}

TEST_F(DirectorySourceTest, EachPassRefillsThePruneGuard) {
  EXPECT_TRUE(prune_guard_.TryConsume("k1"));
  EXPECT_FALSE(prune_guard_.TryConsume("k2"));
  source_->Pass();
  EXPECT_TRUE(prune_guard_.TryConsume("k2"));
}

}  // namespace
}  // namespace kustodian
