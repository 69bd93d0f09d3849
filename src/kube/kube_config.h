// How to reach the API server: in-cluster (service account) or a kubeconfig file, resolved the
// way kubectl does, and NewKubeClient over the HTTP seam.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/kube/kube_client.h"

namespace kustodian {
class HttpTransport;
}

namespace kustodian::kube {

class TempFiles;

// A kubeconfig `users[].user.exec` entry (client.authentication.k8s.io ExecCredential).
struct ExecConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or v1beta1
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  // provideClusterInfo: the plugin gets spec.cluster (server, certificate-authority-data,
  // insecure-skip-tls-verify) in KUBERNETES_EXEC_INFO.
  bool provide_cluster_info = false;
};

struct KubeConfig {
  std::string server;   // https://host:port (or http:// for loopback test servers)
  std::string ca_file;  // PEM file; kubeconfig certificate-authority-data is written to a temp file
  bool insecure_skip_tls_verify = false;
  std::string token;       // static bearer token
  std::string token_file;  // re-read when it changes (in-cluster: projected, rotating token)
  std::string client_cert_file;
  std::string client_key_file;
  std::optional<ExecConfig> exec;
  std::string default_namespace = "default";  // context namespace / in-cluster namespace file
  std::string context;                        // the kubeconfig context used ("" in-cluster)
  // Where this came from, for logs: "in-cluster" or "kubeconfig <path>".
  std::string origin;
  // "" = "kustodian/<version>".
  std::string user_agent;
  // Per request (a watch instead waits up to its own timeout plus a margin for data).
  absl::Duration request_timeout = absl::Seconds(30);
  // Owns the private temp files written for *-data fields; they are removed when the last copy
  // of this config (and the clients made from it) go away.
  std::shared_ptr<TempFiles> temp_files;
};

// In-cluster: KUBERNETES_SERVICE_HOST/PORT, /var/run/secrets/kubernetes.io/serviceaccount/
// {token,ca.crt,namespace} (`sa_dir` overrides the directory for tests). NotFound when not in a
// cluster.
absl::StatusOr<KubeConfig> LoadInClusterConfig(
    const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// A kubeconfig file; `context` "" = current-context. Relative file paths in it are relative to
// the file. InvalidArgument naming the file and the field when it is unusable.
absl::StatusOr<KubeConfig> LoadKubeconfig(const std::string& path, const std::string& context);

// kubectl's order: `kubeconfig_flag`, else $KUBECONFIG (first file), else in-cluster, else
// ~/.kube/config.
absl::StatusOr<KubeConfig> ResolveKubeConfig(const std::string& kubeconfig_flag,
                                             const std::string& context);

// The real client. Requests carry Accept: application/json, the User-Agent, and
// Authorization: Bearer when a token is configured. Bearer tokens (static, file, exec plugin) are
// cached and refreshed: a file token is re-read when it changes, an exec credential when it expires
// or a request gets 401 (the request is then retried once with the fresh credential).
// InvalidArgument when the configuration is unusable (no server, bad URL, unreadable client
// certificate).
absl::StatusOr<std::unique_ptr<KubeClient>> NewKubeClient(const KubeConfig& config, Clock& clock,
                                                          Logger& logger);

}  // namespace kustodian::kube
