#include "tests/integration/harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace kustodian::testing {
namespace fs = std::filesystem;

std::string BinaryPath(const std::string& name) {
  return absl::StrCat(KUSTODIAN_BINARY_DIR, "/", name);
}

std::string SourceDir() { return KUSTODIAN_SOURCE_DIR; }

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  const char* base = std::getenv("TEST_TMPDIR");
  fs::path root = base != nullptr ? fs::path(base) : fs::temp_directory_path();
  path_ = (root / absl::StrCat("kustodian-it-", getpid(), "-", counter++, "-",
                               absl::ToUnixNanos(absl::Now()) % 1000000))
              .string();
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::WriteFile(const std::string& relative, const std::string& content) const {
  fs::path p = fs::path(path_) / relative;
  fs::create_directories(p.parent_path());
  // Write then rename, so a watcher never sees a half-written file.
  fs::path tmp = p;
  tmp += ".tmp~";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
  }
  fs::rename(tmp, p);
  return p.string();
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::string log_path,
                           std::map<std::string, std::string> extra_env)
    : argv_(std::move(argv)), log_path_(std::move(log_path)), extra_env_(std::move(extra_env)) {}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && Running()) {
    kill(pid_, SIGKILL);
    Wait(absl::Seconds(10));
  }
}

absl::Status ChildProcess::Start() {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    if (extra_env_.count(key) == 0) {
      env_strings.push_back(entry);
    }
  }
  for (const auto& [k, v] : extra_env_) {
    env_strings.push_back(absl::StrCat(k, "=", v));
  }
  std::vector<char*> args;
  for (std::string& a : argv_) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& e : env_strings) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open log ", log_path_));
  }
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    // Die with the test process: a test binary that crashes (or is killed) must leave no
    // daemons, emulators or API servers behind. The signal is tied to the thread that forked,
    // so children must be started from a thread that lives as long as they should (every test
    // starts them from its main thread). If the parent died between fork and prctl, the child
    // was re-parented already and no signal would come: leave at once.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) {
      _exit(127);
    }
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, STDIN_FILENO);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(fd);
  pid_ = pid;
  exit_status_.reset();
  return absl::OkStatus();
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0 && Running()) {
    kill(pid_, sig);
  }
}

bool ChildProcess::Running() {
  if (pid_ <= 0 || exit_status_.has_value()) {
    return false;
  }
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = status;
    return false;
  }
  return r == 0;
}

std::optional<int> ChildProcess::Wait(absl::Duration timeout) {
  WaitUntil([this] { return !Running(); }, timeout);
  return exit_status_;
}

std::string ChildProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (condition()) {
      return true;
    }
    if (absl::Now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

absl::StatusOr<int> WaitForPortFile(const std::string& port_file, absl::Duration timeout) {
  int port = 0;
  bool ok = WaitUntil(
      [&] {
        std::ifstream in(port_file);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        absl::string_view t = absl::StripAsciiWhitespace(text);
        return !t.empty() && absl::SimpleAtoi(t, &port) && port > 0;
      },
      timeout);
  if (!ok) {
    return absl::DeadlineExceededError(absl::StrCat("no port in ", port_file));
  }
  return port;
}

absl::StatusOr<Emulator> StartEmulator(const TempDir& dir, const std::string& world_yaml,
                                       const std::vector<std::string>& extra_args) {
  static std::atomic<int> counter{0};
  int n = counter++;
  std::string world = dir.WriteFile(absl::StrCat("emulator-world-", n, ".yaml"), world_yaml);
  std::string port_file = absl::StrCat(dir.path(), "/emulator-port-", n);
  std::vector<std::string> argv = {BinaryPath("kustodian-emulator"),
                                   "--world",
                                   world,
                                   "--bind",
                                   "127.0.0.1",
                                   "--port",
                                   "0",
                                   "--port-file",
                                   port_file};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  Emulator emu;
  emu.process =
      std::make_unique<ChildProcess>(argv, absl::StrCat(dir.path(), "/emulator-", n, ".log"));
  absl::Status st = emu.process->Start();
  if (!st.ok()) {
    return st;
  }
  absl::StatusOr<int> port = WaitForPortFile(port_file, absl::Seconds(20));
  if (!port.ok()) {
    return absl::InternalError(absl::StrCat("emulator did not start: ", emu.process->Log()));
  }
  emu.port = *port;
  emu.base_url = absl::StrCat("http://127.0.0.1:", *port);
  return emu;
}

HttpHelper::HttpHelper() : transport_(NewHttpTransport(TransportOptions{})) {}

absl::StatusOr<HttpResponse> HttpHelper::Request(const std::string& method, const std::string& url,
                                                 const std::string& body,
                                                 const HttpHeaders& headers) {
  HttpRequest req;
  req.method = method;
  req.url = url;
  req.body = body;
  req.headers = headers;
  if (!body.empty() && !FindHeader(headers, "Content-Type").has_value()) {
    req.headers.emplace_back("Content-Type", "application/json");
  }
  req.timeout = absl::Seconds(30);
  return transport_->Send(req);
}

absl::StatusOr<nlohmann::json> HttpHelper::GetJson(const std::string& url) {
  absl::StatusOr<HttpResponse> resp = Request("GET", url);
  if (!resp.ok()) {
    return resp.status();
  }
  if (resp->status != 200) {
    return absl::InternalError(absl::StrCat("GET ", url, " -> ", resp->status, ": ", resp->body));
  }
  nlohmann::json j = nlohmann::json::parse(resp->body, nullptr, false);
  if (j.is_discarded()) {
    return absl::InternalError(absl::StrCat("GET ", url, ": not JSON: ", resp->body));
  }
  return j;
}

}  // namespace kustodian::testing
