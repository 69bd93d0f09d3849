#include "tests/integration/daemon_harness.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kustodian::testing {

std::string DaemonWorld() {
  return absl::StrCat(
      R"(subscriptions:
  - id: )",
      kItSub, R"(
    resourceGroups:
      - name: rg1
        clusters:
          - name: clu1
            location: East US 2
            databases:
              - name: db1
                connections:
                  - name: legacy
                    kind: EventHub
                    properties:
                      eventHubResourceId: /subscriptions/)",
      kItSub,
      R"(/resourceGroups/rg1/providers/Microsoft.EventHub/namespaces/ns/eventhubs/legacy
                      consumerGroup: $Default
              - name: db2
          - name: clu2
            location: West Europe
            databases:
              - name: db3
)");
}

std::string ConnPath(const std::string& cluster, const std::string& db, const std::string& name) {
  return absl::StrCat("/subscriptions/", kItSub, "/resourceGroups/rg1/providers/Microsoft.Kusto/",
                      "clusters/", cluster, "/databases/", db, "/dataConnections/", name);
}

std::string ConnKey(const std::string& cluster, const std::string& db, const std::string& name) {
  return absl::AsciiStrToLower(ConnPath(cluster, db, name));
}

std::string Manifest(const std::string& name, const std::string& kind, const std::string& cluster,
                     const std::string& db, const std::string& table,
                     const std::string& extra_policy, bool adopt) {
  std::string rid = absl::StrCat("/subscriptions/", kItSub, "/resourceGroups/rg1/providers/");
  std::string props;
  if (kind == "EventHub") {
    props =
        absl::StrCat("    eventHubResourceId: ", rid, "Microsoft.EventHub/namespaces/ns/eventhubs/",
                     name, "\n    consumerGroup: $Default\n    dataFormat: JSON\n");
  } else if (kind == "EventGrid") {
    props = absl::StrCat("    storageAccountResourceId: ", rid,
                         "Microsoft.Storage/storageAccounts/sa1\n    eventHubResourceId: ", rid,
                         "Microsoft.EventHub/namespaces/ns/eventhubs/", name,
                         "\n    consumerGroup: cg\n    dataFormat: CSV\n");
  } else if (kind == "IotHub") {
    props = absl::StrCat("    iotHubResourceId: ", rid, "Microsoft.Devices/IotHubs/hub1",
                         "\n    consumerGroup: cg\n    sharedAccessPolicyName: registryRead\n");
  } else {
    props = absl::StrCat("    cosmosDbAccountResourceId: ", rid,
                         "Microsoft.DocumentDB/databaseAccounts/acct\n    cosmosDbDatabase: db\n",
                         "    cosmosDbContainer: items\n    managedIdentityResourceId: ", rid,
                         "Microsoft.ManagedIdentity/userAssignedIdentities/mi\n");
  }
  std::string location = cluster == "clu1" ? "eastus2" : "westeurope";
  return absl::StrCat(
      "apiVersion: kustodian.io/v1alpha1\nkind: DataConnection\nmetadata:\n", "  name: ", name,
      "\n", adopt ? "  annotations:\n    kustodian.io/adopt: \"true\"\n" : "",
      "spec:\n  target:\n    subscriptionId: ", kItSub,
      "\n    resourceGroup: rg1\n    cluster: ", cluster, "\n    database: ", db,
      "\n  location: ", location, "\n  kind: ", kind, "\n  properties:\n", "    tableName: ", table,
      "\n", props, extra_policy.empty() ? "" : absl::StrCat("  policy:\n", extra_policy));
}

DaemonFixture::DaemonFixture(std::vector<std::string> emulator_args, std::string world) {
  config_dir = dir.path() + "/config";
  state_dir = dir.path() + "/state";
  status_dir = dir.path() + "/status";
  std::filesystem::create_directories(config_dir);
  std::vector<std::string> args = {"--dev-token", kItToken, "--lro-duration", "100ms"};
  args.insert(args.end(), emulator_args.begin(), emulator_args.end());
  absl::StatusOr<Emulator> emu = StartEmulator(dir, world.empty() ? DaemonWorld() : world, args);
  if (!emu.ok()) {
    ADD_FAILURE() << emu.status();
    return;
  }
  emulator = std::move(*emu);
}

void DaemonFixture::StartDaemon(const std::vector<std::string>& extra,
                                const std::map<std::string, std::string>& env) {
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"--config-dir", config_dir},
      {"--state-dir", state_dir},
      {"--status-dir", status_dir},
      {"--metrics-bind-address", "127.0.0.1:0"},
      {"--arm-endpoint", emulator.base_url},
      {"--token", kItToken},
      {"--resync-interval", "2s"},
      {"--rescan-interval", "1s"},
      {"--debounce", "100ms"},
      {"--log-level", "debug"}};
  std::vector<std::string> argv = {BinaryPath("kustodian"), "run"};
  for (const auto& [flag, value] : defaults) {
    // A flag given in `extra` replaces the default.
    if (std::find(extra.begin(), extra.end(), flag) == extra.end()) {
      argv.push_back(flag);
      argv.push_back(value);
    }
  }
  for (size_t i = 0; i < extra.size(); ++i) {
    // `{"--flag", ""}` removes a default flag altogether.
    if (i + 1 < extra.size() && extra[i + 1].empty()) {
      ++i;
      continue;
    }
    argv.push_back(extra[i]);
  }
  std::string log = absl::StrCat(dir.path(), "/daemon-", daemon_runs_++, ".log");
  daemon = std::make_unique<ChildProcess>(argv, log, env);
  ASSERT_TRUE(daemon->Start().ok());
  // The daemon logs the bound address of its HTTP endpoint.
  std::regex re(R"(address=127\.0\.0\.1:(\d+))");
  bool ok = WaitUntil(
      [&] {
        std::smatch m;
        std::string text = daemon->Log();
        if (std::regex_search(text, m, re)) {
          daemon_port = std::stoi(m[1].str());
          return true;
        }
        return !daemon->Running();
      },
      absl::Seconds(20));
  ASSERT_TRUE(ok && daemon_port > 0) << daemon->Log();
}

int DaemonFixture::StopDaemon() {
  daemon->Signal(SIGTERM);
  std::optional<int> status = daemon->Wait(absl::Seconds(20));
  return status.has_value() && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

std::pair<int, std::string> DaemonFixture::RunCli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {BinaryPath("kustodian")};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string log = absl::StrCat(dir.path(), "/cli-", LastSeq(), "-", daemon_runs_++, ".log");
  ChildProcess cli(argv, log);
  EXPECT_TRUE(cli.Start().ok());
  std::optional<int> status = cli.Wait(absl::Seconds(60));
  int code = status.has_value() && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  return {code, cli.Log()};
}

nlohmann::json DaemonFixture::DaemonStatus() {
  absl::StatusOr<nlohmann::json> j =
      http.GetJson(absl::StrCat("http://127.0.0.1:", daemon_port, "/status"));
  return j.ok() ? *j : nlohmann::json::object();
}

std::string DaemonFixture::Metrics() {
  absl::StatusOr<HttpResponse> r =
      http.Request("GET", absl::StrCat("http://127.0.0.1:", daemon_port, "/metrics"));
  return r.ok() ? r->body : "";
}

nlohmann::json DaemonFixture::EmulatorConnections() {
  absl::StatusOr<nlohmann::json> j = http.GetJson(emulator.base_url + "/_admin/connections");
  return j.ok() ? *j : nlohmann::json::object();
}

std::optional<nlohmann::json> DaemonFixture::EmulatorConnection(const std::string& key) {
  nlohmann::json all = EmulatorConnections();
  for (const nlohmann::json& c : all.value("connections", nlohmann::json::array())) {
    // Ids are returned in PascalCase; compare case-insensitively.
    if (absl::EqualsIgnoreCase(c.value("id", ""), key)) {
      return c;
    }
  }
  return std::nullopt;
}

nlohmann::json DaemonFixture::EmulatorRequests(int64_t since) {
  absl::StatusOr<nlohmann::json> j =
      http.GetJson(absl::StrCat(emulator.base_url, "/_admin/requests?since=", since));
  return j.ok() ? *j : nlohmann::json::object();
}

int64_t DaemonFixture::LastSeq() { return EmulatorRequests(0).value("lastSeq", int64_t{0}); }

void DaemonFixture::ResetStats() {
  ASSERT_TRUE(http.Request("POST", emulator.base_url + "/_admin/reset-stats").ok());
}

nlohmann::json DaemonFixture::Stats() {
  absl::StatusOr<nlohmann::json> j = http.GetJson(emulator.base_url + "/_admin/stats");
  return j.ok() ? *j : nlohmann::json::object();
}

std::string DaemonFixture::Phase(const std::string& key) {
  for (const nlohmann::json& c : DaemonStatus().value("connections", nlohmann::json::array())) {
    if (c.value("key", "") == key) {
      return c.value("phase", "");
    }
  }
  return "";
}

bool DaemonFixture::AllReady(const std::vector<std::string>& keys) {
  nlohmann::json status = DaemonStatus();
  std::map<std::string, std::string> phases;
  for (const nlohmann::json& c : status.value("connections", nlohmann::json::array())) {
    phases[c.value("key", "")] = c.value("phase", "");
  }
  for (const std::string& k : keys) {
    if (phases[k] != "Ready") {
      return false;
    }
  }
  return true;
}

int DaemonFixture::CountRequests(int64_t since, const std::string& method,
                                 const std::string& part) {
  int n = 0;
  for (const nlohmann::json& r :
       EmulatorRequests(since).value("requests", nlohmann::json::array())) {
    if (r.value("method", "") == method &&
        absl::StrContains(absl::AsciiStrToLower(r.value("path", "")),
                          absl::AsciiStrToLower(part))) {
      ++n;
    }
  }
  return n;
}

}  // namespace kustodian::testing
