// DirWatcher against a real temporary directory: inotify events are real, time is a FakeClock,
// so the debounce and the periodic rescan fire exactly when the test advances the clock.
#include "controller/dir_watcher.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

namespace fs = std::filesystem;

// Waits (real time, bounded) until `pred` holds. Returns whether it did.
bool WaitUntil(const std::function<bool()>& pred,
               std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

class DirWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "dirwatch-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    watcher_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void StartWatcher(const fs::path& root, absl::Duration rescan = absl::ZeroDuration()) {
    DirWatcherOptions options;
    options.debounce = absl::Milliseconds(200);
    options.max_delay = absl::Seconds(5);
    options.rescan_interval = rescan;
    options.max_poll_wait = absl::Milliseconds(2);
    watcher_ = std::make_unique<DirWatcher>(root.string(), options, clock_, Logger::Null(),
                                            [this](ChangeReason reason) {
                                              std::lock_guard<std::mutex> lock(mu_);
                                              reasons_.push_back(reason);
                                            });
    ASSERT_TRUE(watcher_->Start().ok());
  }

  size_t Callbacks() {
    std::lock_guard<std::mutex> lock(mu_);
    return reasons_.size();
  }
  ChangeReason LastReason() {
    std::lock_guard<std::mutex> lock(mu_);
    return reasons_.back();
  }

  // Advances past the debounce and waits for callback number `n`.
  bool SettleTo(size_t n) {
    clock_.Advance(absl::Milliseconds(250));
    return WaitUntil([&] { return Callbacks() >= n; });
  }

  // Keeps advancing the clock past the debounce until callback number `n` arrives: for changes
  // whose events the test cannot count exactly (directory trees, renames, rebuilds).
  bool AdvanceUntil(size_t n) {
    for (int i = 0; i < 200; ++i) {
      clock_.Advance(absl::Milliseconds(250));
      if (WaitUntil([&] { return Callbacks() >= n; }, std::chrono::milliseconds(50))) {
        return true;
      }
    }
    return false;
  }

  fs::path dir_;
  FakeClock clock_;
  std::unique_ptr<DirWatcher> watcher_;
  std::mutex mu_;
  std::vector<ChangeReason> reasons_;  // guarded by mu_
};

TEST_F(DirWatcherTest, WriteTriggersOneDebouncedCallback) {
  StartWatcher(dir_);
  WriteFile(dir_ / "a.yaml", "kind: DataConnection\n");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= 2; }));  // create + close
  EXPECT_EQ(Callbacks(), 0u) << "fired before the quiet period elapsed";

  ASSERT_TRUE(SettleTo(1));
  EXPECT_EQ(LastReason(), ChangeReason::kEvents);
  // Nothing else happened, so more time brings no second callback.
  clock_.Advance(absl::Seconds(10));
  uint64_t seen = watcher_->events_seen();
  WriteFile(dir_ / "b.yaml", "x");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= seen + 2; }));
  EXPECT_EQ(Callbacks(), 1u);
  ASSERT_TRUE(SettleTo(2));
}

TEST_F(DirWatcherTest, BurstOfWritesCollapsesIntoOneCallback) {
  StartWatcher(dir_);
  for (int i = 0; i < 5; ++i) {
    WriteFile(dir_ / ("f" + std::to_string(i) + ".yaml"), "x");
    clock_.Advance(absl::Milliseconds(50));  // each write within the quiet period of the last
  }
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= 10; }));
  ASSERT_TRUE(SettleTo(1));
  clock_.Advance(absl::Seconds(1));
  // A further change proves the thread is alive and counting from one.
  uint64_t seen = watcher_->events_seen();
  WriteFile(dir_ / "late.yaml", "x");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= seen + 2; }));
  ASSERT_TRUE(SettleTo(2));
  EXPECT_EQ(Callbacks(), 2u);
}

TEST_F(DirWatcherTest, NewSubdirectoryIsWatched) {
  StartWatcher(dir_);
  EXPECT_EQ(watcher_->watched_dirs(), 1u);
  fs::create_directories(dir_ / "team-a");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->watched_dirs() == 2; }));
  ASSERT_TRUE(AdvanceUntil(1));
  const size_t before = Callbacks();
  uint64_t seen = watcher_->events_seen();
  WriteFile(dir_ / "team-a" / "conn.yaml", "x");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= seen + 2; }));
  ASSERT_TRUE(AdvanceUntil(before + 1));
  EXPECT_EQ(LastReason(), ChangeReason::kEvents);
}

TEST_F(DirWatcherTest, ConfigMapDataSymlinkSwapIsSeen) {
  // The layout the kubelet writes for a mounted ConfigMap.
  fs::create_directories(dir_ / "..2026_01_01_v1");
  WriteFile(dir_ / "..2026_01_01_v1" / "conn.yaml", "v1");
  fs::create_directory_symlink("..2026_01_01_v1", dir_ / "..data");
  fs::create_symlink("..data/conn.yaml", dir_ / "conn.yaml");
  StartWatcher(dir_);

  fs::create_directories(dir_ / "..2026_01_02_v2");
  WriteFile(dir_ / "..2026_01_02_v2" / "conn.yaml", "v2");
  fs::create_directory_symlink("..2026_01_02_v2", dir_ / "..data_tmp");
  fs::rename(dir_ / "..data_tmp", dir_ / "..data");
  fs::remove_all(dir_ / "..2026_01_01_v1");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->watched_dirs() == 2; }));
  ASSERT_TRUE(AdvanceUntil(1));
  EXPECT_EQ(Callbacks(), 1u);
  EXPECT_EQ(LastReason(), ChangeReason::kEvents);
}

TEST_F(DirWatcherTest, PeriodicRescanFiresOnTheClock) {
  StartWatcher(dir_, absl::Seconds(60));
  clock_.Advance(absl::Seconds(30));
  clock_.Advance(absl::Seconds(31));
  ASSERT_TRUE(WaitUntil([&] { return Callbacks() >= 1; }));
  EXPECT_EQ(LastReason(), ChangeReason::kPeriodic);
  clock_.Advance(absl::Seconds(61));
  ASSERT_TRUE(WaitUntil([&] { return Callbacks() >= 2; }));
  EXPECT_EQ(LastReason(), ChangeReason::kPeriodic);
}

TEST_F(DirWatcherTest, RepointedRootSymlinkRebuildsWatches) {
  fs::create_directories(dir_ / "rev1");
  fs::create_directories(dir_ / "rev2" / "sub");
  fs::create_directory_symlink("rev1", dir_ / "current");
  StartWatcher(dir_ / "current");
  EXPECT_EQ(watcher_->watched_dirs(), 1u);

  fs::create_directory_symlink("rev2", dir_ / "current.tmp");
  fs::rename(dir_ / "current.tmp", dir_ / "current");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->watched_dirs() == 2; }));  // rev2 + rev2/sub
  ASSERT_TRUE(AdvanceUntil(1));
  EXPECT_EQ(LastReason(), ChangeReason::kOverflow);
  const size_t before = Callbacks();
  uint64_t seen = watcher_->events_seen();
  WriteFile(dir_ / "rev2" / "sub" / "x.yaml", "x");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= seen + 2; }));
  ASSERT_TRUE(AdvanceUntil(before + 1));
}

TEST_F(DirWatcherTest, StartFailsOnMissingRootAndStopIsIdempotent) {
  DirWatcher watcher((dir_ / "missing").string(), {}, clock_, Logger::Null(), [](ChangeReason) {});
  EXPECT_EQ(watcher.Start().code(), absl::StatusCode::kNotFound);
  watcher.Stop();
  StartWatcher(dir_);
  watcher_->Stop();
  watcher_->Stop();
  WriteFile(dir_ / "after-stop.yaml", "x");
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Callbacks(), 0u);
}

}  // namespace
}  // namespace kustodian
