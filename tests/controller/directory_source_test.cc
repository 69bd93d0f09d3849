// DirectorySource over a real temporary directory and the real DesiredStore: good files apply,
// broken files keep their last good state and report errors, deleted files remove their keys,
// duplicate targets are an error on both files, and every changed key is enqueued.
#include "controller/directory_source.h"

#include <fcntl.h>
#include <sys/stat.h>
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

// The key of the connection named `name` in Manifest(name, ...).
std::string KeyOf(const std::string& name) {
  std::string key = kKey;
  return key.substr(0, key.rfind('/') + 1) + name;
}

TEST_F(DirectorySourceTest, FilesPassReadsOnlyTheGivenFiles) {
  Write("a.yaml", Manifest("conn-a", "A"));
  Write("team/b.yaml", Manifest("conn-b", "B"));
  source_->Pass();
  enqueued_.clear();
  EXPECT_TRUE(prune_guard_.TryConsume("k1"));

  // b.yaml breaks, but no event said so: a files pass for a.yaml must not read it.
  Write("team/b.yaml", "kind: [unclosed\n");
  Write("a.yaml", Manifest("conn-a", "A2"));
  DirectoryPassResult r = source_->PassFiles({(dir_ / "a.yaml").string()});
  EXPECT_FALSE(r.deferred);
  EXPECT_EQ(r.files, 1);
  EXPECT_THAT(r.changed_keys, ElementsAre(KeyOf("conn-a")));
  EXPECT_THAT(enqueued_, ElementsAre(KeyOf("conn-a")));
  EXPECT_EQ(TableOf(KeyOf("conn-a")), "A2");
  EXPECT_THAT(source_->Errors(), IsEmpty()) << "b.yaml was read by a files pass for a.yaml";
  EXPECT_EQ(source_->passes(), 2);
  EXPECT_FALSE(prune_guard_.TryConsume("k2")) << "a files pass must not refill the prune guard";

  // A new file is taken by a files pass too; an unchanged one changes nothing.
  enqueued_.clear();
  Write("team/c.yaml", Manifest("conn-c", "C"));
  r = source_->PassFiles({(dir_ / "team/c.yaml").string(), (dir_ / "a.yaml").string()});
  EXPECT_FALSE(r.deferred);
  EXPECT_THAT(enqueued_, ElementsAre(KeyOf("conn-c")));
  EXPECT_EQ(TableOf(KeyOf("conn-b")), "B");

  // The full pass then finds b.yaml broken, and keeps its state.
  enqueued_.clear();
  source_->Pass();
  EXPECT_THAT(enqueued_, IsEmpty());
  EXPECT_EQ(source_->Errors().count((dir_ / "team/b.yaml").string()), 1u);
  EXPECT_EQ(TableOf(KeyOf("conn-b")), "B");
}

TEST_F(DirectorySourceTest, RecentFilesAreReadAgainButParsedOnlyWhenTheirBytesChanged) {
  // Files written just before a pass are too recent to trust their stamp (racily clean): every
  // pass reads them again, but parses and applies only those whose bytes changed, even when
  // the write left the stamp as it was.
  Write("a.yaml", Manifest("conn-a", "A"));
  Write("b.yaml", Manifest("conn-b", "B"));
  source_->Pass();
  EXPECT_EQ(source_->files_parsed(), 2);
  enqueued_.clear();
  source_->Pass();
  EXPECT_EQ(source_->files_parsed(), 2) << "files whose bytes did not change were parsed again";
  EXPECT_THAT(enqueued_, IsEmpty());

  // Rewritten with the same bytes (a new stamp): read, not parsed.
  Write("a.yaml", Manifest("conn-a", "A"));
  source_->Pass();
  EXPECT_EQ(source_->files_parsed(), 2);
  EXPECT_THAT(enqueued_, IsEmpty());

  // Other bytes of the same size, with the old modification time put back (as a second write
  // within one timestamp tick leaves it): parsed and applied.
  const std::string b = (dir_ / "b.yaml").string();
  struct stat before;
  ASSERT_EQ(::stat(b.c_str(), &before), 0);
  Write("b.yaml", Manifest("conn-b", "C"));
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, b.c_str(), times, 0), 0);
  source_->Pass();
  EXPECT_EQ(source_->files_parsed(), 3);
  EXPECT_THAT(enqueued_, ElementsAre(KeyOf("conn-b")));
  EXPECT_EQ(TableOf(KeyOf("conn-b")), "C");
  EXPECT_EQ(TableOf(KeyOf("conn-a")), "A");
}

TEST_F(DirectorySourceTest, FilesPassDefersRemovals) {
  Write("a.yaml", absl::StrCat(Manifest("conn-a", "A"), "---\n", Manifest("conn-x", "X")));
  Write("b.yaml", Manifest("conn-b", "B"));
  source_->Pass();
  enqueued_.clear();

  // A document taken out of a file removes a connection: not in a files pass.
  Write("a.yaml", Manifest("conn-a", "A2"));
  DirectoryPassResult r = source_->PassFiles({(dir_ / "a.yaml").string()});
  EXPECT_TRUE(r.deferred);
  EXPECT_THAT(enqueued_, IsEmpty());
  EXPECT_EQ(TableOf(KeyOf("conn-a")), "A");
  EXPECT_EQ(TableOf(KeyOf("conn-x")), "X");
  // The full pass (after the debounce) applies all of it.
  source_->Pass();
  EXPECT_THAT(enqueued_, ElementsAre(KeyOf("conn-a"), KeyOf("conn-x")));
  EXPECT_EQ(TableOf(KeyOf("conn-a")), "A2");
  EXPECT_FALSE(desired_.Get(KeyOf("conn-x")).has_value());

  // A file gone by the time of the files pass: deferred too.
  enqueued_.clear();
  fs::remove(dir_ / "b.yaml");
  r = source_->PassFiles({(dir_ / "b.yaml").string()});
  EXPECT_TRUE(r.deferred);
  EXPECT_EQ(TableOf(KeyOf("conn-b")), "B");

  // A connection moved from one file to another in one go is no removal.
  Write("b.yaml", Manifest("conn-b", "B"));
  source_->Pass();
  enqueued_.clear();
  Write("a.yaml", absl::StrCat(Manifest("conn-a", "A2"), "---\n", Manifest("conn-b", "B2")));
  Write("b.yaml", Manifest("conn-y", "Y"));
  r = source_->PassFiles({(dir_ / "a.yaml").string(), (dir_ / "b.yaml").string()});
  EXPECT_FALSE(r.deferred);
  EXPECT_THAT(enqueued_, ElementsAre(KeyOf("conn-b"), KeyOf("conn-y")));
  EXPECT_EQ(TableOf(KeyOf("conn-b")), "B2");
}

TEST_F(DirectorySourceTest, FilesPassParseFailureKeepsStateAndDuplicatesAreRejected) {
  Write("a.yaml", Manifest("device-telemetry", "A"));
  source_->Pass();
  enqueued_.clear();
  const std::string a = (dir_ / "a.yaml").string();

  Write("a.yaml", "kind: [unclosed\n");
  DirectoryPassResult r = source_->PassFiles({a});
  EXPECT_FALSE(r.deferred) << "a parse failure is never a deletion, so a files pass takes it";
  EXPECT_THAT(enqueued_, IsEmpty());
  EXPECT_EQ(TableOf(kKey), "A");
  EXPECT_EQ(source_->Errors().count(a), 1u);
  EXPECT_EQ(metrics_.manifest_errors.Value(), 1);
  Write("a.yaml", Manifest("device-telemetry", "A2"));
  source_->PassFiles({a});
  EXPECT_EQ(TableOf(kKey), "A2");
  EXPECT_THAT(source_->Errors(), IsEmpty());

  // A new file declaring the same target: an error on both, the entry stays as it was.
  enqueued_.clear();
  Write("b.yaml", Manifest("device-telemetry", "B"));
  r = source_->PassFiles({(dir_ / "b.yaml").string()});
  EXPECT_FALSE(r.deferred);
  EXPECT_EQ(TableOf(kKey), "A2");
  EXPECT_EQ(source_->Errors().size(), 2u);
  // b.yaml gives the key up: a.yaml (not named in the pass) takes it back.
  Write("b.yaml", Manifest("other", "B"));
  r = source_->PassFiles({(dir_ / "b.yaml").string()});
  EXPECT_FALSE(r.deferred);
  EXPECT_EQ(TableOf(kKey), "A2");
  EXPECT_EQ(TableOf(KeyOf("other")), "B");
  EXPECT_THAT(source_->Errors(), IsEmpty());
}

TEST_F(DirectorySourceTest, ClassifyFollowsTheScanRules) {
  const std::string d = dir_.string();
  EXPECT_EQ(source_->Classify(d + "/a.yaml"), PathKind::kFile);
  EXPECT_EQ(source_->Classify(d + "/team/a.YML"), PathKind::kFile);
  EXPECT_EQ(source_->Classify(d + "/a.yaml.tmp"), PathKind::kIgnore);
  EXPECT_EQ(source_->Classify(d + "/.a.yaml.swp"), PathKind::kIgnore);
  EXPECT_EQ(source_->Classify(d + "/..data/a.yaml"), PathKind::kRescan);
  EXPECT_EQ(source_->Classify(d + "/team/.hidden.yaml"), PathKind::kRescan);
  EXPECT_EQ(source_->Classify("/elsewhere/a.yaml"), PathKind::kRescan);
  // Not manifest files: a files pass skips them.
  Write("a.yaml.tmp", Manifest("device-telemetry", "A"));
  Write(".hidden/a.yaml", Manifest("device-telemetry", "A"));
  DirectoryPassResult r =
      source_->PassFiles({d + "/a.yaml.tmp", d + "/.hidden/a.yaml", "/elsewhere/a.yaml"});
  EXPECT_FALSE(r.deferred);
  EXPECT_EQ(desired_.size(), 0u);
}

}  // namespace
}  // namespace kustodian
