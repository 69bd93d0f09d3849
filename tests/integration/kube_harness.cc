#include "tests/integration/kube_harness.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace kustodian::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr char kKubectl[] = "/usr/bin/kubectl";

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Tail(const std::string& text, size_t n) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

}  // namespace

std::string ExampleConnPath(const std::string& cluster, const std::string& db,
                            const std::string& name) {
  return absl::StrCat("/subscriptions/", kExampleSub,
                      "/resourceGroups/testrg/providers/Microsoft.Kusto/clusters/", cluster,
                      "/databases/", db, "/dataConnections/", name);
}

std::string DcYaml(const DcSpec& s) {
  std::string hub = s.event_hub_id.empty()
                        ? absl::StrCat("/subscriptions/", kExampleSub,
                                       "/resourceGroups/testrg/providers/Microsoft.EventHub/"
                                       "namespaces/ns/eventhubs/",
                                       s.name)
                        : s.event_hub_id;
  std::string location = s.cluster == "analyticscluster" ? "westeurope" : "eastus2";
  return absl::StrCat(
      "apiVersion: kustodian.io/v1alpha1\nkind: DataConnection\nmetadata:\n  name: ", s.name,
      "\n  namespace: ", s.ns, "\nspec:\n  target:\n    subscriptionId: ", kExampleSub,
      "\n    resourceGroup: testrg\n    cluster: ", s.cluster, "\n    database: ", s.database,
      "\n  location: ", location,
      "\n  kind: EventHub\n  properties:\n    eventHubResourceId: ", hub,
      "\n    consumerGroup: $Default\n    tableName: ", s.table,
      "\n    dataFormat: ", s.data_format, "\n",
      s.deletion.empty() ? "" : absl::StrCat("  policy:\n    deletion: ", s.deletion, "\n"),
      s.credential_ref.empty()
          ? ""
          : absl::StrCat("  credentialRef:\n    name: ", s.credential_ref, "\n"));
}

KubeE2EEnv::KubeE2EEnv(std::vector<std::string> emulator_args, std::string world,
                       std::vector<std::string> apiserver_args) {
  std::signal(SIGPIPE, SIG_IGN);
  if (access(kKubectl, X_OK) != 0) {
    ADD_FAILURE() << kKubectl << " is not installed (make deps installs it)";
    return;
  }
  if (world.empty()) {
    world = ReadWholeFile(SourceDir() + "/examples/world.yaml");
  }
  std::vector<std::string> args = {"--dev-token", kKubeArmToken};
  if (std::find(emulator_args.begin(), emulator_args.end(), "--lro-duration") ==
      emulator_args.end()) {
    args.insert(args.end(), {"--lro-duration", "100ms"});
  }
  args.insert(args.end(), emulator_args.begin(), emulator_args.end());
  absl::StatusOr<Emulator> emu = StartEmulator(dir, world, args);
  if (!emu.ok()) {
    ADD_FAILURE() << emu.status();
    return;
  }
  emulator = std::move(*emu);

  const std::string tls_dir = dir.path() + "/tls";
  fs::create_directories(tls_dir);
  kubeconfig = dir.path() + "/kubeconfig";
  const std::string port_file = dir.path() + "/apiserver-port";
  std::vector<std::string> api_argv = {BinaryPath("kube-test-apiserver"),
                                       "--crd",
                                       SourceDir() + "/crd/dataconnections.kustodian.io.yaml",
                                       "--port",
                                       "0",
                                       "--port-file",
                                       port_file,
                                       "--kubeconfig-out",
                                       kubeconfig,
                                       "--token",
                                       kKubeToken,
                                       "--self-signed-tls",
                                       tls_dir};
  api_argv.insert(api_argv.end(), apiserver_args.begin(), apiserver_args.end());
  apiserver = std::make_unique<ChildProcess>(api_argv, dir.path() + "/apiserver.log");
  if (absl::Status st = apiserver->Start(); !st.ok()) {
    ADD_FAILURE() << st;
    return;
  }
  absl::StatusOr<int> port = WaitForPortFile(port_file, absl::Seconds(20));
  if (!port.ok()) {
    ADD_FAILURE() << "kube-test-apiserver did not start: " << apiserver->Log();
    return;
  }
  api_port = *port;
  api_url = absl::StrCat("https://127.0.0.1:", api_port);
  TransportOptions options;
  options.ca_file = tls_dir + "/apiserver.crt";
  api_http_ = NewHttpTransport(options);
  ok_ = true;
}

KubeE2EEnv::~KubeE2EEnv() {
  if (::testing::Test::HasFailure()) {
    std::cerr << Logs() << std::endl;
  }
  // Replicas first: they talk to the others.
  replicas.clear();
}

std::string KubeE2EEnv::WriteFile(const std::string& name, const std::string& content) {
  return dir.WriteFile(absl::StrCat("files/", runs_++, "-", name), content);
}

std::unique_ptr<ChildProcess> KubeE2EEnv::StartKubectl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kKubectl};
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = std::make_unique<ChildProcess>(
      argv, absl::StrCat(dir.path(), "/kubectl-", runs_++, ".log"),
      std::map<std::string, std::string>{{"KUBECONFIG", kubeconfig}, {"HOME", dir.path()}});
  if (absl::Status st = p->Start(); !st.ok()) {
    ADD_FAILURE() << st;
  }
  return p;
}

CommandResult KubeE2EEnv::Kubectl(const std::vector<std::string>& args, absl::Duration timeout) {
  std::unique_ptr<ChildProcess> p = StartKubectl(args);
  std::optional<int> status = p->Wait(timeout);
  CommandResult r;
  r.code = status.has_value() && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  r.out = p->Log();
  return r;
}

CommandResult KubeE2EEnv::Apply(const DcSpec& spec) {
  return Kubectl({"apply", "-f", WriteFile(spec.name + ".yaml", DcYaml(spec))});
}

KubeReplica* KubeE2EEnv::StartReplica(const std::string& identity,
                                      const std::vector<std::string>& extra,
                                      const std::map<std::string, std::string>& env) {
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"--source", "kubernetes"},
      {"--kubeconfig", kubeconfig},
      {"--arm-endpoint", emulator.base_url},
      {"--token", kKubeArmToken},
      {"--api-version", "2025-02-14"},  // the examples include a *WithManagedIdentity kind
      {"--metrics-bind-address", "127.0.0.1:0"},
      {"--resync-interval", "30s"},
      {"--log-level", "debug"},
      {"--identity", identity}};
  std::vector<std::string> argv = {BinaryPath("kustodian"), "run"};
  for (const auto& [flag, value] : defaults) {
    if (std::find(extra.begin(), extra.end(), flag) == extra.end()) {
      argv.push_back(flag);
      argv.push_back(value);
    }
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto replica = std::make_unique<KubeReplica>();
  replica->identity = identity;
  replica->process = std::make_unique<ChildProcess>(
      argv, absl::StrCat(dir.path(), "/kustodian-", identity, "-", runs_++, ".log"), env);
  if (absl::Status st = replica->process->Start(); !st.ok()) {
    ADD_FAILURE() << st;
    return nullptr;
  }
  std::regex re(R"(address=127\.0\.0\.1:(\d+))");
  ChildProcess* proc = replica->process.get();
  int port = 0;
  bool up = WaitUntil(
      [&] {
        std::smatch m;
        std::string text = proc->Log();
        if (std::regex_search(text, m, re)) {
          port = std::stoi(m[1].str());
          return true;
        }
        return !proc->Running();
      },
      absl::Seconds(20));
  if (!up || port == 0) {
    ADD_FAILURE() << "kustodian " << identity << " did not start:\n" << proc->Log();
    return nullptr;
  }
  replica->port = port;
  replicas.push_back(std::move(replica));
  return replicas.back().get();
}

std::string KubeE2EEnv::Metrics(const KubeReplica& r) {
  absl::StatusOr<HttpResponse> resp =
      http_.Request("GET", absl::StrCat("http://127.0.0.1:", r.port, "/metrics"));
  return resp.ok() && resp->status == 200 ? resp->body : "";
}

double KubeE2EEnv::MetricSum(const KubeReplica& r, const std::string& family,
                             const std::vector<std::string>& label_parts) {
  std::string text = Metrics(r);
  if (text.empty()) {
    return -1;
  }
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, family + "{") && !absl::StartsWith(line, family + " ")) {
      continue;
    }
    bool match = true;
    for (const std::string& part : label_parts) {
      match = match && absl::StrContains(line, part);
    }
    double v = 0;
    size_t space = line.rfind(' ');
    if (match && space != absl::string_view::npos && absl::SimpleAtod(line.substr(space + 1), &v)) {
      sum += v;
    }
  }
  return sum;
}

int KubeE2EEnv::ArmWrites(const KubeReplica& r) {
  double puts = MetricSum(r, "kustodian_arm_requests_total", {"method=\"PUT\""});
  double deletes = MetricSum(r, "kustodian_arm_requests_total", {"method=\"DELETE\""});
  return puts < 0 || deletes < 0 ? -1 : static_cast<int>(puts + deletes);
}

bool KubeE2EEnv::Leads(const KubeReplica& r) {
  return MetricSum(r, "leader_election_master_status") == 1;
}

std::string KubeE2EEnv::Logs(size_t tail_bytes) const {
  std::string out;
  for (const auto& r : replicas) {
    absl::StrAppend(&out, "---- kustodian ", r->identity, " ----\n",
                    Tail(r->process->Log(), tail_bytes), "\n");
  }
  if (apiserver) {
    absl::StrAppend(&out, "---- kube-test-apiserver ----\n", Tail(apiserver->Log(), 2000), "\n");
  }
  if (emulator.process) {
    absl::StrAppend(&out, "---- emulator ----\n", Tail(emulator.process->Log(), 2000), "\n");
  }
  return out;
}

absl::StatusOr<HttpResponse> KubeE2EEnv::ApiRequest(const std::string& method,
                                                    const std::string& path) {
  if (api_http_ == nullptr) {
    return absl::FailedPreconditionError("no API server");
  }
  HttpRequest req;
  req.method = method;
  req.url = api_url + path;
  req.headers = {{"Authorization", absl::StrCat("Bearer ", kKubeToken)},
                 {"Accept", "application/json"}};
  req.timeout = absl::Seconds(10);
  return api_http_->Send(req);
}

std::optional<json> KubeE2EEnv::GetDc(const std::string& ns, const std::string& name) {
  // Retries transport errors and 5xx (e.g. while the server is paused) for a short while, so a
  // missing object is only ever a real 404.
  std::optional<json> out;
  bool done = WaitUntil(
      [&] {
        absl::StatusOr<HttpResponse> r = ApiRequest(
            "GET",
            absl::StrCat("/apis/kustodian.io/v1alpha1/namespaces/", ns, "/dataconnections/", name));
        if (!r.ok() || r->status >= 500) {
          return false;
        }
        if (r->status == 200) {
          json j = json::parse(r->body, nullptr, false);
          if (!j.is_discarded()) {
            out = std::move(j);
          }
        }
        return true;
      },
      absl::Seconds(40));
  EXPECT_TRUE(done) << "GET dataconnection " << ns << "/" << name << " kept failing";
  return out;
}

std::vector<json> KubeE2EEnv::Events(const std::string& ns, const std::string& name) {
  std::vector<json> out;
  absl::StatusOr<HttpResponse> r =
      ApiRequest("GET", absl::StrCat("/apis/events.k8s.io/v1/namespaces/", ns, "/events"));
  if (!r.ok() || r->status != 200) {
    return out;
  }
  json list = json::parse(r->body, nullptr, false);
  if (list.is_discarded() || !list.contains("items")) {
    return out;
  }
  for (const json& e : list["items"]) {
    if (name.empty() || e.value("regarding", json::object()).value("name", "") == name) {
      out.push_back(e);
    }
  }
  return out;
}

bool KubeE2EEnv::TestAction(const std::string& what_and_query) {
  if (api_http_ == nullptr) {
    return false;
  }
  HttpRequest req;
  req.method = "POST";
  req.url = absl::StrCat(api_url, "/_test/", what_and_query);
  // A body, so that the request carries a Content-Length (the server refuses a POST without).
  req.body = "{}";
  req.headers = {{"Content-Type", "application/json"}};
  req.timeout = absl::Seconds(10);
  absl::StatusOr<HttpResponse> r = api_http_->Send(req);
  return r.ok() && r->status == 200;
}

std::vector<json> KubeE2EEnv::ApiRequests() {
  std::vector<json> out;
  if (api_http_ == nullptr) {
    return out;
  }
  HttpRequest req;
  req.method = "GET";
  req.url = api_url + "/_test/requests";
  req.timeout = absl::Seconds(10);
  absl::StatusOr<HttpResponse> r = api_http_->Send(req);
  if (!r.ok() || r->status != 200) {
    return out;
  }
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) {
    return out;
  }
  for (const json& e : j.value("requests", json::array())) {
    out.push_back(e);
  }
  return out;
}

int KubeE2EEnv::ApiStatus(const std::string& path) {
  absl::StatusOr<HttpResponse> r = ApiRequest("GET", path);
  return r.ok() ? r->status : -1;
}

std::optional<json> KubeE2EEnv::EmulatorConnection(const std::string& path) {
  absl::StatusOr<json> all = http_.GetJson(emulator.base_url + "/_admin/connections");
  EXPECT_TRUE(all.ok()) << all.status();
  if (!all.ok()) {
    return std::nullopt;
  }
  for (const json& c : all->value("connections", json::array())) {
    if (absl::EqualsIgnoreCase(c.value("id", ""), path)) {
      return c;
    }
  }
  return std::nullopt;
}

int64_t KubeE2EEnv::LastSeq() {
  absl::StatusOr<json> j = http_.GetJson(emulator.base_url + "/_admin/requests?since=0");
  return j.ok() ? j->value("lastSeq", int64_t{0}) : 0;
}

int KubeE2EEnv::CountRequests(int64_t since, const std::string& method, const std::string& part) {
  absl::StatusOr<json> j =
      http_.GetJson(absl::StrCat(emulator.base_url, "/_admin/requests?since=", since));
  EXPECT_TRUE(j.ok()) << j.status();
  if (!j.ok()) {
    return -1;
  }
  int n = 0;
  for (const json& r : j->value("requests", json::array())) {
    if (r.value("method", "") == method &&
        absl::StrContains(absl::AsciiStrToLower(r.value("path", "")),
                          absl::AsciiStrToLower(part))) {
      ++n;
    }
  }
  return n;
}

std::vector<json> KubeE2EEnv::EmulatorRequests(int64_t since) {
  absl::StatusOr<json> j =
      http_.GetJson(absl::StrCat(emulator.base_url, "/_admin/requests?since=", since));
  EXPECT_TRUE(j.ok()) << j.status();
  std::vector<json> out;
  if (j.ok()) {
    for (const json& r : j->value("requests", json::array())) {
      out.push_back(r);
    }
  }
  return out;
}

json ConditionOf(const json& dc, const std::string& type) {
  if (!dc.contains("status") || !dc["status"].is_object()) {
    return json::object();
  }
  for (const json& c : dc["status"].value("conditions", json::array())) {
    if (c.value("type", "") == type) {
      return c;
    }
  }
  return json::object();
}

int64_t GenerationOf(const json& dc) {
  return dc.value("metadata", json::object()).value("generation", int64_t{0});
}

int64_t ObservedGenerationOf(const json& dc) {
  if (!dc.contains("status") || !dc["status"].is_object()) {
    return 0;
  }
  return dc["status"].value("observedGeneration", int64_t{0});
}

bool ReadyAtCurrentGeneration(const json& dc) {
  const int64_t gen = GenerationOf(dc);
  if (gen == 0 || ObservedGenerationOf(dc) != gen) {
    return false;
  }
  if (ConditionOf(dc, "Ready").value("status", "") != "True") {
    return false;
  }
  for (const json& c : dc["status"].value("conditions", json::array())) {
    if (c.value("observedGeneration", int64_t{0}) != gen) {
      return false;
    }
  }
  return true;
}

}  // namespace kustodian::testing
