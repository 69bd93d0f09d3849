// Runs a short-lived helper process (an exec credential plugin) and captures its output:
// stdin is /dev/null, stdout and stderr are captured (each bounded), the environment is ours
// plus the given variables, and a deadline kills a plugin that hangs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kustodian::kube {

struct ProcessResult {
  int exit_code = 0;  // the exit status, or 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs `command` (searched in PATH when it has no '/') with `args`. NotFound when it cannot be
// started, DeadlineExceeded (after killing it) when it runs longer than `timeout`,
// ResourceExhausted when it writes more than 4 MiB to stdout or stderr.
absl::StatusOr<ProcessResult> RunProcess(
    const std::string& command, const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& extra_env, absl::Duration timeout);

}  // namespace kustodian::kube
