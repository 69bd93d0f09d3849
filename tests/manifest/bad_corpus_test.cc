// The bad-manifest corpus (tests/data/bad/, written by its generate.py): every file must fail to
// load with an error that names the file and the field, and says what is wrong; nothing in it may
// load. Inputs too big or too odd to commit (a 10 MB file, symlink loops) are made here.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/manifest/directory.h"
#include "src/manifest/manifest.h"
#include "tests/manifest/manifest_test_util.h"

namespace kustodian {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(KUSTODIAN_SOURCE_DIR) / "tests/data/bad";

struct Expectation {
  std::string field;    // "-" = a whole-file error
  std::string message;  // substring of the error message; "" = any
};

// Reads "expect-field:" / "expect-message:" from the file's header comments or its .expect
// sidecar (for files whose first bytes must be something else).
Expectation ReadExpectation(const fs::path& file) {
  fs::path source = file;
  fs::path sidecar = file;
  sidecar.replace_extension(".expect");
  if (fs::exists(sidecar)) source = sidecar;
  std::ifstream in(source, std::ios::binary);
  Expectation e;
  std::string line;
  for (int i = 0; i < 2 && std::getline(in, line); ++i) {
    auto value = [&](std::string_view prefix) -> std::optional<std::string> {
      const size_t at = line.find(prefix);
      if (at == std::string::npos) return std::nullopt;
      return std::string(absl::StripAsciiWhitespace(line.substr(at + prefix.size())));
    };
    if (auto v = value("expect-field:")) e.field = *v;
    if (auto v = value("expect-message:")) e.message = *v;
  }
  return e;
}

std::vector<fs::path> CorpusFiles() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kCorpus)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Describe(const FileLoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) absl::StrAppend(&out, "\n  ", e.ToString());
  return out;
}

TEST(BadCorpusTest, HasAtLeastTwoHundredFiles) { EXPECT_GE(CorpusFiles().size(), 200u); }

TEST(BadCorpusTest, EveryFileFailsWithAnErrorNamingFileAndField) {
  int checked = 0;
  for (const fs::path& file : CorpusFiles()) {
    SCOPED_TRACE(file.filename().string());
    const Expectation want = ReadExpectation(file);
    ASSERT_FALSE(want.field.empty()) << "no expect-field header";
    const FileLoadResult r = LoadManifestFile(file.string(), LoadOptions{});
    EXPECT_TRUE(r.manifests.empty()) << "a bad manifest loaded";
    EXPECT_FALSE(r.errors.empty()) << "no error reported";
    if (r.errors.empty()) continue;
    for (const ManifestError& e : r.errors) {
      EXPECT_EQ(e.file, file.string()) << e.ToString();
      EXPECT_GE(e.message.size(), 8u) << "message too terse: " << e.ToString();
      EXPECT_TRUE(absl::StartsWith(e.ToString(), file.string())) << e.ToString();
    }
    const bool found = std::any_of(r.errors.begin(), r.errors.end(), [&](const ManifestError& e) {
      const bool field_ok = want.field == "-" ? (e.line > 0 || r.parse_failed || !e.field.empty())
                                              : e.field == want.field;
      return field_ok &&
             (want.message.empty() || absl::StrContains(absl::AsciiStrToLower(e.message),
                                                        absl::AsciiStrToLower(want.message)));
    });
    EXPECT_TRUE(found) << "want field \"" << want.field << "\" message \"" << want.message
                       << "\"; got:" << Describe(r);
    ++checked;
  }
  EXPECT_GE(checked, 200);
}

// A good manifest next to every bad one: the bad file never stops the good one loading.
TEST(BadCorpusTest, WholeCorpusDirectoryStillLoadsTheGoodManifest) {
  testing::ScopedTempDir dir;
  for (const fs::path& file : CorpusFiles()) {
    fs::copy_file(file, dir.Path() / file.filename());
  }
  testing::WriteFile(dir.Path() / "zzz-good.yaml", testing::EventHubYaml("good-one"));
  const DirectoryLoadResult r = LoadDirectory(dir.Str(), LoadOptions{}, ScanOptions{});
  int loaded = 0;
  int failed_files = 0;
  for (const FileLoadResult& f : r.files) {
    loaded += static_cast<int>(f.manifests.size());
    if (!f.errors.empty()) ++failed_files;
  }
  EXPECT_EQ(loaded, 1);
  EXPECT_EQ(failed_files, static_cast<int>(CorpusFiles().size()));
}

TEST(BadCorpusTest, DuplicateTargetsAcrossFilesAreErrorsOnBothSides) {
  const DirectoryLoadResult r =
      LoadDirectory((kCorpus / "duplicates").string(), LoadOptions{}, ScanOptions{});
  ASSERT_EQ(r.files.size(), 10u);
  for (const FileLoadResult& f : r.files) {
    SCOPED_TRACE(f.file);
    EXPECT_TRUE(f.manifests.empty());
    EXPECT_EQ(f.rejected_keys.size(), 1u);
  }
  ASSERT_EQ(r.errors.size(), 10u);
  for (const ManifestError& e : r.errors) {
    EXPECT_THAT(e.message, ::testing::HasSubstr("pair"));  // names the other file
    EXPECT_FALSE(e.field.empty()) << e.ToString();
  }
}

TEST(BadCorpusTest, TenMegabyteFileIsRefusedBeforeParsing) {
  testing::ScopedTempDir dir;
  const fs::path big = dir.Path() / "big.yaml";
  std::string text = testing::EventHubYaml();
  text += "status:\n  padding: \"";
  text.append(10 << 20, 'x');
  text += "\"\n";
  testing::WriteFile(big, text);
  const FileLoadResult r = LoadManifestFile(big.string(), LoadOptions{});
  EXPECT_TRUE(r.parse_failed);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, big.string());
  EXPECT_THAT(r.errors[0].message, ::testing::HasSubstr("larger than the limit"));
}

TEST(BadCorpusTest, SymlinkLoopsInTheConfigDirectoryAreReportedAndTheRestLoads) {
  testing::ScopedTempDir dir;
  testing::WriteFile(dir.Path() / "a/good.yaml", testing::EventHubYaml("good-a"));
  fs::create_directory_symlink("..", dir.Path() / "a/up");                // back to the root
  fs::create_directory_symlink(dir.Path() / "a", dir.Path() / "a/self");  // to itself
  fs::create_symlink("loop2.yaml", dir.Path() / "loop1.yaml");            // file link cycle
  fs::create_symlink("loop1.yaml", dir.Path() / "loop2.yaml");
  const DirectoryLoadResult r = LoadDirectory(dir.Str(), LoadOptions{}, ScanOptions{});
  int loaded = 0;
  for (const FileLoadResult& f : r.files) loaded += static_cast<int>(f.manifests.size());
  EXPECT_EQ(loaded, 1);
  std::string all;
  for (const ManifestError& e : r.errors) absl::StrAppend(&all, e.ToString(), "\n");
  for (const FileLoadResult& f : r.files) {
    for (const ManifestError& e : f.errors) absl::StrAppend(&all, e.ToString(), "\n");
  }
  EXPECT_THAT(all, ::testing::HasSubstr("loop"));
}

}  // namespace
}  // namespace kustodian
