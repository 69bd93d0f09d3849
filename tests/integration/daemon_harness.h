// Runs the real `kustodian run` daemon against a real emulator for integration tests, and
// reads both sides: the daemon's /status and /metrics, the emulator's state and request log.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/integration/harness.h"

namespace kustodian::testing {

inline constexpr char kItSub[] = "00000000-0000-0000-0000-0000000000bb";
inline constexpr char kItToken[] = "daemon-it-token";

// A world with clusters c1 (East US 2: db1, db2) and c2 (West Europe: db3), plus a
// pre-existing unmanaged connection "legacy" in clu1/db1.
std::string DaemonWorld();

// A DataConnection manifest. `extra_policy` is YAML lines under policy (indented 4).
std::string Manifest(const std::string& name, const std::string& kind, const std::string& cluster,
                     const std::string& db, const std::string& table,
                     const std::string& extra_policy = "", bool adopt = false);

// The lower-case key of a connection in kItSub/rg1.
std::string ConnKey(const std::string& cluster, const std::string& db, const std::string& name);
// The request path (for the emulator's admin endpoint).
std::string ConnPath(const std::string& cluster, const std::string& db, const std::string& name);

class DaemonFixture {
 public:
  // `world` "" = DaemonWorld().
  explicit DaemonFixture(std::vector<std::string> emulator_args = {}, std::string world = "");
  // Starts (or restarts) the daemon with default test flags plus `extra` (a flag given there
  // replaces its default; a default whose value is "" is left out), and `env` added to its
  // environment.
  void StartDaemon(const std::vector<std::string>& extra = {},
                   const std::map<std::string, std::string>& env = {});
  // SIGTERM and wait; returns the exit status.
  int StopDaemon();

  // Runs a kustodian subcommand to completion; returns {exit code, output}.
  std::pair<int, std::string> RunCli(const std::vector<std::string>& args);

  nlohmann::json DaemonStatus();         // GET /status
  std::string Metrics();                 // GET /metrics
  nlohmann::json EmulatorConnections();  // GET /_admin/connections
  std::optional<nlohmann::json> EmulatorConnection(const std::string& key);
  nlohmann::json EmulatorRequests(int64_t since = 0);  // GET /_admin/requests
  int64_t LastSeq();
  void ResetStats();
  nlohmann::json Stats();
  // Phase of a connection in /status ("" when unknown).
  std::string Phase(const std::string& key);
  // True when every key in `keys` has phase Ready.
  bool AllReady(const std::vector<std::string>& keys);
  // Requests in the emulator log since `since` whose method matches and path contains `part`.
  int CountRequests(int64_t since, const std::string& method, const std::string& part);

  TempDir dir;
  std::string config_dir;
  std::string state_dir;
  std::string status_dir;
  Emulator emulator;
  std::unique_ptr<ChildProcess> daemon;
  int daemon_port = 0;
  HttpHelper http;

 private:
  int daemon_runs_ = 0;
};

}  // namespace kustodian::testing
