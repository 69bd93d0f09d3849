// Helpers shared by the manifest tests: a unique temporary directory removed at the end of the
// test, file writing, and a valid EventHub manifest to start from.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "src/manifest/manifest.h"

namespace kustodian {
// Readable gtest output for errors.
inline void PrintTo(const ManifestError& e, std::ostream* os) { *os << e.ToString(); }
}  // namespace kustodian

namespace kustodian::testing {

class ScopedTempDir {
 public:
  ScopedTempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("kus_manifest_" + std::string(info ? info->name() : "x") + "_" +
             std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScopedTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::filesystem::path& Path() const { return path_; }
  std::string Str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Every error of a load, one per line (for failure messages).
inline std::string ErrorsOf(const FileLoadResult& r) {
  std::string out;
  for (const ManifestError& e : r.errors) {
    out += e.ToString() + "\n";
  }
  return out;
}

// Replaces the first occurrence of `from` in `text` with `to` (the test fails if absent).
inline std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) {
    text.replace(at, from.size(), to);
  }
  return text;
}

inline void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

inline constexpr const char* kHubId =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/testrg/providers/"
    "Microsoft.EventHub/namespaces/ns/eventhubs/storm";

// A valid EventHub DataConnection whose metadata.name and target database can be chosen.
// Line numbers (1-based): apiVersion 1, metadata 3, name 4, spec 6, target 7, cluster 10,
// database 11, location 12, kind 13, properties 14, eventHubResourceId 15, consumerGroup 16,
// tableName 17, dataFormat 18, policy 19, deletion 20.
inline std::string EventHubYaml(const std::string& name = "storm-events",
                                const std::string& database = "mykustodatabase") {
  return "apiVersion: kustodian.io/v1alpha1\n"
         "kind: DataConnection\n"
         "metadata:\n"
         "  name: " +
         name +
         "\n"
         "  namespace: adx\n"
         "spec:\n"
         "  target:\n"
         "    subscriptionId: 00000000-0000-0000-0000-000000000001\n"
         "    resourceGroup: testrg\n"
         "    cluster: mykustocluster\n"
         "    database: " +
         database +
         "\n"
         "  location: eastus2\n"
         "  kind: EventHub\n"
         "  properties:\n"
         "    eventHubResourceId: " +
         std::string(kHubId) +
         "\n"
         "    consumerGroup: $Default\n"
         "    tableName: StormEvents\n"
         "    dataFormat: CSV\n"
         "  policy:\n"
         "    deletion: Delete\n";
}

}  // namespace kustodian::testing
