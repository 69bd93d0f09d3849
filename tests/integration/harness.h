// Test harness for integration tests: runs the real `kustodian` and `kustodian-emulator`
// binaries as child processes on loopback, waits on conditions with deadlines, and talks to
// them over real HTTP.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/http/http.h"

namespace kustodian::testing {

// Path of a built binary ("kustodian", "kustodian-emulator").
std::string BinaryPath(const std::string& name);
// The repository root and the shared/ folder beside it.
std::string SourceDir();

// A fresh empty directory under the test temp dir; removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `content` to path()/relative (creating parent dirs); returns the full path.
  std::string WriteFile(const std::string& relative, const std::string& content) const;

 private:
  std::string path_;
};

// A child process whose stdout and stderr go to a log file. Killed (SIGKILL) on destruction
// if still running, and by the kernel when the thread that started it exits (PR_SET_PDEATHSIG),
// so a crashed test binary leaves no orphans: start children from the test's main thread.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::string log_path,
               std::map<std::string, std::string> extra_env = {});
  ~ChildProcess();
  // Starts the process. Internal error when fork/exec fails.
  absl::Status Start();
  // Sends `sig`; no-op when not running.
  void Signal(int sig);
  // Waits up to `timeout` for exit; returns the exit status (as from waitpid) or nullopt.
  std::optional<int> Wait(absl::Duration timeout);
  bool Running();
  pid_t pid() const { return pid_; }
  // The log file's whole content so far.
  std::string Log() const;

 private:
  std::vector<std::string> argv_;
  std::string log_path_;
  std::map<std::string, std::string> extra_env_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// Polls `condition` every 20 ms until it returns true or `timeout` passes.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout);

// Reads an integer port written by a process to `port_file`, waiting up to `timeout`.
absl::StatusOr<int> WaitForPortFile(const std::string& port_file, absl::Duration timeout);

// A running emulator.
struct Emulator {
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  std::string base_url;  // http://127.0.0.1:PORT
};
// Starts kustodian-emulator with `world_yaml` (written to dir) and extra flags.
absl::StatusOr<Emulator> StartEmulator(const TempDir& dir, const std::string& world_yaml,
                                       const std::vector<std::string>& extra_args = {});

// Simple HTTP helpers over the real transport.
class HttpHelper {
 public:
  HttpHelper();
  absl::StatusOr<HttpResponse> Request(const std::string& method, const std::string& url,
                                       const std::string& body = "",
                                       const HttpHeaders& headers = {});
  // GET returning parsed JSON; error unless 200.
  absl::StatusOr<nlohmann::json> GetJson(const std::string& url);

 private:
  std::unique_ptr<HttpTransport> transport_;
};

}  // namespace kustodian::testing
