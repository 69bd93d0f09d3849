// DirWatcher against a real temporary directory: inotify events are real, time is a FakeClock,
// so the debounce, the settle window and the periodic rescan fire exactly when the test advances
// the clock.
#include "controller/dir_watcher.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
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

  // `with_files`: a files callback is given (it records the files and answers `take_files_`).
  void StartWatcher(const fs::path& root, absl::Duration rescan = absl::ZeroDuration(),
                    bool with_files = false, absl::Duration debounce = absl::Milliseconds(200)) {
    DirWatcherOptions options;
    options.debounce = debounce;
    options.max_delay = std::max(absl::Seconds(5), debounce * 2);
    options.settle = absl::Milliseconds(2);
    options.max_settle = absl::Milliseconds(20);
    options.rescan_interval = rescan;
    options.max_poll_wait = absl::Milliseconds(2);
    options.classify = [](const std::string& path) {
      return absl::EndsWith(path, ".yaml") ? PathKind::kFile : PathKind::kIgnore;
    };
    DirWatcher::FilesCallback on_files;
    if (with_files) {
      on_files = [this](const std::vector<std::string>& files) {
        std::lock_guard<std::mutex> lock(mu_);
        file_calls_.push_back(files);
        return take_files_;
      };
    }
    watcher_ = std::make_unique<DirWatcher>(
        root.string(), options, clock_, Logger::Null(),
        [this](ChangeReason reason) {
          std::lock_guard<std::mutex> lock(mu_);
          reasons_.push_back(reason);
        },
        on_files);
    ASSERT_TRUE(watcher_->Start().ok());
  }

  size_t FileCalls() {
    std::lock_guard<std::mutex> lock(mu_);
    return file_calls_.size();
  }
  std::vector<std::string> LastFiles() {
    std::lock_guard<std::mutex> lock(mu_);
    return file_calls_.back();
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
  std::vector<ChangeReason> reasons_;                 // guarded by mu_
  std::vector<std::vector<std::string>> file_calls_;  // guarded by mu_
  bool take_files_ = true;                            // guarded by mu_
};

TEST_F(DirWatcherTest, ClosedWriteIsReportedWithoutTheDebounce) {
  StartWatcher(dir_, absl::ZeroDuration(), /*with_files=*/true, /*debounce=*/absl::Seconds(5));
  WriteFile(dir_ / "a.yaml", "kind: DataConnection\n");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= 3; }));  // create, modify, close
  EXPECT_EQ(FileCalls(), 0u) << "fired before the settle window";
  clock_.Advance(absl::Milliseconds(2));  // the settle window, far under the 5 s debounce
  ASSERT_TRUE(WaitUntil([&] { return FileCalls() >= 1; }));
  EXPECT_EQ(LastFiles(), std::vector<std::string>{(dir_ / "a.yaml").string()});
  // The file was closed: no full rescan follows, however long the wait.
  clock_.Advance(absl::Seconds(10));
  uint64_t seen = watcher_->events_seen();
  WriteFile(dir_ / "b.yaml", "x");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= seen + 3; }));
  clock_.Advance(absl::Milliseconds(2));
  ASSERT_TRUE(WaitUntil([&] { return FileCalls() >= 2; }));
  EXPECT_EQ(Callbacks(), 0u);
  EXPECT_EQ(FileCalls(), 2u);
}

TEST_F(DirWatcherTest, FileStillBeingWrittenWaitsForTheDebounce) {
  StartWatcher(dir_, absl::ZeroDuration(), /*with_files=*/true, /*debounce=*/absl::Seconds(5));
  uint64_t seen = 0;
  {
    std::ofstream out(dir_ / "a.yaml");
    out << "kind: Data" << std::flush;                                     // written, not closed
    ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= 2; }));  // create, modify
    clock_.Advance(absl::Seconds(4));
    // Give the thread time to act wrongly on the advanced clock (it polls every 2 ms).
    EXPECT_FALSE(
        WaitUntil([&] { return Callbacks() + FileCalls() > 0; }, std::chrono::milliseconds(100)));
    clock_.Advance(absl::Milliseconds(1100));  // past the 5 s quiet period
    ASSERT_TRUE(WaitUntil([&] { return Callbacks() >= 1; }));
    EXPECT_EQ(LastReason(), ChangeReason::kEvents);
    EXPECT_EQ(FileCalls(), 0u);
    seen = watcher_->events_seen();
    out << "Connection\n" << std::flush;
    ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= seen + 1; }));
    // Closed now: reported at once, and the debounce of the modification is off.
  }
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= seen + 2; }));  // + close
  clock_.Advance(absl::Milliseconds(2));
  ASSERT_TRUE(WaitUntil([&] { return FileCalls() >= 1; }));
  EXPECT_EQ(LastFiles(), std::vector<std::string>{(dir_ / "a.yaml").string()});
  clock_.Advance(absl::Seconds(6));
  EXPECT_FALSE(WaitUntil([&] { return Callbacks() > 1; }, std::chrono::milliseconds(100)));
}

TEST_F(DirWatcherTest, RenameIntoTheDirectoryIsReportedAtOnce) {
  const fs::path outside = dir_.string() + "-outside";
  fs::create_directories(outside);
  fs::create_directories(dir_ / "watched");
  StartWatcher(dir_ / "watched", absl::ZeroDuration(), /*with_files=*/true,
               /*debounce=*/absl::Seconds(5));
  WriteFile(outside / "a.yaml", "x");
  fs::rename(outside / "a.yaml", dir_ / "watched" / "a.yaml");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= 1; }));
  clock_.Advance(absl::Milliseconds(2));
  ASSERT_TRUE(WaitUntil([&] { return FileCalls() >= 1; }));
  EXPECT_EQ(LastFiles(), std::vector<std::string>{(dir_ / "watched" / "a.yaml").string()});

  // An atomic replace (write a temporary name, rename over the file): one files call, and the
  // temporary file's events (ignored by the classifier) bring no rescan.
  uint64_t seen = watcher_->events_seen();
  WriteFile(dir_ / "watched" / "a.yaml.tmp", "y");
  fs::rename(dir_ / "watched" / "a.yaml.tmp", dir_ / "watched" / "a.yaml");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= seen + 5; }));
  clock_.Advance(absl::Milliseconds(2));
  ASSERT_TRUE(WaitUntil([&] { return FileCalls() >= 2; }));
  EXPECT_EQ(LastFiles(), std::vector<std::string>{(dir_ / "watched" / "a.yaml").string()});
  clock_.Advance(absl::Seconds(6));
  EXPECT_FALSE(WaitUntil([&] { return Callbacks() > 0; }, std::chrono::milliseconds(100)));

  // A symlink is complete once created (no close follows its creation).
  seen = watcher_->events_seen();
  fs::create_symlink("a.yaml", dir_ / "watched" / "b.yaml");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= seen + 1; }));
  clock_.Advance(absl::Milliseconds(2));
  ASSERT_TRUE(WaitUntil([&] { return FileCalls() >= 3; }));
  EXPECT_EQ(LastFiles(), std::vector<std::string>{(dir_ / "watched" / "b.yaml").string()});
  fs::remove_all(outside);
}

TEST_F(DirWatcherTest, RemovalsAndRefusedFilesWaitForTheDebounce) {
  WriteFile(dir_ / "a.yaml", "x");
  StartWatcher(dir_, absl::ZeroDuration(), /*with_files=*/true, /*debounce=*/absl::Seconds(5));
  fs::remove(dir_ / "a.yaml");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= 1; }));
  clock_.Advance(absl::Seconds(4));
  EXPECT_FALSE(
      WaitUntil([&] { return Callbacks() + FileCalls() > 0; }, std::chrono::milliseconds(100)));
  clock_.Advance(absl::Milliseconds(1100));
  ASSERT_TRUE(WaitUntil([&] { return Callbacks() >= 1; }));
  EXPECT_EQ(FileCalls(), 0u);

  // The owner refuses a completed file (its change removes something): a full rescan follows
  // after the debounce.
  {
    std::lock_guard<std::mutex> lock(mu_);
    take_files_ = false;
  }
  uint64_t seen = watcher_->events_seen();
  WriteFile(dir_ / "b.yaml", "x");
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= seen + 3; }));
  clock_.Advance(absl::Milliseconds(2));
  ASSERT_TRUE(WaitUntil([&] { return FileCalls() >= 1; }));
  EXPECT_EQ(Callbacks(), 1u);
  clock_.Advance(absl::Milliseconds(5100));
  ASSERT_TRUE(WaitUntil([&] { return Callbacks() >= 2; }));
}

TEST_F(DirWatcherTest, BurstOfWritesCollapsesIntoOneCallback) {
  StartWatcher(dir_, absl::ZeroDuration(), /*with_files=*/true);
  for (int i = 0; i < 5; ++i) {
    WriteFile(dir_ / ("f" + std::to_string(i) + ".yaml"), "x");
  }
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= 15; }));
  clock_.Advance(absl::Milliseconds(2));
  ASSERT_TRUE(WaitUntil([&] { return FileCalls() >= 1; }));
  EXPECT_EQ(LastFiles().size(), 5u);
  // Without a files callback, a burst of completed files is one full rescan after the settle
  // window.
  watcher_.reset();
  StartWatcher(dir_);
  for (int i = 0; i < 5; ++i) {
    WriteFile(dir_ / ("g" + std::to_string(i) + ".yaml"), "x");
  }
  ASSERT_TRUE(WaitUntil([&] { return watcher_->events_seen() >= 15; }));
  EXPECT_EQ(Callbacks(), 0u);
  clock_.Advance(absl::Milliseconds(2));
  ASSERT_TRUE(WaitUntil([&] { return Callbacks() >= 1; }));
  EXPECT_EQ(LastReason(), ChangeReason::kEvents);
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(WaitUntil([&] { return Callbacks() > 1; }, std::chrono::milliseconds(50)));
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
