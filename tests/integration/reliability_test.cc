// Reliability (issue 7), with the real daemon and emulator: a fault soak, kill -9 at random
// moments during convergence, and the bad-manifest corpus in a live config directory. Each test
// prints its figures. Sizes are small for `make test` (soak: 30 connections on 6 clusters;
// crash: 10 kills, 16 connections); `make soak` raises them through the environment
// (KUSTODIAN_SOAK_CONNECTIONS, KUSTODIAN_SOAK_CLUSTERS, KUSTODIAN_CRASH_KILLS,
// KUSTODIAN_CRASH_CONNECTIONS). KUSTODIAN_SOAK_DEBUG=1 runs the soak's daemon at debug level
// and KUSTODIAN_KEEP_DIR=<dir> keeps its logs, state and config there.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/daemon_harness.h"
#include "tests/integration/harness.h"

namespace kustodian::testing {
namespace {

namespace fs = std::filesystem;

// The bad-corpus test's bound on the daemon's peak RSS. A sanitized daemon (the same build as
// this test) carries shadow memory and ASan's 256 MiB free quarantine, so its bound is wider; it
// still catches the unbounded growth (an alias bomb, a 10 MB file held many times) it is for.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr long kMemoryBoundMiB = 1024;
#else
constexpr long kMemoryBoundMiB = 256;
#endif

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

const std::vector<std::string> kKinds = {"EventHub", "EventGrid", "IotHub", "CosmosDb"};
const std::vector<std::pair<std::string, std::string>> kDatabases = {
    {"clu1", "db1"}, {"clu1", "db2"}, {"clu2", "db3"}};

struct Desired {
  std::string cluster, db, name, table;
  int kind = 0;  // index into kKinds; fixed for the connection's life (a kind change is immutable)
};

std::string FileFor(const std::string& name) { return name + ".yaml"; }

void WriteDesired(DaemonFixture& f, const Desired& d) {
  std::ofstream out(f.config_dir + "/" + FileFor(d.name), std::ios::trunc);
  out << Manifest(d.name, kKinds[d.kind % kKinds.size()], d.cluster, d.db, d.table);
}

// The emulator's connections keyed by lower-case id -> tableName.
std::map<std::string, std::string> LiveTables(DaemonFixture& f) {
  std::map<std::string, std::string> out;
  for (const nlohmann::json& c :
       f.EmulatorConnections().value("connections", nlohmann::json::array())) {
    out[absl::AsciiStrToLower(c.value("id", ""))] =
        c.value("properties", nlohmann::json::object()).value("tableName", "");
  }
  return out;
}

// What the emulator must hold: every desired connection with its table, and each unmanaged
// connection untouched (it has no tableName).
std::map<std::string, std::string> Expected(const std::map<std::string, Desired>& desired,
                                            const std::vector<std::string>& unmanaged) {
  std::map<std::string, std::string> out;
  for (const auto& [key, d] : desired) out[key] = d.table;
  for (const std::string& key : unmanaged) out[key] = "";
  return out;
}

std::map<std::string, std::string> Expected(const std::map<std::string, Desired>& desired) {
  return Expected(desired, {ConnKey("clu1", "db1", "legacy")});
}

// The soak's world: `clusters` Kusto clusters clu1..cluN (clu1 in East US 2, the others in West
// Europe, as Manifest() expects) with two databases each, db(2K-1) and db(2K) in cluK, and an
// unmanaged connection "legacy" in every database. A fleet of a thousand connections spans
// several clusters, and Kusto runs one operation per cluster at a time.
std::vector<std::pair<std::string, std::string>> SoakDatabases(int clusters) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int k = 1; k <= clusters; ++k) {
    out.emplace_back(absl::StrCat("clu", k), absl::StrCat("db", 2 * k - 1));
    out.emplace_back(absl::StrCat("clu", k), absl::StrCat("db", 2 * k));
  }
  return out;
}

std::string SoakWorld(int clusters) {
  std::string out = absl::StrCat("subscriptions:\n  - id: ", kItSub,
                                 "\n    resourceGroups:\n      - name: rg1\n        clusters:\n");
  const auto databases = SoakDatabases(clusters);
  for (size_t i = 0; i < databases.size(); ++i) {
    const auto& [cluster, db] = databases[i];
    if (i % 2 == 0) {
      absl::StrAppend(&out, "          - name: ", cluster,
                      "\n            location: ", cluster == "clu1" ? "East US 2" : "West Europe",
                      "\n            databases:\n");
    }
    absl::StrAppend(&out, "              - name: ", db,
                    "\n                connections:\n                  - name: legacy\n"
                    "                    kind: EventHub\n                    properties:\n"
                    "                      eventHubResourceId: /subscriptions/",
                    kItSub, "/resourceGroups/rg1/providers/Microsoft.EventHub/namespaces/ns/",
                    "eventhubs/legacy-", db, "\n                      consumerGroup: $Default\n");
  }
  return out;
}

std::string Diff(const std::map<std::string, std::string>& want,
                 const std::map<std::string, std::string>& got) {
  std::string out;
  int shown = 0;
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    if (it == got.end()) {
      if (shown++ < 10) absl::StrAppend(&out, "\n  missing ", k);
    } else if (it->second != v) {
      if (shown++ < 10) absl::StrAppend(&out, "\n  table ", it->second, " != ", v, " for ", k);
    }
  }
  for (const auto& [k, v] : got) {
    if (!want.count(k) && shown++ < 10) absl::StrAppend(&out, "\n  unexpected ", k);
  }
  return out;
}

// Sums the samples of metric `name` (every label set) in a Prometheus text exposition.
double MetricSum(const std::string& text, const std::string& name) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, name) && line.size() > name.size() &&
        (line[name.size()] == ' ' || line[name.size()] == '{')) {
      sum += std::atof(std::string(line.substr(line.rfind(' ') + 1)).c_str());
    }
  }
  return sum;
}

int CountLines(const std::string& text, const std::string& part) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) n += absl::StrContains(line, part);
  return n;
}

// 20% faults of every kind (429 with and without Retry-After, 500, 503, 504, dropped
// connections, latency spikes) while connections are created, edited and deleted in waves. At
// the end of every wave the emulator holds exactly the manifests plus the untouched unmanaged
// connections. `make test` runs a short variant; `make soak` sets KUSTODIAN_SOAK_CONNECTIONS
// (1000). KUSTODIAN_SOAK_CLUSTERS sets the number of Kusto clusters (two databases each).
TEST(ReliabilityTest, FaultSoakConvergesExactlyAndNeverTouchesUnmanaged) {
  const int n = EnvInt("KUSTODIAN_SOAK_CONNECTIONS", 30);
  const int clusters = std::max(1, EnvInt("KUSTODIAN_SOAK_CLUSTERS", 6));
  const auto databases = SoakDatabases(clusters);
  DaemonFixture f({"--fault", "429=1:0.04", "--fault", "429-no-retry-after:0.03", "--fault",
                   "500:0.03", "--fault", "503:0.03", "--fault", "504:0.03", "--fault", "drop:0.02",
                   "--fault", "latency=1500:0.02", "--no-throttle"},
                  SoakWorld(clusters));
  // KUSTODIAN_KEEP_DIR=<dir>: keep the logs, state and config, also when an assertion fails.
  struct KeepDir {
    DaemonFixture& f;
    ~KeepDir() {
      if (const char* keep = std::getenv("KUSTODIAN_KEEP_DIR")) {
        std::error_code ec;
        fs::copy(f.dir.path(), keep,
                 fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
      }
    }
  } keep_dir{f};
  std::vector<std::string> unmanaged;
  std::map<std::string, std::string> unmanaged_before;
  for (const auto& [cluster, db] : databases) {
    unmanaged.push_back(ConnKey(cluster, db, "legacy"));
    std::optional<nlohmann::json> c = f.EmulatorConnection(unmanaged.back());
    ASSERT_TRUE(c.has_value()) << unmanaged.back();
    unmanaged_before[unmanaged.back()] = c->dump();
  }
  const absl::Time start = absl::Now();

  std::map<std::string, Desired> desired;
  for (int i = 0; i < n; ++i) {
    const auto& [cluster, db] = databases[i % databases.size()];
    Desired d{cluster, db, absl::StrCat("soak-", i), "T0", i};
    WriteDesired(f, d);
    desired[ConnKey(cluster, db, d.name)] = d;
  }
  f.StartDaemon({"--max-deletes-per-pass", "100000", "--workers", "8", "--resync-interval", "10s",
                 "--log-level", std::getenv("KUSTODIAN_SOAK_DEBUG") != nullptr ? "debug" : "info"});
  const absl::Duration wave_timeout = absl::Seconds(120 + 3 * n);
  absl::Time wave_start = start;
  nlohmann::json stats_before = f.Stats();
  auto converge = [&](const std::string& wave) {
    std::map<std::string, std::string> got;
    const bool ok = WaitUntil(
        [&] {
          got = LiveTables(f);
          return got == Expected(desired, unmanaged) || !f.daemon->Running();
        },
        wave_timeout);
    ASSERT_TRUE(f.daemon->Running()) << "daemon died during " << wave << "\n" << f.daemon->Log();
    ASSERT_TRUE(ok) << wave << " did not converge:" << Diff(Expected(desired, unmanaged), got);
    const nlohmann::json stats = f.Stats();
    const absl::Time now = absl::Now();
    std::cout << "[soak] " << wave << ": " << absl::ToDoubleSeconds(now - wave_start)
              << " s, requests=" << stats.value("total", 0) - stats_before.value("total", 0)
              << " faults=" << stats.value("faultsTotal", 0) - stats_before.value("faultsTotal", 0)
              << std::endl;
    wave_start = now;
    stats_before = stats;
  };
  converge("wave 1 (create " + std::to_string(n) + ")");

  // Wave 2: edit every other connection; wave 3: delete every third; wave 4: create some new
  // ones and edit again.
  int i = 0;
  for (auto& [key, d] : desired) {
    if (i++ % 2 == 0) {
      d.table = "T1";
      WriteDesired(f, d);
    }
  }
  converge("wave 2 (edit)");
  i = 0;
  for (auto it = desired.begin(); it != desired.end();) {
    if (i++ % 3 == 0) {
      fs::remove(f.config_dir + "/" + FileFor(it->second.name));
      it = desired.erase(it);
    } else {
      ++it;
    }
  }
  converge("wave 3 (delete)");
  for (int k = 0; k < std::max(1, n / 4); ++k) {
    const auto& [cluster, db] = databases[k % databases.size()];
    Desired d{cluster, db, absl::StrCat("soak-new-", k), "T2", k};
    WriteDesired(f, d);
    desired[ConnKey(cluster, db, d.name)] = d;
  }
  i = 0;
  for (auto& [key, d] : desired) {
    if (i++ % 5 == 0) {
      d.table = "T3";
      WriteDesired(f, d);
    }
  }
  converge("wave 4 (create + edit)");

  // The unmanaged connections were never written, not even once and then restored.
  for (const std::string& key : unmanaged) {
    EXPECT_EQ(unmanaged_before[key], f.EmulatorConnection(key).value_or(nullptr).dump()) << key;
  }
  int unmanaged_writes = 0;
  const nlohmann::json log = f.EmulatorRequests(0);
  for (const nlohmann::json& r : log.value("requests", nlohmann::json::array())) {
    const std::string path = absl::AsciiStrToLower(r.value("path", ""));
    if (absl::EndsWith(path, "/dataconnections/legacy") && r.value("method", "") != "GET") {
      ++unmanaged_writes;
    }
  }
  EXPECT_EQ(unmanaged_writes, 0);
  const nlohmann::json stats = f.Stats();
  const std::string metrics = f.Metrics();
  const std::string daemon_log = f.daemon->Log();
  EXPECT_TRUE(f.daemon->Running());
  EXPECT_GT(stats.value("faultsTotal", 0), 0) << stats.dump();
  std::cout << "[soak] connections=" << n << " clusters=" << clusters
            << " requests=" << stats.value("total", 0)
            << " faults=" << stats.value("faultsTotal", 0)
            << " byStatus=" << stats.value("byStatus", nlohmann::json::object()).dump()
            << " inline_retries=" << CountLines(daemon_log, "ARM request failed; retrying")
            << " requeued_errors="
            << MetricSum(metrics, "controller_runtime_reconcile_errors_total")
            << " throttled=" << MetricSum(metrics, "kustodian_arm_throttled_total")
            << " time=" << absl::ToDoubleSeconds(absl::Now() - start) << "s" << std::endl;
  EXPECT_EQ(f.StopDaemon(), 0);
}

// kill -9 at random moments during convergence, restart each time: the journal stays readable,
// nothing is created twice and nothing whose manifest exists is deleted. Kills land before the
// first write, between a PUT and its operation's end (mid-LRO: the first poll comes 1 s after
// the PUT) and around journal writes (one before every create). `make soak` sets
// KUSTODIAN_CRASH_KILLS=50 and KUSTODIAN_CRASH_CONNECTIONS=200.
TEST(ReliabilityTest, KillNineDuringConvergenceLosesNothingAndDuplicatesNothing) {
  const int kills = EnvInt("KUSTODIAN_CRASH_KILLS", 10);
  const int n = EnvInt("KUSTODIAN_CRASH_CONNECTIONS", 16);
  DaemonFixture f({"--no-throttle"});
  std::map<std::string, Desired> desired;
  for (int i = 0; i < n; ++i) {
    const auto& [cluster, db] = kDatabases[i % kDatabases.size()];
    Desired d{cluster, db, absl::StrCat("crash-", i), "T0", i};
    WriteDesired(f, d);
    desired[ConnKey(cluster, db, d.name)] = d;
  }
  std::mt19937 rng(EnvInt("KUSTODIAN_CRASH_SEED", 20261202));
  std::uniform_int_distribution<int> delay_ms(20, 1500);
  const absl::Time start = absl::Now();
  int killed_mid_work = 0;
  int killed_mid_lro = 0;
  for (int k = 0; k < kills; ++k) {
    // Half of the runs edit a few manifests first, so kills also land in updates.
    if (k % 2 == 1) {
      int i = 0;
      for (auto& [key, d] : desired) {
        if (i++ % 7 == k % 7) {
          d.table = absl::StrCat("T", k);
          WriteDesired(f, d);
        }
      }
    }
    f.StartDaemon({"--workers", "8", "--log-level", "info"});
    absl::SleepFor(absl::Milliseconds(delay_ms(rng)));
    ASSERT_TRUE(f.daemon->Running()) << "daemon exited on its own (run " << k << ")\n"
                                     << f.daemon->Log();
    if (LiveTables(f) != Expected(desired)) ++killed_mid_work;
    for (const nlohmann::json& c : f.DaemonStatus().value("connections", nlohmann::json::array())) {
      if (!c.value("pendingOperation", "").empty()) {
        ++killed_mid_lro;  // an ARM operation this daemon started has not been seen to end
        break;
      }
    }
    f.daemon->Signal(SIGKILL);
    ASSERT_TRUE(f.daemon->Wait(absl::Seconds(10)).has_value());
    // The state journal stays readable: it is JSON (the daemon would refuse to start anyway).
    std::ifstream journal(f.state_dir + "/managed.json");
    if (journal) {
      const std::string text((std::istreambuf_iterator<char>(journal)),
                             std::istreambuf_iterator<char>());
      EXPECT_TRUE(nlohmann::json::accept(text)) << "journal corrupt after kill " << k;
    }
  }
  f.StartDaemon({"--workers", "8"});
  std::map<std::string, std::string> got;
  const bool ok = WaitUntil(
      [&] {
        got = LiveTables(f);
        return got == Expected(desired);
      },
      absl::Seconds(60 + 3 * n));
  ASSERT_TRUE(ok) << "no convergence after " << kills << " kills:" << Diff(Expected(desired), got)
                  << "\n"
                  << f.daemon->Log();
  EXPECT_TRUE(f.daemon->Running());
  EXPECT_GE(killed_mid_work, 1) << "too few kills landed before convergence";
  EXPECT_GE(killed_mid_lro, 1) << "no kill landed while an ARM operation was in flight";

  // From the emulator's log: a 201 (created) at most once per connection, and no DELETE at all
  // (every manifest still exists).
  std::map<std::string, int> created;
  int deletes = 0;
  const nlohmann::json log = f.EmulatorRequests(0);
  for (const nlohmann::json& r : log.value("requests", nlohmann::json::array())) {
    const std::string path = absl::AsciiStrToLower(r.value("path", ""));
    if (!absl::StrContains(path, "/dataconnections/")) continue;
    if (r.value("method", "") == "DELETE") ++deletes;
    if (r.value("method", "") == "PUT" && r.value("status", 0) == 201) ++created[path];
  }
  EXPECT_EQ(deletes, 0);
  for (const auto& [path, count] : created) EXPECT_EQ(count, 1) << path << " created twice";
  EXPECT_EQ(created.size(), desired.size());
  std::cout << "[crash] kills=" << kills << " (" << killed_mid_work << " before convergence, "
            << killed_mid_lro << " mid-LRO) connections=" << n
            << " requests=" << log.value("lastSeq", 0)
            << " time=" << absl::ToDoubleSeconds(absl::Now() - start) << "s\n";
  EXPECT_EQ(f.StopDaemon(), 0);
}

// The whole bad corpus in the live config directory beside good manifests: the daemon keeps
// running, reports every bad file, converges the good ones, stays within bounded memory, and
// deletes nothing — also when a good file is later broken.
TEST(ReliabilityTest, BadCorpusInConfigDirectoryDeletesNothingAndKeepsRunning) {
  DaemonFixture f;
  const fs::path corpus = fs::path(SourceDir()) / "tests/data/bad";
  int bad = 0;
  fs::create_directories(f.config_dir + "/bad");
  for (const auto& e : fs::directory_iterator(corpus)) {
    if (e.path().extension() == ".yaml") {
      fs::copy_file(e.path(), f.config_dir + "/bad/" + e.path().filename().string());
      ++bad;
    }
  }
  fs::copy(corpus / "duplicates", f.config_dir + "/duplicates");
  fs::create_directory_symlink("..", f.config_dir + "/bad/loop");
  {
    std::ofstream big(f.config_dir + "/bad/zz-ten-megabytes.yaml");
    big << Manifest("big", "EventHub", "clu1", "db1", "Big") << "status:\n  pad: \""
        << std::string(10 << 20, 'x') << "\"\n";
  }
  std::vector<std::string> keys;
  for (int i = 0; i < 3; ++i) {
    const auto& [cluster, db] = kDatabases[i];
    const std::string name = absl::StrCat("good-", i);
    std::ofstream(f.config_dir + "/" + name + ".yaml")
        << Manifest(name, kKinds[i], cluster, db, "Good");
    keys.push_back(ConnKey(cluster, db, name));
  }
  f.StartDaemon();
  ASSERT_TRUE(
      WaitUntil([&] { return f.AllReady(keys) || !f.daemon->Running(); }, absl::Seconds(30)))
      << f.daemon->Log();
  ASSERT_TRUE(f.daemon->Running());
  const nlohmann::json summary = f.DaemonStatus();
  const nlohmann::json file_errors = summary.value("fileErrors", nlohmann::json::object());
  EXPECT_GE(static_cast<int>(file_errors.size()), bad + 10) << summary.dump().substr(0, 2000);

  // Break a good file: its connection stays.
  const int64_t seq = f.LastSeq();
  std::ofstream(f.config_dir + "/good-0.yaml", std::ios::trunc) << "spec: [unclosed\n";
  absl::SleepFor(absl::Seconds(3));
  EXPECT_EQ(f.CountRequests(seq, "DELETE", "/dataconnections/"), 0);
  EXPECT_TRUE(f.EmulatorConnection(keys[0]).has_value());
  EXPECT_TRUE(f.daemon->Running());

  // Bounded memory: the resident set stays small after chewing through the corpus.
  std::ifstream st("/proc/" + std::to_string(f.daemon->pid()) + "/status");
  std::string line;
  long hwm_kb = 0;
  while (std::getline(st, line)) {
    if (absl::StartsWith(line, "VmHWM:")) hwm_kb = std::atol(line.c_str() + 6);
  }
  std::cout << "[bad-corpus] files=" << bad + 11 << " peak RSS=" << hwm_kb / 1024 << " MiB\n";
  EXPECT_GT(hwm_kb, 0);
  EXPECT_LT(hwm_kb, kMemoryBoundMiB * 1024);
  EXPECT_EQ(f.StopDaemon(), 0);
}

}  // namespace
}  // namespace kustodian::testing
