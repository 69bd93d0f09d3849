// Real kubectl (v1.32) against the real kube-test-apiserver binary: apply, get (printer
// columns, short name), describe (Events from events.k8s.io/v1), status patch, wait, delete
// with and without finalizers, re-apply moving generation.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kubeapi_tests/test_util.h"

namespace kustodian::kubeapi::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kKubectl = "/usr/bin/kubectl";
constexpr const char* kReady =
    R"({"status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True",)"
    R"("reason":"Reconciled","message":"in sync","observedGeneration":1,)"
    R"("lastTransitionTime":"2024-01-01T00:00:00Z"}]}})";

class KubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kKubectl, X_OK) != 0) GTEST_SKIP() << "kubectl is not installed";
    dir_ = fs::temp_directory_path() / absl::StrCat("kubeapi-kubectl-", getpid());
    fs::create_directories(dir_);
    std::string binary = std::string(KUSTODIAN_BINARY_DIR) + "/kube-test-apiserver";
    std::vector<std::string> args = {binary,
                                     "--crd",
                                     TestCrdPath(),
                                     "--port-file",
                                     (dir_ / "port").string(),
                                     "--kubeconfig-out",
                                     (dir_ / "kubeconfig").string(),
                                     "--token",
                                     "kubectl-test-token",
                                     "--self-signed-tls",
                                     dir_.string()};
    pid_ = fork();
    if (pid_ == 0) {
      std::freopen((dir_ / "server.log").c_str(), "w", stderr);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!fs::exists(dir_ / "port") && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_TRUE(fs::exists(dir_ / "port")) << "the server did not start";
    std::ifstream in(dir_ / "port");
    in >> port_;
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "graceful stop";
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs kubectl with the server's kubeconfig; returns exit code and combined output.
  std::pair<int, std::string> Kubectl(const std::string& args) {
    std::string cmd = absl::StrCat("KUBECONFIG=", (dir_ / "kubeconfig").string(),
                                   " HOME=", dir_.string(), " ", kKubectl, " ", args, " 2>&1");
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (p != nullptr && fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    int status = p == nullptr ? -1 : pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }
  std::string MustKubectlFails(const std::string& args) {
    auto [code, out] = Kubectl(args);
    EXPECT_NE(code, 0) << "kubectl " << args << "\n" << out;
    return out;
  }
  static std::string FormatMicroTimeForTest() {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone());
  }
  std::string MustKubectl(const std::string& args) {
    auto [code, out] = Kubectl(args);
    EXPECT_EQ(code, 0) << "kubectl " << args << "\n" << out;
    return out;
  }
  std::string Write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name) << content;
    return (dir_ / name).string();
  }

  fs::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_F(KubectlTest, EndToEnd) {
  std::string examples = std::string(KUSTODIAN_SOURCE_DIR) + "/examples/manifests";
  EXPECT_THAT(MustKubectl("create namespace adx"), HasSubstr("namespace/adx created"));
  std::string applied = MustKubectl("apply -f " + examples);
  EXPECT_THAT(applied, HasSubstr("dataconnection.kustodian.io/storm-events created"));

  std::string get = MustKubectl("get dataconnections -n adx");
  EXPECT_THAT(get, HasSubstr("NAME"));
  for (const char* col : {"KIND", "CLUSTER", "DATABASE", "READY", "REASON", "AGE"}) {
    EXPECT_THAT(get, HasSubstr(col));
  }
  EXPECT_THAT(get, ::testing::ContainsRegex("storm-events +EventHub +mykustocluster"));
  EXPECT_THAT(MustKubectl("get dc -A"), HasSubstr("blob-logs"));

  // An Event recorded through events.k8s.io/v1 shows in describe.
  std::string uid = MustKubectl("get dc storm-events -n adx -o jsonpath={.metadata.uid}");
  std::string ev = absl::StrCat(
      "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: storm-events.1, namespace: "
      "adx}\neventTime: \"",
      FormatMicroTimeForTest(), "\"\nreportingController: kustodian.io/controller\n",
      "reportingInstance: kustodian-0\naction: Create\nreason: Created\ntype: Normal\n",
      "note: created connection myeventhubconnect\nregarding: {apiVersion: kustodian.io/v1alpha1, "
      "kind: DataConnection, name: storm-events, namespace: adx, uid: ",
      uid, "}\n");
  MustKubectl("create -f " + Write("event.yaml", ev));
  std::string describe = MustKubectl("describe dc storm-events -n adx");
  EXPECT_THAT(describe, HasSubstr("Events:"));
  EXPECT_THAT(describe,
              ::testing::ContainsRegex(
                  "Normal +Created +[0-9]+s +kustodian.io/controller +created connection"));

  // kubectl wait returns once the status subresource says Ready (set while it waits).
  pid_t patcher = fork();
  if (patcher == 0) {
    usleep(1500 * 1000);
    execl("/bin/sh", "sh", "-c",
          absl::StrCat("KUBECONFIG=", (dir_ / "kubeconfig").string(), " HOME=", dir_.string(),
                       " kubectl patch dc storm-events -n adx --subresource=status --type merge "
                       "-p '",
                       kReady, "' >/dev/null 2>&1")
              .c_str(),
          nullptr);
    _exit(127);
  }
  absl::Time start = absl::Now();
  std::string waited =
      MustKubectl("wait --for=condition=Ready dc/storm-events -n adx --timeout=20s");
  waitpid(patcher, nullptr, 0);
  EXPECT_THAT(waited, HasSubstr("condition met"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_THAT(MustKubectl("get dc storm-events -n adx"),
              ::testing::ContainsRegex("True +Reconciled"));

  // Schema validation through kubectl apply.
  std::string bad = MustKubectlFails(
      "apply -f " +
      Write(
          "bad.yaml",
          "apiVersion: kustodian.io/v1alpha1\nkind: DataConnection\nmetadata: {name: bad, "
          "namespace: "
          "adx}\nspec:\n  target: {subscriptionId: 00000000-0000-0000-0000-000000000001, "
          "resourceGroup: rg, cluster: mycluster, database: db}\n  kind: Foo\n  properties: {}\n"));
  EXPECT_THAT(bad, HasSubstr("spec.kind: Unsupported value: \"Foo\""));

  // Re-apply after an edit moves generation.
  std::string edited = examples + "/eventgrid.yaml";
  std::ifstream in(edited);
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  yaml.replace(yaml.find("tableName: RawLogs"), 18, "tableName: RawLogs2");
  EXPECT_THAT(MustKubectl("apply -f " + Write("eventgrid.yaml", yaml)), HasSubstr("configured"));
  EXPECT_EQ(MustKubectl("get dc blob-logs -n adx -o jsonpath={.metadata.generation}"), "2");
  EXPECT_THAT(MustKubectl("apply -f " + Write("eventgrid.yaml", yaml)), HasSubstr("unchanged"));

  // Delete without finalizers; with a finalizer the object stays until it is removed.
  EXPECT_THAT(MustKubectl("delete dc orders-changefeed -n adx --timeout=20s"),
              HasSubstr("deleted"));
  MustKubectl(
      "patch dc blob-logs -n adx --type merge -p "
      "'{\"metadata\":{\"finalizers\":[\"kustodian.io/finalizer\"]}}'");
  MustKubectl("delete dc blob-logs -n adx --wait=false");
  EXPECT_THAT(MustKubectl("get dc blob-logs -n adx -o jsonpath={.metadata.deletionTimestamp}"),
              ::testing::MatchesRegex("20[0-9-]+T[0-9:]+Z"));
  MustKubectl(
      "patch dc blob-logs -n adx --type json -p "
      "'[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]'");
  auto [code, out] = Kubectl("get dc blob-logs -n adx");
  EXPECT_NE(code, 0);
  EXPECT_THAT(out, HasSubstr("NotFound"));
  std::string left = MustKubectl("get dc -n adx -o name");
  EXPECT_THAT(left, ::testing::Not(HasSubstr("orders-changefeed")));
  EXPECT_THAT(left, HasSubstr("storm-events"));
}

}  // namespace
}  // namespace kustodian::kubeapi::testing
