// Directory scanning (sorting, hidden entries, ConfigMap mounts, symlink loops) and directory
// loading with duplicate-target detection across and within files.
#include "src/manifest/directory.h"

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/manifest/manifest_test_util.h"

namespace kustodian {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string AllErrors(const std::vector<ManifestError>& errors) {
  std::string out;
  for (const ManifestError& e : errors) {
    out += e.ToString() + "\n";
  }
  return out;
}

TEST(ScanDirectoryTest, RecursiveSortedSkipsHiddenAndOtherExtensions) {
  testing::ScopedTempDir dir;
  const fs::path& d = dir.Path();
  for (const char* f : {"z.yaml", "a/c.yml", "a/b.yaml", "UPPER.YAML", "notes.txt",
                        ".git/config.yaml", ".hidden.yaml", "sub/.cache/d.yaml", "sub/e.yaml"}) {
    testing::WriteFile(d / f, "a: b\n");
  }
  ScanResult r = ScanDirectory(dir.Str(), ScanOptions{});
  EXPECT_THAT(r.errors, IsEmpty()) << AllErrors(r.errors);
  EXPECT_THAT(r.files, ElementsAre((d / "UPPER.YAML").string(), (d / "a/b.yaml").string(),
                                   (d / "a/c.yml").string(), (d / "sub/e.yaml").string(),
                                   (d / "z.yaml").string()));
}

TEST(ScanDirectoryTest, CustomExtensions) {
  testing::ScopedTempDir dir;
  testing::WriteFile(dir.Path() / "a.yaml", "a: b\n");
  testing::WriteFile(dir.Path() / "b.json", "{}\n");
  ScanOptions opts;
  opts.extensions = {".json"};
  EXPECT_THAT(ScanDirectory(dir.Str(), opts).files, ElementsAre((dir.Path() / "b.json").string()));
}

TEST(ScanDirectoryTest, MissingDirectoryIsAnError) {
  ScanResult r = ScanDirectory("/nonexistent/kustodian-manifests", ScanOptions{});
  EXPECT_THAT(r.files, IsEmpty());
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message, HasSubstr("cannot read directory"));
}

TEST(ScanDirectoryTest, SymlinkLoopTerminatesWithAnError) {
  testing::ScopedTempDir dir;
  const fs::path& d = dir.Path();
  testing::WriteFile(d / "sub/a.yaml", "a: b\n");
  fs::create_directory_symlink(d, d / "sub/loop");           // sub/loop -> root
  fs::create_directory_symlink(d / "sub", d / "sub/again");  // sub/again -> sub
  fs::create_symlink(d / "self.yaml", d / "self.yaml");      // a link to itself
  ScanResult r = ScanDirectory(dir.Str(), ScanOptions{});
  EXPECT_THAT(r.files, ElementsAre((d / "sub/a.yaml").string()));
  ASSERT_THAT(r.errors, SizeIs(3)) << AllErrors(r.errors);
  int loops = 0;
  for (const ManifestError& e : r.errors) {
    loops += e.message.find("symlink loop") != std::string::npos;
  }
  EXPECT_EQ(loops, 3) << AllErrors(r.errors);
}

TEST(ScanDirectoryTest, SameDirectoryUnderTwoNamesIsScannedOnce) {
  testing::ScopedTempDir dir;
  const fs::path& d = dir.Path();
  testing::WriteFile(d / "real/a.yaml", "a: b\n");
  fs::create_directory_symlink(d / "real", d / "zlink");
  ScanResult r = ScanDirectory(dir.Str(), ScanOptions{});
  EXPECT_THAT(r.errors, IsEmpty()) << AllErrors(r.errors);
  EXPECT_THAT(r.files, ElementsAre((d / "real/a.yaml").string()));
}

TEST(ScanDirectoryTest, FollowSymlinksOffSkipsLinkedDirectoriesButReadsLinkedFiles) {
  testing::ScopedTempDir outside;
  testing::ScopedTempDir dir;
  testing::WriteFile(outside.Path() / "o.yaml", "a: b\n");
  fs::create_directory_symlink(outside.Path(), dir.Path() / "linked");
  fs::create_symlink(outside.Path() / "o.yaml", dir.Path() / "file.yaml");
  ScanOptions opts;
  opts.follow_symlinks = false;
  EXPECT_THAT(ScanDirectory(dir.Str(), opts).files,
              ElementsAre((dir.Path() / "file.yaml").string()));
  EXPECT_THAT(
      ScanDirectory(dir.Str(), ScanOptions{}).files,
      ElementsAre((dir.Path() / "file.yaml").string(), (dir.Path() / "linked/o.yaml").string()));
}

TEST(ScanDirectoryTest, BrokenSymlinkToManifestIsReported) {
  testing::ScopedTempDir dir;
  fs::create_symlink(dir.Path() / "gone.yaml", dir.Path() / "link.yaml");
  fs::create_symlink(dir.Path() / "gone.txt", dir.Path() / "link.txt");  // not a manifest
  ScanResult r = ScanDirectory(dir.Str(), ScanOptions{});
  EXPECT_THAT(r.files, IsEmpty());
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message, HasSubstr("broken symlink"));
  EXPECT_EQ(r.errors[0].file, (dir.Path() / "link.yaml").string());
}

TEST(ScanDirectoryTest, MaxFilesStopsWithAnError) {
  testing::ScopedTempDir dir;
  for (int i = 0; i < 5; ++i) {
    testing::WriteFile(dir.Path() / ("f" + std::to_string(i) + ".yaml"), "a: b\n");
  }
  ScanOptions opts;
  opts.max_files = 3;
  ScanResult r = ScanDirectory(dir.Str(), opts);
  EXPECT_THAT(r.files, SizeIs(3));
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message, HasSubstr("more than 3"));
}

// A ConfigMap volume: ..data -> ..<timestamp>/, and each key as `name -> ..data/name`.
TEST(ScanDirectoryTest, ConfigMapMountFindsEachFileOnce) {
  testing::ScopedTempDir dir;
  const fs::path& d = dir.Path();
  const fs::path stamp = d / "..2024_05_01_12_00_00.123456789";
  testing::WriteFile(stamp / "eventhub.yaml", testing::EventHubYaml("one"));
  testing::WriteFile(stamp / "iothub.yaml", testing::EventHubYaml("two", "telemetry"));
  fs::create_directory_symlink(stamp.filename(), d / "..data");
  fs::create_symlink(fs::path("..data") / "eventhub.yaml", d / "eventhub.yaml");
  fs::create_symlink(fs::path("..data") / "iothub.yaml", d / "iothub.yaml");

  ScanResult scan = ScanDirectory(dir.Str(), ScanOptions{});
  EXPECT_THAT(scan.errors, IsEmpty()) << AllErrors(scan.errors);
  EXPECT_THAT(scan.files,
              ElementsAre((d / "eventhub.yaml").string(), (d / "iothub.yaml").string()));

  DirectoryLoadResult r = LoadDirectory(dir.Str(), LoadOptions{}, ScanOptions{});
  EXPECT_THAT(r.errors, IsEmpty()) << AllErrors(r.errors);
  ASSERT_THAT(r.files, SizeIs(2));
  EXPECT_THAT(r.files[0].manifests, SizeIs(1));
  EXPECT_THAT(r.files[1].manifests, SizeIs(1));
}

TEST(LoadDirectoryTest, DuplicateTargetAcrossFilesRejectsBoth) {
  testing::ScopedTempDir dir;
  const fs::path a = dir.Path() / "a.yaml";
  const fs::path b = dir.Path() / "b.yaml";
  testing::WriteFile(a, testing::EventHubYaml("storm-events"));
  // Same target spelt in another case (ARM names compare case-insensitively), second document.
  std::string dup = testing::EventHubYaml("storm-events");
  dup.replace(dup.find("cluster: mykustocluster"), 23, "cluster: MyKustoCluster");
  testing::WriteFile(b, testing::EventHubYaml("other", "telemetry") + "---\n" + dup);

  DirectoryLoadResult r = LoadDirectory(dir.Str(), LoadOptions{}, ScanOptions{});
  ASSERT_THAT(r.files, SizeIs(2));
  EXPECT_THAT(r.files[0].errors, IsEmpty());
  EXPECT_THAT(r.files[0].manifests, IsEmpty());
  ASSERT_THAT(r.files[1].manifests, SizeIs(1));
  EXPECT_EQ(r.files[1].manifests[0].spec.id.name, "other");
  ASSERT_THAT(r.errors, SizeIs(2)) << AllErrors(r.errors);
  EXPECT_EQ(r.errors[0].file, a.string());
  EXPECT_EQ(r.errors[0].line, 1);
  EXPECT_EQ(r.errors[0].field, "spec.target");
  EXPECT_THAT(r.errors[0].message, HasSubstr("also defined at " + b.string() + ":22"));
  EXPECT_EQ(r.errors[1].file, b.string());
  EXPECT_EQ(r.errors[1].line, 22);
  EXPECT_THAT(r.errors[1].message, HasSubstr("also defined at " + a.string() + ":1"));
  // Both files report the key, so the caller keeps its last good state instead of deleting it.
  ASSERT_THAT(r.files[0].rejected_keys, SizeIs(1));
  EXPECT_EQ(r.files[0].rejected_keys, r.files[1].rejected_keys);
}

TEST(LoadDirectoryTest, DuplicateTargetWithinAFileRejectsAll) {
  testing::ScopedTempDir dir;
  std::string three;
  for (const char* n : {"x-one", "x-two", "x-three"}) {
    std::string doc = testing::EventHubYaml(n);
    doc.replace(doc.find("    database: mykustodatabase\n"), 0, "    name: same\n");
    three += (three.empty() ? "" : "---\n") + doc;
  }
  testing::WriteFile(dir.Path() / "a.yaml", three + "---\n" + testing::EventHubYaml("unique"));
  DirectoryLoadResult r = LoadDirectory(dir.Str(), LoadOptions{}, ScanOptions{});
  ASSERT_THAT(r.files, SizeIs(1));
  ASSERT_THAT(r.files[0].manifests, SizeIs(1)) << AllErrors(r.files[0].errors);
  EXPECT_EQ(r.files[0].manifests[0].spec.id.name, "unique");
  ASSERT_THAT(r.errors, SizeIs(3)) << AllErrors(r.errors);
  const std::string f = (dir.Path() / "a.yaml").string();
  EXPECT_THAT(r.errors[0].message, HasSubstr("also defined at " + f + ":23, " + f + ":45"));
  EXPECT_THAT(r.errors[2].message, HasSubstr("also defined at " + f + ":1, " + f + ":23"));
}

TEST(LoadDirectoryTest, ParseFailureIsReportedPerFile) {
  testing::ScopedTempDir dir;
  testing::WriteFile(dir.Path() / "bad.yaml", "a: [\n");
  testing::WriteFile(dir.Path() / "good.yaml", testing::EventHubYaml());
  DirectoryLoadResult r = LoadDirectory(dir.Str(), LoadOptions{}, ScanOptions{});
  ASSERT_THAT(r.files, SizeIs(2));
  EXPECT_TRUE(r.files[0].parse_failed);
  EXPECT_FALSE(r.files[1].parse_failed);
  EXPECT_THAT(r.files[1].manifests, SizeIs(1));
  EXPECT_THAT(r.errors, IsEmpty());
}

}  // namespace
}  // namespace kustodian
