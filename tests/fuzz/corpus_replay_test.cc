// Replays every committed fuzz corpus file (tests/fuzz/corpus/<harness>/) through its harness
// with g++ and no libFuzzer, so inputs that once crashed stay fixed under `make test` (and under
// the sanitizers in `make test-asan`).
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/fuzz/fuzz_entry.h"

namespace kustodian::fuzz {
namespace {

using Harness = int (*)(const uint8_t*, size_t);

std::vector<std::filesystem::path> CorpusFiles(const std::string& harness) {
  std::filesystem::path dir =
      std::filesystem::path(KUSTODIAN_SOURCE_DIR) / "tests/fuzz/corpus" / harness;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void Replay(const std::string& harness, Harness fn, size_t min_files) {
  std::vector<std::filesystem::path> files = CorpusFiles(harness);
  ASSERT_GE(files.size(), min_files) << "corpus of " << harness << " is missing or too small";
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << "cannot read " << path;
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(fn(reinterpret_cast<const uint8_t*>(data.data()), data.size()), 0);
  }
}

TEST(FuzzCorpusReplay, Manifest) { Replay("manifest", &FuzzManifest, 10); }
TEST(FuzzCorpusReplay, ArmCodec) { Replay("arm_codec", &FuzzArmCodec, 10); }
TEST(FuzzCorpusReplay, EventGrid) { Replay("eventgrid", &FuzzEventGrid, 10); }
TEST(FuzzCorpusReplay, Watch) { Replay("watch", &FuzzWatch, 10); }

}  // namespace
}  // namespace kustodian::fuzz
