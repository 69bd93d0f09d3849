// Whole-file replacement: streamed pieces land exactly, and a write that is not committed (or
// fails) leaves the target as it was and no temporary file behind.
#include "controller/atomic_file.h"

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using testing_util::ReadText;
using testing_util::ScopedDir;

TEST(AtomicFileWriterTest, SmallAndLargePiecesLandInOrder) {
  ScopedDir dir;
  const std::string path = dir.path() + "/out.json";
  std::string expected;
  AtomicFileWriter writer(path);
  ASSERT_TRUE(writer.Open().ok());
  for (int i = 0; i < 3000; ++i) {
    // Pieces of 1 byte to 200 KiB, crossing the 64 KiB buffer both ways.
    const size_t len = (i % 500 == 0) ? 200 * 1024 : static_cast<size_t>(i % 97 + 1);
    std::string piece(len, static_cast<char>('a' + i % 26));
    expected += piece;
    writer.Append(piece);
  }
  EXPECT_FALSE(std::filesystem::exists(path)) << "visible before Commit";
  ASSERT_TRUE(writer.Commit(/*durable=*/true).ok());
  EXPECT_EQ(writer.size(), expected.size());
  EXPECT_EQ(ReadText(path), expected);
  EXPECT_EQ(dir.Names().size(), 1u) << "a temporary file was left behind";
}

TEST(AtomicFileWriterTest, WithoutCommitTheTargetStaysAndTheTemporaryGoes) {
  ScopedDir dir;
  const std::string path = dir.path() + "/out.json";
  ASSERT_TRUE(WriteFileAtomically(path, "old", /*durable=*/false).ok());
  {
    AtomicFileWriter writer(path);
    ASSERT_TRUE(writer.Open().ok());
    writer.Append(std::string(100 * 1024, 'x'));
  }
  EXPECT_EQ(ReadText(path), "old");
  EXPECT_EQ(dir.Names().size(), 1u);
}

TEST(AtomicFileWriterTest, AFailedRenameNamesThePathsAndCleansUp) {
  ScopedDir dir;
  const std::string path = dir.path() + "/taken";
  std::filesystem::create_directories(path + "/inside");  // a non-empty directory: no rename
  AtomicFileWriter writer(path);
  ASSERT_TRUE(writer.Open().ok());
  writer.Append("text");
  absl::Status status = writer.Commit(/*durable=*/true);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(status.message().find("rename"), std::string_view::npos) << status;
  EXPECT_NE(status.message().find(path), std::string_view::npos) << status;
  EXPECT_EQ(dir.Names().size(), 1u) << "a temporary file was left behind";
}

TEST(AtomicFileWriterTest, OpenFailsInAMissingDirectory) {
  ScopedDir dir;
  AtomicFileWriter writer(dir.path() + "/missing/out.json");
  absl::Status status = writer.Open();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(status.message().find("create"), std::string_view::npos) << status;
  writer.Append("ignored");
  EXPECT_FALSE(writer.Commit(/*durable=*/false).ok());
}

}  // namespace
}  // namespace kustodian
