// Tests of the integration harness itself: a test binary that dies leaves no child processes.
#include "tests/integration/harness.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace kustodian::testing {
namespace {

constexpr char kPidFileEnv[] = "KUSTODIAN_ORPHAN_PID_FILE";

// True while `pid` is a live (not zombie) process.
bool Alive(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (stat.empty()) {
    return false;
  }
  // pid (comm) STATE ...; comm may hold spaces, so look after the last ')'.
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z' &&
         stat[paren + 2] != 'X';
}

// Run only as a child of DiesWithTheTestProcess (it is skipped otherwise): starts a long sleep
// as a ChildProcess, writes its pid, then dies by SIGKILL, so no destructor runs, as in a crash.
TEST(HarnessChildProcess, DISABLED_HelperStartsChildThenDies) {
  const char* pid_file = std::getenv(kPidFileEnv);
  if (pid_file == nullptr) {
    GTEST_SKIP() << "only run by HarnessChildProcess.DiesWithTheTestProcess";
  }
  TempDir dir;
  ChildProcess sleeper({"/bin/sleep", "300"}, dir.path() + "/sleep.log");
  ASSERT_TRUE(sleeper.Start().ok());
  {
    std::ofstream out(absl::StrCat(pid_file, ".tmp"));
    out << sleeper.pid();
  }
  std::filesystem::rename(absl::StrCat(pid_file, ".tmp"), pid_file);
  raise(SIGKILL);
}

TEST(HarnessChildProcess, DiesWithTheTestProcess) {
  TempDir dir;
  const std::string pid_file = dir.path() + "/sleeper.pid";
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  ASSERT_FALSE(ec) << ec.message();
  ChildProcess helper({self, "--gtest_also_run_disabled_tests",
                       "--gtest_filter=HarnessChildProcess.DISABLED_HelperStartsChildThenDies"},
                      dir.path() + "/helper.log", {{kPidFileEnv, pid_file}});
  ASSERT_TRUE(helper.Start().ok());
  std::optional<int> status = helper.Wait(absl::Seconds(30));
  ASSERT_TRUE(status.has_value()) << helper.Log();
  ASSERT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << helper.Log();

  std::ifstream in(pid_file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  pid_t sleeper = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &sleeper) && sleeper > 0)
      << "the helper wrote no pid: " << helper.Log();
  const bool gone = WaitUntil([&] { return !Alive(sleeper); }, absl::Seconds(10));
  if (!gone) {
    kill(sleeper, SIGKILL);  // do not leave it behind either way
  }
  EXPECT_TRUE(gone) << "the child " << sleeper << " outlived the test process that started it";
}

}  // namespace
}  // namespace kustodian::testing
