// KustodianMetrics registers every exported series at zero, and the whole exposition passes
// the real `promtool check metrics` (Debian package prometheus) without lint findings.
#include "src/metrics/kustodian_metrics.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `promtool check metrics` with `text` on stdin (through a temp file).
CommandResult PromtoolCheck(const std::string& promtool, const std::string& text) {
  std::string path = testing::TempDir() + "/kustodian_metrics_XXXXXX";
  int fd = mkstemp(path.data());
  EXPECT_GE(fd, 0) << "mkstemp failed";
  close(fd);
  {
    std::ofstream file(path, std::ios::binary);
    file << text;
  }
  CommandResult result;
  std::string command = promtool + " check metrics < '" + path + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr) << "popen failed: " << command;
  if (pipe != nullptr) {
    char buf[4096];
    size_t n = 0;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
      result.output.append(buf, n);
    }
    int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::remove(path.c_str());
  return result;
}

// The promtool binary: /usr/bin/promtool or the first one on PATH; "" if none.
std::string FindPromtool() {
  if (access("/usr/bin/promtool", X_OK) == 0) {
    return "/usr/bin/promtool";
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path == nullptr ? "" : path;
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) {
      end = dirs.size();
    }
    std::string candidate = dirs.substr(start, end - start) + "/promtool";
    if (end > start && access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return "";
}

TEST(KustodianMetricsTest, EverySeriesIsPresentAtStart) {
  Registry registry;
  KustodianMetrics metrics(registry, "1.2.3");
  const std::string text = registry.Serialize();
  for (const char* line : {
           "controller_runtime_reconcile_total{controller=\"dataconnection\",result=\"success\"} 0",
           "controller_runtime_reconcile_total{controller=\"dataconnection\",result=\"error\"} 0",
           "controller_runtime_reconcile_total{controller=\"dataconnection\",result=\"requeue\"} 0",
           "controller_runtime_reconcile_total{controller=\"dataconnection\",result=\"requeue_"
           "after\"} 0",
           "controller_runtime_reconcile_errors_total{controller=\"dataconnection\"} 0",
           "controller_runtime_reconcile_time_seconds_bucket{controller=\"dataconnection\",le="
           "\"60\"} 0",
           "controller_runtime_active_workers{controller=\"dataconnection\"} 0",
           "controller_runtime_max_concurrent_reconciles{controller=\"dataconnection\"} 0",
           "workqueue_depth{name=\"dataconnection\"} 0",
           "workqueue_adds_total{name=\"dataconnection\"} 0",
           "workqueue_retries_total{name=\"dataconnection\"} 0",
           "workqueue_queue_duration_seconds_bucket{name=\"dataconnection\",le=\"1e-08\"} 0",
           "workqueue_work_duration_seconds_bucket{name=\"dataconnection\",le=\"10\"} 0",
           "workqueue_unfinished_work_seconds{name=\"dataconnection\"} 0",
           "workqueue_longest_running_processor_seconds{name=\"dataconnection\"} 0",
           "leader_election_master_status{name=\"dataconnection\"} 0",
           "kustodian_arm_requests_total{method=\"GET\",code=\"200\"} 0",
           "kustodian_arm_requests_total{method=\"PUT\",code=\"0\"} 0",
           "kustodian_arm_requests_total{method=\"DELETE\",code=\"404\"} 0",
           "kustodian_arm_requests_total{method=\"POST\",code=\"429\"} 0",
           "kustodian_arm_request_duration_seconds_count{method=\"PUT\"} 0",
           "kustodian_arm_throttled_total 0",
           "kustodian_drift_corrections_total{kind=\"EventGridWithManagedIdentity\"} 0",
           "kustodian_managed_connections{kind=\"CosmosDb\",state=\"stalled\"} 0",
           "kustodian_last_resync_timestamp_seconds 0",
           "kustodian_manifest_errors 0",
           "kustodian_eventgrid_events_total{type=\"Microsoft.Resources.ResourceWriteSuccess\","
           "outcome=\"enqueued\"} 0",
           "kustodian_pending_deletes 0",
           "kustodian_build_info{version=\"1.2.3\"} 1",
       }) {
    EXPECT_NE(text.find(std::string("\n") + line + "\n"), std::string::npos) << line;
  }
}

TEST(KustodianMetricsTest, ReferencesFeedTheExposition) {
  Registry registry;
  KustodianMetrics metrics(registry);
  metrics.ReconcileResult(kResultRequeueAfter).Inc();
  metrics.ArmRequest("PUT", 201).Inc(2);
  metrics.ArmRequest("PATCH", 418).Inc();  // not pre-created: appears on first use
  FakeClock clock;
  metrics.last_resync_timestamp.SetToCurrentTime(clock);
  const std::string text = registry.Serialize();
  EXPECT_NE(text.find("result=\"requeue_after\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("kustodian_arm_requests_total{method=\"PUT\",code=\"201\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("kustodian_arm_requests_total{method=\"PATCH\",code=\"418\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("kustodian_last_resync_timestamp_seconds 1790000000\n"), std::string::npos);
}

TEST(KustodianMetricsTest, PromtoolAcceptsTheFullExpositionWithoutWarnings) {
  const std::string promtool = FindPromtool();
  ASSERT_FALSE(promtool.empty())
      << "promtool not found (looked at /usr/bin/promtool and PATH). Run `make deps` (it "
         "installs the Debian package prometheus) and re-run the tests.";

  // Control: promtool must flag a counter without _total, or this test proves nothing.
  CommandResult bad = PromtoolCheck(promtool, "# HELP bad Bad.\n# TYPE bad counter\nbad 1\n");
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_NE(bad.output.find("_total"), std::string::npos) << bad.output;

  Registry registry;
  KustodianMetrics metrics(registry, "0.1.0");
  // Some non-zero values too, including a fractional timestamp and observations.
  metrics.reconcile_time.Observe(0.3);
  metrics.workqueue_queue_duration.Observe(2e-5);
  metrics.arm_request_duration.WithLabels({"GET"}).Observe(0.12);
  FakeClock clock(absl::FromUnixMillis(1'790'000'000'125));
  metrics.last_resync_timestamp.SetToCurrentTime(clock);
  CommandResult result = PromtoolCheck(promtool, registry.Serialize());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "") << "promtool lint findings:\n" << result.output;
}

}  // namespace
}  // namespace kustodian
