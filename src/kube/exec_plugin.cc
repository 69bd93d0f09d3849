#include "src/kube/exec_plugin.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace kustodian::kube {
namespace {

constexpr size_t kMaxOutput = size_t{4} << 20;

// Closes its descriptors on scope exit.
struct Pipe {
  int fds[2] = {-1, -1};
  ~Pipe() {
    for (int fd : fds) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }
  void CloseWrite() {
    ::close(fds[1]);
    fds[1] = -1;
  }
};

std::vector<std::string> BuildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq != std::string::npos) {
      vars[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
  }
  for (const auto& [name, value] : extra) {
    vars[name] = value;
  }
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [name, value] : vars) {
    out.push_back(absl::StrCat(name, "=", value));
  }
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

}  // namespace

absl::StatusOr<ProcessResult> RunProcess(
    const std::string& command, const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& extra_env, absl::Duration timeout) {
  Pipe out_pipe;
  Pipe err_pipe;
  if (::pipe2(out_pipe.fds, O_CLOEXEC) != 0 || ::pipe2(err_pipe.fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe.fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe.fds[1], 2);

  std::vector<std::string> argv_strings;
  argv_strings.push_back(command);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = BuildEnvironment(extra_env);
  std::vector<char*> argv = Pointers(argv_strings);
  std::vector<char*> envp = Pointers(env_strings);

  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::NotFoundError(absl::StrCat("cannot run \"", command, "\": ", std::strerror(rc)));
  }
  out_pipe.CloseWrite();
  err_pipe.CloseWrite();

  ProcessResult result;
  const absl::Time deadline = absl::Now() + timeout;
  std::array<pollfd, 2> fds = {pollfd{out_pipe.fds[0], POLLIN, 0},
                               pollfd{err_pipe.fds[0], POLLIN, 0}};
  std::array<std::string*, 2> sinks = {&result.out, &result.err};
  absl::Status failure;
  int open_fds = 2;
  while (open_fds > 0 && failure.ok()) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      failure = absl::DeadlineExceededError(
          absl::StrCat("\"", command, "\" did not finish within ", absl::FormatDuration(timeout)));
      break;
    }
    int n = ::poll(fds.data(), fds.size(),
                   static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1000)));
    if (n < 0 && errno != EINTR) {
      failure = absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
      break;
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      char buf[8192];
      ssize_t got = ::read(fds[i].fd, buf, sizeof(buf));
      if (got > 0) {
        if (sinks[i]->size() + static_cast<size_t>(got) > kMaxOutput) {
          failure = absl::ResourceExhaustedError(
              absl::StrCat("\"", command, "\" wrote more than ", kMaxOutput, " bytes"));
          break;
        }
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int wstatus = 0;
  if (failure.ok()) {
    // Both pipes closed; the process should exit now, but still within the deadline.
    for (;;) {
      pid_t done = ::waitpid(pid, &wstatus, WNOHANG);
      if (done == pid || (done < 0 && errno != EINTR)) {
        break;
      }
      if (absl::Now() >= deadline) {
        failure = absl::DeadlineExceededError(absl::StrCat(
            "\"", command, "\" did not finish within ", absl::FormatDuration(timeout)));
        break;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  if (!failure.ok()) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
  }
  if (!failure.ok()) {
    return failure;
  }
  if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.exit_code = 128 + WTERMSIG(wstatus);
  }
  return result;
}

}  // namespace kustodian::kube
