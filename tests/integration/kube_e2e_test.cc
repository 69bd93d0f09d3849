// End-to-end tests of Kubernetes mode (issue 4 "What it must show", issue 7 "Kubernetes API
// faults") with real processes only: `kustodian run --source=kubernetes`, `kube-test-apiserver`
// serving the DataConnection CRD over https, `kustodian-emulator` as ARM, and real kubectl.
// Each test starts its own set of processes (see kube_harness.h).
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/kube_harness.h"

namespace kustodian::testing {
namespace {

using nlohmann::json;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

constexpr absl::Duration kConverge = absl::Seconds(45);

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void CreateNamespace(KubeE2EEnv& env, const std::string& ns) {
  CommandResult r = env.Kubectl({"create", "namespace", ns});
  ASSERT_EQ(r.code, 0) << r.out;
}

// Waits until `pred` holds for the DataConnection; returns the last object seen ({} if none).
json WaitDc(KubeE2EEnv& env, const std::string& ns, const std::string& name,
            const std::function<bool(const json&)>& pred, absl::Duration timeout = kConverge) {
  json last = json::object();
  bool ok = WaitUntil(
      [&] {
        std::optional<json> dc = env.GetDc(ns, name);
        if (!dc) {
          return false;
        }
        last = *dc;
        return pred(last);
      },
      timeout);
  EXPECT_TRUE(ok) << "DataConnection " << ns << "/" << name << " did not reach the expected state; "
                  << "last seen: " << last.dump(2);
  return last;
}

json WaitReadyAt(KubeE2EEnv& env, const std::string& ns, const std::string& name, int64_t gen) {
  return WaitDc(env, ns, name, [gen](const json& dc) {
    return GenerationOf(dc) == gen && ReadyAtCurrentGeneration(dc);
  });
}

bool HasFinalizer(const json& dc) {
  for (const json& f : dc["metadata"].value("finalizers", json::array())) {
    if (f == "kustodian.io/finalizer") {
      return true;
    }
  }
  return false;
}

std::set<std::string> ReportingInstances(const std::vector<json>& events) {
  std::set<std::string> out;
  for (const json& e : events) {
    out.insert(e.value("reportingInstance", ""));
  }
  return out;
}

bool HasEvent(const std::vector<json>& events, const std::string& reason) {
  for (const json& e : events) {
    if (e.value("reason", "") == reason) {
      return true;
    }
  }
  return false;
}

// Requests kustodian (by User-Agent) sent to the API server that match `pred`.
int CountKustodianApiRequests(KubeE2EEnv& env, const std::function<bool(const json&)>& pred) {
  int n = 0;
  for (const json& r : env.ApiRequests()) {
    if (absl::StartsWith(r.value("userAgent", ""), "kustodian/") && pred(r)) {
      ++n;
    }
  }
  return n;
}

bool IsDcWatch(const json& r) {
  return r.value("method", "") == "GET" &&
         absl::StrContains(r.value("path", ""), "/dataconnections") &&
         absl::StrContains(r.value("query", ""), "watch=");
}

bool IsDcList(const json& r) {
  return r.value("method", "") == "GET" &&
         absl::EndsWith(r.value("path", ""), "/dataconnections") &&
         !absl::StrContains(r.value("query", ""), "watch=");
}

// One spec change through kubectl apply: generation moves by one, exactly one PUT reaches the
// emulator, and the status (observedGeneration, every condition) follows.
void ExpectOneChangeApplied(KubeE2EEnv& env, DcSpec spec, const std::string& table) {
  std::optional<json> before = env.GetDc(spec.ns, spec.name);
  ASSERT_TRUE(before.has_value());
  const int64_t gen = GenerationOf(*before);
  const int64_t since = env.LastSeq();
  spec.table = table;
  CommandResult r = env.Apply(spec);
  ASSERT_EQ(r.code, 0) << r.out;
  json dc = WaitReadyAt(env, spec.ns, spec.name, gen + 1);
  EXPECT_EQ(ObservedGenerationOf(dc), gen + 1);
  const std::string path = ExampleConnPath(spec.cluster, spec.database, spec.name);
  std::optional<json> conn = env.EmulatorConnection(path);
  ASSERT_TRUE(conn.has_value());
  EXPECT_EQ((*conn)["properties"].value("tableName", ""), table);
  EXPECT_EQ(env.CountRequests(since, "PUT", path), 1);
}

// 1. kubectl apply of the example, kubectl wait, the printer columns of kubectl get, and the
// Events of kubectl describe.
TEST(KubeE2E, ApplyExampleWaitGetDescribe) {
  KubeE2EEnv env;
  ASSERT_TRUE(env.ok());
  CreateNamespace(env, "adx");
  ASSERT_NE(env.StartReplica("kustodian-0"), nullptr);

  const std::string example = SourceDir() + "/examples/manifests/eventhub.yaml";
  CommandResult applied = env.Kubectl({"apply", "-f", example});
  ASSERT_EQ(applied.code, 0) << applied.out;
  EXPECT_THAT(applied.out, HasSubstr("dataconnection.kustodian.io/storm-events created"));
  EXPECT_THAT(applied.out, HasSubstr("dataconnection.kustodian.io/clickstream-mi created"));

  CommandResult waited =
      env.Kubectl({"-n", "adx", "wait", "dataconnection/storm-events",
                   "dataconnection/clickstream-mi", "--for=condition=Ready", "--timeout=60s"});
  ASSERT_EQ(waited.code, 0) << waited.out << env.Logs();
  EXPECT_THAT(waited.out, HasSubstr("dataconnection.kustodian.io/storm-events condition met"));

  // The connections exist in the emulator as the examples say.
  std::optional<json> storm = env.EmulatorConnection(
      ExampleConnPath("mykustocluster", "mykustodatabase", "myeventhubconnect"));
  ASSERT_TRUE(storm.has_value());
  EXPECT_EQ((*storm)["properties"].value("tableName", ""), "StormEvents");
  EXPECT_EQ((*storm)["properties"].value("dataFormat", ""), "CSV");
  EXPECT_TRUE(
      env.EmulatorConnection(ExampleConnPath("analyticscluster", "events", "clickstream-mi")));

  // The resource carries the finalizer and a kstatus status.
  std::optional<json> dc = env.GetDc("adx", "storm-events");
  ASSERT_TRUE(dc.has_value());
  EXPECT_TRUE(HasFinalizer(*dc)) << dc->dump(2);
  EXPECT_TRUE(ReadyAtCurrentGeneration(*dc)) << dc->dump(2);
  EXPECT_EQ(ConditionOf(*dc, "Reconciling").value("status", ""), "False");
  EXPECT_EQ(ConditionOf(*dc, "Stalled").value("status", ""), "False");
  EXPECT_TRUE(absl::EqualsIgnoreCase(
      (*dc)["status"].value("armId", ""),
      ExampleConnPath("mykustocluster", "mykustodatabase", "myeventhubconnect")))
      << dc->dump(2);

  // Printer columns with the right values, also by short name across namespaces.
  CommandResult get = env.Kubectl({"get", "dataconnections", "-n", "adx"});
  ASSERT_EQ(get.code, 0) << get.out;
  EXPECT_THAT(get.out, ContainsRegex("NAME +KIND +CLUSTER +DATABASE +READY +REASON +AGE"));
  EXPECT_THAT(get.out, ContainsRegex("storm-events +EventHub +mykustocluster +mykustodatabase "
                                     "+True +InSync +[0-9]+[sm]"));
  EXPECT_THAT(get.out,
              ContainsRegex("clickstream-mi +EventHubWithManagedIdentity +analyticscluster "
                            "+events +True +InSync +[0-9]+[sm]"));
  CommandResult get_all = env.Kubectl({"get", "dc", "-A"});
  ASSERT_EQ(get_all.code, 0) << get_all.out;
  EXPECT_THAT(get_all.out, ContainsRegex("adx +storm-events +EventHub"));

  // kubectl describe shows the Events kustodian recorded (asynchronously).
  std::string describe;
  bool described = WaitUntil(
      [&] {
        CommandResult d = env.Kubectl({"-n", "adx", "describe", "dataconnection", "storm-events"});
        describe = d.out;
        return d.code == 0 && absl::StrContains(describe, "Events:") &&
               std::regex_search(describe,
                                 std::regex("Normal +Created +[0-9a-z]+ +kustodian.io/controller"));
      },
      absl::Seconds(20));
  EXPECT_TRUE(described) << describe;
}

// 2. A spec edit moves metadata.generation, causes exactly one PUT, and observedGeneration (also
// in each condition) follows; a re-apply without a change moves nothing.
TEST(KubeE2E, SpecEditMovesGenerationOnePutObservedGenerationFollows) {
  KubeE2EEnv env;
  ASSERT_TRUE(env.ok());
  CreateNamespace(env, "adx");
  ASSERT_NE(env.StartReplica("kustodian-0"), nullptr);

  DcSpec spec{.name = "orders", .table = "Orders"};
  const std::string path = ExampleConnPath(spec.cluster, spec.database, spec.name);
  const int64_t start = env.LastSeq();
  ASSERT_EQ(env.Apply(spec).code, 0);
  json dc = WaitReadyAt(env, "adx", "orders", 1);
  EXPECT_EQ(env.CountRequests(start, "PUT", path), 1);

  const int64_t since = env.LastSeq();
  spec.table = "OrdersV2";
  CommandResult r = env.Apply(spec);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("configured"));
  std::optional<json> edited = env.GetDc("adx", "orders");
  ASSERT_TRUE(edited.has_value());
  EXPECT_EQ(GenerationOf(*edited), 2);

  dc = WaitReadyAt(env, "adx", "orders", 2);
  for (const char* type : {"Ready", "Reconciling", "Stalled"}) {
    EXPECT_EQ(ConditionOf(dc, type).value("observedGeneration", int64_t{0}), 2) << type;
  }
  std::optional<json> conn = env.EmulatorConnection(path);
  ASSERT_TRUE(conn.has_value());
  EXPECT_EQ((*conn)["properties"].value("tableName", ""), "OrdersV2");
  EXPECT_TRUE(WaitUntil([&] { return HasEvent(env.Events("adx", "orders"), "Updated"); },
                        absl::Seconds(10)));

  // Re-applying the same manifest is a no-op: same generation, no write. (A short window to
  // prove an absence.)
  CommandResult same = env.Apply(spec);
  ASSERT_EQ(same.code, 0) << same.out;
  EXPECT_THAT(same.out, HasSubstr("unchanged"));
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(env.CountRequests(since, "PUT", path), 1);
  std::optional<json> after = env.GetDc("adx", "orders");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(GenerationOf(*after), 2);
  EXPECT_EQ(ObservedGenerationOf(*after), 2);
}

// 3. kubectl delete waits for the Azure delete (the object stays, with deletionTimestamp, while
// the emulator's DELETE runs), then the object is gone and so is the connection. Under
// `deletion: Orphan` the object goes and the connection stays.
TEST(KubeE2E, DeleteWaitsForAzureDeleteAndOrphanKeepsConnection) {
  KubeE2EEnv env({"--lro-duration", "2s"});
  ASSERT_TRUE(env.ok());
  CreateNamespace(env, "adx");
  ASSERT_NE(env.StartReplica("kustodian-0"), nullptr);

  DcSpec doomed{.name = "doomed", .table = "Doomed", .deletion = "Delete"};
  DcSpec kept{.name = "kept",
              .cluster = "analyticscluster",
              .database = "logs",
              .table = "Kept",
              .deletion = "Orphan"};
  const std::string doomed_path = ExampleConnPath("mykustocluster", "mykustodatabase", "doomed");
  const std::string kept_path = ExampleConnPath("analyticscluster", "logs", "kept");
  ASSERT_EQ(env.Apply(doomed).code, 0);
  ASSERT_EQ(env.Apply(kept).code, 0);
  WaitReadyAt(env, "adx", "doomed", 1);
  WaitReadyAt(env, "adx", "kept", 1);

  const int64_t since = env.LastSeq();
  std::unique_ptr<ChildProcess> del =
      env.StartKubectl({"delete", "dataconnection", "doomed", "-n", "adx", "--timeout=60s"});
  ASSERT_TRUE(WaitUntil([&] { return env.CountRequests(since, "DELETE", doomed_path) >= 1; },
                        absl::Seconds(20)))
      << env.Logs();
  // The Azure delete runs (2 s): the object is still there, marked, and kubectl still waits.
  std::optional<json> marked = env.GetDc("adx", "doomed");
  ASSERT_TRUE(marked.has_value());
  EXPECT_TRUE(marked->at("metadata").contains("deletionTimestamp")) << marked->dump(2);
  EXPECT_TRUE(HasFinalizer(*marked)) << marked->dump(2);
  std::optional<json> deleting = env.EmulatorConnection(doomed_path);
  ASSERT_TRUE(deleting.has_value());
  EXPECT_EQ((*deleting)["properties"].value("provisioningState", ""), "Deleting");
  EXPECT_TRUE(del->Running()) << del->Log();

  // Until it is gone, never: object gone while the connection still exists.
  bool object_outlived_connection = true;
  bool gone = WaitUntil(
      [&] {
        if (env.GetDc("adx", "doomed").has_value()) {
          return false;
        }
        object_outlived_connection = !env.EmulatorConnection(doomed_path).has_value();
        return true;
      },
      absl::Seconds(30));
  ASSERT_TRUE(gone) << env.Logs();
  EXPECT_TRUE(object_outlived_connection)
      << "the DataConnection went away before its Azure connection was deleted";
  std::optional<int> status = del->Wait(absl::Seconds(20));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << del->Log();
  EXPECT_THAT(del->Log(), HasSubstr("deleted"));
  EXPECT_FALSE(env.EmulatorConnection(doomed_path).has_value());
  EXPECT_EQ(env.CountRequests(since, "DELETE", doomed_path), 1);

  // Orphan: the object goes, the connection stays untouched.
  const int64_t since_orphan = env.LastSeq();
  CommandResult r = env.Kubectl({"delete", "dataconnection", "kept", "-n", "adx", "--timeout=60s"});
  ASSERT_EQ(r.code, 0) << r.out << env.Logs();
  EXPECT_FALSE(env.GetDc("adx", "kept").has_value());
  std::optional<json> orphan = env.EmulatorConnection(kept_path);
  ASSERT_TRUE(orphan.has_value());
  EXPECT_EQ((*orphan)["properties"].value("provisioningState", ""), "Succeeded");
  EXPECT_EQ((*orphan)["properties"].value("tableName", ""), "Kept");
  EXPECT_EQ(env.CountRequests(since_orphan, "DELETE", kept_path), 0);
  EXPECT_EQ(env.CountRequests(since_orphan, "PUT", kept_path), 0);
}

// 4. An invalid spec is refused by the CRD schema at kubectl apply where it can be; otherwise it
// ends Stalled=True with a message that says what to fix, and fixing the spec clears it. Three
// kinds the schema cannot catch: an Event Hub id that names a storage account (the controller's
// own validation), a value ARM refuses with a 400 (AZMONSTREAM with api-version 2024-04-13),
// and a cluster that does not exist (ARM's 404).
TEST(KubeE2E, InvalidSpecRefusedBySchemaOrStalledUntilFixed) {
  KubeE2EEnv env;
  ASSERT_TRUE(env.ok());
  CreateNamespace(env, "adx");
  ASSERT_NE(env.StartReplica("kustodian-0", {"--api-version", "2024-04-13"}), nullptr);

  // Refused by the schema: an enum value in the wrong casing.
  CommandResult refused = env.Apply(DcSpec{.name = "badformat", .data_format = "csv"});
  EXPECT_NE(refused.code, 0) << refused.out;
  EXPECT_THAT(refused.out, HasSubstr("spec.properties.dataFormat"));
  EXPECT_THAT(refused.out, HasSubstr("Unsupported value: \"csv\""));
  EXPECT_FALSE(env.GetDc("adx", "badformat").has_value());

  DcSpec wrong{.name = "wrongtype",
               .table = "Wrong",
               .event_hub_id = absl::StrCat("/subscriptions/", kExampleSub,
                                            "/resourceGroups/testrg/providers/"
                                            "Microsoft.Storage/storageAccounts/sa1")};
  DcSpec rejected{.name = "rejected",
                  .cluster = "analyticscluster",
                  .database = "logs",
                  .table = "Rejected",
                  .data_format = "AZMONSTREAM"};
  DcSpec ghost{.name = "ghost", .cluster = "nosuchcluster", .table = "Ghost"};
  const int64_t since = env.LastSeq();
  ASSERT_EQ(env.Apply(wrong).code, 0);
  ASSERT_EQ(env.Apply(rejected).code, 0);
  ASSERT_EQ(env.Apply(ghost).code, 0);
  auto stalled = [](const json& dc) {
    return ObservedGenerationOf(dc) == GenerationOf(dc) &&
           ConditionOf(dc, "Stalled").value("status", "") == "True";
  };
  auto stalled_message = [](const json& dc) {
    return ConditionOf(dc, "Stalled").value("message", "");
  };

  json w = WaitDc(env, "adx", "wrongtype", stalled);
  EXPECT_EQ(ConditionOf(w, "Ready").value("status", ""), "False");
  EXPECT_THAT(stalled_message(w), HasSubstr("spec.properties.eventHubResourceId"));
  EXPECT_THAT(stalled_message(w), HasSubstr("Microsoft.EventHub/namespaces/eventhubs"));
  EXPECT_EQ(env.CountRequests(since, "PUT", "/dataConnections/wrongtype"), 0)
      << "an invalid spec must not reach ARM";

  json r = WaitDc(env, "adx", "rejected", stalled);
  EXPECT_EQ(ConditionOf(r, "Ready").value("status", ""), "False");
  EXPECT_EQ(ConditionOf(r, "Stalled").value("reason", ""), "ArmRejected");
  EXPECT_THAT(stalled_message(r), HasSubstr("dataFormat"));
  EXPECT_THAT(stalled_message(r), HasSubstr("AZMONSTREAM"));
  // Terminal: not retried until the spec changes (a short window to prove an absence).
  const int rejected_puts = env.CountRequests(since, "PUT", "/dataConnections/rejected");
  EXPECT_EQ(rejected_puts, 1);
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(env.CountRequests(since, "PUT", "/dataConnections/rejected"), rejected_puts);

  json g = WaitDc(env, "adx", "ghost", stalled, absl::Seconds(20));
  EXPECT_EQ(ConditionOf(g, "Ready").value("status", ""), "False");
  EXPECT_EQ(ConditionOf(g, "Stalled").value("reason", ""), "ParentNotFound") << g.dump(2);
  EXPECT_THAT(stalled_message(g), HasSubstr("nosuchcluster"));
  EXPECT_THAT(stalled_message(g), HasSubstr("spec.target"));

  // kubectl reads it the same way.
  CommandResult jp = env.Kubectl({"-n", "adx", "get", "dc", "rejected", "-o",
                                  "jsonpath={.status.conditions[?(@.type==\"Stalled\")].status}"});
  EXPECT_EQ(jp.out, "True");

  // Fixing the spec clears Stalled.
  wrong.event_hub_id = "";
  rejected.data_format = "JSON";
  ghost.cluster = "mykustocluster";
  ghost.database = "telemetry";
  for (const DcSpec* spec : {&wrong, &rejected, &ghost}) {
    CommandResult fixed = env.Apply(*spec);
    ASSERT_EQ(fixed.code, 0) << fixed.out;
  }
  for (const DcSpec* spec : {&wrong, &rejected, &ghost}) {
    json fixed = WaitReadyAt(env, "adx", spec->name, 2);
    EXPECT_EQ(ConditionOf(fixed, "Stalled").value("status", ""), "False") << fixed.dump(2);
    EXPECT_TRUE(env.EmulatorConnection(ExampleConnPath(spec->cluster, spec->database, spec->name)))
        << spec->name;
  }
}

// 5a. Watches cut, 410 Gone on re-watch, 409 conflicts on status writes: after each, a spec
// change is still applied (one PUT) and the status written. The API server sends bookmarks
// only every 10 minutes here, so kustodian's last seen resourceVersion stays at its last
// DataConnection event and a compaction after other writes makes it too old.
TEST(KubeE2E, RecoversFromBrokenWatchesGoneAndStatusConflicts) {
  KubeE2EEnv env({}, "", {"--bookmark-interval-ms", "600000"});
  ASSERT_TRUE(env.ok());
  CreateNamespace(env, "adx");
  KubeReplica* replica = env.StartReplica("kustodian-0");
  ASSERT_NE(replica, nullptr);
  DcSpec spec{.name = "orders", .table = "Orders"};
  ASSERT_EQ(env.Apply(spec).code, 0);
  WaitReadyAt(env, "adx", "orders", 1);

  // Watches cut: kustodian watches again.
  const int watches = CountKustodianApiRequests(env, IsDcWatch);
  ASSERT_TRUE(env.TestAction("break-watches"));
  EXPECT_TRUE(WaitUntil([&] { return CountKustodianApiRequests(env, IsDcWatch) > watches; },
                        absl::Seconds(10)));
  ExpectOneChangeApplied(env, spec, "OrdersAfterBreak");

  // Compacted history: other writes move the resourceVersion on, the history is dropped, and
  // the re-watch from kustodian's last version gets 410 Gone: it relists.
  CommandResult cm = env.Kubectl({"-n", "adx", "create", "configmap", "unrelated"});
  ASSERT_EQ(cm.code, 0) << cm.out;
  const int lists = CountKustodianApiRequests(env, IsDcList);
  ASSERT_TRUE(env.TestAction("compact"));
  ASSERT_TRUE(env.TestAction("break-watches"));
  EXPECT_TRUE(WaitUntil([&] { return CountKustodianApiRequests(env, IsDcList) > lists; },
                        absl::Seconds(10)));
  EXPECT_THAT(replica->process->Log(), HasSubstr("410 Gone"));
  ExpectOneChangeApplied(env, spec, "OrdersAfterGone");

  // Three 409 Conflicts on the status subresource: the status write re-reads and retries.
  // (Only kustodian writes status, so all three meet it; it may meet real conflicts too.)
  auto status_conflict = [](const json& r) {
    return absl::EndsWith(r.value("path", ""), "/status") && r.value("status", 0) == 409;
  };
  const int conflicts = CountKustodianApiRequests(env, status_conflict);
  ASSERT_TRUE(env.TestAction("conflict?resource=dataconnections/status&count=3"));
  ExpectOneChangeApplied(env, spec, "OrdersAfterConflict");
  EXPECT_GE(CountKustodianApiRequests(env, status_conflict) - conflicts, 3);
}

// How long the API server is away in the outage tests: 10 s in `make test` (longer than the
// daemon's first backoff steps, short enough for the CI budget); `make soak` sets
// KUSTODIAN_API_PAUSE_SECONDS=30.
int ApiPauseSeconds() {
  const char* v = std::getenv("KUSTODIAN_API_PAUSE_SECONDS");
  const int seconds = v != nullptr && *v != '\0' ? std::atoi(v) : 10;
  return std::max(seconds, 5);
}

// 5b. The API server away (every request 503 for 10 s, or ApiPauseSeconds(), watches cut): a change applied before
// the outage and one queued during it (kubectl retries on 503 + Retry-After) are both applied,
// and the status catches up. 10 s is longer than the daemon's first backoff steps (0.2 s
// doubling), so it sees several failures in a row, and short enough for the time budget.
TEST(KubeE2E, ApiServerAwayLosesNoSpecChange) {
  KubeE2EEnv env({"--lro-duration", "1s"});
  ASSERT_TRUE(env.ok());
  CreateNamespace(env, "adx");
  ASSERT_NE(env.StartReplica("kustodian-0"), nullptr);
  DcSpec spec{.name = "orders", .table = "Orders"};
  const std::string path = ExampleConnPath(spec.cluster, spec.database, spec.name);
  ASSERT_EQ(env.Apply(spec).code, 0);
  WaitReadyAt(env, "adx", "orders", 1);

  // Change 1: the PUT starts; its operation (1 s) completes while the API server is away, so
  // the status write that follows meets the outage.
  const int64_t since = env.LastSeq();
  spec.table = "OrdersV2";
  ASSERT_EQ(env.Apply(spec).code, 0);
  ASSERT_TRUE(
      WaitUntil([&] { return env.CountRequests(since, "PUT", path) == 1; }, absl::Seconds(20)));
  const int kPauseSeconds = ApiPauseSeconds();
  ASSERT_TRUE(env.TestAction(absl::StrCat("pause?seconds=", kPauseSeconds)));
  const absl::Time pause_end = absl::Now() + absl::Seconds(kPauseSeconds);
  ASSERT_TRUE(env.TestAction("break-watches"));

  // Change 2, queued during the outage: kubectl retries on 503 + Retry-After.
  spec.table = "OrdersV3";
  std::unique_ptr<ChildProcess> queued = env.StartKubectl(
      {"apply", "-f", env.WriteFile("orders-v3.yaml", DcYaml(spec)), "--request-timeout=60s"});
  std::optional<int> status = queued->Wait(absl::Seconds(kPauseSeconds + 30));
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << queued->Log();
  EXPECT_GE(absl::Now(), pause_end - absl::Seconds(1)) << "kubectl got through during the pause";

  json dc = WaitReadyAt(env, "adx", "orders", 3);
  const absl::Duration recovery = absl::Now() - pause_end;
  std::cerr << "recovered " << absl::FormatDuration(recovery) << " after the outage ended\n";
  std::optional<json> conn = env.EmulatorConnection(path);
  ASSERT_TRUE(conn.has_value());
  EXPECT_EQ((*conn)["properties"].value("tableName", ""), "OrdersV3");
  EXPECT_EQ(env.CountRequests(since, "PUT", path), 2);
  // The daemon did meet the outage.
  EXPECT_GT(
      CountKustodianApiRequests(env, [](const json& r) { return r.value("status", 0) == 503; }), 0);
}

// 6a. Two replicas with leader election: only the leader writes (ARM writes per replica, and
// who reported the Events); SIGKILL the leader and the standby takes over within the lease
// time, then reconciles a new resource.
TEST(KubeE2E, LeaderElectionOnlyLeaderWritesAndStandbyTakesOver) {
  KubeE2EEnv env;
  ASSERT_TRUE(env.ok());
  CreateNamespace(env, "adx");
  const absl::Duration lease = absl::Seconds(3);
  const std::vector<std::string> flags = {"--leader-elect",
                                          "--leader-election-namespace",
                                          "default",
                                          "--leader-election-lease-duration",
                                          "3s",
                                          "--leader-election-renew-deadline",
                                          "2s",
                                          "--leader-election-retry-period",
                                          "500ms"};
  KubeReplica* a = env.StartReplica("replica-a", flags);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return env.Leads(*a); }, absl::Seconds(15))) << env.Logs();
  KubeReplica* b = env.StartReplica("replica-b", flags);
  ASSERT_NE(b, nullptr);

  DcSpec first{.name = "first", .table = "First"};
  ASSERT_EQ(env.Apply(first).code, 0);
  WaitReadyAt(env, "adx", "first", 1);
  ASSERT_TRUE(WaitUntil([&] { return HasEvent(env.Events("adx", "first"), "Created"); },
                        absl::Seconds(10)));
  EXPECT_GE(env.ArmWrites(*a), 1);
  EXPECT_EQ(env.ArmWrites(*b), 0);
  EXPECT_FALSE(env.Leads(*b));
  EXPECT_EQ(ReportingInstances(env.Events("adx", "first")), std::set<std::string>{"replica-a"});
  // The standby is ready to take over.
  HttpHelper http;
  absl::StatusOr<HttpResponse> ready =
      http.Request("GET", absl::StrCat("http://127.0.0.1:", b->port, "/readyz"));
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200) << ready->body;

  a->process->Signal(SIGKILL);
  const absl::Time killed = absl::Now();
  ASSERT_TRUE(a->process->Wait(absl::Seconds(10)).has_value());
  ASSERT_TRUE(WaitUntil([&] { return env.Leads(*b); }, absl::Seconds(15))) << env.Logs();
  const absl::Duration takeover = absl::Now() - killed;
  std::cerr << "standby took over " << absl::FormatDuration(takeover) << " after SIGKILL\n";
  // Not before the lease ran out (the last renewal was at most one retry period before the kill),
  // and within the lease time plus a retry period and some scheduling slack.
  EXPECT_GE(takeover, lease - absl::Milliseconds(800));
  EXPECT_LE(takeover, lease + absl::Seconds(2));

  DcSpec second{.name = "second", .table = "Second"};
  ASSERT_EQ(env.Apply(second).code, 0);
  WaitReadyAt(env, "adx", "second", 1);
  EXPECT_GE(env.ArmWrites(*b), 1);
  ASSERT_TRUE(WaitUntil([&] { return HasEvent(env.Events("adx", "second"), "Created"); },
                        absl::Seconds(10)));
  EXPECT_EQ(ReportingInstances(env.Events("adx", "second")), std::set<std::string>{"replica-b"});
  EXPECT_TRUE(
      env.EmulatorConnection(ExampleConnPath("mykustocluster", "mykustodatabase", "second")));
}

// 6c. The API server away for 10 s (ApiPauseSeconds()) under leader election: the leader cannot renew within its
// deadline and exits (it would rather stop than risk a second writer); the "kubelet" (the test)
// starts it again. After the outage exactly one replica leads, and the spec change applied
// during the outage is made with exactly one PUT.
TEST(KubeE2E, ApiServerAwayUnderLeaderElectionOneLeaderAfterAndNoChangeLost) {
  KubeE2EEnv env;
  ASSERT_TRUE(env.ok());
  CreateNamespace(env, "adx");
  const std::vector<std::string> flags = {"--leader-elect",
                                          "--leader-election-namespace",
                                          "default",
                                          "--leader-election-lease-duration",
                                          "3s",
                                          "--leader-election-renew-deadline",
                                          "2s",
                                          "--leader-election-retry-period",
                                          "500ms"};
  KubeReplica* a = env.StartReplica("replica-a", flags);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return env.Leads(*a); }, absl::Seconds(15))) << env.Logs();
  KubeReplica* b = env.StartReplica("replica-b", flags);
  ASSERT_NE(b, nullptr);
  DcSpec spec{.name = "orders", .table = "Orders"};
  const std::string path = ExampleConnPath(spec.cluster, spec.database, spec.name);
  ASSERT_EQ(env.Apply(spec).code, 0);
  WaitReadyAt(env, "adx", "orders", 1);
  const int64_t since = env.LastSeq();

  const int kPauseSeconds = ApiPauseSeconds();
  ASSERT_TRUE(env.TestAction(absl::StrCat("pause?seconds=", kPauseSeconds)));
  const absl::Time pause_end = absl::Now() + absl::Seconds(kPauseSeconds);
  ASSERT_TRUE(env.TestAction("break-watches"));
  spec.table = "OrdersV2";
  std::unique_ptr<ChildProcess> queued = env.StartKubectl(
      {"apply", "-f", env.WriteFile("orders-v2.yaml", DcYaml(spec)), "--request-timeout=60s"});

  // The leader gives up within its renew deadline (plus a retry period), during the outage.
  std::optional<int> exited = a->process->Wait(absl::Seconds(kPauseSeconds - 2));
  ASSERT_TRUE(exited.has_value()) << "the leader kept running without its lease\n" << env.Logs();
  EXPECT_TRUE(WIFEXITED(*exited) && WEXITSTATUS(*exited) == 1) << *exited;
  EXPECT_THAT(a->process->Log(), HasSubstr("leader election lost"));
  EXPECT_LT(absl::Now(), pause_end);
  EXPECT_FALSE(env.Leads(*b)) << "the standby cannot take the lease while the API is away";
  KubeReplica* a2 = env.StartReplica("replica-a", flags);  // the kubelet restarts the container
  ASSERT_NE(a2, nullptr);

  std::optional<int> status = queued->Wait(absl::Seconds(kPauseSeconds + 30));
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << queued->Log();
  WaitReadyAt(env, "adx", "orders", 2);
  std::cerr << "recovered " << absl::FormatDuration(absl::Now() - pause_end)
            << " after the outage ended\n";
  // Exactly one leader, and it stays the only one.
  ASSERT_TRUE(WaitUntil([&] { return env.Leads(*b) || env.Leads(*a2); }, absl::Seconds(15)))
      << env.Logs();
  for (int i = 0; i < 4; ++i) {
    EXPECT_NE(env.Leads(*b), env.Leads(*a2));
    absl::SleepFor(absl::Milliseconds(500));  // a few retry periods: no second leader appears
  }
  std::optional<json> conn = env.EmulatorConnection(path);
  ASSERT_TRUE(conn.has_value());
  EXPECT_EQ((*conn)["properties"].value("tableName", ""), "OrdersV2");
  EXPECT_EQ(env.CountRequests(since, "PUT", path), 1);
  const KubeReplica& standby = env.Leads(*b) ? *a2 : *b;
  EXPECT_EQ(env.ArmWrites(standby), 0) << standby.identity << " wrote without leading";
}

// 6b. Two shards: every resource is reconciled by exactly one of them, and together they cover
// all resources.
TEST(KubeE2E, TwoShardsSplitResourcesWithoutOverlap) {
  // Writes to different connections of one cluster need not wait for each other here: the two
  // shards are independent writers.
  KubeE2EEnv env({"--no-serialize-cluster-writes"});
  ASSERT_TRUE(env.ok());
  CreateNamespace(env, "adx");
  KubeReplica* s0 = env.StartReplica("shard-0", {"--shard-count", "2", "--shard-index", "0"});
  ASSERT_NE(s0, nullptr);
  KubeReplica* s1 = env.StartReplica("shard-1", {"--shard-count", "2", "--shard-index", "1"});
  ASSERT_NE(s1, nullptr);

  std::vector<std::string> names;
  std::string all;
  for (int i = 0; i < 8; ++i) {
    DcSpec spec{.name = absl::StrCat("conn-", i), .table = absl::StrCat("T", i)};
    // Two clusters, two databases each: a replica writes one connection of a cluster at a time.
    static const char* const kTargets[4][2] = {{"mykustocluster", "mykustodatabase"},
                                               {"mykustocluster", "telemetry"},
                                               {"analyticscluster", "logs"},
                                               {"analyticscluster", "events"}};
    spec.cluster = kTargets[i % 4][0];
    spec.database = kTargets[i % 4][1];
    names.push_back(spec.name);
    absl::StrAppend(&all, "---\n", DcYaml(spec));
  }
  const int64_t since = env.LastSeq();
  CommandResult r = env.Kubectl({"apply", "-f", env.WriteFile("all.yaml", all)});
  ASSERT_EQ(r.code, 0) << r.out;
  for (const std::string& name : names) {
    WaitReadyAt(env, "adx", name, 1);
  }

  std::map<std::string, int> per_shard;
  for (const std::string& name : names) {
    std::vector<json> events;
    ASSERT_TRUE(WaitUntil(
        [&] {
          events = env.Events("adx", name);
          return HasEvent(events, "Created");
        },
        absl::Seconds(10)))
        << name;
    std::set<std::string> by = ReportingInstances(events);
    ASSERT_EQ(by.size(), 1u) << name << " was handled by several shards";
    per_shard[*by.begin()]++;
  }
  EXPECT_EQ(per_shard["shard-0"] + per_shard["shard-1"], 8);
  EXPECT_GT(per_shard["shard-0"], 0);
  EXPECT_GT(per_shard["shard-1"], 0);
  // Each shard's creates (201s) match the resources it reported on; one PUT per connection.
  EXPECT_EQ(env.MetricSum(*s0, "kustodian_arm_requests_total", {"method=\"PUT\"", "code=\"201\""}),
            per_shard["shard-0"]);
  EXPECT_EQ(env.MetricSum(*s1, "kustodian_arm_requests_total", {"method=\"PUT\"", "code=\"201\""}),
            per_shard["shard-1"]);
  EXPECT_EQ(env.CountRequests(since, "PUT", "/dataConnections/conn-"), 8);
}

// 7. spec.credentialRef (issue 4, docs/kubernetes.md "credentialRef"): a resource names a
// Secret created by `kubectl create secret generic`. While the Secret is missing the resource
// is Ready=False with reason CredentialNotFound and nothing is written; once it exists the
// daemon gets a client-credentials token for that service principal from the emulator's token
// endpoint (AZURE_AUTHORITY_HOST) and the PUT reaching ARM carries it (the emulator's request
// log records who called), while a resource without credentialRef is still written with the
// daemon's own identity. The client secret appears in no process log, status, Event or metric.
TEST(KubeE2E, CredentialRefWritesAsTheSecretsServicePrincipal) {
  constexpr char kTenant[] = "70000000-0000-0000-0000-000000000007";
  constexpr char kClientId[] = "77777777-7777-7777-7777-777777777777";
  constexpr char kObjectId[] = "87777777-7777-7777-7777-777777777777";
  // Distinctive, so that any copy of it (or of its base64 form) is found.
  constexpr char kClientSecret[] = "Zq8~credref-VALUE-4b1e9c";
  std::string world = ReadFileOrEmpty(SourceDir() + "/examples/world.yaml");
  ASSERT_THAT(world, HasSubstr("\nprincipals:\n"));
  world = std::regex_replace(world, std::regex("\nprincipals:\n"),
                             absl::StrCat("\nprincipals:\n  - clientId: ", kClientId,
                                          "\n    clientSecret: ", kClientSecret, "\n    tenantId: ",
                                          kTenant, "\n    objectId: ", kObjectId, "\n"));
  KubeE2EEnv env({}, world);
  ASSERT_TRUE(env.ok());
  CreateNamespace(env, "adx");
  KubeReplica* replica =
      env.StartReplica("kustodian-0", {}, {{"AZURE_AUTHORITY_HOST", env.emulator.base_url}});
  ASSERT_NE(replica, nullptr);

  DcSpec sp{.name = "sp-orders", .table = "SpOrders", .credential_ref = "adx-writer"};
  DcSpec own{.name = "own-orders", .table = "OwnOrders"};
  const std::string sp_path = ExampleConnPath(sp.cluster, sp.database, sp.name);
  const std::string own_path = ExampleConnPath(own.cluster, own.database, own.name);
  const int64_t start = env.LastSeq();

  // No Secret yet: Ready=False, reason CredentialNotFound, retried (not Stalled), not written.
  ASSERT_EQ(env.Apply(sp).code, 0);
  json missing = WaitDc(env, "adx", sp.name, [](const json& dc) {
    return ConditionOf(dc, "Ready").value("reason", "") == "CredentialNotFound";
  });
  EXPECT_EQ(ConditionOf(missing, "Ready").value("status", ""), "False") << missing.dump(2);
  EXPECT_EQ(ConditionOf(missing, "Reconciling").value("status", ""), "True") << missing.dump(2);
  EXPECT_EQ(ConditionOf(missing, "Stalled").value("status", ""), "False") << missing.dump(2);
  EXPECT_THAT(ConditionOf(missing, "Ready").value("message", ""), HasSubstr("adx-writer"));
  EXPECT_EQ(env.CountRequests(start, "PUT", sp_path), 0)
      << "nothing may be written with the daemon's identity instead";

  // The Secret, made the way the docs say.
  CommandResult created =
      env.Kubectl({"-n", "adx", "create", "secret", "generic", "adx-writer",
                   absl::StrCat("--from-literal=clientId=", kClientId),
                   absl::StrCat("--from-literal=tenantId=", kTenant),
                   absl::StrCat("--from-literal=clientSecret=", kClientSecret)});
  ASSERT_EQ(created.code, 0) << created.out;
  ASSERT_EQ(env.Apply(own).code, 0);
  json ready = WaitReadyAt(env, "adx", sp.name, 1);
  EXPECT_EQ(ConditionOf(ready, "Ready").value("reason", ""), "InSync") << ready.dump(2);
  WaitReadyAt(env, "adx", own.name, 1);
  std::optional<json> conn = env.EmulatorConnection(sp_path);
  ASSERT_TRUE(conn.has_value());
  EXPECT_EQ((*conn)["properties"].value("tableName", ""), "SpOrders");

  // Who did what, from the emulator's request log.
  int sp_tokens = 0;
  int sp_puts = 0;
  int own_puts = 0;
  std::set<std::string> sp_callers;
  std::set<std::string> list_callers;
  for (const json& r : env.EmulatorRequests(start)) {
    const std::string method = r.value("method", "");
    const std::string path = r.value("path", "");
    const std::string who = r.value("principal", "");
    if (method == "POST" && path == absl::StrCat("/", kTenant, "/oauth2/v2.0/token") &&
        who == kClientId && r.value("status", 0) == 200) {
      ++sp_tokens;
    }
    if (absl::EqualsIgnoreCase(path, sp_path) &&
        (method == "PUT" || method == "DELETE" || method == "GET")) {
      sp_callers.insert(who);
      sp_puts += method == "PUT" && r.value("status", 0) / 100 == 2;
    }
    if (absl::EqualsIgnoreCase(path, own_path) && method == "PUT") {
      own_puts += who == "dev";
    }
    if (method == "GET" && absl::EndsWithIgnoreCase(path, "/dataConnections")) {
      list_callers.insert(who);
    }
  }
  EXPECT_GE(sp_tokens, 1) << "no token for " << kClientId << " from the emulator's token endpoint";
  EXPECT_EQ(sp_puts, 1);
  EXPECT_EQ(sp_callers, std::set<std::string>{kObjectId})
      << "the connection must be written and read back as the Secret's service principal only";
  EXPECT_EQ(own_puts, 1) << "a resource without credentialRef is written as the daemon";
  // LISTs refresh the shared cache: always the daemon's identity (docs/kubernetes.md).
  EXPECT_EQ(list_callers, std::set<std::string>{"dev"});

  // The secret value, raw or base64 (as the Secret's data holds it), is nowhere to be seen.
  const std::vector<std::string> needles = {kClientSecret, absl::Base64Escape(kClientSecret)};
  auto expect_no_secret = [&](const std::string& where, const std::string& text) {
    for (const std::string& needle : needles) {
      EXPECT_EQ(text.find(needle), std::string::npos) << "the client secret leaked into " << where;
    }
  };
  CommandResult dc_json = env.Kubectl({"-n", "adx", "get", "dc", sp.name, "-o", "json"});
  ASSERT_EQ(dc_json.code, 0) << dc_json.out;
  EXPECT_THAT(dc_json.out, HasSubstr("\"observedGeneration\""));
  expect_no_secret("the resource", dc_json.out);
  CommandResult events = env.Kubectl({"get", "events", "-A", "-o", "json"});
  ASSERT_EQ(events.code, 0) << events.out;
  // Not vacuous: the Events of this resource are there, the credential failure's included.
  EXPECT_THAT(events.out, HasSubstr(sp.name));
  EXPECT_THAT(events.out, HasSubstr("adx-writer"));
  expect_no_secret("the Events", events.out);
  const std::string metrics = env.Metrics(*replica);
  EXPECT_THAT(metrics, HasSubstr("kustodian_arm_requests_total"));
  expect_no_secret("the metrics", metrics);
  const std::string daemon_log = replica->process->Log();
  EXPECT_THAT(daemon_log, HasSubstr("adx-writer"));  // the log does talk about the Secret
  expect_no_secret("the daemon's log", daemon_log);
  expect_no_secret("the emulator's log", env.emulator.process->Log());
  expect_no_secret("the API server's log", env.apiserver->Log());
  expect_no_secret("kubectl's output", created.out);
}

}  // namespace
}  // namespace kustodian::testing
