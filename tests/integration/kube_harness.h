// Test harness for the Kubernetes-mode end-to-end tests: real `kube-test-apiserver` (https, a
// bearer token, the DataConnection CRD), real `kustodian-emulator`, real `kubectl` through the
// kubeconfig the API server writes, and any number of `kustodian run --source=kubernetes`
// replicas. Every process is a ChildProcess, so a failing test still kills them all.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tests/integration/harness.h"

namespace kustodian::testing {

// The subscription and resource group of examples/world.yaml.
inline constexpr char kExampleSub[] = "00000000-0000-0000-0000-000000000001";
inline constexpr char kKubeToken[] = "kube-e2e-token";         // the API server's bearer token
inline constexpr char kKubeArmToken[] = "kube-e2e-arm-token";  // the emulator's dev token

// A DataConnection (EventHub) in examples/world.yaml's subscription and resource group testrg.
struct DcSpec {
  std::string name;
  std::string ns = "adx";
  std::string cluster = "mykustocluster";  // eastus2; "analyticscluster" is westeurope
  std::string database = "mykustodatabase";
  std::string table = "Orders";
  std::string deletion;  // "" = leave the policy out (Delete), or "Orphan" / "Delete"
  // Replaces the Event Hub resource id (default: a valid one named after `name`).
  std::string event_hub_id;
  std::string data_format = "JSON";
  std::string credential_ref;  // spec.credentialRef.name; "" = none (the daemon's identity)
};
std::string DcYaml(const DcSpec& spec);

// The emulator's (PascalCase) id of a connection in kExampleSub/testrg.
std::string ExampleConnPath(const std::string& cluster, const std::string& db,
                            const std::string& name);

struct CommandResult {
  int code = -1;  // exit code; -1 when it did not exit (killed after the timeout)
  std::string out;
};

// One `kustodian run --source=kubernetes` process.
struct KubeReplica {
  std::string identity;
  std::unique_ptr<ChildProcess> process;
  int port = 0;  // metrics / status endpoint
};

class KubeE2EEnv {
 public:
  // Starts the emulator (world: examples/world.yaml unless `world` is given; dev token
  // kKubeArmToken; `emulator_args` added, e.g. {"--lro-duration", "2s"}; default 100ms) and the
  // API server. Failures are recorded with ADD_FAILURE; check ok(). SIGPIPE is ignored in the
  // test process (a write on a keep-alive connection the server closed must not kill it).
  // `apiserver_args` are added to kube-test-apiserver's flags.
  explicit KubeE2EEnv(std::vector<std::string> emulator_args = {}, std::string world = "",
                      std::vector<std::string> apiserver_args = {});
  ~KubeE2EEnv();
  bool ok() const { return ok_; }

  // --- kubectl ---
  // Runs /usr/bin/kubectl with this kubeconfig; waits up to `timeout`.
  CommandResult Kubectl(const std::vector<std::string>& args,
                        absl::Duration timeout = absl::Seconds(60));
  // Starts kubectl without waiting (e.g. a blocking `kubectl delete`).
  std::unique_ptr<ChildProcess> StartKubectl(const std::vector<std::string>& args);
  // Writes `content` to a new file in the temp dir and returns its path.
  std::string WriteFile(const std::string& name, const std::string& content);
  // `kubectl apply -f` of DcYaml(spec); returns the result.
  CommandResult Apply(const DcSpec& spec);

  // --- kustodian replicas ---
  // Starts a replica with identity `identity` (--identity) plus `extra` flags and `env`
  // (e.g. AZURE_AUTHORITY_HOST) added to its environment. Waits until its HTTP endpoint is up.
  // Returns nullptr (and records a failure) when it does not start.
  KubeReplica* StartReplica(const std::string& identity, const std::vector<std::string>& extra = {},
                            const std::map<std::string, std::string>& env = {});
  std::string Metrics(const KubeReplica& r);
  // Sum of the values of `family{...}` series whose labels contain every `label_part`
  // (e.g. `method="PUT"`). -1 when the metrics cannot be read.
  double MetricSum(const KubeReplica& r, const std::string& family,
                   const std::vector<std::string>& label_parts = {});
  // ARM writes (PUT + DELETE) the replica sent, from kustodian_arm_requests_total.
  int ArmWrites(const KubeReplica& r);
  // Whether the replica says it leads (leader_election_master_status 1).
  bool Leads(const KubeReplica& r);
  // The last lines of every process log, for failure messages.
  std::string Logs(size_t tail_bytes = 6000) const;

  // --- the API server ---
  // GET of a DataConnection; nullopt when it does not exist (404).
  std::optional<nlohmann::json> GetDc(const std::string& ns, const std::string& name);
  // events.k8s.io/v1 Events in `ns` whose regarding.name is `name` ("" = all).
  std::vector<nlohmann::json> Events(const std::string& ns, const std::string& name = "");
  // POST /_test/<what>?<query>; true on 200.
  bool TestAction(const std::string& what_and_query);
  // GET /_test/requests.
  std::vector<nlohmann::json> ApiRequests();
  // GET of any API path with the token (e.g. "/version"); the HTTP status or -1.
  int ApiStatus(const std::string& path);

  // --- the emulator ---
  std::optional<nlohmann::json> EmulatorConnection(const std::string& path);
  int64_t LastSeq();
  // Emulator requests after `since` with this method whose path contains `part` (any case).
  int CountRequests(int64_t since, const std::string& method, const std::string& part);
  // The emulator's request log after `since` (GET /_admin/requests): seq, method, path,
  // status, principal (who called), ...
  std::vector<nlohmann::json> EmulatorRequests(int64_t since);

  TempDir dir;
  Emulator emulator;
  std::unique_ptr<ChildProcess> apiserver;
  int api_port = 0;
  std::string api_url;     // https://127.0.0.1:PORT
  std::string kubeconfig;  // written by the API server
  std::vector<std::unique_ptr<KubeReplica>> replicas;

 private:
  bool ok_ = false;
  int runs_ = 0;
  HttpHelper http_;                          // plain http: the emulator and the replicas
  std::unique_ptr<HttpTransport> api_http_;  // https with the API server's certificate
  absl::StatusOr<HttpResponse> ApiRequest(const std::string& method, const std::string& path);
};

// Helpers on DataConnection objects.
// The condition `type` of the object, or an empty object.
nlohmann::json ConditionOf(const nlohmann::json& dc, const std::string& type);
int64_t GenerationOf(const nlohmann::json& dc);
int64_t ObservedGenerationOf(const nlohmann::json& dc);
// Ready=True and every condition's observedGeneration equal to status.observedGeneration and to
// metadata.generation.
bool ReadyAtCurrentGeneration(const nlohmann::json& dc);

}  // namespace kustodian::testing
