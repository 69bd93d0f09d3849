// The real `kustodian run` daemon against the real emulator over loopback (issue 3).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/daemon_harness.h"

namespace kustodian::testing {
namespace {

namespace fs = std::filesystem;

struct Conn {
  std::string file, name, kind, cluster, db;
  std::string Key() const { return ConnKey(cluster, db, name); }
};

const std::vector<Conn>& FourKinds() {
  static const std::vector<Conn>* kConns = new std::vector<Conn>{
      {"hub.yaml", "hub", "EventHub", "clu1", "db1"},
      {"grid.yaml", "grid", "EventGrid", "clu1", "db2"},
      {"iot.yaml", "iot", "IotHub", "clu2", "db3"},
      {"cosmos.yaml", "cosmos", "CosmosDb", "clu2", "db3"},
  };
  return *kConns;
}

std::vector<std::string> Keys(const std::vector<Conn>& conns) {
  std::vector<std::string> keys;
  for (const Conn& c : conns) {
    keys.push_back(c.Key());
  }
  return keys;
}

void WriteAll(DaemonFixture& f, const std::vector<Conn>& conns, const std::string& table = "T1") {
  for (const Conn& c : conns) {
    f.dir.WriteFile("config/" + c.file, Manifest(c.name, c.kind, c.cluster, c.db, table));
  }
}

void Converge(DaemonFixture& f, const std::vector<Conn>& conns) {
  ASSERT_TRUE(WaitUntil([&] { return f.AllReady(Keys(conns)); }, absl::Seconds(30)))
      << f.DaemonStatus().dump(1) << "\n"
      << f.daemon->Log();
}

TEST(DaemonTest, CreatesAllKindsAndAnEditIsOnePutCarryingTheChange) {
  DaemonFixture f;
  WriteAll(f, FourKinds());
  f.StartDaemon();
  Converge(f, FourKinds());
  for (const Conn& c : FourKinds()) {
    std::optional<nlohmann::json> live = f.EmulatorConnection(c.Key());
    ASSERT_TRUE(live.has_value()) << c.name;
    EXPECT_EQ(live->value("kind", ""), c.kind);
  }

  int64_t since = f.LastSeq();
  const Conn& hub = FourKinds()[0];
  f.dir.WriteFile("config/" + hub.file, Manifest(hub.name, hub.kind, hub.cluster, hub.db, "T2"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::optional<nlohmann::json> live = f.EmulatorConnection(hub.Key());
        return live && (*live)["properties"].value("tableName", "") == "T2";
      },
      absl::Seconds(20)));
  ASSERT_TRUE(WaitUntil([&] { return f.AllReady(Keys(FourKinds())); }, absl::Seconds(10)));
  EXPECT_EQ(f.CountRequests(since, "PUT", "/dataConnections/"), 1);
  EXPECT_EQ(f.CountRequests(since, "PUT", "/dataConnections/hub"), 1);
  EXPECT_EQ(f.CountRequests(since, "DELETE", "/dataConnections/"), 0);
  EXPECT_EQ(f.StopDaemon(), 0);
}

TEST(DaemonTest, SteadyStateMakesNoWritesAndOneListPerDatabasePerResync) {
  DaemonFixture f;
  WriteAll(f, FourKinds());
  f.StartDaemon();
  Converge(f, FourKinds());
  // Let in-flight work settle, then watch several resyncs (interval 2 s, jitter 10%).
  std::this_thread::sleep_for(std::chrono::seconds(1));
  int64_t since = f.LastSeq();
  absl::Time start = absl::Now();
  std::this_thread::sleep_for(std::chrono::milliseconds(7000));
  double resyncs = absl::ToDoubleSeconds(absl::Now() - start) / 2.0;
  EXPECT_EQ(f.CountRequests(since, "PUT", "/"), 0);
  EXPECT_EQ(f.CountRequests(since, "DELETE", "/"), 0);
  EXPECT_EQ(f.CountRequests(since, "PATCH", "/"), 0);
  EXPECT_EQ(f.CountRequests(since, "GET", "/dataConnections/"), 0) << "no per-connection GETs";
  for (const std::string db : {"/databases/db1/dataConnections", "/databases/db2/dataConnections",
                               "/databases/db3/dataConnections"}) {
    int lists = 0;
    nlohmann::json requests = f.EmulatorRequests(since)["requests"];
    for (const nlohmann::json& r : requests) {
      if (r.value("method", "") == "GET" && absl::EndsWith(r.value("path", ""), db)) {
        ++lists;
      }
    }
    EXPECT_GE(lists, static_cast<int>(resyncs * 0.9) - 1) << db;
    EXPECT_LE(lists, static_cast<int>(resyncs * 1.1) + 1) << db;
  }
}

TEST(DaemonTest, RemovingFilesDeletesManagedKeepsOrphanAndNeverTouchesUnmanaged) {
  DaemonFixture f;
  f.dir.WriteFile("config/a.yaml", Manifest("a", "EventHub", "clu1", "db1", "T1"));
  f.dir.WriteFile("config/b.yaml",
                  Manifest("b", "EventHub", "clu1", "db1", "T1", "    deletion: Orphan\n"));
  f.StartDaemon();
  std::string a = ConnKey("clu1", "db1", "a"), b = ConnKey("clu1", "db1", "b");
  ASSERT_TRUE(WaitUntil(
      [&] {
        return f.AllReady({a, b});
      },
      absl::Seconds(30)))
      << f.DaemonStatus().dump(1);
  fs::remove(f.config_dir + "/a.yaml");
  fs::remove(f.config_dir + "/b.yaml");
  ASSERT_TRUE(WaitUntil([&] { return !f.EmulatorConnection(a).has_value(); }, absl::Seconds(20)));
  // Give the daemon several resyncs to (wrongly) delete b or legacy.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  EXPECT_TRUE(f.EmulatorConnection(b).has_value()) << "Orphan policy must leave the connection";
  EXPECT_TRUE(f.EmulatorConnection(ConnKey("clu1", "db1", "legacy")).has_value());
  EXPECT_EQ(f.CountRequests(0, "PUT", "/dataConnections/legacy"), 0);
  EXPECT_EQ(f.CountRequests(0, "DELETE", "/dataConnections/legacy"), 0);
  EXPECT_EQ(f.CountRequests(0, "DELETE", "/dataConnections/b"), 0);
}

TEST(DaemonTest, UnmanagedExistingConnectionIsAConflictUnlessAdopted) {
  DaemonFixture f;
  f.dir.WriteFile("config/legacy.yaml", Manifest("legacy", "EventHub", "clu1", "db1", "T9"));
  f.StartDaemon();
  std::string key = ConnKey("clu1", "db1", "legacy");
  ASSERT_TRUE(WaitUntil([&] { return f.Phase(key) == "Stalled" || f.Phase(key) == "Conflict"; },
                        absl::Seconds(20)))
      << f.DaemonStatus().dump(1);
  EXPECT_EQ(f.CountRequests(0, "PUT", "/dataConnections/legacy"), 0);
  // With the adopt annotation it is taken over and brought to the manifest.
  f.dir.WriteFile("config/legacy.yaml",
                  Manifest("legacy", "EventHub", "clu1", "db1", "T9", "", /*adopt=*/true));
  ASSERT_TRUE(WaitUntil([&] { return f.Phase(key) == "Ready"; }, absl::Seconds(20)))
      << f.DaemonStatus().dump(1);
  EXPECT_EQ((*f.EmulatorConnection(key))["properties"].value("tableName", ""), "T9");
}

TEST(DaemonTest, OutOfBandDeleteAndEditAreCorrectedAtTheNextResync) {
  DaemonFixture f;
  WriteAll(f, FourKinds());
  f.StartDaemon();
  Converge(f, FourKinds());
  const Conn& hub = FourKinds()[0];
  const Conn& iot = FourKinds()[2];
  ASSERT_TRUE(f.http
                  .Request("DELETE", f.emulator.base_url + "/_admin/connections" +
                                         ConnPath(hub.cluster, hub.db, hub.name))
                  .ok());
  ASSERT_TRUE(f.http
                  .Request("PUT",
                           f.emulator.base_url + "/_admin/connections" +
                               ConnPath(iot.cluster, iot.db, iot.name),
                           R"({"properties":{"tableName":"Hacked"}})")
                  .ok());
  ASSERT_FALSE(f.EmulatorConnection(hub.Key()).has_value());
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::optional<nlohmann::json> h = f.EmulatorConnection(hub.Key());
        std::optional<nlohmann::json> i = f.EmulatorConnection(iot.Key());
        return h && i && (*i)["properties"].value("tableName", "") == "T1";
      },
      absl::Seconds(20)));
  // The PUT is visible in the emulator before the daemon has its answer (and counts the
  // correction): wait for the count rather than read it once.
  std::string metrics;
  EXPECT_TRUE(WaitUntil(
      [&] {
        metrics = f.Metrics();
        return absl::StrContains(metrics, "kustodian_drift_corrections_total{kind=\"IotHub\"} 1");
      },
      absl::Seconds(10)))
      << metrics;
}

TEST(DaemonTest, BrokenYamlKeepsItsConnectionAndOtherFilesKeepReconciling) {
  DaemonFixture f;
  WriteAll(f, FourKinds());
  f.StartDaemon();
  Converge(f, FourKinds());
  const Conn& hub = FourKinds()[0];
  const Conn& grid = FourKinds()[1];
  f.dir.WriteFile("config/" + hub.file, "apiVersion: kustodian.io/v1alpha1\nkind: [unclosed\n");
  ASSERT_TRUE(WaitUntil(
      [&] {
        nlohmann::json s = f.DaemonStatus();
        return absl::StrContains(s["fileErrors"].dump(), hub.file);
      },
      absl::Seconds(10)))
      << f.DaemonStatus().dump(1);
  EXPECT_TRUE(absl::StrContains(f.daemon->Log(), hub.file));
  // Another file still reconciles.
  f.dir.WriteFile("config/" + grid.file,
                  Manifest(grid.name, grid.kind, grid.cluster, grid.db, "G2"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::optional<nlohmann::json> g = f.EmulatorConnection(grid.Key());
        return g && (*g)["properties"].value("tableName", "") == "G2";
      },
      absl::Seconds(20)));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_TRUE(f.EmulatorConnection(hub.Key()).has_value());
  EXPECT_EQ(f.CountRequests(0, "DELETE", "/"), 0);
}

TEST(DaemonTest, PruneGuardHoldsBackAMassDeletion) {
  DaemonFixture f;
  std::vector<Conn> conns;
  for (int i = 0; i < 5; ++i) {
    std::string n = absl::StrCat("p", i);
    conns.push_back(
        {n + ".yaml", n, "EventHub", i % 2 == 0 ? "clu1" : "clu2", i % 2 == 0 ? "db2" : "db3"});
  }
  WriteAll(f, conns);
  f.StartDaemon({"--max-deletes-per-pass", "2", "--rescan-interval", "1h"});
  Converge(f, conns);
  for (const Conn& c : conns) {
    fs::remove(f.config_dir + "/" + c.file);
  }
  ASSERT_TRUE(WaitUntil(
      [&] {
        int held = 0;
        for (const Conn& c : conns) {
          held += f.Phase(c.Key()) == "WaitingForPruneGuard" ? 1 : 0;
        }
        return held == 3;
      },
      absl::Seconds(20)))
      << f.DaemonStatus().dump(1);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  int remaining = 0;
  for (const Conn& c : conns) {
    remaining += f.EmulatorConnection(c.Key()).has_value() ? 1 : 0;
  }
  EXPECT_EQ(remaining, 3);
  EXPECT_EQ(f.CountRequests(0, "DELETE", "/dataConnections/"), 2);
}

TEST(DaemonTest, RestartKeepsOwnership) {
  DaemonFixture f;
  f.dir.WriteFile("config/a.yaml", Manifest("a", "EventHub", "clu1", "db1", "T1"));
  f.StartDaemon();
  std::string a = ConnKey("clu1", "db1", "a");
  ASSERT_TRUE(WaitUntil([&] { return f.AllReady({a}); }, absl::Seconds(30)));
  EXPECT_EQ(f.StopDaemon(), 0);
  fs::remove(f.config_dir + "/a.yaml");
  f.StartDaemon();
  ASSERT_TRUE(WaitUntil([&] { return !f.EmulatorConnection(a).has_value(); }, absl::Seconds(20)))
      << f.daemon->Log();
  EXPECT_TRUE(f.EmulatorConnection(ConnKey("clu1", "db1", "legacy")).has_value());
}

std::vector<std::string> CliArm(const DaemonFixture& f) {
  return {"--arm-endpoint", f.emulator.base_url, "--token", kItToken};
}

TEST(DaemonTest, PlanExitCodes) {
  DaemonFixture f;
  WriteAll(f, FourKinds());
  std::vector<std::string> plan = {"plan", "--config-dir", f.config_dir, "--state-dir",
                                   f.state_dir};
  for (const std::string& a : CliArm(f)) {
    plan.push_back(a);
  }
  auto [code, out] = f.RunCli(plan);
  EXPECT_EQ(code, 2) << out;
  EXPECT_TRUE(absl::StrContains(out, "create")) << out;
  EXPECT_EQ(f.CountRequests(0, "PUT", "/"), 0) << "plan never writes";

  f.StartDaemon();
  Converge(f, FourKinds());
  EXPECT_EQ(f.StopDaemon(), 0);
  std::tie(code, out) = f.RunCli(plan);
  EXPECT_EQ(code, 0) << out;

  const Conn& hub = FourKinds()[0];
  f.dir.WriteFile("config/" + hub.file, Manifest(hub.name, hub.kind, hub.cluster, hub.db, "T7"));
  std::tie(code, out) = f.RunCli(plan);
  EXPECT_EQ(code, 2) << out;
  EXPECT_TRUE(absl::StrContains(out, "tableName")) << out;
  EXPECT_TRUE(absl::StrContains(out, "T7")) << out;

  f.dir.WriteFile("config/broken.yaml", "kind: [\n");
  std::tie(code, out) = f.RunCli(plan);
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(absl::StrContains(out, "broken.yaml")) << out;
}

TEST(DaemonTest, ExportThenPlanIsANoOp) {
  DaemonFixture f;
  WriteAll(f, FourKinds());
  f.StartDaemon();
  Converge(f, FourKinds());
  EXPECT_EQ(f.StopDaemon(), 0);
  std::string out_dir = f.dir.path() + "/exported";
  std::vector<std::string> exp = {"export", "--subscription", kItSub, "--resource-group",
                                  "rg1",    "--cluster",      "clu1", "--database",
                                  "db1",    "--database",     "db2",  "--out",
                                  out_dir};
  for (const std::string& a : CliArm(f)) {
    exp.push_back(a);
  }
  auto [code, out] = f.RunCli(exp);
  ASSERT_EQ(code, 0) << out;
  std::vector<std::string> plan = {"plan", "--config-dir", out_dir};
  for (const std::string& a : CliArm(f)) {
    plan.push_back(a);
  }
  std::tie(code, out) = f.RunCli(plan);
  EXPECT_EQ(code, 0) << out;
  // validate agrees the exported files are well-formed.
  std::tie(code, out) = f.RunCli({"validate", out_dir});
  EXPECT_EQ(code, 0) << out;
}

TEST(DaemonTest, ConvergesAgainstThrottlingAndServerErrorsHonouringRetryAfter) {
  DaemonFixture f({"--throttle", "--write-limits", "2/0.5", "--fault", "503:0.2"});
  std::vector<Conn> conns;
  for (int i = 0; i < 6; ++i) {
    std::string n = absl::StrCat("t", i);
    conns.push_back(
        {n + ".yaml", n, "EventHub", i % 2 == 0 ? "clu1" : "clu2", i % 2 == 0 ? "db1" : "db3"});
  }
  WriteAll(f, conns);
  // A generous client-side bucket, so that the server's limit is what the daemon meets.
  f.StartDaemon({"--arm-rate-limits", "reads=1000/1000,writes=1000/1000,deletes=1000/1000"});
  ASSERT_TRUE(WaitUntil([&] { return f.AllReady(Keys(conns)); }, absl::Seconds(60)))
      << f.DaemonStatus().dump(1);
  nlohmann::json stats = f.Stats();
  EXPECT_GT(stats.value("throttled", 0), 0) << stats.dump();
  EXPECT_GT(stats.value("faultsTotal", 0), 0) << stats.dump();
  // After a 429, the same principal's next write waits for Retry-After (>= 1 s here).
  nlohmann::json reqs = f.EmulatorRequests(0)["requests"];
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (reqs[i].value("status", 0) != 429 || reqs[i].value("method", "") != "PUT") {
      continue;
    }
    absl::Time t429, next;
    std::string err;
    ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, reqs[i].value("time", ""), &t429, &err));
    for (size_t j = i + 1; j < reqs.size(); ++j) {
      if (reqs[j].value("method", "") == "PUT" &&
          reqs[j].value("path", "") == reqs[i].value("path", "")) {
        ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, reqs[j].value("time", ""), &next, &err));
        EXPECT_GE(next - t429, absl::Milliseconds(900)) << reqs[i].dump() << reqs[j].dump() << "\n"
                                                        << f.daemon->Log().substr(0, 20000);
        break;
      }
    }
  }
}

TEST(DaemonTest, MetricsExposeEverySeriesAndPassPromtool) {
  DaemonFixture f;
  f.StartDaemon();
  std::string metrics = f.Metrics();
  for (const char* name :
       {"controller_runtime_reconcile_total{controller=\"dataconnection\",result=\"success\"} 0",
        "workqueue_depth", "workqueue_adds_total", "workqueue_retries_total",
        "workqueue_queue_duration_seconds", "workqueue_work_duration_seconds",
        "controller_runtime_reconcile_time_seconds", "kustodian_arm_requests_total",
        "kustodian_arm_request_duration_seconds", "kustodian_arm_throttled_total",
        "kustodian_drift_corrections_total", "kustodian_managed_connections",
        "kustodian_last_resync_timestamp_seconds"}) {
    EXPECT_TRUE(absl::StrContains(metrics, name)) << name;
  }
  std::string path = f.dir.WriteFile("metrics.txt", metrics);
  std::string cmd = absl::StrCat("promtool check metrics < ", path, " 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof(buf), p) != nullptr) {
    out += buf;
  }
  int rc = pclose(p);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "");
  // No secret in logs, status or metrics.
  EXPECT_FALSE(absl::StrContains(metrics, kItToken));
  EXPECT_FALSE(absl::StrContains(f.daemon->Log(), kItToken));
  EXPECT_FALSE(absl::StrContains(f.DaemonStatus().dump(), kItToken));
}

}  // namespace
}  // namespace kustodian::testing
